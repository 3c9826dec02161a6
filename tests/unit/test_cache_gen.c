/* test_cache_gen.c - cache_gen writes FDTs libfdt reads back, pcsc_data with the RFC's
 * bits, a preserved-memory map in the kernel's chunk format, and a whole laid-out image. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include "helpers/blob_helpers.h"

static uint64_t get64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void fdt_size_follows_the_rfc(void **state)
{
	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt_size(0), 4096);
	assert_int_equal(cache_gen_pcsc_fdt_size(60), 4096);	/* 60*64+256 = 4096 */
	assert_int_equal(cache_gen_pcsc_fdt_size(61), 8192);
	assert_int_equal(cache_gen_pcsc_fdt_size(4096), PCSC_PAGE_ALIGN(4096 * 64 + 256));
}

static void pcsc_fdt_nodes_in_given_order(void **state)
{
	static uint8_t buf[4096];
	const struct cache_gen_entry e[3] = {
		{ PCI_SBDF(0, 2, PCI_DEVFN(0, 0)), 0x40002000, NULL, 0 },
		{ PCI_SBDF(0, 1, PCI_DEVFN(0x1f, 7)), 0x40000000, NULL, 0 },
		{ 0, 0x1234, "dev_ZZZZ", 4 },
	};
	const char *name;
	const void *p;
	int node, len;

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(buf, sizeof(buf), NULL, e, 3), 0);
	assert_int_equal(fdt_check_full(buf, sizeof(buf)), 0);
	assert_int_equal(fdt_node_check_compatible(buf, 0, "pcsc-v1"), 0);
	node = fdt_first_subnode(buf, 0);
	name = fdt_get_name(buf, node, &len);
	assert_string_equal(name, "dev_0000_02_00_0");
	p = fdt_getprop(buf, node, "da", &len);
	assert_int_equal(len, 8);
	assert_int_equal(get64(p), 0x40002000);
	node = fdt_next_subnode(buf, node);
	assert_string_equal(fdt_get_name(buf, node, NULL), "dev_0000_01_1f_7");
	node = fdt_next_subnode(buf, node);
	assert_string_equal(fdt_get_name(buf, node, NULL), "dev_ZZZZ");
	p = fdt_getprop(buf, node, "da", &len);
	assert_int_equal(len, 4);
	assert_int_equal(get32(p), 0x1234);
	assert_int_equal(fdt_next_subnode(buf, node), -FDT_ERR_NOTFOUND);
}

static void pcsc_fdt_without_da_and_other_compatible(void **state)
{
	static uint8_t buf[1024];
	const struct cache_gen_entry e = { PCI_SBDF(1, 0, 0), 0, NULL, -1 };

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(buf, sizeof(buf), "pcsc-v2", &e, 1), 0);
	assert_int_equal(fdt_node_check_compatible(buf, 0, "pcsc-v2"), 0);
	assert_null(fdt_getprop(buf, fdt_first_subnode(buf, 0), "da", NULL));
	assert_string_equal(fdt_get_name(buf, fdt_first_subnode(buf, 0), NULL), "dev_0001_00_00_0");
}

static void pcsc_fdt_too_small_is_enospc(void **state)
{
	static uint8_t buf[100];
	const struct cache_gen_entry e = { 0, 0x1000, NULL, 0 };

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(buf, sizeof(buf), NULL, &e, 1), -PCSC_ENOSPC);
}

static void pcsc_data_sets_rfc_bits(void **state)
{
	static uint8_t blk[8192];
	uint8_t cfg[256];
	const uint8_t *cachable = blk + 4096, *cached = blk + 4096 + 512;

	(void)state;
	blob_helpers_cfg(cfg, 0x8086, 0x10d3, 0x020000, 0);
	cfg[0x41] = 0x50;	/* PCIe cap -> 0x50 */
	cfg[0x50] = 0x05;	/* MSI, last */
	memset(blk, 0xee, sizeof(blk));
	assert_int_equal(cache_gen_pcsc_data(blk, sizeof(blk), 4096, cfg, 256), 0);
	assert_memory_equal(blk, cfg, 256);
	assert_int_equal(blk[256], 0);
	assert_int_equal(blk[8191], 0);
	assert_int_equal(cachable[0], 0x0f);		/* 0x00-0x03 */
	assert_int_equal(cachable[1], 0xff);		/* 0x08-0x0f */
	assert_int_equal(cachable[6], 0x1f);		/* 0x30-0x34 */
	assert_int_equal(cachable[8], 0x03);		/* 0x40-0x41 */
	assert_int_equal(cachable[10], 0x03);		/* 0x50-0x51 */
	assert_int_equal(cachable[9], 0x00);
	assert_memory_equal(cached, cachable, 512);
}

static void pcsc_data_small_layout(void **state)
{
	static uint8_t blk[4096];
	uint8_t cfg[64] = { 0x34, 0x12, 0x78, 0x56 };

	(void)state;
	assert_int_equal(PCSC_DATA_SIZE(256), 320);
	assert_int_equal(PCSC_DATA_ALLOC(256), 4096);
	assert_int_equal(PCSC_DATA_SIZE(4096), 5120);
	assert_int_equal(PCSC_DATA_ALLOC(4096), 8192);
	assert_int_equal(cache_gen_pcsc_data(blk, sizeof(blk), 256, cfg, 64), 0);
	assert_int_equal(blk[256], 0x0f);		/* cachable at S */
	assert_int_equal(blk[256 + 32], 0x0f);		/* cached at S + S/8 */
	assert_int_equal(cache_gen_pcsc_data(blk, sizeof(blk), 512, cfg, 64), -PCSC_EINVAL);
	assert_int_equal(cache_gen_pcsc_data(blk, 4095, 256, cfg, 64), -PCSC_ENOSPC);
	assert_int_equal(cache_gen_pcsc_data(blk, sizeof(blk), 256, cfg, 257), -PCSC_EINVAL);
}

static void kho_map_splits_into_folios(void **state)
{
	static uint8_t buf[4 * 4096];
	const struct kho_range r = { 0x100000, 0x103000 };	/* order 1 + order 0 */
	uint64_t first = 0;
	size_t used = 0;
	const uint8_t *c0, *c1, *bm;

	(void)state;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x80000000, &r, 1, NULL, 0, &first, &used), 0);
	assert_int_equal(first, 0x80000000);
	assert_int_equal(used, 2 * 4096);
	c0 = buf;
	c1 = buf + 4096;
	assert_int_equal(get64(c0), 0x80001000);	/* next */
	assert_int_equal(get32(c0 + 8), 0);		/* order 0 */
	assert_int_equal(get32(c0 + 12), 1);
	assert_int_equal(get64(c0 + 16), 0);		/* block of pfn 0x102 starts at 0 */
	bm = buf + (get64(c0 + 24) - 0x80000000);
	assert_int_equal(bm[0x102 / 8], 1u << (0x102 % 8));
	assert_int_equal(get64(c1), 0);
	assert_int_equal(get32(c1 + 8), 1);
	assert_int_equal(get32(c1 + 12), 1);
	bm = buf + (get64(c1 + 24) - 0x80000000);
	assert_int_equal(bm[0x80 / 8], 1u << (0x80 % 8));	/* pfn 0x100 >> 1 */
}

static void kho_map_refuses_bad_input(void **state)
{
	static uint8_t buf[2 * 4096];
	struct kho_range r = { 0x100000, 0x101000 };
	uint64_t first;
	size_t used;

	(void)state;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x80000800, &r, 1, NULL, 0, &first, &used), -PCSC_EALIGN);
	r.end = 0x100800;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x80000000, &r, 1, NULL, 0, &first, &used), -PCSC_EALIGN);
	r.end = 0x100000;
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x80000000, &r, 1, NULL, 0, &first, &used), -PCSC_ERANGE);
	r.end = 0x101000;
	assert_int_equal(cache_gen_kho_map(buf, 4096, 0x80000000, &r, 1, NULL, 0, &first, &used), -PCSC_ENOSPC);
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), 0x80000000, &r, 0, NULL, 0, &first, &used), 0);
	assert_int_equal(first, 0);
	assert_int_equal(used, 0);
}

static void kho_fdt_has_map_and_pcsc_child(void **state)
{
	static uint8_t buf[4096];
	const void *p;
	int node, len;

	(void)state;
	assert_int_equal(cache_gen_kho_fdt(buf, sizeof(buf), NULL, NULL, 0x9000, 0xa000, 0), 0);
	assert_int_equal(fdt_check_full(buf, sizeof(buf)), 0);
	assert_int_equal(fdt_node_check_compatible(buf, 0, "kho-v1"), 0);
	p = fdt_getprop(buf, 0, "preserved-memory-map", &len);
	assert_int_equal(len, 8);
	assert_int_equal(get64(p), 0x9000);
	node = fdt_subnode_offset(buf, 0, "pcsc");
	assert_true(node > 0);
	p = fdt_getprop(buf, node, "fdt", &len);
	assert_int_equal(len, 8);
	assert_int_equal(get64(p), 0xa000);
	assert_int_equal(cache_gen_kho_fdt(buf, sizeof(buf), NULL, "kho-v9", 0x9000, 0, 0), 0);
	assert_int_equal(fdt_subnode_offset(buf, 0, "pcsc"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_node_check_compatible(buf, 0, "kho-v9"), 0);
}

static void build_lays_out_everything(void **state)
{
	struct blob_helpers_ram ram;
	struct cache_gen_layout lo = { .base = 0x40100000, .S = 4096 };
	struct cache_gen_dev d[2];
	uint8_t cfg[2][256];
	const uint8_t *fdt;
	int node, len;

	(void)state;
	blob_helpers_ram_init(&ram, 0x40000000, 4 << 20);
	blob_helpers_cfg(cfg[0], 0x8086, 0x10d3, 0x020000, 0);
	blob_helpers_cfg(cfg[1], 0x1af4, 0x1041, 0x020000, 0);
	d[0] = (struct cache_gen_dev){ PCI_SBDF(0, 1, 0), cfg[0], 256 };
	d[1] = (struct cache_gen_dev){ PCI_SBDF(0, 2, 0), cfg[1], 256 };
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 2, &lo), 0);
	assert_int_equal(lo.data, 0x40100000);
	assert_int_equal(lo.stride, 8192);
	assert_int_equal(lo.pcsc_fdt, 0x40104000);
	assert_int_equal(lo.pcsc_fdt_alloc, 4096);
	assert_int_equal(lo.map_area, 0x40105000);
	assert_int_equal(lo.map, 0x40105000);
	assert_int_equal(lo.map_area_size, 18 * 4096);	/* 16 + the root's chunk and bitmap */
	assert_int_equal(lo.kho_fdt, 0x40105000 + 18 * 4096);
	assert_int_equal(lo.end, lo.kho_fdt + 4096);
	assert_int_equal(blob_helpers_at(&ram, lo.data + 8192)[0], 0xf4);
	fdt = blob_helpers_at(&ram, lo.pcsc_fdt);
	assert_int_equal(fdt_check_full(fdt, 4096), 0);
	node = fdt_subnode_offset(fdt, 0, "dev_0000_02_00_0");
	assert_true(node > 0);
	assert_int_equal(get64(fdt_getprop(fdt, node, "da", &len)), lo.data + 8192);
	fdt = blob_helpers_at(&ram, lo.kho_fdt);
	assert_int_equal(get64(fdt_getprop(fdt, fdt_subnode_offset(fdt, 0, "pcsc"), "fdt", &len)),
			 lo.pcsc_fdt);
	lo.base = 0x40000000 + (4 << 20) - 4096;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 2, &lo), -PCSC_ENOSPC);
	lo.base = 0x40100800;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 2, &lo), -PCSC_EINVAL);
	blob_helpers_ram_free(&ram);
}

/* Each --kho layout of a 2-entry build at 0x40100000: the data blocks and
 * the pcsc FDT (pfn 0x40100-0x40104: order 2 at 0x40100, order 0 at
 * 0x40104) and the KHO root FDT's page (one order-0 folio, as upstream
 * preserves it: docs/abi.md fact 5). Every map byte hand-computed. */
static const uint8_t *at(const struct blob_helpers_ram *ram, uint64_t phys)
{
	return blob_helpers_at((struct blob_helpers_ram *)ram, phys);
}

/* Only the given bits set in the nbytes at phys. */
static void only_bits(const struct blob_helpers_ram *ram, uint64_t phys, size_t nbytes,
		      unsigned int b0, unsigned int b1)
{
	const uint8_t *bm = at(ram, phys);
	size_t i;

	for (i = 0; i < nbytes; i++) {
		uint8_t want = 0;

		if (i == b0 / 8)
			want |= (uint8_t)(1u << (b0 % 8));
		if (b1 != ~0u && i == b1 / 8)
			want |= (uint8_t)(1u << (b1 % 8));
		assert_int_equal(bm[i], want);
	}
}

static void build_preserves_the_kho_root_page_in_every_layout(void **state)
{
	static const char *const names[] = { "v1-512", "v1-4096", "v2", "v3", "v4" };
	struct blob_helpers_ram ram;
	struct cache_gen_dev d[2];
	uint8_t cfg[2][256];
	unsigned int i, k;

	(void)state;
	blob_helpers_cfg(cfg[0], 0x8086, 0x10d3, 0x020000, 0);
	blob_helpers_cfg(cfg[1], 0x1af4, 0x1041, 0x020000, 0);
	d[0] = (struct cache_gen_dev){ PCI_SBDF(0, 1, 0), cfg[0], 256 };
	d[1] = (struct cache_gen_dev){ PCI_SBDF(0, 2, 0), cfg[1], 256 };
	for (i = 0; i < 5; i++) {
		struct cache_gen_layout lo = { .base = 0x40100000, .S = 4096 };
		const uint8_t *c;

		blob_helpers_ram_init(&ram, 0x40000000, 4 << 20);
		assert_int_equal(kho_abi_by_name(names[i], &lo.abi, &lo.v1_bitmap), 0);
		assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 2, &lo), 0);
		assert_int_equal(lo.map_area, 0x40105000);
		assert_int_equal(lo.map, 0x40105000);
		if (i < 2) {
			/* kho-v1: 18 pages, root at pfn 0x40117. Bitmaps from
			 * the end, order 0 first; both orders' blocks start at
			 * 0x40000000 ((idx / bits * bits) << (order + 12)):
			 * order 0 bits 0x104 (0x40104) and 0x117 (the root),
			 * order 2 bit 0x40 (0x40100 >> 2 = 0x10040). */
			uint32_t bmb = i == 0 ? 512 : 4096;
			uint64_t bm0 = 0x40105000 + 18 * 4096 - bmb, bm2 = bm0 - bmb;

			assert_int_equal(lo.kho_fdt, 0x40117000);
			c = at(&ram, 0x40105000);
			assert_int_equal(get64(c), 0x40106000);		/* next */
			assert_int_equal(get32(c + 8), 0);			/* order */
			assert_int_equal(get32(c + 12), 1);			/* num_elms */
			assert_int_equal(get64(c + 16), 0x40000000);	/* phys_start */
			assert_int_equal(get64(c + 24), bm0);
			for (k = 32; k < 4096; k++)
				assert_int_equal(c[k], 0);
			c = at(&ram, 0x40106000);
			assert_int_equal(get64(c), 0);
			assert_int_equal(get32(c + 8), 2);
			assert_int_equal(get32(c + 12), 1);
			assert_int_equal(get64(c + 16), 0x40000000);
			assert_int_equal(get64(c + 24), bm2);
			for (k = 32; k < 4096; k++)
				assert_int_equal(c[k], 0);
			only_bits(&ram, bm0, bmb, 0x104, 0x117);
			only_bits(&ram, bm2, bmb, 0x40, ~0u);
		} else {
			/* Radix: 1 + 5 * 31 + 16 + 5 = 177 pages, root at pfn
			 * 0x401b6. Order 0 key
			 * 1 << 52 | pfn: table indices 2, 0, 0, 0, 8 (pfn >> 15),
			 * leaf bits 0x104 and 0x1b6; order 2 key 1 << 50 |
			 * 0x10040: indices 0, 256, 0, 0, 2, leaf bit 0x40.
			 * Node pages upwards in the order first used. */
			static const struct { uint64_t node; unsigned int idx; uint64_t child; } t[] = {
				{ 0x40105000, 2, 0x40106000 }, { 0x40106000, 0, 0x40107000 },
				{ 0x40107000, 0, 0x40108000 }, { 0x40108000, 0, 0x40109000 },
				{ 0x40109000, 8, 0x4010a000 },
				{ 0x40105000, 0, 0x4010b000 }, { 0x4010b000, 256, 0x4010c000 },
				{ 0x4010c000, 0, 0x4010d000 }, { 0x4010d000, 0, 0x4010e000 },
				{ 0x4010e000, 2, 0x4010f000 },
			};
			uint64_t p;

			assert_int_equal(lo.kho_fdt, 0x40105000 + 177 * 4096);
			assert_int_equal(lo.kho_fdt, 0x401b6000);
			/* Tables: every page below the last leaf but the first leaf. */
			for (p = 0x40105000; p < 0x4010f000; p += 4096) {
				if (p == 0x4010a000)
					continue;
				c = at(&ram, p);
				for (k = 0; k < 512; k++) {
					uint64_t want = 0;
					unsigned int j;

					for (j = 0; j < sizeof(t) / sizeof(t[0]); j++)
						if (t[j].node == p && t[j].idx == k)
							want = t[j].child;
					assert_int_equal(get64(c + 8 * k), want);
				}
			}
			only_bits(&ram, 0x4010a000, 4096, 0x104, 0x1b6);
			only_bits(&ram, 0x4010f000, 4096, 0x40, ~0u);
			only_bits(&ram, 0x40110000, 4096, ~0u, ~0u);	/* nothing past it */
		}
		blob_helpers_ram_free(&ram);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fdt_size_follows_the_rfc),
		cmocka_unit_test(pcsc_fdt_nodes_in_given_order),
		cmocka_unit_test(pcsc_fdt_without_da_and_other_compatible),
		cmocka_unit_test(pcsc_fdt_too_small_is_enospc),
		cmocka_unit_test(pcsc_data_sets_rfc_bits),
		cmocka_unit_test(pcsc_data_small_layout),
		cmocka_unit_test(kho_map_splits_into_folios),
		cmocka_unit_test(kho_map_refuses_bad_input),
		cmocka_unit_test(kho_fdt_has_map_and_pcsc_child),
		cmocka_unit_test(build_lays_out_everything),
		cmocka_unit_test(build_preserves_the_kho_root_page_in_every_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
