/* kho_chunks.c - the kho-v1 preserved-memory map (Linux 6.16 - 7.0): a chunk list of bitmaps.
 * Reads only through physmem_map; the list is bounded in length and checked for loops. */
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include "kho_map.h"

/*
 * Upstream writes phys_start = (index * PRESERVE_BITS) << (order + 12), so
 * an entry starts on the span one bitmap covers. The bitmap size changed
 * from 512 bytes (6.16, 6.17) to PAGE_SIZE (6.18 - 7.0) under the same
 * compatible. A PAGE_SIZE map is also a well-formed 512-byte map (its
 * starts are 32768-folio aligned, so 4096-folio aligned too, and its
 * bitmaps page aligned), so nothing in a map proves 4096, while reading
 * 512 as 4096 would take 3.5 KiB of someone else's slab as preserved bits.
 * Unforced, we read 512: it can only lose preserved pages, never invent.
 */
static int check_entry(struct kho_map *m, uint64_t start, uint64_t bitmap, uint32_t order,
		       bool forced)
{
	uint64_t folio = 1ull << (order + KHO_PAGE_SHIFT);
	uint64_t span = (uint64_t)m->bitmap_bytes * 8u << (order + KHO_PAGE_SHIFT);

	if (bitmap & 7) {
		kho_say(m->msg, "KHO map bitmap 0x%llx unaligned", (unsigned long long)bitmap);
		return -PCSC_EALIGN;
	}
	if (start & (folio - 1)) {
		kho_say(m->msg, "KHO map start 0x%llx not aligned to order %u",
			(unsigned long long)start, order);
		return -PCSC_EALIGN;
	}
	if (forced && m->bitmap_bytes == KHO_BITMAP_4096 &&
	    ((bitmap & (KHO_PAGE_SIZE - 1)) || (start & (span - 1)))) {
		kho_say(m->msg, "KHO map entry 0x%llx/0x%llx proves 512-byte bitmaps, not 4096",
			(unsigned long long)start, (unsigned long long)bitmap);
		return -PCSC_EINVAL;
	}
	if (start & (span - 1)) {
		kho_say(m->msg, "KHO map start 0x%llx not aligned to its %u-bit bitmap",
			(unsigned long long)start, (unsigned int)m->bitmap_bytes * 8u);
		return -PCSC_EALIGN;
	}
	if (start + span < start) {
		kho_say(m->msg, "KHO map start 0x%llx order %u wraps", (unsigned long long)start, order);
		return -PCSC_ERANGE;
	}
	return 0;
}

static int read_chunk(const struct physmem *pm, struct kho_map *m, const uint8_t *c,
		      uint64_t chunk, bool forced)
{
	uint32_t order, num, i;
	int err;

	memcpy(&order, c + 8, 4);
	memcpy(&num, c + 12, 4);
	if (order > KHO_MAX_ORDER) {
		kho_say(m->msg, "KHO map chunk 0x%llx order %u above %u", (unsigned long long)chunk,
			order, KHO_MAX_ORDER);
		return -PCSC_ERANGE;
	}
	if (num > KHO_CHUNK_MAX_ELMS) {
		kho_say(m->msg, "KHO map chunk 0x%llx has %u entries, max %u",
			(unsigned long long)chunk, num, (unsigned int)KHO_CHUNK_MAX_ELMS);
		return -PCSC_ERANGE;
	}
	for (i = 0; i < num; i++) {
		const uint8_t *ent = c + KHO_CHUNK_HDR_SIZE + i * KHO_CHUNK_ENTRY_SIZE;
		uint64_t start, bitmap;
		const uint8_t *bm;

		memcpy(&start, ent, 8);
		memcpy(&bitmap, ent + 8, 8);
		err = check_entry(m, start, bitmap, order, forced);
		if (err)
			return err;
		if (++m->bitmaps > KHO_MAX_BITMAPS) {
			kho_say(m->msg, "KHO map has more than %u bitmaps", KHO_MAX_BITMAPS);
			return -PCSC_ERANGE;
		}
		bm = physmem_map(pm, bitmap, m->bitmap_bytes);
		if (!bm) {
			kho_say(m->msg, "KHO map bitmap 0x%llx not in RAM", (unsigned long long)bitmap);
			return -PCSC_ENOTRAM;
		}
		if (kho_map_add(m->meta, &m->nmeta, m->metacap, &m->compact_meta, bitmap,
				bitmap + m->bitmap_bytes))
			return kho_map_full(m);
		err = kho_map_bitmap(m, bm, m->bitmap_bytes, start, order);
		if (err)
			return err;
	}
	return 0;
}

int kho_chunks_read(const struct physmem *pm, uint64_t map_phys, uint32_t v1_bitmap,
		    struct kho_map *m)
{
	uint64_t chunk = map_phys, tortoise = map_phys;
	uint32_t power = 1, lam = 0;
	int err;

	if (v1_bitmap && v1_bitmap != KHO_BITMAP_512 && v1_bitmap != KHO_BITMAP_4096) {
		kho_say(m->msg, "kho-v1 bitmap size %u is neither 512 nor 4096", (unsigned int)v1_bitmap);
		return -PCSC_EINVAL;
	}
	m->bitmap_bytes = v1_bitmap ? v1_bitmap : KHO_BITMAP_512;
	while (chunk) {
		const uint8_t *c;
		uint64_t next;

		if (m->chunks >= KHO_MAX_CHUNKS) {
			kho_say(m->msg, "KHO map longer than %u chunks", KHO_MAX_CHUNKS);
			return -PCSC_ELOOP;
		}
		c = physmem_map_checked(pm, chunk, KHO_CHUNK_SIZE, KHO_CHUNK_SIZE, "KHO map chunk",
					m->msg, KHO_MSG_MAX, &err);
		if (!c)
			return err;
		m->chunks++;
		if (kho_map_add(m->meta, &m->nmeta, m->metacap, &m->compact_meta, chunk,
				chunk + KHO_CHUNK_SIZE))
			return kho_map_full(m);
		err = read_chunk(pm, m, c, chunk, v1_bitmap != 0);
		if (err)
			return err;
		memcpy(&next, c, 8);
		if (!next)
			break;
		/* Brent's cycle detection: O(1) memory, finds any loop. */
		lam++;
		if (next == tortoise) {
			kho_say(m->msg, "KHO map chunk list loops at 0x%llx", (unsigned long long)next);
			return -PCSC_ELOOP;
		}
		if (lam == power) {
			tortoise = next;
			power <<= 1;
			lam = 0;
		}
		chunk = next;
	}
	return 0;
}
