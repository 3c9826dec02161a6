/* pcsc/kho.h - reader of the Kexec HandOver (KHO) root FDT and its preserved-memory map.
 * It only reads through physmem_map and never trusts a pointer or a size it has not bounded. */
#ifndef PCSC_KHO_H
#define PCSC_KHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/physmem.h>

/* ABI facts, see docs/abi.md for where each was confirmed. */
#define KHO_PAGE_SHIFT		12
#define KHO_PAGE_SIZE		4096u
#define KHO_PROP_MEM_MAP	"preserved-memory-map"
#define KHO_PROP_BLOB_SIZE	"blob-size"	/* kho-v3+: u64 per subtree */
/* kho-v1 chunk list (6.16 - 7.0) */
#define KHO_CHUNK_SIZE		4096u	/* struct khoser_mem_chunk is one page */
#define KHO_CHUNK_HDR_SIZE	16u	/* {u64 next; u32 order; u32 num_elms} */
#define KHO_CHUNK_ENTRY_SIZE	16u	/* {u64 phys_start; u64 bitmap} */
#define KHO_CHUNK_MAX_ELMS	((KHO_CHUNK_SIZE - KHO_CHUNK_HDR_SIZE) / KHO_CHUNK_ENTRY_SIZE)	/* 255 */
#define KHO_BITMAP_512		512u	/* 6.16, 6.17: PRESERVE_BITS = 512 * 8 */
#define KHO_BITMAP_4096		4096u	/* 6.18 - 7.0: PRESERVE_BITS = PAGE_SIZE * 8 */
#define KHO_LUO_NODE		"LUO"	/* Live Update Orchestrator subtree, 6.19 on */
/* kho-v2+ radix tree (7.1 on): every node one page; key = 1 << (52 - order)
 * | pa >> (12 + order); level L (5..1) indexes key bits [(L-1)*9 + 15, +9),
 * the level-0 leaf is a 32768-bit bitmap of key bits [0, 15). */
#define KHO_RADIX_ORDER0_LOG2	52u	/* 64 - PAGE_SHIFT */
#define KHO_RADIX_TABLE_LOG2	9u	/* 512 u64 pointers per node */
#define KHO_RADIX_BITMAP_LOG2	15u	/* PAGE_SIZE * 8 bits per leaf */
#define KHO_RADIX_LEVELS	6u	/* 5 table levels + the leaf */

/* Limits this reader enforces (not ABI): anything beyond is corrupt. */
#define KHO_MAX_ORDER		30u	/* folio of 4 TiB: far above MAX_PAGE_ORDER */
#define KHO_MAX_CHUNKS		65536u
/* Bitmaps over the whole map: each covers 4096 folios, so 16384 of them
 * describe 64 Gi folios; a real map of a cache of 65,536 devices uses a few
 * hundred. Bounds the stub's work on a hostile map to ~1 M word steps. */
#define KHO_MAX_BITMAPS		16384u
/* Radix-tree node pages (tables and leaves): a leaf covers 128 MiB of
 * order-0 pages, so 16384 pages describe ~2 TiB of 4 KiB preserved pages. */
#define KHO_MAX_RADIX_NODES	16384u
/* Scratch regions: upstream has one per memory node + 2. */
#define KHO_MAX_SCRATCH		64u
#define KHO_FDT_MAX_SIZE	(1u << 20)
#define KHO_MSG_MAX		96

/* How the preserved-memory map is laid out. */
enum kho_map_kind {
	KHO_MAP_CHUNKS,		/* kho-v1: chunk list of bitmaps per order */
	KHO_MAP_RADIX,		/* kho-v2+: 6-level radix tree */
};

/* One KHO ABI this reader speaks, keyed by the root's compatible. Nothing
 * else in lib/ compares a version string: callers branch on these fields.
 * The strings are arrays in the row, not pointers: a pointer costs a
 * relocation in the static-pie image. Each is NUL-terminated (test_kho). */
struct kho_abi {
	char compatible[8];		/* "kho-v1" ... */
	enum kho_map_kind map;
	char subtree_prop[16];		/* u64 phys of a subtree's blob */
	bool blob_size;			/* subtrees also carry u64 "blob-size" */
	char releases[24];		/* Linux releases that write it (humans) */
};

extern const struct kho_abi kho_abis[];
extern const unsigned int kho_nabis;

/*
 * kho_abi_match - the one row whose compatible is in the stringlist
 * compat[0..len) (as fdt_node_check_compatible would match it).
 * Returns 0 (*abi set); -PCSC_ECOMPAT (none, or two rows match: ambiguous).
 */
int kho_abi_match(const char *compat, int len, const struct kho_abi **abi);

/*
 * kho_abi_by_name - a KHO layout named as pcsctool and the bench name them:
 * "v1-512", "v1-4096", "v2", "v3", "v4". *bitmap is the kho-v1 bitmap size
 * (0 for radix layouts). Returns 0; -PCSC_EINVAL (unknown name).
 */
int kho_abi_by_name(const char *name, const struct kho_abi **abi, uint32_t *bitmap);

/* A half-open physical range [start, end). */
struct kho_range {
	uint64_t start;
	uint64_t end;
};

/* What kho_open found in the root FDT. */
struct kho_info {
	uint64_t fdt_phys;
	void *fdt;		/* mapped root FDT (writable: detach NOPs a node);
				 * set whenever the header was readable and the
				 * blob mappable, even if a later check failed */
	uint32_t fdt_size;	/* fdt_totalsize, or what was mappable when truncated */
	bool truncated;		/* totalsize runs past 1 MiB or past RAM: only
				 * fdt_size bytes are mapped (never checked) */
	bool checked;		/* fdt_check_full passed: libfdt may edit it */
	const struct kho_abi *abi;	/* the root's ABI, NULL when unknown */
	uint64_t map_phys;	/* preserved-memory-map, 0 when the map is empty */
	int pcsc_node;		/* offset of the "pcsc" child, or -1 */
	int npcsc;		/* children named "pcsc" or "pcsc@..." */
	uint64_t pcsc_fdt_phys;	/* its abi->subtree_prop, 0 when absent */
	uint64_t pcsc_blob_size;	/* its "blob-size" (abi->blob_size), else 0 */
	bool has_luo;		/* a "LUO" child: Linux 6.19+, so kho-v1 bitmaps
				 * are PAGE_SIZE (docs/abi.md 1d) */
	char msg[KHO_MSG_MAX];	/* why kho_open failed, "" on success */
};

/*
 * kho_open - map and validate the KHO root FDT at fdt_phys: header readable
 * inside RAM, totalsize <= KHO_FDT_MAX_SIZE and fully mapped (ki->fdt),
 * fdt_check_full clean (ki->checked), then ki->pcsc_node/npcsc, then the
 * compatible against kho_abis (ki->abi), preserved-memory-map a u64, and
 * the pcsc child's abi->subtree_prop (and "blob-size") as u64s.
 * totalsize above max_size (0: KHO_FDT_MAX_SIZE) fails after mapping, so a
 * caller can still detach; a totalsize above KHO_FDT_MAX_SIZE or past RAM
 * maps what RAM holds of the first KHO_FDT_MAX_SIZE bytes (ki->truncated)
 * and fails.
 * Returns 0 (ki filled, pcsc_node >= 0, npcsc == 1);
 * -PCSC_EALIGN (fdt_phys not 8-byte aligned);
 * -PCSC_ENOTRAM (header or blob not mappable: ki->msg says which),
 * -PCSC_EBADFDT (bad magic/version/structure, blocks overlapping,
 *   totalsize below the header or above the bound),
 * -PCSC_ENOTFOUND (no "pcsc" child: pcsc_node -1, npcsc 0; or the child
 *   lacks its subtree property or blob-size),
 * -PCSC_EDUP (more than one pcsc child),
 * -PCSC_ECOMPAT (compatible missing, unknown or ambiguous; msg names it),
 * -PCSC_EPROPSIZE (preserved-memory-map missing, or it, the subtree
 *   property or blob-size not 8 bytes).
 * The pcsc child is looked for before the compatible is judged, so every
 * error after ki->checked leaves pcsc_node/npcsc true for a detach.
 * ki->msg is always a NUL-terminated sentence fragment.
 */
int kho_open(const struct physmem *pm, uint64_t fdt_phys, uint64_t max_size, struct kho_info *ki);

/* The preserved-memory map after one bounded pass. */
struct kho_map {
	struct kho_range *r;	/* preserved ranges, sorted, merged */
	uint32_t n, cap;
	struct kho_range *meta;	/* the map's own pages (chunks, bitmaps, nodes), sorted */
	uint32_t nmeta, metacap;
	bool compact_r, compact_meta;	/* internal: in-place merging still allowed */
	enum kho_map_kind kind;
	uint32_t bitmap_bytes;	/* kho-v1: the bitmap size read (512/4096) */
	uint32_t chunks;	/* chunks visited (kho-v1) */
	uint32_t nodes;		/* radix node pages visited, leaves included */
	uint64_t folios;	/* bits set */
	uint32_t bitmaps;	/* bitmaps read (kho-v1 entries, radix leaves) */
	char msg[KHO_MSG_MAX];
};

/*
 * kho_v1_bitmap - the kho-v1 bitmap size to read: forced (512 or 4096, the
 * pcsc.kho_bitmap= option) when given; else 4096 when the root proves its
 * kernel writes PAGE_SIZE bitmaps (a LUO subtree: 6.19 on); else 0 (read
 * 512, the only size a map itself can be proven to have). A size from the
 * LUO proof is read as forced: a map that proves 512 is then refused.
 */
uint32_t kho_v1_bitmap(const struct kho_info *ki, uint32_t forced);

/*
 * kho_map_read - read the preserved-memory map at map_phys (0 = empty) in
 * the layout abi names (NULL: kho-v1) into r[] (cap ranges) and meta[]
 * (metacap ranges), both in the caller's arena, then sort and merge.
 * v1_bitmap is the kho-v1 bitmap size: 0 (not forced: 512, the only size a
 * map can be proven to have), KHO_BITMAP_512 or KHO_BITMAP_4096; it is
 * ignored by radix maps. Forced 4096 on a map that proves 512 (a bitmap
 * not page aligned, a phys_start not a multiple of 32768 folios) fails.
 * Chunk bounds: KHO_MAX_CHUNKS chunks, num_elms <= KHO_CHUNK_MAX_ELMS,
 * order <= KHO_MAX_ORDER, chunk page aligned, phys_start aligned to the
 * span of one bitmap, bitmap 8-byte aligned, KHO_MAX_BITMAPS bitmaps.
 * Radix bounds: KHO_RADIX_LEVELS levels, KHO_MAX_RADIX_NODES node pages,
 * every pointer page aligned and in RAM, no node reached twice, decoded
 * orders <= KHO_MAX_ORDER, no folio past 2^64.
 * A full array is sorted and merged in place before giving up, so cap
 * bounds the distinct (non-adjacent) ranges, not the folios.
 * Returns 0; -PCSC_ENOTRAM (a chunk, bitmap or node not mappable);
 * -PCSC_EALIGN (chunk or node not page aligned, bitmap not 8-byte aligned,
 * phys_start misaligned); -PCSC_ERANGE (num_elms, order, bitmap or node
 * count too big, a radix leaf whose key decodes to no order <=
 * KHO_MAX_ORDER, a folio past 2^64); -PCSC_ELOOP (the chunk list loops or
 * exceeds KHO_MAX_CHUNKS; a radix node reached twice); -PCSC_EINVAL
 * (v1_bitmap not 0/512/4096; forced 4096 on a 512 map);
 * -PCSC_ENOSPC (r[] or meta[] full). m->msg says where.
 */
int kho_map_read(const struct physmem *pm, const struct kho_abi *abi, uint64_t map_phys,
		 uint32_t v1_bitmap, struct kho_range *r, uint32_t cap,
		 struct kho_range *meta, uint32_t metacap, struct kho_map *m);

/* kho_radix_key - the radix key of the folio of order at pa, as upstream
 * encodes it: 1 << (52 - order) | pa >> (12 + order). */
uint64_t kho_radix_key(uint64_t pa, unsigned int order);

/* kho_radix_decode - pa and order of a key (the inverse of kho_radix_key).
 * Returns 0; -PCSC_ERANGE (key 0, or an order above KHO_MAX_ORDER). */
int kho_radix_decode(uint64_t key, uint64_t *pa, unsigned int *order);

/*
 * kho_radix_is_preserved - whole [addr, addr+len) covered by folios set in
 * the radix tree at root, looked up page by page and order by order:
 * O(pages x orders x depth), no copy of the map. Every node is mapped
 * through pm and must be page aligned; anything else counts as "not set".
 * For the bench and for tools: the session uses kho_map_read's ranges.
 */
bool kho_radix_is_preserved(const struct physmem *pm, uint64_t root, uint64_t addr, uint64_t len);

/* kho_is_preserved - whole [addr, addr+len) inside preserved ranges. O(log n).
 * len 0 or a wrapping range is never preserved. */
bool kho_is_preserved(const struct kho_map *m, uint64_t addr, uint64_t len);

/* kho_overlaps_meta - any byte of [addr, addr+len) in a map page. O(log n). */
bool kho_overlaps_meta(const struct kho_map *m, uint64_t addr, uint64_t len);

/* kho_ranges_sort_merge - sort r[0..n) by start (heapsort, in place) and
 * merge touching/overlapping ranges. Returns the new count. */
uint32_t kho_ranges_sort_merge(struct kho_range *r, uint32_t n);

/*
 * kho_scratch_read - the scratch array at [addr, addr+size): size / 16
 * entries of struct kho_scratch {u64 addr; u64 size;} (native), each a
 * region the next kernel allocates from before it reads the map, so no
 * preserved byte may lie there. Zero-size entries are skipped. size 0:
 * no regions. Regions go into *regions (merged); the array's own bytes are
 * KHO metadata (*array, empty when size is 0).
 * Returns 0; -PCSC_EALIGN (addr not 8-byte aligned, size not a multiple
 * of 16); -PCSC_ERANGE (more than KHO_MAX_SCRATCH entries, a region that
 * wraps); -PCSC_ENOTRAM (array not in RAM); -PCSC_ENOSPC (regions full).
 * msg (KHO_MSG_MAX) says why.
 */
int kho_scratch_read(const struct physmem *pm, uint64_t addr, uint64_t size,
		     struct phys_ranges *regions, struct kho_range *array, char *msg);

#endif
