/* cache_gen.c - writes what an old PCSC kernel leaves in memory, for tests, fuzz seeds,
 * pcsctool gen and benchmarks. Never allocates and never writes outside the caller's buffer. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>

static int fdt_err(int err)
{
	return err == -FDT_ERR_NOSPACE ? -PCSC_ENOSPC : -PCSC_EBADFDT;
}

uint64_t cache_gen_pcsc_fdt_size(uint32_t n)
{
	return PCSC_PAGE_ALIGN((uint64_t)n * 64u + 256u);
}

typedef void (*gen_entry_fn)(uint32_t i, struct cache_gen_entry *out, const void *ctx);

/* Start a sequential-write FDT: empty reserve map, root node, compatible. */
static int gen_fdt_begin(void *buf, size_t size, const char *compatible)
{
	int err;

	if (size > INT32_MAX)
		size = INT32_MAX;
	err = fdt_create(buf, (int)size);
	if (!err)
		err = fdt_finish_reservemap(buf);
	if (!err)
		err = fdt_begin_node(buf, "");
	if (!err)
		err = fdt_property_string(buf, "compatible", compatible);
	return err;
}

/* End what gen_fdt_begin began, after err (the first libfdt error) if any:
 * the child just written, then the root. */
static int gen_fdt_end(void *buf, int err, bool in_child)
{
	if (!err && in_child)
		err = fdt_end_node(buf);
	if (!err)
		err = fdt_end_node(buf);
	if (!err)
		err = fdt_finish(buf);
	return err ? fdt_err(err) : 0;
}

/* Sequential write, in the order the RFC's notifier uses. */
static int gen_pcsc_fdt(void *buf, size_t size, const char *compatible, uint32_t n,
			gen_entry_fn get, const void *ctx)
{
	uint8_t da[64];
	char name[24];
	uint32_t i;
	int err;

	err = gen_fdt_begin(buf, size, compatible ? compatible : PCSC_COMPATIBLE);
	for (i = 0; !err && i < n; i++) {
		struct cache_gen_entry e;
		int len;

		get(i, &e, ctx);
		len = e.da_len == 0 ? 8 : e.da_len;
		if (len > (int)sizeof(da))
			return -PCSC_EINVAL;
		if (!e.name)
			pcsc_name_format(e.sbdf, name);
		err = fdt_begin_node(buf, e.name ? e.name : name);
		if (!err && len > 0) {
			memset(da, 0, sizeof(da));
			memcpy(da, &e.da, len < 8 ? (size_t)len : 8u);
			err = fdt_property(buf, PCSC_PROP_DA, da, len);
		}
		if (!err)
			err = fdt_end_node(buf);
	}
	return gen_fdt_end(buf, err, false);
}

static void array_entry(uint32_t i, struct cache_gen_entry *out, const void *ctx)
{
	*out = ((const struct cache_gen_entry *)ctx)[i];
}

int cache_gen_pcsc_fdt(void *buf, size_t size, const char *compatible,
		       const struct cache_gen_entry *e, uint32_t n)
{
	return gen_pcsc_fdt(buf, size, compatible, n, array_entry, e);
}

static void set_range(uint8_t *map, unsigned int from, unsigned int len, unsigned int S)
{
	unsigned int i;

	for (i = from; i < from + len && i < S; i++)
		pcsc_bit_set(map, i);
}

int cache_gen_pcsc_data(void *buf, size_t size, uint16_t S, const uint8_t *cfg, uint16_t cfg_len)
{
	uint8_t *d = buf, *cachable, *cached;
	unsigned int pos, hops;

	if ((S != PCI_CFG_SIZE && S != PCIE_CFG_SIZE) || cfg_len > S || (cfg_len && !cfg))
		return -PCSC_EINVAL;
	if (size < PCSC_DATA_ALLOC(S))
		return -PCSC_ENOSPC;
	memset(d, 0, PCSC_DATA_ALLOC(S));
	if (cfg_len)
		memcpy(d, cfg, cfg_len);
	cachable = d + PCSC_DATA_CACHABLE(S);
	cached = d + PCSC_DATA_CACHED(S);
	/* What the RFC's infer_cacheability marks for a type 0 header. */
	set_range(cachable, PCI_VENDOR_ID, 4, S);
	set_range(cachable, PCI_CLASS_REVISION, PCI_CAPABILITY_LIST - PCI_CLASS_REVISION + 1, S);
	/* Capability headers (id, next): bounded like the kernel's walk. */
	pos = d[PCI_CAPABILITY_LIST] & 0xfc;
	for (hops = 0; pos >= 0x40 && pos <= 0xfc && hops < 48; hops++) {
		set_range(cachable, pos, 2, S);
		pos = d[pos + 1] & 0xfc;
	}
	memcpy(cached, cachable, S / 8u);
	return 0;
}

/* ---- preserved-memory map ---- */

struct map_writer {
	uint8_t *buf;
	size_t size;
	uint64_t phys;
	uint32_t nchunks;	/* chunk pages used from the start */
	size_t bm_top;		/* bitmaps grow down from here */
	int64_t prev;		/* byte offset of the last chunk written, -1 none */
	uint32_t order_first;	/* first chunk of the current order */
	uint32_t bmb;		/* kho-v1 bitmap bytes (512 or 4096) */
	uint64_t first;
};

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int map_new_chunk(struct map_writer *w, uint32_t order)
{
	size_t off = (size_t)w->nchunks * KHO_CHUNK_SIZE;

	if (off + KHO_CHUNK_SIZE > w->bm_top)
		return -PCSC_ENOSPC;
	memset(w->buf + off, 0, KHO_CHUNK_SIZE);
	wr32(w->buf + off + 8, order);
	if (w->prev >= 0)
		wr64(w->buf + w->prev, w->phys + off);
	else
		w->first = w->phys + off;
	w->prev = (int64_t)off;
	w->nchunks++;
	return 0;
}

/* Mark the folio (pfn, order) in the bitmap of its block, creating the
 * entry (and a chunk) on first use. */
static int map_mark(struct map_writer *w, uint64_t pfn, uint32_t order)
{
	uint64_t idx = pfn >> order;
	uint64_t bits = (uint64_t)w->bmb * 8u;
	/* Upstream: phys_start = (index * PRESERVE_BITS) << (order + PAGE_SHIFT). */
	uint64_t start = (idx / bits * bits) << (order + KHO_PAGE_SHIFT);
	unsigned int bit = (unsigned int)(idx % bits);
	uint32_t c, k, num;
	uint8_t *ch, *bm;
	int err;

	/* Newest entries first: folios arrive mostly in address order. */
	for (c = w->nchunks; c-- > w->order_first;) {
		ch = w->buf + (size_t)c * KHO_CHUNK_SIZE;
		num = rd32(ch + 12);
		for (k = num; k-- > 0;) {
			uint8_t *ent = ch + KHO_CHUNK_HDR_SIZE + k * KHO_CHUNK_ENTRY_SIZE;

			if (rd64(ent) == start) {
				bm = w->buf + (rd64(ent + 8) - w->phys);
				pcsc_bit_set(bm, bit);
				return 0;
			}
		}
	}
	if (w->nchunks == w->order_first ||
	    rd32(w->buf + (size_t)(w->nchunks - 1) * KHO_CHUNK_SIZE + 12) == KHO_CHUNK_MAX_ELMS) {
		err = map_new_chunk(w, order);
		if (err)
			return err;
	}
	if (w->bm_top < w->bmb || w->bm_top - w->bmb < (size_t)w->nchunks * KHO_CHUNK_SIZE)
		return -PCSC_ENOSPC;
	w->bm_top -= w->bmb;
	bm = w->buf + w->bm_top;
	memset(bm, 0, w->bmb);
	pcsc_bit_set(bm, bit);
	ch = w->buf + (size_t)(w->nchunks - 1) * KHO_CHUNK_SIZE;
	num = rd32(ch + 12);
	wr64(ch + KHO_CHUNK_HDR_SIZE + num * KHO_CHUNK_ENTRY_SIZE, start);
	wr64(ch + KHO_CHUNK_HDR_SIZE + num * KHO_CHUNK_ENTRY_SIZE + 8, w->phys + w->bm_top);
	wr32(ch + 12, num + 1);
	return 0;
}

/* Largest naturally aligned folio at pfn that fits before end (as
 * kho_preserve_phys splits a range). */
static uint32_t folio_order(uint64_t pfn, uint64_t end)
{
	uint32_t o = 0;

	while (o < KHO_MAX_ORDER && !(pfn & (1ull << o)) && (2ull << o) <= end - pfn)
		o++;
	return o;
}

uint64_t cache_gen_kho_map_size(const struct kho_abi *abi, uint32_t n)
{
	/* Radix: the root, then up to 5 node pages per order whose path is
	 * new (orders differ in the high key bits), and leaves for the span;
	 * the KHO root FDT's order-0 folio may need a path of its own (5).
	 * kho-v1: its folio may need a chunk and a bitmap of its own (2). */
	if (abi && abi->map == KHO_MAP_RADIX)
		return (1u + 5u * (KHO_MAX_ORDER + 1u) + 16u + 5u + n / 2048u) *
		       (uint64_t)KHO_PAGE_SIZE;
	return (16u + 2u + n / 2048u) * (uint64_t)KHO_PAGE_SIZE;
}

/* kho-v2+: mark the folio (pfn, order) in the radix tree rooted at the
 * first page of w->buf, allocating node pages upwards as upstream's
 * kho_radix_add_page allocates them on first use. */
static int radix_mark(struct map_writer *w, uint64_t pfn, uint32_t order)
{
	uint64_t key = kho_radix_key(pfn << KHO_PAGE_SHIFT, order);
	uint8_t *node = w->buf;
	unsigned int level, idx;
	uint64_t p;

	for (level = KHO_RADIX_LEVELS - 1; level >= 1; level--) {
		idx = (unsigned int)(key >> ((level - 1) * KHO_RADIX_TABLE_LOG2 +
					     KHO_RADIX_BITMAP_LOG2)) &
		      ((1u << KHO_RADIX_TABLE_LOG2) - 1);
		p = rd64(node + 8u * idx);
		if (!p) {
			size_t off = (size_t)w->nchunks * KHO_PAGE_SIZE;

			if (off + KHO_PAGE_SIZE > w->size)
				return -PCSC_ENOSPC;
			memset(w->buf + off, 0, KHO_PAGE_SIZE);
			w->nchunks++;
			p = w->phys + off;
			wr64(node + 8u * idx, p);
		}
		node = w->buf + (p - w->phys);
	}
	pcsc_bit_set(node, (unsigned int)(key & ((1u << KHO_RADIX_BITMAP_LOG2) - 1)));
	return 0;
}

int cache_gen_kho_map(void *buf, size_t size, uint64_t buf_phys,
		      const struct kho_range *ranges, uint32_t n,
		      const struct kho_abi *abi, uint32_t v1_bitmap,
		      uint64_t *first, size_t *used)
{
	bool radix = abi && abi->map == KHO_MAP_RADIX;
	struct map_writer w;
	uint32_t i, order;
	int err;

	if (buf_phys & (KHO_PAGE_SIZE - 1))
		return -PCSC_EALIGN;
	if (v1_bitmap && v1_bitmap != KHO_BITMAP_512 && v1_bitmap != KHO_BITMAP_4096)
		return -PCSC_EINVAL;
	for (i = 0; i < n; i++) {
		if (ranges[i].end <= ranges[i].start)
			return -PCSC_ERANGE;
		if ((ranges[i].start | ranges[i].end) & (KHO_PAGE_SIZE - 1))
			return -PCSC_EALIGN;
	}
	memset(&w, 0, sizeof(w));
	w.buf = buf;
	w.size = size;
	w.phys = buf_phys;
	w.bmb = v1_bitmap ? v1_bitmap : KHO_BITMAP_512;
	w.bm_top = size & ~(size_t)(w.bmb - 1);
	w.prev = -1;
	if (radix) {
		/* The root exists even for an empty map (kho_init allocates it). */
		if (size < KHO_PAGE_SIZE)
			return -PCSC_ENOSPC;
		memset(buf, 0, KHO_PAGE_SIZE);
		w.nchunks = 1;
		w.first = buf_phys;
	}
	for (order = 0; order <= KHO_MAX_ORDER; order++) {
		w.order_first = w.nchunks;
		for (i = 0; i < n; i++) {
			uint64_t pfn = ranges[i].start >> KHO_PAGE_SHIFT;
			uint64_t end = ranges[i].end >> KHO_PAGE_SHIFT;

			while (pfn < end) {
				uint32_t o = folio_order(pfn, end);

				if (o == order) {
					err = radix ? radix_mark(&w, pfn, o) : map_mark(&w, pfn, o);
					if (err)
						return err;
				}
				pfn += 1ull << o;
			}
		}
	}
	if (first)
		*first = w.first;
	if (used)
		*used = (size_t)w.nchunks * KHO_CHUNK_SIZE;
	return 0;
}

int cache_gen_kho_fdt(void *buf, size_t size, const struct kho_abi *abi, const char *compatible,
		      uint64_t map_phys, uint64_t pcsc_fdt_phys, uint64_t blob_size)
{
	int err;

	if (!abi)
		abi = &kho_abis[0];
	err = gen_fdt_begin(buf, size, compatible ? compatible : abi->compatible);
	if (!err)
		err = fdt_property(buf, KHO_PROP_MEM_MAP, &map_phys, sizeof(map_phys));
	if (!err && pcsc_fdt_phys) {
		err = fdt_begin_node(buf, PCSC_KHO_NAME);
		if (!err)
			err = fdt_property(buf, abi->subtree_prop, &pcsc_fdt_phys,
					   sizeof(pcsc_fdt_phys));
		if (!err && abi->blob_size)
			err = fdt_property(buf, KHO_PROP_BLOB_SIZE, &blob_size, sizeof(blob_size));
	}
	return gen_fdt_end(buf, err, pcsc_fdt_phys != 0);
}

struct build_ctx {
	const struct cache_gen_dev *devs;
	uint64_t data, stride;
};

static void build_entry(uint32_t i, struct cache_gen_entry *out, const void *ctx)
{
	const struct build_ctx *b = ctx;

	memset(out, 0, sizeof(*out));
	out->sbdf = b->devs[i].sbdf;
	out->da = b->data + (uint64_t)i * b->stride;
}

int cache_gen_build(void *img, uint64_t img_base, uint64_t img_size,
		    const struct cache_gen_dev *devs, uint32_t n, struct cache_gen_layout *lo)
{
	uint8_t *m = img;
	uint64_t img_end = img_base + img_size;
	struct build_ctx b;
	struct kho_range pres[2];
	size_t used;
	uint32_t i;
	int err;

	if (lo->S != PCI_CFG_SIZE && lo->S != PCIE_CFG_SIZE)
		return -PCSC_EINVAL;
	if ((lo->base & (PCSC_PAGE_SIZE - 1)) || lo->base < img_base || img_end < img_base)
		return -PCSC_EINVAL;
	lo->stride = PCSC_DATA_ALLOC(lo->S);
	lo->data = lo->base;
	lo->pcsc_fdt = lo->data + (uint64_t)n * lo->stride;
	lo->pcsc_fdt_alloc = cache_gen_pcsc_fdt_size(n);
	lo->map_area = lo->pcsc_fdt + lo->pcsc_fdt_alloc;
	lo->map_area_size = cache_gen_kho_map_size(lo->abi, n);
	lo->kho_fdt = lo->map_area + lo->map_area_size;
	lo->end = lo->kho_fdt + KHO_PAGE_SIZE;
	if (lo->end > img_end || lo->end < lo->base)
		return -PCSC_ENOSPC;
	for (i = 0; i < n; i++) {
		err = cache_gen_pcsc_data(m + (lo->data - img_base) + (uint64_t)i * lo->stride,
					  lo->stride, lo->S, devs[i].cfg, devs[i].cfg_len);
		if (err)
			return err;
	}
	b.devs = devs;
	b.data = lo->data;
	b.stride = lo->stride;
	memset(m + (lo->pcsc_fdt - img_base), 0, lo->pcsc_fdt_alloc);
	err = gen_pcsc_fdt(m + (lo->pcsc_fdt - img_base), lo->pcsc_fdt_alloc, NULL, n, build_entry, &b);
	if (err)
		return err;
	/* Data blocks and FDT pages are adjacent: one preserved range. The
	 * KHO root FDT page is preserved too, an order-0 folio in every ABI
	 * (6.16 kho_finalize, later kho_alloc_preserve(PAGE_SIZE) in
	 * kho_init: docs/abi.md fact 5). */
	pres[0].start = lo->data;
	pres[0].end = lo->map_area;
	pres[1].start = lo->kho_fdt;
	pres[1].end = lo->kho_fdt + KHO_PAGE_SIZE;
	err = cache_gen_kho_map(m + (lo->map_area - img_base), lo->map_area_size, lo->map_area,
				pres, 2, lo->abi, lo->v1_bitmap, &lo->map, &used);
	if (err)
		return err;
	memset(m + (lo->kho_fdt - img_base), 0, KHO_PAGE_SIZE);
	/* blob-size: the FDT's own size, as a KHO user passes it. */
	return cache_gen_kho_fdt(m + (lo->kho_fdt - img_base), KHO_PAGE_SIZE, lo->abi, NULL,
				 lo->map, lo->pcsc_fdt,
				 fdt_totalsize(m + (lo->pcsc_fdt - img_base)));
}
