/* pcsc/session.h - the steps of SPEC §1 that the stub, the EFI app and pcsctool share:
 * 2 locate -> 3 walk -> 4 verify -> 5 hand over, then the report. It never fails in a way that
 * stops the caller from booting the next kernel: every outcome is a report, not a hang. */
#ifndef PCSC_SESSION_H
#define PCSC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>
#include <pcsc/kho.h>
#include <pcsc/pci_walk.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/physmem.h>
#include <pcsc/verify.h>

/*
 * Arena: one byte buffer carved internally, 8-byte aligned pieces:
 *   24 + 8 bytes per cache entry (index + overlap scratch),
 *   44 bytes per physical function (walk, PCI_WALK_FUNC_BYTES: its 20-byte
 *   entry, a 16-byte VF range should it be a PF, the range's 8-byte cursor);
 *   VFs cost nothing: they are their PF's range,
 *   16 bytes per preserved range and per map chunk/bitmap.
 * PCSC_SESSION_ARENA(e, f, r) is enough for e entries, f physical functions
 * (endpoints, bridges, PFs; VFs not counted), r ranges.
 */
#define PCSC_SESSION_ARENA(e, f, r) \
	((size_t)(e) * 32u + PCI_WALK_ARENA(f) + (size_t)(r) * 32u + 64u)

struct pcsc_session_in {
	struct pci_cfg *cfg;			/* read-only config access */
	const struct ecam_window *windows;	/* what to walk */
	unsigned int nwindows;
	const struct physmem *pm;		/* RAM + map */
	const struct phys_ranges *owned;	/* stub image, DTB, stack...; may be NULL */
	uint64_t kho_fdt;			/* KHO root FDT phys; 0 = none */
	uint64_t kho_fdt_size;			/* bound; 0 = KHO_FDT_MAX_SIZE */
	/* The KHO scratch array (arm64 /chosen linux,kho-scratch, x86
	 * setup_data): (addr, size) of struct kho_scratch entries, each a
	 * region the next kernel allocates from early, so preserved memory
	 * never lies there; a da or the pcsc FDT inside is refused. 0 = none. */
	uint64_t kho_scratch;
	uint64_t kho_scratch_size;
	uint32_t kho_bitmap;			/* kho-v1 bitmap bytes: 0 (512 unless
						 * proven), 512, 4096 (pcsc.kho_bitmap=) */
	enum pcsc_mode mode;
	uint16_t S;				/* pcsc_data cfg size 4096/256; 0 = 4096 */
	uint32_t max_funcs;			/* walk capacity in physical functions
						 * (VFs not counted); 0 = from the arena */
	uint32_t max_ranges;			/* KHO map ranges; 0 = a quarter of the arena */
	void *arena;
	size_t arena_size;
	const char *version;			/* stub version for the handover; NULL = PCSC_VERSION */
	uint64_t (*elapsed_us)(void);		/* time so far, for the summary; may be NULL */
	/* A rejected cache whose KHO root the session could not map at all
	 * (its header outside RAM as pm sees it, misaligned, bad magic) cannot
	 * be detached, yet a next kernel reads the root wherever it is: this
	 * takes the root out of what the next kernel is handed (0 done; then
	 * handover=unplugged). NULL (tools, EFI app): handover=none. */
	int (*kho_unplug)(void *ctx);
	void *kho_unplug_ctx;
};

struct pcsc_session_out {
	int status;		/* 0; -PCSC_ENOTFOUND when there is no cache (state
				 * NO_CACHE); else the -PCSC_E* that rejected the
				 * whole cache (pcsc_session_locate lists them) */
	bool found;		/* a pcsc subtree was located */
	const struct kho_abi *kho;	/* the KHO root's ABI, NULL when unknown */
	uint32_t kho_bitmap;	/* kho-v1: bitmap bytes read; 0 otherwise */
	bool detached;		/* the pcsc child of the KHO root was made unusable */
	bool patched;		/* nodes were removed from the pcsc FDT */
	bool props_added;	/* version/mode/counts/sha256 written on the pcsc root */
	uint32_t entries;	/* nodes in the pcsc FDT before patching */
	uint32_t removed;	/* nodes removed */
	uint32_t funcs;		/* live functions walked, VFs included */
	struct verify_counts counts;
	uint64_t walk_reads;	/* config reads made by the walk */
	uint8_t sha256[32];	/* over the handed-over content (when props_added) */
	char msg[128];		/* the whole-cache problem, "" when none */
};

/* Where a session stands: the KHO outcome is a state, not an error code
 * for the caller to interpret. */
enum pcsc_session_state {
	PCSC_SESSION_NEW = 0,		/* begun, nothing located yet */
	PCSC_SESSION_OFF,		/* mode off: the cache passes untouched */
	PCSC_SESSION_NO_CACHE,		/* no KHO FDT, or a root without pcsc */
	PCSC_SESSION_LOCATED,		/* pcsc FDT checked, index built */
	PCSC_SESSION_WALKED,		/* live functions known */
	PCSC_SESSION_VERIFIED,		/* a verdict per entry */
	PCSC_SESSION_HANDED_OVER,	/* the pcsc FDT patched in its own pages */
	PCSC_SESSION_REJECTED,		/* whole cache refused (and detached if it could be) */
};

struct pcsc_carver {
	uint8_t *p;
	size_t left;
};

/*
 * One run of SPEC §1 steps 2-5 and its report. Carried by the caller
 * (static storage in the stub: no stack for it) and filled step by step;
 * every fact lives here once.
 */
struct pcsc_session {
	const struct pcsc_session_in *in;
	struct pcsc_session_out *out;
	enum pcsc_session_state state;
	uint16_t S;
	uint64_t reads0;		/* cfg->reads when the session began */
	const char *handover;		/* the summary's handover= word */
	struct pcsc_carver arena;
	/* 2 locate */
	struct kho_info ki;
	struct kho_map kmap;
	struct phys_ranges scratch;	/* KHO scratch regions */
	struct kho_range scratch_array;	/* the array itself (metadata) */
	void *fdt;			/* the pcsc FDT, room bytes writable */
	uint32_t room;
	struct pcsc_index idx;
	uint64_t *words;		/* idx.n scratch words (entry checks, handover) */
	/* 3 walk */
	struct pci_walk walk;
	/* 4 verify */
	struct phys_ranges metas;	/* KHO root, pcsc FDT, scratch array */
	struct verify_env env;
	struct verify_counts counts;
};

/*
 * pcsc_session_begin - start a session over in (kept by pointer), out
 * zeroed. Mode off: state OFF. Nothing is read yet.
 * Returns 0; -PCSC_EINVAL (s, in, out or in->pm NULL: nothing done).
 */
int pcsc_session_begin(struct pcsc_session *s, const struct pcsc_session_in *in,
		       struct pcsc_session_out *out);

/*
 * pcsc_session_locate - step 2: the KHO root (kho_open), its scratch array,
 * its preserved-memory map, the pcsc FDT (aligned, in RAM, checked,
 * preserved, blob-size on kho-v3+, clear of owned memory, the KHO root,
 * scratch and map), then the index of entries in one pass.
 * NEW -> LOCATED; NO_CACHE (no KHO FDT; a root without a pcsc child);
 * REJECTED (anything else: detached where the root is mapped, one
 * "cache rejected:" line). Other states: no-op. Returns the new state.
 * out->status on REJECTED: -PCSC_EINVAL (S not 256/4096); kho_open's
 * errors; kho_scratch_read's; -PCSC_ENOSPC (arena too small for the map
 * or the index); kho_map_read's; -PCSC_EALIGN (pcsc FDT not page aligned);
 * -PCSC_ENOTRAM (pcsc FDT not in RAM); pcsc_fdt_check's -PCSC_EBADFDT and
 * -PCSC_ECOMPAT; -PCSC_ENOTPRESERVED (pcsc FDT pages not preserved);
 * -PCSC_ERANGE (blob-size below totalsize or not preserved);
 * -PCSC_EOVERLAP (pcsc FDT meets owned memory, scratch, the KHO root or
 * map); pcsc_index_build's -PCSC_ENOSPC and -PCSC_EBADFDT.
 */
enum pcsc_session_state pcsc_session_locate(struct pcsc_session *s);

/*
 * pcsc_session_walk - step 3: every live function of in->windows through
 * in->cfg, read-only, into what is left of the arena; the listing of each
 * function only where there is no cache (and pcsc.report=full), the totals
 * line always (a detail). LOCATED -> WALKED; NO_CACHE stays (walked).
 * Other states: no-op. Returns the new state.
 */
enum pcsc_session_state pcsc_session_walk(struct pcsc_session *s);

/*
 * pcsc_session_verify - step 4: the entry checks (alignment, RAM, owned
 * and KHO memory, scratch, overlaps, preservation) before anything reads
 * through a da, then a verdict per entry against the walk, logged per
 * entry (problems and details, as the report level allows).
 * WALKED -> VERIFIED; REJECTED when the checks cannot run (out->status:
 * verify_check_entries' error). Other states: no-op. Returns the new state.
 */
enum pcsc_session_state pcsc_session_verify(struct pcsc_session *s);

/*
 * pcsc_session_hand_over - step 5: patch the pcsc FDT in its own pages
 * (removals, handover properties, digest), keep blob-size true on kho-v3+;
 * a patch that fails rejects (detaches) the cache. VERIFIED -> HANDED_OVER
 * or REJECTED (out->status: handover_patch's error, or -PCSC_EBADFDT when
 * blob-size could not be rewritten). Other states: no-op. Returns the new
 * state.
 */
enum pcsc_session_state pcsc_session_hand_over(struct pcsc_session *s);

/*
 * pcsc_session_report - the summary line (and the digest when the
 * handover wrote one), whatever the state; fills out->counts/funcs.
 */
void pcsc_session_report(struct pcsc_session *s);

/*
 * pcsc_session_run - the whole flow: begin, locate, walk, verify, hand
 * over, report (format in docs/report.md). Whole-cache failures (KHO root
 * unreadable or of an unknown ABI, map or scratch array unreadable, pcsc
 * FDT corrupt, outside RAM, not preserved, arena too small) detach every
 * pcsc child of the KHO root whenever its blob is mapped (handover_detach),
 * set out->status and out->msg, and still return 0: the caller boots on.
 * Mode off: no walk, no patch, a summary only.
 * Returns 0 (out->status as pcsc_session_locate, _verify and _hand_over
 * say); -PCSC_EINVAL only when in/out/pm are NULL (nothing done).
 */
int pcsc_session_run(const struct pcsc_session_in *in, struct pcsc_session_out *out);

#endif
