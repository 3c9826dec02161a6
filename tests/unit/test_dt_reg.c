/* test_dt_reg.c - the DT primitives under the discovery scans: blob check,
 * cell decoding, status, reg tuples in the parent's cells. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>

static char fdt[8192];

static void build(void)
{
	fdt32_t reg3[6] = { 0, cpu_to_fdt32(0x1000), cpu_to_fdt32(0x100),
			    cpu_to_fdt32(0x1), cpu_to_fdt32(0x2000), cpu_to_fdt32(0x200) };
	fdt32_t bad[5] = { 0 };
	assert_int_equal(fdt_create(fdt, sizeof(fdt)), 0);
	assert_int_equal(fdt_finish_reservemap(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, ""), 0);
	assert_int_equal(fdt_property_u32(fdt, "#address-cells", 2), 0);
	assert_int_equal(fdt_property_u32(fdt, "#size-cells", 1), 0);
	assert_int_equal(fdt_begin_node(fdt, "a"), 0);	/* 2 tuples of 2+1 cells */
	assert_int_equal(fdt_property(fdt, "reg", reg3, sizeof(reg3)), 0);
	assert_int_equal(fdt_property_string(fdt, "status", "okay"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, "b"), 0);	/* 20 bytes: not whole tuples */
	assert_int_equal(fdt_property(fdt, "reg", bad, sizeof(bad)), 0);
	assert_int_equal(fdt_property_string(fdt, "status", "disabled"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, "c"), 0);	/* status without NUL */
	assert_int_equal(fdt_property(fdt, "status", "okay", 4), 0);
	assert_int_equal(fdt_begin_node(fdt, "d"), 0);	/* parent c: defaults 2/1 */
	assert_int_equal(fdt_property(fdt, "reg", reg3, 12), 0);
	assert_int_equal(fdt_property_string(fdt, "status", "ok"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_finish(fdt), 0);
}

static void check_accepts_good_and_names_failures(void **state)
{
	(void)state;
	build();
	assert_int_equal(dt_check(fdt, sizeof(fdt)), 0);
	assert_int_equal(dt_check(fdt, fdt_totalsize(fdt)), 0);
	assert_int_equal(dt_check(fdt, fdt_totalsize(fdt) - 1), -PCSC_ETRUNC);
	assert_int_equal(dt_check(fdt, 8), -PCSC_ETRUNC);
	assert_int_equal(dt_check(NULL, 100), -PCSC_EINVAL);
	((struct fdt_header *)fdt)->version = cpu_to_fdt32(1);
	assert_int_equal(dt_check(fdt, sizeof(fdt)), -PCSC_EBADFDT);
	/* libfdt accepts 16; we take only 17 (fdt_check_full is unsafe on
	 * some hostile older blobs). */
	((struct fdt_header *)fdt)->version = cpu_to_fdt32(16);
	assert_int_equal(dt_check(fdt, sizeof(fdt)), -PCSC_EBADFDT);
	build();
	/* Structure block offset past the blob. */
	((struct fdt_header *)fdt)->off_dt_struct = cpu_to_fdt32(0x7fffff00);
	assert_int_equal(dt_check(fdt, sizeof(fdt)), -PCSC_EBADFDT);
	build();
	((struct fdt_header *)fdt)->magic = cpu_to_fdt32(0xd00dfeee);
	assert_int_equal(dt_check(fdt, sizeof(fdt)), -PCSC_EBADFDT);
}

static void cells_decode_big_endian_up_to_64_bits(void **state)
{
	const uint8_t one[4] = { 0x12, 0x34, 0x56, 0x78 };
	const uint8_t two[9] = { 0xff, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x01 };
	const uint8_t four[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2 };
	const uint8_t wide[12] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint64_t v = 7;
	(void)state;
	assert_int_equal(dt_cells_read(one, 1, &v), 0);
	assert_int_equal(v, 0x12345678);
	/* unaligned source */
	assert_int_equal(dt_cells_read(two + 1, 2, &v), 0);
	assert_int_equal(v, 0x0000004000000001ull);
	assert_int_equal(dt_cells_read(four, 4, &v), 0);
	assert_int_equal(v, 0x0000000100000002ull);
	assert_int_equal(dt_cells_read(wide, 3, &v), -PCSC_ERANGE);
	assert_int_equal(dt_cells_read(one, 5, &v), -PCSC_ERANGE);
	assert_int_equal(dt_cells_read(one, -1, &v), -PCSC_ERANGE);
	assert_int_equal(dt_cells_read(one, 0, &v), 0);
	assert_int_equal(v, 0);
}

static void status_follows_linux(void **state)
{
	(void)state;
	build();
	assert_true(dt_node_enabled(fdt, 0));
	assert_true(dt_node_enabled(fdt, fdt_path_offset(fdt, "/a")));
	assert_false(dt_node_enabled(fdt, fdt_path_offset(fdt, "/b")));
	assert_false(dt_node_enabled(fdt, fdt_path_offset(fdt, "/c")));
	assert_true(dt_node_enabled(fdt, fdt_path_offset(fdt, "/c/d")));
}

static void reg_tuples_in_parent_cells(void **state)
{
	uint64_t a, s;
	int n;
	(void)state;
	build();
	n = fdt_path_offset(fdt, "/a");
	assert_int_equal(dt_reg_get(fdt, n, 0, &a, &s), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(s, 0x100);
	assert_int_equal(dt_reg_get(fdt, n, 1, &a, &s), 0);
	assert_int_equal(a, 0x100002000ull);
	assert_int_equal(s, 0x200);
	assert_int_equal(dt_reg_get(fdt, n, 2, &a, &s), -PCSC_ENOTFOUND);
	assert_int_equal(dt_reg_get(fdt, n, -1, &a, &s), -PCSC_ENOTFOUND);
	assert_int_equal(dt_prop_reg_get(fdt, n, "linux,usable-memory", 0, &a, &s),
			 -PCSC_ENOTFOUND);
	assert_int_equal(dt_reg_get(fdt, fdt_path_offset(fdt, "/b"), 0, &a, &s),
			 -PCSC_EPROPSIZE);
	assert_int_equal(dt_reg_get(fdt, fdt_path_offset(fdt, "/c"), 0, &a, &s),
			 -PCSC_ENOTFOUND);
	/* /c has no #cells: DT defaults 2 + 1 */
	assert_int_equal(dt_reg_get(fdt, fdt_path_offset(fdt, "/c/d"), 0, &a, &s), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(s, 0x100);
	assert_int_equal(dt_reg_get(fdt, 0, 0, &a, &s), -PCSC_EBADFDT);
}

/* dt_address_cells / dt_size_cells answer as libfdt's fdt_address_cells /
 * fdt_size_cells on every node of a blob whose cells are absent, in and out
 * of range, or the wrong length, on bad offsets and on a broken header. */
static void ncells_match_libfdt(void **state)
{
	static const uint32_t vals[] = { 0, 1, 2, 3, 4, 5, 0x80000000u, 0xffffffffu };
	static char blob[4096];
	char name[8];
	unsigned int i;
	int node, off;

	(void)state;
	assert_int_equal(fdt_create(blob, sizeof(blob)), 0);
	assert_int_equal(fdt_finish_reservemap(blob), 0);
	assert_int_equal(fdt_begin_node(blob, ""), 0);	/* root: both absent */
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(name, sizeof(name), "v%u", i);
		assert_int_equal(fdt_begin_node(blob, name), 0);
		assert_int_equal(fdt_property_u32(blob, "#address-cells", vals[i]), 0);
		assert_int_equal(fdt_property_u32(blob, "#size-cells", vals[i]), 0);
		assert_int_equal(fdt_end_node(blob), 0);
	}
	assert_int_equal(fdt_begin_node(blob, "long"), 0);
	assert_int_equal(fdt_property_u64(blob, "#address-cells", 2), 0);
	assert_int_equal(fdt_property_u64(blob, "#size-cells", 1), 0);
	assert_int_equal(fdt_end_node(blob), 0);
	assert_int_equal(fdt_begin_node(blob, "empty"), 0);
	assert_int_equal(fdt_property(blob, "#address-cells", NULL, 0), 0);
	assert_int_equal(fdt_property(blob, "#size-cells", NULL, 0), 0);
	assert_int_equal(fdt_end_node(blob), 0);
	assert_int_equal(fdt_begin_node(blob, "short"), 0);
	assert_int_equal(fdt_property(blob, "#address-cells", "\0\0\1", 3), 0);
	assert_int_equal(fdt_property(blob, "#size-cells", "\0\0\1", 3), 0);
	assert_int_equal(fdt_end_node(blob), 0);
	assert_int_equal(fdt_end_node(blob), 0);
	assert_int_equal(fdt_finish(blob), 0);

	i = 0;
	for (node = 0; node >= 0; node = fdt_next_node(blob, node, NULL), i++) {
		assert_int_equal(dt_address_cells(blob, node), fdt_address_cells(blob, node));
		assert_int_equal(dt_size_cells(blob, node), fdt_size_cells(blob, node));
	}
	assert_int_equal(i, 12);
	for (off = -2; off < 80; off++) {	/* mid-tag and non-node offsets */
		assert_int_equal(dt_address_cells(blob, off), fdt_address_cells(blob, off));
		assert_int_equal(dt_size_cells(blob, off), fdt_size_cells(blob, off));
	}
	assert_int_equal(dt_address_cells(blob, 0), 2);
	assert_int_equal(dt_size_cells(blob, 0), 1);
	assert_int_equal(dt_address_cells(blob, fdt_path_offset(blob, "/v0")), -FDT_ERR_BADNCELLS);
	assert_int_equal(dt_size_cells(blob, fdt_path_offset(blob, "/v0")), 0);
	assert_int_equal(dt_size_cells(blob, fdt_path_offset(blob, "/v5")), -FDT_ERR_BADNCELLS);
	((struct fdt_header *)blob)->magic = 0;
	assert_int_equal(dt_address_cells(blob, 0), fdt_address_cells(blob, 0));
	assert_int_equal(dt_size_cells(blob, 0), fdt_size_cells(blob, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_accepts_good_and_names_failures),
		cmocka_unit_test(cells_decode_big_endian_up_to_64_bits),
		cmocka_unit_test(status_follows_linux),
		cmocka_unit_test(reg_tuples_in_parent_cells),
		cmocka_unit_test(ncells_match_libfdt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
