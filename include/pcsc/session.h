/* pcsc/session.h - the one entry point the stub, the EFI app and pcsctool call:
 * locate -> walk -> verify -> patch/hand over -> report. It never fails in a way that
 * stops the caller from booting the next kernel: every outcome is a report, not a hang. */
#ifndef PCSC_SESSION_H
#define PCSC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>
#include <pcsc/kho.h>
#include <pcsc/physmem.h>
#include <pcsc/verify.h>

/*
 * Arena: one byte buffer carved internally, 8-byte aligned pieces:
 *   24 + 8 bytes per cache entry (index + overlap scratch),
 *   20 bytes per live function (walk),
 *   16 bytes per preserved range and per map chunk/bitmap.
 * PCSC_SESSION_ARENA(e, f, r) is enough for e entries, f functions, r ranges.
 */
#define PCSC_SESSION_ARENA(e, f, r) \
	((size_t)(e) * 32u + (size_t)(f) * 20u + (size_t)(r) * 32u + 64u)

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
	uint32_t max_funcs;			/* walk capacity; 0 = from the arena */
	uint32_t max_ranges;			/* KHO map ranges; 0 = a quarter of the arena */
	void *arena;
	size_t arena_size;
	const char *version;			/* stub version for the hand-over; NULL = PCSC_VERSION */
	uint64_t (*elapsed_us)(void);		/* time so far, for the summary; may be NULL */
};

struct pcsc_session_out {
	int status;		/* 0, or the -PCSC_E* that rejected the whole cache */
	bool found;		/* a pcsc subtree was located */
	const struct kho_abi *kho;	/* the KHO root's ABI, NULL when unknown */
	uint32_t kho_bitmap;	/* kho-v1: bitmap bytes read; 0 otherwise */
	bool detached;		/* the pcsc child of the KHO root was made unusable */
	bool patched;		/* nodes were removed from the pcsc FDT */
	bool props_added;	/* version/mode/counts/sha256 written on the pcsc root */
	uint32_t entries;	/* nodes in the pcsc FDT before patching */
	uint32_t removed;	/* nodes removed */
	uint32_t funcs;		/* live functions walked */
	struct verify_counts counts;
	uint64_t walk_reads;	/* config reads made by the walk */
	uint8_t sha256[32];	/* over the handed-over content (when props_added) */
	char msg[128];		/* the whole-cache problem, "" when none */
};

/*
 * pcsc_session_run - the whole flow, logging through pcsc_log (format in
 * docs/report.md). Whole-cache failures (KHO root unreadable or of an
 * unknown ABI, map or scratch array unreadable, pcsc FDT corrupt, outside
 * RAM, not preserved, arena too small) detach every pcsc child of the KHO
 * root whenever its blob is mapped (handover_detach), set out->status and
 * out->msg, and still return 0: the caller boots on. Mode off: no walk, no
 * patch, a summary only.
 * Returns 0; -PCSC_EINVAL only when in/out/pm are NULL (nothing done).
 */
int pcsc_session_run(const struct pcsc_session_in *in, struct pcsc_session_out *out);

#endif
