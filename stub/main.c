/* stub/main.c - SPEC §1 step by step, shared by every arch: 1 discover, 2 locate,
 * 3 walk, 4 verify, 5 hand over, 6 jump (0, entry, is arch code). Never writes PCI config space. */
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/session.h>
#include <pcsc/sha256.h>

/* Sizes of the one arena (BSS, no malloc): cache entries, live functions
 * and KHO preserved ranges the session can hold. Past them the session
 * rejects the cache or the walk counts overflow; nothing is written past. */
#define STUB_MAX_ENTRIES	16384
#define STUB_MAX_FUNCS		8192	/* physical functions (VFs are ranges of their PF) */
#define STUB_MAX_RANGES		4096
#define STUB_ARENA_SIZE		PCSC_SESSION_ARENA(STUB_MAX_ENTRIES, STUB_MAX_FUNCS, STUB_MAX_RANGES)

/* uint64_t: the session carves 8-byte aligned pieces from it. */
static uint64_t arena[STUB_ARENA_SIZE / sizeof(uint64_t) + 1];

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

/* The next kernel may start with caches off: whatever the session wrote
 * (strict-mode cached bitmaps, the pcsc FDT patched in its own pages, the
 * KHO root with pcsc detached) must be in memory, not only in our caches.
 * The session names each range through physmem's wrote hook. */
static void clean_written(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	arch_dcache_clean(phys, len);
}

static int kho_unplug(void *p)
{
	return arch_kho_unplug(p);
}

void stub_kho_last_resort(struct stub_platform *p)
{
	struct kho_info ki;

	if (!p->kho_fdt)
		return;
	/* Whatever kho_open thinks of the root: detach edits what it mapped
	 * (the wrote hook cleans it to PoC); nothing mapped: unplug. */
	kho_open(&p->mem, p->kho_fdt, p->kho_fdt_size, &ki);
	handover_fail_closed(&ki, &p->mem, kho_unplug, p);
}

/* What the session is given: the platform's facts, our arena. */
static void session_in(struct stub_platform *p, struct pci_cfg *cfg, struct pcsc_session_in *in)
{
	memset(in, 0, sizeof(*in));
	in->cfg = cfg;
	/* With 0xCF8 the arch supplies a segment-0 window whose base is never
	 * used: the walk needs its bus range either way. */
	in->windows = p->ecam.win;
	in->nwindows = p->ecam.n;
	in->pm = &p->mem;
	in->owned = &p->owned;
	in->kho_fdt = p->kho_fdt;
	in->kho_fdt_size = p->kho_fdt_size;
	in->kho_scratch = p->kho_scratch;
	in->kho_scratch_size = p->kho_scratch_size;
	in->kho_bitmap = p->kho_bitmap;
	in->mode = p->mode;
	in->max_ranges = STUB_MAX_RANGES;	/* the walk takes the rest */
	in->arena = arena;
	in->arena_size = sizeof(arena);
	in->version = PCSC_VERSION;
	in->elapsed_us = elapsed_us;
	in->kho_unplug = kho_unplug;
	in->kho_unplug_ctx = p;
}

void stub_main(struct stub_platform *p)
{
	/* Static: the stub's stack is small and these are kilobytes. */
	static struct pcsc_session session;
	static struct pcsc_session_out out;
	static struct pcsc_session_in in;
	struct pci_cfg ecam_cfg;
	struct pci_cfg *cfg;

	t_entry = arch_timer_ticks();
	pcsc_log("pcsc: pcsc-stub " PCSC_VERSION);
	/* The handover digest on the CPU's SHA-256 instructions when it has them. */
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
	session_in(p, cfg, &in);
	pcsc_session_begin(&session, &in, &out);
	/* 2 locate: the KHO root, its map, the pcsc FDT, the index */
	pcsc_session_locate(&session);
	/* 3 walk, read-only (without a cache, the listing is the report) */
	pcsc_session_walk(&session);
	/* 4 verify: entry checks, then a verdict per entry */
	pcsc_session_verify(&session);
	/* 5 hand over the verified cache, or reject it (detached) */
	pcsc_session_hand_over(&session);
	pcsc_session_report(&session);
	pcsc_log("pcsc: done in %llu us sha256=%s",
		 (unsigned long long)elapsed_us(), sha256_engine());
	/* 6 jump (or power off without a next kernel) */
	arch_boot_next(p);
}
