/* handover.c - turns a verified index into the pcsc-v1 blob the next kernel reads: removals,
 * handover properties, digest; or a detach. It never writes past the FDT's own pages. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/sha256.h>
#include <pcsc/sort.h>

static bool kept(const struct pcsc_entry *e)
{
	return e->verdict == PCSC_VALID || e->verdict == PCSC_UNJUDGED;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One entry's part of the digest stream (docs/abi.md, "digest"): what the
 * next kernel takes from its pcsc_data and nothing else, compactly: the
 * hashing, not the scan, is what an entry costs. Built in a local buffer
 * and hashed in a few large pieces. */
static void digest_entry(struct sha256_ctx *c, const struct pcsc_entry *e, const uint8_t *d,
			 uint16_t S)
{
	const uint8_t *cachable = d + PCSC_DATA_CACHABLE(S), *cached = d + PCSC_DATA_CACHED(S);
	uint8_t buf[512];
	size_t n = 12;
	unsigned int w;

	put_le(buf, e->sbdf, 4);
	put_le(buf + 4, e->da, 8);
	for (w = 0; w < S / 64u; w++) {
		uint64_t able, ed, bits;

		memcpy(&able, cachable + 8 * w, 8);	/* little-endian unsigned long */
		memcpy(&ed, cached + 8 * w, 8);
		if (!(able | ed))
			continue;
		/* Room for one whole word (18 + 64 bytes) and the end byte. */
		if (n > sizeof(buf) - (18 + 64 + 1)) {
			sha256_update(c, buf, n);
			n = 0;
		}
		/* Word index; flag 1: cached equals cachable (the usual case
		 * once the old kernel read everything), so it is not repeated. */
		buf[n] = (uint8_t)w;
		buf[n + 1] = able == ed;
		put_le(buf + n + 2, able, 8);
		n += 10;
		if (able != ed) {
			put_le(buf + n, ed, 8);
			n += 8;
		}
		/* The cached bytes, a run of set bits at a time. */
		for (bits = ed; bits;) {
			unsigned int lo = (unsigned int)__builtin_ctzll(bits), len;
			uint64_t run = bits >> lo;

			len = ~run ? (unsigned int)__builtin_ctzll(~run) : 64u - lo;
			memcpy(buf + n, d + 64 * w + lo, len);
			n += len;
			bits = lo + len < 64 ? bits & (~0ull << (lo + len)) : 0;
		}
	}
	buf[n] = 0xff;			/* end of this entry */
	sha256_update(c, buf, n + 1);
}

int handover_digest(const struct pcsc_index *idx, const struct physmem *pm, uint16_t S,
		    uint8_t out[32])
{
	struct sha256_ctx c;
	uint32_t i;

	if (S != PCI_CFG_SIZE && S != PCIE_CFG_SIZE)
		return -PCSC_EINVAL;
	sha256_init(&c);
	for (i = 0; i < idx->n; i++) {
		const struct pcsc_entry *e = &idx->e[i];
		const void *d;

		if (!kept(e))
			continue;
		d = physmem_map(pm, e->da, PCSC_DATA_SIZE(S));
		if (!d)
			return -PCSC_ENOTRAM;
		digest_entry(&c, e, d, S);
	}
	sha256_final(&c, out);
	return 0;
}

static bool u64_greater(const uint64_t *a, const uint64_t *b)
{
	return *a > *b;
}

/* Descending: ordered by "greater". */
PCSC_DEFINE_HEAPSORT(sort_desc, uint64_t, u64_greater)

static int add_props(void *fdt, const char *version, enum pcsc_mode mode,
		     const struct verify_counts *c, const uint8_t sha[32])
{
	uint32_t counts[5];
	int err;

	counts[0] = c->v[PCSC_VALID];
	counts[1] = c->v[PCSC_STALE];
	counts[2] = c->v[PCSC_GONE];
	counts[3] = c->v[PCSC_BAD];
	counts[4] = c->v[PCSC_NEW];
	err = fdt_setprop_string(fdt, 0, HANDOVER_PROP_VERSION, version);
	if (!err)
		err = fdt_setprop_string(fdt, 0, HANDOVER_PROP_MODE, pcsc_mode_str(mode));
	if (!err)
		err = fdt_setprop(fdt, 0, HANDOVER_PROP_COUNTS, counts, sizeof(counts));
	if (!err)
		err = fdt_setprop(fdt, 0, HANDOVER_PROP_SHA256, sha, 32);
	return err;
}

/* What the console no longer shows travels with the cache: one 8-byte
 * record per removed entry, in BDF order (docs/abi.md "stub-removed"). */
static int add_removed(void *fdt, const struct pcsc_index *idx, uint32_t n)
{
	uint8_t *rec;
	uint32_t i, k = 0;
	int err;

	err = fdt_setprop_placeholder(fdt, 0, HANDOVER_PROP_REMOVED, (int)(8 * n), (void **)&rec);
	if (err)
		return err;
	for (i = 0; i < idx->n && k < n; i++) {
		const struct pcsc_entry *e = &idx->e[i];
		uint32_t sbdf = e->reason == PCSC_R_NAME ? 0xffffffffu : e->sbdf;

		if (kept(e))
			continue;
		memcpy(rec + 8 * k, &sbdf, 4);	/* native, like every KHO property */
		rec[8 * k + 4] = e->verdict;
		rec[8 * k + 5] = e->reason;
		rec[8 * k + 6] = 0;
		rec[8 * k + 7] = 0;
		k++;
	}
	return 0;
}

int handover_patch(void *fdt, uint32_t room, const struct pcsc_index *idx,
		   const struct physmem *pm, uint16_t S, const char *version,
		   enum pcsc_mode mode, const struct verify_counts *c,
		   uint64_t *scratch, uint32_t scratch_cap, struct handover_result *r)
{
	uint32_t i, n = 0;
	int err;

	memset(r, 0, sizeof(*r));
	r->size_before = fdt_totalsize(fdt);
	err = handover_digest(idx, pm, S, r->sha256);
	if (err)
		return err;
	for (i = 0; i < idx->n; i++) {
		if (kept(&idx->e[i]))
			continue;
		if (n >= scratch_cap)
			return -PCSC_ENOSPC;
		scratch[n++] = (uint64_t)(uint32_t)idx->e[i].node;
	}
	/* Read-write form inside the pages it owns; nothing beyond room. */
	if (fdt_open_into(fdt, fdt, (int)room))
		return -PCSC_EBADFDT;
	/* Deleting from the highest offset down keeps lower offsets valid. */
	sort_desc(scratch, n);
	for (i = 0; i < n; i++) {
		if (i && scratch[i] == scratch[i - 1])
			continue;
		if (fdt_del_node(fdt, (int)scratch[i]))
			return -PCSC_EBADFDT;
		r->removed++;
	}
	err = add_props(fdt, version ? version : "?", mode, c, r->sha256);
	if (!err)
		err = add_removed(fdt, idx, n);
	if (err) {
		/* All or nothing: a partial set would be misleading. */
		fdt_delprop(fdt, 0, HANDOVER_PROP_VERSION);
		fdt_delprop(fdt, 0, HANDOVER_PROP_MODE);
		fdt_delprop(fdt, 0, HANDOVER_PROP_COUNTS);
		fdt_delprop(fdt, 0, HANDOVER_PROP_SHA256);
		fdt_delprop(fdt, 0, HANDOVER_PROP_REMOVED);
		pcsc_snprintf(r->msg, sizeof(r->msg), "no room for handover properties in %u bytes (%s)",
			      (unsigned int)room, pcsc_fdt_strerror(err));
	} else {
		r->props_added = true;
	}
	if (fdt_pack(fdt))
		return -PCSC_EBADFDT;
	r->size_after = fdt_totalsize(fdt);
	return 0;
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The last component of a node name: FDT versions before 16 name nodes by
 * full path ("/pcsc"), as libfdt's fdt_get_name strips it. */
static const char *name_component(const char *name, size_t *len)
{
	const char *c = name;
	size_t i;

	for (i = 0; i < *len; i++)
		if (name[i] == '/')
			c = name + i + 1;
	*len -= (size_t)(c - name);
	return c;
}

/*
 * A root libfdt rejected: walk its tokens ourselves the way libfdt's
 * fdt_next_tag does (version 17 bounds the structure block by
 * size_dt_struct, older ones by the blob; before 16, property values of 8
 * bytes or more are 8-aligned and names are paths), every step at least 4
 * bytes forward, every length compared as a difference so nothing wraps,
 * and rename each depth-1 pcsc node in place.
 */
static int detach_scan(uint8_t *fdt, uint32_t size)
{
	uint32_t base = be32_at(fdt + 8), version = be32_at(fdt + 20), end = size, off, depth = 0;
	int renamed = 0;

	if (size < 40 || base >= size)
		return 0;
	if (version >= 17 && be32_at(fdt + 36) <= size - base)
		end = base + be32_at(fdt + 36);
	for (off = base; end - off >= 4;) {
		uint32_t tag = be32_at(fdt + off), len, adv;
		const char *c;
		size_t nl, cl;

		off += 4;
		switch (tag) {
		case FDT_BEGIN_NODE:
			nl = strnlen((const char *)fdt + off, end - off);
			if (nl >= end - off)
				return renamed;		/* name runs off the block */
			cl = nl;
			c = name_component((const char *)fdt + off, &cl);
			if (depth == 1 && pcsc_kho_child_name(c, cl)) {
				fdt[(const uint8_t *)c - fdt + 3] = '-';	/* "pcsc" -> "pcs-" */
				renamed++;
			}
			depth++;
			adv = ((uint32_t)nl + 4) & ~3u;
			if (adv > end - off)
				return renamed;
			off += adv;
			break;
		case FDT_END_NODE:
			if (!depth || !--depth)
				return renamed;
			break;
		case FDT_PROP:
			if (end - off < 8)
				return renamed;
			len = be32_at(fdt + off);
			off += 8;
			if (version < 16 && len >= 8 && ((off - base) & 7)) {
				if (end - off < 4)
					return renamed;
				off += 4;
			}
			adv = len > end - off ? UINT32_MAX : (len + 3) & ~3u;
			if (adv > end - off)
				return renamed;
			off += adv;
			break;
		case FDT_NOP:
			break;
		default:			/* FDT_END or garbage */
			return renamed;
		}
	}
	return renamed;
}

int handover_fail_closed(const struct kho_info *ki, const struct physmem *pm,
			 int (*unplug)(void *ctx), void *ctx)
{
	int n = handover_detach(ki, pm);

	if (n > 0) {
		pcsc_log("%s", HANDOVER_DETACHED_LINE);
		return HANDOVER_CLOSED_DETACHED;
	}
	/* n < 0: nothing mapped to edit (-PCSC_EINVAL), or libfdt refused. */
	if (n < 0 && unplug && !unplug(ctx)) {
		pcsc_log("%s", HANDOVER_UNPLUGGED_LINE);
		return HANDOVER_CLOSED_UNPLUGGED;
	}
	return HANDOVER_CLOSED_NONE;
}

int handover_detach(const struct kho_info *ki, const struct physmem *pm)
{
	bool failed = false;
	int node, n;

	if (!ki || !ki->fdt)
		return -PCSC_EINVAL;
	if (!ki->checked) {
		n = detach_scan(ki->fdt, ki->fdt_size);
		/* A root that goes on past what could be mapped (over 1 MiB, or
		 * out of RAM): a lookup by the next kernel could reach beyond
		 * the scan. Only a corrupt root is like this (kexec hands over
		 * one page): its header is made invalid, so no kernel uses it. */
		if (ki->truncated) {
			memset(ki->fdt, 0, 4);
			n++;
		}
		if (n)
			physmem_wrote(pm, ki->fdt_phys, ki->fdt_size);
		return n;
	}
	/* Each NOP shrinks the set, and a checked blob holds fewer nodes than
	 * it has 8-byte words. */
	for (n = 0; n < (int)(ki->fdt_size / 8u); n++) {
		node = fdt_subnode_offset(ki->fdt, 0, PCSC_KHO_NAME);
		if (node < 0)
			break;
		if (fdt_nop_node(ki->fdt, node)) {
			failed = true;
			break;
		}
	}
	/* What was blanked is written, whether or not a later NOP failed. */
	if (n)
		physmem_wrote(pm, ki->fdt_phys, ki->fdt_size);
	return failed ? -PCSC_EBADFDT : n;
}
