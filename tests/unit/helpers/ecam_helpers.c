/* ecam_helpers.c - checks on the ECAM windows a parser filled. Test code
 * only: a mismatch fails the calling test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pcsc/ecam.h>
#include "ecam_helpers.h"

void ecam_helpers_assert_win(const struct ecam *e, unsigned int i, uint64_t base, uint16_t seg,
			     uint8_t bs, uint8_t be)
{
	assert_true(i < e->n);
	assert_int_equal(e->win[i].base, base);
	assert_int_equal(e->win[i].seg, seg);
	assert_int_equal(e->win[i].bus_start, bs);
	assert_int_equal(e->win[i].bus_end, be);
}
