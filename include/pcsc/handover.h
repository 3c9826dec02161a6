/* pcsc/handover.h - patches the pcsc FDT in place for the next kernel: removes the nodes of
 * STALE/GONE/BAD entries, adds version/mode/counts/sha256, or detaches the whole subtree.
 * It never lets the pcsc FDT grow past the pages it already owns. */
#ifndef PCSC_HANDOVER_H
#define PCSC_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/physmem.h>
#include <pcsc/verify.h>

/* Properties added on the pcsc root (documented in docs/abi.md). */
#define HANDOVER_PROP_VERSION	"stub-version"	/* string */
#define HANDOVER_PROP_MODE	"stub-mode"	/* string: quick | strict */
#define HANDOVER_PROP_COUNTS	"stub-counts"	/* 5 x u32 native: valid stale gone bad new */
#define HANDOVER_PROP_SHA256	"sha256"	/* 32 bytes */
/* One 8-byte record per removed entry, BDF order: u32 sbdf (native;
 * 0xffffffff for a malformed name), u8 verdict, u8 reason, u16 0. */
#define HANDOVER_PROP_REMOVED	"stub-removed"
#define HANDOVER_REMOVED_SIZE	8u

struct handover_result {
	uint32_t removed;		/* nodes deleted */
	bool props_added;		/* all five properties written */
	uint32_t size_before;		/* fdt_totalsize before */
	uint32_t size_after;		/* fdt_totalsize after (packed) */
	uint8_t sha256[32];
	char msg[96];			/* "" or what could not be done */
};

/*
 * handover_digest - SHA-256 over what the next kernel takes from the cache:
 * for every kept entry (verdict VALID or UNJUDGED, i.e. every node that
 * stays) in idx order (BDF): sbdf (u32 LE: the canonical node name), da
 * (u64 LE); then for each 64-bit word w of the bitmaps where cachable or
 * cached is non-zero: w (u8), a flag (u8: 1 when cached[w] == cachable[w]),
 * cachable[w] (u64 LE), cached[w] (u64 LE, only when the flag is 0), then
 * the config bytes cached[w] selects, lowest bit first; then 0xff. The
 * byte stream is docs/abi.md's "digest": its cost scales with what is
 * cached, not with S. Reads through pm.
 * Returns 0; -PCSC_EINVAL (S not 256/4096); -PCSC_ENOTRAM (a kept entry's
 * data not mappable).
 */
int handover_digest(const struct pcsc_index *idx, const struct physmem *pm, uint16_t S,
		    uint8_t out[32]);

/*
 * handover_patch - on the pcsc FDT at fdt (room bytes writable from fdt,
 * room = PAGE_ALIGN(original totalsize), never more): compute the digest,
 * delete the nodes of every entry that is not kept (in descending offset
 * order, so remaining offsets stay valid; scratch holds n offsets), then add
 * the five properties (stub-version, stub-mode, stub-counts, sha256,
 * stub-removed) and pack. If the properties do not fit, the removals stay,
 * none of the properties is left behind, r->msg says so and 0 is returned
 * with props_added false. idx node offsets are invalid afterwards.
 * Returns 0; handover_digest's -PCSC_EINVAL (S) and -PCSC_ENOTRAM (a kept
 * entry's data not mappable), with the blob untouched; -PCSC_ENOSPC (more
 * removed entries than scratch_cap; blob untouched); -PCSC_EBADFDT (libfdt
 * refused to open, delete from or pack the blob: it may be half edited).
 */
int handover_patch(void *fdt, uint32_t room, const struct pcsc_index *idx,
		   const struct physmem *pm, uint16_t S, const char *version,
		   enum pcsc_mode mode, const struct verify_counts *c,
		   uint64_t *scratch, uint32_t scratch_cap, struct handover_result *r);

/*
 * handover_detach - make every child of the KHO root that the next kernel's
 * by-name lookup could take for the cache ("pcsc", "pcsc@...") unusable to
 * it, whatever the root's ABI. A root that passed fdt_check_full
 * (ki->checked): each such node becomes NOP tags (offsets of the rest
 * unchanged). A root that did not but whose blob is mapped (ki->fdt): a
 * bounded tag-by-tag scan of its structure block, as far as it is well
 * formed (the next kernel's libfdt cannot read past where the scan stops
 * either), renames each such depth-1 node in place to "pcs-...", which no
 * lookup of "pcsc" matches; a root mapped only in part (ki->truncated:
 * over 1 MiB or past RAM, so corrupt) also gets its magic zeroed, as the
 * next kernel's lookup could reach past the scan. Reports the rewritten
 * root through physmem_wrote(pm).
 * Returns the number of nodes made unusable, a zeroed magic counted as one
 * (0: none was there, nothing written); -PCSC_EINVAL (ki or ki->fdt NULL:
 * nothing mapped to edit); -PCSC_EBADFDT (libfdt refused to NOP a node of
 * a checked root; the nodes before it stay NOPed).
 */
int handover_detach(const struct kho_info *ki, const struct physmem *pm);

/* The console lines of a detach and of a KHO root taken out of the
 * handover (handover_fail_closed). */
#define HANDOVER_DETACHED_LINE	"pcsc: detached the pcsc subtree from the KHO FDT"
#define HANDOVER_UNPLUGGED_LINE	"pcsc: KHO root unreadable: unplugged"

enum handover_closed {
	HANDOVER_CLOSED_NONE = 0,	/* nothing there to detach, or nothing done */
	HANDOVER_CLOSED_DETACHED,	/* pcsc children made unusable in the root */
	HANDOVER_CLOSED_UNPLUGGED,	/* the root taken out of the handover */
};

/*
 * handover_fail_closed - what a cache that cannot be verified leaves the
 * next kernel (session reject, the stub's exception paths): handover_detach
 * on what ki mapped; if nothing could surely be detached (nothing mapped,
 * or libfdt refused an edit), unplug(ctx) takes the whole root out of the
 * handover (NULL: tools, or no root named). One console line for what was
 * done: HANDOVER_DETACHED_LINE or HANDOVER_UNPLUGGED_LINE.
 * Returns an enum handover_closed.
 */
int handover_fail_closed(const struct kho_info *ki, const struct physmem *pm,
			 int (*unplug)(void *ctx), void *ctx);

#endif
