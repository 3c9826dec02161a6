/* session.c - the one flow every image runs: locate -> walk -> verify -> patch/hand over -> report.
 * It must never fail in a way that stops the caller from booting the next kernel. */
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

struct carver {
	uint8_t *p;
	size_t left;
};

/* Next 8-byte aligned piece of n bytes, or NULL. */
static void *carve(struct carver *c, size_t n)
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

struct run {
	const struct pcsc_session_in *in;
	struct pcsc_session_out *out;
	struct kho_info ki;
	uint64_t reads0;
	const char *handover;
};

static uint64_t reads_now(const struct run *r)
{
	return r->in->cfg ? r->in->cfg->reads - r->reads0 : 0;
}

static void summary(struct run *r, const struct verify_counts *c)
{
	struct report_summary s;

	memset(&s, 0, sizeof(s));
	s.mode = r->in->mode;
	s.c = c;
	s.cfg_reads = reads_now(r);
	s.entries = r->out->entries;
	s.removed = r->out->removed;
	s.funcs = r->out->funcs;
	s.handover = r->handover;
	s.sha256 = r->out->props_added ? r->out->sha256 : NULL;
	if (r->in->elapsed_us) {
		s.has_us = true;
		s.us = r->in->elapsed_us();
	}
	report_summary(&s);
}

/* A whole-cache failure: say why, make every pcsc child of the KHO root
 * unusable if its blob is mapped at all (handover_detach copes with a root
 * libfdt rejects), and let the caller boot on. */
static int reject(struct run *r, int err, const char *msg)
{
	int n = r->ki.fdt ? handover_detach(&r->ki, r->in->pm) : -PCSC_EINVAL;

	r->out->status = err;
	pcsc_snprintf(r->out->msg, sizeof(r->out->msg), "%s", msg);
	/* Printed even when quiet. Unless every line is wanted, cut so that
	 * it and the summary stay within the 256 console bytes between
	 * kernels (the summary has handover= and the counts). */
	if (pcsc_log_enabled(PCSC_LOG_DETAIL))
		pcsc_log_at(PCSC_LOG_ALERT, "pcsc: cache rejected: %s", msg);
	else
		pcsc_log_at(PCSC_LOG_ALERT, "pcsc: cache rejected: %.*s", REJECT_MSG_MAX, msg);
	if (n > 0) {
		r->out->detached = true;
		r->handover = "detached";
		pcsc_log("%s", "pcsc: detached the pcsc subtree from the KHO FDT");
	} else {
		r->handover = "none";
	}
	summary(r, NULL);
	return 0;
}

/* One line for the KHO facts a failed verification would need. */
static void report_kho(const struct kho_info *ki, const struct kho_map *m,
		       const struct phys_ranges *scr)
{
	char line[200];
	int o;
	unsigned int i;

	if (m->kind == KHO_MAP_RADIX)
		o = pcsc_snprintf(line, sizeof(line), "pcsc: kho %s nodes=%u leaves=%u folios=%llu",
				  ki->abi->compatible, m->nodes, m->bitmaps,
				  (unsigned long long)m->folios);
	else
		o = pcsc_snprintf(line, sizeof(line),
				  "pcsc: kho %s chunks=%u bitmaps=%u bitmap=%u folios=%llu",
				  ki->abi->compatible, m->chunks, m->bitmaps, m->bitmap_bytes,
				  (unsigned long long)m->folios);
	o += pcsc_snprintf(line + o, sizeof(line) - (size_t)o, " scratch=%u", scr->n);
	for (i = 0; i < scr->n && i < 4 && (size_t)o < sizeof(line); i++)
		o += pcsc_snprintf(line + o, sizeof(line) - (size_t)o, " 0x%llx-0x%llx",
				   (unsigned long long)scr->r[i].start,
				   (unsigned long long)scr->r[i].end);
	pcsc_log("%s", line);
}

int pcsc_session_run(const struct pcsc_session_in *in, struct pcsc_session_out *out)
{
	uint16_t S = in && in->S ? in->S : PCIE_CFG_SIZE;
	struct kho_range *ranges, *meta_r;
	struct verify_counts counts;
	struct handover_result hr;
	struct phys_ranges metas;
	struct verify_env env;
	struct pcsc_index idx;
	struct pcsc_entry *ents;
	struct pci_func *funcs;
	struct pci_walk walk;
	struct kho_map kmap;
	struct phys_ranges scr;
	struct kho_range scr_array;
	struct carver cv;
	struct run r;
	uint32_t nr, nfuncs, room, total;
	uint64_t *scratch;
	unsigned int i;
	char msg[128];
	void *fdt;
	int err, n;

	if (!in || !out || !in->pm)
		return -PCSC_EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.in = in;
	r.out = out;
	r.reads0 = in->cfg ? in->cfg->reads : 0;
	r.handover = "none";
	r.ki.pcsc_node = -1;
	if (in->mode == PCSC_MODE_OFF) {
		r.handover = "untouched";
		summary(&r, NULL);
		return 0;
	}
	if (S != PCI_CFG_SIZE && S != PCIE_CFG_SIZE)
		return reject(&r, -PCSC_EINVAL, "pcsc_data size must be 256 or 4096");
	if (!in->kho_fdt) {
		out->status = -PCSC_ENOTFOUND;
		pcsc_snprintf(out->msg, sizeof(out->msg), "%s", "no KHO FDT");
		pcsc_log("%s", "pcsc: no cache: no KHO FDT");
		summary(&r, NULL);
		return 0;
	}

	/* 1. locate: KHO root, its scratch array, its preserved map, the pcsc FDT. */
	err = kho_open(in->pm, in->kho_fdt, in->kho_fdt_size, &r.ki);
	if (err == -PCSC_ENOTFOUND && r.ki.checked && !r.ki.npcsc) {
		out->status = err;
		pcsc_snprintf(out->msg, sizeof(out->msg), "%s", r.ki.msg);
		pcsc_log("pcsc: no cache: %s", r.ki.msg);
		summary(&r, NULL);
		return 0;
	}
	if (err)
		return reject(&r, err, r.ki.msg);
	out->found = true;
	out->kho = r.ki.abi;
	err = kho_scratch_read(in->pm, in->kho_scratch, in->kho_scratch_size, &scr, &scr_array, msg);
	if (err)
		return reject(&r, err, msg);
	cv.p = in->arena;
	cv.left = in->arena ? in->arena_size : 0;
	/* Default: a quarter of the arena for the map (ranges + metadata). */
	nr = in->max_ranges ? in->max_ranges : (uint32_t)(cv.left / 4u / (2u * sizeof(*ranges)));
	if (nr < 16)
		nr = 16;
	ranges = carve(&cv, (size_t)nr * sizeof(*ranges));
	meta_r = carve(&cv, (size_t)nr * sizeof(*meta_r));
	if (!ranges || !meta_r)
		return reject(&r, -PCSC_ENOSPC, "arena too small for the KHO map");
	err = kho_map_read(in->pm, r.ki.abi, r.ki.map_phys, in->kho_bitmap, ranges, nr, meta_r, nr,
			   &kmap);
	if (err)
		return reject(&r, err, kmap.msg);
	out->kho_bitmap = kmap.bitmap_bytes;
	report_kho(&r.ki, &kmap, &scr);

	/* Preserved pages: page aligned, or it is not what the RFC wrote. */
	if (r.ki.pcsc_fdt_phys & (PCSC_PAGE_SIZE - 1)) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT at 0x%llx not page aligned",
			      (unsigned long long)r.ki.pcsc_fdt_phys);
		return reject(&r, -PCSC_EALIGN, msg);
	}
	fdt = physmem_map(in->pm, r.ki.pcsc_fdt_phys, FDT_V17_SIZE);
	if (!fdt) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT at 0x%llx not in RAM",
			      (unsigned long long)r.ki.pcsc_fdt_phys);
		return reject(&r, -PCSC_ENOTRAM, msg);
	}
	total = fdt_magic(fdt) == FDT_MAGIC ? fdt_totalsize(fdt) : FDT_V17_SIZE;
	/* The FDT may only use the pages it was preserved with. */
	room = (uint32_t)PCSC_PAGE_ALIGN(total);
	if (total > KHO_FDT_MAX_SIZE * 16u || !(fdt = physmem_map(in->pm, r.ki.pcsc_fdt_phys, room))) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u not in RAM",
			      (unsigned long long)r.ki.pcsc_fdt_phys, (unsigned int)total);
		return reject(&r, -PCSC_ENOTRAM, msg);
	}
	err = pcsc_fdt_check(fdt, room, msg, sizeof(msg));
	if (err)
		return reject(&r, err, msg);
	if (!kho_is_preserved(&kmap, r.ki.pcsc_fdt_phys, room)) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u not preserved",
			      (unsigned long long)r.ki.pcsc_fdt_phys, (unsigned int)room);
		return reject(&r, -PCSC_ENOTPRESERVED, msg);
	}
	/* kho-v3+: blob-size bounds the blob and must itself be preserved. */
	if (r.ki.abi->blob_size &&
	    (r.ki.pcsc_blob_size < total ||
	     !kho_is_preserved(&kmap, r.ki.pcsc_fdt_phys, r.ki.pcsc_blob_size))) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc blob-size %llu: totalsize %u or preservation "
			      "does not fit", (unsigned long long)r.ki.pcsc_blob_size, (unsigned int)total);
		return reject(&r, -PCSC_ERANGE, msg);
	}
	/* We rewrite these pages in place: never when a hostile map "preserves"
	 * the stub's own memory, the KHO root, the scratch array or the map
	 * itself under them. */
	if ((in->owned && phys_ranges_overlaps(in->owned, r.ki.pcsc_fdt_phys, room)) ||
	    phys_ranges_overlaps(&scr, r.ki.pcsc_fdt_phys, room) ||
	    (r.ki.pcsc_fdt_phys < in->kho_fdt + r.ki.fdt_size &&
	     in->kho_fdt < r.ki.pcsc_fdt_phys + room) ||
	    (r.ki.pcsc_fdt_phys < scr_array.end && scr_array.start < r.ki.pcsc_fdt_phys + room) ||
	    kho_overlaps_meta(&kmap, r.ki.pcsc_fdt_phys, room)) {
		pcsc_snprintf(msg, sizeof(msg), "pcsc FDT 0x%llx+%u overlaps memory it must not",
			      (unsigned long long)r.ki.pcsc_fdt_phys, (unsigned int)room);
		return reject(&r, -PCSC_EOVERLAP, msg);
	}
	/* The index in one pass over the FDT, into as much of the arena as
	 * is left (32 bytes an entry with its scratch word), then the scratch
	 * words right after the entries it used. */
	ents = carve(&cv, 0);
	if (!ents || cv.left < sizeof(*ents) + sizeof(*scratch) + 8)
		return reject(&r, -PCSC_ENOSPC, "arena too small for the pcsc index");
	err = pcsc_index_build(fdt, ents,
			       (uint32_t)((cv.left - 8) / (sizeof(*ents) + sizeof(*scratch))), &idx);
	if (err)
		return reject(&r, err, idx.msg);
	n = (int)idx.n;
	out->entries = idx.n;
	carve(&cv, (size_t)n * sizeof(*ents));
	scratch = carve(&cv, (size_t)n * sizeof(*scratch) + 1);
	if (!scratch)
		return reject(&r, -PCSC_ENOSPC, "arena too small for the pcsc index");

	/* 2. entry checks, before anything reads through da. */
	memset(&metas, 0, sizeof(metas));
	phys_ranges_add(&metas, in->kho_fdt, r.ki.fdt_size);
	phys_ranges_add(&metas, r.ki.pcsc_fdt_phys, room);
	if (scr_array.end > scr_array.start)
		phys_ranges_add(&metas, scr_array.start, scr_array.end - scr_array.start);
	memset(&env, 0, sizeof(env));
	env.pm = in->pm;
	env.owned = in->owned;
	env.scratch = &scr;
	env.meta = &metas;
	env.kmap = &kmap;
	env.S = S;
	env.mode = in->mode;
	env.cfg = in->cfg;
	err = verify_check_entries(&env, &idx, scratch, (uint32_t)n);
	if (err < 0)
		return reject(&r, err, "entry checks failed");

	/* 3. walk, read-only. */
	/* Keep 8 bytes for carve's alignment padding. */
	nfuncs = cv.left > 8 ? (uint32_t)((cv.left - 8) / sizeof(struct pci_func)) : 0;
	if (in->max_funcs && in->max_funcs < nfuncs)
		nfuncs = in->max_funcs;
	funcs = carve(&cv, (size_t)nfuncs * sizeof(*funcs));
	pci_walk_init(&walk, funcs, funcs ? nfuncs : 0);
	for (i = 0; in->cfg && i < in->nwindows; i++)
		pci_walk_window(&walk, in->cfg, &in->windows[i]);
	pci_walk_finish(&walk);
	out->funcs = walk.n;
	out->walk_reads = reads_now(&r);
	if (walk.stats.overflow)
		pcsc_log("pcsc: walk arena full: %u functions not seen", walk.stats.overflow);

	/* 4. verify, report each entry (before node offsets change). */
	verify_judge(&env, &idx, &walk, &counts);
	out->counts = counts;
	out->counts.cfg_reads = reads_now(&r) - out->walk_reads;
	report_entries(&idx, &walk);

	/* 5. hand over inside the FDT's own pages. */
	err = handover_patch(fdt, room, &idx, in->pm, S, in->version ? in->version : PCSC_VERSION,
			     in->mode, &counts, scratch, (uint32_t)n, &hr);
	/* Rewritten in place (even a failed patch may have moved bytes). */
	physmem_wrote(in->pm, r.ki.pcsc_fdt_phys, room);
	if (err) {
		pcsc_snprintf(msg, sizeof(msg), "hand-over patch failed: %s", pcsc_strerror(err));
		return reject(&r, err, msg);
	}
	/* kho-v3+: blob-size stays the size of what the next kernel reads. */
	if (r.ki.abi->blob_size && hr.size_after != r.ki.pcsc_blob_size) {
		uint64_t bs = hr.size_after;

		if (fdt_setprop_inplace(r.ki.fdt, r.ki.pcsc_node, KHO_PROP_BLOB_SIZE, &bs, 8))
			return reject(&r, -PCSC_EBADFDT, "blob-size could not be updated");
		physmem_wrote(in->pm, r.ki.fdt_phys, r.ki.fdt_size);
	}
	out->removed = hr.removed;
	out->patched = hr.removed > 0;
	out->props_added = hr.props_added;
	memcpy(out->sha256, hr.sha256, sizeof(out->sha256));
	if (!hr.props_added) {
		pcsc_snprintf(out->msg, sizeof(out->msg), "%s", hr.msg);
		pcsc_log("pcsc: %s", hr.msg);
	}
	r.handover = hr.props_added ? "ok" : "no-room";
	summary(&r, &out->counts);
	return 0;
}
