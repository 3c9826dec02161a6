/* verify.c - checks every entry's `da` before use, then judges entries against the live walk
 * in one sorted merge. It reads config space only in strict mode and never writes it. */
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/verify.h>
#include <pcsc/sort.h>

const char *pcsc_mode_str(unsigned int mode)
{
	switch (mode) {
	case PCSC_MODE_QUICK:
		return "quick";
	case PCSC_MODE_STRICT:
		return "strict";
	case PCSC_MODE_OFF:
		return "off";
	}
	return "?";
}

static void set_bad(struct pcsc_entry *e, uint8_t reason)
{
	e->verdict = PCSC_BAD;
	e->reason = reason;
}

/*
 * An entry keeps only its first reason, so a malformed name hides a missing
 * or short da: such an entry's da is the 0 entry_init left, not a value, and
 * must not make a real entry near 0 look shared.
 */
static bool has_da(const struct pcsc_entry *e)
{
	if (e->reason == PCSC_R_NAME)
		return e->da != 0;
	return e->reason != PCSC_R_NO_DA && e->reason != PCSC_R_DA_SIZE;
}

static bool u64_less(const uint64_t *a, const uint64_t *b)
{
	return *a < *b;
}

PCSC_DEFINE_HEAPSORT(sort64, uint64_t, u64_less)

static bool u64_before(const uint64_t *a, uint64_t v)
{
	return *a < v;
}

/* First index with a[i] >= v. */
PCSC_DEFINE_PARTITION_POINT(lower_bound, uint64_t, uint64_t, u64_before)

int verify_check_entries(const struct verify_env *env, struct pcsc_index *idx,
			 uint64_t *scratch, uint32_t scratch_cap)
{
	uint64_t alloc;
	uint32_t i, nda = 0;
	int newly = 0;

	if (env->S != PCI_CFG_SIZE && env->S != PCIE_CFG_SIZE)
		return -PCSC_EINVAL;
	alloc = PCSC_DATA_ALLOC(env->S);
	for (i = 0; i < idx->n; i++) {
		struct pcsc_entry *e = &idx->e[i];
		uint8_t r = PCSC_R_NONE;

		if (e->verdict == PCSC_BAD)
			continue;
		if (e->da & (PCSC_PAGE_SIZE - 1))
			r = PCSC_R_DA_ALIGN;
		else if (!physmem_map(env->pm, e->da, alloc))
			r = PCSC_R_DA_NOTRAM;
		else if (phys_ranges_overlaps(env->owned, e->da, alloc))
			r = PCSC_R_DA_OWNED;
		else if (phys_ranges_overlaps(env->scratch, e->da, alloc))
			r = PCSC_R_DA_SCRATCH;
		else if (phys_ranges_overlaps(env->meta, e->da, alloc) ||
			 kho_overlaps_meta(env->kmap, e->da, alloc))
			r = PCSC_R_DA_META;
		else if (!kho_is_preserved(env->kmap, e->da, alloc))
			r = PCSC_R_DA_NOTPRESERVED;
		if (r) {
			set_bad(e, r);
			newly++;
		}
	}
	/* Blocks of equal size overlap iff their starts are closer than the
	 * size: sort the starts once, then one binary search per entry. */
	for (i = 0; i < idx->n; i++) {
		if (!has_da(&idx->e[i]))
			continue;
		if (nda >= scratch_cap)
			return -PCSC_ENOSPC;
		scratch[nda++] = idx->e[i].da;
	}
	sort64(scratch, nda);
	for (i = 0; i < idx->n; i++) {
		struct pcsc_entry *e = &idx->e[i];
		uint64_t lo = e->da > alloc - 1 ? e->da - (alloc - 1) : 0;
		uint64_t hi = e->da + alloc < e->da ? UINT64_MAX : e->da + alloc;
		uint32_t a, b;

		if (!has_da(e) || e->verdict == PCSC_BAD)
			continue;
		a = lower_bound(scratch, nda, lo);
		b = lower_bound(scratch, nda, hi);
		if (b - a > 1) {
			set_bad(e, PCSC_R_DA_ENTRY);
			newly++;
		}
	}
	return newly;
}

static bool cached(const uint8_t *map, unsigned int i)
{
	return pcsc_bit_test(map, i);
}

/* Compare the cached bytes of field [off, off+len) with live (little-endian). */
static bool field_differs(const uint8_t *cfg, const uint8_t *cmap, unsigned int off,
			  unsigned int len, uint32_t live)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (cached(cmap, off + i) && cfg[off + i] != (uint8_t)(live >> (8 * i)))
			return true;
	return false;
}

static bool field_all_ones(const uint8_t *cfg, const uint8_t *cmap, unsigned int off, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (cached(cmap, off + i) && cfg[off + i] != 0xff)
			return false;
	return true;
}

static uint8_t judge_ids(const struct verify_env *env, const uint8_t *cfg, const uint8_t *cmap,
			 const struct pci_func *f, struct verify_counts *c)
{
	bool vf = f->flags & PCI_FUNC_VF;
	uint32_t class_live = f->class_rev;

	/* Only cached bytes mean anything: an entry whose ID bytes are not
	 * cached names no device, so nothing could show it is this one. */
	if (!(cached(cmap, 0) && cached(cmap, 1) && cached(cmap, 2) && cached(cmap, 3)))
		return PCSC_R_IDS;
	/* A VF's own ID registers read all ones: a cache holding either that
	 * or the PF-vendor/VF-device identity is the same function. */
	if (vf && field_all_ones(cfg, cmap, PCI_VENDOR_ID, 4)) {
		/* all-ones identity: nothing more to compare by ID */
	} else {
		if (field_differs(cfg, cmap, PCI_VENDOR_ID, 2, f->vendor))
			return PCSC_R_VENDOR;
		if (field_differs(cfg, cmap, PCI_DEVICE_ID, 2, f->device))
			return PCSC_R_DEVICE;
	}
	if (class_live == PCI_CLASS_UNKNOWN && env->mode == PCSC_MODE_STRICT && env->cfg) {
		uint32_t v;

		if (pci_cfg_read32(env->cfg, f->sbdf, PCI_CLASS_REVISION, &v) == 0)
			class_live = v;
	}
	if (class_live != PCI_CLASS_UNKNOWN &&
	    field_differs(cfg, cmap, PCI_CLASS_REVISION + 1, 3, class_live >> 8))
		return PCSC_R_CLASS;
	if (cached(cmap, PCI_HEADER_TYPE) &&
	    (cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) != (f->hdr_type & PCI_HEADER_TYPE_MASK))
		return PCSC_R_HDR;
	(void)c;
	return PCSC_R_NONE;
}

/* Strict: re-read each dword holding a cached byte; clear what differs.
 * A VF's ID dword reads all ones by the spec and was judged through its
 * PF: re-reading it would only undo a correct PF-identity cache. */
static uint16_t strict_patch(const struct verify_env *env, const struct pci_func *f,
			     const uint8_t *cfg, uint8_t *cmap)
{
	unsigned int limit = env->S < env->cfg->cfg_size ? env->S : env->cfg->cfg_size;
	unsigned int d = (f->flags & PCI_FUNC_VF) ? 4 : 0, b;
	pci_sbdf_t sbdf = f->sbdf;
	uint16_t cleared = 0;

	for (; d < limit; d += 4) {
		uint32_t v;

		if (!(cmap[d >> 3] >> (d & 7) & 0xf))
			continue;
		pci_cfg_read32(env->cfg, sbdf, (uint16_t)d, &v);	/* all ones on error */
		for (b = 0; b < 4; b++) {
			if (cached(cmap, d + b) && cfg[d + b] != (uint8_t)(v >> (8 * b))) {
				pcsc_bit_clear(cmap, d + b);
				cleared++;
			}
		}
	}
	return cleared;
}

static void judge_present(const struct verify_env *env, struct pcsc_entry *e,
			  const struct pci_func *f, struct verify_counts *c)
{
	uint8_t *d = physmem_map(env->pm, e->da, PCSC_DATA_SIZE(env->S));
	uint8_t *cmap;
	uint8_t r;

	if (!d) {	/* cannot happen after verify_check_entries; stay safe */
		set_bad(e, PCSC_R_DA_NOTRAM);
		return;
	}
	cmap = d + PCSC_DATA_CACHED(env->S);
	e->vendor = (uint16_t)(d[0] | d[1] << 8);
	e->device = (uint16_t)(d[2] | d[3] << 8);
	r = judge_ids(env, d, cmap, f, c);
	if (r) {
		e->verdict = PCSC_STALE;
		e->reason = r;
		return;
	}
	e->verdict = PCSC_VALID;
	e->reason = PCSC_R_NONE;
	if (env->mode == PCSC_MODE_STRICT && env->cfg) {
		e->cleared = strict_patch(env, f, d, cmap);
		if (e->cleared) {
			c->patched++;
			c->cleared_bytes += e->cleared;
			physmem_wrote(env->pm, e->da + PCSC_DATA_CACHED(env->S), env->S / 8u);
		}
	}
}

static void judge_absent(const struct verify_env *env, struct pcsc_entry *e)
{
	uint8_t *d = physmem_map(env->pm, e->da, PCSC_DATA_SIZE(env->S));

	e->verdict = PCSC_GONE;
	e->reason = PCSC_R_ABSENT;
	if (!d)
		return;
	e->vendor = (uint16_t)(d[0] | d[1] << 8);
	e->device = (uint16_t)(d[2] | d[3] << 8);
	/* A cached all-ones identity is what a VF's registers give: most
	 * likely a VF its PF no longer enables. */
	if (e->vendor == 0xffff && e->device == 0xffff)
		e->reason = PCSC_R_VF_RANGE;
}

int verify_judge(const struct verify_env *env, struct pcsc_index *idx,
		 const struct pci_walk *w, struct verify_counts *c)
{
	uint64_t reads0 = env->cfg ? env->cfg->reads : 0;
	struct pci_walk_iter it;
	const struct pci_func *live;
	uint32_t i = 0;

	memset(c, 0, sizeof(*c));
	if (env->S != PCI_CFG_SIZE && env->S != PCIE_CFG_SIZE)
		return -PCSC_EINVAL;
	live = w ? pci_walk_first(&it, w) : NULL;
	/* Both lists are sorted by SBDF (malformed names last): one merge. */
	while (i < idx->n || live) {
		struct pcsc_entry *e = i < idx->n ? &idx->e[i] : NULL;
		const struct pci_func *f = live;

		if (e && e->reason == PCSC_R_NAME)
			f = NULL;	/* malformed names match nothing */
		if (f && (!e || e->reason == PCSC_R_NAME || f->sbdf < e->sbdf)) {
			if ((f->hdr_type & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_NORMAL)
				c->v[PCSC_NEW]++;
			live = pci_walk_next(&it);
			continue;
		}
		if (!f || e->sbdf < f->sbdf) {
			if (e->verdict != PCSC_BAD)
				judge_absent(env, e);
		} else {
			if (e->verdict != PCSC_BAD)
				judge_present(env, e, f, c);
			/* A duplicated BDF (all BAD) consumes the function once. */
			if (i + 1 >= idx->n || idx->e[i + 1].sbdf != e->sbdf ||
			    idx->e[i + 1].reason == PCSC_R_NAME)
				live = pci_walk_next(&it);
		}
		c->v[e->verdict < PCSC_VERDICT_MAX ? e->verdict : PCSC_UNJUDGED]++;
		i++;
	}
	c->cfg_reads = env->cfg ? env->cfg->reads - reads0 : 0;
	return 0;
}
