/* test_handover.c - patching removes exactly the non-kept nodes, stays pcsc-v1 inside its
 * pages, writes version/mode/counts/sha256 (or none when out of room); detach NOPs the child. */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/sha256.h>
#include "helpers/blob_helpers.h"

#define RAM_BASE 0x40000000ull

static struct blob_helpers_ram ram;
static struct cache_gen_layout lo;
static struct pcsc_entry ents[8];
static struct pcsc_index idx;
static uint64_t scratch[8];
static struct verify_counts counts;

static int setup(void **state)
{
	static uint8_t cfg[4][256];
	struct cache_gen_dev d[4];
	unsigned int i;

	(void)state;
	blob_helpers_ram_init(&ram, RAM_BASE, 2 << 20);
	for (i = 0; i < 4; i++) {
		blob_helpers_cfg(cfg[i], 0x8086, (uint16_t)(0x1000 + i), 0x020000, 0);
		d[i] = (struct cache_gen_dev){ PCI_SBDF(0, i + 1, 0), cfg[i], 256 };
	}
	memset(&lo, 0, sizeof(lo));
	lo.base = RAM_BASE + 0x10000;
	lo.S = 256;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 4, &lo), 0);
	assert_int_equal(pcsc_index_build(blob_helpers_at(&ram, lo.pcsc_fdt), ents, 8, &idx), 0);
	for (i = 0; i < 4; i++)
		ents[i].verdict = PCSC_VALID;
	memset(&counts, 0, sizeof(counts));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	blob_helpers_ram_free(&ram);
	return 0;
}

/* The digest stream of one entry built by hand from what cache_gen wrote
 * (blob_helpers_cfg: cachable = cached = bytes 0x00-0x03, 0x08-0x34 and
 * the capability header at 0x40-0x41), not by the code under test. */
static size_t hand_stream(uint8_t *o, pci_sbdf_t sbdf, uint64_t da, const uint8_t *cfg)
{
	const uint64_t w0 = 0xfull | (((1ull << 45) - 1) << 8), w1 = 0x3;
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < 4; i++)
		o[n++] = (uint8_t)(sbdf >> (8 * i));
	for (i = 0; i < 8; i++)
		o[n++] = (uint8_t)(da >> (8 * i));
	o[n++] = 0, o[n++] = 1;			/* word 0, cached == cachable */
	for (i = 0; i < 8; i++)
		o[n++] = (uint8_t)(w0 >> (8 * i));
	for (i = 0; i < 4; i++)
		o[n++] = cfg[i];
	for (i = 8; i <= 0x34; i++)
		o[n++] = cfg[i];
	o[n++] = 1, o[n++] = 1;			/* word 1 */
	for (i = 0; i < 8; i++)
		o[n++] = (uint8_t)(w1 >> (8 * i));
	o[n++] = cfg[0x40];
	o[n++] = cfg[0x41];
	o[n++] = 0xff;
	return n;
}

static void digest_covers_what_the_next_kernel_takes(void **state)
{
	static const unsigned int kept_i[3] = { 0, 2, 3 };
	uint8_t want[32], got[32], stream[3 * 128];
	size_t n = 0;
	unsigned int k;

	(void)state;
	ents[1].verdict = PCSC_STALE;
	ents[3].verdict = PCSC_UNJUDGED;	/* kept: not judged is not removed */
	for (k = 0; k < 3; k++)
		n += hand_stream(stream + n, ents[kept_i[k]].sbdf, lo.data + kept_i[k] * 4096ull,
				 blob_helpers_at(&ram, lo.data + kept_i[k] * 4096ull));
	assert_int_equal(n, 3 * (4 + 8 + 10 + 49 + 10 + 2 + 1));
	sha256(stream, n, want);
	assert_int_equal(handover_digest(&idx, &ram.pm, 256, got), 0);
	assert_memory_equal(got, want, 32);
	/* A byte outside the cached set does not change it; a cached one,
	 * a cachable bit, or a da does. */
	blob_helpers_at(&ram, lo.data)[0x80] ^= 1;
	assert_int_equal(handover_digest(&idx, &ram.pm, 256, got), 0);
	assert_memory_equal(got, want, 32);
	blob_helpers_at(&ram, lo.data)[0x10] ^= 1;
	assert_int_equal(handover_digest(&idx, &ram.pm, 256, got), 0);
	assert_memory_not_equal(got, want, 32);
	blob_helpers_at(&ram, lo.data)[0x10] ^= 1;
	/* A cachable bit without its cached bit: the flag goes to 0 and the
	 * cached word follows; computed by hand again. */
	blob_helpers_at(&ram, lo.data + PCSC_DATA_CACHABLE(256) + 20)[0] ^= 0x80;
	assert_int_equal(handover_digest(&idx, &ram.pm, 256, got), 0);
	assert_memory_not_equal(got, want, 32);
	{
		uint8_t s2[3 * 128];
		size_t m = hand_stream(s2, ents[0].sbdf, lo.data, blob_helpers_at(&ram, lo.data));
		size_t k2, tail = n - m;	/* entries 2 and 3 unchanged */
		uint64_t w2 = 0x80ull << 32;	/* cachable bit 0x80 + 0x20*8: word 2 */

		/* Word 2 (bytes 0x80-0xbf) now has a cachable bit and no cached:
		 * insert its record before the entry's end byte. */
		m--;
		s2[m++] = 2, s2[m++] = 0;
		for (k2 = 0; k2 < 8; k2++)
			s2[m++] = (uint8_t)(w2 >> (8 * k2));
		for (k2 = 0; k2 < 8; k2++)
			s2[m++] = 0;
		s2[m++] = 0xff;
		memcpy(s2 + m, stream + (n - tail), tail);
		sha256(s2, m + tail, want);
		assert_memory_equal(got, want, 32);
	}
	assert_int_equal(handover_digest(&idx, &ram.pm, 100, got), -PCSC_EINVAL);
	ents[0].da = 0x1000;
	assert_int_equal(handover_digest(&idx, &ram.pm, 256, got), -PCSC_ENOTRAM);
}

/* A hostile block whose words fill the digest buffer to its last byte
 * before the entry's end byte (found by review): the stream is still the
 * hand-computed one and nothing is written past the buffer (ASan). */
static void digest_of_a_block_filling_the_buffer(void **state)
{
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	uint8_t *able = mem + 4096, *ed = mem + 4096 + 512, got[32], want[32], s[600];
	struct pcsc_entry e = { .sbdf = 0x100, .da = 0, .verdict = PCSC_VALID };
	struct pcsc_index i2 = { .e = &e, .n = 1, .cap = 1 };
	struct blob_helpers_ram r2;
	uint64_t b = (1ull << 38) - 1;
	size_t n = 0, k;
	unsigned int w;

	(void)state;
	blob_helpers_ram_init(&r2, 0, sizeof(mem));
	for (w = 0; w < 5; w++) {
		memset(able + 8 * w, 0xff, 8);
		memset(ed + 8 * w, 0xff, 8);
	}
	memcpy(able + 40, &b, 8);
	memcpy(ed + 40, &b, 8);
	memset(ed + 48, 0xff, 8);	/* cached without cachable: 18-byte record */
	for (k = 0; k < 4096; k++)
		mem[k] = (uint8_t)(k * 7);
	memcpy(r2.mem, mem, sizeof(mem));
	/* By hand: sbdf, da, words 0-4 (flag 1), word 5 (38 bits), word 6. */
	memset(s, 0, sizeof(s));
	s[0] = 0x00, s[1] = 0x01;
	n = 12;
	for (w = 0; w < 7; w++) {
		uint64_t a, d, bits;

		memcpy(&a, able + 8 * w, 8);
		memcpy(&d, ed + 8 * w, 8);
		s[n++] = (uint8_t)w;
		s[n++] = a == d;
		for (k = 0; k < 8; k++)
			s[n++] = (uint8_t)(a >> (8 * k));
		if (a != d)
			for (k = 0; k < 8; k++)
				s[n++] = (uint8_t)(d >> (8 * k));
		for (bits = d, k = 0; k < 64; k++)
			if (bits >> k & 1)
				s[n++] = mem[64 * w + k];
	}
	s[n++] = 0xff;
	sha256(s, n, want);
	assert_int_equal(handover_digest(&i2, &r2.pm, 4096, got), 0);
	assert_memory_equal(got, want, 32);
	blob_helpers_ram_free(&r2);
}

/* A root whose totalsize runs past what can be mapped (fuzz finding F2):
 * what RAM holds is scanned, the pcsc child renamed, and the root's magic
 * zeroed so no kernel reads past the scan. An offset that wraps (F3) scans
 * nothing and reads nothing out of bounds (ASan). */
static void detach_of_a_root_mapped_in_part(void **state)
{
	uint8_t *k = blob_helpers_at(&ram, lo.kho_fdt);
	struct kho_info ki;

	(void)state;
	fdt_set_totalsize(k, 2u << 20);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_true(ki.truncated);
	assert_false(ki.checked);
	assert_non_null(ki.fdt);
	assert_int_equal(handover_detach(&ki, &ram.pm), 2);	/* renamed + invalidated */
	assert_non_null(memmem(k, 4096, "pcs-", 5));
	assert_int_equal(fdt_magic(k), 0);
	/* F3: off_dt_struct near 2^32 in a root libfdt refuses. */
	memset(k, 0, 64);
	fdt_set_magic(k, FDT_MAGIC);
	fdt_set_totalsize(k, 64);
	fdt_set_off_dt_struct(k, 0xfffffffcu);
	fdt_set_version(k, 17);
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_int_equal(handover_detach(&ki, &ram.pm), 0);
}

static void patch_removes_and_adds_properties(void **state)
{
	uint8_t *fdt = blob_helpers_at(&ram, lo.pcsc_fdt);
	struct handover_result r;
	struct pcsc_entry e2[8];
	struct pcsc_index i2;
	uint8_t again[32];
	const uint32_t *cnt;
	const char *p;
	int len;

	(void)state;
	ents[1].verdict = PCSC_STALE;
	ents[1].reason = PCSC_R_DEVICE;
	ents[2].verdict = PCSC_BAD;
	ents[2].reason = PCSC_R_DA_ALIGN;
	counts.v[PCSC_VALID] = 2;
	counts.v[PCSC_STALE] = 1;
	counts.v[PCSC_BAD] = 1;
	counts.v[PCSC_NEW] = 7;
	assert_int_equal(handover_patch(fdt, 4096, &idx, &ram.pm, 256, "9.9", PCSC_MODE_STRICT,
					&counts, scratch, 8, &r), 0);
	assert_int_equal(r.removed, 2);
	assert_true(r.props_added);
	assert_string_equal(r.msg, "");
	assert_int_equal(r.size_after, fdt_totalsize(fdt));
	assert_true(r.size_after <= 4096);
	assert_int_equal(fdt_check_full(fdt, 4096), 0);
	assert_int_equal(fdt_node_check_compatible(fdt, 0, "pcsc-v1"), 0);
	assert_true(fdt_subnode_offset(fdt, 0, "dev_0000_01_00_0") > 0);
	assert_int_equal(fdt_subnode_offset(fdt, 0, "dev_0000_02_00_0"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_subnode_offset(fdt, 0, "dev_0000_03_00_0"), -FDT_ERR_NOTFOUND);
	assert_true(fdt_subnode_offset(fdt, 0, "dev_0000_04_00_0") > 0);
	p = fdt_getprop(fdt, 0, "stub-version", &len);
	assert_string_equal(p, "9.9");
	assert_string_equal(fdt_getprop(fdt, 0, "stub-mode", NULL), "strict");
	cnt = fdt_getprop(fdt, 0, "stub-counts", &len);
	assert_int_equal(len, 20);
	assert_int_equal(cnt[0], 2);
	assert_int_equal(cnt[1], 1);
	assert_int_equal(cnt[2], 0);
	assert_int_equal(cnt[3], 1);
	assert_int_equal(cnt[4], 7);
	assert_memory_equal(fdt_getprop(fdt, 0, "sha256", &len), r.sha256, 32);
	assert_int_equal(len, 32);
	/* The removed entries travel with the cache, byte for byte. */
	{
		const uint8_t *rm = fdt_getprop(fdt, 0, "stub-removed", &len);
		uint8_t want[16] = { 0 };
		uint32_t s1 = PCI_SBDF(0, 2, 0), s2 = PCI_SBDF(0, 3, 0);

		memcpy(want, &s1, 4);
		want[4] = PCSC_STALE;
		want[5] = PCSC_R_DEVICE;
		memcpy(want + 8, &s2, 4);
		want[12] = PCSC_BAD;
		want[13] = PCSC_R_DA_ALIGN;
		assert_int_equal(len, 16);
		assert_memory_equal(rm, want, 16);
	}
	/* The next kernel (or pcsctool verify) recomputes the same digest. */
	assert_int_equal(pcsc_index_build(fdt, e2, 8, &i2), 0);
	assert_int_equal(i2.n, 2);
	assert_int_equal(handover_digest(&i2, &ram.pm, 256, again), 0);
	assert_memory_equal(again, r.sha256, 32);
}

static void patch_without_room_keeps_removals(void **state)
{
	uint8_t *fdt = blob_helpers_at(&ram, lo.pcsc_fdt);
	struct handover_result r;
	static uint8_t pad[4096];
	uint32_t total;
	int L, tries;

	(void)state;
	/* Fill the pcsc FDT to exactly one page with an extra root property. */
	L = 4096 - (int)fdt_totalsize(fdt) - 64;
	for (tries = 0; tries < 64; tries++) {
		assert_int_equal(fdt_open_into(fdt, fdt, 4096), 0);
		if (fdt_setprop(fdt, 0, "pad", pad, L)) {
			L -= 1;
			continue;
		}
		assert_int_equal(fdt_pack(fdt), 0);
		total = fdt_totalsize(fdt);
		if (total == 4096)
			break;
		L += 1;
	}
	assert_int_equal(fdt_totalsize(fdt), 4096);
	assert_int_equal(handover_patch(fdt, 4096, &idx, &ram.pm, 256, "9.9", PCSC_MODE_QUICK,
					&counts, scratch, 8, &r), 0);
	assert_int_equal(r.removed, 0);
	assert_false(r.props_added);
	assert_string_equal(r.msg, "no room for handover properties in 4096 bytes (FDT_ERR_NOSPACE)");
	assert_null(fdt_getprop(fdt, 0, "stub-version", NULL));
	assert_null(fdt_getprop(fdt, 0, "stub-mode", NULL));
	assert_int_equal(fdt_check_full(fdt, 4096), 0);
	/* Removing one node frees 4 + 20 + 4 + 16 = 44 bytes: not enough either,
	 * but the removal itself stays. */
	assert_int_equal(pcsc_index_build(fdt, ents, 8, &idx), 0);
	ents[0].verdict = PCSC_GONE;
	ents[1].verdict = ents[2].verdict = ents[3].verdict = PCSC_VALID;
	assert_int_equal(handover_patch(fdt, 4096, &idx, &ram.pm, 256, "9.9", PCSC_MODE_QUICK,
					&counts, scratch, 8, &r), 0);
	assert_int_equal(r.removed, 1);
	assert_false(r.props_added);
	assert_int_equal(fdt_subnode_offset(fdt, 0, "dev_0000_01_00_0"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_check_full(fdt, 4096), 0);
}

static void patch_scratch_too_small(void **state)
{
	struct handover_result r;

	(void)state;
	ents[0].verdict = ents[1].verdict = PCSC_GONE;
	assert_int_equal(handover_patch(blob_helpers_at(&ram, lo.pcsc_fdt), 4096, &idx, &ram.pm, 256,
					NULL, PCSC_MODE_QUICK, &counts, scratch, 1, &r), -PCSC_ENOSPC);
}

static void detach_nops_the_pcsc_child(void **state)
{
	uint8_t *k = blob_helpers_at(&ram, lo.kho_fdt);
	struct kho_info ki;

	(void)state;
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	assert_int_equal(handover_detach(&ki, &ram.pm), 1);
	assert_int_equal(fdt_subnode_offset(k, 0, "pcsc"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_check_full(k, 4096), 0);
	assert_int_equal(fdt_node_check_compatible(k, 0, "kho-v1"), 0);
	/* Nothing left to detach; nothing mapped to edit. */
	assert_int_equal(handover_detach(&ki, &ram.pm), 0);
	ki.fdt = NULL;
	assert_int_equal(handover_detach(&ki, &ram.pm), -PCSC_EINVAL);
}

static unsigned int unplugs;

static int count_unplug(void *ctx)
{
	unplugs++;
	return *(int *)ctx;
}

/* Detach what is mapped; unplug only what could not surely be detached
 * (nothing mapped), and only through a hook that succeeds. */
static void fail_closed_detaches_or_unplugs(void **state)
{
	struct kho_info ki;
	int ok = 0, refused = -PCSC_ENOTFOUND;

	(void)state;
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), 0);
	unplugs = 0;
	assert_int_equal(handover_fail_closed(&ki, &ram.pm, count_unplug, &ok),
			 HANDOVER_CLOSED_DETACHED);
	assert_int_equal(unplugs, 0);
	/* already detached: nothing there, nothing unplugged */
	assert_int_equal(handover_fail_closed(&ki, &ram.pm, count_unplug, &ok),
			 HANDOVER_CLOSED_NONE);
	assert_int_equal(unplugs, 0);
	ki.fdt = NULL;
	assert_int_equal(handover_fail_closed(&ki, &ram.pm, count_unplug, &ok),
			 HANDOVER_CLOSED_UNPLUGGED);
	assert_int_equal(unplugs, 1);
	assert_int_equal(handover_fail_closed(&ki, &ram.pm, count_unplug, &refused),
			 HANDOVER_CLOSED_NONE);
	assert_int_equal(unplugs, 2);
	assert_int_equal(handover_fail_closed(&ki, &ram.pm, NULL, NULL), HANDOVER_CLOSED_NONE);
}

/* A root libfdt rejects (a property running past the structure block)
 * still has its pcsc child made unreadable: renamed in place, nothing else
 * moved, and the scan stops where the structure breaks. */
static void detach_renames_pcsc_in_a_root_libfdt_rejects(void **state)
{
	uint8_t *k = blob_helpers_at(&ram, lo.kho_fdt), before[4096];
	uint32_t off = fdt_off_dt_struct(k), size = fdt_size_dt_struct(k), i, diff = 0;
	struct kho_info ki;
	uint8_t *name;

	(void)state;
	/* Break the END token of the root: fdt_check_full now fails. */
	k[off + size - 1] = 0x7f;
	memcpy(before, k, sizeof(before));
	assert_int_equal(kho_open(&ram.pm, lo.kho_fdt, 0, &ki), -PCSC_EBADFDT);
	assert_false(ki.checked);
	assert_non_null(ki.fdt);
	assert_int_equal(handover_detach(&ki, &ram.pm), 1);
	name = memmem(k + off, size, "pcs-", 5);
	assert_non_null(name);
	for (i = 0; i < sizeof(before); i++)
		diff += before[i] != k[i];
	assert_int_equal(diff, 1);
	/* A second pass finds nothing more to rename. */
	assert_int_equal(handover_detach(&ki, &ram.pm), 0);
}

static uint64_t wrote_at, wrote_len;

static void note_wrote(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	wrote_at = phys;
	wrote_len = len;
}

/* A checked root whose second pcsc child breaks inside (as if the bytes
 * changed after the check): the first child is blanked, the failure is
 * returned, and what was blanked is still reported as written. */
static void detach_reports_what_it_blanked_before_a_failure(void **state)
{
	static uint8_t k[512] __attribute__((aligned(8)));
	struct physmem pm = { .wrote = note_wrote };
	struct kho_info ki = { .fdt_phys = 0x1000, .fdt = k, .fdt_size = sizeof(k),
			       .checked = true };
	int first, bad;

	(void)state;
	assert_int_equal(fdt_create(k, sizeof(k)), 0);
	assert_int_equal(fdt_finish_reservemap(k), 0);
	assert_int_equal(fdt_begin_node(k, ""), 0);
	assert_int_equal(fdt_begin_node(k, "pcsc@0"), 0);
	assert_int_equal(fdt_end_node(k), 0);
	assert_int_equal(fdt_begin_node(k, "pcsc@1"), 0);
	assert_int_equal(fdt_property_u32(k, "x", 1), 0);
	assert_int_equal(fdt_end_node(k), 0);
	assert_int_equal(fdt_end_node(k), 0);
	assert_int_equal(fdt_finish(k), 0);
	ki.fdt_size = fdt_totalsize(k);
	first = fdt_subnode_offset(k, 0, "pcsc@0");
	assert_true(first > 0);
	/* pcsc@1's property now claims to run past the structure block. */
	bad = fdt_subnode_offset(k, 0, "pcsc@1");
	assert_true(bad > 0);
	*(uint32_t *)(k + fdt_off_dt_struct(k) + bad + 12) = cpu_to_fdt32(0x10000);
	wrote_len = 0;
	assert_int_equal(handover_detach(&ki, &pm), -PCSC_EBADFDT);
	assert_int_equal(fdt_next_tag(k, first, &bad), FDT_NOP);
	assert_int_equal(wrote_at, 0x1000);
	assert_int_equal(wrote_len, ki.fdt_size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(digest_covers_what_the_next_kernel_takes, setup, teardown),
		cmocka_unit_test(detach_reports_what_it_blanked_before_a_failure),
		cmocka_unit_test_setup_teardown(patch_removes_and_adds_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(patch_without_room_keeps_removals, setup, teardown),
		cmocka_unit_test_setup_teardown(patch_scratch_too_small, setup, teardown),
		cmocka_unit_test(digest_of_a_block_filling_the_buffer),
		cmocka_unit_test_setup_teardown(detach_of_a_root_mapped_in_part, setup, teardown),
		cmocka_unit_test_setup_teardown(detach_nops_the_pcsc_child, setup, teardown),
		cmocka_unit_test_setup_teardown(fail_closed_detaches_or_unplugs, setup, teardown),
		cmocka_unit_test_setup_teardown(detach_renames_pcsc_in_a_root_libfdt_rejects, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
