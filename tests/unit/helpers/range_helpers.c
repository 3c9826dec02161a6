/* range_helpers.c - checks on the physical ranges a parser filled. Test
 * code only: a mismatch fails the calling test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pcsc/physmem.h>
#include "range_helpers.h"

void range_helpers_assert(const struct phys_ranges *rs, unsigned int i, uint64_t start,
			  uint64_t end)
{
	assert_true(i < rs->n);
	assert_int_equal(rs->r[i].start, start);
	assert_int_equal(rs->r[i].end, end);
}
