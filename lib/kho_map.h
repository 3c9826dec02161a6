/* lib/kho_map.h - lib-internal: how every preserved-memory-map reader fills a kho_map.
 * The readers (kho_chunks.c, kho_radix.c) differ only in how they find bitmaps. */
#ifndef PCSC_LIB_KHO_MAP_H
#define PCSC_LIB_KHO_MAP_H

#include <pcsc/kho.h>
#include <pcsc/log.h>

#define kho_say(buf, ...) pcsc_snprintf((buf), KHO_MSG_MAX, __VA_ARGS__)

/* Append [start, end) to r[] (merging with the last range when they touch;
 * compacting a full array in place once per quarter freed).
 * Returns 0; -PCSC_ENOSPC (r[] full; no message set: see kho_map_full). */
int kho_map_add(struct kho_range *r, uint32_t *n, uint32_t cap, bool *compact,
		uint64_t start, uint64_t end);

/* One range per run of set bits of the nbytes-byte bitmap bm (little-endian
 * u64 words), bit k standing for the folio of order at start + (k << (order
 * + 12)). The caller has checked that the last folio does not pass 2^64.
 * Returns 0; -PCSC_ENOSPC (m->r full; m->msg says so). */
int kho_map_bitmap(struct kho_map *m, const uint8_t *bm, uint32_t nbytes,
		   uint64_t start, unsigned int order);

/* Sort r[0..n) by start and tell whether no two ranges overlap (touching
 * is fine); else *dup is the start of the second of an overlapping pair. */
bool kho_ranges_disjoint(struct kho_range *r, uint32_t n, uint64_t *dup);

/* The message of a full r[] or meta[], into m->msg. Returns -PCSC_ENOSPC. */
int kho_map_full(struct kho_map *m);

/* kho-v1 chunk list and kho-v2+ radix tree (m already reset by the caller),
 * unsorted; m->msg says where a failure was. Both return 0 (also for an
 * empty map, map_phys / root 0) or kho_map_read's errors: kho_chunks_read
 * -PCSC_EINVAL, -PCSC_ELOOP, -PCSC_EALIGN, -PCSC_ENOTRAM, -PCSC_ERANGE,
 * -PCSC_ENOSPC; kho_radix_read -PCSC_EALIGN, -PCSC_ERANGE, -PCSC_ENOTRAM,
 * -PCSC_ENOSPC, -PCSC_ELOOP. */
int kho_chunks_read(const struct physmem *pm, uint64_t map_phys, uint32_t v1_bitmap,
		    struct kho_map *m);
int kho_radix_read(const struct physmem *pm, uint64_t root, struct kho_map *m);

#endif
