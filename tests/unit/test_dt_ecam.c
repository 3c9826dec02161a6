/* test_dt_ecam.c - ECAM windows from hand-built DTBs (libfdt sequential
 * write): QEMU virt's node, domain numbering, trimming, hostile nodes. */
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
#include "helpers/ecam_helpers.h"
#include "helpers/fdt_helpers.h"

static char fdt[1 << 16];

static void start(int ac, int sc)
{
	fdt_helpers_start(fdt, sizeof(fdt), NULL, 0, ac, sc);
}

static void finish(void)
{
	fdt_helpers_finish(fdt, sizeof(fdt));
}

/* reg in 2+2 cells */
static void reg64(uint64_t a, uint64_t s)
{
	const uint64_t v[2] = { a, s };

	fdt_helpers_cells64(fdt, "reg", v, 2);
}

static void busrange(uint32_t s, uint32_t e)
{
	fdt32_t c[2] = { cpu_to_fdt32(s), cpu_to_fdt32(e) };
	assert_int_equal(fdt_property(fdt, "bus-range", c, sizeof(c)), 0);
}

/* Open a node compatible with pci-host-ecam-generic; its properties follow. */
static void begin_host(const char *name)
{
	assert_int_equal(fdt_begin_node(fdt, name), 0);
	assert_int_equal(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"), 0);
}

/* One ECAM host node; domain < 0 means no linux,pci-domain. */
static void host(const char *name, uint64_t base, uint64_t size, int bs, int be, int domain)
{
	begin_host(name);
	assert_int_equal(fdt_property_string(fdt, "device_type", "pci"), 0);
	reg64(base, size);
	if (bs >= 0)
		busrange(bs, be);
	if (domain >= 0)
		assert_int_equal(fdt_property_u32(fdt, "linux,pci-domain", domain), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

static struct ecam e;
static struct dt_scan_stats st;

static int setup(void **state)
{
	(void)state;
	ecam_init(&e, NULL);
	memset(&st, 0x5a, sizeof(st));
	return 0;
}

static void qemu_virt_high_ecam_is_found(void **state)
{
	(void)state;
	start(2, 2);
	host("pcie@10000000", 0x4010000000ull, 0x10000000, 0, 0xff, 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	assert_int_equal(e.n, 1);
	ecam_helpers_assert_win(&e, 0, 0x4010000000ull, 0, 0, 255);
	assert_int_equal(st.found, 1);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.first_err, 0);
}

static void domains_are_numbered_like_linux(void **state)
{
	(void)state;
	start(2, 2);
	/* A (dynamic) B (static 0) C (dynamic) D (static 2): Linux reserves
	 * 0 and 2 first, so A takes 1 and C takes 3. */
	host("pcie@a", 0x10000000, 0x1000000, 0, 15, -1);
	host("pcie@b", 0x20000000, 0x1000000, 0, 15, 0);
	host("pcie@c", 0x30000000, 0x1000000, 0, 15, -1);
	host("pcie@d", 0x40000000, 0x1000000, 0, 15, 2);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	assert_int_equal(e.n, 4);
	ecam_helpers_assert_win(&e, 0, 0x10000000, 1, 0, 15);
	ecam_helpers_assert_win(&e, 1, 0x20000000, 0, 0, 15);
	ecam_helpers_assert_win(&e, 2, 0x30000000, 3, 0, 15);
	ecam_helpers_assert_win(&e, 3, 0x40000000, 2, 0, 15);
}

static void without_domains_nodes_count_from_zero(void **state)
{
	(void)state;
	start(2, 2);
	host("pcie@a", 0x10000000, 0x10000000, -1, 0, -1);	/* no bus-range: 0..255 */
	host("pcie@b", 0x30000000, 0x200000, 8, 9, -1);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	ecam_helpers_assert_win(&e, 0, 0x10000000, 0, 0, 255);
	ecam_helpers_assert_win(&e, 1, 0x30000000, 1, 8, 9);
}

static void bus_range_is_cut_to_what_reg_decodes(void **state)
{
	(void)state;
	start(2, 2);
	host("pcie@a", 0x10000000, 16 << 20, 0x10, 0xff, 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	ecam_helpers_assert_win(&e, 0, 0x10000000, 0, 0x10, 0x1f);
}

static void one_cell_parent_reads_32bit_reg(void **state)
{
	fdt32_t c[2] = { cpu_to_fdt32(0xb0000000), cpu_to_fdt32(0x10000000) };
	(void)state;
	start(1, 1);
	assert_int_equal(fdt_begin_node(fdt, "pcie@b0000000"), 0);
	assert_int_equal(fdt_property(fdt, "compatible",
				      "vendor,special\0pci-host-ecam-generic", 37), 0);
	assert_int_equal(fdt_property(fdt, "reg", c, sizeof(c)), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	ecam_helpers_assert_win(&e, 0, 0xb0000000, 0, 0, 255);
}

static void reversed_bus_range_skips_only_that_node(void **state)
{
	(void)state;
	start(2, 2);
	host("pcie@a", 0x10000000, 0x10000000, 5, 4, -1);
	host("pcie@b", 0x30000000, 0x10000000, 0, 255, -1);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_ERANGE);
	assert_int_equal(e.n, 1);
	/* The refused host consumed no domain number. */
	ecam_helpers_assert_win(&e, 0, 0x30000000, 0, 0, 255);
	assert_int_equal(st.found, 2);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.first_err, -PCSC_ERANGE);
	assert_int_equal(st.first_err_node, fdt_path_offset(fdt, "/pcie@a"));
}

static void hostile_nodes_are_refused_exactly(void **state)
{
	static const struct {
		uint64_t base, size;
		int bs, be, domain, err;
	} bad[] = {
		{ 0x10000000, 0, 0, 0, -1, -PCSC_ERANGE },		/* zero-size reg */
		{ 0x10000000, 0x80000, 0, 0, -1, -PCSC_ERANGE },	/* below 1 MiB */
		{ 0x10000000, 0x100000, 0, 256, -1, -PCSC_ERANGE },	/* bus past 255 */
		{ 0x10080000, 0x100000, 0, 0, -1, -PCSC_EALIGN },	/* misaligned */
		{ 0x10000000, 0x100000, 0, 0, 0x10000, -PCSC_ERANGE },	/* domain > 16 bits */
	};
	fdt32_t three[3] = { 0, 0, 0 };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(2, 2);
		host("pcie@0", bad[i].base, bad[i].size, bad[i].bs, bad[i].be, bad[i].domain);
		finish();
		assert_int_equal(dt_ecam_scan(fdt, &e, &st), bad[i].err);
		assert_int_equal(e.n, 0);
	}

	start(2, 2);						/* reg of 3 cells */
	begin_host("pcie@0");
	assert_int_equal(fdt_property(fdt, "reg", three, sizeof(three)), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_EPROPSIZE);

	start(2, 2);						/* no reg at all */
	begin_host("pcie@0");
	assert_int_equal(fdt_property_u32(fdt, "bus-range", 0), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_ENOTFOUND);

	start(2, 2);						/* bus-range of 4 bytes */
	begin_host("pcie@0");
	reg64(0x10000000, 0x100000);
	assert_int_equal(fdt_property_u32(fdt, "bus-range", 0), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_EPROPSIZE);
	assert_int_equal(e.n, 0);
	assert_int_equal(st.skipped, 1);
}

static void two_hosts_on_one_segment_overlap(void **state)
{
	(void)state;
	start(2, 2);
	host("pcie@a", 0x10000000, 0x10000000, 0, 255, 3);
	host("pcie@b", 0x30000000, 0x10000000, 0, 255, 3);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_EOVERLAP);
	assert_int_equal(e.n, 1);
	ecam_helpers_assert_win(&e, 0, 0x10000000, 3, 0, 255);
}

static void too_many_windows_keeps_the_first_sixteen(void **state)
{
	char name[32];
	int i;
	(void)state;
	start(2, 2);
	for (i = 0; i < ECAM_MAX_WINDOWS + 2; i++) {
		snprintf(name, sizeof(name), "pcie@%x", i);
		host(name, 0x100000000ull + ((uint64_t)i << 28), 0x10000000, 0, 255, -1);
	}
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_ENOSPC);
	assert_int_equal(e.n, ECAM_MAX_WINDOWS);
	ecam_helpers_assert_win(&e, 15, 0x100000000ull + (15ull << 28), 15, 0, 255);
	assert_int_equal(st.found, ECAM_MAX_WINDOWS + 2);
	assert_int_equal(st.used, ECAM_MAX_WINDOWS);
	assert_int_equal(st.skipped, 2);
}

static void disabled_hosts_are_ignored(void **state)
{
	(void)state;
	start(2, 2);
	begin_host("pcie@a");
	reg64(0x10000000, 0x10000000);
	assert_int_equal(fdt_property_string(fdt, "status", "disabled"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	host("pcie@b", 0x30000000, 0x10000000, 0, 255, -1);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), 0);
	assert_int_equal(st.found, 1);
	ecam_helpers_assert_win(&e, 0, 0x30000000, 0, 0, 255);
}

static void no_host_and_bad_header(void **state)
{
	(void)state;
	start(2, 2);
	finish();
	assert_int_equal(dt_ecam_scan(fdt, &e, NULL), 0);
	assert_int_equal(e.n, 0);
	((struct fdt_header *)fdt)->magic = 0;
	assert_int_equal(dt_ecam_scan(fdt, &e, &st), -PCSC_EBADFDT);
	assert_int_equal(st.found, 0);
	assert_int_equal(dt_ecam_scan(NULL, &e, NULL), -PCSC_EBADFDT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(qemu_virt_high_ecam_is_found, setup),
		cmocka_unit_test_setup(domains_are_numbered_like_linux, setup),
		cmocka_unit_test_setup(without_domains_nodes_count_from_zero, setup),
		cmocka_unit_test_setup(bus_range_is_cut_to_what_reg_decodes, setup),
		cmocka_unit_test_setup(one_cell_parent_reads_32bit_reg, setup),
		cmocka_unit_test_setup(reversed_bus_range_skips_only_that_node, setup),
		cmocka_unit_test_setup(hostile_nodes_are_refused_exactly, setup),
		cmocka_unit_test_setup(two_hosts_on_one_segment_overlap, setup),
		cmocka_unit_test_setup(too_many_windows_keeps_the_first_sixteen, setup),
		cmocka_unit_test_setup(disabled_hosts_are_ignored, setup),
		cmocka_unit_test_setup(no_host_and_bad_header, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
