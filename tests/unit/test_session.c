/* test_session.c - pcsc_session_run end to end over a simulated machine and an old
 * kernel's handover from cache_gen: the exact report lines, patching, and every
 * whole-cache failure ending in a detach (or a report) rather than an error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/pci_sim.h>
#include <pcsc/log.h>
#include <pcsc/session.h>
#include "helpers/blob_helpers.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (8ull << 20)
#define ARENA (1u << 20)

static const char topo[] =
	"window 0 00 0f\n"
	"00:01.0 8086:10d3 class=020000\n"
	"00:02.0 1af4:1041 class=020000\n"
	"00:03.0 8086:1572 class=020000 sriov=8,2,0x80,1,154c,enabled\n"
	"00:05.0 1234:1111 class=010802\n";

static const pci_sbdf_t cached_bdfs[5] = {
	PCI_SBDF(0, 0, PCI_DEVFN(1, 0)), PCI_SBDF(0, 0, PCI_DEVFN(2, 0)),
	PCI_SBDF(0, 0, PCI_DEVFN(3, 0)), PCI_SBDF(0, 0, PCI_DEVFN(0x13, 0)),
	PCI_SBDF(0, 0, PCI_DEVFN(0x13, 1)),
};

static struct blob_helpers_ram ram;
static struct pci_sim sim;
static struct pci_sim_func *simfuncs;
static struct pci_cfg cfg;
static struct cache_gen_layout lo;
static struct pcsc_session_in in;
static struct pcsc_session_out out;
static struct phys_ranges owned;
static void *arena;

static const struct kho_abi *build_abi;	/* KHO layout of the next build */
static uint32_t build_bitmap;

/* The old kernel cached what it read: 256 bytes of each function. */
static void build(uint16_t S)
{
	static uint8_t bytes[5][256];
	struct cache_gen_dev d[5];
	unsigned int i, r, line = 0;

	blob_helpers_ram_init(&ram, RAM_BASE, RAM_SIZE);
	simfuncs = calloc(16, sizeof(*simfuncs));
	assert_non_null(simfuncs);
	pci_sim_init(&sim, simfuncs, 16);
	assert_int_equal(pci_sim_parse(&sim, topo, strlen(topo), &line), 0);
	pci_sim_cfg_init(&cfg, &sim);
	for (i = 0; i < 5; i++) {
		for (r = 0; r < 256; r += 4) {
			uint32_t v;

			pci_cfg_read32(&cfg, cached_bdfs[i], (uint16_t)r, &v);
			memcpy(bytes[i] + r, &v, 4);
		}
		d[i] = (struct cache_gen_dev){ cached_bdfs[i], bytes[i], 256 };
	}
	memset(&lo, 0, sizeof(lo));
	lo.base = RAM_BASE + 0x200000;
	lo.S = S;
	lo.abi = build_abi;
	lo.v1_bitmap = build_bitmap;
	assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, d, 5, &lo), 0);
	pci_sim_cfg_init(&cfg, &sim);	/* reads back to 0 */

	memset(&owned, 0, sizeof(owned));
	assert_int_equal(phys_ranges_add(&owned, RAM_BASE, 0x100000), 0);
	arena = malloc(ARENA);
	assert_non_null(arena);
	memset(&in, 0, sizeof(in));
	in.cfg = &cfg;
	in.windows = sim.win;
	in.nwindows = sim.nwin;
	in.pm = &ram.pm;
	in.owned = &owned;
	in.kho_fdt = lo.kho_fdt;
	in.mode = PCSC_MODE_QUICK;
	in.S = S;
	in.arena = arena;
	in.arena_size = ARENA - 3;	/* an odd size: carving must still align */
	in.version = "1.2.3";
	memset(&out, 0xaa, sizeof(out));
	blob_helpers_log_start();
}

static int teardown(void **state)
{
	(void)state;
	build_abi = NULL;
	build_bitmap = 0;
	blob_helpers_ram_free(&ram);
	free(simfuncs);
	free(arena);
	simfuncs = NULL;	/* a test may tear down between builds */
	arena = NULL;
	return 0;
}

static uint8_t *pcsc_fdt(void)
{
	return blob_helpers_at(&ram, lo.pcsc_fdt);
}

static uint8_t *kho_fdt(void)
{
	return blob_helpers_at(&ram, lo.kho_fdt);
}

static void expect_log(const char *body, const char *summary_tail)
{
	char want[4096];

	const char *log = blob_helpers_log_text();

	/* The KHO facts and the walk's totals come first; the rest is exact. */
	if (!strncmp(log, "pcsc: kho kho-v", 15))
		log = strchr(log, '\n') + 1;
	if (!strncmp(log, "pcsc: walk functions=", 21))
		log = strchr(log, '\n') + 1;
	snprintf(want, sizeof(want), "%spcsc: summary %s", body, summary_tail);
	assert_int_equal(strncmp(log, want, strlen(want)), 0);
}

/* The physmem wrote hook: every range the session rewrote in place. */
static uint64_t wrote_phys[4];
static unsigned int wrote_n;

static void record_wrote(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	(void)len;
	if (wrote_n < 4)
		wrote_phys[wrote_n] = phys;
	wrote_n++;
}

static void quick_all_valid_hands_over(void **state)
{
	struct pcsc_entry ents[8];
	struct pcsc_index idx;
	uint8_t again[32];
	char tail[256];

	(void)state;
	build(4096);
	ram.pm.wrote = record_wrote;
	wrote_n = 0;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	ram.pm.wrote = NULL;
	/* The handover rewrote the pcsc FDT in its own pages, nothing else. */
	assert_int_equal(wrote_n, 1);
	assert_int_equal(wrote_phys[0], lo.pcsc_fdt);
	assert_int_equal(out.status, 0);
	assert_true(out.found);
	assert_false(out.detached);
	assert_false(out.patched);
	assert_true(out.props_added);
	assert_int_equal(out.entries, 5);
	assert_int_equal(out.funcs, 6);
	assert_int_equal(out.counts.v[PCSC_VALID], 5);
	assert_int_equal(out.counts.v[PCSC_NEW], 1);
	assert_int_equal(out.counts.cfg_reads, 0);
	assert_true(out.walk_reads > 0);
	assert_int_equal(out.walk_reads, cfg.reads);
	snprintf(tail, sizeof(tail), "valid=5 stale=0 gone=0 bad=0 new=1 cfg_reads=%llu mode=quick "
		 "entries=5 removed=0 funcs=6 patched=0 cleared=0 handover=ok\npcsc: sha256 ",
		 (unsigned long long)cfg.reads);
	expect_log("pcsc: 0000:00:01.0 8086:10d3 VALID\n"
		   "pcsc: 0000:00:02.0 1af4:1041 VALID\n"
		   "pcsc: 0000:00:03.0 8086:1572 VALID\n"
		   "pcsc: 0000:00:05.0 1234:1111 NEW\n"
		   "pcsc: 0000:00:13.0 ffff:ffff VALID\n"
		   "pcsc: 0000:00:13.1 ffff:ffff VALID\n", tail);
	assert_int_equal(fdt_check_full(pcsc_fdt(), 4096), 0);
	assert_string_equal(fdt_getprop(pcsc_fdt(), 0, "stub-version", NULL), "1.2.3");
	assert_int_equal(pcsc_index_build(pcsc_fdt(), ents, 8, &idx), 0);
	assert_int_equal(handover_digest(&idx, &ram.pm, 4096, again), 0);
	assert_memory_equal(again, out.sha256, 32);
}

static void stale_and_gone_are_removed(void **state)
{
	struct pci_sim_func *f;
	char tail[256];

	(void)state;
	build(4096);
	pci_sim_func_get(&sim, cached_bdfs[1])->cfg[2] = 0x42;	/* 1af4:1042 now */
	f = pci_sim_func_get(&sim, cached_bdfs[2]);
	f->cfg[0x160 + PCI_SRIOV_NUM_VF] = 1;			/* only 13.0 left */
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.counts.v[PCSC_VALID], 3);
	assert_int_equal(out.counts.v[PCSC_STALE], 1);
	assert_int_equal(out.counts.v[PCSC_GONE], 1);
	assert_int_equal(out.removed, 2);
	assert_true(out.patched);
	snprintf(tail, sizeof(tail), "valid=3 stale=1 gone=1 bad=0 new=1 cfg_reads=%llu mode=quick "
		 "entries=5 removed=2 funcs=5 patched=0 cleared=0 handover=ok\n",
		 (unsigned long long)cfg.reads);
	expect_log("pcsc: 0000:00:01.0 8086:10d3 VALID\n"
		   "pcsc: 0000:00:02.0 1af4:1041 STALE device (live 1af4:1042)\n"
		   "pcsc: 0000:00:03.0 8086:1572 VALID\n"
		   "pcsc: 0000:00:05.0 1234:1111 NEW\n"
		   "pcsc: 0000:00:13.0 ffff:ffff VALID\n"
		   "pcsc: 0000:00:13.1 ffff:ffff GONE VF not enabled\n", tail);
	assert_int_equal(fdt_subnode_offset(pcsc_fdt(), 0, "dev_0000_00_02_0"), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_subnode_offset(pcsc_fdt(), 0, "dev_0000_00_13_1"), -FDT_ERR_NOTFOUND);
	assert_true(fdt_subnode_offset(pcsc_fdt(), 0, "dev_0000_00_13_0") > 0);
}

static void strict_patches_small_cache(void **state)
{
	(void)state;
	build(256);
	in.mode = PCSC_MODE_STRICT;
	pci_sim_func_get(&sim, cached_bdfs[0])->cfg[0x0c] = 0x10;	/* cache line size changed */
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.counts.v[PCSC_VALID], 5);
	assert_int_equal(out.counts.patched, 1);
	assert_int_equal(out.counts.cleared_bytes, 1);
	assert_true(out.counts.cfg_reads > 0);
	assert_int_equal(out.walk_reads + out.counts.cfg_reads, cfg.reads);
	assert_non_null(strstr(blob_helpers_log_text(), "pcsc: 0000:00:01.0 8086:10d3 VALID patched=1\n"));
	assert_string_equal(fdt_getprop(pcsc_fdt(), 0, "stub-mode", NULL), "strict");
}

static void owned_memory_makes_entry_bad(void **state)
{
	(void)state;
	build(4096);
	assert_int_equal(phys_ranges_add(&owned, lo.data + lo.stride, 4096), 0);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.counts.v[PCSC_BAD], 1);
	assert_non_null(strstr(blob_helpers_log_text(),
			       "pcsc: 0000:00:02.0 ffff:ffff BAD da overlaps stub memory\n"));
	assert_int_equal(out.removed, 1);
}

static void expect_rejected(int status, const char *msg, bool detached)
{
	char line[256];

	ram.pm.wrote = record_wrote;
	wrote_n = 0;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	ram.pm.wrote = NULL;
	/* A detached KHO root was rewritten: the stub must clean it. */
	assert_int_equal(wrote_n, detached ? 1u : 0u);
	if (detached)
		assert_int_equal(wrote_phys[0], lo.kho_fdt);
	assert_int_equal(out.status, status);
	assert_string_equal(out.msg, msg);
	assert_int_equal(out.detached, detached);
	snprintf(line, sizeof(line), "pcsc: cache rejected: %s\n%s", msg,
		 detached ? "pcsc: detached the pcsc subtree from the KHO FDT\n" : "");
	/* Only the "pcsc: kho" facts line may come before the rejection. */
	assert_non_null(strstr(blob_helpers_log_text(), line));
	assert_true(strstr(blob_helpers_log_text(), line) == blob_helpers_log_text() ||
		    !strncmp(blob_helpers_log_text(), "pcsc: kho kho-v", 15));
	assert_non_null(strstr(blob_helpers_log_text(), detached ? "handover=detached\n" : "handover=none\n"));
	if (detached)
		assert_int_equal(fdt_subnode_offset(kho_fdt(), 0, "pcsc"), -FDT_ERR_NOTFOUND);
}

static void pcsc_fdt_over_owned_memory_is_never_written(void **state)
{
	uint8_t before[4096];
	char want[96];

	(void)state;
	build(4096);
	/* A hostile map "preserves" the stub's memory and the pcsc FDT sits
	 * there: rewriting it in place would overwrite the stub. */
	assert_int_equal(phys_ranges_add(&owned, lo.pcsc_fdt, 4096), 0);
	memcpy(before, pcsc_fdt(), sizeof(before));
	snprintf(want, sizeof(want), "pcsc FDT 0x%llx+%u overlaps memory it must not",
		 (unsigned long long)lo.pcsc_fdt,
		 (unsigned int)((fdt_totalsize(pcsc_fdt()) + 4095) & ~4095u));
	expect_rejected(-PCSC_EOVERLAP, want, true);
	assert_memory_equal(pcsc_fdt(), before, sizeof(before));
}

/* Each KHO ABI end to end: every entry VALID, the facts line names it. */
static void every_kho_abi_verifies(void **state)
{
	static const char *const names[] = { "v1-512", "v1-4096", "v2", "v3", "v4" };
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		char want[64];

		assert_int_equal(kho_abi_by_name(names[i], &build_abi, &build_bitmap), 0);
		build(4096);
		in.kho_bitmap = build_bitmap;
		assert_int_equal(pcsc_session_run(&in, &out), 0);
		assert_int_equal(out.status, 0);
		assert_ptr_equal(out.kho, build_abi);
		assert_int_equal(out.counts.v[PCSC_VALID], 5);
		assert_true(out.props_added);
		snprintf(want, sizeof(want), "pcsc: kho %s ", build_abi->compatible);
		assert_int_equal(strncmp(blob_helpers_log_text(), want, strlen(want)), 0);
		teardown(NULL);
	}
}

/* A LUO subtree next to pcsc says 6.19+: a PAGE_SIZE-bitmap map verifies
 * without pcsc.kho_bitmap, and a 512-byte map is refused, not misread. */
static void luo_subtree_reads_kho_v1_as_4096(void **state)
{
	int node, v;

	(void)state;
	for (v = 0; v < 2; v++) {
		build_abi = &kho_abis[0];
		build_bitmap = v ? 512 : 4096;
		build(4096);
		assert_int_equal(fdt_open_into(kho_fdt(), kho_fdt(), 4096), 0);
		node = fdt_add_subnode(kho_fdt(), 0, "LUO");
		assert_true(node > 0);
		assert_int_equal(fdt_setprop_u64(kho_fdt(), node, "fdt", 0), 0);
		assert_int_equal(pcsc_session_run(&in, &out), 0);
		if (!v) {
			assert_int_equal(out.status, 0);
			assert_int_equal(out.kho_bitmap, 4096);
			assert_int_equal(out.counts.v[PCSC_VALID], 5);
		} else {
			assert_int_equal(out.status, -PCSC_EINVAL);
			assert_true(out.detached);
		}
		teardown(NULL);
	}
}

/* kho-v3+: blob-size bounds the blob on the way in and is rewritten to
 * the size handed over on the way out. */
static void blob_size_is_checked_and_kept_true(void **state)
{
	char want[128];
	const void *p;
	uint64_t bs;
	int node, len;

	(void)state;
	build_abi = &kho_abis[3];
	build(4096);
	node = fdt_subnode_offset(kho_fdt(), 0, "pcsc");
	p = fdt_getprop(kho_fdt(), node, "blob-size", &len);
	assert_int_equal(len, 8);
	memcpy(&bs, p, 8);
	assert_int_equal(bs, fdt_totalsize(pcsc_fdt()));
	in.owned = NULL;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, 0);
	p = fdt_getprop(kho_fdt(), node, "blob-size", &len);
	memcpy(&bs, p, 8);
	assert_int_equal(bs, fdt_totalsize(pcsc_fdt()));	/* the new size */
	teardown(NULL);

	build_abi = &kho_abis[3];
	build(4096);
	bs = fdt_totalsize(pcsc_fdt()) - 1;	/* smaller than the blob */
	node = fdt_subnode_offset(kho_fdt(), 0, "pcsc");
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), node, "blob-size", &bs, 8), 0);
	snprintf(want, sizeof(want), "pcsc blob-size %llu: totalsize %u or preservation does not fit",
		 (unsigned long long)bs, (unsigned int)bs + 1);
	expect_rejected(-PCSC_ERANGE, want, true);
	teardown(NULL);

	/* A blob-size past the preserved pages. */
	build_abi = &kho_abis[3];
	build(4096);
	bs = 0x100000;
	node = fdt_subnode_offset(kho_fdt(), 0, "pcsc");
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), node, "blob-size", &bs, 8), 0);
	snprintf(want, sizeof(want), "pcsc blob-size %llu: totalsize %u or preservation does not fit",
		 (unsigned long long)bs, (unsigned int)fdt_totalsize(pcsc_fdt()));
	expect_rejected(-PCSC_ERANGE, want, true);
}

static void unknown_kho_compatible_detaches(void **state)
{
	(void)state;
	build(4096);
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), 0, "compatible", "kho-v9", 7), 0);
	expect_rejected(-PCSC_ECOMPAT, "KHO FDT unknown compatible \"kho-v9\"", true);
}

/* pcsc.kho_bitmap=4096 on a 512-byte map: the cache is not verified, so
 * it does not reach the next kernel. */
static void forced_bitmap_size_the_map_refutes_detaches(void **state)
{
	char want[96];
	uint64_t bm;

	(void)state;
	build(4096);
	in.kho_bitmap = 4096;
	memcpy(&bm, blob_helpers_at(&ram, lo.map) + 24, 8);
	snprintf(want, sizeof(want), "KHO map entry 0x%llx/0x%llx proves 512-byte bitmaps, not 4096",
		 (unsigned long long)(lo.data & ~((4096ull << 12) - 1)), (unsigned long long)bm);
	expect_rejected(-PCSC_EINVAL, want, true);
}

/* Each step moves the session on exactly one state, and is a no-op from
 * any state it does not start from; the KHO outcome is a state. */
static void steps_move_the_state_one_at_a_time(void **state)
{
	static struct pcsc_session s;

	(void)state;
	build(4096);
	assert_int_equal(pcsc_session_begin(&s, NULL, &out), -PCSC_EINVAL);
	assert_int_equal(pcsc_session_begin(&s, &in, &out), 0);
	assert_int_equal(s.state, PCSC_SESSION_NEW);
	/* Out of order: nothing happens. */
	assert_int_equal(pcsc_session_walk(&s), PCSC_SESSION_NEW);
	assert_int_equal(pcsc_session_verify(&s), PCSC_SESSION_NEW);
	assert_int_equal(pcsc_session_hand_over(&s), PCSC_SESSION_NEW);
	assert_int_equal(cfg.reads, 0);
	assert_int_equal(pcsc_session_locate(&s), PCSC_SESSION_LOCATED);
	assert_int_equal(s.idx.n, 5);
	assert_int_equal(out.entries, 5);
	assert_int_equal(cfg.reads, 0);		/* locating reads no config space */
	assert_int_equal(pcsc_session_locate(&s), PCSC_SESSION_LOCATED);
	assert_int_equal(pcsc_session_verify(&s), PCSC_SESSION_LOCATED);
	assert_int_equal(pcsc_session_walk(&s), PCSC_SESSION_WALKED);
	assert_int_equal(s.walk.n, 6);
	assert_int_equal(out.walk_reads, cfg.reads);
	assert_int_equal(pcsc_session_hand_over(&s), PCSC_SESSION_WALKED);
	assert_int_equal(pcsc_session_verify(&s), PCSC_SESSION_VERIFIED);
	assert_int_equal(s.counts.v[PCSC_VALID], 5);
	assert_false(out.props_added);		/* nothing written yet */
	assert_int_equal(pcsc_session_hand_over(&s), PCSC_SESSION_HANDED_OVER);
	assert_true(out.props_added);
	blob_helpers_log_start();
	pcsc_session_report(&s);
	assert_int_equal(strncmp(blob_helpers_log_text(), "pcsc: summary valid=5 ", 22), 0);
	assert_non_null(strstr(blob_helpers_log_text(), "handover=ok\npcsc: sha256 "));
	teardown(NULL);

	/* No KHO FDT: NO_CACHE, walked (listed), never verified. */
	build(4096);
	in.kho_fdt = 0;
	assert_int_equal(pcsc_session_begin(&s, &in, &out), 0);
	assert_int_equal(pcsc_session_locate(&s), PCSC_SESSION_NO_CACHE);
	assert_int_equal(pcsc_session_walk(&s), PCSC_SESSION_NO_CACHE);
	assert_int_equal(s.walk.n, 6);
	assert_int_equal(pcsc_session_verify(&s), PCSC_SESSION_NO_CACHE);
	assert_int_equal(pcsc_session_hand_over(&s), PCSC_SESSION_NO_CACHE);
	teardown(NULL);

	/* A rejected cache is never walked or written (but detached). */
	build(4096);
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), 0, "compatible", "kho-v9", 7), 0);
	assert_int_equal(pcsc_session_begin(&s, &in, &out), 0);
	assert_int_equal(pcsc_session_locate(&s), PCSC_SESSION_REJECTED);
	assert_true(out.detached);
	assert_int_equal(pcsc_session_walk(&s), PCSC_SESSION_REJECTED);
	assert_int_equal(cfg.reads, 0);
	teardown(NULL);

	/* Mode off: OFF from the start; every step a no-op. */
	build(4096);
	in.mode = PCSC_MODE_OFF;
	assert_int_equal(pcsc_session_begin(&s, &in, &out), 0);
	assert_int_equal(s.state, PCSC_SESSION_OFF);
	assert_int_equal(pcsc_session_locate(&s), PCSC_SESSION_OFF);
	assert_int_equal(pcsc_session_walk(&s), PCSC_SESSION_OFF);
	blob_helpers_log_start();
	pcsc_session_report(&s);
	assert_non_null(strstr(blob_helpers_log_text(), "handover=untouched\n"));
}

static uint64_t fake_us(void)
{
	return 4242;
}

/* The stub's default console between kernels: one summary (with the
 * session's time) and the digest, <= 256 bytes; a rejection adds one line
 * and still fits; `quiet` leaves only the rejection; PROBLEMS adds the
 * non-VALID entries only. */
static void default_console_is_summary_and_digest(void **state)
{
	unsigned long long b0;
	const char *log, *want;

	(void)state;
	build(4096);
	pci_sim_func_get(&sim, cached_bdfs[1])->cfg[2] = 0x42;	/* 1af4:1042 now: STALE */
	in.elapsed_us = fake_us;
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	b0 = pcsc_log_bytes();
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	log = blob_helpers_log_text();
	assert_int_equal(strncmp(log, "pcsc: summary valid=4 stale=1 ", 30), 0);
	assert_non_null(strstr(log, " handover=ok us=4242\npcsc: sha256 "));
	assert_int_equal(strchr(strchr(log, '\n') + 1, '\n') - log + 1, strlen(log));	/* 2 lines */
	assert_true(pcsc_log_bytes() - b0 <= 256);
	teardown(NULL);

	build(4096);
	pci_sim_func_get(&sim, cached_bdfs[1])->cfg[2] = 0x42;
	pcsc_log_set_report(PCSC_REPORT_PROBLEMS);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	log = blob_helpers_log_text();
	want = "pcsc: 0000:00:02.0 1af4:1041 STALE device (live 1af4:1042)\npcsc: summary ";
	assert_int_equal(strncmp(log, want, strlen(want)), 0);
	teardown(NULL);

	/* A long rejection message is cut; with the summary: <= 256. */
	build(4096);
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), 0, "compatible", "kho-v9", 7), 0);
	b0 = pcsc_log_bytes();
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	log = blob_helpers_log_text();
	want = "pcsc: cache rejected: KHO FDT unknown compatible \"kho-v9\"\npcsc: summary ";
	assert_int_equal(strncmp(log, want, strlen(want)), 0);
	assert_non_null(strstr(log, "handover=detached\n"));
	assert_true(pcsc_log_bytes() - b0 <= 256);
	teardown(NULL);

	build(4096);
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), 0, "compatible", "kho-v9", 7), 0);
	pcsc_log_set_report(PCSC_REPORT_QUIET);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_string_equal(blob_helpers_log_text(),
			    "pcsc: cache rejected: KHO FDT unknown compatible \"kho-v9\"\n");
	pcsc_log_set_report(PCSC_REPORT_FULL);
}

/* The scratch array the old kernel handed over: n {addr, size} entries at
 * SCRATCH_ARRAY, between the owned range and the cache. */
#define SCRATCH_ARRAY (RAM_BASE + 0x100000)
static void scratch_array(const uint64_t *pairs, unsigned int n)
{
	memcpy(blob_helpers_at(&ram, SCRATCH_ARRAY), pairs, 16u * n);
	in.kho_scratch = SCRATCH_ARRAY;
	in.kho_scratch_size = 16u * n;
}

static void pcsc_fdt_in_kho_scratch_is_rejected(void **state)
{
	/* The region is the second entry: every entry counts, not the first. */
	uint64_t pairs[4] = { RAM_BASE + 0x380000, 0x1000, 0, 0 };
	char want[96];

	(void)state;
	build(4096);
	pairs[2] = lo.pcsc_fdt;
	pairs[3] = 4096;
	scratch_array(pairs, 2);
	snprintf(want, sizeof(want), "pcsc FDT 0x%llx+%u overlaps memory it must not",
		 (unsigned long long)lo.pcsc_fdt,
		 (unsigned int)((fdt_totalsize(pcsc_fdt()) + 4095) & ~4095u));
	expect_rejected(-PCSC_EOVERLAP, want, true);
}

static void da_in_a_scratch_region_is_bad_and_the_array_is_metadata(void **state)
{
	uint64_t pairs[4] = { 0, 0x2000, RAM_BASE + 0x380000, 0x1000 };

	(void)state;
	build(4096);
	pairs[0] = lo.data + lo.stride;	/* entry 1's block */
	scratch_array(pairs, 2);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, 0);
	assert_int_equal(out.counts.v[PCSC_BAD], 1);
	assert_non_null(strstr(blob_helpers_log_text(), "BAD da in KHO scratch\n"));
	assert_non_null(strstr(blob_helpers_log_text(), " scratch=2 0x"));
}

/* Point the cached entry name's da at da, in the pcsc FDT in RAM. */
static void set_da(const char *name, uint64_t da)
{
	int node = fdt_subnode_offset(pcsc_fdt(), 0, name);

	assert_true(node > 0);
	assert_int_equal(fdt_setprop_inplace(pcsc_fdt(), node, "da", &da, 8), 0);
}

/* Every layout preserves the KHO root FDT's page (an order-0 folio, as
 * upstream does: docs/abi.md fact 5), yet an entry whose da is that page
 * is still BAD, as KHO metadata, never adopted as preserved memory. */
static void da_at_the_kho_root_page_is_bad_metadata_in_every_layout(void **state)
{
	static const char *const names[] = { "v1-512", "v1-4096", "v2", "v3", "v4" };
	static struct kho_range rr[64], mm[64];
	struct kho_map m;
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_int_equal(kho_abi_by_name(names[i], &build_abi, &build_bitmap), 0);
		build(4096);
		assert_int_equal(kho_map_read(&ram.pm, build_abi, lo.map, build_bitmap, rr, 64, mm, 64,
					      &m), 0);
		assert_true(kho_is_preserved(&m, lo.kho_fdt, 4096));
		assert_false(kho_overlaps_meta(&m, lo.kho_fdt, 4096));	/* not a map page */
		set_da("dev_0000_00_02_0", lo.kho_fdt);
		in.kho_bitmap = build_bitmap;
		assert_int_equal(pcsc_session_run(&in, &out), 0);
		assert_int_equal(out.status, 0);
		assert_int_equal(out.counts.v[PCSC_BAD], 1);
		assert_int_equal(out.counts.v[PCSC_VALID], 4);
		assert_non_null(strstr(blob_helpers_log_text(),
				       "pcsc: 0000:00:02.0 ffff:ffff BAD da overlaps KHO metadata\n"));
		teardown(NULL);
	}
}

/* kho-v4: radix node pages are the map's, never preserved memory (docs/abi.md
 * fact 2c). An entry whose da is a table node page and one whose da is a
 * leaf are BAD as metadata; were node pages not counted as metadata, both
 * would be "da not preserved" instead. */
static void da_in_a_radix_node_page_is_bad_metadata(void **state)
{
	uint64_t path[KHO_RADIX_LEVELS], p;
	unsigned int level, k;

	(void)state;
	assert_int_equal(kho_abi_by_name("v4", &build_abi, &build_bitmap), 0);
	build(4096);
	/* The lowest-index path down from the root: level 4 .. 1 tables, then
	 * a leaf. */
	path[0] = lo.map;
	for (level = 1; level < KHO_RADIX_LEVELS; level++) {
		const uint8_t *node = blob_helpers_at(&ram, path[level - 1]);

		for (p = 0, k = 0; !p && k < 512; k++)
			memcpy(&p, node + 8 * k, 8);
		assert_true(p != 0);
		path[level] = p;
	}
	/* Node pages lie above the root, inside the map area. */
	for (level = 1; level < KHO_RADIX_LEVELS; level++)
		assert_true(path[level] > lo.map && path[level] < lo.map_area + lo.map_area_size);
	set_da("dev_0000_00_02_0", path[1]);				/* a level-4 table */
	set_da("dev_0000_00_01_0", path[KHO_RADIX_LEVELS - 1]);	/* a leaf bitmap */
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, 0);
	assert_int_equal(out.counts.v[PCSC_BAD], 2);
	assert_non_null(strstr(blob_helpers_log_text(),
			       "pcsc: 0000:00:01.0 ffff:ffff BAD da overlaps KHO metadata\n"));
	assert_non_null(strstr(blob_helpers_log_text(),
			       "pcsc: 0000:00:02.0 ffff:ffff BAD da overlaps KHO metadata\n"));
	assert_null(strstr(blob_helpers_log_text(), "not preserved"));
}

static void malformed_scratch_array_rejects_and_detaches(void **state)
{
	uint64_t pairs[2] = { RAM_BASE + 0x380000, 0x1000 };

	(void)state;
	build(4096);
	scratch_array(pairs, 1);
	in.kho_scratch_size = 24;	/* not whole 16-byte entries */
	expect_rejected(-PCSC_EALIGN, "KHO scratch array 0x40100000+0x18 not whole 16-byte entries",
			true);
}

static void unknown_pcsc_compatible_detaches(void **state)
{
	(void)state;
	build(4096);
	assert_int_equal(fdt_setprop_inplace(pcsc_fdt(), 0, "compatible", "pcsc-v9", 8), 0);
	expect_rejected(-PCSC_ECOMPAT, "pcsc FDT unknown compatible \"pcsc-v9\"", true);
}

static void corrupt_pcsc_header_detaches(void **state)
{
	(void)state;
	build(4096);
	fdt_set_magic(pcsc_fdt(), 0x12345678);
	expect_rejected(-PCSC_EBADFDT, "pcsc FDT bad magic 0x12345678", true);
}

static void pcsc_fdt_outside_ram_detaches(void **state)
{
	uint64_t bogus = 0x1000;
	int node;

	(void)state;
	build(4096);
	node = fdt_subnode_offset(kho_fdt(), 0, "pcsc");
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), node, "fdt", &bogus, 8), 0);
	expect_rejected(-PCSC_ENOTRAM, "pcsc FDT at 0x1000 not in RAM", true);
}

static void pcsc_fdt_unaligned_detaches(void **state)
{
	uint64_t bogus;
	char msg[96];
	int node;

	(void)state;
	build(4096);
	bogus = lo.pcsc_fdt + 8;
	node = fdt_subnode_offset(kho_fdt(), 0, "pcsc");
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), node, "fdt", &bogus, 8), 0);
	snprintf(msg, sizeof(msg), "pcsc FDT at 0x%llx not page aligned", (unsigned long long)bogus);
	expect_rejected(-PCSC_EALIGN, msg, true);
}

static void pcsc_fdt_not_preserved_detaches(void **state)
{
	struct kho_range data;
	uint64_t first;
	size_t used;
	char msg[96];

	(void)state;
	build(4096);
	data.start = lo.data;
	data.end = lo.pcsc_fdt;	/* the data blocks only */
	assert_int_equal(cache_gen_kho_map(blob_helpers_at(&ram, lo.map_area), lo.map_area_size,
					   lo.map_area, &data, 1, NULL, 0, &first, &used), 0);
	assert_int_equal(first, lo.map);
	snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+4096 not preserved", (unsigned long long)lo.pcsc_fdt);
	expect_rejected(-PCSC_ENOTPRESERVED, msg, true);
}

static void map_loop_detaches(void **state)
{
	char msg[96];

	(void)state;
	build(4096);
	memcpy(blob_helpers_at(&ram, lo.map), &lo.map, 8);
	snprintf(msg, sizeof(msg), "KHO map chunk list loops at 0x%llx", (unsigned long long)lo.map);
	expect_rejected(-PCSC_ELOOP, msg, true);
}

static void bad_kho_root_is_reported_not_detached(void **state)
{
	(void)state;
	build(4096);
	fdt_set_magic(kho_fdt(), 0);
	expect_rejected(-PCSC_EBADFDT, "KHO FDT bad magic 0x00000000", false);
}

/* The stub's arch_kho_unplug, recorded: how often, with which context. */
static unsigned int unplug_calls;
static void *unplug_ctx;
static int unplug_rc;

static int fake_unplug(void *ctx)
{
	unplug_calls++;
	unplug_ctx = ctx;
	return unplug_rc;
}

static void expect_unplug(uint64_t kho_at, int rc, const char *handover)
{
	static int ctx;

	build(4096);
	in.kho_fdt = kho_at;
	in.kho_unplug = fake_unplug;
	in.kho_unplug_ctx = &ctx;
	unplug_calls = 0;
	unplug_ctx = NULL;
	unplug_rc = rc;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, -PCSC_ENOTRAM);
	assert_false(out.detached);
	assert_int_equal(unplug_calls, 1);
	assert_ptr_equal(unplug_ctx, &ctx);
	assert_non_null(strstr(blob_helpers_log_text(), handover));
	assert_true(!strstr(blob_helpers_log_text(), HANDOVER_UNPLUGGED_LINE) == !!rc);
}

/* A root the session cannot map at all cannot be detached, but the next
 * kernel reads it wherever it is: the stub's unplug takes it out of the
 * handover. Failing that, or without the hook (tools), handover=none. */
static void unreadable_kho_root_is_unplugged(void **state)
{
	uint64_t past = RAM_BASE + RAM_SIZE + 0x100000;
	char msg[96];

	(void)state;
	expect_unplug(past, 0, "handover=unplugged\n");
	snprintf(msg, sizeof(msg), "pcsc: cache rejected: KHO FDT at 0x%llx not in RAM\n"
		 HANDOVER_UNPLUGGED_LINE "\n", (unsigned long long)past);
	assert_non_null(strstr(blob_helpers_log_text(), msg));
	teardown(state);
	expect_unplug(past, -PCSC_ENOTFOUND, "handover=none\n");
	teardown(state);
	build(4096);
	in.kho_fdt = past;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_non_null(strstr(blob_helpers_log_text(), "handover=none\n"));
}

/* A root that is mapped is detached in place, never unplugged: the other
 * KHO subtrees (the VMs' memory) still reach the next kernel. */
static void readable_kho_root_is_detached_not_unplugged(void **state)
{
	(void)state;
	build(4096);
	in.kho_unplug = fake_unplug;
	unplug_calls = 0;
	assert_int_equal(fdt_setprop_inplace(kho_fdt(), 0, "compatible", "kho-v9", 7), 0);
	expect_rejected(-PCSC_ECOMPAT, "KHO FDT unknown compatible \"kho-v9\"", true);
	assert_int_equal(unplug_calls, 0);
	/* bad magic: mapped, but not an FDT: the next kernel refuses it too */
	teardown(state);
	build(4096);
	in.kho_unplug = fake_unplug;
	unplug_rc = 0;
	fdt_set_magic(kho_fdt(), 0);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(unplug_calls, 1);
}

static void arena_too_small_detaches(void **state)
{
	(void)state;
	build(4096);
	in.arena_size = 300;
	expect_rejected(-PCSC_ENOSPC, "arena too small for the KHO map", true);
}

static void arena_too_small_for_index_detaches(void **state)
{
	(void)state;
	build(4096);
	in.arena_size = 600;	/* 512 bytes of map ranges, then room for 2 entries of 5 */
	expect_rejected(-PCSC_ENOSPC, "pcsc FDT has more than 2 entries", true);
}

/* A walk that cannot hold every function says so in one line before its
 * own lines; a dropped PF's VFs count with it, and every entry of a
 * function it did not see is GONE, never VALID (docs/bounds.md). */
static void walk_arena_full_is_said(void **state)
{
	const char *log, *full, *totals;

	(void)state;
	build(4096);
	in.max_funcs = 2;	/* 01.0 and 02.0; 03.0 with its 2 VFs and 05.0 dropped */
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	log = blob_helpers_log_text();
	full = strstr(log, "pcsc: walk arena full: 4 functions not seen\n");
	totals = strstr(log, "pcsc: walk functions=2 ");
	assert_non_null(full);
	assert_non_null(totals);
	assert_true(full < totals);
	assert_non_null(strstr(log, " overflow=4\n"));
	assert_int_equal(out.funcs, 2);
	assert_int_equal(out.counts.v[PCSC_VALID], 2);
	assert_int_equal(out.counts.v[PCSC_GONE], 3);	/* 03.0 and its VFs 13.0, 13.1 */
	assert_int_equal(out.counts.v[PCSC_NEW], 0);	/* 05.0 unseen: not NEW either */
}

/* A pcsc FDT that fills its pages keeps its verdicts but gets no
 * stub-* properties: the summary says handover=no-room, one line why. */
static void no_room_for_handover_properties(void **state)
{
	static uint8_t pad[4096];
	uint8_t *fdt;
	uint32_t total;
	const char *log;

	(void)state;
	build(4096);
	fdt = pcsc_fdt();
	total = fdt_totalsize(fdt);
	assert_int_equal(fdt_open_into(fdt, fdt, (int)PCSC_PAGE_ALIGN(total)), 0);
	/* Fill to 16 bytes short of the page end (a property costs 12 + len). */
	assert_int_equal(fdt_setprop(fdt, 0, "pad", pad,
				     (int)(PCSC_PAGE_ALIGN(total) - total - 12 - 16 - 4)), 0);
	assert_int_equal(fdt_pack(fdt), 0);
	assert_true(fdt_totalsize(fdt) <= PCSC_PAGE_ALIGN(total));
	assert_true(PCSC_PAGE_ALIGN(total) - fdt_totalsize(fdt) < 64);
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	log = blob_helpers_log_text();
	assert_non_null(strstr(log, "pcsc: no room for handover properties in "));
	assert_non_null(strstr(log, " handover=no-room\n"));
	assert_false(out.props_added);
	assert_int_equal(out.counts.v[PCSC_VALID], 5);
	assert_null(fdt_getprop(pcsc_fdt(), 0, "stub-version", NULL));
}

static void no_cache_is_reported(void **state)
{
	(void)state;
	build(4096);
	in.kho_fdt = 0;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, -PCSC_ENOTFOUND);
	assert_false(out.found);
	/* Without a cache the walk is the report: every function, then the
	 * totals, then the summary. */
	assert_int_equal(strncmp(blob_helpers_log_text(), "pcsc: no cache: no KHO FDT\n"
				 "pcsc: walk 0000:00:01.0 8086:10d3 class 020000 ep\n", 77), 0);
	assert_non_null(strstr(blob_helpers_log_text(), "\npcsc: walk functions=6 buses=1 "));
	assert_non_null(strstr(blob_helpers_log_text(), " funcs=6 patched=0 cleared=0 handover=none\n"));
	in.kho_fdt = lo.kho_fdt;
	assert_int_equal(cache_gen_kho_fdt(kho_fdt(), 4096, NULL, NULL, lo.map, 0, 0), 0);
	blob_helpers_log_start();
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_int_equal(out.status, -PCSC_ENOTFOUND);
	assert_string_equal(out.msg, "KHO FDT has no pcsc subtree");
	assert_int_equal(strncmp(blob_helpers_log_text(), "pcsc: no cache: KHO FDT has no pcsc subtree\n", 44), 0);
}

static void mode_off_passes_through(void **state)
{
	static uint8_t before[4096];

	(void)state;
	build(4096);
	memcpy(before, pcsc_fdt(), 4096);
	in.mode = PCSC_MODE_OFF;
	assert_int_equal(pcsc_session_run(&in, &out), 0);
	assert_memory_equal(before, pcsc_fdt(), 4096);
	assert_int_equal(cfg.reads, 0);
	assert_string_equal(blob_helpers_log_text(),
			    "pcsc: summary valid=0 stale=0 gone=0 bad=0 new=0 cfg_reads=0 mode=off "
			    "entries=0 removed=0 funcs=0 patched=0 cleared=0 handover=untouched\n");
}

static void null_arguments(void **state)
{
	(void)state;
	assert_int_equal(pcsc_session_run(NULL, &out), -PCSC_EINVAL);
	build(4096);
	assert_int_equal(pcsc_session_run(&in, NULL), -PCSC_EINVAL);
	in.S = 512;
	expect_rejected(-PCSC_EINVAL, "pcsc_data size must be 256 or 4096", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(quick_all_valid_hands_over, teardown),
		cmocka_unit_test_teardown(stale_and_gone_are_removed, teardown),
		cmocka_unit_test_teardown(strict_patches_small_cache, teardown),
		cmocka_unit_test_teardown(owned_memory_makes_entry_bad, teardown),
		cmocka_unit_test_teardown(unknown_pcsc_compatible_detaches, teardown),
		cmocka_unit_test_teardown(corrupt_pcsc_header_detaches, teardown),
		cmocka_unit_test_teardown(pcsc_fdt_outside_ram_detaches, teardown),
		cmocka_unit_test_teardown(pcsc_fdt_unaligned_detaches, teardown),
		cmocka_unit_test_teardown(pcsc_fdt_not_preserved_detaches, teardown),
		cmocka_unit_test_teardown(map_loop_detaches, teardown),
		cmocka_unit_test_teardown(bad_kho_root_is_reported_not_detached, teardown),
		cmocka_unit_test_teardown(unreadable_kho_root_is_unplugged, teardown),
		cmocka_unit_test_teardown(readable_kho_root_is_detached_not_unplugged, teardown),
		cmocka_unit_test_teardown(pcsc_fdt_over_owned_memory_is_never_written, teardown),
		cmocka_unit_test_teardown(every_kho_abi_verifies, teardown),
		cmocka_unit_test_teardown(luo_subtree_reads_kho_v1_as_4096, teardown),
		cmocka_unit_test_teardown(blob_size_is_checked_and_kept_true, teardown),
		cmocka_unit_test_teardown(unknown_kho_compatible_detaches, teardown),
		cmocka_unit_test_teardown(forced_bitmap_size_the_map_refutes_detaches, teardown),
		cmocka_unit_test_teardown(steps_move_the_state_one_at_a_time, teardown),
		cmocka_unit_test_teardown(default_console_is_summary_and_digest, teardown),
		cmocka_unit_test_teardown(pcsc_fdt_in_kho_scratch_is_rejected, teardown),
		cmocka_unit_test_teardown(da_in_a_scratch_region_is_bad_and_the_array_is_metadata,
					  teardown),
		cmocka_unit_test_teardown(da_at_the_kho_root_page_is_bad_metadata_in_every_layout,
					  teardown),
		cmocka_unit_test_teardown(da_in_a_radix_node_page_is_bad_metadata, teardown),
		cmocka_unit_test_teardown(malformed_scratch_array_rejects_and_detaches, teardown),
		cmocka_unit_test_teardown(arena_too_small_detaches, teardown),
		cmocka_unit_test_teardown(arena_too_small_for_index_detaches, teardown),
		cmocka_unit_test_teardown(walk_arena_full_is_said, teardown),
		cmocka_unit_test_teardown(no_room_for_handover_properties, teardown),
		cmocka_unit_test_teardown(no_cache_is_reported, teardown),
		cmocka_unit_test_teardown(mode_off_passes_through, teardown),
		cmocka_unit_test_teardown(null_arguments, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
