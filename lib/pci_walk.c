/* pci_walk.c - read-only, bounded, bridge-aware enumeration of live functions.
 * Must never write config space nor reprogram a bridge, and must end on any
 * topology: every loop is bounded by bus, function or hop counts. */
#include <stdbool.h>
#include <stddef.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/pci.h>
#include <pcsc/pci_caps.h>
#include <pcsc/pci_walk.h>
#include <pcsc/sriov.h>
#include <pcsc/sort.h>

#define PCI_WALK_CRS_DEFAULT	1000

/* PCIe Device/Port Type of a bridge, PCIe Capabilities register [7:4]. */
#define EXP_TYPE_ROOT_PORT	0x4
#define EXP_TYPE_DOWNSTREAM	0x6
#define PCI_EXP_FLAGS_TYPE(dw)	(((dw) >> 20) & 0xf)	/* from the cap's first dword */

/*
 * Between a walk and pci_walk_finish, a PF's pf field holds the index of
 * its range and the range's pf is PCI_PF_NONE: funcs[] indices are only
 * meaningful once funcs[] is sorted, which pci_walk_finish does, turning
 * the link around (range -> PF index, PF pf = PCI_PF_NONE again).
 */

void pci_walk_init(struct pci_walk *w, void *arena, size_t size)
{
	uint32_t cap = 0;

	if (arena) {
		size_t c = size / PCI_WALK_FUNC_BYTES;

		cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	}
	/* Three tables of cap each: entries, ranges, cursors (all 4-byte
	 * members, so each starts aligned). */
	w->funcs = arena;
	w->ranges = arena ? (struct pci_vf_range *)(w->funcs + cap) : NULL;
	w->heap = arena ? (struct pci_walk_cursor *)(w->ranges + cap) : NULL;
	w->cap = cap;
	w->nphys = 0;
	w->nranges = 0;
	w->n = 0;
	w->crs_budget = PCI_WALK_CRS_DEFAULT;
	w->stats = (struct pci_walk_stats){ 0 };
}

/* How a bus is scanned, decided by the port above it. */
enum scan_mode {
	SCAN_ALL,	/* devices 0..31, functions 1..7 when bit 7 says so */
	SCAN_DEV0,	/* below a root/downstream port: the link has device 0 only */
	SCAN_ARI,	/* below an ARI-forwarding port: device 0's ARI chain */
};

struct frame {
	uint8_t bus;
	uint8_t limit;		/* subordinate of the bridge that led here */
	uint8_t mode;		/* enum scan_mode */
	uint16_t next;		/* next devfn to probe; 256 = bus done */
};

/* What one probe learned about one function. */
struct probe {
	bool present;
	uint8_t hdr;		/* header type byte, bit 7 included */
	bool has_ari;
	uint8_t ari_nfn;
	bool bridge;
	uint8_t sec, sub;
	uint8_t child_mode;
};

struct walk_ctx {
	struct pci_walk *w;
	struct pci_cfg *cfg;
	const struct ecam_window *win;
	uint32_t seen[8];	/* buses entered or claimed by a finished bridge */
	struct frame stack[256];
	unsigned int sp;
	bool overflow_logged;
};

static bool bit_test(const uint32_t *bm, unsigned int b)
{
	return bm[b >> 5] & (1u << (b & 31));
}

static void bit_set(uint32_t *bm, unsigned int b)
{
	bm[b >> 5] |= 1u << (b & 31);
}

static void log_func(pci_sbdf_t s, const char *what)
{
	pcsc_log("pcsc: walk: %04x:%02x:%02x.%x %s", PCI_SBDF_SEG(s), PCI_SBDF_BUS(s),
		 PCI_SLOT(PCI_SBDF_DEVFN(s)), PCI_FUNC(PCI_SBDF_DEVFN(s)), what);
}

/* A physical function and the VFs it derives (vfs of them, first..last). */
static void append(struct walk_ctx *c, const struct pci_func *f, uint32_t vfs,
		   const struct pci_vf_range *r)
{
	struct pci_walk *w = c->w;

	if (w->nphys >= w->cap) {
		w->stats.overflow += 1 + vfs;
		if (!c->overflow_logged) {
			pcsc_log("pcsc: walk: function table full at %u entries: dropping the rest",
				 w->cap);
			c->overflow_logged = true;
		}
		return;
	}
	w->funcs[w->nphys] = *f;
	if (vfs) {
		/* nranges <= nphys < cap: a range only ever follows its PF. */
		w->funcs[w->nphys].pf = w->nranges;
		w->ranges[w->nranges++] = *r;
	}
	w->nphys++;
	w->n += 1 + vfs;
}

/*
 * One pass over the extended list collecting ARI and SR-IOV positions:
 * cheaper than two pci_find_ext_cap calls when a function has both, equal
 * when it has neither. Same hop limit and rules as pci_find_ext_cap.
 */
static int ext_caps(struct pci_cfg *cfg, pci_sbdf_t sbdf, bool want_ari,
		    uint16_t *ari, uint16_t *sriov)
{
	unsigned int p = PCI_EXT_CAP_START;
	uint32_t h;

	*ari = 0;
	*sriov = 0;
	for (unsigned int hop = 0; hop < PCI_EXT_CAP_MAX_HOPS; hop++) {
		if (pci_cfg_read32(cfg, sbdf, (uint16_t)p, &h) || h == 0 || h == 0xffffffffu)
			return 0;
		if (PCI_EXT_CAP_ID(h) == PCI_EXT_CAP_ID_ARI && !*ari)
			*ari = (uint16_t)p;
		if (PCI_EXT_CAP_ID(h) == PCI_EXT_CAP_ID_SRIOV && !*sriov)
			*sriov = (uint16_t)p;
		if (*sriov && (*ari || !want_ari))
			return 0;
		p = PCI_EXT_CAP_NEXT(h);
		if (!p)
			return 0;
		if (p < PCI_EXT_CAP_START)
			return -PCSC_ELOOP;
	}
	return -PCSC_ELOOP;
}

/*
 * Derive (never read) the VFs of an enabled PF: how many lie inside the
 * window, and their range, with sriov_vf_sbdf's arithmetic. RIDs grow with
 * the VF number, so those inside are a prefix: the VFs from VF 0 up to the
 * window's last RID (a zero stride gives VF 0 only). Returns that count;
 * r is filled when it is not 0.
 */
static uint32_t derive_vfs(struct walk_ctx *c, const struct pci_func *pf,
			   const struct sriov_info *s, struct pci_vf_range *r)
{
	uint32_t in = 0, out, num = s->num_vfs, first;
	uint32_t limit = ((uint32_t)c->win->bus_end << 8) | 0xffu;
	pci_sbdf_t vf0;

	/* VFs past TotalVFs cannot exist: a NumVFs above it is not trusted. */
	if (num > s->total_vfs) {
		c->w->stats.vf_out_of_range += num - s->total_vfs;
		pcsc_log("pcsc: walk: %04x:%02x:%02x.%x SR-IOV: NumVFs %u > TotalVFs %u: extra VFs ignored",
			 PCI_SBDF_SEG(pf->sbdf), PCI_SBDF_BUS(pf->sbdf),
			 PCI_SLOT(PCI_SBDF_DEVFN(pf->sbdf)), PCI_FUNC(PCI_SBDF_DEVFN(pf->sbdf)),
			 s->num_vfs, s->total_vfs);
		num = s->total_vfs;
	}
	/* limit <= 0xffff: the RID never passes bus 255. The PF's bus is
	 * inside the window, so no VF lies below it. */
	if (num && sriov_vf_sbdf(s, pf->sbdf, 0, &vf0) == 0 &&
	    (first = PCI_SBDF_RID(vf0)) <= limit)
		in = s->stride ? (limit - first) / s->stride + 1 : 1;
	if (in > num)
		in = num;
	/* VF in - 1 exists (in <= num <= NumVFs, its RID <= limit, a zero
	 * stride gives in = 1): the check only keeps r whole regardless. */
	if (in && sriov_vf_sbdf(s, pf->sbdf, in - 1, &r->last))
		in = 0;
	out = num - in;
	if (in) {
		r->first = vf0;
		r->pf = PCI_PF_NONE;
		r->stride = s->stride;
		r->device = s->vf_device;
	}
	if (out) {
		c->w->stats.vf_out_of_range += out;
		pcsc_log("pcsc: walk: %04x:%02x:%02x.%x SR-IOV: %u of %u VFs past bus %02x: ignored",
			 PCI_SBDF_SEG(pf->sbdf), PCI_SBDF_BUS(pf->sbdf),
			 PCI_SLOT(PCI_SBDF_DEVFN(pf->sbdf)), PCI_FUNC(PCI_SBDF_DEVFN(pf->sbdf)),
			 out, num, c->win->bus_end);
	}
	return in;
}

/* Read dword 0, retrying CRS completions within the budget. */
static bool read_present(struct walk_ctx *c, pci_sbdf_t sbdf, uint32_t *id)
{
	uint32_t v;
	int ret = pci_cfg_read32(c->cfg, sbdf, PCI_VENDOR_ID, &v);

	for (uint32_t tries = 0; !ret && (v & 0xffff) == PCI_VENDOR_CRS &&
	     tries < c->w->crs_budget; tries++)
		ret = pci_cfg_read32(c->cfg, sbdf, PCI_VENDOR_ID, &v);
	if (ret)
		return false;
	if ((v & 0xffff) == PCI_VENDOR_CRS) {
		c->w->stats.crs_timeouts++;
		log_func(sbdf, "still CRS after the retry budget: treated as absent");
		return false;
	}
	/* As Linux: all ones, all zeros and half-and-half mean nobody home. */
	if ((v & 0xffff) == PCI_VENDOR_NONE || v == 0 || v == 0xffff0000u)
		return false;
	*id = v;
	return true;
}

static void probe(struct walk_ctx *c, const struct frame *fr, uint8_t devfn, struct probe *pr)
{
	pci_sbdf_t sbdf = PCI_SBDF(c->win->seg, fr->bus, devfn);
	struct pci_func f = { .sbdf = sbdf, .pf = PCI_PF_NONE };
	uint16_t exp = 0, ari = 0, sriov = 0;
	uint32_t id, v;
	int ret;

	*pr = (struct probe){ 0 };
	if (!read_present(c, sbdf, &id))
		return;
	pr->present = true;
	f.vendor = (uint16_t)id;
	f.device = (uint16_t)(id >> 16);
	pci_cfg_read32(c->cfg, sbdf, PCI_CLASS_REVISION, &f.class_rev);
	pci_cfg_read32(c->cfg, sbdf, PCI_HEADER_TYPE & ~3, &v);
	pr->hdr = (uint8_t)(v >> 16);
	f.hdr_type = pr->hdr & PCI_HEADER_TYPE_MASK;

	ret = pci_find_cap(c->cfg, sbdf, PCI_CAP_ID_EXP, &exp);
	if (ret == -PCSC_ELOOP) {
		c->w->stats.cap_loops++;
		log_func(sbdf, "capability list loops: treated as conventional PCI");
	}
	if (!ret)
		f.flags |= PCI_FUNC_PCIE;

	if (f.hdr_type == PCI_HEADER_TYPE_BRIDGE) {
		f.flags |= PCI_FUNC_BRIDGE;
		pr->bridge = true;
		pci_cfg_read32(c->cfg, sbdf, PCI_PRIMARY_BUS, &v);
		pr->sec = (uint8_t)(v >> 8);
		pr->sub = (uint8_t)(v >> 16);
		pr->child_mode = SCAN_ALL;
		if (f.flags & PCI_FUNC_PCIE) {
			unsigned int type;

			pci_cfg_read32(c->cfg, sbdf, exp, &v);
			type = PCI_EXP_FLAGS_TYPE(v);
			pci_cfg_read32(c->cfg, sbdf, (uint16_t)(exp + PCI_EXP_DEVCTL2), &v);
			if (v & PCI_EXP_DEVCTL2_ARI)
				pr->child_mode = SCAN_ARI;
			else if (type == EXP_TYPE_ROOT_PORT || type == EXP_TYPE_DOWNSTREAM)
				pr->child_mode = SCAN_DEV0;
		}
	}
	/* Extended capabilities: SR-IOV on PCIe endpoints, ARI when the
	 * chain needs the next function number. */
	if ((f.flags & PCI_FUNC_PCIE) &&
	    (f.hdr_type == PCI_HEADER_TYPE_NORMAL || fr->mode == SCAN_ARI)) {
		if (ext_caps(c->cfg, sbdf, fr->mode == SCAN_ARI, &ari, &sriov) == -PCSC_ELOOP) {
			c->w->stats.cap_loops++;
			log_func(sbdf, "extended capability list loops");
		}
		if (f.hdr_type != PCI_HEADER_TYPE_NORMAL)
			sriov = 0;
	}
	if (fr->mode == SCAN_ARI && ari &&
	    pci_cfg_read32(c->cfg, sbdf, (uint16_t)(ari + PCI_ARI_CAP), &v) == 0) {
		f.flags |= PCI_FUNC_ARI;	/* reached through (or heading) the chain */
		pr->has_ari = true;
		pr->ari_nfn = (uint8_t)PCI_ARI_CAP_NFN(v);
	}

	struct sriov_info s;
	struct pci_vf_range r;
	uint32_t nvf = 0;

	if (sriov && sriov_read(c->cfg, sbdf, sriov, &s) == 0 && s.enabled) {
		f.flags |= PCI_FUNC_PF;
		nvf = derive_vfs(c, &f, &s, &r);
	}
	append(c, &f, nvf, &r);
}

static void bridge_log(pci_sbdf_t s, const struct probe *pr, const char *why)
{
	pcsc_log("pcsc: walk: %04x:%02x:%02x.%x bridge secondary %02x subordinate %02x %s",
		 PCI_SBDF_SEG(s), PCI_SBDF_BUS(s), PCI_SLOT(PCI_SBDF_DEVFN(s)),
		 PCI_FUNC(PCI_SBDF_DEVFN(s)), pr->sec, pr->sub, why);
}

/* Decide whether the bridge just probed is followed, and push its bus. */
static void follow_bridge(struct walk_ctx *c, const struct frame *fr, uint8_t devfn,
			  const struct probe *pr)
{
	pci_sbdf_t sbdf = PCI_SBDF(c->win->seg, fr->bus, devfn);
	const char *why = NULL;
	uint8_t limit;

	if (pr->sec == 0) {
		c->w->stats.unnumbered_bridges++;
		log_func(sbdf, "bridge unnumbered (secondary 0): nothing behind it seen");
		return;
	}
	if (pr->sec <= fr->bus)
		why = "not above its own bus: not followed";
	else if (pr->sub < pr->sec)
		why = "inverted: not followed";
	else if (pr->sec > c->win->bus_end)
		why = "outside the ECAM window: not followed";
	else if (pr->sec > fr->limit)
		why = "outside its parent's range: not followed";
	/* Buses past the parent's subordinate are never forwarded to, by
	 * hardware either: walk what is reachable, but count the bridge. */
	limit = pr->sub > fr->limit ? fr->limit : pr->sub;
	for (unsigned int b = pr->sec; !why && b <= limit; b++)
		if (bit_test(c->seen, b))
			why = "claims a bus already walked: not followed";
	if (why) {
		c->w->stats.bad_bridges++;
		bridge_log(sbdf, pr, why);
		return;
	}
	if (limit != pr->sub) {
		c->w->stats.bad_bridges++;
		bridge_log(sbdf, pr, limit == c->win->bus_end ?
			   "past the ECAM window: walked up to its end" :
			   "past its parent's range: walked up to the parent's subordinate");
	}
	bit_set(c->seen, pr->sec);
	c->w->stats.buses++;
	/* Bounded: a push marks a new bus in seen[], so at most 256 frames. */
	c->stack[c->sp++] = (struct frame){ .bus = pr->sec, .limit = limit,
					    .mode = pr->child_mode, .next = 0 };
}

/* Next devfn on a bus after probing devfn (256 ends the bus). */
static uint16_t next_devfn(struct walk_ctx *c, struct frame *fr, uint8_t devfn,
			   const struct probe *pr)
{
	if (fr->mode == SCAN_ARI) {
		if (!pr->present)
			return 256;
		if (!pr->has_ari) {
			/* Not an ARI device after all: device 0 the classic way. */
			if (devfn == 0 && (pr->hdr & PCI_HEADER_TYPE_MFD)) {
				fr->mode = SCAN_DEV0;
				return 1;
			}
			return 256;
		}
		if (pr->ari_nfn == 0)
			return 256;
		if (pr->ari_nfn <= devfn) {
			c->w->stats.cap_loops++;
			log_func(PCI_SBDF(c->win->seg, fr->bus, devfn),
				 "ARI next function goes backwards: chain ends");
			return 256;
		}
		return pr->ari_nfn;
	}
	/* Classic: function 0 decides whether functions 1..7 exist. */
	uint16_t next_dev = (uint16_t)((devfn & ~7u) + 8);
	uint16_t next;

	if (PCI_FUNC(devfn) == 0)
		next = (pr->present && (pr->hdr & PCI_HEADER_TYPE_MFD)) ? devfn + 1 : next_dev;
	else
		next = devfn + 1;
	if (fr->mode == SCAN_DEV0 && next >= 8)
		return 256;
	return next;
}

int pci_walk_window(struct pci_walk *w, struct pci_cfg *cfg, const struct ecam_window *win)
{
	struct walk_ctx c = { .w = w, .cfg = cfg, .win = win };
	uint32_t overflow = w->stats.overflow;

	if (win->bus_end < win->bus_start)
		return -PCSC_ERANGE;
	bit_set(c.seen, win->bus_start);
	w->stats.buses++;
	c.stack[c.sp++] = (struct frame){ .bus = win->bus_start, .limit = win->bus_end,
					  .mode = SCAN_ALL, .next = 0 };
	/* Each iteration probes one devfn or ends one bus: at most 256 * 257. */
	while (c.sp > 0) {
		struct frame *fr = &c.stack[c.sp - 1];
		struct probe pr;
		uint8_t devfn;

		if (fr->next > 255) {
			/* The whole range is now spoken for: no later bridge may
			 * claim any of it. */
			for (unsigned int b = fr->bus; b <= fr->limit; b++)
				bit_set(c.seen, b);
			c.sp--;
			continue;
		}
		devfn = (uint8_t)fr->next;
		probe(&c, fr, devfn, &pr);
		fr->next = next_devfn(&c, fr, devfn, &pr);
		if (pr.present && pr.bridge)
			follow_bridge(&c, fr, devfn, &pr);
	}
	return w->stats.overflow != overflow ? -PCSC_ENOSPC : 0;
}

static bool func_less(const struct pci_func *a, const struct pci_func *b)
{
	return a->sbdf < b->sbdf;
}

PCSC_DEFINE_HEAPSORT(funcs_sort, struct pci_func, func_less)

static bool range_less(const struct pci_vf_range *a, const struct pci_vf_range *b)
{
	return a->pf < b->pf;
}

PCSC_DEFINE_HEAPSORT(ranges_sort, struct pci_vf_range, range_less)

void pci_walk_finish(struct pci_walk *w)
{
	struct pci_func *v = w->funcs;
	uint32_t i, n = w->nphys;

	/* Links from an earlier finish point from the PF to its range again. */
	for (i = 0; i < w->nranges; i++)
		if (w->ranges[i].pf < n)
			v[w->ranges[i].pf].pf = i;
	funcs_sort(v, n);
	for (i = 0; i < n; i++) {
		if (v[i].pf == PCI_PF_NONE)
			continue;
		if (v[i].pf < w->nranges)
			w->ranges[v[i].pf].pf = i;
		v[i].pf = PCI_PF_NONE;
	}
	/* PF order: the merge breaks SBDF ties by range index. */
	ranges_sort(w->ranges, w->nranges);
}

/* Cursor order: SBDF, then range (= PF) index, as one 64-bit key. */
static uint64_t cursor_key(const struct pci_walk_cursor *c)
{
	return (uint64_t)c->sbdf << 32 | c->range;
}

static bool cursor_less(const struct pci_walk_cursor *a, const struct pci_walk_cursor *b)
{
	return cursor_key(a) < cursor_key(b);
}

/* The smallest key of the root's children: no key below the root is
 * smaller, so the root may advance up to it and stay the minimum. */
static uint64_t root_bound(const struct pci_walk_cursor *h, uint32_t n)
{
	uint64_t b = n > 1 ? cursor_key(&h[1]) : UINT64_MAX;

	if (n > 2 && cursor_key(&h[2]) < b)
		b = cursor_key(&h[2]);
	return b;
}

/* Restore the min-heap below root; O(log n) steps. */
static void heap_down(struct pci_walk_cursor *h, uint32_t root, uint32_t n)
{
	struct pci_walk_cursor t = h[root];

	for (;;) {
		uint32_t c = 2 * root + 1;

		if (c >= n)
			break;
		if (c + 1 < n && cursor_less(&h[c + 1], &h[c]))
			c++;
		if (!cursor_less(&h[c], &t))
			break;
		h[root] = h[c];
		root = c;
	}
	h[root] = t;
}

const struct pci_func *pci_walk_first(struct pci_walk_iter *it, const struct pci_walk *w)
{
	struct pci_walk_cursor *h = w->heap;
	uint32_t r;

	it->w = w;
	it->i = 0;
	it->nheap = w->nranges;
	it->vf_range = PCI_PF_NONE;
	for (r = 0; r < w->nranges; r++)
		h[r] = (struct pci_walk_cursor){ .sbdf = w->ranges[r].first, .range = r };
	/* PF order is nearly SBDF order: mostly a heap already. */
	for (r = it->nheap / 2; r-- > 0;)
		heap_down(h, r, it->nheap);
	it->bound = root_bound(h, it->nheap);
	return pci_walk_next(it);
}

const struct pci_func *pci_walk_next(struct pci_walk_iter *it)
{
	const struct pci_walk *w = it->w;
	const struct pci_func *f = it->i < w->nphys ? &w->funcs[it->i] : NULL;
	struct pci_walk_cursor *h = w->heap;
	const struct pci_vf_range *r;
	pci_sbdf_t sbdf;

	/* Ties: the physical function first. */
	if (!it->nheap || (f && f->sbdf <= h[0].sbdf)) {
		it->i += f != NULL;
		return f;
	}
	sbdf = h[0].sbdf;
	r = &w->ranges[h[0].range];
	/* VFs of one range differ only by SBDF: build the rest on a change. */
	if (it->vf_range != h[0].range) {
		it->vf_range = h[0].range;
		it->vf = (struct pci_func){
			/* A VF's own Vendor ID reads 0xffff: Linux shows its PF's. */
			.vendor = r->pf < w->nphys ? w->funcs[r->pf].vendor : PCI_VENDOR_NONE,
			.device = r->device,
			.class_rev = PCI_CLASS_UNKNOWN,
			.hdr_type = PCI_HEADER_TYPE_NORMAL,
			.flags = PCI_FUNC_VF,
			.pf = r->pf,
		};
	}
	it->vf.sbdf = sbdf;
	/* Each step moves a cursor forward or drops it: n steps in all. */
	if (sbdf < r->last) {
		h[0].sbdf = sbdf + r->stride;
		if (cursor_key(&h[0]) < it->bound)
			return &it->vf;		/* still the minimum: the common case */
	} else {
		h[0] = h[--it->nheap];
	}
	heap_down(h, 0, it->nheap);
	it->bound = root_bound(h, it->nheap);
	return &it->vf;
}

uint32_t pci_walk_all(struct pci_walk *w, void *arena, size_t size,
		      struct pci_cfg *cfg, const struct ecam_window *win, unsigned int nwin)
{
	unsigned int i;
	int rc;

	pci_walk_init(w, arena, size);
	for (i = 0; cfg && i < nwin; i++) {
		rc = pci_walk_window(w, cfg, &win[i]);
		if (rc)
			pcsc_log("pcsc: walk window %u: %s", i, pcsc_strerror(rc));
	}
	pci_walk_finish(w);
	return w->n;
}
