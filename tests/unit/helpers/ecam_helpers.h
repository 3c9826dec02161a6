/* ecam_helpers.h - checks on the ECAM windows a parser filled (MCFG, DT),
 * for the unit tests. Test code only. */
#ifndef ECAM_HELPERS_H
#define ECAM_HELPERS_H

#include <stdint.h>
#include <pcsc/ecam.h>

/* Window i of e exists and is exactly base, seg, buses bs..be. */
void ecam_helpers_assert_win(const struct ecam *e, unsigned int i, uint64_t base, uint16_t seg,
			     uint8_t bs, uint8_t be);

#endif
