/* pcsc/cache_gen.h - writer of what an old PCSC kernel leaves in memory: pcsc_data
 * blocks, the pcsc FDT, the KHO preserved-memory map and the KHO root FDT.
 * It writes only into caller buffers (no allocation) and never decides addresses itself
 * except in cache_gen_build, whose layout is documented below. */
#ifndef PCSC_CACHE_GEN_H
#define PCSC_CACHE_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <pcsc/pci.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>

/* One node of a generated pcsc FDT. */
struct cache_gen_entry {
	pci_sbdf_t sbdf;
	uint64_t da;		/* written as the native u64 "da" */
	const char *name;	/* NULL: canonical dev_%04x_%02x_%02x_%x of sbdf;
				 * else written verbatim (fault injection) */
	int da_len;		/* 0: 8 (normal); -1: no da property; else the
				 * property gets da_len bytes (fault injection) */
};

/* cache_gen_pcsc_fdt_size - what the RFC allocates for n nodes:
 * PAGE_ALIGN(n * 64 + 256). */
uint64_t cache_gen_pcsc_fdt_size(uint32_t n);

/*
 * cache_gen_pcsc_fdt - write a pcsc FDT (root compatible "pcsc-v1", one
 * node per entry in the given order, like the RFC's sequential write) into
 * buf. The finished blob's totalsize is exact (fdt_finish).
 * Returns 0; -PCSC_ENOSPC (does not fit size); -PCSC_EINVAL (an entry's
 * da_len above 64); -PCSC_EBADFDT (libfdt refused a write for another
 * reason; not expected of a fresh buffer).
 */
int cache_gen_pcsc_fdt(void *buf, size_t size, const char *compatible,
		       const struct cache_gen_entry *e, uint32_t n);

/*
 * cache_gen_pcsc_data - fill one pcsc_data block (PCSC_DATA_ALLOC(S) bytes,
 * the page tail zeroed): cfg_space = cfg[0..cfg_len) then zeroes; the
 * cachable bits the RFC sets for a type 0 header (0x00-0x03, 0x08-0x34 and
 * each standard capability header found by following 0x34, bounded to 48
 * hops) and cached = cachable (as after the old kernel read them all).
 * Returns 0; -PCSC_EINVAL (S not 256/4096, cfg_len > S, cfg NULL with
 * cfg_len > 0); -PCSC_ENOSPC (size < PCSC_DATA_ALLOC(S)).
 */
int cache_gen_pcsc_data(void *buf, size_t size, uint16_t S, const uint8_t *cfg, uint16_t cfg_len);

/* cache_gen_kho_map_size - bytes to reserve for the map of n pcsc_data
 * blocks, their FDT and the KHO root FDT page in abi's layout (NULL:
 * kho-v1), page multiple. */
uint64_t cache_gen_kho_map_size(const struct kho_abi *abi, uint32_t n);

/*
 * cache_gen_kho_map - write the preserved-memory map of ranges[0..n)
 * (page aligned; split into maximal naturally aligned folios like
 * kho_preserve_pages) into buf, which the next kernel sees at buf_phys
 * (page aligned), in the layout of abi (NULL: kho-v1).
 * kho-v1: chunk pages from the start, v1_bitmap-byte bitmaps (0: 512) from
 * the end; one chunk list per order, orders ascending; entries start at
 * (index * bits) << (order + 12) as upstream writes them.
 * Radix (kho-v2+): the root node in the first page, further node pages
 * upwards in the order first used.
 * *first = the map's phys (first chunk, 0 when n == 0; the radix root),
 * *used = bytes from buf to the end of the last chunk or node page.
 * Returns 0; -PCSC_EALIGN (buf_phys or a range not page aligned);
 * -PCSC_ERANGE (empty or wrapping range); -PCSC_EINVAL (v1_bitmap not
 * 0/512/4096); -PCSC_ENOSPC (the chunks, bitmaps or node pages do not fit
 * size).
 */
int cache_gen_kho_map(void *buf, size_t size, uint64_t buf_phys,
		      const struct kho_range *ranges, uint32_t n,
		      const struct kho_abi *abi, uint32_t v1_bitmap,
		      uint64_t *first, size_t *used);

/*
 * cache_gen_kho_fdt - write a KHO root FDT of abi (NULL: kho-v1):
 * compatible (NULL: abi's own; a string only for fault injection),
 * preserved-memory-map = map_phys, child "pcsc" with abi->subtree_prop =
 * pcsc_fdt_phys and, when the ABI has it, blob-size = blob_size (no child
 * when pcsc_fdt_phys is 0).
 * Returns 0; -PCSC_ENOSPC (does not fit size); -PCSC_EBADFDT (libfdt
 * refused a write for another reason; not expected of a fresh buffer).
 */
int cache_gen_kho_fdt(void *buf, size_t size, const struct kho_abi *abi, const char *compatible,
		      uint64_t map_phys, uint64_t pcsc_fdt_phys, uint64_t blob_size);

/* One endpoint for cache_gen_build. */
struct cache_gen_dev {
	pci_sbdf_t sbdf;
	const uint8_t *cfg;	/* its config bytes as the old kernel read them */
	uint16_t cfg_len;	/* <= S */
};

/* Where cache_gen_build put things (all physical addresses). */
struct cache_gen_layout {
	uint64_t base;		/* in: first byte to use, page aligned */
	uint16_t S;		/* in: 4096 or 256 */
	const struct kho_abi *abi;	/* in: KHO layout, NULL = kho-v1 */
	uint32_t v1_bitmap;	/* in: kho-v1 bitmap bytes, 0 = 512 */
	uint64_t data;		/* out: entry i's pcsc_data at data + i * stride */
	uint64_t stride;	/* PCSC_DATA_ALLOC(S) */
	uint64_t pcsc_fdt;	/* pcsc FDT, pcsc_fdt_alloc bytes (preserved) */
	uint64_t pcsc_fdt_alloc;
	uint64_t map;		/* first chunk of the preserved-memory map */
	uint64_t map_area, map_area_size;	/* bytes reserved for the map */
	uint64_t kho_fdt;	/* KHO root FDT, one page */
	uint64_t end;		/* first byte after everything */
};

/*
 * cache_gen_build - lay out a whole old-kernel handover inside the memory
 * image img (img_size bytes standing for physical [img_base, +img_size)):
 * from lo->base: n pcsc_data blocks, the pcsc FDT (RFC-sized), the map area
 * (cache_gen_kho_map_size), the KHO root FDT (one page). Preserved: the
 * data blocks and the pcsc FDT pages (as the RFC does) and the KHO root
 * FDT page, an order-0 folio (as every KHO version does: docs/abi.md
 * fact 5); not the map itself.
 * Returns 0; -PCSC_EINVAL (S not 256/4096, base not page aligned or below
 * img_base, img wraps, v1_bitmap not 0/512/4096, a device's cfg_len > S
 * or cfg NULL with cfg_len > 0); -PCSC_ENOSPC (image too small for the
 * layout, or the map does not fit its area); -PCSC_EBADFDT (as the FDT
 * writers above).
 */
int cache_gen_build(void *img, uint64_t img_base, uint64_t img_size,
		    const struct cache_gen_dev *devs, uint32_t n, struct cache_gen_layout *lo);

#endif
