/* seedgen.c - writes fuzz seeds with cache_gen: handovers in every KHO layout (v1-512, v1-4096,
 * v2, v3, v4) with a scratch array, every mode, and damaged ones; checks the oracle on each.
 * Host tool only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/pci_sim.h>
#include "fuzz_common.h"
#include "oracle.h"

#define PAGE		4096u
#define IMG_MAX		65536u	/* fuzz.mk's -max_len */
#define IMG_BUF		(2 * IMG_MAX)	/* room to try map sizes in */
#define SCRATCH_AT	64u	/* the scratch array, in the header page */

static struct pci_sim sim;
static struct pci_sim_func simfuncs[8];

static const pci_sbdf_t bdfs[4] = {
	PCI_SBDF(0, 0, PCI_DEVFN(1, 0)), PCI_SBDF(0, 0, PCI_DEVFN(2, 0)),
	PCI_SBDF(0, 0, PCI_DEVFN(0x13, 0)), PCI_SBDF(0, 0, PCI_DEVFN(0x13, 1)),
};

enum fault {
	F_NONE,
	F_DA_UNALIGNED,		/* entry 0's da 8 bytes into its block */
	F_NAME_DUP,		/* entry 1 named like entry 0 */
	F_DA_SHORT,		/* entry 1's da 4 bytes */
	F_COMPAT,		/* root compatible "kho-v9" */
	F_DA_SCRATCH,		/* a scratch region over entry 1's block */
	F_NOT_PRESERVED,	/* only the pcsc FDT is preserved */
	F_BLOB_SMALL,		/* blob-size below the pcsc FDT's totalsize */
	F_SCRATCH_FAR,		/* scratch array outside RAM */
	F_MAP_BITMAP,		/* map written with the other kho-v1 bitmap size */
	F_DA_META,		/* entry 1's da on the first map page */
	F_DA_OVERLAP,		/* entry 1's da is entry 0's */
	F_DA_OUTSIDE,		/* entry 1's da past the end of RAM */
	F_ROOT_V16,		/* not a fault: the KHO root as a version 16 FDT (libfdt reads it) */
	F_RADIX_KEY0,		/* the radix path moved to table index 0 at every level: key 0 */
	F_RADIX_ORDER,		/* the root slot moved to index 0: a key of order 34 */
	F_LUO,			/* not a fault: a "LUO" child in the KHO root (Linux 6.19+: 4096) */
};

struct seed {
	const char *kho;	/* kho_abi_by_name: v1-512 ... v4 */
	uint16_t S;
	uint8_t mode;		/* 0 quick, 1 strict, 2 off */
	uint8_t bitmap;		/* FUZZ_BITMAP_FLAG index: 0 none, 1 512, 2 4096, 3 invalid */
	unsigned int n;		/* entries */
	enum fault fault;
	int page_ranges;	/* preserve page by page (order 0 only), not as folios */
	const char *raw;	/* the oracle's rule for the image as written (no session): NULL none */
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Move the first used slot of the radix table at phys node to slot to;
 * returns the pointer it holds. */
static uint64_t radix_move(uint8_t *img, uint64_t node, unsigned int to)
{
	uint8_t *t = img + (node - FUZZ_BASE);
	uint64_t p = 0;
	unsigned int i;

	for (i = 0; i < 512 && !p; i++)
		memcpy(&p, t + 8 * i, 8);
	if (!p)
		exit(1);
	memset(t + 8 * (i - 1), 0, 8);
	put64(t + 8 * to, p);
	return p;
}

/* Returns the image size. Layout: header page (header, scratch array), data blocks, pcsc FDT
 * page, the map (as few pages as the writer needs), the KHO root FDT (image ends with it). */
static size_t make(uint8_t *img, const struct seed *sd)
{
	const struct kho_abi *abi;
	struct cache_gen_entry e[4];
	struct kho_range pres[8];
	struct pci_cfg cfg;
	uint64_t stride = PCSC_DATA_ALLOC(sd->S), data = FUZZ_BASE + PAGE, pfdt, map, kfdt, first;
	uint32_t bitmap, npres = 0, blob;
	size_t used, mapsize;
	unsigned int i, r;
	int err = -1;

	if (kho_abi_by_name(sd->kho, &abi, &bitmap))
		exit(1);
	if (sd->fault == F_MAP_BITMAP)
		bitmap = bitmap == KHO_BITMAP_4096 ? KHO_BITMAP_512 : KHO_BITMAP_4096;
	memset(img, 0, IMG_BUF);
	pci_sim_cfg_init(&cfg, &sim);
	for (i = 0; i < sd->n; i++) {
		uint8_t bytes[256];

		for (r = 0; r < 256; r += 4) {
			uint32_t v;

			pci_cfg_read32(&cfg, bdfs[i], (uint16_t)r, &v);
			memcpy(bytes + r, &v, 4);
		}
		if (cache_gen_pcsc_data(img + (data - FUZZ_BASE) + i * stride, stride, sd->S, bytes, 256))
			exit(1);
		memset(&e[i], 0, sizeof(e[i]));
		e[i].sbdf = bdfs[i];
		e[i].da = data + i * stride;
	}
	if (sd->fault == F_DA_UNALIGNED)
		e[0].da += 8;
	if (sd->fault == F_NAME_DUP)
		e[1].name = "dev_0000_00_01_0";
	if (sd->fault == F_DA_SHORT)
		e[1].da_len = 4;
	if (sd->fault == F_DA_OVERLAP)
		e[1].da = e[0].da;
	if (sd->fault == F_DA_OUTSIDE)
		e[1].da = FUZZ_BASE + 0x100000;
	pfdt = data + sd->n * stride;
	if (sd->fault == F_DA_META)
		e[1].da = pfdt + PAGE;
	if (cache_gen_pcsc_fdt(img + (pfdt - FUZZ_BASE), PAGE, NULL, e, sd->n))
		exit(1);
	map = pfdt + PAGE;

	/* Preserved: the blocks and the pcsc FDT, as one range (folios of
	 * several orders) or page by page (order 0 only: a smaller radix map). */
	if (sd->fault != F_NOT_PRESERVED && !sd->page_ranges) {
		pres[npres].start = data;
		pres[npres++].end = sd->fault == F_DA_META ? map + PAGE : map;	/* a map that lies */
	} else {
		uint64_t p = sd->fault == F_NOT_PRESERVED ? pfdt : data;

		for (; p < map; p += PAGE) {
			pres[npres].start = p;
			pres[npres++].end = p + PAGE;
		}
	}
	/* The smallest map area the writer accepts (its bitmaps go at the top). */
	for (mapsize = PAGE; mapsize <= 12 * PAGE; mapsize += PAGE) {
		memset(img + (map - FUZZ_BASE), 0, 12 * PAGE);
		err = cache_gen_kho_map(img + (map - FUZZ_BASE), mapsize, map, pres, npres, abi, bitmap,
					&first, &used);
		if (err != -PCSC_ENOSPC)
			break;
	}
	if (err)
		exit(1);
	if (sd->fault == F_RADIX_KEY0 || sd->fault == F_RADIX_ORDER) {
		uint64_t t = radix_move(img, first, 0);	/* level 5 */

		for (i = 4; i >= 2; i--)
			t = radix_move(img, t, 0);
		if (sd->fault == F_RADIX_KEY0)
			radix_move(img, t, 0);		/* level 1: the leaf at key 0 */
	}
	kfdt = map + mapsize;
	blob = fdt_totalsize(img + (pfdt - FUZZ_BASE));
	if (sd->fault == F_BLOB_SMALL)
		blob = 16;
	if (kfdt - FUZZ_BASE + PAGE > IMG_MAX ||
	    cache_gen_kho_fdt(img + (kfdt - FUZZ_BASE), PAGE, abi, sd->fault == F_COMPAT ? "kho-v9" : NULL,
			      first, pfdt, blob))
		exit(1);
	if (sd->fault == F_LUO) {
		uint8_t *h = img + (kfdt - FUZZ_BASE);

		if (fdt_open_into(h, h, PAGE) || fdt_add_subnode(h, 0, "LUO") < 0 || fdt_pack(h))
			exit(1);
	}
	if (sd->fault == F_ROOT_V16) {
		uint8_t *h = img + (kfdt - FUZZ_BASE);

		h[20] = h[21] = h[22] = 0;	/* version 16: no size_dt_struct */
		h[23] = 16;
		memset(h + 36, 0, 4);
	}

	/* Header and scratch array: a region in the header page (clear of
	 * everything else), an empty entry, a region far outside RAM. */
	put32(img + FUZZ_OFF_KHO, (uint32_t)(kfdt - FUZZ_BASE));
	img[FUZZ_OFF_MODE] = sd->mode;
	img[FUZZ_OFF_FLAGS] = (uint8_t)((sd->S == 4096 ? FUZZ_FLAG_S4096 : 0) |
					FUZZ_BITMAP_FLAG(sd->bitmap));
	put32(img + FUZZ_OFF_SCRATCH, sd->fault == F_SCRATCH_FAR ? 0x10000000u : SCRATCH_AT);
	put32(img + FUZZ_OFF_SCRATCH_SIZE, 3 * 16);
	put64(img + SCRATCH_AT, FUZZ_BASE + 0x800);
	put64(img + SCRATCH_AT + 8, 0x800);
	put64(img + SCRATCH_AT + 32, FUZZ_BASE + 0x10000000ull);
	put64(img + SCRATCH_AT + 40, 0x1000000);
	if (sd->fault == F_DA_SCRATCH) {
		put64(img + SCRATCH_AT + 16, data + stride);
		put64(img + SCRATCH_AT + 24, PAGE);
	}
	return (size_t)(kfdt - FUZZ_BASE) + fdt_totalsize(img + (kfdt - FUZZ_BASE));
}

/* The oracle on the image as written, before any session: a seed made
 * unsafe on purpose must break exactly the rule it was made for, a clean
 * one none. Proves the oracle is not vacuous each time seeds are made. */
static int self_check(const uint8_t *img, size_t n, const struct seed *sd, const char *path)
{
	struct oracle_in oi;
	const char *rule;
	char why[160];
	uint32_t v;
	enum oracle_outcome o;

	memset(&oi, 0, sizeof(oi));
	oi.ram = img;
	oi.before = img;
	oi.size = n;
	oi.base = FUZZ_BASE;
	oi.owned = FUZZ_BASE;
	oi.owned_size = FUZZ_HDR;
	memcpy(&v, img + FUZZ_OFF_KHO, 4);
	oi.kho_fdt = FUZZ_BASE + v;
	memcpy(&v, img + FUZZ_OFF_SCRATCH_SIZE, 4);
	oi.scratch_size = v;
	memcpy(&v, img + FUZZ_OFF_SCRATCH, 4);
	oi.scratch = FUZZ_BASE + v;
	oi.bitmap_forced = fuzz_bitmaps[FUZZ_FLAG_BITMAP(img[FUZZ_OFF_FLAGS])];
	/* What a correct session reads a kho-v1 map with. */
	oi.bitmap_used = oi.bitmap_forced ? oi.bitmap_forced : sd->fault == F_LUO ? 4096 : 512;
	oi.S = sd->S;
	o = oracle_judge(&oi, NULL, &rule, why, sizeof(why));
	if (sd->raw ? o == ORACLE_VIOLATION && !strcmp(rule, sd->raw) : o == ORACLE_KEPT)
		return 0;
	fprintf(stderr, "seedgen: oracle on %s: expected %s, got %s %s\n", path,
		sd->raw ? sd->raw : "kept", o == ORACLE_VIOLATION ? rule : o == ORACLE_KEPT ? "kept" :
		"unreachable", why);
	return 1;
}

int main(int argc, char **argv)
{
	static uint8_t img[IMG_BUF];
	static const struct seed seeds[] = {
		/* clean handovers: every layout, both S, every mode */
		{ "v1-512", 256, 0, 0, 4, F_NONE, 0, NULL },
		{ "v1-512", 4096, 1, 1, 3, F_NONE, 0, NULL },
		{ "v1-4096", 256, 0, 2, 4, F_NONE, 0, NULL },
		{ "v1-4096", 256, 1, 0, 4, F_NONE, 0, NULL },	/* read as 512 */
		{ "v2", 256, 0, 0, 4, F_NONE, 1, NULL },
		{ "v3", 4096, 1, 0, 3, F_NONE, 1, NULL },
		{ "v4", 256, 0, 0, 4, F_NONE, 1, NULL },
		{ "v4", 256, 2, 0, 2, F_NONE, 1, NULL },
		{ "v3", 256, 0, 0, 2, F_NONE, 0, NULL },		/* folios of orders 0 and 1 */
		{ "v1-4096", 256, 0, 1, 4, F_MAP_BITMAP, 0, NULL },	/* 512 map, forced 512 */
		{ "v1-512", 256, 0, 0, 4, F_ROOT_V16, 0, NULL },
		{ "v3", 256, 1, 0, 4, F_ROOT_V16, 1, NULL },
		{ "v1-4096", 256, 1, 0, 4, F_LUO, 0, NULL },		/* unforced, read as 4096 */
		/* damaged: the session must drop the entry or detach the cache */
		{ "v1-512", 256, 0, 2, 4, F_NONE, 0, "map" },		/* forced 4096 on a 512 map */
		{ "v1-512", 256, 0, 3, 4, F_NONE, 0, "bitmap-size" },	/* invalid forced size */
		{ "v4", 256, 0, 0, 4, F_DA_SCRATCH, 1, "entry-scratch" },
		{ "v1-512", 256, 0, 0, 4, F_DA_UNALIGNED, 0, "entry-align" },
		{ "v2", 256, 0, 0, 4, F_NAME_DUP, 1, "entry-dup" },
		{ "v3", 256, 1, 0, 4, F_DA_SHORT, 1, "entry-da" },
		{ "v4", 256, 0, 0, 2, F_COMPAT, 1, "root-compatible" },
		{ "v3", 256, 0, 0, 4, F_BLOB_SMALL, 1, "blob-size" },
		{ "v1-4096", 256, 0, 2, 4, F_SCRATCH_FAR, 0, "scratch-array" },
		{ "v4", 256, 0, 0, 4, F_NOT_PRESERVED, 1, "entry-preserved" },
		{ "v1-512", 256, 1, 0, 4, F_DA_META, 0, "entry-meta" },
		{ "v2", 256, 0, 0, 4, F_DA_OVERLAP, 1, "entry-overlap" },
		{ "v1-4096", 4096, 0, 2, 3, F_DA_OUTSIDE, 0, "entry-ram" },
		{ "v4", 256, 0, 0, 4, F_RADIX_KEY0, 1, "map" },
		{ "v2", 256, 0, 0, 4, F_RADIX_ORDER, 1, "pcsc-fdt-preserved" },
		{ "v1-512", 256, 0, 0, 4, F_LUO, 0, "map" },		/* LUO proves 4096: the map 512 */
	};
	unsigned int line, i;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: seedgen DIR\n");
		return 2;
	}
	pci_sim_init(&sim, simfuncs, 8);
	if (pci_sim_parse(&sim, fuzz_topo, sizeof(fuzz_topo) - 1, &line) || oracle_init())
		return 1;
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512];
		size_t n = make(img, &seeds[i]);
		FILE *f;

		if (n > IMG_MAX) {
			fprintf(stderr, "seedgen: seed %u is %zu bytes, above %u\n", i, n, IMG_MAX);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/seed-%02u-%s", argv[1], i, seeds[i].kho);
		f = fopen(path, "wb");
		if (!f || fwrite(img, 1, n, f) != n || fclose(f))
			return 1;
		bad |= self_check(img, n, &seeds[i], path);
	}
	return bad;
}
