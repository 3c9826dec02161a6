/* pcsc/verify.h - judges each cache entry against live hardware: entry checks on `da`, then
 * one merge of the sorted index with the sorted walk. It never writes config space. */
#ifndef PCSC_VERIFY_H
#define PCSC_VERIFY_H

#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/pci_walk.h>
#include <pcsc/physmem.h>

enum pcsc_mode {
	PCSC_MODE_QUICK = 0,	/* IDs from the walk only: no extra config read */
	PCSC_MODE_STRICT,	/* also re-read every cached dword, clear differing bytes */
	PCSC_MODE_OFF,		/* pass the cache through untouched */
};

/* pcsc_mode_str - "quick", "strict", "off"; "?" otherwise. */
const char *pcsc_mode_str(unsigned int mode);

struct verify_counts {
	uint32_t v[PCSC_VERDICT_MAX];	/* per enum pcsc_verdict (NEW = live endpoints without entry) */
	uint32_t cleared_bytes;		/* strict: cached bits cleared */
	uint32_t patched;		/* strict: VALID entries with >= 1 byte cleared */
	uint64_t cfg_reads;		/* config reads verify itself made */
};

/* What the entry checks compare `da` against. */
struct verify_env {
	const struct physmem *pm;	/* RAM and the map to reach pcsc_data */
	const struct phys_ranges *owned;	/* stub image, DTB, stack...: may be NULL */
	const struct phys_ranges *scratch;	/* KHO scratch areas: may be NULL */
	const struct phys_ranges *meta;	/* KHO root FDT, pcsc FDT pages: may be NULL */
	const struct kho_map *kmap;	/* preserved ranges and map metadata */
	uint16_t S;			/* pcsc_data cfg size: 4096 or 256 */
	enum pcsc_mode mode;
	struct pci_cfg *cfg;		/* strict re-reads (its counter is used) */
};

/*
 * verify_check_entries - before anything reads through `da`: for every
 * entry not yet BAD, in this order: page aligned (DA_ALIGN); the whole
 * PCSC_DATA_ALLOC(S) inside RAM and mappable (DA_NOTRAM); not overlapping
 * env->owned (DA_OWNED); not overlapping env->meta or the map's chunks and
 * bitmaps (DA_META); preserved by the KHO map (DA_NOTPRESERVED). Then
 * entries whose blocks overlap each other (any entry with an 8-byte da) are
 * all BAD (DA_ENTRY): O(n log n) with scratch (n u64, caller's arena).
 * Returns the number of entries newly marked BAD; -PCSC_EINVAL (S not
 * 256/4096: nothing checked); -PCSC_ENOSPC (more entries with a da than
 * scratch_cap: the first pass's verdicts stay, no overlap checked).
 */
int verify_check_entries(const struct verify_env *env, struct pcsc_index *idx,
			 uint64_t *scratch, uint32_t scratch_cap);

/*
 * verify_judge - merge idx (sorted by SBDF) with the finished walk w
 * (sorted by SBDF): each entry not BAD gets VALID, STALE (reason: the first
 * of vendor, device, class, header type whose cached bytes differ from the
 * live ones) or GONE (absent; a VF BDF beyond its PF's enabled VFs). Only
 * bytes whose cached bit is set are compared. A VF's cached IDs may be the
 * PF vendor + VF device or all ones; its class is compared in strict mode
 * only (the walk does not read it). Live header-type-0 functions with no
 * entry are counted NEW. Strict mode then re-reads every dword holding a
 * cached byte of each VALID entry (a VF's ID dword excepted: it reads all
 * ones by the spec) and clears the cached bit of each byte that differs
 * (counted). Quick mode makes no config read.
 * Fills c (zeroed first). Returns 0; -PCSC_EINVAL (S not 256/4096:
 * nothing judged, c zeroed).
 */
int verify_judge(const struct verify_env *env, struct pcsc_index *idx,
		 const struct pci_walk *w, struct verify_counts *c);

#endif
