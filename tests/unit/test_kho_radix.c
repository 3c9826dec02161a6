/* test_kho_radix.c - the kho-v2+ radix-tree map: keys as upstream encodes them (checked against
 * indices worked out by hand), every order and addresses above 4 GiB, and each hostile shape. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include "helpers/blob_helpers.h"

#define RAM_BASE	0x40000000ull
#define RAM_SIZE	(4ull << 20)
#define NODES		(RAM_BASE + 0x100000)	/* node pages from here */

static struct blob_helpers_ram ram;
static struct kho_range rr[64], mm[64];
static unsigned int nnodes;

static int setup(void **state)
{
	(void)state;
	blob_helpers_ram_init(&ram, RAM_BASE, RAM_SIZE);
	nnodes = 1;	/* the root at NODES */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	blob_helpers_ram_free(&ram);
	return 0;
}

static uint64_t node(unsigned int i)
{
	return NODES + (uint64_t)i * 4096;
}

static void set64(uint64_t phys, unsigned int idx, uint64_t v)
{
	memcpy(blob_helpers_at(&ram, phys) + 8u * idx, &v, 8);
}

static uint64_t get64(uint64_t phys, unsigned int idx)
{
	uint64_t v;

	memcpy(&v, blob_helpers_at(&ram, phys) + 8u * idx, 8);
	return v;
}

/* Mark (pa, order) the way kho_radix_add_page does: new node pages on
 * first use, bit key % 32768 of the leaf. */
static void mark(uint64_t pa, unsigned int order)
{
	uint64_t key = kho_radix_key(pa, order), p = node(0);
	unsigned int level, idx;

	for (level = 5; level >= 1; level--) {
		idx = (unsigned int)(key >> ((level - 1) * 9 + 15)) & 511;
		if (!get64(p, idx))
			set64(p, idx, node(nnodes++));
		p = get64(p, idx);
	}
	blob_helpers_at(&ram, p)[(key & 0x7fff) / 8] |= (uint8_t)(1u << (key & 7));
}

static int read_map(struct kho_map *m)
{
	return kho_map_read(&ram.pm, &kho_abis[3], node(0), 0, rr, 64, mm, 64, m);
}

/* Indices worked out by hand from the upstream header's table: order 0
 * sets bit 52, level L takes key bits [(L-1)*9 + 15, +9). */
static void key_encoding_matches_hand_computed_indices(void **state)
{
	struct kho_map m;
	uint64_t pa, l4, l3, l2, l1, leaf;
	unsigned int order;

	(void)state;
	assert_int_equal(kho_radix_key(0x40000000, 0), 0x0010000000040000ull);
	assert_int_equal(kho_radix_key(0x40200000, 9), 0x0000080000000201ull);
	assert_int_equal(kho_radix_key(0x800000000ull, 0), 0x0010000000800000ull);
	/* pa 0x40000000, order 0: level 5 index 2 (bit 52 = bit 1 of
	 * [51,60)), levels 4..2 index 0, level 1 index 8, leaf bit 0. */
	l4 = node(1), l3 = node(2), l2 = node(3), l1 = node(4), leaf = node(5);
	set64(node(0), 2, l4);
	set64(l4, 0, l3);
	set64(l3, 0, l2);
	set64(l2, 0, l1);
	set64(l1, 8, leaf);
	blob_helpers_at(&ram, leaf)[0] = 1;
	assert_int_equal(read_map(&m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(rr[0].start, 0x40000000);
	assert_int_equal(rr[0].end, 0x40001000);
	assert_int_equal(m.nodes, 6);
	assert_int_equal(m.bitmaps, 1);
	assert_int_equal(m.nmeta, 1);	/* six adjacent pages, merged */
	assert_int_equal(mm[0].start, node(0));
	assert_int_equal(mm[0].end, node(6));
	assert_int_equal(kho_radix_decode(0x0010000000040000ull, &pa, &order), 0);
	assert_int_equal(pa, 0x40000000);
	assert_int_equal(order, 0);
	assert_int_equal(kho_radix_decode(0x0000080000000201ull, &pa, &order), 0);
	assert_int_equal(pa, 0x40200000);
	assert_int_equal(order, 9);
	assert_int_equal(kho_radix_decode(0, &pa, &order), -PCSC_ERANGE);
	assert_int_equal(kho_radix_decode(1, &pa, &order), -PCSC_ERANGE);	/* order 52 */
}

static void every_order_and_high_addresses_round_trip(void **state)
{
	static const struct { uint64_t pa; unsigned int order; } f[] = {
		{ 0x40000000, 0 }, { 0x40002000, 1 }, { 0x40200000, 9 },
		{ 0x880000000ull, 0 }, { 0x1000000000ull, 18 }, { 0x40000000000ull, 30 },
		{ 0xfff0000000000ull, 0 },
	};
	struct kho_map m;
	unsigned int i, order;
	uint64_t pa;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		mark(f[i].pa, f[i].order);
		assert_int_equal(kho_radix_decode(kho_radix_key(f[i].pa, f[i].order), &pa, &order), 0);
		assert_int_equal(pa, f[i].pa);
		assert_int_equal(order, f[i].order);
	}
	assert_int_equal(read_map(&m), 0);
	assert_int_equal(m.folios, sizeof(f) / sizeof(f[0]));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		uint64_t len = 4096ull << f[i].order;

		assert_true(kho_is_preserved(&m, f[i].pa, len));
		assert_true(kho_radix_is_preserved(&ram.pm, node(0), f[i].pa, len));
		assert_false(kho_is_preserved(&m, f[i].pa + len, 4096));
		assert_false(kho_radix_is_preserved(&ram.pm, node(0), f[i].pa + len, 4096));
	}
	/* Two orders side by side answer one question spanning both. */
	assert_true(kho_radix_is_preserved(&ram.pm, node(0), 0x40000000, 0x1000));
	assert_false(kho_radix_is_preserved(&ram.pm, node(0), 0x40000000, 0x2000));
	assert_true(kho_radix_is_preserved(&ram.pm, node(0), 0x40002000, 0x2000));
	assert_false(kho_radix_is_preserved(&ram.pm, 0, 0x40000000, 0x1000));
}

/* The writer (cache_gen) and the reader agree on a real layout, and the
 * per-entry lookup agrees with the range copy page by page. */
static void writer_reader_and_lookup_agree(void **state)
{
	struct kho_range in[2] = { { 0x40300000, 0x40305000 }, { 0x2000000000ull, 0x2000400000ull } };
	static uint8_t buf[64 * 4096];
	struct blob_helpers_ram r2;
	struct kho_map m;
	uint64_t first, a;
	size_t used;

	(void)state;
	blob_helpers_ram_init(&r2, RAM_BASE, RAM_SIZE);
	assert_int_equal(cache_gen_kho_map(buf, sizeof(buf), NODES, in, 2, &kho_abis[1], 0, &first,
					   &used), 0);
	assert_int_equal(first, NODES);
	memcpy(blob_helpers_at(&r2, NODES), buf, used);
	assert_int_equal(kho_map_read(&r2.pm, &kho_abis[1], first, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(rr[0].start, in[0].start);
	assert_int_equal(rr[0].end, in[0].end);
	assert_int_equal(rr[1].start, in[1].start);
	assert_int_equal(rr[1].end, in[1].end);
	assert_int_equal(m.folios, 3);	/* orders 2 + 0, then one order-10 folio */
	for (a = 0x402fe000; a < 0x40307000; a += 0x1000)
		assert_int_equal(kho_radix_is_preserved(&r2.pm, first, a, 0x1000),
				 kho_is_preserved(&m, a, 0x1000));
	assert_true(kho_radix_is_preserved(&r2.pm, first, 0x40300000, 0x5000));
	blob_helpers_ram_free(&r2);
}

static void empty_map_is_no_ranges(void **state)
{
	struct kho_map m;

	(void)state;
	assert_int_equal(kho_map_read(&ram.pm, &kho_abis[1], 0, 0, rr, 64, mm, 64, &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(read_map(&m), 0);	/* a root with no entries */
	assert_int_equal(m.nodes, 1);
	assert_int_equal(m.n, 0);
}

static void node_reached_twice_is_a_loop(void **state)
{
	struct kho_map m;

	(void)state;
	mark(0x40000000, 0);
	/* Level 4 points back at the root: read again one level down. */
	set64(node(1), 5, node(0));
	assert_int_equal(read_map(&m), -PCSC_ELOOP);
	assert_string_equal(m.msg, "KHO radix node 0x40100000 reached twice");
}

static void shared_subtree_is_rejected(void **state)
{
	struct kho_map m;

	(void)state;
	mark(0x40000000, 0);
	/* A second level-5 slot shares the first one's level-4 table. */
	set64(node(0), 3, get64(node(0), 2));
	assert_int_equal(read_map(&m), -PCSC_ELOOP);
}

static void pointers_outside_ram_or_unaligned_are_rejected(void **state)
{
	struct kho_map m;

	(void)state;
	mark(0x40000000, 0);
	set64(node(2), 1, 0x1000);	/* below RAM */
	assert_int_equal(read_map(&m), -PCSC_ENOTRAM);
	assert_string_equal(m.msg, "KHO radix node 0x1000 not in RAM");
	set64(node(2), 1, node(40) + 8);
	assert_int_equal(read_map(&m), -PCSC_EALIGN);
	assert_string_equal(m.msg, "KHO radix node 0x40128008 not page aligned");
	set64(node(2), 1, RAM_BASE + RAM_SIZE);	/* first page past RAM */
	assert_int_equal(read_map(&m), -PCSC_ENOTRAM);
	assert_int_equal(kho_map_read(&ram.pm, &kho_abis[1], node(0) + 16, 0, rr, 64, mm, 64, &m),
			 -PCSC_EALIGN);
}

/* The node budget bounds a hostile tree's cost: tables whose 512 slots all
 * point at the next table reach 512^4 leaves (each node page reached many
 * times); the walk stops at KHO_MAX_RADIX_NODES pages, before any
 * disjointness check could run. */
static void node_budget_bounds_the_walk(void **state)
{
	struct kho_range *big = calloc(KHO_MAX_RADIX_NODES + 64, sizeof(*big));
	struct kho_map m;
	unsigned int i, k;

	(void)state;
	assert_non_null(big);
	set64(node(0), 2, node(1));	/* order-0 keys: a valid path */
	for (i = 1; i < 5; i++)
		for (k = 0; k < 512; k++)
			set64(node(i), k, node(i + 1));
	assert_int_equal(kho_map_read(&ram.pm, &kho_abis[1], node(0), 0, rr, 64, big,
				      KHO_MAX_RADIX_NODES + 64, &m), -PCSC_ERANGE);
	assert_string_equal(m.msg, "KHO radix tree has more than 16384 nodes");
	assert_int_equal(m.nodes, KHO_MAX_RADIX_NODES);
	free(big);
}

/* A leaf whose path gives no order bit <= KHO_MAX_ORDER (here: all of
 * levels 5..1 at index 0, so the key is only the leaf bits). */
static void leaf_without_a_valid_order_is_rejected(void **state)
{
	struct kho_map m;
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++)
		set64(node(i), 0, node(i + 1));
	blob_helpers_at(&ram, node(5))[0] = 1;
	assert_int_equal(read_map(&m), -PCSC_ERANGE);
	assert_string_equal(m.msg, "KHO radix leaf at key 0x0 has no order <= 30");
}

static void full_arrays_are_enospc(void **state)
{
	struct kho_map m;

	(void)state;
	mark(0x40000000, 0);
	assert_int_equal(kho_map_read(&ram.pm, &kho_abis[1], node(0), 0, rr, 0, mm, 64, &m),
			 -PCSC_ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_encoding_matches_hand_computed_indices, setup,
						teardown),
		cmocka_unit_test_setup_teardown(every_order_and_high_addresses_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(writer_reader_and_lookup_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_map_is_no_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(node_reached_twice_is_a_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_subtree_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(pointers_outside_ram_or_unaligned_are_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(node_budget_bounds_the_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(leaf_without_a_valid_order_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(full_arrays_are_enospc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
