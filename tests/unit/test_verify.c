/* test_verify.c - entry checks give each `da` problem its exact reason; the merge gives
 * VALID/STALE/GONE/BAD/NEW per SPEC §3.1 in quick and strict mode, for S = 4096 and 256, VFs included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/verify.h>
#include "helpers/blob_helpers.h"
#include "helpers/sim_helpers.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (8ull << 20)
#define NDEV 11

/* Live side: a few functions with full config spaces. */
struct live {
	pci_sbdf_t sbdf;
	uint8_t cfg[4096];
};
static struct live live[NDEV];
static unsigned int nlive;

static int live_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	unsigned int i;

	(void)ctx;
	for (i = 0; i < nlive; i++) {
		if (live[i].sbdf == sbdf) {
			memcpy(val, live[i].cfg + reg, 4);
			return 0;
		}
	}
	*val = 0xffffffffu;
	return -PCSC_ENODEV;
}

static const struct pci_cfg_ops live_ops = { live_read32 };

static struct blob_helpers_ram ram;
static struct cache_gen_layout lo;
static struct kho_range rr[64], mm[64];
static struct kho_map kmap;
static struct pcsc_entry ents[32];
static struct pcsc_index idx;
static uint32_t walk_arena[PCI_WALK_ARENA(32) / 4];
static struct pci_walk walk;
static struct pci_cfg cfg;
static struct phys_ranges owned, meta;
static struct verify_env env;
static uint64_t scratch[32];

#define B(bus, dev, fn) PCI_SBDF(0, bus, PCI_DEVFN(dev, fn))

static void add_func(pci_sbdf_t s, uint16_t v, uint16_t d, uint32_t class_rev, uint8_t hdr,
		     uint8_t flags)
{
	sim_helpers_walk_func(&walk, s, v, d, class_rev, hdr, flags);
}

static struct live *add_live(pci_sbdf_t s, const uint8_t *c)
{
	struct live *l = &live[nlive++];

	l->sbdf = s;
	memset(l->cfg, 0, sizeof(l->cfg));
	memcpy(l->cfg, c, 256);
	return l;
}

/* Build the old kernel's cache for S, the live walk, and index + map. */
static void build(uint16_t S)
{
	static uint8_t c[NDEV][256];
	struct cache_gen_dev d[NDEV];
	unsigned int i;

	blob_helpers_cfg(c[0], 0x8086, 0x10d3, 0x020000, 0);	/* 01:00.0 VALID */
	blob_helpers_cfg(c[1], 0x1af4, 0x1041, 0x020000, 0);	/* 02:00.0 STALE device */
	blob_helpers_cfg(c[2], 0x1b36, 0x0001, 0x020000, 0);	/* 03:00.0 GONE */
	blob_helpers_cfg(c[3], 0x8086, 0x1572, 0x020000, 0);	/* 04:00.0 PF VALID */
	blob_helpers_cfg(c[4], 0x8086, 0x154c, 0x020000, 0);	/* 04:10.0 VF, PF identity */
	blob_helpers_cfg(c[5], 0xffff, 0xffff, 0x020000, 0);	/* 04:10.2 VF, IDs all ones */
	blob_helpers_cfg(c[6], 0xffff, 0xffff, 0x020000, 0);	/* 04:11.0 VF not enabled */
	blob_helpers_cfg(c[7], 0x8086, 0x10d3, 0x020000, 0);	/* 06:00.0 STALE class */
	blob_helpers_cfg(c[8], 0x8086, 0x10d3, 0x020000, 0);	/* 07:00.0 STALE hdr */
	blob_helpers_cfg(c[9], 0x8086, 0x10d3, 0x020000, 0);	/* 08:00.0 STALE vendor */
	blob_helpers_cfg(c[10], 0x15b3, 0x1017, 0x020000, 0);	/* 09:00.0 VALID */
	const pci_sbdf_t s[NDEV] = {
		B(1, 0, 0), B(2, 0, 0), B(3, 0, 0), B(4, 0, 0), B(4, 2, 0), B(4, 2, 2),
		B(4, 2, 3), B(6, 0, 0), B(7, 0, 0), B(8, 0, 0), B(9, 0, 0),
	};

	blob_helpers_ram_init(&ram, RAM_BASE, RAM_SIZE);
	for (i = 0; i < NDEV; i++)
		d[i] = (struct cache_gen_dev){ s[i], c[i], 256 };
	memset(&lo, 0, sizeof(lo));
	lo.base = RAM_BASE + 0x200000;
	lo.S = S;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, NDEV, &lo), 0);
	assert_int_equal(kho_map_read(&ram.pm, NULL, lo.map, 0, rr, 64, mm, 64, &kmap), 0);
	assert_int_equal(pcsc_index_build(blob_helpers_at(&ram, lo.pcsc_fdt), ents, 32, &idx), 0);

	/* The live machine. */
	nlive = 0;
	pci_walk_init(&walk, walk_arena, sizeof(walk_arena));
	add_func(B(0, 0x1c, 0), 0x8086, 0x2448, 0x06040000, 1, PCI_FUNC_BRIDGE);
	add_func(B(1, 0, 0), 0x8086, 0x10d3, 0x02000001, 0, 0);
	add_live(B(1, 0, 0), c[0]);
	add_func(B(2, 0, 0), 0x1af4, 0x1042, 0x02000001, 0, 0);
	add_func(B(4, 0, 0), 0x8086, 0x1572, 0x02000001, 0, PCI_FUNC_PF);
	/* Its VFs 04:02.0 and 04:02.2: stride 2, as the walk derives them. */
	sim_helpers_walk_vfs(&walk, 3, B(4, 2, 0), 2, 2, 0x154c);
	add_live(B(4, 0, 0), c[3]);
	add_live(B(4, 2, 0), c[5]);	/* a VF's ID registers read all ones */
	add_live(B(4, 2, 2), c[5]);
	add_func(B(5, 0, 0), 0x1234, 0x1111, 0x01080201, 0, 0);	/* NEW */
	add_func(B(6, 0, 0), 0x8086, 0x10d3, 0x01080201, 0, 0);
	add_func(B(7, 0, 0), 0x8086, 0x10d3, 0x02000001, 1, PCI_FUNC_BRIDGE);
	add_func(B(8, 0, 0), 0x10ec, 0x10d3, 0x02000001, 0, 0);
	add_func(B(9, 0, 0), 0x15b3, 0x1017, 0x02000001, 0, 0);
	add_live(B(9, 0, 0), c[10]);

	pci_cfg_init(&cfg, &live_ops, NULL, 4096);
	memset(&owned, 0, sizeof(owned));
	memset(&meta, 0, sizeof(meta));
	assert_int_equal(phys_ranges_add(&owned, RAM_BASE, 0x100000), 0);	/* the stub */
	assert_int_equal(phys_ranges_add(&meta, lo.pcsc_fdt, lo.pcsc_fdt_alloc), 0);
	assert_int_equal(phys_ranges_add(&meta, lo.kho_fdt, 4096), 0);
	memset(&env, 0, sizeof(env));
	env.pm = &ram.pm;
	env.owned = &owned;
	env.meta = &meta;
	env.kmap = &kmap;
	env.S = S;
	env.mode = PCSC_MODE_QUICK;
	env.cfg = &cfg;
}

static int teardown(void **state)
{
	(void)state;
	blob_helpers_ram_free(&ram);
	return 0;
}

static const struct pcsc_entry *entry(pci_sbdf_t s)
{
	const struct pcsc_entry *e = NULL;
	uint32_t i;

	for (i = 0; i < idx.n && !e; i++)
		if (idx.e[i].reason != PCSC_R_NAME && idx.e[i].sbdf == s)
			e = &idx.e[i];

	assert_non_null(e);
	return e;
}

static void expect(pci_sbdf_t s, unsigned int verdict, unsigned int reason)
{
	const struct pcsc_entry *e = entry(s);

	assert_string_equal(pcsc_verdict_str(e->verdict), pcsc_verdict_str(verdict));
	assert_string_equal(pcsc_reason_str(e->reason), pcsc_reason_str(reason));
}

static void run_all_verdicts(uint16_t S, enum pcsc_mode mode)
{
	struct verify_counts c;

	build(S);
	env.mode = mode;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 0);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	expect(B(1, 0, 0), PCSC_VALID, PCSC_R_NONE);
	expect(B(2, 0, 0), PCSC_STALE, PCSC_R_DEVICE);
	expect(B(3, 0, 0), PCSC_GONE, PCSC_R_ABSENT);
	expect(B(4, 0, 0), PCSC_VALID, PCSC_R_NONE);
	expect(B(4, 2, 0), PCSC_VALID, PCSC_R_NONE);
	expect(B(4, 2, 2), PCSC_VALID, PCSC_R_NONE);
	expect(B(4, 2, 3), PCSC_GONE, PCSC_R_VF_RANGE);
	expect(B(6, 0, 0), PCSC_STALE, PCSC_R_CLASS);
	expect(B(7, 0, 0), PCSC_STALE, PCSC_R_HDR);
	expect(B(8, 0, 0), PCSC_STALE, PCSC_R_VENDOR);
	expect(B(9, 0, 0), PCSC_VALID, PCSC_R_NONE);
	assert_int_equal(c.v[PCSC_VALID], 5);
	assert_int_equal(c.v[PCSC_STALE], 4);
	assert_int_equal(c.v[PCSC_GONE], 2);
	assert_int_equal(c.v[PCSC_BAD], 0);
	assert_int_equal(c.v[PCSC_NEW], 1);	/* 05:00.0; the bridge is not an endpoint */
	assert_int_equal(entry(B(2, 0, 0))->vendor, 0x1af4);
	assert_int_equal(entry(B(2, 0, 0))->device, 0x1041);
	if (mode == PCSC_MODE_QUICK) {
		assert_int_equal(c.cfg_reads, 0);
		assert_int_equal(cfg.reads, 0);
	}
}

static void quick_every_verdict_4k(void **state)
{
	(void)state;
	run_all_verdicts(4096, PCSC_MODE_QUICK);
}

static void quick_every_verdict_256(void **state)
{
	(void)state;
	run_all_verdicts(256, PCSC_MODE_QUICK);
}

/* What the physmem wrote hook was told: strict patches must be reported so
 * the stub cleans them to PoC before the jump. */
static uint64_t wrote_phys[8], wrote_len[8];
static unsigned int wrote_n;

static void record_wrote(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (wrote_n < 8) {
		wrote_phys[wrote_n] = phys;
		wrote_len[wrote_n] = len;
	}
	wrote_n++;
}

static void strict_clears_differing_bytes(void **state)
{
	const struct pcsc_entry *e;
	struct verify_counts c;
	uint8_t *cmap;

	(void)state;
	build(4096);
	/* 01:00.0: BAR0 (0x10..0x13, cached) changed in two bytes. */
	live[0].cfg[0x10] = 0x0c;
	live[0].cfg[0x12] = 0xfe;
	env.mode = PCSC_MODE_STRICT;
	ram.pm.wrote = record_wrote;
	wrote_n = 0;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 0);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	ram.pm.wrote = NULL;
	e = entry(B(1, 0, 0));
	/* Exactly the one patched entry's cached bitmap was reported. */
	assert_int_equal(wrote_n, 1);
	assert_int_equal(wrote_phys[0], e->da + PCSC_DATA_CACHED(4096));
	assert_int_equal(wrote_len[0], 4096 / 8);
	assert_int_equal(e->verdict, PCSC_VALID);
	assert_int_equal(e->cleared, 2);
	cmap = blob_helpers_at(&ram, e->da) + PCSC_DATA_CACHED(4096);
	assert_int_equal(cmap[0x10 / 8], 0xfa);	/* bits 0x10 and 0x12 cleared */
	/* The VF with the PF identity keeps it: a VF's IDs read all ones live
	 * and are judged through the PF, so strict does not re-read them. */
	assert_int_equal(entry(B(4, 2, 0))->cleared, 0);
	assert_int_equal(entry(B(4, 2, 2))->cleared, 0);
	assert_int_equal(pcsc_bit_test(blob_helpers_at(&ram, entry(B(4, 2, 0))->da) +
				       PCSC_DATA_CACHED(4096), 0), 1);
	assert_int_equal(c.patched, 1);
	assert_int_equal(c.cleared_bytes, 2);
	/* Per VALID entry: dwords 0x00, 0x08..0x34 (12) and 0x40 = 14 reads,
	 * 13 for the two VFs (no ID dword), plus one class read per VF. */
	assert_int_equal(c.cfg_reads, 3 * 14 + 2 * 13 + 2);
	assert_int_equal(c.v[PCSC_VALID], 5);
}

static void uncached_ids_are_never_valid(void **state)
{
	struct verify_counts c;
	uint8_t *cmap;

	(void)state;
	build(4096);
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 0);
	/* 01:00.0 matches live, but its device ID bytes are not cached: the
	 * cache names no device, so it must not be handed over as VALID. */
	cmap = blob_helpers_at(&ram, entry(B(1, 0, 0))->da) + PCSC_DATA_CACHED(4096);
	pcsc_bit_clear(cmap, 2);
	pcsc_bit_clear(cmap, 3);
	/* 04:10.2, a VF cached with all-ones IDs: one ID byte uncached. */
	cmap = blob_helpers_at(&ram, entry(B(4, 2, 2))->da) + PCSC_DATA_CACHED(4096);
	pcsc_bit_clear(cmap, 0);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	expect(B(1, 0, 0), PCSC_STALE, PCSC_R_IDS);
	expect(B(4, 2, 2), PCSC_STALE, PCSC_R_IDS);
	assert_string_equal(pcsc_reason_str(PCSC_R_IDS), "ids not cached");
	expect(B(4, 0, 0), PCSC_VALID, PCSC_R_NONE);
}

static void da_in_kho_scratch_is_bad(void **state)
{
	static struct phys_ranges scr;

	(void)state;
	build(4096);
	memset(&scr, 0, sizeof(scr));
	assert_int_equal(phys_ranges_add(&scr, entry(B(1, 0, 0))->da + 4096, 4096), 0);
	env.scratch = &scr;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 1);
	env.scratch = NULL;
	expect(B(1, 0, 0), PCSC_BAD, PCSC_R_DA_SCRATCH);
	assert_string_equal(pcsc_reason_str(PCSC_R_DA_SCRATCH), "da in KHO scratch");
	assert_int_equal(entry(B(2, 0, 0))->verdict, PCSC_UNJUDGED);
}

static void strict_vf_class_change_is_stale(void **state)
{
	struct verify_counts c;

	(void)state;
	build(256);
	live[2].cfg[0x0b] = 0x01;	/* 04:10.0 VF now class 01 */
	env.mode = PCSC_MODE_STRICT;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 0);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	expect(B(4, 2, 0), PCSC_STALE, PCSC_R_CLASS);
	/* Quick mode cannot see it: the walk does not read a VF's class. */
	teardown(NULL);
	build(256);
	live[2].cfg[0x0b] = 0x01;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 0);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	expect(B(4, 2, 0), PCSC_VALID, PCSC_R_NONE);
}

/* Point entry s at a new da (in memory only: the index is what verify sees). */
static void set_da(pci_sbdf_t s, uint64_t da)
{
	((struct pcsc_entry *)entry(s))->da = da;
}

static void entry_checks_each_reason(void **state)
{
	struct verify_counts c;

	(void)state;
	build(4096);
	set_da(B(1, 0, 0), entry(B(1, 0, 0))->da + 8);		/* unaligned */
	set_da(B(2, 0, 0), RAM_BASE + RAM_SIZE - 4096);		/* crosses the end of RAM */
	set_da(B(3, 0, 0), 0x1000);				/* outside RAM */
	set_da(B(4, 0, 0), RAM_BASE + 0x80000);			/* inside the stub */
	set_da(B(4, 2, 0), lo.kho_fdt - 4096);			/* its tail is the KHO FDT */
	set_da(B(4, 2, 2), lo.map_area);			/* the map's first chunk */
	set_da(B(4, 2, 3), RAM_BASE + 0x600000);		/* RAM, not preserved */
	set_da(B(6, 0, 0), entry(B(7, 0, 0))->da - 4096);	/* overlaps 07:00.0 */
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), 9);
	expect(B(1, 0, 0), PCSC_BAD, PCSC_R_DA_ALIGN);
	expect(B(2, 0, 0), PCSC_BAD, PCSC_R_DA_NOTRAM);
	expect(B(3, 0, 0), PCSC_BAD, PCSC_R_DA_NOTRAM);
	expect(B(4, 0, 0), PCSC_BAD, PCSC_R_DA_OWNED);
	expect(B(4, 2, 0), PCSC_BAD, PCSC_R_DA_META);
	expect(B(4, 2, 2), PCSC_BAD, PCSC_R_DA_META);
	expect(B(4, 2, 3), PCSC_BAD, PCSC_R_DA_NOTPRESERVED);
	expect(B(6, 0, 0), PCSC_BAD, PCSC_R_DA_ENTRY);
	expect(B(7, 0, 0), PCSC_BAD, PCSC_R_DA_ENTRY);
	expect(B(8, 0, 0), PCSC_UNJUDGED, PCSC_R_NONE);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), 0);
	assert_int_equal(c.v[PCSC_BAD], 9);
	assert_int_equal(c.v[PCSC_STALE], 1);
	assert_int_equal(c.v[PCSC_VALID], 1);
	/* The live functions of BAD entries are not NEW: they have an entry. */
	assert_int_equal(c.v[PCSC_NEW], 1);
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 1), -PCSC_ENOSPC);
	env.S = 512;
	assert_int_equal(verify_check_entries(&env, &idx, scratch, 32), -PCSC_EINVAL);
	assert_int_equal(verify_judge(&env, &idx, &walk, &c), -PCSC_EINVAL);
}

static void duplicates_and_malformed_stay_bad(void **state)
{
	static uint8_t fdt[4096];
	struct pcsc_index i2;
	struct verify_counts c;
	const struct cache_gen_entry e[4] = {
		{ B(1, 0, 0), lo.data, NULL, 0 },
		{ B(1, 0, 0), lo.data + lo.stride, NULL, 0 },
		{ 0, lo.data + 2 * lo.stride, "dev_0000_01_00_0 ", 0 },
		{ B(9, 0, 0), lo.data + 10 * lo.stride, NULL, 0 },
	};

	(void)state;
	build(4096);
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, e, 4), 0);
	assert_int_equal(pcsc_index_build(fdt, ents, 32, &i2), 0);
	assert_int_equal(verify_check_entries(&env, &i2, scratch, 32), 0);
	assert_int_equal(verify_judge(&env, &i2, &walk, &c), 0);
	assert_int_equal(ents[0].reason, PCSC_R_DUP);
	assert_int_equal(ents[1].reason, PCSC_R_DUP);
	assert_int_equal(ents[2].verdict, PCSC_VALID);
	assert_int_equal(ents[3].reason, PCSC_R_NAME);
	assert_int_equal(c.v[PCSC_BAD], 3);
	assert_int_equal(c.v[PCSC_VALID], 1);
	/* Live endpoints without an entry: 02, 04:00.0, both VFs, 05, 06, 08. */
	assert_int_equal(c.v[PCSC_NEW], 7);
}

static uint8_t low_ram[64 << 10];

static void *low_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	(void)len;
	return low_ram + phys;
}

/*
 * A malformed name hides a missing da (an entry keeps its first reason), and
 * the 0 left in its da is no address: where RAM starts at 0 (x86) a real
 * entry one page up must not be judged to share its pages.
 */
static void malformed_name_without_da_shares_nothing(void **state)
{
	struct physmem pm;
	struct kho_range pres = { 0x1000, 0x4000 };
	struct kho_map m;
	struct pcsc_entry e[2];
	struct pcsc_index ix;
	struct verify_env v;
	uint64_t tmp[2];

	(void)state;
	memset(&pm, 0, sizeof(pm));
	assert_int_equal(phys_ranges_add(&pm.ram, 0, sizeof(low_ram)), 0);
	pm.map = low_map;
	memset(&m, 0, sizeof(m));
	m.r = &pres;
	m.n = m.cap = 1;
	memset(e, 0, sizeof(e));
	e[0] = (struct pcsc_entry){ .sbdf = B(1, 0, 0), .da = 0x1000, .verdict = PCSC_UNJUDGED };
	e[1] = (struct pcsc_entry){ .sbdf = 0xffffffffu, .verdict = PCSC_BAD,
				    .reason = PCSC_R_NAME };
	memset(&ix, 0, sizeof(ix));
	ix.e = e;
	ix.n = ix.cap = 2;
	ix.bad = 1;
	memset(&v, 0, sizeof(v));
	v.pm = &pm;
	v.kmap = &m;
	v.S = 4096;	/* 8 KiB a block: 0x1000 is inside one at 0 */
	assert_int_equal(verify_check_entries(&v, &ix, tmp, 2), 0);
	assert_int_equal(e[0].verdict, PCSC_UNJUDGED);
	/* The same entry with a da of its own does share them. */
	e[1].da = 0x1800;
	assert_int_equal(verify_check_entries(&v, &ix, tmp, 2), 1);
	assert_int_equal(e[0].reason, PCSC_R_DA_ENTRY);
}

static void mode_strings(void **state)
{
	(void)state;
	assert_string_equal(pcsc_mode_str(PCSC_MODE_QUICK), "quick");
	assert_string_equal(pcsc_mode_str(PCSC_MODE_STRICT), "strict");
	assert_string_equal(pcsc_mode_str(PCSC_MODE_OFF), "off");
	assert_string_equal(pcsc_mode_str(7), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(quick_every_verdict_4k, teardown),
		cmocka_unit_test_teardown(quick_every_verdict_256, teardown),
		cmocka_unit_test_teardown(strict_clears_differing_bytes, teardown),
		cmocka_unit_test_teardown(strict_vf_class_change_is_stale, teardown),
		cmocka_unit_test_teardown(uncached_ids_are_never_valid, teardown),
		cmocka_unit_test_teardown(da_in_kho_scratch_is_bad, teardown),
		cmocka_unit_test_teardown(entry_checks_each_reason, teardown),
		cmocka_unit_test_teardown(duplicates_and_malformed_stay_bad, teardown),
		cmocka_unit_test(malformed_name_without_da_shares_nothing),
		cmocka_unit_test(mode_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
