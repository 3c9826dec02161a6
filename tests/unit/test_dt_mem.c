/* test_dt_mem.c - RAM from /memory nodes, reserved ranges from the
 * memreserve block and /reserved-memory, and the no-map ones, over hand-built DTBs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>
#include "helpers/fdt_helpers.h"
#include "helpers/range_helpers.h"

static char fdt[1 << 15];
static struct phys_ranges rs;
static struct dt_scan_stats st;

static int setup(void **state)
{
	(void)state;
	memset(&rs, 0, sizeof(rs));
	memset(&st, 0x5a, sizeof(st));
	return 0;
}

/* n memreserve entries, then a 2+2-cell root. */
static void start_rsv(const uint64_t *rsv, int n)
{
	fdt_helpers_start(fdt, sizeof(fdt), rsv, n, 2, 2);
}

static void start(void)
{
	start_rsv(NULL, 0);
}

static void finish(void)
{
	fdt_helpers_finish(fdt, sizeof(fdt));
}

/* n tuples of 2+2 cells under prop */
static void tuples(const char *prop, const uint64_t *v, int n)
{
	fdt_helpers_cells64(fdt, prop, v, 2 * n);
}

static void memnode(const char *name, const uint64_t *reg, int n, const char *status)
{
	assert_int_equal(fdt_begin_node(fdt, name), 0);
	assert_int_equal(fdt_property_string(fdt, "device_type", "memory"), 0);
	tuples("reg", reg, n);
	if (status)
		assert_int_equal(fdt_property_string(fdt, "status", status), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

/* A /reserved-memory node with the given cells and no ranges; children follow. */
static void begin_reserved_cells(uint32_t ac, uint32_t sc)
{
	assert_int_equal(fdt_begin_node(fdt, "reserved-memory"), 0);
	assert_int_equal(fdt_property_u32(fdt, "#address-cells", ac), 0);
	assert_int_equal(fdt_property_u32(fdt, "#size-cells", sc), 0);
}

/* The same with an empty ranges, as the binding asks. */
static void begin_reserved(uint32_t ac, uint32_t sc)
{
	begin_reserved_cells(ac, sc);
	assert_int_equal(fdt_property(fdt, "ranges", NULL, 0), 0);
}

/* The end of a /reserved-memory child: no-map and status if asked. */
static void end_child(bool nomap, const char *status)
{
	if (nomap)
		assert_int_equal(fdt_property(fdt, "no-map", NULL, 0), 0);
	if (status)
		assert_int_equal(fdt_property_string(fdt, "status", status), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

/* A child with 2+2 cell reg tuples (n may be 0: no reg at all). */
static void rsv_child(const char *name, const uint64_t *reg, int n, bool nomap,
		      const char *status)
{
	assert_int_equal(fdt_begin_node(fdt, name), 0);
	if (n)
		tuples("reg", reg, n);
	end_child(nomap, status);
}

/* A child whose reg is these raw bytes, whatever the cells say. */
static void raw_child(const char *name, const void *reg, int len, bool nomap,
		      const char *status)
{
	assert_int_equal(fdt_begin_node(fdt, name), 0);
	assert_int_equal(fdt_property(fdt, "reg", reg, len), 0);
	end_child(nomap, status);
}

/* A whole blob whose one no-map child has a raw reg under ac+sc cells. */
static void only_raw_child(uint32_t ac, uint32_t sc, const char *name, const void *reg, int len)
{
	start();
	begin_reserved(ac, sc);
	raw_child(name, reg, len, true, NULL);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
}

static void memory_nodes_give_ram(void **state)
{
	const uint64_t a[] = { 0x40000000, 0x40000000 };			/* QEMU virt 1 GiB */
	const uint64_t b[] = { 0x100000000ull, 0x10000000, 0x200000000ull, 0,	/* zero size */
			       0x300000000ull, 0x1000 };
	(void)state;
	start();
	memnode("memory@40000000", a, 1, NULL);
	memnode("memory@100000000", b, 3, "okay");
	assert_int_equal(fdt_begin_node(fdt, "memory@500000000"), 0);	/* no device_type */
	tuples("reg", a, 1);
	assert_int_equal(fdt_end_node(fdt), 0);
	memnode("memory@600000000", b, 1, "disabled");
	finish();
	assert_int_equal(dt_mem_ram(fdt, &rs, &st), 0);
	assert_int_equal(rs.n, 3);
	range_helpers_assert(&rs, 0, 0x40000000, 0x80000000);
	range_helpers_assert(&rs, 1, 0x100000000ull, 0x110000000ull);
	range_helpers_assert(&rs, 2, 0x300000000ull, 0x300001000ull);
	assert_int_equal(st.found, 2);
	assert_int_equal(st.used, 2);
	assert_int_equal(st.skipped, 0);
}

static void usable_memory_overrides_reg(void **state)
{
	const uint64_t reg[] = { 0x40000000, 0x40000000 };
	const uint64_t use[] = { 0x48000000, 0x1000000 };
	(void)state;
	start();
	assert_int_equal(fdt_begin_node(fdt, "memory@40000000"), 0);
	assert_int_equal(fdt_property_string(fdt, "device_type", "memory"), 0);
	tuples("reg", reg, 1);
	tuples("linux,usable-memory", use, 1);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_ram(fdt, &rs, NULL), 0);
	assert_int_equal(rs.n, 1);
	range_helpers_assert(&rs, 0, 0x48000000, 0x49000000);
}

static void bad_memory_node_is_skipped_others_kept(void **state)
{
	const uint64_t a[] = { 0x40000000, 0x40000000 };
	const uint64_t wrap[] = { 0xfffffffffffff000ull, 0x2000 };
	fdt32_t odd[3] = { 0, 0, 0 };
	(void)state;
	start();
	assert_int_equal(fdt_begin_node(fdt, "memory@0"), 0);
	assert_int_equal(fdt_property_string(fdt, "device_type", "memory"), 0);
	assert_int_equal(fdt_property(fdt, "reg", odd, sizeof(odd)), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	memnode("memory@ffff", wrap, 1, NULL);
	memnode("memory@40000000", a, 1, NULL);
	finish();
	assert_int_equal(dt_mem_ram(fdt, &rs, &st), -PCSC_EPROPSIZE);
	assert_int_equal(rs.n, 1);
	range_helpers_assert(&rs, 0, 0x40000000, 0x80000000);
	assert_int_equal(st.found, 3);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.first_err_node, fdt_path_offset(fdt, "/memory@0"));
}

static void no_memory_node_is_not_found(void **state)
{
	(void)state;
	start();
	finish();
	assert_int_equal(dt_mem_ram(fdt, &rs, &st), -PCSC_ENOTFOUND);
	assert_int_equal(rs.n, 0);
	fdt[4] ^= 0x40;		/* totalsize */
	fdt[0] = 0;
	assert_int_equal(dt_mem_ram(fdt, &rs, &st), -PCSC_EBADFDT);
	assert_int_equal(dt_mem_reserved(fdt, &rs, &st), -PCSC_EBADFDT);
}

static void too_many_banks_fill_the_table(void **state)
{
	uint64_t v[2 * 70];
	int i;
	(void)state;
	for (i = 0; i < 70; i++) {
		v[2 * i] = 0x100000000ull * (i + 1);
		v[2 * i + 1] = 0x1000;
	}
	start();
	memnode("memory@100000000", v, 70, NULL);
	finish();
	assert_int_equal(dt_mem_ram(fdt, &rs, &st), -PCSC_ENOSPC);
	assert_int_equal(rs.n, PCSC_MAX_RANGES);
	assert_int_equal(st.skipped, 1);
}

static void reserved_from_memreserve_and_reserved_memory(void **state)
{
	const uint64_t mr[] = { 0x48000000, 0x10000, 0x50000000, 0x2000 };
	fdt32_t r1[2] = { cpu_to_fdt32(0x60000000), cpu_to_fdt32(0x100000) };
	(void)state;
	start_rsv(mr, 2);
	begin_reserved_cells(1, 1);
	raw_child("fw@60000000", r1, sizeof(r1), true, NULL);
	assert_int_equal(fdt_begin_node(fdt, "cma"), 0);	/* dynamic: size only */
	assert_int_equal(fdt_property_u32(fdt, "size", 0x4000000), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	r1[0] = cpu_to_fdt32(0x70000000);
	raw_child("off@70000000", r1, sizeof(r1), false, "disabled");
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_reserved(fdt, &rs, &st), 0);
	assert_int_equal(rs.n, 3);
	range_helpers_assert(&rs, 0, 0x48000000, 0x48010000);
	range_helpers_assert(&rs, 1, 0x50000000, 0x50002000);
	range_helpers_assert(&rs, 2, 0x60000000, 0x60100000);
	assert_int_equal(st.found, 3);
	assert_int_equal(st.used, 3);
}

static void reserved_bad_child_is_named(void **state)
{
	fdt32_t r3[3] = { 0, 0, 0 };
	(void)state;
	start();
	begin_reserved_cells(1, 1);
	raw_child("bad", r3, sizeof(r3), false, NULL);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_reserved(fdt, &rs, &st), -PCSC_EPROPSIZE);
	assert_int_equal(rs.n, 0);
	assert_int_equal(st.first_err_node, fdt_path_offset(fdt, "/reserved-memory/bad"));
	/* Nothing reserved at all is fine. */
	start();
	finish();
	assert_int_equal(dt_mem_reserved(fdt, &rs, &st), 0);
	assert_int_equal(st.found, 0);
}

static void nomap_takes_no_map_children_and_memreserve(void **state)
{
	const uint64_t mr[] = { 0x48000000, 0x10000, 0x90000000, 0x2000 };
	const uint64_t fw[] = { 0x60000000, 0x100000, 0x61000000, 0x3000 };	/* two tuples */
	const uint64_t cma[] = { 0x70000000, 0x1000000 };
	const uint64_t off[] = { 0x78000000, 0x1000 };
	const uint64_t zero[] = { 0x7c000000, 0 };
	(void)state;
	start_rsv(mr, 2);
	begin_reserved(2, 2);
	rsv_child("fw@60000000", fw, 2, true, NULL);
	rsv_child("cma@70000000", cma, 1, false, NULL);		/* mapped by Linux */
	rsv_child("off@78000000", off, 1, true, "disabled");		/* not there */
	rsv_child("dyn", NULL, 0, true, NULL);				/* no fixed address */
	rsv_child("zero@7c000000", zero, 1, true, "okay");		/* nothing to add */
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), 0);
	assert_int_equal(rs.n, 4);
	range_helpers_assert(&rs, 0, 0x48000000, 0x48010000);
	range_helpers_assert(&rs, 1, 0x60000000, 0x60100000);
	range_helpers_assert(&rs, 2, 0x61000000, 0x61003000);
	range_helpers_assert(&rs, 3, 0x90000000, 0x90002000);
	assert_int_equal(st.found, 4);		/* 2 memreserve + fw + zero */
	assert_int_equal(st.used, 4);
	assert_int_equal(st.skipped, 0);
}

static void nomap_value_and_own_cells(void **state)
{
	/* no-map with a (meaningless) value still counts; 1+1 cells. */
	fdt32_t r[2] = { cpu_to_fdt32(0x5f000000), cpu_to_fdt32(0x200000) };
	(void)state;
	start();
	begin_reserved(1, 1);
	assert_int_equal(fdt_begin_node(fdt, "tz@5f000000"), 0);
	assert_int_equal(fdt_property(fdt, "reg", r, sizeof(r)), 0);
	assert_int_equal(fdt_property_u32(fdt, "no-map", 1), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, NULL), 0);
	assert_int_equal(rs.n, 1);
	range_helpers_assert(&rs, 0, 0x5f000000, 0x5f200000);
}

static void nomap_none_is_empty(void **state)
{
	(void)state;
	start();
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), 0);
	assert_int_equal(rs.n, 0);
	assert_int_equal(st.found, 0);
	assert_int_equal(dt_mem_nomap(NULL, &rs, &st), -PCSC_EBADFDT);
	fdt[0] = 0;
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_EBADFDT);
	assert_int_equal(rs.n, 0);
}

/* Hostile cells: every bad child is skipped and named, the good one kept. */
static void nomap_hostile_cells_skip_only_that_child(void **state)
{
	const uint64_t good[] = { 0x50000000, 0x1000 };
	const uint64_t wrap[] = { 0xfffffffffffff000ull, 0x2000 };
	fdt32_t odd[3] = { 0, cpu_to_fdt32(0x40000000), 0 };
	fdt32_t wide[6] = { cpu_to_fdt32(1), 0, cpu_to_fdt32(0x40000000), 0, 0,
			    cpu_to_fdt32(0x1000) };	/* 3+3 cells, top cell set */
	(void)state;
	start();
	begin_reserved(2, 2);
	raw_child("odd", odd, sizeof(odd), true, NULL);
	rsv_child("wrap", wrap, 1, true, NULL);
	rsv_child("good@50000000", good, 1, true, NULL);
	raw_child("empty-reg", NULL, 0, true, NULL);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_EPROPSIZE);
	assert_int_equal(rs.n, 1);
	range_helpers_assert(&rs, 0, 0x50000000, 0x50001000);
	assert_int_equal(st.found, 4);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(st.first_err_node, fdt_path_offset(fdt, "/reserved-memory/odd"));

	/* 3 address + 3 size cells whose top cell is set: beyond 64 bits. */
	memset(&rs, 0, sizeof(rs));
	only_raw_child(3, 3, "wide", wide, sizeof(wide));
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_ERANGE);
	assert_int_equal(rs.n, 0);

	/* #address-cells past what any number here can hold. */
	only_raw_child(5, 1, "huge", wide, sizeof(wide));
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_ERANGE);
	assert_int_equal(rs.n, 0);
	assert_int_equal(st.skipped, 1);
}

/* More regions than the list holds: -PCSC_ENOSPC, even after a bad node. */
static void nomap_overflow_wins_over_a_bad_node(void **state)
{
	fdt32_t odd[3] = { 0, 0, 0 };
	uint64_t v[2 * 70];
	int i;
	(void)state;
	for (i = 0; i < 70; i++) {
		v[2 * i] = 0x40000000ull + 0x200000ull * (uint64_t)i;
		v[2 * i + 1] = 0x1000;
	}
	start();
	begin_reserved(2, 2);
	raw_child("odd", odd, sizeof(odd), true, NULL);
	rsv_child("many", v, 70, true, NULL);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_ENOSPC);
	assert_int_equal(rs.n, PCSC_MAX_RANGES);
	assert_int_equal(st.first_err, -PCSC_EPROPSIZE);

	/* The memreserve block alone can fill it too. */
	memset(&rs, 0, sizeof(rs));
	start_rsv(v, 70);
	finish();
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_ENOSPC);
	assert_int_equal(rs.n, PCSC_MAX_RANGES);
}

/* A memreserve block with no terminator before the end of the blob: none
 * of its entries is believed; the no-map children still are. */
static void nomap_truncated_memreserve(void **state)
{
	const uint64_t mr[] = { 0x48000000, 0x10000 };
	const uint64_t fw[] = { 0x60000000, 0x1000 };
	uint32_t total;
	(void)state;
	start_rsv(mr, 1);
	begin_reserved(2, 2);
	rsv_child("fw@60000000", fw, 1, true, NULL);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	/* The strings block (non-zero text) is last: make the memreserve
	 * block start inside it, so no zero-size entry ends it in time. */
	total = fdt_totalsize(fdt);
	fdt_set_off_mem_rsvmap(fdt, (total - 24) & ~7u);
	assert_int_equal(dt_mem_nomap(fdt, &rs, &st), -PCSC_ETRUNC);
	assert_int_equal(rs.n, 1);
	range_helpers_assert(&rs, 0, 0x60000000, 0x60001000);
	assert_int_equal(st.first_err_node, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(memory_nodes_give_ram, setup),
		cmocka_unit_test_setup(usable_memory_overrides_reg, setup),
		cmocka_unit_test_setup(bad_memory_node_is_skipped_others_kept, setup),
		cmocka_unit_test_setup(no_memory_node_is_not_found, setup),
		cmocka_unit_test_setup(too_many_banks_fill_the_table, setup),
		cmocka_unit_test_setup(reserved_from_memreserve_and_reserved_memory, setup),
		cmocka_unit_test_setup(reserved_bad_child_is_named, setup),
		cmocka_unit_test_setup(nomap_takes_no_map_children_and_memreserve, setup),
		cmocka_unit_test_setup(nomap_value_and_own_cells, setup),
		cmocka_unit_test_setup(nomap_none_is_empty, setup),
		cmocka_unit_test_setup(nomap_hostile_cells_skip_only_that_child, setup),
		cmocka_unit_test_setup(nomap_overflow_wins_over_a_bad_node, setup),
		cmocka_unit_test_setup(nomap_truncated_memreserve, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
