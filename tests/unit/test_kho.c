/* test_kho.c - kho_open validates the KHO root FDT and names what is wrong; kho_map_read
 * walks the preserved-memory map bounded (loops, orders, alignment, RAM) into sorted ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/kho.h>
#include "helpers/blob_helpers.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (4ull << 20)

static struct blob_helpers_ram ram;
static struct cache_gen_layout lo;
static struct kho_range rr[64], mm[64];

static int setup(void **state)
{
	static uint8_t cfg[2][256];
	struct cache_gen_dev d[2];

	(void)state;
	blob_helpers_ram_init(&ram, RAM_BASE, RAM_SIZE);
	blob_helpers_cfg(cfg[0], 0x8086, 0x10d3, 0x020000, 0);
	blob_helpers_cfg(cfg[1], 0x1af4, 0x1041, 0x020000, 0);
	d[0] = (struct cache_gen_dev){ PCI_SBDF(0, 1, 0), cfg[0], 256 };
	d[1] = (struct cache_gen_dev){ PCI_SBDF(0, 2, 0), cfg[1], 256 };
	memset(&lo, 0, sizeof(lo));
	lo.base = RAM_BASE + 0x100000;
	lo.S = 4096;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 2, &lo), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	blob_helpers_ram_free(&ram);
	return 0;
}

static uint8_t *kfdt(void)
{
	return blob_helpers_at(&ram, lo.kho_fdt);
}

static void open_valid(void **state)
{
	struct kho_info ki;

	(void)state;
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	assert_string_equal(ki.msg, "");
	assert_int_equal(ki.map_phys, lo.map);
	assert_int_equal(ki.pcsc_fdt_phys, lo.pcsc_fdt);
	assert_true(ki.pcsc_node > 0);
	assert_ptr_equal(ki.fdt, kfdt());
	assert_int_equal(ki.fdt_size, fdt_totalsize(kfdt()));
}

static void open_header_outside_ram(void **state)
{
	struct kho_info ki;

	(void)state;
	assert_int_equal(kho_open(&ram.pm, 0x1000, 0, &ki), -PCSC_ENOTRAM);
	assert_string_equal(ki.msg, "KHO FDT at 0x1000 not in RAM");
	assert_int_equal(kho_open(&ram.pm, RAM_BASE + RAM_SIZE - 24, 0, &ki), -PCSC_ENOTRAM);
}

static void open_unaligned_fdt(void **state)
{
	struct kho_info ki;
	char want[80];

	(void)state;
	memmove(kfdt() + 4, kfdt(), 1024);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt + 4, 0, &ki), -PCSC_EALIGN);
	snprintf(want, sizeof(want), "KHO FDT at 0x%llx not 8-byte aligned", (unsigned long long)lo.kho_fdt + 4);
	assert_string_equal(ki.msg, want);
}

static void open_bad_magic(void **state)
{
	struct kho_info ki;

	(void)state;
	memset(kfdt(), 0, 4);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_string_equal(ki.msg, "KHO FDT bad magic 0x00000000");
}

static void open_totalsize_above_bound(void **state)
{
	struct kho_info ki;

	(void)state;
	fdt_set_totalsize(kfdt(), 2u << 20);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_string_equal(ki.msg, "KHO FDT totalsize 2097152 outside 40..1048576");
	fdt_set_totalsize(kfdt(), 4096);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 1024, &ki), -PCSC_EBADFDT);
	assert_string_equal(ki.msg, "KHO FDT totalsize 4096 above the 1024-byte bound");
}

static void open_totalsize_past_ram(void **state)
{
	struct kho_info ki;
	uint64_t last = RAM_BASE + RAM_SIZE - 4096;
	char want[80];

	(void)state;
	memcpy(blob_helpers_at(&ram, last), kfdt(), 4096);
	fdt_set_totalsize(blob_helpers_at(&ram, last), 8192);
	assert_int_equal(kho_open(&ram.pm, last, 0, &ki), -PCSC_ENOTRAM);
	snprintf(want, sizeof(want), "KHO FDT 0x%llx+8192 not in RAM", (unsigned long long)last);
	assert_string_equal(ki.msg, want);
}

static void open_bad_version(void **state)
{
	struct kho_info ki;

	(void)state;
	fdt_set_version(kfdt(), 1);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_string_equal(ki.msg, "KHO FDT invalid: FDT_ERR_BADVERSION");
}

static void open_truncated_structure(void **state)
{
	struct kho_info ki;

	(void)state;
	fdt_set_size_dt_struct(kfdt(), fdt_size_dt_struct(kfdt()) - 8);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_string_equal(ki.msg, "KHO FDT invalid: FDT_ERR_TRUNCATED");
}

static void open_unknown_compatible_is_named(void **state)
{
	struct kho_info ki;

	(void)state;
	assert_int_equal(cache_gen_kho_fdt(kfdt(), 4096, NULL, "kho-v9", lo.map, lo.pcsc_fdt, 0), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ECOMPAT);
	assert_string_equal(ki.msg, "KHO FDT unknown compatible \"kho-v9\"");
	/* The child is still found, so the caller can detach it. */
	assert_true(ki.checked);
	assert_true(ki.pcsc_node > 0);
	assert_int_equal(ki.npcsc, 1);
	assert_null(ki.abi);
	assert_int_equal(fdt_setprop(kfdt(), 0, "compatible", "x\x01y\"", 5), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ECOMPAT);
	assert_string_equal(ki.msg, "KHO FDT unknown compatible \"x?y?\"");
	assert_int_equal(fdt_delprop(kfdt(), 0, "compatible"), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ECOMPAT);
	assert_string_equal(ki.msg, "KHO FDT has no compatible");
}

static void open_map_property_size(void **state)
{
	struct kho_info ki;
	uint32_t v = 1;

	(void)state;
	assert_int_equal(fdt_setprop(kfdt(), 0, "preserved-memory-map", &v, 4), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EPROPSIZE);
	assert_string_equal(ki.msg, "KHO FDT preserved-memory-map is 4 bytes, not 8");
}

static void open_without_pcsc(void **state)
{
	struct kho_info ki;
	uint32_t v = 1;
	int node;

	(void)state;
	node = fdt_subnode_offset(kfdt(), 0, "pcsc");
	assert_int_equal(fdt_setprop(kfdt(), node, "fdt", &v, 4), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EPROPSIZE);
	assert_string_equal(ki.msg, "KHO pcsc node fdt is 4 bytes, not 8");
	assert_int_equal(fdt_delprop(kfdt(), node, "fdt"), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ENOTFOUND);
	assert_string_equal(ki.msg, "KHO pcsc node has no fdt property");
	assert_int_equal(cache_gen_kho_fdt(kfdt(), 4096, NULL, NULL, lo.map, 0, 0), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ENOTFOUND);
	assert_string_equal(ki.msg, "KHO FDT has no pcsc subtree");
	assert_int_equal(ki.pcsc_node, -1);
}

static void map_valid_ranges_and_queries(void **state)
{
	struct kho_map m;

	(void)state;
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), 0);
	/* The data blocks and the pcsc FDT, then the KHO root FDT's page. */
	assert_int_equal(m.n, 2);
	assert_int_equal(rr[0].start, lo.data);
	assert_int_equal(rr[0].end, lo.map_area);
	assert_int_equal(rr[1].start, lo.kho_fdt);
	assert_int_equal(rr[1].end, lo.kho_fdt + 4096);
	assert_true(m.chunks >= 1);
	assert_true(kho_is_preserved(&m, lo.data, 8192));
	assert_true(kho_is_preserved(&m, lo.pcsc_fdt, 4096));
	assert_false(kho_is_preserved(&m, lo.pcsc_fdt, 8192));
	assert_false(kho_is_preserved(&m, lo.data - 4096, 8192));
	assert_false(kho_is_preserved(&m, lo.data, 0));
	assert_false(kho_is_preserved(&m, UINT64_MAX - 10, 100));
	assert_true(kho_overlaps_meta(&m, lo.map, 1));
	assert_false(kho_overlaps_meta(&m, lo.data, 8192));
	/* 5 pages: one order-2 folio + one order-0; the root: one order-0 */
	assert_int_equal(m.folios, 3);
	assert_int_equal(kho_map_read(&ram.pm, NULL, 0, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.n, 0);
	assert_false(kho_is_preserved(&m, lo.data, 4096));
}

static uint8_t *chunk(uint64_t phys)
{
	return blob_helpers_at(&ram, phys);
}

static void map_self_loop(void **state)
{
	struct kho_map m;
	char want[80];

	(void)state;
	memcpy(chunk(lo.map), &lo.map, 8);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_ELOOP);
	snprintf(want, sizeof(want), "KHO map chunk list loops at 0x%llx", (unsigned long long)lo.map);
	assert_string_equal(m.msg, want);
}

static void map_two_chunk_loop(void **state)
{
	struct kho_map m;
	uint64_t second;

	(void)state;
	memcpy(&second, chunk(lo.map), 8);
	assert_true(second != 0);
	memcpy(chunk(second), &lo.map, 8);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_ELOOP);
}

static void map_absurd_order(void **state)
{
	struct kho_map m;
	uint32_t order = 31;
	char want[80];

	(void)state;
	memcpy(chunk(lo.map) + 8, &order, 4);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_ERANGE);
	snprintf(want, sizeof(want), "KHO map chunk 0x%llx order 31 above 30", (unsigned long long)lo.map);
	assert_string_equal(m.msg, want);
}

static void map_too_many_entries(void **state)
{
	struct kho_map m;
	uint32_t num = 256;
	char want[80];

	(void)state;
	memcpy(chunk(lo.map) + 12, &num, 4);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_ERANGE);
	snprintf(want, sizeof(want), "KHO map chunk 0x%llx has 256 entries, max 255",
		 (unsigned long long)lo.map);
	assert_string_equal(m.msg, want);
}

static void map_unaligned_pointers(void **state)
{
	struct kho_map m;
	uint64_t bm, start;

	(void)state;
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map + 8, 0, rr, 64, mm, 64, &m), -PCSC_EALIGN);
	assert_int_equal(kho_map_read(&ram.pm, NULL, 0x2000, 0, rr, 64, mm, 64, &m), -PCSC_ENOTRAM);
	assert_string_equal(m.msg, "KHO map chunk 0x2000 not in RAM");
	memcpy(&bm, chunk(lo.map) + 24, 8);
	bm += 4;
	memcpy(chunk(lo.map) + 24, &bm, 8);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_EALIGN);
	bm = 0x3000;
	memcpy(chunk(lo.map) + 24, &bm, 8);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_ENOTRAM);
	assert_string_equal(m.msg, "KHO map bitmap 0x3000 not in RAM");
	/* phys_start of an order-2 entry must be 16 KiB aligned. */
	{
		uint64_t second;
		uint32_t order;

		memcpy(&second, chunk(lo.map), 8);
		memcpy(&order, chunk(second) + 8, 4);
		assert_int_equal(order, 2);
		memcpy(&start, chunk(second) + 16, 8);
		start += 4096;
		memcpy(chunk(second) + 16, &start, 8);
		bm = lo.map_area + 16 * 4096 - 512;
		memcpy(chunk(lo.map) + 24, &bm, 8);
		assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), -PCSC_EALIGN);
	}
}

static void map_arena_full(void **state)
{
	struct kho_map m;

	(void)state;
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 0, mm, 64, &m), -PCSC_ENOSPC);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 1, &m), -PCSC_ENOSPC);
}

static void map_full_arena_is_compacted(void **state)
{
	static uint8_t buf[8 * 4096];
	const struct kho_range r = { 0x40100000, 0x4010f000 };	/* orders 3, 2, 1, 0 */
	struct kho_map m;
	uint64_t first;
	size_t used;

	(void)state;
	/* Map in RAM at 0x40300000 (beyond what setup built). */
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x40300000, &r, 1, NULL, 0, &first, &used), 0);
	memcpy(blob_helpers_at(&ram, 0x40300000), buf, sizeof(buf));
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 2, mm, 64, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(rr[0].start, 0x40100000);
	assert_int_equal(rr[0].end, 0x4010f000);
	assert_int_equal(m.chunks, 4);
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 1, mm, 64, &m), -PCSC_ENOSPC);
}

/* kho-v1 with PAGE_SIZE bitmaps (6.17.9+ / 6.18 - 7.0): a page 20 MiB into
 * a 128 MiB bitmap span sits in bytes 512.. of its bitmap. Read as 512 it
 * is lost (safe); forced to 4096 it is found. */
static void map_v1_4096_read_as_512_only_loses(void **state)
{
	static uint8_t buf[8 * 4096];
	const struct kho_range r = { 0x41400000, 0x41401000 };
	struct kho_map m;
	uint64_t first, start, bitmap;
	size_t used;

	(void)state;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x40300000, &r, 1, NULL, 4096, &first,
					   &used), 0);
	memcpy(blob_helpers_at(&ram, 0x40300000), buf, sizeof(buf));
	/* Upstream's layout: phys_start = (index * 32768) << 12, bitmap a page. */
	memcpy(&start, buf + 16, 8);
	memcpy(&bitmap, buf + 24, 8);
	assert_int_equal(start, 0x40000000);
	assert_int_equal(bitmap & 4095, 0);
	assert_int_equal(buf[(bitmap - 0x40300000) + 0x1400 / 8], 1);	/* bit 5120 */
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 4096, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.bitmap_bytes, 4096);
	assert_true(kho_is_preserved(&m, 0x41400000, 4096));
	assert_true(kho_overlaps_meta(&m, bitmap + 4000, 1));
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.bitmap_bytes, 512);
	assert_int_equal(m.folios, 0);
	assert_false(kho_is_preserved(&m, 0x41400000, 4096));
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 512, rr, 64, mm, 64, &m), 0);
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 1024, rr, 64, mm, 64, &m), -PCSC_EINVAL);
}

/* Forcing 4096 on a map that proves 512 (an unaligned bitmap, or a start
 * only 16 MiB aligned) fails instead of inventing preserved pages. */
/* Rewrite the first entry's phys_start of the chunk at first. */
static void start_at(uint64_t first, uint64_t start)
{
	memcpy(blob_helpers_at(&ram, first) + 16, &start, 8);
}

static void map_forced_4096_on_a_512_map_fails(void **state)
{
	static uint8_t buf[8 * 4096];
	const struct kho_range r = { 0x41000000, 0x41001000 };
	struct kho_map m;
	uint64_t first, bitmap;
	size_t used;

	(void)state;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x40300000, &r, 1, NULL, 512, &first,
					   &used), 0);
	memcpy(blob_helpers_at(&ram, 0x40300000), buf, sizeof(buf));
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 64, mm, 64, &m), 0);
	assert_true(kho_is_preserved(&m, 0x41000000, 4096));
	/* The writer packs 512-byte bitmaps from the end: the first one sits
	 * at +0x7e00, not page aligned. */
	memcpy(&bitmap, blob_helpers_at(&ram, first) + 24, 8);
	assert_int_equal(bitmap, 0x40300000 + sizeof(buf) - 512);
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 4096, rr, 64, mm, 64, &m), -PCSC_EINVAL);
	assert_string_equal(m.msg, "KHO map entry 0x41000000/0x40307e00 proves 512-byte bitmaps, "
			    "not 4096");
	/* Page-aligned bitmap, but the start is 16 MiB, not 128 MiB, aligned. */
	bitmap = 0x40306000;
	memcpy(blob_helpers_at(&ram, first) + 24, &bitmap, 8);
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 4096, rr, 64, mm, 64, &m), -PCSC_EINVAL);
	/* A start that is not even on a 512-byte bitmap's span is not
	 * what upstream writes. */
	start_at(first, 0x41001000);
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 64, mm, 64, &m), -PCSC_EALIGN);
}

/* A LUO subtree proves Linux 6.19+, whose kho-v1 bitmaps are PAGE_SIZE;
 * the option still wins; without either, 0 (read 512). */
static void luo_subtree_proves_4096(void **state)
{
	struct kho_info ki;
	int node;

	(void)state;
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	assert_false(ki.has_luo);
	assert_int_equal(kho_v1_bitmap(&ki, 0), 0);
	assert_int_equal(fdt_open_into(kfdt(), kfdt(), 4096), 0);
	node = fdt_add_subnode(kfdt(), 0, "LUO");
	assert_true(node > 0);
	assert_int_equal(fdt_setprop_u64(kfdt(), node, "fdt", 0x1000), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	assert_true(ki.has_luo);
	assert_int_equal(kho_v1_bitmap(&ki, 0), 4096);
	assert_int_equal(kho_v1_bitmap(&ki, 512), 512);
	assert_int_equal(kho_v1_bitmap(NULL, 0), 0);
}

static void abi_table_matches_stringlists(void **state)
{
	const struct kho_abi *abi;
	uint32_t bm;

	(void)state;
	assert_int_equal(kho_abi_match("kho-v1", 7, &abi), 0);
	assert_string_equal(abi->compatible, "kho-v1");
	assert_int_equal(abi->map, KHO_MAP_CHUNKS);
	assert_string_equal(abi->subtree_prop, "fdt");
	assert_false(abi->blob_size);
	assert_int_equal(kho_abi_match("vendor,x\0kho-v4", 16, &abi), 0);
	assert_string_equal(abi->compatible, "kho-v4");
	assert_int_equal(abi->map, KHO_MAP_RADIX);
	assert_string_equal(abi->subtree_prop, "preserved-data");
	assert_true(abi->blob_size);
	assert_int_equal(kho_abi_match("kho-v2", 7, &abi), 0);
	assert_false(abi->blob_size);
	/* Two ABIs in one list: which would the next kernel take? Refuse. */
	assert_int_equal(kho_abi_match("kho-v1\0kho-v3", 14, &abi), -PCSC_ECOMPAT);
	assert_null(abi);
	/* Not NUL terminated, a prefix, an unknown version, nothing. */
	assert_int_equal(kho_abi_match("kho-v1", 6, &abi), -PCSC_ECOMPAT);
	assert_int_equal(kho_abi_match("kho-v", 6, &abi), -PCSC_ECOMPAT);
	assert_int_equal(kho_abi_match("kho-v5", 7, &abi), -PCSC_ECOMPAT);
	assert_int_equal(kho_abi_match("kho-v4;radix-v1", 16, &abi), -PCSC_ECOMPAT);
	assert_int_equal(kho_abi_match(NULL, 0, &abi), -PCSC_ECOMPAT);
	assert_int_equal(kho_abi_by_name("v1-4096", &abi, &bm), 0);
	assert_string_equal(abi->compatible, "kho-v1");
	assert_int_equal(bm, 4096);
	assert_int_equal(kho_abi_by_name("v3", &abi, &bm), 0);
	assert_string_equal(abi->compatible, "kho-v3");
	assert_int_equal(bm, 0);
	assert_int_equal(kho_abi_by_name("v5", &abi, &bm), -PCSC_EINVAL);
	assert_int_equal(kho_abi_by_name(NULL, &abi, &bm), -PCSC_EINVAL);
	/* The row's strings are arrays: each must hold its NUL. */
	for (unsigned int i = 0; i < kho_nabis; i++) {
		assert_true(strnlen(kho_abis[i].compatible, sizeof(kho_abis[i].compatible)) <
			    sizeof(kho_abis[i].compatible));
		assert_true(strnlen(kho_abis[i].subtree_prop, sizeof(kho_abis[i].subtree_prop)) <
			    sizeof(kho_abis[i].subtree_prop));
		assert_true(strnlen(kho_abis[i].releases, sizeof(kho_abis[i].releases)) <
			    sizeof(kho_abis[i].releases));
	}
}

/* kho-v4 root as upstream lays it out: preserved-data and blob-size. */
static void open_v4_reads_preserved_data_and_blob_size(void **state)
{
	struct kho_info ki;
	int node;

	(void)state;
	assert_int_equal(cache_gen_kho_fdt(kfdt(), 4096, &kho_abis[3], NULL, lo.map, lo.pcsc_fdt,
					   0x1234), 0);
	node = fdt_subnode_offset(kfdt(), 0, "pcsc");
	assert_true(node > 0);
	assert_null(fdt_getprop(kfdt(), node, "fdt", NULL));
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	assert_ptr_equal(ki.abi, &kho_abis[3]);
	assert_int_equal(ki.pcsc_fdt_phys, lo.pcsc_fdt);
	assert_int_equal(ki.pcsc_blob_size, 0x1234);
	assert_int_equal(fdt_delprop(kfdt(), node, "blob-size"), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ENOTFOUND);
	assert_string_equal(ki.msg, "KHO pcsc node has no blob-size property");
	assert_int_equal(fdt_setprop(kfdt(), node, "blob-size", "abcd", 4), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EPROPSIZE);
	/* kho-v1 names the subtree by "fdt": preserved-data alone is missing. */
	assert_int_equal(fdt_setprop_string(kfdt(), 0, "compatible", "kho-v1"), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_ENOTFOUND);
	assert_string_equal(ki.msg, "KHO pcsc node has no fdt property");
}

static void scratch_array_is_read_whole(void **state)
{
	const uint64_t a[6] = { 0x80000000, 0x800000, 0x40000000, 0, 0x7f000000, 0x1000000 };
	struct phys_ranges reg;
	struct kho_range arr;
	char msg[KHO_MSG_MAX];
	uint64_t at = RAM_BASE + 0x300000;

	(void)state;
	memcpy(blob_helpers_at(&ram, at), a, sizeof(a));
	assert_int_equal(kho_scratch_read(&ram.pm, at, sizeof(a), &reg, &arr, msg), 0);
	/* The zero-size entry is skipped; the others merge where they touch. */
	assert_int_equal(reg.n, 1);
	assert_int_equal(reg.r[0].start, 0x7f000000);
	assert_int_equal(reg.r[0].end, 0x80800000);
	assert_int_equal(arr.start, at);
	assert_int_equal(arr.end, at + sizeof(a));
	assert_int_equal(kho_scratch_read(&ram.pm, at, 0, &reg, &arr, msg), 0);
	assert_int_equal(reg.n, 0);
	assert_int_equal(arr.end, arr.start);
	assert_int_equal(kho_scratch_read(&ram.pm, at, 40, &reg, &arr, msg), -PCSC_EALIGN);
	assert_int_equal(kho_scratch_read(&ram.pm, at + 4, 16, &reg, &arr, msg), -PCSC_EALIGN);
	assert_int_equal(kho_scratch_read(&ram.pm, at, 16 * 65, &reg, &arr, msg), -PCSC_ERANGE);
	assert_string_equal(msg, "KHO scratch array has 65 entries, max 64");
	assert_int_equal(kho_scratch_read(&ram.pm, 0x1000, 16, &reg, &arr, msg), -PCSC_ENOTRAM);
	/* The old reading (one region of 8 MiB) is what a caller passing a
	 * region instead of the array would get: refused, not misread. */
	assert_int_equal(kho_scratch_read(&ram.pm, at, 0x800000, &reg, &arr, msg), -PCSC_ERANGE);
	/* A region that wraps. */
	memcpy(blob_helpers_at(&ram, at + 8), &(uint64_t){ UINT64_MAX }, 8);
	assert_int_equal(kho_scratch_read(&ram.pm, at, 16, &reg, &arr, msg), -PCSC_ERANGE);
}

static void sort_merge_ranges(void **state)
{
	struct kho_range r[5] = {
		{ 0x5000, 0x6000 }, { 0x1000, 0x2000 }, { 0x2000, 0x3000 }, { 0x8000, 0x9000 },
		{ 0x5800, 0x7000 },
	};

	(void)state;
	assert_int_equal(kho_ranges_sort_merge(r, 5), 3);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[0].end, 0x3000);
	assert_int_equal(r[1].start, 0x5000);
	assert_int_equal(r[1].end, 0x7000);
	assert_int_equal(r[2].start, 0x8000);
}

static void open_second_pcsc_child_is_dup_and_detach_takes_both(void **state)
{
	struct kho_info ki;
	uint8_t *f = kfdt();
	uint64_t other = 0x123;

	(void)state;
	/* "pcsc@1" also answers fdt_subnode_offset(.., "pcsc"): the next
	 * kernel could adopt it after we detach the first. */
	assert_int_equal(fdt_create(f, 4096), 0);
	assert_int_equal(fdt_finish_reservemap(f), 0);
	assert_int_equal(fdt_begin_node(f, ""), 0);
	assert_int_equal(fdt_property_string(f, "compatible", "kho-v1"), 0);
	assert_int_equal(fdt_property(f, "preserved-memory-map", &lo.map, 8), 0);
	assert_int_equal(fdt_begin_node(f, "pcsc@1"), 0);
	assert_int_equal(fdt_property(f, "fdt", &other, 8), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_begin_node(f, "pcsc"), 0);
	assert_int_equal(fdt_property(f, "fdt", &lo.pcsc_fdt, 8), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_finish(f), 0);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EDUP);
	assert_string_equal(ki.msg, "KHO FDT has 2 pcsc nodes");
	assert_true(ki.pcsc_node > 0);
	assert_int_equal(handover_detach(&ki, &ram.pm), 2);
	assert_int_equal(fdt_subnode_offset(f, 0, "pcsc"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_subnode_offset(f, 0, "pcsc@1"), -FDT_ERR_NOTFOUND);
}

/* One chunk, one order-0 entry at `start` with the given bitmap words. */
static void one_entry_map(uint64_t start, const uint64_t *words, unsigned int nwords)
{
	uint8_t *c = chunk(lo.map);
	uint64_t zero = 0, bitmap = lo.map + 0x800;
	uint32_t order = 0, num = 1;

	memset(c, 0, 4096);
	memcpy(c, &zero, 8);
	memcpy(c + 8, &order, 4);
	memcpy(c + 12, &num, 4);
	memcpy(c + 16, &start, 8);
	memcpy(c + 24, &bitmap, 8);
	memcpy(c + 0x800, words, 8 * nwords);
}

static void map_runs_of_bits_become_ranges(void **state)
{
	/* Bits 0-2, then 63 and 64 (a run across the word boundary), then
	 * the last bit of the bitmap. */
	uint64_t words[64] = { 0x8000000000000007ull, 0x1, [63] = 0x8000000000000000ull };
	uint64_t s = RAM_BASE;	/* upstream starts on a bitmap's span (16 MiB) */
	struct kho_map m;

	(void)state;
	one_entry_map(s, words, 64);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.folios, 6);
	assert_int_equal(m.bitmaps, 1);
	assert_int_equal(m.n, 3);
	assert_int_equal(rr[0].start, s);
	assert_int_equal(rr[0].end, s + 3 * 4096);
	assert_int_equal(rr[1].start, s + 63 * 4096);
	assert_int_equal(rr[1].end, s + 65 * 4096);
	assert_int_equal(rr[2].start, s + 4095ull * 4096);
	assert_int_equal(rr[2].end, s + 4096ull * 4096);
	assert_false(kho_is_preserved(&m, s + 3 * 4096, 4096));
}

static void map_all_ones_bitmap_is_one_range(void **state)
{
	uint64_t words[64];
	uint64_t s = RAM_BASE;
	struct kho_map m;

	(void)state;
	memset(words, 0xff, sizeof(words));
	one_entry_map(s, words, 64);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.folios, 4096);
	assert_int_equal(m.n, 1);
	assert_true(kho_is_preserved(&m, s, 4096ull * 4096));
}

static void map_more_bitmaps_than_the_bound_is_erange(void **state)
{
	/* 65 chunks x 255 entries > KHO_MAX_BITMAPS: refused at the bound,
	 * however cheap each (empty) bitmap is. */
	uint64_t first = RAM_BASE + 0x200000, bitmap = RAM_BASE + 0x1f0000, start = RAM_BASE;
	uint32_t order = 0, num = 255;
	unsigned int i, k;
	struct kho_map m;

	(void)state;
	memset(chunk(bitmap), 0, 512);
	for (i = 0; i < 65; i++) {
		uint8_t *c = chunk(first + i * 4096ull);
		uint64_t next = i < 64 ? first + (i + 1) * 4096ull : 0;

		memcpy(c, &next, 8);
		memcpy(c + 8, &order, 4);
		memcpy(c + 12, &num, 4);
		for (k = 0; k < num; k++) {
			memcpy(c + 16 + 16 * k, &start, 8);
			memcpy(c + 24 + 16 * k, &bitmap, 8);
		}
	}
	assert_int_equal(kho_map_read(&ram.pm, NULL, first, 0, rr, 64, mm, 64, &m), -PCSC_ERANGE);
	assert_string_equal(m.msg, "KHO map has more than 16384 bitmaps");
	assert_int_equal(m.bitmaps, KHO_MAX_BITMAPS + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(open_header_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(open_unaligned_fdt, setup, teardown),
		cmocka_unit_test_setup_teardown(open_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(open_totalsize_above_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(open_totalsize_past_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(open_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(open_truncated_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(open_unknown_compatible_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(open_map_property_size, setup, teardown),
		cmocka_unit_test_setup_teardown(open_without_pcsc, setup, teardown),
		cmocka_unit_test_setup_teardown(map_valid_ranges_and_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(open_second_pcsc_child_is_dup_and_detach_takes_both, setup, teardown),
		cmocka_unit_test_setup_teardown(map_runs_of_bits_become_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(map_all_ones_bitmap_is_one_range, setup, teardown),
		cmocka_unit_test_setup_teardown(map_more_bitmaps_than_the_bound_is_erange, setup, teardown),
		cmocka_unit_test_setup_teardown(map_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(map_two_chunk_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(map_absurd_order, setup, teardown),
		cmocka_unit_test_setup_teardown(map_too_many_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(map_unaligned_pointers, setup, teardown),
		cmocka_unit_test_setup_teardown(map_arena_full, setup, teardown),
		cmocka_unit_test_setup_teardown(map_full_arena_is_compacted, setup, teardown),
		cmocka_unit_test_setup_teardown(map_v1_4096_read_as_512_only_loses, setup, teardown),
		cmocka_unit_test_setup_teardown(map_forced_4096_on_a_512_map_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(luo_subtree_proves_4096, setup, teardown),
		cmocka_unit_test(abi_table_matches_stringlists),
		cmocka_unit_test_setup_teardown(open_v4_reads_preserved_data_and_blob_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(scratch_array_is_read_whole, setup, teardown),
		cmocka_unit_test(sort_merge_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
