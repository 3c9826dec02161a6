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
#define KHO_COMPATIBLE		"kho-v1"
#define KHO_PROP_MEM_MAP	"preserved-memory-map"
#define KHO_PROP_FDT		"fdt"
#define KHO_CHUNK_SIZE		4096u	/* struct khoser_mem_chunk is one page */
#define KHO_CHUNK_HDR_SIZE	16u	/* {u64 next; u32 order; u32 num_elms} */
#define KHO_CHUNK_ENTRY_SIZE	16u	/* {u64 phys_start; u64 bitmap} */
#define KHO_CHUNK_MAX_ELMS	((KHO_CHUNK_SIZE - KHO_CHUNK_HDR_SIZE) / KHO_CHUNK_ENTRY_SIZE)	/* 255 */
#define KHO_BITMAP_BYTES	512u	/* struct kho_mem_phys_bits (6.16: 512 * 8 bits) */
#define KHO_BITMAP_BITS		(KHO_BITMAP_BYTES * 8u)

/* Limits this reader enforces (not ABI): anything beyond is corrupt. */
#define KHO_MAX_ORDER		30u	/* folio of 4 TiB: far above MAX_PAGE_ORDER */
#define KHO_MAX_CHUNKS		65536u
/* Bitmaps over the whole map: each covers 4096 folios, so 16384 of them
 * describe 64 Gi folios; a real map of a cache of 65,536 devices uses a few
 * hundred. Bounds the stub's work on a hostile map to ~1 M word steps. */
#define KHO_MAX_BITMAPS		16384u
#define KHO_FDT_MAX_SIZE	(1u << 20)
#define KHO_MSG_MAX		96

/* A half-open physical range [start, end). */
struct kho_range {
	uint64_t start;
	uint64_t end;
};

/* What kho_open found in the root FDT. */
struct kho_info {
	uint64_t fdt_phys;
	void *fdt;		/* mapped root FDT (writable: detach NOPs a node) */
	uint32_t fdt_size;	/* fdt_totalsize */
	uint64_t map_phys;	/* preserved-memory-map, 0 when the map is empty */
	int pcsc_node;		/* offset of the "pcsc" child, or -1 */
	uint64_t pcsc_fdt_phys;	/* its "fdt" property, 0 when absent */
	char msg[KHO_MSG_MAX];	/* why kho_open failed, "" on success */
};

/*
 * kho_open - map and validate the KHO root FDT at fdt_phys: header readable
 * inside RAM, totalsize <= max_size (0: KHO_FDT_MAX_SIZE) and fully mapped,
 * fdt_check_full clean, compatible exactly "kho-v1", preserved-memory-map a
 * u64. Then find the child "pcsc" and its u64 "fdt" property.
 * Returns 0 (ki filled, pcsc_node >= 0);
 * -PCSC_EALIGN (fdt_phys not 8-byte aligned);
 * -PCSC_ENOTRAM (header or blob not mappable: ki->msg says which),
 * -PCSC_EBADFDT (bad magic/version/structure, totalsize above the bound),
 * -PCSC_ECOMPAT (compatible missing or not kho-v1; msg names it),
 * -PCSC_EPROPSIZE (preserved-memory-map or pcsc/fdt not 8 bytes),
 * -PCSC_ENOTFOUND (no "pcsc" child or it has no "fdt"; pcsc_node may be set).
 * ki->msg is always a NUL-terminated sentence fragment.
 */
int kho_open(const struct physmem *pm, uint64_t fdt_phys, uint64_t max_size, struct kho_info *ki);

/* The preserved-memory map after one bounded pass. */
struct kho_map {
	struct kho_range *r;	/* preserved ranges, sorted, merged */
	uint32_t n, cap;
	struct kho_range *meta;	/* the map's own chunks and bitmaps, sorted */
	uint32_t nmeta, metacap;
	bool compact_r, compact_meta;	/* internal: in-place merging still allowed */
	uint32_t chunks;	/* chunks visited */
	uint64_t folios;	/* bits set */
	uint32_t bitmaps;	/* bitmap entries read */
	char msg[KHO_MSG_MAX];
};

/*
 * kho_map_read - walk the chunk list at map_phys (0 = empty map), every
 * chunk and bitmap read through physmem_map, into r[] (cap ranges) and
 * meta[] (metacap ranges), both in the caller's arena, then sort and merge.
 * Bounds: KHO_MAX_CHUNKS chunks, num_elms <= KHO_CHUNK_MAX_ELMS, order <=
 * KHO_MAX_ORDER, chunk and phys_start aligned, bitmap 8-byte aligned.
 * A full array is sorted and merged in place before giving up, so cap
 * bounds the distinct (non-adjacent) ranges, not the folios.
 * Returns 0; -PCSC_ENOTRAM (chunk or bitmap not mappable);
 * -PCSC_EALIGN (chunk not page aligned, bitmap not 8-byte aligned, phys_start
 * not aligned to its folio size); -PCSC_ERANGE (num_elms or order too big,
 * a folio past 2^64); -PCSC_ELOOP (the next chain loops or exceeds
 * KHO_MAX_CHUNKS); -PCSC_ENOSPC (r[] or meta[] full). m->msg says where.
 */
int kho_map_read(const struct physmem *pm, uint64_t map_phys,
		 struct kho_range *r, uint32_t cap,
		 struct kho_range *meta, uint32_t metacap, struct kho_map *m);

/* kho_is_preserved - whole [addr, addr+len) inside preserved ranges. O(log n).
 * len 0 or a wrapping range is never preserved. */
bool kho_is_preserved(const struct kho_map *m, uint64_t addr, uint64_t len);

/* kho_overlaps_meta - any byte of [addr, addr+len) in a chunk or bitmap. O(log n). */
bool kho_overlaps_meta(const struct kho_map *m, uint64_t addr, uint64_t len);

/* kho_ranges_sort_merge - sort r[0..n) by start (heapsort, in place) and
 * merge touching/overlapping ranges. Returns the new count. */
uint32_t kho_ranges_sort_merge(struct kho_range *r, uint32_t n);

#endif
