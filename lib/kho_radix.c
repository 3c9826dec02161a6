/* kho_radix.c - the kho-v2+ preserved-memory map (Linux 7.1 on): a 6-level radix tree of pages.
 * Reads only through physmem_map; bounded in depth by construction and in pages by a budget. */
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include "kho_map.h"

#define TABLE_ENTRIES	(1u << KHO_RADIX_TABLE_LOG2)
#define LEAF_BYTES	((1u << KHO_RADIX_BITMAP_LOG2) / 8u)
#define TOP_LEVEL	(KHO_RADIX_LEVELS - 1u)

uint64_t kho_radix_key(uint64_t pa, unsigned int order)
{
	return (1ull << (KHO_RADIX_ORDER0_LOG2 - order)) | pa >> (KHO_PAGE_SHIFT + order);
}

int kho_radix_decode(uint64_t key, uint64_t *pa, unsigned int *order)
{
	unsigned int fls;

	if (!key)
		return -PCSC_ERANGE;
	fls = 64u - (unsigned int)__builtin_clzll(key);	/* 1-based, like fls64 */
	if (fls > KHO_RADIX_ORDER0_LOG2 + 1 || KHO_RADIX_ORDER0_LOG2 + 1 - fls > KHO_MAX_ORDER)
		return -PCSC_ERANGE;
	*order = KHO_RADIX_ORDER0_LOG2 + 1 - fls;
	/* The order bit lands on bit 64 and drops out, as upstream's shift. */
	*pa = key << (KHO_PAGE_SHIFT + *order);
	return 0;
}

/* Bits [(level-1)*9 + 15, +9) of key: the index into a level's table. */
static unsigned int table_index(uint64_t key, unsigned int level)
{
	return (unsigned int)(key >> ((level - 1) * KHO_RADIX_TABLE_LOG2 + KHO_RADIX_BITMAP_LOG2)) &
	       (TABLE_ENTRIES - 1);
}

/* Map one node page into *page, counting it against the budget and as
 * KHO metadata. */
static int map_node(const struct physmem *pm, struct kho_map *m, uint64_t p, const uint8_t **page)
{
	bool no_compact = false;
	int err;

	if (m->nodes >= KHO_MAX_RADIX_NODES) {
		kho_say(m->msg, "KHO radix tree has more than %u nodes", KHO_MAX_RADIX_NODES);
		return -PCSC_ERANGE;
	}
	*page = physmem_map_checked(pm, p, KHO_PAGE_SIZE, KHO_PAGE_SIZE, "KHO radix node", m->msg,
				    KHO_MSG_MAX, &err);
	if (!*page)
		return err;
	/* No in-place merging: a node reached twice must stay visible to
	 * the disjointness check at the end. */
	if (kho_map_add(m->meta, &m->nmeta, m->metacap, &no_compact, p, p + KHO_PAGE_SIZE))
		return kho_map_full(m);
	m->nodes++;
	return 0;
}

/* A leaf: 32768 folios of one order, the one its key's order bit names. */
static int read_leaf(struct kho_map *m, const uint8_t *leaf, uint64_t key)
{
	unsigned int order;
	uint64_t start, span;

	if (kho_radix_decode(key, &start, &order)) {
		kho_say(m->msg, "KHO radix leaf at key 0x%llx has no order <= %u",
			(unsigned long long)key, KHO_MAX_ORDER);
		return -PCSC_ERANGE;
	}
	span = (uint64_t)LEAF_BYTES * 8u << (KHO_PAGE_SHIFT + order);
	if (start + span < start) {
		kho_say(m->msg, "KHO radix leaf at key 0x%llx passes 2^64", (unsigned long long)key);
		return -PCSC_ERANGE;
	}
	m->bitmaps++;
	return kho_map_bitmap(m, leaf, LEAF_BYTES, start, order);
}

int kho_radix_read(const struct physmem *pm, uint64_t root, struct kho_map *m)
{
	struct {
		const uint8_t *tbl;
		uint64_t key;
		unsigned int idx;
	} st[KHO_RADIX_LEVELS];
	unsigned int level = TOP_LEVEL;
	uint64_t dup;
	int err;

	if (!root)
		return 0;
	err = map_node(pm, m, root, &st[level].tbl);
	if (err)
		return err;
	st[level].key = 0;
	st[level].idx = 0;
	/* Depth-first, one explicit frame per level: at most 5 tables deep,
	 * and every step either advances an index or maps a budgeted page. */
	for (;;) {
		const uint8_t *page;
		unsigned int i;
		uint64_t p, key;

		if (st[level].idx == TABLE_ENTRIES) {
			if (level == TOP_LEVEL)
				break;
			level++;
			continue;
		}
		i = st[level].idx++;
		memcpy(&p, st[level].tbl + 8u * i, 8);	/* native u64 phys, 0 = empty */
		if (!p)
			continue;
		key = st[level].key |
		      (uint64_t)i << ((level - 1) * KHO_RADIX_TABLE_LOG2 + KHO_RADIX_BITMAP_LOG2);
		err = map_node(pm, m, p, &page);
		if (err)
			return err;
		if (level == 1) {
			err = read_leaf(m, page, key);
			if (err)
				return err;
			continue;
		}
		level--;
		st[level].tbl = page;
		st[level].key = key;
		st[level].idx = 0;
	}
	/* Every node page once: a loop back up the tree or two parents
	 * sharing a subtree would have the next kernel read it twice. */
	if (!kho_ranges_disjoint(m->meta, m->nmeta, &dup)) {
		kho_say(m->msg, "KHO radix node 0x%llx reached twice", (unsigned long long)dup);
		return -PCSC_ELOOP;
	}
	return 0;
}

bool kho_radix_is_preserved(const struct physmem *pm, uint64_t root, uint64_t addr, uint64_t len)
{
	uint64_t page = addr & ~(uint64_t)(KHO_PAGE_SIZE - 1), end = addr + len;
	unsigned int pages = 0;

	if (!root || !len || end < addr)
		return false;
	/* Page by page; a folio found covers the pages up to its end. */
	while (page < end) {
		unsigned int order;
		bool found = false;

		if (++pages > (1u << 20))
			return false;	/* a 4 GiB question is not one we ask */
		for (order = 0; order <= KHO_MAX_ORDER && !found; order++) {
			uint64_t folio = 1ull << (KHO_PAGE_SHIFT + order);
			uint64_t pa = page & ~(folio - 1), key = kho_radix_key(pa, order), p = root;
			const uint8_t *node;
			unsigned int level, bit;

			for (level = TOP_LEVEL; level >= 1 && p; level--) {
				if ((p & (KHO_PAGE_SIZE - 1)) || !(node = physmem_map(pm, p, KHO_PAGE_SIZE)))
					return false;
				memcpy(&p, node + 8u * table_index(key, level), 8);
			}
			if (!p || (p & (KHO_PAGE_SIZE - 1)) || !(node = physmem_map(pm, p, LEAF_BYTES)))
				continue;
			bit = (unsigned int)(key & (LEAF_BYTES * 8u - 1));
			if (node[bit / 8] & (1u << (bit % 8))) {
				found = true;
				if (pa + folio < pa)
					return true;	/* the folio reaches 2^64 */
				page = pa + folio;
			}
		}
		if (!found)
			return false;
	}
	return true;
}
