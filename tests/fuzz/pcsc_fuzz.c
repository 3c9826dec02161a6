/* pcsc_fuzz.c - libFuzzer harness: the input is a RAM image holding a KHO root FDT, its map,
 * a scratch array, a pcsc FDT and pcsc_data blocks; pcsc_session_run parses, verifies, patches
 * and reports it, then oracle.c judges what the next kernel would adopt. Any unsafe handover,
 * read outside the image (ASan) or undefined behaviour aborts: a finding. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/log.h>
#include <pcsc/pci_sim.h>
#include <pcsc/session.h>
#include "fuzz_common.h"
#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pci_sim sim;
static struct pci_sim_func simfuncs[8];
static uint8_t arena[256 * 1024];
static uint8_t *ram;
static size_t ram_size;

/* PCSC_FUZZ_STATS=1: how far the inputs got, printed at exit (README). */
static struct {
	unsigned long inputs, unreachable, kept, entries_kept;
	unsigned long abi[5];	/* kept caches per ABI: v1-512, v1-4096, v2, v3, v4 */
} stats;
static int want_stats;

static void *map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys < FUZZ_BASE || len > ram_size || phys - FUZZ_BASE > ram_size - len)
		return NULL;
	return ram + (phys - FUZZ_BASE);
}

/* PCSC_FUZZ_LOG=1: the session's console on stderr; PCSC_FUZZ_DUMP=file: the image as the
 * session left it (reproducing a finding). */
static int want_log;
static const char *dump_path;

static void sink(const char *line, size_t len)
{
	if (want_log)
		fprintf(stderr, "%.*s\n", (int)len, line);
}

/*
 * PCSC_FUZZ_WAIVE="rule ...": violations of these oracle rules are findings
 * already reported and open in lib/ (tests/fuzz/known-findings): counted and
 * named once, so the fuzzer goes on looking for new ones. Never waive a rule
 * to make a new finding go away.
 */
static const char *waive;
static unsigned long nwaived;

static int waived(const char *rule)
{
	static const char *seen[16];
	size_t n = strlen(rule);
	const char *p;

	for (p = waive; p && (p = strstr(p, rule)); p += n)
		if ((p == waive || p[-1] == ' ' || p[-1] == ',') && (!p[n] || p[n] == ' ' || p[n] == ','))
			break;
	if (!p)
		return 0;
	nwaived++;
	for (n = 0; n < 16 && seen[n] && seen[n] != rule; n++)
		;
	if (n < 16 && !seen[n]) {
		seen[n] = rule;		/* rules are the oracle's static strings */
		fprintf(stderr, "pcsc_fuzz: waived a known finding [%s] (PCSC_FUZZ_WAIVE)\n", rule);
	}
	return 1;
}

static void print_stats(void)
{
	fprintf(stderr,
		"pcsc_fuzz stats: inputs=%lu unreachable=%lu kept=%lu (v1-512=%lu v1-4096=%lu "
		"v2=%lu v3=%lu v4=%lu) entries_kept=%lu waived=%lu\n",
		stats.inputs, stats.unreachable, stats.kept, stats.abi[0], stats.abi[1], stats.abi[2],
		stats.abi[3], stats.abi[4], stats.entries_kept, nwaived);
}

static void count(const struct pcsc_session_out *out, enum oracle_outcome o)
{
	stats.inputs++;
	if (o == ORACLE_UNREACHABLE) {
		stats.unreachable++;
	} else if (o == ORACLE_KEPT && out->kho) {
		const char *c = out->kho->compatible;

		stats.kept++;
		stats.entries_kept += out->entries - out->removed;
		if (!strcmp(c, "kho-v1"))
			stats.abi[out->kho_bitmap == 4096]++;
		else if (strlen(c) == 6 && c[5] >= '2' && c[5] <= '4')
			stats.abi[c[5] - '0']++;
	}
}

/*
 * kho_radix_is_preserved (the O(depth) lookup tools and the bench use; the
 * session reads the whole tree instead) must agree with the oracle's own
 * decoding on every whole RAM page of a radix map the session accepted.
 */
static void radix_lookup_agrees(const struct physmem *pm, const struct oracle_map *om, size_t size)
{
	size_t i;

	for (i = 0; i < size / 4096; i++) {
		uint64_t page = FUZZ_BASE + (uint64_t)i * 4096;

		if (kho_radix_is_preserved(pm, om->phys, page, 4096) != om->preserved[i]) {
			fprintf(stderr, "pcsc_fuzz: kho_radix_is_preserved(0x%llx) says %d, the map "
				"(root 0x%llx) decodes to %d\n", (unsigned long long)page,
				!om->preserved[i], (unsigned long long)om->phys, om->preserved[i]);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct pcsc_session_in in;
	struct pcsc_session_out out;
	struct phys_ranges owned;
	struct physmem pm;
	struct pci_cfg cfg;
	struct oracle_in oi;
	struct oracle_map om;
	uint8_t preserved[FUZZ_MAX_PAGES];
	enum oracle_outcome o;
	const char *rule;
	char why[160];
	uint32_t off, scr, scr_size;
	uint8_t flags;

	if (!ready) {
		unsigned int line;

		pci_sim_init(&sim, simfuncs, 8);
		if (pci_sim_parse(&sim, fuzz_topo, sizeof(fuzz_topo) - 1, &line) || oracle_init())
			abort();
		pcsc_log_set_sink(sink);
		want_stats = getenv("PCSC_FUZZ_STATS") != NULL;
		want_log = getenv("PCSC_FUZZ_LOG") != NULL;
		dump_path = getenv("PCSC_FUZZ_DUMP");
		waive = getenv("PCSC_FUZZ_WAIVE");
		if (want_stats)
			atexit(print_stats);
		ready = 1;
	}
	if (size < FUZZ_HDR || size > FUZZ_MAX_PAGES * 4096ul)
		return 0;
	/* An exact-size heap copy: ASan catches any read past the image. */
	ram = malloc(size);
	if (!ram)
		return 0;
	memcpy(ram, data, size);
	ram_size = size;
	memcpy(&off, data + FUZZ_OFF_KHO, 4);
	memcpy(&scr, data + FUZZ_OFF_SCRATCH, 4);
	memcpy(&scr_size, data + FUZZ_OFF_SCRATCH_SIZE, 4);
	flags = data[FUZZ_OFF_FLAGS];

	memset(&pm, 0, sizeof(pm));
	pm.map = map;
	phys_ranges_add(&pm.ram, FUZZ_BASE, size);
	memset(&owned, 0, sizeof(owned));
	phys_ranges_add(&owned, FUZZ_BASE, FUZZ_HDR);
	pci_sim_cfg_init(&cfg, &sim);

	memset(&in, 0, sizeof(in));
	in.cfg = &cfg;
	in.windows = sim.win;
	in.nwindows = sim.nwin;
	in.pm = &pm;
	in.owned = &owned;
	in.kho_fdt = FUZZ_BASE + off;
	in.kho_scratch = scr_size ? FUZZ_BASE + scr : 0;
	in.kho_scratch_size = scr_size;
	in.kho_bitmap = fuzz_bitmaps[FUZZ_FLAG_BITMAP(flags)];
	in.mode = (enum pcsc_mode)(data[FUZZ_OFF_MODE] % 3);
	in.S = (flags & FUZZ_FLAG_S4096) ? 4096 : 256;
	in.arena = arena;
	in.arena_size = sizeof(arena);
	in.max_ranges = 256;
	if (pcsc_session_run(&in, &out))
		abort();	/* only NULL arguments may fail */
	if (dump_path) {
		FILE *f = fopen(dump_path, "wb");

		if (f) {
			fwrite(ram, 1, size, f);
			fclose(f);
		}
	}

	/* Mode off is the operator's pass-through: nothing was promised. */
	if (in.mode != PCSC_MODE_OFF) {
		memset(&oi, 0, sizeof(oi));
		oi.ram = ram;
		oi.before = data;
		oi.size = size;
		oi.base = FUZZ_BASE;
		oi.owned = FUZZ_BASE;
		oi.owned_size = FUZZ_HDR;
		oi.kho_fdt = in.kho_fdt;
		oi.scratch = in.kho_scratch;
		oi.scratch_size = in.kho_scratch_size;
		oi.bitmap_forced = in.kho_bitmap;
		oi.bitmap_used = out.kho_bitmap;
		oi.S = in.S;
		om.preserved = preserved;
		o = oracle_judge(&oi, &om, &rule, why, sizeof(why));
		if (want_stats)
			count(&out, o);
		if (o == ORACLE_VIOLATION && !waived(rule)) {
			fprintf(stderr, "pcsc_fuzz: UNSAFE HANDOVER [%s] %s (session: status %d \"%s\")\n",
				rule, why, out.status, out.msg);
			abort();
		}
		if (o == ORACLE_KEPT && om.radix)
			radix_lookup_agrees(&pm, &om, size);
	}
	free(ram);
	ram = NULL;
	return 0;
}
