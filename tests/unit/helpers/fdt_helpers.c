/* fdt_helpers.c - hand-built DTBs for the dt_* unit tests. Test code only:
 * every libfdt call is asserted, so a fixture that cannot be built fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/dt_platform.h>
#include "fdt_helpers.h"

void fdt_helpers_start(void *fdt, size_t size, const uint64_t *rsv, int nrsv, int ac, int sc)
{
	assert_int_equal(fdt_create(fdt, (int)size), 0);
	for (int i = 0; i < nrsv; i++)
		assert_int_equal(fdt_add_reservemap_entry(fdt, rsv[2 * i], rsv[2 * i + 1]), 0);
	assert_int_equal(fdt_finish_reservemap(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, ""), 0);
	assert_int_equal(fdt_property_u32(fdt, "#address-cells", ac), 0);
	assert_int_equal(fdt_property_u32(fdt, "#size-cells", sc), 0);
}

void fdt_helpers_finish(void *fdt, size_t size)
{
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_finish(fdt), 0);
	assert_int_equal(dt_check(fdt, size), 0);
}

void fdt_helpers_cells64(void *fdt, const char *prop, const uint64_t *v, int n)
{
	void *p;
	fdt32_t *c;

	assert_int_equal(fdt_property_placeholder(fdt, prop, 8 * n, &p), 0);
	c = p;
	for (int i = 0; i < n; i++) {
		c[2 * i] = cpu_to_fdt32(v[i] >> 32);
		c[2 * i + 1] = cpu_to_fdt32((uint32_t)v[i]);
	}
}
