/* kho.c - `pcsctool kho`: a KHO root for humans, as fdtdump is for FDTs: its ABI, the
 * preserved-memory map chunk by chunk (or node by node) and per order, every subtree, the
 * scratch regions and the map's own pages. Reads only, and walks a map only after lib/'s
 * bounded reader (kho_map_read) has accepted it. Output format: docs/pcsctool.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>
#include "pcsctool.h"

#define KHO_CMD_MAX_RANGES	(1u << 20)	/* as show: per kho_map_read array */
#define KHO_CMD_MAX_RUNS	(1u << 22)	/* per-order runs over all orders */
#define RADIX_TABLE		(1u << KHO_RADIX_TABLE_LOG2)
#define RADIX_LEAF_BYTES	((1u << KHO_RADIX_BITMAP_LOG2) / 8u)

/* The folios of one order, as runs of set bits, then sorted and merged. */
struct order_set {
	struct kho_range *r;
	uint32_t n, cap;
	uint64_t folios;
};

struct walk {
	const struct physmem *pm;
	struct order_set ord[KHO_MAX_ORDER + 1];
	uint64_t runs;		/* over all orders, bounded by KHO_CMD_MAX_RUNS */
	/* kho-v1: the first entry that proves 512-byte bitmaps, if any. */
	const char *proof;
	uint64_t proof_at;
};

static void print_str(const char *s, int len)
{
	putchar('"');
	for (int i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A name from the blob, unquoted: non-printables escaped. */
static void print_bare(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c > 0x7e || c == ',' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* A stringlist property as fdtdump shows it: "a" "b". */
static void print_stringlist(const char *p, int len)
{
	int off = 0;

	while (off < len) {
		int sl = (int)strnlen(p + off, (size_t)(len - off));

		if (off)
			putchar(' ');
		print_str(p + off, sl);
		off += sl + 1;
	}
}

static int add_run(struct walk *w, unsigned int order, uint64_t start, uint64_t end,
		   uint64_t folios)
{
	struct order_set *o = &w->ord[order];

	o->folios += folios;
	if (o->n && o->r[o->n - 1].end == start) {
		o->r[o->n - 1].end = end;
		return 0;
	}
	if (w->runs >= KHO_CMD_MAX_RUNS) {
		die_msg("kho: more than %u runs of preserved folios", KHO_CMD_MAX_RUNS);
		return EXIT_DATA;
	}
	if (o->n == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 64;
		struct kho_range *r = realloc(o->r, cap * sizeof(*r));

		if (!r) {
			die_msg("out of memory");
			return EXIT_IO;
		}
		o->r = r;
		o->cap = cap;
	}
	o->r[o->n].start = start;
	o->r[o->n].end = end;
	o->n++;
	w->runs++;
	return 0;
}

/* Runs of set bits of one bitmap (little-endian u64 words); returns the
 * folio count through *folios. Word steps, as lib's reader. */
static int add_bitmap(struct walk *w, const uint8_t *bm, uint32_t nbytes, uint64_t start,
		      unsigned int order, uint64_t *folios)
{
	unsigned int shift = order + KHO_PAGE_SHIFT;
	int rc;

	*folios = 0;
	for (uint32_t i = 0; i < nbytes / 8; i++) {
		uint64_t word;
		unsigned int b = 0;

		memcpy(&word, bm + 8 * i, 8);
		while (word) {
			unsigned int zeros = (unsigned int)__builtin_ctzll(word), ones;
			uint64_t fs;

			word >>= zeros;
			b += zeros;
			ones = ~word ? (unsigned int)__builtin_ctzll(~word) : 64u - b;
			fs = start + (((uint64_t)i * 64 + b) << shift);
			rc = add_run(w, order, fs, fs + ((uint64_t)ones << shift), ones);
			if (rc)
				return rc;
			*folios += ones;
			b += ones;
			word = ones < 64 ? word >> ones : 0;
		}
	}
	return 0;
}

/* kho-v1: every chunk, then its entries' bitmaps, in list order. */
static int walk_chunks(struct walk *w, uint64_t map, uint32_t bmb, uint32_t max_chunks)
{
	uint64_t chunk = map;
	uint32_t nc = 0;
	int rc;

	while (chunk && nc++ < max_chunks) {
		const uint8_t *c = physmem_map(w->pm, chunk, KHO_CHUNK_SIZE);
		uint64_t next;
		uint32_t order, num;

		if (!c)
			return EXIT_DATA;	/* kho_map_read mapped it: cannot happen */
		memcpy(&next, c, 8);
		memcpy(&order, c + 8, 4);
		memcpy(&num, c + 12, 4);
		printf("chunk 0x%" PRIx64 " order %u entries %u next 0x%" PRIx64 "\n", chunk, order,
		       num, next);
		for (uint32_t i = 0; i < num && i < KHO_CHUNK_MAX_ELMS; i++) {
			const uint8_t *ent = c + KHO_CHUNK_HDR_SIZE + i * KHO_CHUNK_ENTRY_SIZE;
			uint64_t start, bitmap, folios;
			uint64_t span4096 = (uint64_t)KHO_BITMAP_4096 * 8u << (order + KHO_PAGE_SHIFT);
			const uint8_t *bm;

			memcpy(&start, ent, 8);
			memcpy(&bitmap, ent + 8, 8);
			bm = physmem_map(w->pm, bitmap, bmb);
			if (!bm)
				return EXIT_DATA;
			rc = add_bitmap(w, bm, bmb, start, order, &folios);
			if (rc)
				return rc;
			printf("bitmap 0x%" PRIx64 " order %u start 0x%" PRIx64 " folios %" PRIu64 "\n",
			       bitmap, order, start, folios);
			/* docs/abi.md 1d: what only a 512-byte map can look like. */
			if (!w->proof && (bitmap & (KHO_PAGE_SIZE - 1))) {
				w->proof = "bitmap not page aligned";
				w->proof_at = bitmap;
			} else if (!w->proof && (start & (span4096 - 1))) {
				w->proof = "start not on a 32768-folio span";
				w->proof_at = start;
			}
		}
		chunk = next;
	}
	return 0;
}

static unsigned int nonzero_entries(const uint8_t *tbl)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RADIX_TABLE; i++) {
		uint64_t p;

		memcpy(&p, tbl + 8u * i, 8);
		n += p != 0;
	}
	return n;
}

/* kho-v2+: depth first from the root, one frame per level (5..1 tables,
 * their pointers at level 1 are leaves), as lib/kho_radix.c walks it. */
static int walk_radix(struct walk *w, uint64_t root, uint32_t max_nodes)
{
	struct {
		const uint8_t *tbl;
		uint64_t key;
		unsigned int idx;
	} st[KHO_RADIX_LEVELS];
	unsigned int level = KHO_RADIX_LEVELS - 1, top = level;
	uint32_t nodes = 1;
	int rc;

	st[level].tbl = physmem_map(w->pm, root, KHO_PAGE_SIZE);
	if (!st[level].tbl)
		return EXIT_DATA;
	st[level].key = 0;
	st[level].idx = 0;
	printf("node 0x%" PRIx64 " level %u entries %u\n", root, level, nonzero_entries(st[level].tbl));
	for (;;) {
		const uint8_t *page;
		uint64_t p, key;
		unsigned int i;

		if (st[level].idx == RADIX_TABLE) {
			if (level == top)
				break;
			level++;
			continue;
		}
		i = st[level].idx++;
		memcpy(&p, st[level].tbl + 8u * i, 8);
		if (!p)
			continue;
		if (nodes++ >= max_nodes)
			return EXIT_DATA;
		page = physmem_map(w->pm, p, KHO_PAGE_SIZE);
		if (!page)
			return EXIT_DATA;
		key = st[level].key |
		      (uint64_t)i << ((level - 1) * KHO_RADIX_TABLE_LOG2 + KHO_RADIX_BITMAP_LOG2);
		if (level == 1) {
			uint64_t start, folios;
			unsigned int order;

			if (kho_radix_decode(key, &start, &order))
				return EXIT_DATA;
			rc = add_bitmap(w, page, RADIX_LEAF_BYTES, start, order, &folios);
			if (rc)
				return rc;
			printf("leaf 0x%" PRIx64 " order %u start 0x%" PRIx64 " folios %" PRIu64 "\n", p,
			       order, start, folios);
			continue;
		}
		level--;
		st[level].tbl = page;
		st[level].key = key;
		st[level].idx = 0;
			printf("node 0x%" PRIx64 " level %u entries %u\n", p, level, nonzero_entries(page));
	}
	return 0;
}

/* What a subtree's data pointer leads to, and whether KHO preserved it. */
static void print_subtree_data(const struct physmem *pm, const struct kho_map *km, uint64_t p,
			       uint64_t blob_size, bool have_size)
{
	const void *hdr = physmem_map(pm, p, sizeof(struct fdt_header));
	uint64_t extent = have_size ? blob_size : KHO_PAGE_SIZE;

	if (!hdr) {
		printf(" data %s", phys_ranges_contains(&pm->ram, p, 1) ? "not-in-image" : "outside-ram");
	} else if (fdt_magic(hdr) == FDT_MAGIC) {
		uint32_t total = fdt_totalsize(hdr);
		const void *fdt = total <= KHO_FDT_MAX_SIZE * 16u ? physmem_map(pm, p, total) : NULL;

		printf(" data fdt totalsize 0x%x", total);
		if (fdt && !fdt_check_full(fdt, total)) {
			int len;
			const char *c = fdt_getprop(fdt, 0, "compatible", &len);

			if (c && len > 0) {
				printf(" compatible ");
				print_stringlist(c, len);
			}
		} else {
			printf(" unreadable");
		}
		if (!have_size)
			extent = total;
	} else {
		printf(" data raw");
	}
	if (km)
		printf(" preserved %s", extent && kho_is_preserved(km, p, extent) ? "yes" : "no");
}

/* Every child of the root: the ABI's pointer property (and blob-size). */
static unsigned int print_subtrees(const void *fdt, const struct kho_abi *abi,
				   const struct physmem *pm, const struct kho_map *km, bool *luo)
{
	unsigned int n = 0;
	int node;

	fdt_for_each_subnode(node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, NULL);
		uint64_t p = 0, bs = 0;
		bool have_p = false, have_bs = false;
		const void *v;
		int len;

		n++;
		printf("subtree ");
		print_str(name ? name : "", name ? (int)strlen(name) : 0);
		if (name && !strcmp(name, "LUO"))
			*luo = true;
		if (!abi) {	/* whatever it holds, by name */
			int prop;
			char sep = ' ';

			printf(" props");
			fdt_for_each_property_offset(prop, fdt, node) {
				const char *pn;

				if (!fdt_getprop_by_offset(fdt, prop, &pn, &len) || !pn)
					break;
				putchar(sep);
				print_bare(pn);
				sep = ',';
			}
			putchar('\n');
			continue;
		}
		v = fdt_getprop(fdt, node, abi->subtree_prop, &len);
		if (!v)
			printf(" %s missing", abi->subtree_prop);
		else if (len != 8)
			printf(" %s size %d", abi->subtree_prop, len);
		else {
			memcpy(&p, v, 8);	/* native, like every KHO property */
			have_p = true;
			printf(" %s 0x%" PRIx64, abi->subtree_prop, p);
		}
		if (abi->blob_size) {
			v = fdt_getprop(fdt, node, KHO_PROP_BLOB_SIZE, &len);
			if (!v)
				printf(" %s missing", KHO_PROP_BLOB_SIZE);
			else if (len != 8)
				printf(" %s size %d", KHO_PROP_BLOB_SIZE, len);
			else {
				memcpy(&bs, v, 8);
				have_bs = true;
				printf(" %s 0x%" PRIx64, KHO_PROP_BLOB_SIZE, bs);
			}
		}
		if (have_p)
			print_subtree_data(pm, km, p, bs, have_bs);
		putchar('\n');
	}
	return n;
}

/* The scratch array entry by entry, as kho_populate reads it. */
static int print_scratch(const struct source *s, const struct kho_map *km, unsigned int *nreg)
{
	struct phys_ranges regions;
	struct kho_range array;
	char msg[KHO_MSG_MAX];
	const uint8_t *a;
	int rc;

	*nreg = 0;
	if (!s->kho_scratch_size) {
		printf("scratch-array none\n");
		return 0;
	}
	rc = kho_scratch_read(&s->pm, s->kho_scratch, s->kho_scratch_size, &regions, &array, msg);
	if (rc) {
		die_msg("kho: %s (%s)", msg, pcsc_strerror(rc));
		return EXIT_REJECTED;
	}
	a = physmem_map(&s->pm, s->kho_scratch, s->kho_scratch_size);
	printf("scratch-array 0x%" PRIx64 " size 0x%" PRIx64 " entries %" PRIu64 "\n", s->kho_scratch,
	       s->kho_scratch_size, s->kho_scratch_size / 16);
	for (uint64_t i = 0; a && i < s->kho_scratch_size / 16; i++) {
		uint64_t ra, rs;

		memcpy(&ra, a + 16 * i, 8);
		memcpy(&rs, a + 16 * i + 8, 8);
		if (!rs) {
			printf("scratch %" PRIu64 " empty\n", i);
			continue;
		}
		printf("scratch %" PRIu64 " 0x%" PRIx64 "-0x%" PRIx64 " size 0x%" PRIx64 "\n", i, ra,
		       ra + rs, rs);
		(*nreg)++;
	}
	/* Upstream never preserves memory in scratch (docs/abi.md 4e). */
	for (uint32_t i = 0; km && i < km->n; i++)
		if (phys_ranges_overlaps(&regions, km->r[i].start, km->r[i].end - km->r[i].start))
			printf("warn preserved 0x%" PRIx64 "-0x%" PRIx64 " overlaps a scratch region\n",
			       km->r[i].start, km->r[i].end);
	return 0;
}

/* Map pages are not preserved memory (docs/abi.md): both lists are sorted
 * and merged, so one merge pass finds every overlap. */
static void warn_meta_preserved(const struct kho_map *km)
{
	uint32_t i = 0, j = 0;

	while (i < km->n && j < km->nmeta) {
		const struct kho_range *p = &km->r[i], *m = &km->meta[j];

		if (p->end <= m->start) {
			i++;
		} else if (m->end <= p->start) {
			j++;
		} else {
			printf("warn meta 0x%" PRIx64 "-0x%" PRIx64 " overlaps preserved 0x%" PRIx64
			       "-0x%" PRIx64 "\n", m->start, m->end, p->start, p->end);
			j++;
		}
	}
}

static void print_orders(struct walk *w)
{
	for (unsigned int o = 0; o <= KHO_MAX_ORDER; o++) {
		struct order_set *os = &w->ord[o];
		uint64_t size = 0;

		if (!os->folios)
			continue;
		os->n = kho_ranges_sort_merge(os->r, os->n);
		for (uint32_t i = 0; i < os->n; i++)
			size += os->r[i].end - os->r[i].start;
		printf("order %u folios %" PRIu64 " ranges %u size 0x%" PRIx64 "\n", o, os->folios,
		       os->n, size);
		for (uint32_t i = 0; i < os->n; i++)
			printf("range order %u 0x%" PRIx64 "-0x%" PRIx64 " folios %" PRIu64 "\n", o,
			       os->r[i].start, os->r[i].end,
			       (os->r[i].end - os->r[i].start) >> (o + KHO_PAGE_SHIFT));
	}
}

/* kho-v1 only: which bitmap size was read (the stub's rule, kho_v1_bitmap:
 * forced, else 4096 for a LUO root, else 512), and what the map says. */
static void print_bitmap_size(const struct walk *w, const struct kho_map *km, uint32_t forced,
			      bool luo)
{
	printf("bitmap-size %u %s", km->bitmap_bytes, forced ? "forced" : luo ? "luo" : "default");
	if (w->proof)
		printf(" evidence 512 (%s: 0x%" PRIx64 ")\n", w->proof, w->proof_at);
	else if (luo)
		printf(" evidence 4096 (LUO subtree: Linux 6.19+)\n");
	else
		printf(" evidence none (a 4096-byte map also reads as 512)\n");
}

static const char *map_name(const struct kho_abi *abi)
{
	return abi->map == KHO_MAP_RADIX ? "radix-tree" : "chunk-list";
}

/* The root's own lines: where, compatible, ABI. Returns 0 or EXIT_REJECTED
 * (no ABI, no usable map property); *abi and *map as far as known. */
static int print_root(const struct kho_info *ki, const struct kho_abi **abi, uint64_t *map,
		      bool *have_map)
{
	const char *compat;
	const void *mp;
	int len;

	printf("kho-fdt 0x%" PRIx64 " totalsize 0x%x\n", ki->fdt_phys, ki->fdt_size);
	compat = fdt_getprop(ki->fdt, 0, "compatible", &len);
	printf("compatible ");
	if (compat && len > 0)
		print_stringlist(compat, len);
	else
		printf("missing");
	putchar('\n');
	if (kho_abi_match(compat, compat ? len : 0, abi)) {
		printf("abi unknown\n");
		die_msg("kho: no KHO ABI this tool knows matches the compatible: the stub rejects this root");
		return EXIT_REJECTED;
	}
	printf("abi %s releases %s map %s subtree-prop %s blob-size %s\n", (*abi)->compatible,
	       (*abi)->releases, map_name(*abi), (*abi)->subtree_prop,
	       (*abi)->blob_size ? "yes" : "no");
	mp = fdt_getprop(ki->fdt, 0, KHO_PROP_MEM_MAP, &len);
	if (!mp || len != 8) {
		die_msg("kho: %s %s", KHO_PROP_MEM_MAP, mp ? "not 8 bytes" : "missing");
		return EXIT_REJECTED;
	}
	memcpy(map, mp, 8);	/* native u64 */
	*have_map = true;
	return 0;
}

/* lib's bounded reader first: it decides whether the map is readable at
 * all, and only a map it accepted is walked again here. */
static int read_map(const struct source *s, const struct kho_abi *abi, uint64_t map,
		    uint32_t v1_bitmap, struct kho_map *km, struct kho_range **rr,
		    struct kho_range **meta)
{
	int rc;

	*rr = calloc(KHO_CMD_MAX_RANGES, sizeof(**rr));
	*meta = calloc(KHO_CMD_MAX_RANGES, sizeof(**meta));
	if (!*rr || !*meta) {
		die_msg("out of memory");
		return EXIT_IO;
	}
	rc = kho_map_read(&s->pm, abi, map, v1_bitmap, *rr, KHO_CMD_MAX_RANGES, *meta,
			  KHO_CMD_MAX_RANGES, km);
	if (rc) {
		printf("map 0x%" PRIx64 " %s unreadable\n", map, map_name(abi));
		die_msg("kho: preserved-memory map: %s (%s)", km->msg, pcsc_strerror(rc));
		return EXIT_REJECTED;
	}
	if (abi->map == KHO_MAP_RADIX)	/* kho_radix_read counts leaves as bitmaps and nodes */
		printf("map 0x%" PRIx64 " radix-tree nodes %u tables %u leaves %u folios %" PRIu64,
		       map, km->nodes, km->nodes - km->bitmaps, km->bitmaps, km->folios);
	else
		printf("map 0x%" PRIx64 " chunk-list chunks %u bitmaps %u folios %" PRIu64, map,
		       km->chunks, km->bitmaps, km->folios);
	printf("%s\n", map ? "" : " empty");
	if (!map)
		printf("warn map 0: nothing preserved (a kho-v1 root not finalized, 6.19 - 7.0); "
		       "the next kernel does not use KHO\n");
	return 0;
}

/* Per order, merged, the map's own pages. */
static void print_ranges(struct walk *w, const struct kho_map *km)
{
	print_orders(w);
	for (uint32_t i = 0; i < km->n; i++)
		printf("preserved 0x%" PRIx64 "-0x%" PRIx64 " size 0x%" PRIx64 "\n", km->r[i].start,
		       km->r[i].end, km->r[i].end - km->r[i].start);
	for (uint32_t i = 0; i < km->nmeta; i++)
		printf("meta 0x%" PRIx64 "-0x%" PRIx64 " size 0x%" PRIx64 "\n", km->meta[i].start,
		       km->meta[i].end, km->meta[i].end - km->meta[i].start);
	warn_meta_preserved(km);
}

int cmd_kho(int argc, char **argv)
{
	struct source s = { 0 };
	struct kho_info ki;
	struct kho_map km;
	struct kho_range *rr = NULL, *meta = NULL;
	struct walk w;
	const struct kho_abi *abi = NULL;
	uint64_t map = 0;
	unsigned int nsub, nscratch = 0;
	bool have_map = false, luo = false;
	int rc, status;

	for (int i = 1; i < argc; i++) {
		rc = source_arg(&s, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (!rc) {
			die_msg("kho: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = source_open(&s);
	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	w.pm = &s.pm;
	/* kho_open's pcsc-specific verdicts (no pcsc child, two of them) do
	 * not matter here: a KHO root is shown whatever its subtrees are. */
	kho_open(&s.pm, s.kho_fdt, 0, &ki);
	if (!ki.checked) {
		die_msg("kho: KHO root FDT at 0x%" PRIx64 ": %s", s.kho_fdt, ki.msg);
		free(s.r.mem);
		return EXIT_REJECTED;
	}
	status = print_root(&ki, &abi, &map, &have_map);
	if (have_map) {
		/* The size the stub would read: a LUO root is read at 4096. */
		rc = read_map(&s, abi, map, kho_v1_bitmap(&ki, s.kho_bitmap), &km, &rr, &meta);
		if (rc == EXIT_IO)
			return rc;
		have_map = !rc;
		status = status ? status : rc;
	}
	nsub = print_subtrees(ki.fdt, abi, &s.pm, have_map ? &km : NULL, &luo);
	if (have_map && map) {
		rc = abi->map == KHO_MAP_RADIX ? walk_radix(&w, map, km.nodes) :
		     walk_chunks(&w, map, km.bitmap_bytes, km.chunks);
		if (rc) {
			die_msg("kho: the second walk of the map failed where kho_map_read did not");
			return rc;
		}
	}
	if (have_map && abi->map == KHO_MAP_CHUNKS)
		print_bitmap_size(&w, &km, s.kho_bitmap, luo);
	if (have_map)
		print_ranges(&w, &km);
	rc = print_scratch(&s, have_map ? &km : NULL, &nscratch);
	status = status ? status : rc;
	printf("kho: %s, %u subtrees, %" PRIu64 " folios in %u preserved ranges, %u scratch regions, "
	       "%u metadata ranges\n", abi ? abi->compatible : "unknown", nsub,
	       have_map ? km.folios : 0, have_map ? km.n : 0, nscratch, have_map ? km.nmeta : 0);
	for (unsigned int o = 0; o <= KHO_MAX_ORDER; o++)
		free(w.ord[o].r);
	free(rr);
	free(meta);
	free(s.r.mem);
	return status;
}
