/* stub/main.c - the flow of SPEC §1, shared by every arch: discover, walk,
 * verify and hand over, report, jump. Never writes PCI config space. */
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/pci_walk.h>
#include <pcsc/report.h>
#include <pcsc/kho.h>
#include <pcsc/session.h>
#include <pcsc/sha256.h>
#include "stub.h"

/* Sizes of the one arena (BSS, no malloc): cache entries, live functions
 * and KHO preserved ranges the session can hold. Past them the session
 * rejects the cache or the walk counts overflow; nothing is written past. */
#define STUB_MAX_ENTRIES	16384
#define STUB_MAX_FUNCS		16384
#define STUB_MAX_RANGES		4096
#define STUB_ARENA_SIZE		PCSC_SESSION_ARENA(STUB_MAX_ENTRIES, STUB_MAX_FUNCS, STUB_MAX_RANGES)

/* uint64_t: the session carves 8-byte aligned pieces; the cache-less walk
 * uses the same bytes as its pci_func array. */
static uint64_t arena[STUB_ARENA_SIZE / sizeof(uint64_t) + 1];
static struct pci_walk walk;

/* What discovery found, one line per fact, so a failed boot says why. */
static void report_platform(const struct stub_platform *p)
{
	unsigned int i;

	pcsc_log("pcsc: mode %s", pcsc_mode_str(p->mode));
	for (i = 0; i < p->mem.ram.n; i++)
		pcsc_log("pcsc: ram 0x%llx-0x%llx",
			 (unsigned long long)p->mem.ram.r[i].start,
			 (unsigned long long)p->mem.ram.r[i].end);
	for (i = 0; i < p->ecam.n; i++) {
		const struct ecam_window *w = &p->ecam.win[i];

		pcsc_log("pcsc: ecam %04x:%02x-%02x at 0x%llx", w->seg, w->bus_start,
			 w->bus_end, (unsigned long long)w->base);
	}
	if (!p->ecam.n && !p->use_legacy)
		pcsc_log("pcsc: no ECAM window: nothing to walk");
	if (p->kho_fdt)
		pcsc_log("pcsc: kho fdt 0x%llx size 0x%llx scratch 0x%llx size 0x%llx",
			 (unsigned long long)p->kho_fdt, (unsigned long long)p->kho_fdt_size,
			 (unsigned long long)p->kho_scratch,
			 (unsigned long long)p->kho_scratch_size);
	else
		pcsc_log("pcsc: no KHO FDT");
}

static uint64_t t_entry;	/* timer at stub_main: the session's "us" counts from it */

static uint64_t ticks_to_us(uint64_t ticks)
{
	uint64_t hz = arch_timer_hz();

	return hz ? ticks / hz * 1000000ull + ticks % hz * 1000000ull / hz : 0;
}

static uint64_t elapsed_us(void)
{
	return ticks_to_us(arch_timer_ticks() - t_entry);
}

/*
 * Step 3: every live function of every window, read-only. One line per
 * function ("walk SSSS:BB:DD.F VVVV:DDDD class CCCCCC KIND", class
 * "------" for VFs, which are derived, not read), then a totals line.
 */
static void walk_all(struct stub_platform *p, struct pci_cfg *cfg)
{
	uint64_t t0 = arch_timer_ticks();
	unsigned int i;
	uint32_t k;
	int rc;

	pci_walk_init(&walk, (struct pci_func *)arena,
		      (uint32_t)(STUB_ARENA_SIZE / sizeof(struct pci_func)));
	for (i = 0; i < p->ecam.n; i++) {
		rc = pci_walk_window(&walk, cfg, &p->ecam.win[i]);
		if (rc)
			pcsc_log("pcsc: walk window %u: %s", i, pcsc_strerror(rc));
	}
	pci_walk_finish(&walk);
	for (k = 0; k < walk.n; k++) {
		char line[REPORT_LINE_MAX];

		report_walk_line(line, sizeof(line), &walk.funcs[k]);
		pcsc_log("%s", line);
	}
	pcsc_log("pcsc: walk functions=%u buses=%u cfg_reads=%llu unnumbered_bridges=%u "
		 "bad_bridges=%u crs_timeouts=%u overflow=%u us=%llu",
		 walk.n, walk.stats.buses, (unsigned long long)cfg->reads,
		 walk.stats.unnumbered_bridges, walk.stats.bad_bridges,
		 walk.stats.crs_timeouts, walk.stats.overflow,
		 (unsigned long long)ticks_to_us(arch_timer_ticks() - t0));
}

/* The next kernel may start with caches off: whatever the session wrote
 * (strict-mode cached bitmaps, the pcsc FDT patched in its own pages, the
 * KHO root with pcsc detached) must be in memory, not only in our caches.
 * The session names each range through physmem's wrote hook. */
static void clean_written(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	arch_dcache_clean(phys, len);
}

/* Steps 2-5: locate, walk, verify, hand over, report (lib/session.c). */
static void run_session(struct stub_platform *p, struct pci_cfg *cfg)
{
	static struct pcsc_session_out out;
	struct pcsc_session_in in;

	memset(&in, 0, sizeof(in));
	in.cfg = cfg;
	in.windows = p->ecam.win;
	/* With 0xCF8 the arch supplies a segment-0 window whose base is never
	 * used: the walk needs its bus range either way. */
	in.nwindows = p->ecam.n;
	in.pm = &p->mem;
	in.owned = &p->owned;
	in.kho_scratch = p->kho_scratch;
	in.kho_scratch_size = p->kho_scratch_size;
	in.kho_bitmap = p->kho_bitmap;
	in.kho_fdt = p->kho_fdt;
	in.kho_fdt_size = p->kho_fdt_size;
	in.mode = p->mode;
	in.max_funcs = STUB_MAX_FUNCS;
	in.max_ranges = STUB_MAX_RANGES;
	in.arena = arena;
	in.arena_size = sizeof(arena);
	in.version = PCSC_VERSION;
	in.elapsed_us = elapsed_us;
	pcsc_session_run(&in, &out);
}

void stub_main(struct stub_platform *p)
{
	struct pci_cfg ecam_cfg;
	struct pci_cfg *cfg;

	t_entry = arch_timer_ticks();
	pcsc_log("pcsc: pcsc-stub " PCSC_VERSION);
	/* The hand-over digest on the CPU's SHA-256 instructions when it has them. */
	sha256_use(sha256_cpu_blocks());
	/* 1 discover */
	arch_platform_discover(p);
	/* The console level is known now: what was held is printed or not. */
	pcsc_log_set_report(p->report);
	p->mem.wrote = clean_written;
	report_platform(p);
	if (p->use_legacy) {
		cfg = &p->legacy_cfg;
	} else {
		ecam_cfg_init(&ecam_cfg, &p->ecam);
		cfg = &ecam_cfg;
	}
	/* Without a cache there is nothing to verify: list what is live (the
	 * input of `pcsctool gen` fixtures). With one, the session walks. */
	if (!p->kho_fdt && p->mode != PCSC_MODE_OFF)
		walk_all(p, cfg);
	/* 2 locate, 3 walk, 4 verify, 5 hand over */
	run_session(p, cfg);
	pcsc_log("pcsc: done in %llu us sha256=%s",
		 (unsigned long long)elapsed_us(), sha256_engine());
	/* 6 jump (or power off without a next kernel) */
	arch_boot_next(p);
}
