/* kho.c - reads the KHO root FDT (any ABI of kho_abis) and answers questions about its map.
 * Every byte is read through physmem_map after its bounds are known; no loop is unbounded. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/sort.h>
#include "kho_map.h"

/* The one table of KHO ABIs (docs/abi.md has each row's upstream source). */
const struct kho_abi kho_abis[] = {
	{ "kho-v1", KHO_MAP_CHUNKS, "fdt", false, "6.16-7.0" },	/* 512-byte bitmaps to 6.17.8 */
	{ "kho-v2", KHO_MAP_RADIX, "preserved-data", false, "7.1-rc (never released)" },
	{ "kho-v3", KHO_MAP_RADIX, "preserved-data", true, "7.1" },
	{ "kho-v4", KHO_MAP_RADIX, "preserved-data", true, "7.2" },
};
const unsigned int kho_nabis = sizeof(kho_abis) / sizeof(kho_abis[0]);

int kho_abi_match(const char *compat, int len, const struct kho_abi **abi)
{
	const struct kho_abi *found = NULL;
	unsigned int i;
	int off;

	*abi = NULL;
	if (!compat || len <= 0)
		return -PCSC_ECOMPAT;
	/* Bounded by len: every step consumes at least one byte. */
	for (off = 0; off < len;) {
		const char *s = compat + off;
		size_t sl = strnlen(s, (size_t)(len - off));

		for (i = 0; i < kho_nabis && off + (int)sl < len; i++) {
			if (sl != strlen(kho_abis[i].compatible) ||
			    memcmp(s, kho_abis[i].compatible, sl))
				continue;
			if (found && found != &kho_abis[i])
				return -PCSC_ECOMPAT;	/* two ABIs: which one? */
			found = &kho_abis[i];
		}
		off += (int)sl + 1;
	}
	if (!found)
		return -PCSC_ECOMPAT;
	*abi = found;
	return 0;
}

int kho_abi_by_name(const char *name, const struct kho_abi **abi, uint32_t *bitmap)
{
	static const struct { const char *name; unsigned int row; uint32_t bitmap; } names[] = {
		{ "v1-512", 0, KHO_BITMAP_512 }, { "v1-4096", 0, KHO_BITMAP_4096 },
		{ "v2", 1, 0 }, { "v3", 2, 0 }, { "v4", 3, 0 },
	};
	unsigned int i;

	for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name)) {
			*abi = &kho_abis[names[i].row];
			*bitmap = names[i].bitmap;
			return 0;
		}
	return -PCSC_EINVAL;
}

/* Children of the root that fdt_subnode_offset(fdt, 0, "pcsc") could
 * return: "pcsc" itself or "pcsc@<anything>". Bounded by the checked blob. */
static int kho_count_pcsc(const void *fdt)
{
	int node, n = 0, len;

	fdt_for_each_subnode(node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, &len);

		if (name && len >= 0 && pcsc_kho_child_name(name, (size_t)len))
			n++;
	}
	return n;
}

static int get_u64(const void *fdt, int node, const char *prop, uint64_t *v, char *msg,
		   const char *what)
{
	const void *p;
	int len;

	p = fdt_getprop(fdt, node, prop, &len);
	if (!p) {
		kho_say(msg, "%s has no %s property", what, prop);
		return -PCSC_ENOTFOUND;
	}
	if (len != 8) {
		kho_say(msg, "%s %s is %d bytes, not 8", what, prop, len);
		return -PCSC_EPROPSIZE;
	}
	memcpy(v, p, 8);	/* native-endian, like every KHO property */
	return 0;
}

/* Bytes of [phys, phys+len) that lie in one RAM range from phys on. */
static uint32_t ram_extent(const struct physmem *pm, uint64_t phys, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < pm->ram.n; i++) {
		const struct phys_range *r = &pm->ram.r[i];

		if (phys >= r->start && phys < r->end)
			return r->end - phys < len ? (uint32_t)(r->end - phys) : len;
	}
	return 0;
}

/* The header, then the whole blob mapped (even when it fails a later
 * check: a detach needs the bytes). */
static int map_root(const struct physmem *pm, uint64_t fdt_phys, uint64_t max_size,
		    struct kho_info *ki)
{
	const void *hdr;
	uint32_t total;
	int err;

	/* Header first: totalsize is not trusted before it is bounded. An FDT
	 * is 8-byte aligned by specification; libfdt reads its header as a
	 * struct (and arm64 with the MMU off faults on misalignment). */
	hdr = physmem_map_checked(pm, fdt_phys, FDT_V17_SIZE, 8, "KHO FDT at", ki->msg,
				  KHO_MSG_MAX, &err);
	if (!hdr)
		return err;
	if (fdt_magic(hdr) != FDT_MAGIC) {
		kho_say(ki->msg, "KHO FDT bad magic 0x%08x", (unsigned int)fdt_magic(hdr));
		return -PCSC_EBADFDT;
	}
	total = fdt_totalsize(hdr);
	if (total < FDT_V17_SIZE) {
		kho_say(ki->msg, "KHO FDT totalsize %u below the header", (unsigned int)total);
		return -PCSC_EBADFDT;
	}
	ki->fdt = total <= KHO_FDT_MAX_SIZE ? physmem_map(pm, fdt_phys, total) : NULL;
	if (!ki->fdt) {
		/* Corrupt (kexec hands over one page): keep what RAM holds of
		 * it so a detach can still reach the pcsc child. */
		uint32_t m = total < KHO_FDT_MAX_SIZE ? total : KHO_FDT_MAX_SIZE;

		m = ram_extent(pm, fdt_phys, m);
		ki->fdt = m >= FDT_V17_SIZE ? physmem_map(pm, fdt_phys, m) : NULL;
		ki->fdt_size = ki->fdt ? m : 0;
		ki->truncated = ki->fdt != NULL;
		if (total > KHO_FDT_MAX_SIZE)
			kho_say(ki->msg, "KHO FDT totalsize %u outside %u..%u", (unsigned int)total,
				(unsigned int)FDT_V17_SIZE, (unsigned int)KHO_FDT_MAX_SIZE);
		else
			kho_say(ki->msg, "KHO FDT 0x%llx+%u not in RAM", (unsigned long long)fdt_phys,
				(unsigned int)total);
		return total > KHO_FDT_MAX_SIZE ? -PCSC_EBADFDT : -PCSC_ENOTRAM;
	}
	ki->fdt_size = total;
	if (total > max_size) {
		kho_say(ki->msg, "KHO FDT totalsize %u above the %llu-byte bound", (unsigned int)total,
			(unsigned long long)max_size);
		return -PCSC_EBADFDT;
	}
	return 0;
}

int kho_open(const struct physmem *pm, uint64_t fdt_phys, uint64_t max_size, struct kho_info *ki)
{
	const char *compat;
	char shown[40];
	int err, len;

	memset(ki, 0, sizeof(*ki));
	ki->fdt_phys = fdt_phys;
	ki->pcsc_node = -1;
	if (!max_size || max_size > KHO_FDT_MAX_SIZE)
		max_size = KHO_FDT_MAX_SIZE;
	err = map_root(pm, fdt_phys, max_size, ki);
	if (err)
		return err;
	err = pcsc_blob_check(ki->fdt, ki->fdt_size, "KHO FDT", NULL, ki->msg, sizeof(ki->msg));
	if (err)
		return err;
	ki->checked = true;
	/* The pcsc child before the compatible: a root we cannot read must
	 * still have its pcsc child detached. Linux finds the subtree with a
	 * by-name lookup that also matches "pcsc@...": with two candidates,
	 * detaching the one we judged would hand the other, unverified, on. */
	ki->npcsc = kho_count_pcsc(ki->fdt);
	ki->pcsc_node = fdt_subnode_offset(ki->fdt, 0, PCSC_KHO_NAME);
	if (ki->pcsc_node < 0)
		ki->pcsc_node = -1;
	ki->has_luo = fdt_subnode_offset(ki->fdt, 0, KHO_LUO_NODE) >= 0;
	compat = fdt_getprop(ki->fdt, 0, "compatible", &len);
	if (kho_abi_match(compat, compat ? len : 0, &ki->abi)) {
		if (compat && len > 0) {
			pcsc_printable(shown, sizeof(shown), compat, len);
			kho_say(ki->msg, "KHO FDT unknown compatible \"%s\"", shown);
		} else {
			kho_say(ki->msg, "%s", "KHO FDT has no compatible");
		}
		return -PCSC_ECOMPAT;
	}
	err = get_u64(ki->fdt, 0, KHO_PROP_MEM_MAP, &ki->map_phys, ki->msg, "KHO FDT");
	if (err)
		return err == -PCSC_ENOTFOUND ? -PCSC_EPROPSIZE : err;
	if (ki->npcsc == 0) {
		kho_say(ki->msg, "%s", "KHO FDT has no pcsc subtree");
		return -PCSC_ENOTFOUND;
	}
	if (ki->npcsc != 1) {
		kho_say(ki->msg, "KHO FDT has %d pcsc nodes", ki->npcsc);
		return -PCSC_EDUP;
	}
	err = get_u64(ki->fdt, ki->pcsc_node, ki->abi->subtree_prop, &ki->pcsc_fdt_phys, ki->msg,
		      "KHO pcsc node");
	if (!err && ki->abi->blob_size)
		err = get_u64(ki->fdt, ki->pcsc_node, KHO_PROP_BLOB_SIZE, &ki->pcsc_blob_size,
			      ki->msg, "KHO pcsc node");
	return err;
}

uint32_t kho_v1_bitmap(const struct kho_info *ki, uint32_t forced)
{
	if (forced)
		return forced;
	return ki && ki->has_luo ? KHO_BITMAP_4096 : 0;
}

int kho_map_read(const struct physmem *pm, const struct kho_abi *abi, uint64_t map_phys,
		 uint32_t v1_bitmap, struct kho_range *r, uint32_t cap,
		 struct kho_range *meta, uint32_t metacap, struct kho_map *m)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->r = r;
	m->cap = cap;
	m->meta = meta;
	m->metacap = metacap;
	m->compact_r = true;
	m->compact_meta = true;
	m->kind = abi ? abi->map : KHO_MAP_CHUNKS;
	if (m->kind == KHO_MAP_RADIX)
		err = kho_radix_read(pm, map_phys, m);
	else
		err = kho_chunks_read(pm, map_phys, v1_bitmap, m);
	if (err)
		return err;
	m->n = kho_ranges_sort_merge(r, m->n);
	m->nmeta = kho_ranges_sort_merge(meta, m->nmeta);
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

bool kho_ranges_disjoint(struct kho_range *r, uint32_t n, uint64_t *dup)
{
	uint32_t i;

	ranges_sort(r, n);
	for (i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end) {
			*dup = r[i].start;
			return false;
		}
	return true;
}

/* When the array is full, sort and merge it in place (folios of different
 * orders are often adjacent) and go on if that freed at least a quarter of
 * it; *compact stops further tries once it did not, which bounds the total
 * sorting work. */
int kho_map_add(struct kho_range *r, uint32_t *n, uint32_t cap, bool *compact,
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

int kho_map_bitmap(struct kho_map *m, const uint8_t *bm, uint32_t nbytes,
		   uint64_t start, unsigned int order)
{
	unsigned int shift = order + KHO_PAGE_SHIFT;
	unsigned int w, b;
	int err;

	/* One range per run of set bits, not per bit: an all-ones bitmap is
	 * nbytes / 8 word steps, and a hostile map cannot make us walk bit
	 * by bit. */
	for (w = 0; w < nbytes / 8; w++) {
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
			err = kho_map_add(m->r, &m->n, m->cap, &m->compact_r, fs,
					  fs + ((uint64_t)ones << shift));
			if (err)
				return kho_map_full(m);
			m->folios += ones;
			b += ones;
			word = ones < 64 ? word >> ones : 0;
		}
	}
	return 0;
}

int kho_map_full(struct kho_map *m)
{
	kho_say(m->msg, "KHO map has more ranges than the arena holds (%u/%u)",
		(unsigned int)m->cap, (unsigned int)m->metacap);
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
