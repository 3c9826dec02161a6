/* session.c - SPEC §1 steps 2-5 as named steps on one struct pcsc_session, and its report.
 * No step may fail in a way that stops the caller from booting the next kernel. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/pci_walk.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/report.h>
#include <pcsc/session.h>

#ifndef PCSC_VERSION
#define PCSC_VERSION "unknown"
#endif

/* Rejection text kept on a default console: 22 + 74 = 96 bytes a line. */
#define REJECT_MSG_MAX	74
#define MSG_MAX		128

/* Next 8-byte aligned piece of n bytes, or NULL. */
static void *carve(struct pcsc_carver *c, size_t n)
{
	size_t pad = (size_t)(-(uintptr_t)c->p & 7u);
	void *r;

	if (pad > c->left || n > c->left - pad)
		return NULL;
	r = c->p + pad;
	c->p += pad + n;
	c->left -= pad + n;
	return r;
}

static uint64_t reads_now(const struct pcsc_session *s)
{
	return s->in->cfg ? s->in->cfg->reads - s->reads0 : 0;
}

/* A whole-cache failure: say why, make every pcsc child of the KHO root
 * unusable if its blob is mapped at all (handover_detach copes with a root
 * libfdt rejects), and let the caller boot on. */
static enum pcsc_session_state reject(struct pcsc_session *s, int err, const char *msg)
{
	const struct pcsc_session_in *in = s->in;
	int closed;

	s->out->status = err;
	pcsc_snprintf(s->out->msg, sizeof(s->out->msg), "%s", msg);
	/* Printed even when quiet. Unless every line is wanted, cut so that
	 * it and the summary stay within the 256 console bytes between
	 * kernels (the summary has handover= and the counts). */
	if (pcsc_log_enabled(PCSC_LOG_DETAIL))
		pcsc_log_at(PCSC_LOG_ALERT, "pcsc: cache rejected: %s", msg);
	else
		pcsc_log_at(PCSC_LOG_ALERT, "pcsc: cache rejected: %.*s", REJECT_MSG_MAX, msg);
	closed = handover_fail_closed(&s->ki, in->pm, in->kho_fdt ? in->kho_unplug : NULL,
				      in->kho_unplug_ctx);
	s->out->detached = closed == HANDOVER_CLOSED_DETACHED;
	s->handover = closed == HANDOVER_CLOSED_DETACHED ? "detached" :
		      closed == HANDOVER_CLOSED_UNPLUGGED ? "unplugged" : "none";
	return s->state = PCSC_SESSION_REJECTED;
}

static enum pcsc_session_state no_cache(struct pcsc_session *s, int err, const char *why)
{
	s->out->status = err;
	pcsc_snprintf(s->out->msg, sizeof(s->out->msg), "%s", why);
	pcsc_log("pcsc: no cache: %s", why);
	return s->state = PCSC_SESSION_NO_CACHE;
}

/* One line for the KHO facts a failed verification would need. */
static void report_kho(const struct pcsc_session *s)
{
	const struct kho_map *m = &s->kmap;
	char line[200];
	unsigned int i;
	int o;

	if (m->kind == KHO_MAP_RADIX)
		o = pcsc_snprintf(line, sizeof(line), "pcsc: kho %s nodes=%u leaves=%u folios=%llu",
				  s->ki.abi->compatible, m->nodes, m->bitmaps,
				  (unsigned long long)m->folios);
	else
		o = pcsc_snprintf(line, sizeof(line),
				  "pcsc: kho %s chunks=%u bitmaps=%u bitmap=%u folios=%llu",
				  s->ki.abi->compatible, m->chunks, m->bitmaps, m->bitmap_bytes,
				  (unsigned long long)m->folios);
	o += pcsc_snprintf(line + o, sizeof(line) - (size_t)o, " scratch=%u", s->scratch.n);
	for (i = 0; i < s->scratch.n && i < 4 && (size_t)o < sizeof(line); i++)
		o += pcsc_snprintf(line + o, sizeof(line) - (size_t)o, " 0x%llx-0x%llx",
				   (unsigned long long)s->scratch.r[i].start,
				   (unsigned long long)s->scratch.r[i].end);
	pcsc_log("%s", line);
}

int pcsc_session_begin(struct pcsc_session *s, const struct pcsc_session_in *in,
		       struct pcsc_session_out *out)
{
	if (!s || !in || !out || !in->pm)
		return -PCSC_EINVAL;
	memset(s, 0, sizeof(*s));
	memset(out, 0, sizeof(*out));
	s->in = in;
	s->out = out;
	s->S = in->S ? in->S : PCIE_CFG_SIZE;
	s->reads0 = in->cfg ? in->cfg->reads : 0;
	s->handover = "none";
	s->ki.pcsc_node = -1;
	s->arena.p = in->arena;
	s->arena.left = in->arena ? in->arena_size : 0;
	if (in->mode == PCSC_MODE_OFF) {
		s->handover = "untouched";
		s->state = PCSC_SESSION_OFF;
	}
	return 0;
}

/* The KHO root, its scratch array and its map. */
static enum pcsc_session_state locate_kho(struct pcsc_session *s)
{
	const struct pcsc_session_in *in = s->in;
	struct kho_range *ranges, *meta;
	char msg[KHO_MSG_MAX];
	uint32_t nr;
	int err;

	err = kho_open(in->pm, in->kho_fdt, in->kho_fdt_size, &s->ki);
	if (err == -PCSC_ENOTFOUND && s->ki.checked && !s->ki.npcsc)
		return no_cache(s, err, s->ki.msg);
	if (err)
		return reject(s, err, s->ki.msg);
	s->out->found = true;
	s->out->kho = s->ki.abi;
	err = kho_scratch_read(in->pm, in->kho_scratch, in->kho_scratch_size, &s->scratch,
			       &s->scratch_array, msg);
	if (err)
		return reject(s, err, msg);
	/* Default: a quarter of the arena for the map (ranges + metadata). */
	nr = in->max_ranges ? in->max_ranges :
	     (uint32_t)(s->arena.left / 4u / (2u * sizeof(*ranges)));
	if (nr < 16)
		nr = 16;
	ranges = carve(&s->arena, (size_t)nr * sizeof(*ranges));
	meta = carve(&s->arena, (size_t)nr * sizeof(*meta));
	if (!ranges || !meta)
		return reject(s, -PCSC_ENOSPC, "arena too small for the KHO map");
	err = kho_map_read(in->pm, s->ki.abi, s->ki.map_phys, kho_v1_bitmap(&s->ki, in->kho_bitmap),
			   ranges, nr, meta, nr, &s->kmap);
	if (err)
		return reject(s, err, s->kmap.msg);
	s->out->kho_bitmap = s->kmap.bitmap_bytes;
	report_kho(s);
	return s->state;
}

/* Does [a, a+len) overlap [b, b+blen)? */
static bool overlaps(uint64_t a, uint64_t len, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + len;
}

/* The pcsc FDT: where the RFC put it, whole, preserved, and nowhere we
 * must not write (we rewrite it in place). */
static enum pcsc_session_state locate_pcsc_fdt(struct pcsc_session *s)
{
	const struct pcsc_session_in *in = s->in;
	uint64_t at = s->ki.pcsc_fdt_phys;
	char msg[MSG_MAX];
	uint32_t total;
	void *fdt;
	int err;

	fdt = physmem_map_checked(in->pm, at, FDT_V17_SIZE, PCSC_PAGE_SIZE, "pcsc FDT at", msg,
				  sizeof(msg), &err);
	if (!fdt)
		return reject(s, err, msg);
	total = fdt_magic(fdt) == FDT_MAGIC ? fdt_totalsize(fdt) : FDT_V17_SIZE;
	/* The FDT may only use the pages it was preserved with. */
	s->room = (uint32_t)PCSC_PAGE_ALIGN(total);
	if (total > KHO_FDT_MAX_SIZE * 16u || !(fdt = physmem_map(in->pm, at, s->room))) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u not in RAM",
			      (unsigned long long)at, (unsigned int)total);
		return reject(s, -PCSC_ENOTRAM, msg);
	}
	err = pcsc_fdt_check(fdt, s->room, msg, sizeof(msg));
	if (err)
		return reject(s, err, msg);
	if (!kho_is_preserved(&s->kmap, at, s->room)) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u not preserved",
			      (unsigned long long)at, (unsigned int)s->room);
		return reject(s, -PCSC_ENOTPRESERVED, msg);
	}
	/* kho-v3+: blob-size bounds the blob and must itself be preserved. */
	if (s->ki.abi->blob_size &&
	    (s->ki.pcsc_blob_size < total || !kho_is_preserved(&s->kmap, at, s->ki.pcsc_blob_size))) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc blob-size %llu: totalsize %u or preservation "
			      "does not fit", (unsigned long long)s->ki.pcsc_blob_size,
			      (unsigned int)total);
		return reject(s, -PCSC_ERANGE, msg);
	}
	/* Never when a hostile map "preserves" the stub's own memory, the KHO
	 * root, the scratch array or the map itself under it. */
	if ((in->owned && phys_ranges_overlaps(in->owned, at, s->room)) ||
	    phys_ranges_overlaps(&s->scratch, at, s->room) ||
	    overlaps(at, s->room, in->kho_fdt, s->ki.fdt_size) ||
	    overlaps(at, s->room, s->scratch_array.start,
		     s->scratch_array.end - s->scratch_array.start) ||
	    kho_overlaps_meta(&s->kmap, at, s->room)) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u overlaps memory it must not",
			      (unsigned long long)at, (unsigned int)s->room);
		return reject(s, -PCSC_EOVERLAP, msg);
	}
	s->fdt = fdt;
	return s->state;
}

/* The index in one pass over the FDT, into as much of the arena as is
 * left (32 bytes an entry with its scratch word), then the scratch words
 * right after the entries it used. */
static enum pcsc_session_state locate_index(struct pcsc_session *s)
{
	struct pcsc_entry *ents = carve(&s->arena, 0);
	const size_t per = sizeof(*ents) + sizeof(*s->words);
	int err;

	if (!ents || s->arena.left < per + 8)
		return reject(s, -PCSC_ENOSPC, "arena too small for the pcsc index");
	err = pcsc_index_build(s->fdt, ents, (uint32_t)((s->arena.left - 8) / per), &s->idx);
	if (err)
		return reject(s, err, s->idx.msg);
	s->out->entries = s->idx.n;
	carve(&s->arena, (size_t)s->idx.n * sizeof(*ents));
	s->words = carve(&s->arena, (size_t)s->idx.n * sizeof(*s->words) + 1);
	if (!s->words)
		return reject(s, -PCSC_ENOSPC, "arena too small for the pcsc index");
	return s->state = PCSC_SESSION_LOCATED;
}

enum pcsc_session_state pcsc_session_locate(struct pcsc_session *s)
{
	if (s->state != PCSC_SESSION_NEW)
		return s->state;
	if (s->S != PCI_CFG_SIZE && s->S != PCIE_CFG_SIZE)
		return reject(s, -PCSC_EINVAL, "pcsc_data size must be 256 or 4096");
	if (!s->in->kho_fdt)
		return no_cache(s, -PCSC_ENOTFOUND, "no KHO FDT");
	if (locate_kho(s) != PCSC_SESSION_NEW || locate_pcsc_fdt(s) != PCSC_SESSION_NEW)
		return s->state;
	return locate_index(s);
}

enum pcsc_session_state pcsc_session_walk(struct pcsc_session *s)
{
	const struct pcsc_session_in *in = s->in;
	size_t cap;
	void *arena;

	if (s->state != PCSC_SESSION_LOCATED && s->state != PCSC_SESSION_NO_CACHE)
		return s->state;
	/* Physical functions only: VFs are ranges of their PF. Keep 8 bytes
	 * for carve's alignment padding. */
	cap = s->arena.left > 8 ? (s->arena.left - 8) / PCI_WALK_FUNC_BYTES : 0;
	if (in->max_funcs && in->max_funcs < cap)
		cap = in->max_funcs;
	arena = carve(&s->arena, PCI_WALK_ARENA(cap));
	pci_walk_all(&s->walk, arena, PCI_WALK_ARENA(cap), in->cfg, in->windows,
		     in->cfg ? in->nwindows : 0);
	s->out->funcs = s->walk.n;
	s->out->walk_reads = reads_now(s);
	if (s->walk.stats.overflow)
		pcsc_log("pcsc: walk arena full: %u functions not seen", s->walk.stats.overflow);
	/* Without a cache the walk is the report: every function listed. */
	report_walk(&s->walk, s->out->walk_reads, s->state == PCSC_SESSION_NO_CACHE);
	if (s->state == PCSC_SESSION_LOCATED)
		s->state = PCSC_SESSION_WALKED;
	return s->state;
}

enum pcsc_session_state pcsc_session_verify(struct pcsc_session *s)
{
	const struct pcsc_session_in *in = s->in;
	int err;

	if (s->state != PCSC_SESSION_WALKED)
		return s->state;
	phys_ranges_add(&s->metas, in->kho_fdt, s->ki.fdt_size);
	phys_ranges_add(&s->metas, s->ki.pcsc_fdt_phys, s->room);
	if (s->scratch_array.end > s->scratch_array.start)
		phys_ranges_add(&s->metas, s->scratch_array.start,
				s->scratch_array.end - s->scratch_array.start);
	s->env.pm = in->pm;
	s->env.owned = in->owned;
	s->env.scratch = &s->scratch;
	s->env.meta = &s->metas;
	s->env.kmap = &s->kmap;
	s->env.S = s->S;
	s->env.mode = in->mode;
	s->env.cfg = in->cfg;
	/* Before anything reads through a da. */
	err = verify_check_entries(&s->env, &s->idx, s->words, s->idx.n);
	if (err < 0)
		return reject(s, err, "entry checks failed");
	verify_judge(&s->env, &s->idx, &s->walk, &s->counts);
	s->out->counts = s->counts;
	s->out->counts.cfg_reads = reads_now(s) - s->out->walk_reads;
	/* Before the handover: node offsets and names are still the blob's. */
	report_entries(&s->idx, &s->walk);
	return s->state = PCSC_SESSION_VERIFIED;
}

enum pcsc_session_state pcsc_session_hand_over(struct pcsc_session *s)
{
	const struct pcsc_session_in *in = s->in;
	struct handover_result hr;
	char msg[MSG_MAX];
	int err;

	if (s->state != PCSC_SESSION_VERIFIED)
		return s->state;
	err = handover_patch(s->fdt, s->room, &s->idx, in->pm, s->S,
			     in->version ? in->version : PCSC_VERSION, in->mode, &s->counts,
			     s->words, s->idx.n, &hr);
	/* Rewritten in place (even a failed patch may have moved bytes). */
	physmem_wrote(in->pm, s->ki.pcsc_fdt_phys, s->room);
	if (err) {
		pcsc_snprintf(msg, sizeof(msg), "handover patch failed: %s", pcsc_strerror(err));
		return reject(s, err, msg);
	}
	/* kho-v3+: blob-size stays the size of what the next kernel reads. */
	if (s->ki.abi->blob_size && hr.size_after != s->ki.pcsc_blob_size) {
		uint64_t bs = hr.size_after;

		if (fdt_setprop_inplace(s->ki.fdt, s->ki.pcsc_node, KHO_PROP_BLOB_SIZE, &bs, 8))
			return reject(s, -PCSC_EBADFDT, "blob-size could not be updated");
		physmem_wrote(in->pm, s->ki.fdt_phys, s->ki.fdt_size);
	}
	s->out->removed = hr.removed;
	s->out->patched = hr.removed > 0;
	s->out->props_added = hr.props_added;
	memcpy(s->out->sha256, hr.sha256, sizeof(s->out->sha256));
	if (!hr.props_added) {
		pcsc_snprintf(s->out->msg, sizeof(s->out->msg), "%s", hr.msg);
		pcsc_log("pcsc: %s", hr.msg);
	}
	s->handover = hr.props_added ? "ok" : "no-room";
	return s->state = PCSC_SESSION_HANDED_OVER;
}

void pcsc_session_report(struct pcsc_session *s)
{
	struct report_summary r;

	memset(&r, 0, sizeof(r));
	r.mode = s->in->mode;
	/* Counts only for a cache that was judged and handed over. */
	r.c = s->state == PCSC_SESSION_HANDED_OVER ? &s->out->counts : NULL;
	r.cfg_reads = reads_now(s);
	r.entries = s->out->entries;
	r.removed = s->out->removed;
	r.funcs = s->out->funcs;
	r.handover = s->handover;
	r.sha256 = s->out->props_added ? s->out->sha256 : NULL;
	if (s->in->elapsed_us) {
		r.has_us = true;
		r.us = s->in->elapsed_us();
	}
	report_summary(&r);
}

int pcsc_session_run(const struct pcsc_session_in *in, struct pcsc_session_out *out)
{
	struct pcsc_session s;
	int err;

	err = pcsc_session_begin(&s, in, out);
	if (err)
		return err;
	pcsc_session_locate(&s);	/* 2 */
	pcsc_session_walk(&s);		/* 3 */
	pcsc_session_verify(&s);	/* 4 */
	pcsc_session_hand_over(&s);	/* 5 */
	pcsc_session_report(&s);
	return 0;
}
