/* pci_sim.c - a simulated PCI segment built from a line-oriented text
 * topology (docs/topology.md), served through the pci_cfg interface.
 * Must never allocate: physical functions live in the caller's arena and
 * VFs are synthesised on each read, so 65,536 VFs cost no storage. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/parse.h>
#include <pcsc/pci_sim.h>
#include <pcsc/sort.h>

/* sim_flags: what the line asked for, kept for the finishing pass. */
#define SIM_F_BRIDGE	0x0001
#define SIM_F_ARI_FWD	0x0002
#define SIM_F_NOMULTI	0x0004
#define SIM_F_ARI	0x0008
#define SIM_F_SRIOV	0x0010
#define SIM_F_CAPLOOP	0x0020
#define SIM_F_EXTLOOP	0x0040
#define SIM_F_LEGACY	0x0080
#define SIM_F_PORT_SET	0x0100
#define SIM_F_PORT_SHIFT 12	/* 4 bits: PCIe device/port type from port= */

/* PCIe Device/Port Type values (PCIe Capabilities register [7:4]). */
#define EXP_TYPE_ENDPOINT	0x0
#define EXP_TYPE_ROOT_PORT	0x4
#define EXP_TYPE_UPSTREAM	0x5
#define EXP_TYPE_DOWNSTREAM	0x6
#define EXP_TYPE_RC_END		0x9

/* Fixed layout of every simulated function (docs/topology.md). */
#define SIM_CAP_FIRST	0x40
#define SIM_CAP_SECOND	0x48
#define SIM_CAP_LATE	0x80
#define SIM_EXT_AER	0x100
#define SIM_EXT_ARI	0x148
#define SIM_EXT_SRIOV	0x160

#define SIM_DEFAULT_BASE	0x4010000000ull	/* QEMU virt's high ECAM */

static inline uint16_t get16(const uint8_t *s, unsigned int off)
{
	return (uint16_t)(s[off] | s[off + 1] << 8);
}

static inline uint32_t get32(const uint8_t *s, unsigned int off)
{
	return get16(s, off) | (uint32_t)get16(s, off + 2) << 16;
}

static inline void put16(uint8_t *s, unsigned int off, uint16_t v)
{
	s[off] = (uint8_t)v;
	s[off + 1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *s, unsigned int off, uint32_t v)
{
	put16(s, off, (uint16_t)v);
	put16(s, off + 2, (uint16_t)(v >> 16));
}

static inline uint32_t ext_hdr(uint16_t id, unsigned int ver, unsigned int next)
{
	return id | (ver & 0xf) << 16 | (uint32_t)(next & 0xffc) << 20;
}

void pci_sim_init(struct pci_sim *sim, struct pci_sim_func *arena, uint32_t cap)
{
	sim->funcs = arena;
	sim->cap = cap;
	sim->n = 0;
	sim->nwin = 0;
}

static bool simf_before(const struct pci_sim_func *f, pci_sbdf_t key)
{
	return f->sbdf < key;
}

/* Lowest index whose sbdf >= key. */
PCSC_DEFINE_PARTITION_POINT(sim_lower_bound, struct pci_sim_func, pci_sbdf_t, simf_before)

struct pci_sim_func *pci_sim_func_get(struct pci_sim *sim, pci_sbdf_t sbdf)
{
	uint32_t i = sim_lower_bound(sim->funcs, sim->n, sbdf);

	if (i < sim->n && sim->funcs[i].sbdf == sbdf)
		return &sim->funcs[i];
	return NULL;
}

/* ------------------------------------------------------------ parsing -- */

struct tok {
	const char *p;
	size_t len;
};

static bool tok_is(const struct tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->len == n && memcmp(t->p, s, n) == 0;
}

/* "key=" prefix: on match, *val is what follows the '='. */
static bool tok_key(const struct tok *t, const char *key, struct tok *val)
{
	size_t n = strlen(key);

	if (t->len <= n || memcmp(t->p, key, n) != 0 || t->p[n] != '=')
		return false;
	val->p = t->p + n + 1;
	val->len = t->len - n - 1;
	return true;
}

static bool parse_hex_tok(const struct tok *t, uint64_t max, uint64_t *out)
{
	return pcsc_parse_u64(t->p, t->len, 16, max, out);
}

static bool parse_dec_tok(const struct tok *t, uint64_t max, uint64_t *out)
{
	return pcsc_parse_u64(t->p, t->len, 10, max, out);
}

/* Split t at the first c: head before, rest after. */
static bool tok_split(const struct tok *t, char c, struct tok *head, struct tok *rest)
{
	const char *q = memchr(t->p, c, t->len);

	if (!q)
		return false;
	head->p = t->p;
	head->len = (size_t)(q - t->p);
	rest->p = q + 1;
	rest->len = t->len - head->len - 1;
	return true;
}

/* [SEG:]BB:DD.F, all hexadecimal. */
static bool parse_bdf(const struct tok *t, pci_sbdf_t *out)
{
	struct tok a, b, c, d;
	uint64_t seg = 0, bus, dev, fn;
	const char *colon2;

	if (!tok_split(t, ':', &a, &b))
		return false;
	colon2 = memchr(b.p, ':', b.len);
	if (colon2) {
		if (!parse_hex_tok(&a, 0xffff, &seg) || !tok_split(&b, ':', &a, &b))
			return false;
	}
	if (!parse_hex_tok(&a, 0xff, &bus) || !tok_split(&b, '.', &c, &d))
		return false;
	if (!parse_hex_tok(&c, 0x1f, &dev) || !parse_hex_tok(&d, 7, &fn))
		return false;
	*out = PCI_SBDF(seg, bus, PCI_DEVFN(dev, fn));
	return true;
}

/* Everything one function line can say. */
struct line_desc {
	pci_sbdf_t sbdf;
	uint16_t vendor, device;
	uint32_t class_code;
	uint8_t rev;
	bool has_class;
	uint8_t pri, sec, sub;
	bool has_pri, has_sec, has_sub;
	uint32_t flags;
	uint16_t total, num, offset, stride, vf_device;
	bool vf_enable;
	uint32_t crs;
};

/* sriov=TOTAL,NUM,OFFSET,STRIDE,VFDID[,enabled]: counts decimal, VFDID hex. */
static bool parse_sriov(const struct tok *v, struct line_desc *d)
{
	struct tok f[6], rest = *v;
	unsigned int nf = 0;
	uint64_t x[5];

	while (nf < 6) {
		if (!tok_split(&rest, ',', &f[nf], &rest)) {
			f[nf++] = rest;
			break;
		}
		nf++;
	}
	if (nf < 5 || nf > 6 || (rest.len && nf == 6 && memchr(rest.p, ',', rest.len)))
		return false;
	for (unsigned int i = 0; i < 5; i++)
		if (i == 4 ? !parse_hex_tok(&f[i], 0xffff, &x[i]) :
			     !parse_dec_tok(&f[i], 0xffff, &x[i]))
			return false;
	if (nf == 6 && !tok_is(&f[5], "enabled"))
		return false;
	d->total = (uint16_t)x[0];
	d->num = (uint16_t)x[1];
	d->offset = (uint16_t)x[2];
	d->stride = (uint16_t)x[3];
	d->vf_device = (uint16_t)x[4];
	d->vf_enable = nf == 6;
	return d->num <= d->total;
}

static bool parse_attr(const struct tok *t, struct line_desc *d)
{
	struct tok v;
	uint64_t x;

	if (tok_key(t, "class", &v)) {
		if (!parse_hex_tok(&v, 0xffffff, &x))
			return false;
		d->class_code = (uint32_t)x;
		d->has_class = true;
	} else if (tok_key(t, "rev", &v)) {
		if (!parse_hex_tok(&v, 0xff, &x))
			return false;
		d->rev = (uint8_t)x;
	} else if (tok_is(t, "bridge")) {
		d->flags |= SIM_F_BRIDGE;
	} else if (tok_key(t, "pri", &v)) {
		if (!parse_hex_tok(&v, 0xff, &x))
			return false;
		d->pri = (uint8_t)x;
		d->has_pri = true;
	} else if (tok_key(t, "sec", &v)) {
		if (!parse_hex_tok(&v, 0xff, &x))
			return false;
		d->sec = (uint8_t)x;
		d->has_sec = true;
	} else if (tok_key(t, "sub", &v)) {
		if (!parse_hex_tok(&v, 0xff, &x))
			return false;
		d->sub = (uint8_t)x;
		d->has_sub = true;
	} else if (tok_is(t, "ari-fwd")) {
		d->flags |= SIM_F_ARI_FWD;
	} else if (tok_key(t, "port", &v)) {
		unsigned int type;

		if (tok_is(&v, "root"))
			type = EXP_TYPE_ROOT_PORT;
		else if (tok_is(&v, "up"))
			type = EXP_TYPE_UPSTREAM;
		else if (tok_is(&v, "down"))
			type = EXP_TYPE_DOWNSTREAM;
		else
			return false;
		d->flags |= SIM_F_PORT_SET | type << SIM_F_PORT_SHIFT;
	} else if (tok_is(t, "nomulti")) {
		d->flags |= SIM_F_NOMULTI;
	} else if (tok_is(t, "ari")) {
		d->flags |= SIM_F_ARI;
	} else if (tok_key(t, "sriov", &v)) {
		if (!parse_sriov(&v, d))
			return false;
		d->flags |= SIM_F_SRIOV;
	} else if (tok_key(t, "crs", &v)) {
		if (tok_is(&v, "forever")) {
			d->crs = PCI_SIM_CRS_FOREVER;
		} else {
			if (!parse_dec_tok(&v, PCI_SIM_CRS_FOREVER - 1, &x))
				return false;
			d->crs = (uint32_t)x;
		}
	} else if (tok_is(t, "caploop")) {
		d->flags |= SIM_F_CAPLOOP;
	} else if (tok_is(t, "extcaploop")) {
		d->flags |= SIM_F_EXTLOOP;
	} else if (tok_is(t, "legacy")) {
		d->flags |= SIM_F_LEGACY;
	} else {
		return false;
	}
	return true;
}

/* Where the PCI Express capability sits in a non-legacy function. */
static unsigned int exp_pos(uint32_t flags)
{
	return (flags & SIM_F_CAPLOOP) ? SIM_CAP_LATE : SIM_CAP_FIRST;
}

/* Fill the config space of one physical function from its line. Fields
 * that depend on other functions are set later by sim_finish. */
static void build_space(struct pci_sim_func *f, const struct line_desc *d)
{
	uint8_t *s = f->cfg;
	bool bridge = d->flags & SIM_F_BRIDGE;

	memset(s, 0, sizeof(f->cfg));
	f->sbdf = d->sbdf;
	f->crs_left = d->crs;
	f->sim_flags = d->flags;
	put16(s, PCI_VENDOR_ID, d->vendor);
	put16(s, PCI_DEVICE_ID, d->device);
	put16(s, PCI_STATUS, PCI_STATUS_CAP_LIST);
	put32(s, PCI_CLASS_REVISION,
	      (d->has_class ? d->class_code : bridge ? 0x060400u : 0) << 8 | d->rev);
	s[PCI_HEADER_TYPE] = bridge ? PCI_HEADER_TYPE_BRIDGE : PCI_HEADER_TYPE_NORMAL;
	if (bridge) {
		s[PCI_PRIMARY_BUS] = d->has_pri ? d->pri : PCI_SBDF_BUS(d->sbdf);
		s[PCI_SECONDARY_BUS] = d->sec;
		s[PCI_SUBORDINATE_BUS] = d->sub;
	}
	s[PCI_CAPABILITY_LIST] = SIM_CAP_FIRST;

	/* Standard list. caploop: PM -> MSI -> PM ..., hiding what follows. */
	if (d->flags & SIM_F_CAPLOOP) {
		put16(s, SIM_CAP_FIRST, 0x01 | SIM_CAP_SECOND << 8);
		put16(s, SIM_CAP_SECOND, 0x05 | SIM_CAP_FIRST << 8);
	} else if (d->flags & SIM_F_LEGACY) {
		put16(s, SIM_CAP_FIRST, 0x01);
	} else {
		put16(s, SIM_CAP_LATE, 0x01);
	}
	if (d->flags & SIM_F_LEGACY)
		return;		/* conventional PCI: no PCIe cap, no extended space */

	unsigned int e = exp_pos(d->flags);

	s[e] = PCI_CAP_ID_EXP;
	s[e + 1] = (d->flags & SIM_F_CAPLOOP) ? 0 : SIM_CAP_LATE;
	if (d->flags & SIM_F_ARI_FWD) {
		put16(s, e + 0x24, PCI_EXP_DEVCTL2_ARI);	/* DevCap2: ARI forwarding supported */
		put16(s, e + PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_ARI);
	}

	/* Extended list: AER, then ARI and SR-IOV when asked for. */
	unsigned int chain[3], nc = 0;

	chain[nc++] = SIM_EXT_AER;
	if (d->flags & SIM_F_ARI)
		chain[nc++] = SIM_EXT_ARI;
	if (d->flags & SIM_F_SRIOV)
		chain[nc++] = SIM_EXT_SRIOV;
	for (unsigned int i = 0; i < nc; i++) {
		unsigned int next = i + 1 < nc ? chain[i + 1] :
				    (d->flags & SIM_F_EXTLOOP) ? SIM_EXT_AER : 0;
		uint16_t id = chain[i] == SIM_EXT_AER ? 0x0001 :
			      chain[i] == SIM_EXT_ARI ? PCI_EXT_CAP_ID_ARI : PCI_EXT_CAP_ID_SRIOV;

		put32(s, chain[i], ext_hdr(id, chain[i] == SIM_EXT_AER ? 2 : 1, next));
	}
	if (d->flags & SIM_F_SRIOV) {
		unsigned int p = SIM_EXT_SRIOV;

		put16(s, p + PCI_SRIOV_CTRL,
		      (d->vf_enable ? PCI_SRIOV_CTRL_VFE : 0) |
		      ((d->flags & SIM_F_ARI) ? PCI_SRIOV_CTRL_ARI : 0));
		put16(s, p + PCI_SRIOV_INITIAL_VF, d->total);
		put16(s, p + PCI_SRIOV_TOTAL_VF, d->total);
		put16(s, p + PCI_SRIOV_NUM_VF, d->num);
		s[p + 0x12] = PCI_SBDF_DEVFN(d->sbdf);	/* function dependency link */
		put16(s, p + PCI_SRIOV_VF_OFFSET, d->offset);
		put16(s, p + PCI_SRIOV_VF_STRIDE, d->stride);
		put16(s, p + PCI_SRIOV_VF_DID, d->vf_device);
		put32(s, p + 0x1c, 0x553);	/* supported page sizes: 4K..1M */
		put32(s, p + 0x20, 0x1);	/* system page size: 4K */
	}
}

/*
 * parent[bus]: index of the bridge (lowest SBDF) of one segment whose
 * secondary bus is bus, or -1. One pass, so finishing stays linear.
 */
static void parents_of_segment(const struct pci_sim *sim, uint32_t s0, uint32_t s1,
			       int32_t parent[256])
{
	for (unsigned int b = 0; b < 256; b++)
		parent[b] = -1;
	for (uint32_t i = s0; i < s1; i++) {
		const struct pci_sim_func *f = &sim->funcs[i];
		uint8_t sec = f->cfg[PCI_SECONDARY_BUS];

		if ((f->sim_flags & SIM_F_BRIDGE) && sec != 0 && parent[sec] < 0)
			parent[sec] = (int32_t)i;
	}
}

/*
 * PCIe port type of a bridge with no port= of its own: a root port on a
 * root bus; below a root or downstream port an upstream port; below an
 * upstream port a downstream port. Bounded: hostile bus loops end at 256.
 */
static unsigned int bridge_port_type(const struct pci_sim *sim, const int32_t parent[256],
				     uint32_t i)
{
	unsigned int hops = 0, type = EXP_TYPE_ROOT_PORT;
	int32_t cur = (int32_t)i;

	for (; hops < 256; hops++) {
		const struct pci_sim_func *f = &sim->funcs[cur];

		if (f->sim_flags & SIM_F_PORT_SET) {
			type = (f->sim_flags >> SIM_F_PORT_SHIFT) & 0xf;
			break;
		}
		cur = parent[PCI_SBDF_BUS(f->sbdf)];
		if (cur < 0 || (uint32_t)cur == i)
			break;
	}
	/* Walk back down: each level below flips between up and down. */
	for (unsigned int k = 0; k < hops; k++)
		type = type == EXP_TYPE_UPSTREAM ? EXP_TYPE_DOWNSTREAM : EXP_TYPE_UPSTREAM;
	return type;
}

static void finish_one(struct pci_sim *sim, const int32_t parent[256], uint32_t i)
{
	struct pci_sim_func *f = &sim->funcs[i];
	uint32_t slot_key = f->sbdf & ~7u;
	bool others = (i > 0 && (sim->funcs[i - 1].sbdf & ~7u) == slot_key) ||
		      (i + 1 < sim->n && (sim->funcs[i + 1].sbdf & ~7u) == slot_key);

	f->cfg[PCI_HEADER_TYPE] &= PCI_HEADER_TYPE_MASK;
	if (others && !(f->sim_flags & SIM_F_NOMULTI))
		f->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MFD;

	if (f->sim_flags & SIM_F_ARI) {
		uint8_t nfn = 0;

		/* At most the 255 later functions of the same bus. */
		for (uint32_t j = i + 1; j < sim->n &&
		     (sim->funcs[j].sbdf >> 8) == (f->sbdf >> 8); j++) {
			if (sim->funcs[j].sim_flags & SIM_F_ARI) {
				nfn = PCI_SBDF_DEVFN(sim->funcs[j].sbdf);
				break;
			}
		}
		put16(f->cfg, SIM_EXT_ARI + PCI_ARI_CAP, (uint16_t)(nfn << 8));
	}

	if (!(f->sim_flags & SIM_F_LEGACY)) {
		unsigned int type;

		if (f->sim_flags & SIM_F_BRIDGE)
			type = bridge_port_type(sim, parent, i);
		else
			type = parent[PCI_SBDF_BUS(f->sbdf)] < 0 ? EXP_TYPE_RC_END : EXP_TYPE_ENDPOINT;
		put16(f->cfg, exp_pos(f->sim_flags) + PCI_EXP_FLAGS, (uint16_t)(0x0002 | type << 4));
	}
}

/* Recompute what depends on the set of functions: multi-function bits,
 * ARI next-function numbers and PCIe port types. Idempotent; one segment
 * at a time (funcs[] is sorted, so a segment is one run). */
static void sim_finish(struct pci_sim *sim)
{
	int32_t parent[256];
	uint32_t s0 = 0;

	while (s0 < sim->n) {
		uint16_t seg = PCI_SBDF_SEG(sim->funcs[s0].sbdf);
		uint32_t s1 = s0;

		while (s1 < sim->n && PCI_SBDF_SEG(sim->funcs[s1].sbdf) == seg)
			s1++;
		parents_of_segment(sim, s0, s1, parent);
		for (uint32_t i = s0; i < s1; i++)
			finish_one(sim, parent, i);
		s0 = s1;
	}
}

static const struct ecam_window *sim_window(const struct pci_sim *sim, uint16_t seg, uint8_t bus)
{
	for (unsigned int i = 0; i < sim->nwin && i < ECAM_MAX_WINDOWS; i++) {
		const struct ecam_window *w = &sim->win[i];

		if (w->seg == seg && bus >= w->bus_start && bus <= w->bus_end)
			return w;
	}
	return NULL;
}

static int add_window(struct pci_sim *sim, const struct ecam_window *w)
{
	if (ecam_window_check(w))
		return -PCSC_EPARSE;
	for (unsigned int i = 0; i < sim->nwin; i++) {
		const struct ecam_window *o = &sim->win[i];
		uint64_t olast = o->base + ecam_window_size(o) - 1;
		uint64_t wlast = w->base + ecam_window_size(w) - 1;

		if (o->seg == w->seg && o->bus_start <= w->bus_end && w->bus_start <= o->bus_end)
			return -PCSC_EPARSE;
		if (o->base <= wlast && w->base <= olast)
			return -PCSC_EPARSE;
	}
	if (sim->nwin >= ECAM_MAX_WINDOWS)
		return -PCSC_ENOSPC;
	sim->win[sim->nwin++] = *w;
	return 0;
}

/* window SEG BUS_START BUS_END [BASE] */
static int parse_window(struct pci_sim *sim, const struct tok *t, unsigned int nt)
{
	struct ecam_window w;
	uint64_t seg, b0, b1, base;

	if (nt != 4 && nt != 5)
		return -PCSC_EPARSE;
	if (!parse_hex_tok(&t[1], 0xffff, &seg) || !parse_hex_tok(&t[2], 0xff, &b0) ||
	    !parse_hex_tok(&t[3], 0xff, &b1))
		return -PCSC_EPARSE;
	base = SIM_DEFAULT_BASE + ((uint64_t)sim->nwin << 28);
	if (nt == 5 && !parse_hex_tok(&t[4], UINT64_MAX, &base))
		return -PCSC_EPARSE;
	w.base = base;
	w.seg = (uint16_t)seg;
	w.bus_start = (uint8_t)b0;
	w.bus_end = (uint8_t)b1;
	return add_window(sim, &w);
}

#define SIM_MAX_TOKENS	32

static int parse_function(struct pci_sim *sim, const struct tok *t, unsigned int nt)
{
	struct line_desc d;
	struct tok vid, did;
	uint64_t x;
	uint32_t pos;

	memset(&d, 0, sizeof(d));
	if (nt < 2 || !parse_bdf(&t[0], &d.sbdf) || !tok_split(&t[1], ':', &vid, &did))
		return -PCSC_EPARSE;
	if (!parse_hex_tok(&vid, 0xffff, &x))
		return -PCSC_EPARSE;
	d.vendor = (uint16_t)x;
	if (!parse_hex_tok(&did, 0xffff, &x))
		return -PCSC_EPARSE;
	d.device = (uint16_t)x;
	for (unsigned int i = 2; i < nt; i++)
		if (!parse_attr(&t[i], &d))
			return -PCSC_EPARSE;
	/* Bridge numbers belong to bridges only, and a bridge needs both. */
	if ((d.flags & SIM_F_BRIDGE) ? !(d.has_sec && d.has_sub) :
	    (d.has_sec || d.has_sub || d.has_pri || (d.flags & (SIM_F_ARI_FWD | SIM_F_PORT_SET))))
		return -PCSC_EPARSE;
	if ((d.flags & SIM_F_LEGACY) &&
	    (d.flags & (SIM_F_ARI | SIM_F_SRIOV | SIM_F_ARI_FWD | SIM_F_EXTLOOP | SIM_F_PORT_SET)))
		return -PCSC_EPARSE;	/* those live in PCIe-only structures */
	if (sim->nwin == 0) {
		struct ecam_window def = { .base = SIM_DEFAULT_BASE, .seg = 0,
					   .bus_start = 0, .bus_end = 255 };
		int ret = add_window(sim, &def);

		if (ret)
			return ret;
	}
	if (!sim_window(sim, PCI_SBDF_SEG(d.sbdf), PCI_SBDF_BUS(d.sbdf)))
		return -PCSC_EPARSE;	/* nothing would ever read it */
	pos = sim_lower_bound(sim->funcs, sim->n, d.sbdf);
	if (pos < sim->n && sim->funcs[pos].sbdf == d.sbdf)
		return -PCSC_EDUP;
	if (sim->n >= sim->cap)
		return -PCSC_ENOSPC;
	/* Topologies are usually written in order: this moves nothing then. */
	memmove(&sim->funcs[pos + 1], &sim->funcs[pos],
		(size_t)(sim->n - pos) * sizeof(sim->funcs[0]));
	sim->n++;
	build_space(&sim->funcs[pos], &d);
	return 0;
}

int pci_sim_parse(struct pci_sim *sim, const char *text, size_t len, unsigned int *err_line)
{
	const char *p = text, *end = text + len;
	unsigned int line = 0;
	int ret = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *hash = memchr(p, '#', (size_t)(le - p));
		struct tok t[SIM_MAX_TOKENS];
		unsigned int nt = 0;

		line++;
		if (hash)
			le = hash;
		for (const char *q = p; q < le;) {
			while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q >= le)
				break;
			if (nt == SIM_MAX_TOKENS) {
				ret = -PCSC_EPARSE;
				goto out;
			}
			t[nt].p = q;
			while (q < le && *q != ' ' && *q != '\t' && *q != '\r')
				q++;
			t[nt].len = (size_t)(q - t[nt].p);
			nt++;
		}
		if (nt > 0) {
			ret = tok_is(&t[0], "window") ? parse_window(sim, t, nt)
						      : parse_function(sim, t, nt);
			if (ret)
				goto out;
		}
		p = eol ? eol + 1 : end;
	}
out:
	sim_finish(sim);
	if (ret && err_line)
		*err_line = line;
	return ret;
}

/* ------------------------------------------------------------- reading -- */

/*
 * The VF (if any) answering at sbdf: the PF whose enabled SR-IOV
 * capability maps a VF onto that RID. Returns the PF or NULL.
 */
static const struct pci_sim_func *vf_owner(const struct pci_sim *sim, pci_sbdf_t sbdf)
{
	for (uint32_t i = 0; i < sim->n; i++) {
		const struct pci_sim_func *f = &sim->funcs[i];
		const uint8_t *s = f->cfg;
		uint32_t p = SIM_EXT_SRIOV, d;
		uint16_t num, off, stride;

		if (!(f->sim_flags & SIM_F_SRIOV) || PCI_SBDF_SEG(f->sbdf) != PCI_SBDF_SEG(sbdf))
			continue;
		if (PCI_EXT_CAP_ID(get32(s, p)) != PCI_EXT_CAP_ID_SRIOV ||
		    !(get16(s, p + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE))
			continue;
		num = get16(s, p + PCI_SRIOV_NUM_VF);
		off = get16(s, p + PCI_SRIOV_VF_OFFSET);
		stride = get16(s, p + PCI_SRIOV_VF_STRIDE);
		if (PCI_SBDF_RID(sbdf) < (uint32_t)PCI_SBDF_RID(f->sbdf) + off)
			continue;
		d = PCI_SBDF_RID(sbdf) - PCI_SBDF_RID(f->sbdf) - off;
		if (stride ? (d % stride == 0 && d / stride < num) : (d == 0 && num > 0))
			return f;
	}
	return NULL;
}

/* A VF's space: ID registers all ones (per spec), class from the PF, a
 * PCIe endpoint capability, no extended capabilities. */
static uint32_t vf_read32(const struct pci_sim_func *pf, uint16_t reg)
{
	switch (reg) {
	case PCI_VENDOR_ID:
		return 0xffffffffu;
	case PCI_COMMAND:
		return (uint32_t)PCI_STATUS_CAP_LIST << 16;
	case PCI_CLASS_REVISION:
		return get32(pf->cfg, PCI_CLASS_REVISION);
	case PCI_CAPABILITY_LIST:
		return SIM_CAP_FIRST;
	case SIM_CAP_FIRST:
		return PCI_CAP_ID_EXP | (uint32_t)(0x0002 | EXP_TYPE_ENDPOINT << 4) << 16;
	default:
		return 0;
	}
}

static int sim_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	struct pci_sim *sim = ctx;
	struct pci_sim_func *f;
	const struct pci_sim_func *pf;

	*val = 0xffffffffu;
	if (!sim_window(sim, PCI_SBDF_SEG(sbdf), PCI_SBDF_BUS(sbdf)))
		return -PCSC_ENODEV;
	reg &= 0xffc;
	f = pci_sim_func_get(sim, sbdf);
	if (f) {
		if (reg == PCI_VENDOR_ID && f->crs_left) {
			if (f->crs_left != PCI_SIM_CRS_FOREVER)
				f->crs_left--;
			*val = 0xffff0000u | PCI_VENDOR_CRS;	/* CRS SV completion */
			return 0;
		}
		*val = get32(f->cfg, reg);
		return 0;
	}
	pf = vf_owner(sim, sbdf);
	if (pf)
		*val = vf_read32(pf, reg);
	return 0;	/* the bus decoded; nobody answered: all ones */
}

static const struct pci_cfg_ops sim_ops = {
	.read32 = sim_read32,
};

void pci_sim_cfg_init(struct pci_cfg *cfg, struct pci_sim *sim)
{
	pci_cfg_init(cfg, &sim_ops, sim, PCIE_CFG_SIZE);
}
