/* range_helpers.h - checks on the physical ranges a parser filled (DT
 * memory nodes, the EFI memory map), for the unit tests. Test code only. */
#ifndef RANGE_HELPERS_H
#define RANGE_HELPERS_H

#include <stdint.h>
#include <pcsc/physmem.h>

/* Range i of rs exists and is exactly [start, end). */
void range_helpers_assert(const struct phys_ranges *rs, unsigned int i, uint64_t start,
			  uint64_t end);

#endif
