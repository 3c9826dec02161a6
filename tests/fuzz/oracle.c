/* oracle.c - judges what a session left for the next kernel, from the memory image alone: no
 * pcsc child reachable, or every entry left is safe to adopt. It must share no code with lib/. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libfdt.h>
#include "oracle.h"

/*
 * Facts restated from SPEC §2.1/§2.2 on purpose, not taken from include/:
 * if lib/ and this file disagree, one of them is wrong and the fuzzer says so.
 */
#define PG			4096ull
#define CHUNK_HDR		16u	/* {u64 next; u32 order; u32 num_elms} */
#define CHUNK_ENTRY		16u	/* {u64 phys_start; u64 bitmap} */
#define CHUNK_MAX		((PG - CHUNK_HDR) / CHUNK_ENTRY)
#define RADIX_ORDER0_BIT	52u	/* key = 1 << (52 - order) | pa >> (12 + order) */
#define RADIX_TABLE		512u
#define RADIX_LEAF_BITS		32768u
#define SCRATCH_ENTRY		16u	/* {u64 addr; u64 size} */
#define SHADOW_SIZE		((1ull << 32) + 2 * PG)

typedef unsigned __int128 u128;

static const struct abi {
	const char *compatible;
	bool radix;
	const char *subtree_prop;
	bool blob_size;
} abis[] = {
	{ "kho-v1", false, "fdt", false },
	{ "kho-v2", true, "preserved-data", false },
	{ "kho-v3", true, "preserved-data", true },
	{ "kho-v4", true, "preserved-data", true },
};

/* What each RAM page is to the next kernel. */
enum { P_PRES = 1, P_META = 2, P_SCRATCH = 4, P_TAKEN = 8, P_SEEN = 16 };

struct ctx {
	const struct oracle_in *in;
	uint64_t end;		/* first byte after RAM */
	uint8_t *pg;		/* P_* per RAM page */
	size_t npages;
	const char **rule;
	char *why;
	size_t whylen;
	uint64_t map;		/* the map judge decoded, and its kind */
	bool radix;
};

/* A zero-filled 4 GiB window: the KHO root is looked up in a copy of its
 * bytes that are in RAM, everything past RAM reading as zeros, so libfdt
 * can follow whatever totalsize claims without leaving mapped memory. */
static uint8_t *shadow;

int oracle_init(void)
{
	void *p;

	if (shadow)
		return 0;
	p = mmap(NULL, SHADOW_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shadow = p;
	return 0;
}

/* Record the broken rule; returns 1 so callers can `return bad(...)`. */
static int bad(struct ctx *c, const char *rule, const char *fmt, ...)
{
	va_list ap;

	*c->rule = rule;
	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return 1;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);	/* KHO data is native-endian */
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool in_ram(const struct ctx *c, uint64_t a, u128 len)
{
	return a >= c->in->base && (u128)a + len <= c->end;
}

static const uint8_t *at(const struct ctx *c, uint64_t a)
{
	return c->in->ram + (a - c->in->base);
}

/* Flag every RAM page that [a, e) touches (e up to 2^64). */
static void mark(struct ctx *c, uint64_t a, u128 e, uint8_t flag)
{
	uint64_t lo = a > c->in->base ? a : c->in->base;
	u128 hi = e < c->end ? e : c->end;
	uint64_t i;

	if (hi <= lo)
		return;
	for (i = (lo - c->in->base) / PG; i <= ((uint64_t)hi - 1 - c->in->base) / PG; i++)
		c->pg[i] |= flag;
}

/* Flag the RAM pages [a, e) wholly covers (a preserved folio is the
 * whole page or nothing: part of one is not a preserved page). */
static void mark_whole(struct ctx *c, uint64_t a, u128 e, uint8_t flag)
{
	u128 lo = ((u128)a + PG - 1) & ~(u128)(PG - 1), hi = e & ~(u128)(PG - 1);
	u128 i;

	if (lo < c->in->base)
		lo = c->in->base;
	if (hi > c->end)
		hi = c->end;
	for (i = lo; i + PG <= hi; i += PG)
		c->pg[(uint64_t)(i - c->in->base) / PG] |= flag;
}

/* Pages of [a, a+len) (inside RAM) with any of flags; all of flags when all. */
static bool pages_have(const struct ctx *c, uint64_t a, uint64_t len, uint8_t flags, bool all)
{
	uint64_t i;

	for (i = (a - c->in->base) / PG; i <= (a + len - 1 - c->in->base) / PG; i++) {
		bool has = all ? (c->pg[i] & flags) == flags : (c->pg[i] & flags) != 0;

		if (has != all)
			return !all;
	}
	return all;
}

static uint64_t page_align(uint64_t x)
{
	return (x + PG - 1) & ~(PG - 1);
}

/* The totalsize of an FDT header at phys a in image img, 0 if none is there. */
static uint32_t fdt_size_at(const struct ctx *c, const uint8_t *img, uint64_t a)
{
	const uint8_t *p;

	if (!in_ram(c, a, 8))
		return 0;
	p = img + (a - c->in->base);
	return be32(p) == FDT_MAGIC ? be32(p + 4) : 0;
}

/* --- 1. is there a pcsc child for the next kernel's lookup to find? --- */

static bool root_reachable(const struct ctx *c)
{
	uint64_t a = c->in->kho_fdt, lo, hi, n = 0;
	uint8_t *sh = shadow + (a & (PG - 1));	/* keep the address's alignment */
	bool found;

	/* Bytes of [a, a + 4 GiB) that are RAM; libfdt reads no further. */
	lo = a > c->in->base ? a : c->in->base;
	hi = a + (1ull << 32) < a ? UINT64_MAX : a + (1ull << 32);
	if (hi > c->end)
		hi = c->end;
	if (lo < hi) {
		n = hi - lo;
		memcpy(sh + (lo - a), at(c, lo), n);
	}
	found = fdt_check_header(sh) == 0 && fdt_subnode_offset(sh, 0, "pcsc") >= 0;
	if (n)
		memset(sh + (lo - a), 0, n);
	return found;
}

/* The root as it was before the session passes fdt_check_full (on an
 * 8-byte aligned copy: the pre-session image need not be aligned). */
static bool root_sound(const struct ctx *c, uint32_t total)
{
	void *copy;
	bool ok;

	if (total < 40 || !in_ram(c, c->in->kho_fdt, total))
		return false;
	copy = malloc(total);
	if (!copy)
		abort();
	memcpy(copy, c->in->before + (c->in->kho_fdt - c->in->base), total);
	ok = fdt_check_full(copy, total) == 0;
	free(copy);
	return ok;
}

/* --- 2. the preserved-memory map, decoded as the next kernel decodes it --- */

static int map_page(struct ctx *c, uint64_t p, const char *what,
				    const uint8_t **page)
{
	if (p & (PG - 1))
		return bad(c, "map", "%s 0x%llx not page aligned", what, (unsigned long long)p);
	if (!in_ram(c, p, PG))
		return bad(c, "map", "%s 0x%llx not in RAM", what, (unsigned long long)p);
	if (c->pg[(p - c->in->base) / PG] & P_SEEN)
		return bad(c, "map", "%s 0x%llx read twice (loop or shared page)", what,
			   (unsigned long long)p);
	c->pg[(p - c->in->base) / PG] |= P_SEEN | P_META;
	*page = at(c, p);
	return 0;
}

/* Folios k of [start + (k << shift), +1 << shift) for each set bit k of bm
 * (nbits, little-endian words): only the bits whose folio meets RAM. */
static void mark_bits(struct ctx *c, const uint8_t *bm, uint32_t nbits, uint64_t start,
		      unsigned int shift)
{
	uint64_t klo, khi, k;

	if (start >= c->end)
		return;
	klo = c->in->base > start ? (c->in->base - start) >> shift : 0;
	khi = (c->end - 1 - start) >> shift;
	if (khi >= nbits)
		khi = nbits - 1;
	for (k = klo; k <= khi; k++)
		if (bm[k / 8] & (1u << (k % 8))) {
			uint64_t fs = start + (k << shift);

			mark_whole(c, fs, (u128)fs + ((u128)1 << shift), P_PRES);
		}
}

static int decode_chunks(struct ctx *c, uint64_t chunk, uint32_t bmbytes, bool forced4096)
{
	while (chunk) {
		const uint8_t *ch;
		uint32_t order, num, i;
		unsigned int shift;

		if (map_page(c, chunk, "kho-v1 chunk", &ch))
			return 1;
		order = rd32(ch + 8);
		num = rd32(ch + 12);
		if (num > CHUNK_MAX)
			return bad(c, "map", "chunk 0x%llx claims %u entries", (unsigned long long)chunk,
				   num);
		if (order > 63 - 12)
			return bad(c, "map", "chunk 0x%llx order %u: folio past 2^64",
				   (unsigned long long)chunk, order);
		shift = order + 12;
		for (i = 0; i < num; i++) {
			const uint8_t *e = ch + CHUNK_HDR + i * CHUNK_ENTRY;
			uint64_t start = rd64(e), bm = rd64(e + 8);
			u128 span = (u128)bmbytes * 8u << shift;

			if (!in_ram(c, bm, bmbytes))
				return bad(c, "map", "bitmap 0x%llx+%u not in RAM",
					   (unsigned long long)bm, bmbytes);
			mark(c, bm, (u128)bm + bmbytes, P_META);
			/* A 4096-byte kernel page-allocates each bitmap and starts
			 * it on a 32768-folio boundary: anything else is a map a
			 * 512-byte kernel wrote, whatever the operator or a LUO
			 * child said. */
			if (forced4096 && ((bm & (PG - 1)) || (u128)start % span))
				return bad(c, "map", "forced 4096 but entry 0x%llx/0x%llx proves 512",
					   (unsigned long long)start, (unsigned long long)bm);
			if ((u128)start + span > ((u128)1 << 64))
				return bad(c, "map", "entry 0x%llx order %u passes 2^64",
					   (unsigned long long)start, order);
			mark_bits(c, at(c, bm), bmbytes * 8u, start, shift);
		}
		chunk = rd64(ch);
	}
	return 0;
}

/* A leaf: bit i is key | i (the kernel's kho_radix_walk_leaf). */
static int radix_leaf(struct ctx *c, const uint8_t *leaf, uint64_t key)
{
	unsigned int h, i;

	if (key) {
		/* The order bit is above the leaf's 15 bits: one order. */
		h = 63u - (unsigned int)__builtin_clzll(key);
		if (h > RADIX_ORDER0_BIT)
			return bad(c, "map", "radix leaf key 0x%llx above the order-0 bit",
				   (unsigned long long)key);
		mark_bits(c, leaf, RADIX_LEAF_BITS, (key ^ (1ull << h)) << (12 + RADIX_ORDER0_BIT - h),
			  12 + RADIX_ORDER0_BIT - h);
		return 0;
	}
	/* Key 0: every bit carries its own order (38 and above). */
	for (i = 0; i < RADIX_LEAF_BITS; i++) {
		unsigned int shift;
		uint64_t pa;

		if (!(leaf[i / 8] & (1u << (i % 8))))
			continue;
		h = i ? 31u - (unsigned int)__builtin_clz(i) : 0;
		shift = 12 + RADIX_ORDER0_BIT - h;
		if (!i || shift > 63)
			return bad(c, "map", "radix key 0x%x has no order a shift can express", i);
		pa = (uint64_t)(i ^ (1u << h)) << shift;
		mark_whole(c, pa, (u128)pa + ((u128)1 << shift), P_PRES);
	}
	return 0;
}

static int radix_table(struct ctx *c, const uint8_t *tbl, unsigned int level,
				       uint64_t prefix)
{
	unsigned int i;

	for (i = 0; i < RADIX_TABLE; i++) {
		uint64_t p = rd64(tbl + 8u * i);
		uint64_t key = prefix | (uint64_t)i << ((level - 1) * 9 + 15);
		const uint8_t *node;

		if (!p)
			continue;
		if (map_page(c, p, level == 1 ? "radix leaf" : "radix table", &node))
			return 1;
		if (level == 1 ? radix_leaf(c, node, key) : radix_table(c, node, level - 1, key))
			return 1;
	}
	return 0;
}

static int decode_radix(struct ctx *c, uint64_t root)
{
	const uint8_t *tbl;

	if (!root)
		return 0;
	if (map_page(c, root, "radix root", &tbl))
		return 1;
	return radix_table(c, tbl, 5, 0);
}

/* --- 3. the pcsc FDT and its entries --- */

static bool hexdigits(const char *s, unsigned int n, unsigned int *v)
{
	unsigned int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= '0' && ch <= '9')
			*v = *v << 4 | (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*v = *v << 4 | (unsigned int)(ch - 'a' + 10);
		else
			return false;
	}
	return true;
}

/* dev_%04x_%02x_%02x_%x of (domain, bus, slot <= 0x1f, function <= 7). */
static bool name_ok(const char *n, int len)
{
	unsigned int seg, bus, slot, fn;

	return len == 16 && !memcmp(n, "dev_", 4) && n[8] == '_' && n[11] == '_' && n[14] == '_' &&
	       hexdigits(n + 4, 4, &seg) && hexdigits(n + 9, 2, &bus) &&
	       hexdigits(n + 12, 2, &slot) && hexdigits(n + 15, 1, &fn) && slot <= 0x1f && fn <= 7;
}

static int name_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int check_entries(struct ctx *c, const void *fdt)
{
	uint64_t alloc = page_align((uint64_t)c->in->S + 2u * (c->in->S / 8u));
	char (*names)[16];
	int node, n = 0, i;

	fdt_for_each_subnode(node, fdt, 0)
		n++;
	names = calloc((size_t)n + 1, 16);
	if (!names)
		abort();
	n = 0;
	fdt_for_each_subnode(node, fdt, 0) {
		const char *name;
		const void *da;
		uint64_t d;
		int len;

		name = fdt_get_name(fdt, node, &len);
		if (!name || !name_ok(name, len)) {
			free(names);
			return bad(c, "entry-name", "entry \"%.*s\" kept", len > 0 && len < 40 ? len : 0,
				   name ? name : "");
		}
		memcpy(names[n++], name, 16);
		da = fdt_getprop(fdt, node, "da", &len);
		if (!da || len != 8) {
			free(names);
			return bad(c, "entry-da", "%.16s kept with a %d-byte da", name, da ? len : -1);
		}
		d = rd64(da);
		if (d & (PG - 1))
			i = bad(c, "entry-align", "%.16s da 0x%llx", name, (unsigned long long)d);
		else if (!in_ram(c, d, alloc))
			i = bad(c, "entry-ram", "%.16s da 0x%llx+0x%llx", name,
				     (unsigned long long)d, (unsigned long long)alloc);
		else if (!pages_have(c, d, alloc, P_PRES, true))
			i = bad(c, "entry-preserved", "%.16s da 0x%llx", name, (unsigned long long)d);
		else if (pages_have(c, d, alloc, P_META, false))
			i = bad(c, "entry-meta", "%.16s da 0x%llx", name, (unsigned long long)d);
		else if (pages_have(c, d, alloc, P_SCRATCH, false))
			i = bad(c, "entry-scratch", "%.16s da 0x%llx", name, (unsigned long long)d);
		else if (pages_have(c, d, alloc, P_TAKEN, false))
			i = bad(c, "entry-overlap", "%.16s da 0x%llx", name, (unsigned long long)d);
		else
			i = 0;
		if (i) {
			free(names);
			return 1;
		}
		mark(c, d, (u128)d + alloc, P_TAKEN);
	}
	qsort(names, (size_t)n, 16, name_cmp);
	for (i = 1; i < n; i++)
		if (!memcmp(names[i - 1], names[i], 16)) {
			bad(c, "entry-dup", "%.16s kept twice", names[i]);
			free(names);
			return 1;
		}
	free(names);
	return 0;
}

static int check_pcsc_fdt(struct ctx *c, uint64_t pf, bool has_blob,
					  uint64_t blob)
{
	uint32_t total, before;
	uint64_t room;
	const void *fdt;

	if (pf & (PG - 1))
		return bad(c, "pcsc-fdt", "pcsc FDT 0x%llx not page aligned", (unsigned long long)pf);
	total = fdt_size_at(c, c->in->ram, pf);
	if (!total || !in_ram(c, pf, total) || total < 40)
		return bad(c, "pcsc-fdt", "pcsc FDT 0x%llx: no FDT wholly in RAM there",
			   (unsigned long long)pf);
	fdt = at(c, pf);
	if (fdt_version(fdt) != 17 || fdt_check_full(fdt, total) ||
	    fdt_node_check_compatible(fdt, 0, "pcsc-v1"))
		return bad(c, "pcsc-fdt", "pcsc FDT 0x%llx is not a sound pcsc-v1 FDT",
			   (unsigned long long)pf);
	if (has_blob && blob < total)
		return bad(c, "blob-size", "blob-size %llu below totalsize %u",
			   (unsigned long long)blob, total);
	/* Its pages: what it was preserved with before the session, what it
	 * uses now and what blob-size says. */
	before = fdt_size_at(c, c->in->before, pf);
	room = before > total ? before : total;
	if (has_blob && blob > room)
		room = blob;
	room = page_align(room);
	if (!in_ram(c, pf, room) || !pages_have(c, pf, room, P_PRES, true))
		return bad(c, "pcsc-fdt-preserved", "pcsc FDT 0x%llx+0x%llx not preserved",
			   (unsigned long long)pf, (unsigned long long)room);
	if (pages_have(c, pf, room, P_META | P_SCRATCH, false))
		return bad(c, "pcsc-fdt-overlap",
			   "pcsc FDT 0x%llx+0x%llx overlaps KHO metadata, scratch or the stub",
			   (unsigned long long)pf, (unsigned long long)room);
	mark(c, pf, (u128)pf + room, P_META);
	return check_entries(c, fdt);
}

/* --- the judgement --- */

static const struct abi *root_abi(const void *root)
{
	const struct abi *found = NULL;
	const char *s;
	int len, off;
	unsigned int i;

	s = fdt_getprop(root, 0, "compatible", &len);
	for (off = 0; s && off < len;) {
		size_t sl = strnlen(s + off, (size_t)(len - off));

		for (i = 0; off + (int)sl < len && i < sizeof(abis) / sizeof(abis[0]); i++)
			if (!strcmp(s + off, abis[i].compatible)) {
				if (found && found != &abis[i])
					return NULL;	/* two ABIs: no single reading */
				found = &abis[i];
			}
		off += (int)sl + 1;
	}
	return found;
}

/* 0: nothing reachable (*kept false) or all safe (*kept true); 1: a rule broken. */
static int judge(struct ctx *c, bool *kept)
{
	const struct oracle_in *in = c->in;
	const struct abi *abi;
	const void *root, *p;
	uint64_t pf, map, blob = 0;
	uint32_t total, before, i;
	int node, len, npcsc = 0;
	int o;

	*kept = root_reachable(c);
	if (!*kept)
		return 0;

	/* A pcsc child survives: the session must have verified all of it. */
	total = fdt_size_at(c, in->ram, in->kho_fdt);
	if (!in_ram(c, in->kho_fdt, total < 40 ? 40 : total))
		return bad(c, "root-outside-ram", "KHO root 0x%llx+%u runs past RAM",
			   (unsigned long long)in->kho_fdt, total);
	root = at(c, in->kho_fdt);
	/* The session can only have verified a root libfdt fully accepts; the
	 * next kernel itself checks no more than the header, so the root as
	 * left (the blob-size rewrite included) need only read the same. */
	before = fdt_size_at(c, in->before, in->kho_fdt);
	if (!root_sound(c, before))
		return bad(c, fdt_version(root) < 17 ? "root-corrupt-oldversion" : "root-corrupt",
			   "KHO root (version %u) as the session found it fails fdt_check_full",
			   (unsigned int)fdt_version(root));
	abi = root_abi(root);
	if (!abi)
		return bad(c, "root-compatible", "KHO root of no single known ABI");
	fdt_for_each_subnode(node, root, 0) {
		const char *n = fdt_get_name(root, node, &len);

		if (n && len >= 4 && !memcmp(n, "pcsc", 4) && (len == 4 || n[4] == '@'))
			npcsc++;
	}
	if (npcsc != 1)
		return bad(c, "pcsc-children", "%d pcsc children kept", npcsc);
	p = fdt_getprop(root, 0, "preserved-memory-map", &len);
	if (!p || len != 8)
		return bad(c, "root-map-prop", "preserved-memory-map missing or %d bytes", len);
	map = rd64(p);
	node = fdt_subnode_offset(root, 0, "pcsc");
	p = fdt_getprop(root, node, abi->subtree_prop, &len);
	if (!p || len != 8)
		return bad(c, "subtree-prop", "pcsc %s missing or %d bytes", abi->subtree_prop, len);
	pf = rd64(p);
	if (abi->blob_size) {
		p = fdt_getprop(root, node, "blob-size", &len);
		if (!p || len != 8)
			return bad(c, "blob-size-prop", "blob-size missing or %d bytes", len);
		blob = rd64(p);
	}

	/* Metadata and scratch before the map: the stub, the root as it was
	 * and is, the scratch array and its regions. */
	mark(c, in->owned, (u128)in->owned + in->owned_size, P_META);
	mark(c, in->kho_fdt, (u128)in->kho_fdt + (before > total ? before : total), P_META);
	if (in->scratch_size) {
		if (!in_ram(c, in->scratch, in->scratch_size))
			return bad(c, "scratch-array", "scratch array 0x%llx+0x%llx not in RAM",
				   (unsigned long long)in->scratch, (unsigned long long)in->scratch_size);
		mark(c, in->scratch, (u128)in->scratch + in->scratch_size, P_META);
		for (i = 0; i < in->scratch_size / SCRATCH_ENTRY; i++) {
			const uint8_t *e = at(c, in->scratch + (uint64_t)i * SCRATCH_ENTRY);
			uint64_t a = rd64(e), s = rd64(e + 8);

			if (s)
				mark(c, a, (u128)a + s, P_SCRATCH);
		}
	}

	c->map = map;
	c->radix = abi->radix;
	if (abi->radix) {
		o = decode_radix(c, map);
	} else {
		/* The size a correct session reads: the operator's, else 4096
		 * when a LUO child proves Linux 6.19+ (docs/abi.md), else 512. */
		uint32_t want = in->bitmap_forced;

		if (!want)
			want = fdt_subnode_offset(root, 0, "LUO") >= 0 ? 4096 : 512;
		if (want != 512 && want != 4096)
			return bad(c, "bitmap-size", "kho_bitmap %u is no size, yet the cache was kept",
				   want);
		if (in->bitmap_used != want)
			return bad(c, "bitmap-size", "kho-v1 read with %u-byte bitmaps, %u expected",
				   in->bitmap_used, want);
		o = decode_chunks(c, map, want, want == 4096);
	}
	if (o)
		return o;
	return check_pcsc_fdt(c, pf, abi->blob_size, blob);
}

enum oracle_outcome oracle_judge(const struct oracle_in *in, struct oracle_map *map,
				 const char **rule, char *why, size_t whylen)
{
	struct ctx c;
	bool kept = false;
	int v;

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.end = in->base + in->size;
	c.npages = (in->size + PG - 1) / PG;
	c.pg = calloc(c.npages + 1, 1);
	c.rule = rule;
	c.why = why;
	c.whylen = whylen;
	*rule = NULL;
	if (whylen)
		why[0] = 0;
	if (!c.pg || !shadow)
		abort();
	v = judge(&c, &kept);
	if (!v && kept && map) {
		size_t i;

		map->phys = c.map;
		map->radix = c.radix;
		for (i = 0; i < c.npages; i++)
			map->preserved[i] = (c.pg[i] & P_PRES) != 0;
	}
	free(c.pg);
	return v ? ORACLE_VIOLATION : kept ? ORACLE_KEPT : ORACLE_UNREACHABLE;
}
