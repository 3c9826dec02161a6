/* test_dt_chosen.c - /chosen as kexec leaves it: KHO FDT and scratch in the
 * root's cells, UEFI system table and memory map; malformed properties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>
#include "helpers/fdt_helpers.h"

static char fdt[8192];

/* A root with ac+sc cells and /chosen open for its properties. */
static void start(int ac, int sc)
{
	fdt_helpers_start(fdt, sizeof(fdt), NULL, 0, ac, sc);
	assert_int_equal(fdt_begin_node(fdt, "chosen"), 0);
}

static void finish(void)
{
	assert_int_equal(fdt_end_node(fdt), 0);
	fdt_helpers_finish(fdt, sizeof(fdt));
}

/* An address and size in 2+2 cells. */
static void pair64(const char *name, uint64_t a, uint64_t s)
{
	const uint64_t v[2] = { a, s };

	fdt_helpers_cells64(fdt, name, v, 2);
}

static void full_arm64_chosen_is_read(void **state)
{
	struct dt_chosen c;
	(void)state;
	start(2, 2);
	pair64("linux,kho-fdt", 0x47ff0000, 0x1000);
	pair64("linux,kho-scratch", 0x140000000ull, 0x4000000);
	assert_int_equal(fdt_property_u64(fdt, "linux,uefi-system-table", 0x4f7e0018), 0);
	assert_int_equal(fdt_property_u64(fdt, "linux,uefi-mmap-start", 0x4f000000), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-size", 0x1e0), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-desc-size", 0x30), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-desc-ver", 1), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_true(c.has_kho);
	assert_int_equal(c.kho_fdt, 0x47ff0000);
	assert_int_equal(c.kho_fdt_size, 0x1000);
	assert_true(c.has_kho_scratch);
	assert_int_equal(c.kho_scratch, 0x140000000ull);
	assert_int_equal(c.kho_scratch_size, 0x4000000);
	assert_true(c.has_uefi);
	assert_int_equal(c.uefi_systab, 0x4f7e0018);
	assert_true(c.has_uefi_mmap);
	assert_int_equal(c.uefi_mmap_start, 0x4f000000);
	assert_int_equal(c.uefi_mmap_size, 0x1e0);
	assert_int_equal(c.uefi_mmap_desc_size, 0x30);
	assert_int_equal(c.uefi_mmap_desc_ver, 1);
	assert_int_equal(c.err, 0);
}

static void one_cell_root_and_32bit_uefi_numbers(void **state)
{
	fdt32_t kho[2] = { cpu_to_fdt32(0x7000000), cpu_to_fdt32(0x2000) };
	struct dt_chosen c;
	(void)state;
	start(1, 1);
	assert_int_equal(fdt_property(fdt, "linux,kho-fdt", kho, sizeof(kho)), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-system-table", 0x7e000000), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_true(c.has_kho);
	assert_int_equal(c.kho_fdt, 0x7000000);
	assert_int_equal(c.kho_fdt_size, 0x2000);
	assert_false(c.has_kho_scratch);
	assert_true(c.has_uefi);
	assert_int_equal(c.uefi_systab, 0x7e000000);
	assert_false(c.has_uefi_mmap);
	assert_int_equal(c.err, 0);
}

static void malformed_properties_are_dropped_and_named(void **state)
{
	fdt32_t three[3] = { 0, cpu_to_fdt32(0x1000), 0 };
	struct dt_chosen c;
	(void)state;
	start(2, 2);
	/* 12 bytes where 2+2 cells need 16 */
	assert_int_equal(fdt_property(fdt, "linux,kho-fdt", three, sizeof(three)), 0);
	pair64("linux,kho-scratch", 0x140000000ull, 0x4000000);
	assert_int_equal(fdt_property(fdt, "linux,uefi-system-table", three, 2), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_false(c.has_kho);
	assert_true(c.kho_malformed);	/* the stub unplugs a root it cannot locate */
	assert_true(c.has_kho_scratch);
	assert_false(c.has_uefi);
	assert_int_equal(c.err, -PCSC_EPROPSIZE);

	start(2, 2);
	/* The map is all or nothing; a size beyond 32 bits is refused. */
	assert_int_equal(fdt_property_u64(fdt, "linux,uefi-mmap-start", 0x4f000000), 0);
	assert_int_equal(fdt_property_u64(fdt, "linux,uefi-mmap-size", 0x100000000ull), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-desc-size", 0x30), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-desc-ver", 1), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_false(c.has_uefi_mmap);
	assert_int_equal(c.err, -PCSC_ERANGE);

	start(2, 2);
	assert_int_equal(fdt_property_u64(fdt, "linux,uefi-mmap-start", 0x4f000000), 0);
	assert_int_equal(fdt_property_u32(fdt, "linux,uefi-mmap-size", 0x100), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_false(c.has_uefi_mmap);
	assert_int_equal(c.err, 0);
}

static void kho_in_three_cells_must_fit_64_bits(void **state)
{
	fdt32_t c6[6] = { cpu_to_fdt32(1), 0, cpu_to_fdt32(0x1000), 0, 0, cpu_to_fdt32(0x1000) };
	struct dt_chosen c;
	(void)state;
	start(3, 3);
	assert_int_equal(fdt_property(fdt, "linux,kho-fdt", c6, sizeof(c6)), 0);
	finish();
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_false(c.has_kho);
	assert_true(c.kho_malformed);
	assert_int_equal(c.err, -PCSC_ERANGE);
}

/* Linux falls back to /chosen@0 (early_init_dt_scan_chosen): the stub must
 * find it too, or a KHO root named there would reach the next kernel
 * unseen (libfdt's lookup of "/chosen" matches "chosen@0"). */
static void chosen_at_0_is_chosen_when_there_is_no_chosen(void **state)
{
	struct dt_chosen c;
	(void)state;
	fdt_helpers_start(fdt, sizeof(fdt), NULL, 0, 2, 2);
	assert_int_equal(fdt_begin_node(fdt, "chosen@0"), 0);
	pair64("linux,kho-fdt", 0x140000000ull, 0x1000);
	finish();
	assert_int_equal(dt_chosen_node(fdt), fdt_path_offset(fdt, "/chosen@0"));
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_true(c.has_kho);
	assert_false(c.kho_malformed);
	assert_int_equal(c.kho_fdt, 0x140000000ull);

	/* Both: /chosen wins, as in Linux. */
	fdt_helpers_start(fdt, sizeof(fdt), NULL, 0, 2, 2);
	assert_int_equal(fdt_begin_node(fdt, "chosen"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, "chosen@0"), 0);
	pair64("linux,kho-fdt", 0x140000000ull, 0x1000);
	finish();
	assert_int_equal(dt_chosen_node(fdt), fdt_path_offset(fdt, "/chosen"));
	assert_int_equal(dt_chosen_parse(fdt, &c), 0);
	assert_false(c.has_kho);
	assert_false(c.kho_malformed);
}

static void no_chosen_and_bad_header(void **state)
{
	struct dt_chosen c;
	(void)state;
	fdt_helpers_start(fdt, sizeof(fdt), NULL, 0, 2, 2);
	fdt_helpers_finish(fdt, sizeof(fdt));
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(dt_chosen_parse(fdt, &c), -PCSC_ENOTFOUND);
	assert_false(c.has_kho);
	assert_false(c.has_uefi);
	fdt[0] ^= 1;
	assert_int_equal(dt_chosen_parse(fdt, &c), -PCSC_EBADFDT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_arm64_chosen_is_read),
		cmocka_unit_test(one_cell_root_and_32bit_uefi_numbers),
		cmocka_unit_test(malformed_properties_are_dropped_and_named),
		cmocka_unit_test(kho_in_three_cells_must_fit_64_bits),
		cmocka_unit_test(chosen_at_0_is_chosen_when_there_is_no_chosen),
		cmocka_unit_test(no_chosen_and_bad_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
