/* kho.c - reads the KHO root FDT and walks the preserved-memory map into sorted ranges.
 * Every byte is read through physmem_map after its bounds are known; no loop is unbounded. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/sort.h>

#define say(buf, ...) pcsc_snprintf((buf), KHO_MSG_MAX, __VA_ARGS__)

/* Children of the root that fdt_subnode_offset(fdt, 0, "pcsc") could
 * return: "pcsc" itself or "pcsc@<anything>". Bounded by the checked blob. */
static int kho_count_pcsc(const void *fdt)
{
	int node, n = 0, len;

	fdt_for_each_subnode(node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, &len);

		if (name && len >= 4 && !memcmp(name, PCSC_KHO_NAME, 4) &&
		    (len == 4 || name[4] == '@'))
			n++;
	}
	return n;
}

int kho_open(const struct physmem *pm, uint64_t fdt_phys, uint64_t max_size, struct kho_info *ki)
{
	const void *hdr, *p;
	uint32_t total;
	int err, len, node, matches;

	memset(ki, 0, sizeof(*ki));
	ki->fdt_phys = fdt_phys;
	ki->pcsc_node = -1;
	if (!max_size || max_size > KHO_FDT_MAX_SIZE)
		max_size = KHO_FDT_MAX_SIZE;
	/* An FDT is 8-byte aligned by specification; libfdt reads its header
	 * as a struct (and arm64 with the MMU off faults on misalignment). */
	if (fdt_phys & 7) {
		say(ki->msg, "KHO FDT at 0x%llx not 8-byte aligned", (unsigned long long)fdt_phys);
		return -PCSC_EALIGN;
	}
	/* Header first: totalsize is not trusted before it is bounded. */
	hdr = physmem_map(pm, fdt_phys, FDT_V17_SIZE);
	if (!hdr) {
		say(ki->msg, "KHO FDT at 0x%llx not in RAM", (unsigned long long)fdt_phys);
		return -PCSC_ENOTRAM;
	}
	if (fdt_magic(hdr) != FDT_MAGIC) {
		say(ki->msg, "KHO FDT bad magic 0x%08x", (unsigned int)fdt_magic(hdr));
		return -PCSC_EBADFDT;
	}
	total = fdt_totalsize(hdr);
	if (total > max_size) {
		say(ki->msg, "KHO FDT totalsize %u above the %llu-byte bound", (unsigned int)total,
		    (unsigned long long)max_size);
		return -PCSC_EBADFDT;
	}
	ki->fdt = physmem_map(pm, fdt_phys, total);
	if (!ki->fdt) {
		say(ki->msg, "KHO FDT 0x%llx+%u not in RAM", (unsigned long long)fdt_phys,
		    (unsigned int)total);
		return -PCSC_ENOTRAM;
	}
	ki->fdt_size = total;
	err = pcsc_blob_check(ki->fdt, total, "KHO FDT", KHO_COMPATIBLE, ki->msg, sizeof(ki->msg));
	if (err)
		return err;
	p = fdt_getprop(ki->fdt, 0, KHO_PROP_MEM_MAP, &len);
	if (!p || len != 8) {
		say(ki->msg, "KHO FDT preserved-memory-map is %d bytes, not 8", p ? len : 0);
		return -PCSC_EPROPSIZE;
	}
	memcpy(&ki->map_phys, p, 8);
	node = fdt_subnode_offset(ki->fdt, 0, PCSC_KHO_NAME);
	if (node < 0) {
		say(ki->msg, "%s", "KHO FDT has no pcsc subtree");
		return -PCSC_ENOTFOUND;
	}
	ki->pcsc_node = node;
	/* Linux finds the subtree with the same by-name lookup, which also
	 * matches "pcsc@...": with two candidates, detaching the one we judged
	 * would hand the other, unverified, to the next kernel. */
	matches = kho_count_pcsc(ki->fdt);
	if (matches != 1) {
		say(ki->msg, "KHO FDT has %d pcsc nodes", matches);
		return -PCSC_EDUP;
	}
	p = fdt_getprop(ki->fdt, node, KHO_PROP_FDT, &len);
	if (!p) {
		say(ki->msg, "%s", "KHO pcsc node has no fdt property");
		return -PCSC_ENOTFOUND;
	}
	if (len != 8) {
		say(ki->msg, "KHO pcsc fdt property is %d bytes, not 8", len);
		return -PCSC_EPROPSIZE;
	}
	memcpy(&ki->pcsc_fdt_phys, p, 8);
	return 0;
}

static bool range_less(const struct kho_range *a, const struct kho_range *b)
{
	return a->start < b->start;
}

PCSC_DEFINE_HEAPSORT(ranges_sort, struct kho_range, range_less)

uint32_t kho_ranges_sort_merge(struct kho_range *r, uint32_t n)
{
	uint32_t i, o;

	ranges_sort(r, n);
	for (i = 0, o = 0; i < n; i++) {
		if (o && r[i].start <= r[o - 1].end) {
			if (r[i].end > r[o - 1].end)
				r[o - 1].end = r[i].end;
		} else {
			r[o++] = r[i];
		}
	}
	return o;
}

/* Append [start, end). Bits of one bitmap arrive in address order, so a
 * contiguous folio extends the last range. When the array is full, sort and
 * merge it in place (folios of different orders are often adjacent) and go
 * on if that freed at least a quarter of it; *compact stops further tries
 * once it did not, which bounds the total sorting work. */
static int add_range(struct kho_range *r, uint32_t *n, uint32_t cap, bool *compact,
		     uint64_t start, uint64_t end)
{
	if (*n && r[*n - 1].end == start) {
		r[*n - 1].end = end;
		return 0;
	}
	if (*n >= cap && *compact) {
		*n = kho_ranges_sort_merge(r, *n);
		if (*n > cap - cap / 4)
			*compact = false;
	}
	if (*n >= cap)
		return -PCSC_ENOSPC;
	r[*n].start = start;
	r[*n].end = end;
	(*n)++;
	return 0;
}

static int read_bitmap(struct kho_map *m, const uint8_t *bm, uint64_t start, uint32_t order)
{
	unsigned int shift = order + KHO_PAGE_SHIFT;
	unsigned int w, b;
	int err;

	/* One range per run of set bits, not per bit: an all-ones bitmap is
	 * 64 word steps, and a hostile map cannot make us walk bit by bit. */
	for (w = 0; w < KHO_BITMAP_BYTES / 8; w++) {
		uint64_t word;

		memcpy(&word, bm + 8 * w, 8);	/* little-endian unsigned long */
		for (b = 0; word;) {
			unsigned int zeros = (unsigned int)__builtin_ctzll(word), ones;
			uint64_t k, fs;

			word >>= zeros;
			b += zeros;
			ones = ~word ? (unsigned int)__builtin_ctzll(~word) : 64u - b;
			k = (uint64_t)w * 64 + b;
			fs = start + (k << shift);
			err = add_range(m->r, &m->n, m->cap, &m->compact_r, fs,
					fs + ((uint64_t)ones << shift));
			if (err)
				return err;
			m->folios += ones;
			b += ones;
			word = ones < 64 ? word >> ones : 0;
		}
	}
	return 0;
}

int kho_map_read(const struct physmem *pm, uint64_t map_phys,
		 struct kho_range *r, uint32_t cap,
		 struct kho_range *meta, uint32_t metacap, struct kho_map *m)
{
	uint64_t chunk = map_phys, tortoise = map_phys;
	uint32_t power = 1, lam = 0;
	int err;

	memset(m, 0, sizeof(*m));
	m->r = r;
	m->cap = cap;
	m->meta = meta;
	m->metacap = metacap;
	m->compact_r = true;
	m->compact_meta = true;
	while (chunk) {
		const uint8_t *c;
		uint64_t next;
		uint32_t order, num, i;

		if (m->chunks >= KHO_MAX_CHUNKS) {
			say(m->msg, "KHO map longer than %u chunks", KHO_MAX_CHUNKS);
			return -PCSC_ELOOP;
		}
		if (chunk & (KHO_CHUNK_SIZE - 1)) {
			say(m->msg, "KHO map chunk 0x%llx not page aligned", (unsigned long long)chunk);
			return -PCSC_EALIGN;
		}
		c = physmem_map(pm, chunk, KHO_CHUNK_SIZE);
		if (!c) {
			say(m->msg, "KHO map chunk 0x%llx not in RAM", (unsigned long long)chunk);
			return -PCSC_ENOTRAM;
		}
		m->chunks++;
		err = add_range(meta, &m->nmeta, metacap, &m->compact_meta, chunk, chunk + KHO_CHUNK_SIZE);
		if (err)
			goto full;
		memcpy(&next, c, 8);
		memcpy(&order, c + 8, 4);
		memcpy(&num, c + 12, 4);
		if (order > KHO_MAX_ORDER) {
			say(m->msg, "KHO map chunk 0x%llx order %u above %u", (unsigned long long)chunk,
			    order, KHO_MAX_ORDER);
			return -PCSC_ERANGE;
		}
		if (num > KHO_CHUNK_MAX_ELMS) {
			say(m->msg, "KHO map chunk 0x%llx has %u entries, max %u",
			    (unsigned long long)chunk, num, (unsigned int)KHO_CHUNK_MAX_ELMS);
			return -PCSC_ERANGE;
		}
		for (i = 0; i < num; i++) {
			const uint8_t *ent = c + KHO_CHUNK_HDR_SIZE + i * KHO_CHUNK_ENTRY_SIZE;
			uint64_t start, bitmap, span = (uint64_t)KHO_BITMAP_BITS << (order + KHO_PAGE_SHIFT);
			const uint8_t *bm;

			memcpy(&start, ent, 8);
			memcpy(&bitmap, ent + 8, 8);
			if (bitmap & 7) {
				say(m->msg, "KHO map bitmap 0x%llx unaligned", (unsigned long long)bitmap);
				return -PCSC_EALIGN;
			}
			if (start & ((1ull << (order + KHO_PAGE_SHIFT)) - 1)) {
				say(m->msg, "KHO map start 0x%llx not aligned to order %u",
				    (unsigned long long)start, order);
				return -PCSC_EALIGN;
			}
			if (start + span < start) {
				say(m->msg, "KHO map start 0x%llx order %u wraps", (unsigned long long)start, order);
				return -PCSC_ERANGE;
			}
			if (++m->bitmaps > KHO_MAX_BITMAPS) {
				say(m->msg, "KHO map has more than %u bitmaps", KHO_MAX_BITMAPS);
				return -PCSC_ERANGE;
			}
			bm = physmem_map(pm, bitmap, KHO_BITMAP_BYTES);
			if (!bm) {
				say(m->msg, "KHO map bitmap 0x%llx not in RAM", (unsigned long long)bitmap);
				return -PCSC_ENOTRAM;
			}
			err = add_range(meta, &m->nmeta, metacap, &m->compact_meta, bitmap,
					bitmap + KHO_BITMAP_BYTES);
			if (!err)
				err = read_bitmap(m, bm, start, order);
			if (err)
				goto full;
		}
		if (!next)
			break;
		/* Brent's cycle detection: O(1) memory, finds any loop. */
		lam++;
		if (next == tortoise) {
			say(m->msg, "KHO map chunk list loops at 0x%llx", (unsigned long long)next);
			return -PCSC_ELOOP;
		}
		if (lam == power) {
			tortoise = next;
			power <<= 1;
			lam = 0;
		}
		chunk = next;
	}
	m->n = kho_ranges_sort_merge(r, m->n);
	m->nmeta = kho_ranges_sort_merge(meta, m->nmeta);
	return 0;
full:
	say(m->msg, "KHO map has more ranges than the arena holds (%u/%u)", (unsigned int)cap,
	    (unsigned int)metacap);
	return -PCSC_ENOSPC;
}

static bool range_starts_at_or_below(const struct kho_range *r, uint64_t addr)
{
	return r->start <= addr;
}

PCSC_DEFINE_PARTITION_POINT(ranges_upper_bound, struct kho_range, uint64_t, range_starts_at_or_below)

/* Index of the last range with start <= addr, or -1. */
static int64_t last_le(const struct kho_range *r, uint32_t n, uint64_t addr)
{
	return (int64_t)ranges_upper_bound(r, n, addr) - 1;
}

bool kho_is_preserved(const struct kho_map *m, uint64_t addr, uint64_t len)
{
	int64_t i;

	if (!m || !len || addr + len < addr)
		return false;
	i = last_le(m->r, m->n, addr);
	return i >= 0 && addr + len <= m->r[i].end;
}

bool kho_overlaps_meta(const struct kho_map *m, uint64_t addr, uint64_t len)
{
	uint64_t last;
	int64_t i;

	if (!m || !len)
		return false;
	last = addr + len - 1 < addr ? UINT64_MAX : addr + len - 1;
	i = last_le(m->meta, m->nmeta, last);
	return i >= 0 && m->meta[i].end > addr;
}
