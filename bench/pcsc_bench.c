/* bench/pcsc_bench.c - host benchmark driver: generated SR-IOV topologies, an old kernel's
 * handover in a memory image, then one measured phase. It never measures time in a test. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/pci_sim.h>
#include <pcsc/pci_walk.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/physmem.h>
#include <pcsc/session.h>
#include <pcsc/sha256.h>
#include <pcsc/verify.h>
#include "cpu_steps.h"
#include "rfc_restore.h"

/*
 * Topology of n entries: per segment (at most SEG_ENTRIES entries), a host
 * bridge, two ordinary endpoints on the root bus (virtio-net, NVMe) and
 * NPF root ports with ARI forwarding, each with one SR-IOV PF whose VFs
 * fill the rest. Every type 0 function is one entry, as the RFC saves them.
 */
#define NPF		4u
#define SEG_FIXED	(3u + NPF)
#define SEG_ENTRIES	32768u
#define IMG_BASE	0x100000000ull
#define S_CFG		4096u		/* pcsc_data for PCIe functions */
#define CFG_SAVED	256u		/* bytes of each device the generator copies */
#define N_MAX		(1u << 20)

struct bench {
	uint32_t n;
	char *topo;
	size_t topo_len;
	struct pci_sim sim;
	struct pci_sim_func *sim_arena;
	struct pci_cfg cfg;
	struct pci_walk walk;
	struct pci_func *funcs;
	uint32_t nfunc_cap;
	pci_sbdf_t *devs;		/* type 0 functions in walk (BDF) order */
	uint32_t ndev;
	uint8_t *img;
	uint64_t img_size;
	struct physmem pm;
	struct cache_gen_layout lo;
	uint8_t *saved;			/* CFG_SAVED bytes per device */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "pcsc-bench: %s: %s\n", what, err < 0 ? pcsc_strerror(err) : "failed");
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die("out of memory", 0);
	return p;
}

/* Appends one formatted line to the topology text. */
static size_t put(char *buf, size_t cap, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t cap, size_t len, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= cap - len)
		die("topology text overflow", 0);
	return len + (size_t)k;
}

/* The topology text for n entries (n >= SEG_FIXED + NPF per segment). */
static char *topo_text(uint32_t n, size_t *len_out)
{
	uint32_t segs = (n + SEG_ENTRIES - 1) / SEG_ENTRIES, s, p;
	size_t cap = 4096u * (segs + 1), len = 0;
	char *t = xcalloc(1, cap);

	len = put(t, cap, len, "# pcsc-bench: %" PRIu32 " entries, %" PRIu32 " segment(s)\n", n, segs);
	for (s = 0; s < segs; s++) {
		uint32_t e = n / segs + (s < n % segs), vfs = e - SEG_FIXED, bus = 1;

		len = put(t, cap, len, "window %x 00 ff %" PRIx64 "\n", s,
			  (uint64_t)0x4010000000ull + ((uint64_t)s << 28));
		len = put(t, cap, len, "%04x:00:00.0 1b36:0008 class=060000\n", s);
		for (p = 0; p < NPF; p++) {
			uint32_t v = vfs / NPF + (p < vfs % NPF);
			uint32_t span = (v + 1 + 255) / 256;

			len = put(t, cap, len, "%04x:00:%02x.0 1b36:000c bridge sec=%x sub=%x ari-fwd\n",
				  s, p + 1, bus, bus + span - 1);
			bus += span;
		}
		len = put(t, cap, len, "%04x:00:%02x.0 1af4:1041 class=020000 rev=01\n", s, NPF + 1);
		len = put(t, cap, len, "%04x:00:%02x.0 1b36:0010 class=010802 rev=02\n", s, NPF + 2);
		bus = 1;
		for (p = 0; p < NPF; p++) {
			uint32_t v = vfs / NPF + (p < vfs % NPF);
			uint32_t span = (v + 1 + 255) / 256;

			len = put(t, cap, len,
				  "%04x:%02x:00.0 8086:1592 class=020000 rev=02 ari sriov=%u,%u,1,1,1889,enabled\n",
				  s, bus, v, v);
			bus += span;
		}
	}
	*len_out = len;
	return t;
}

static void *img_map(void *ctx, uint64_t phys, uint64_t len)
{
	struct bench *b = ctx;

	if (phys < IMG_BASE || len > b->img_size || phys - IMG_BASE > b->img_size - len)
		return NULL;
	return b->img + (phys - IMG_BASE);
}

/* (Re)write the old kernel's handover: every device's pcsc_data, the
 * pcsc FDT, the preserved map and the KHO root FDT. */
static void handover_write(struct bench *b)
{
	struct cache_gen_dev *d = xcalloc(b->ndev, sizeof(*d));
	uint32_t i;
	int err;

	for (i = 0; i < b->ndev; i++) {
		d[i].sbdf = b->devs[i];
		d[i].cfg = b->saved + (size_t)i * CFG_SAVED;
		d[i].cfg_len = CFG_SAVED;
	}
	memset(&b->lo, 0, sizeof(b->lo));
	b->lo.base = IMG_BASE;
	b->lo.S = S_CFG;
	/* PCSC_BENCH_KHO=v1-512|v1-4096|v2|v3|v4: the old kernel's KHO layout. */
	if (getenv("PCSC_BENCH_KHO") &&
	    kho_abi_by_name(getenv("PCSC_BENCH_KHO"), &b->lo.abi, &b->lo.v1_bitmap))
		die("PCSC_BENCH_KHO", -PCSC_EINVAL);
	err = cache_gen_build(b->img, IMG_BASE, b->img_size, d, b->ndev, &b->lo);
	free(d);
	if (err)
		die("cache_gen_build", err);
}

static void bench_setup(struct bench *b, uint32_t n)
{
	unsigned int line = 0, wi;
	struct pci_walk_iter it;
	const struct pci_func *f;
	uint32_t lines = 0;
	size_t k;
	int err;

	memset(b, 0, sizeof(*b));
	b->n = n;
	b->topo = topo_text(n, &b->topo_len);
	for (k = 0; k < b->topo_len; k++)
		lines += b->topo[k] == '\n';
	b->sim_arena = xcalloc(lines + 1, sizeof(*b->sim_arena));
	pci_sim_init(&b->sim, b->sim_arena, lines + 1);
	err = pci_sim_parse(&b->sim, b->topo, b->topo_len, &line);
	if (err) {
		fprintf(stderr, "pcsc-bench: topology line %u\n", line);
		die("pci_sim_parse", err);
	}
	pci_sim_cfg_init(&b->cfg, &b->sim);
	b->nfunc_cap = n + 64;
	b->funcs = xcalloc(1, PCI_WALK_ARENA(b->nfunc_cap));
	pci_walk_init(&b->walk, b->funcs, PCI_WALK_ARENA(b->nfunc_cap));
	for (wi = 0; wi < b->sim.nwin; wi++) {
		err = pci_walk_window(&b->walk, &b->cfg, &b->sim.win[wi]);
		if (err)
			die("pci_walk_window", err);
	}
	pci_walk_finish(&b->walk);
	b->devs = xcalloc(b->walk.n, sizeof(*b->devs));
	b->saved = xcalloc(b->walk.n, CFG_SAVED);
	for (f = pci_walk_first(&it, &b->walk); f; f = pci_walk_next(&it)) {
		uint8_t *c = b->saved + (size_t)b->ndev * CFG_SAVED;
		uint32_t off, v;

		if (f->hdr_type != PCI_HEADER_TYPE_NORMAL)
			continue;
		b->devs[b->ndev] = f->sbdf;
		for (off = 0; off < CFG_SAVED; off += 4) {
			pci_cfg_read32(&b->cfg, f->sbdf, (uint16_t)off, &v);
			c[off] = (uint8_t)v;
			c[off + 1] = (uint8_t)(v >> 8);
			c[off + 2] = (uint8_t)(v >> 16);
			c[off + 3] = (uint8_t)(v >> 24);
		}
		/* A VF as Linux knows it: the PF's vendor, the VF Device ID. */
		c[0] = (uint8_t)f->vendor;
		c[1] = (uint8_t)(f->vendor >> 8);
		c[2] = (uint8_t)f->device;
		c[3] = (uint8_t)(f->device >> 8);
		b->ndev++;
	}
	if (b->ndev != n) {
		fprintf(stderr, "pcsc-bench: topology gave %" PRIu32 " entries, wanted %" PRIu32 "\n",
			b->ndev, n);
		exit(2);
	}
	/* Data, FDT, the largest map area any layout asks for, the root. */
	b->img_size = (uint64_t)n * PCSC_DATA_ALLOC(S_CFG) + cache_gen_pcsc_fdt_size(n) +
		      cache_gen_kho_map_size(&kho_abis[kho_nabis - 1], n) +
		      (uint64_t)(64 + n / 64) * PCSC_PAGE_SIZE;
	b->img = xcalloc(1, b->img_size);
	memset(&b->pm, 0, sizeof(b->pm));
	phys_ranges_add(&b->pm.ram, IMG_BASE, b->img_size);
	b->pm.map = img_map;
	b->pm.ctx = b;
	handover_write(b);
}

/* ------------------------------------------------------------ phases ---- */
/* Each phase is one noinline function: callgrind collects exactly inside
 * it with --collect-atstart=no --toggle-collect=bench_phase_<name>. */

struct verify_ws {
	struct pcsc_entry *ents;
	uint64_t *scratch;
	struct kho_range *ranges, *meta;
	uint32_t nr;
	struct pcsc_index idx;
	struct kho_map kmap;
	struct verify_counts counts;
};

static void ws_init(struct verify_ws *ws, uint32_t n)
{
	memset(ws, 0, sizeof(*ws));
	ws->ents = xcalloc(n + 1, sizeof(*ws->ents));
	ws->scratch = xcalloc(n + 1, sizeof(*ws->scratch));
	ws->nr = 1024;
	ws->ranges = xcalloc(ws->nr, sizeof(*ws->ranges));
	ws->meta = xcalloc(ws->nr, sizeof(*ws->meta));
}

__attribute__((noinline)) int bench_phase_index(struct bench *b, struct verify_ws *ws);
__attribute__((noinline)) int bench_phase_index(struct bench *b, struct verify_ws *ws)
{
	const void *fdt = img_map(b, b->lo.pcsc_fdt, b->lo.pcsc_fdt_alloc);

	return pcsc_index_build(fdt, ws->ents, b->n + 1, &ws->idx);
}

/* Everything the stub does to judge the cache except the walk, which any
 * kernel does anyway, and the handover: open the KHO root, read its map,
 * check the pcsc FDT, build the index, check every da, merge with the walk. */
__attribute__((noinline)) int bench_phase_verify(struct bench *b, struct verify_ws *ws);
__attribute__((noinline)) int bench_phase_verify(struct bench *b, struct verify_ws *ws)
{
	struct phys_ranges metas;
	struct verify_env env;
	struct kho_info ki;
	void *fdt;
	uint32_t room;
	int err;

	err = kho_open(&b->pm, b->lo.kho_fdt, 0, &ki);
	if (err)
		return err;
	err = kho_map_read(&b->pm, ki.abi, ki.map_phys, 0, ws->ranges, ws->nr, ws->meta, ws->nr, &ws->kmap);
	if (err)
		return err;
	fdt = physmem_map(&b->pm, ki.pcsc_fdt_phys, FDT_V17_SIZE);
	if (!fdt)
		return -PCSC_ENOTRAM;
	room = (uint32_t)PCSC_PAGE_ALIGN(fdt_totalsize(fdt));
	fdt = physmem_map(&b->pm, ki.pcsc_fdt_phys, room);
	if (!fdt)
		return -PCSC_ENOTRAM;
	err = pcsc_fdt_check(fdt, room, NULL, 0);
	if (err)
		return err;
	err = pcsc_index_build(fdt, ws->ents, b->n + 1, &ws->idx);
	if (err)
		return err;
	memset(&metas, 0, sizeof(metas));
	phys_ranges_add(&metas, ki.fdt_phys, ki.fdt_size);
	phys_ranges_add(&metas, ki.pcsc_fdt_phys, room);
	memset(&env, 0, sizeof(env));
	env.pm = &b->pm;
	env.meta = &metas;
	env.kmap = &ws->kmap;
	env.S = S_CFG;
	env.mode = PCSC_MODE_QUICK;
	env.cfg = &b->cfg;
	err = verify_check_entries(&env, &ws->idx, ws->scratch, b->n + 1);
	if (err < 0)
		return err;
	return verify_judge(&env, &ws->idx, &b->walk, &ws->counts);
}

/* Is every entry's pcsc_data block preserved? Two ways for a radix map
 * (kho-v2+): read the whole map into sorted ranges once and binary-search
 * them (what the session does), or look each block up in the tree itself,
 * page by page and order by order, with no copy. Both answer for all n. */
__attribute__((noinline)) int bench_phase_da_ranges(struct bench *b, struct verify_ws *ws);
__attribute__((noinline)) int bench_phase_da_ranges(struct bench *b, struct verify_ws *ws)
{
	struct kho_info ki;
	uint32_t i, ok = 0;
	int err;

	err = kho_open(&b->pm, b->lo.kho_fdt, 0, &ki);
	if (!err)
		err = kho_map_read(&b->pm, ki.abi, ki.map_phys, 0, ws->ranges, ws->nr, ws->meta,
				   ws->nr, &ws->kmap);
	if (err)
		return err;
	for (i = 0; i < b->ndev; i++)
		ok += kho_is_preserved(&ws->kmap, b->lo.data + (uint64_t)i * b->lo.stride,
				       b->lo.stride);
	return ok == b->ndev ? 0 : -PCSC_ENOTPRESERVED;
}

__attribute__((noinline)) int bench_phase_da_lookup(struct bench *b);
__attribute__((noinline)) int bench_phase_da_lookup(struct bench *b)
{
	struct kho_info ki;
	uint32_t i, ok = 0;
	int err;

	err = kho_open(&b->pm, b->lo.kho_fdt, 0, &ki);
	if (err)
		return err;
	if (!ki.abi || ki.abi->map != KHO_MAP_RADIX)
		return -PCSC_ECOMPAT;
	for (i = 0; i < b->ndev; i++)
		ok += kho_radix_is_preserved(&b->pm, ki.map_phys,
					     b->lo.data + (uint64_t)i * b->lo.stride, b->lo.stride);
	return ok == b->ndev ? 0 : -PCSC_ENOTPRESERVED;
}

__attribute__((noinline)) int bench_phase_rfc(struct bench *b, struct rfc_restore_result *r);
__attribute__((noinline)) int bench_phase_rfc(struct bench *b, struct rfc_restore_result *r)
{
	const void *fdt = img_map(b, b->lo.pcsc_fdt, b->lo.pcsc_fdt_alloc);

	return rfc_restore_lookup(fdt, b->devs, b->ndev, r);
}

__attribute__((noinline)) int bench_phase_walk(struct bench *b);
__attribute__((noinline)) int bench_phase_walk(struct bench *b)
{
	unsigned int wi;

	pci_walk_init(&b->walk, b->funcs, PCI_WALK_ARENA(b->nfunc_cap));
	for (wi = 0; wi < b->sim.nwin; wi++)
		pci_walk_window(&b->walk, &b->cfg, &b->sim.win[wi]);
	pci_walk_finish(&b->walk);
	return (int)b->walk.n;
}

/* A fresh old-kernel handover in the image (each session patches it) and
 * the session's input over it, as the stub would fill it. */
static void session_input(struct bench *b, enum pcsc_mode mode, uint32_t funcs, void *arena,
			  size_t size, struct pcsc_session_in *in)
{
	handover_write(b);
	pci_sim_cfg_init(&b->cfg, &b->sim);
	memset(in, 0, sizeof(*in));
	in->cfg = &b->cfg;
	in->windows = b->sim.win;
	in->nwindows = b->sim.nwin;
	in->pm = &b->pm;
	in->kho_fdt = b->lo.kho_fdt;
	in->mode = mode;
	in->S = S_CFG;
	in->max_funcs = funcs;
	in->max_ranges = 512u;	/* 2 x 512 x 16 = the formula's 1024 x 32 */
	in->arena = arena;
	in->arena_size = size;
}

/* Console bytes the session printed, counted by the log sink (a real
 * server's UART moves ~11.5 KB/s: bench.py prices them). */
static uint64_t console_bytes, console_lines;

/* SHA-256 blocks the session compresses, whatever engine does it. */
static sha256_blocks_fn *blocks_engine;
static uint64_t blocks_done;

static void counting_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	blocks_done += n;
	blocks_engine(h, p, n);
}

static void count_sink(const char *line, size_t len)
{
	(void)line;
	console_bytes += len + 1;	/* and its newline */
	console_lines++;
}

/* The whole quick session as the stub runs it: locate, map, index, entry
 * checks, walk, judge, handover, report. */
__attribute__((noinline)) int bench_phase_session(const struct pcsc_session_in *in,
						   struct pcsc_session_out *out);
__attribute__((noinline)) int bench_phase_session(const struct pcsc_session_in *in,
						   struct pcsc_session_out *out)
{
	return pcsc_session_run(in, out);
}

static int session_phase(struct bench *b)
{
	static struct pcsc_session_out out;
	struct pcsc_session_in in;
	/* As the stub sizes it: physical functions only, VFs cost nothing. */
	size_t size = PCSC_SESSION_ARENA(b->n, b->walk.nphys, 1024u);
	uint8_t *arena = xcalloc(1, size);
	int err;

	session_input(b, PCSC_MODE_QUICK, b->walk.nphys, arena, size, &in);
	console_bytes = console_lines = 0;
	/* As the stub: the CPU's SHA-256 instructions when present
	 * (PCSC_BENCH_SHA=portable measures the fallback). */
	blocks_engine = getenv("PCSC_BENCH_SHA") && !strcmp(getenv("PCSC_BENCH_SHA"), "portable") ?
			NULL : sha256_cpu_blocks();
	if (!blocks_engine)
		blocks_engine = sha256_blocks_portable;
	sha256_use(counting_blocks);
	blocks_done = 0;
	pcsc_log_set_sink(count_sink);
	/* The stub's default console unless PCSC_BENCH_REPORT=full|problems. */
	pcsc_log_set_report(!getenv("PCSC_BENCH_REPORT") ? PCSC_REPORT_SUMMARY :
			    !strcmp(getenv("PCSC_BENCH_REPORT"), "full") ? PCSC_REPORT_FULL :
			    PCSC_REPORT_PROBLEMS);
	err = bench_phase_session(&in, &out);
	pcsc_log_set_sink(NULL);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	free(arena);
	if (!err && (out.status || out.counts.v[PCSC_VALID] != b->n))
		err = -PCSC_EINVAL;
	if (!err)
		printf("console bytes=%" PRIu64 " lines=%" PRIu64 " sha256=%s blocks=%" PRIu64 "\n",
		       console_bytes, console_lines,
		       blocks_engine == sha256_blocks_portable ? "portable" : "cpu", blocks_done);
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One phase, once; prints "phase NAME n=N ok=... seconds=T" (native time). */
static int run_phase(struct bench *b, const char *name)
{
	struct rfc_restore_result rr;
	struct verify_ws ws;
	double t0, t1;
	int err;

	ws_init(&ws, b->n);
	t0 = now_s();
	if (!strcmp(name, "index")) {
		err = bench_phase_index(b, &ws);
	} else if (!strcmp(name, "verify")) {
		err = bench_phase_verify(b, &ws);
		if (!err && ws.counts.v[PCSC_VALID] != b->n)
			err = -PCSC_EINVAL;
	} else if (!strcmp(name, "rfc")) {
		err = bench_phase_rfc(b, &rr);
		if (!err && rr.found != b->n)
			err = -PCSC_EINVAL;
	} else if (!strcmp(name, "session")) {
		err = session_phase(b);
	} else if (!strcmp(name, "da_ranges")) {
		err = bench_phase_da_ranges(b, &ws);
	} else if (!strcmp(name, "da_lookup")) {
		err = bench_phase_da_lookup(b);
	} else if (!strcmp(name, "walk")) {
		err = bench_phase_walk(b) > 0 ? 0 : -PCSC_EINVAL;
	} else {
		fprintf(stderr, "pcsc-bench: unknown phase %s\n", name);
		return 2;
	}
	t1 = now_s();
	if (err < 0) {
		fprintf(stderr, "pcsc-bench: phase %s n=%" PRIu32 ": %s\n", name, b->n, pcsc_strerror(err));
		return 1;
	}
	printf("phase %s n=%" PRIu32 " seconds=%.6f\n", name, b->n, t1 - t0);
	return 0;
}

/* ------------------------------------------------------------- reads ---- */

/* Highest byte of the arena the session changed: its real working set. */
static size_t arena_hwm(const uint8_t *a, size_t size)
{
	size_t i = size;

	while (i > 0 && a[i - 1] == 0xa5)
		i--;
	return i;
}

struct sess_result {
	struct pcsc_session_out out;
	uint64_t reads;
	size_t arena_formula, arena_used;
};

static void run_session(struct bench *b, enum pcsc_mode mode, struct sess_result *sr)
{
	struct pcsc_session_in in;
	uint32_t funcs = b->walk.nphys;	/* VFs cost nothing */
	size_t size = PCSC_SESSION_ARENA(b->n, funcs, 1024u);
	uint8_t *arena = malloc(size);
	int err;

	if (!arena)
		die("out of memory", 0);
	memset(arena, 0xa5, size);
	session_input(b, mode, funcs, arena, size, &in);
	memset(sr, 0, sizeof(*sr));
	err = pcsc_session_run(&in, &sr->out);
	if (err || sr->out.status) {
		fprintf(stderr, "pcsc-bench: session: %s %s\n", pcsc_strerror(err ? err : sr->out.status),
			sr->out.msg);
		exit(2);
	}
	if (sr->out.counts.v[PCSC_VALID] != b->n) {
		fprintf(stderr, "pcsc-bench: session: %" PRIu32 " VALID of %" PRIu32 "\n",
			sr->out.counts.v[PCSC_VALID], b->n);
		exit(2);
	}
	sr->reads = b->cfg.reads;
	sr->arena_formula = size;
	sr->arena_used = arena_hwm(arena, size);
	free(arena);
}

/* A cache-less kernel: every dword that holds a cached byte, read again. */
static uint64_t reprobe_reads(struct bench *b, uint64_t *dwords)
{
	uint32_t i, dw;
	uint64_t total = 0;

	handover_write(b);	/* the cached bits as the old kernel left them */
	pci_sim_cfg_init(&b->cfg, &b->sim);
	for (i = 0; i < b->ndev; i++) {
		const uint8_t *d = img_map(b, b->lo.data + (uint64_t)i * b->lo.stride, PCSC_DATA_SIZE(S_CFG));
		const uint8_t *cached = d + PCSC_DATA_CACHED(S_CFG);

		for (dw = 0; dw < S_CFG / 4u; dw++) {
			uint32_t v;

			if (!(cached[dw / 2] >> ((dw & 1) * 4) & 0xf))
				continue;
			pci_cfg_read32(&b->cfg, b->devs[i], (uint16_t)(dw * 4), &v);
			total++;
		}
	}
	*dwords = total;
	return b->cfg.reads;
}

static int run_reads(struct bench *b)
{
	struct sess_result q, s;
	uint64_t walk_reads, re, dwords;

	run_session(b, PCSC_MODE_QUICK, &q);
	run_session(b, PCSC_MODE_STRICT, &s);
	walk_reads = q.out.walk_reads;
	re = reprobe_reads(b, &dwords);
	printf("reads n=%" PRIu32 " funcs=%" PRIu32 " walk=%" PRIu64 " quick=%" PRIu64
	       " quick_verify=%" PRIu64 " strict=%" PRIu64 " strict_verify=%" PRIu64
	       " reprobe=%" PRIu64 " reprobe_total=%" PRIu64
	       " arena_formula=%zu arena_used=%zu\n",
	       b->n, q.out.funcs, walk_reads, q.reads, q.out.counts.cfg_reads, s.reads,
	       s.out.counts.cfg_reads, re, re + walk_reads, q.arena_formula, q.arena_used);
	(void)dwords;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pcsc-bench topo N          print the generated topology\n"
		"       pcsc-bench reads N         exact config reads + arena use\n"
		"       pcsc-bench phase N LIST    run phases, comma separated (index,verify,rfc,walk)\n"
		"       pcsc-bench siblings N      nodes the RFC lookup steps over\n"
		"       pcsc-bench sha-steps N     instructions a block of the CPU SHA-256 path\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b;
	unsigned long n;
	char *end;

	if (argc < 3)
		usage();
	n = strtoul(argv[2], &end, 0);
	if (*end || n < 2u * NPF + SEG_FIXED || n > N_MAX)
		usage();
	if (!strcmp(argv[1], "topo")) {
		size_t len;
		char *t = topo_text((uint32_t)n, &len);

		fwrite(t, 1, len, stdout);
		free(t);
		return 0;
	}
	if (!strcmp(argv[1], "sha-steps")) {
		double per_block;

		if (cpu_sha256_steps_per_block(&per_block))
			printf("sha-steps engine=none\n");
		else
			printf("sha-steps engine=cpu per_block=%.1f\n", per_block);
		return 0;
	}
	if (!strcmp(argv[1], "siblings")) {
		printf("%" PRIu64 "\n", rfc_restore_siblings((uint32_t)n));
		return 0;
	}
	pcsc_log_set_sink(NULL);
	bench_setup(&b, (uint32_t)n);
	if (!strcmp(argv[1], "reads"))
		return run_reads(&b);
	if (!strcmp(argv[1], "phase") && argc == 4) {
		char *list = argv[3], *tok, *save = NULL;
		int rc = 0;

		for (tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
			rc = run_phase(&b, tok);
		return rc;
	}
	usage();
	return 2;
}
