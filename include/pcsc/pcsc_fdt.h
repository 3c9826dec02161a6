/* pcsc/pcsc_fdt.h - reader of the PCSC subtree FDT ("pcsc-v1") and the index of its entries.
 * It never dereferences `da`: entries are only checked and judged later (verify.h). */
#ifndef PCSC_PCSC_FDT_H
#define PCSC_PCSC_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/pci.h>

#define PCSC_KHO_NAME		"pcsc"
#define PCSC_COMPATIBLE		"pcsc-v1"
#define PCSC_PROP_DA		"da"
#define PCSC_PAGE_SIZE		4096u
#define PCSC_PAGE_ALIGN(x)	(((uint64_t)(x) + PCSC_PAGE_SIZE - 1) & ~(uint64_t)(PCSC_PAGE_SIZE - 1))
#define PCSC_NAME_LEN		19	/* "dev_0000_00_00_0" is 16, + slack for the check */
#define PCSC_MSG_MAX		96

/* struct pcsc_data { u8 cfg_space[S]; unsigned long cachable_bitmask[S/64];
 * unsigned long cached_bitmask[S/64]; } with S = 4096 or 256. */
#define PCSC_DATA_SIZE(S)	((uint64_t)(S) + 2u * ((uint64_t)(S) / 8u))
#define PCSC_DATA_CACHABLE(S)	((uint64_t)(S))
#define PCSC_DATA_CACHED(S)	((uint64_t)(S) + (uint64_t)(S) / 8u)
#define PCSC_DATA_ALLOC(S)	PCSC_PAGE_ALIGN(PCSC_DATA_SIZE(S))

/* Linux bitmaps are arrays of little-endian unsigned long on both arches,
 * so bit i lives in byte i/8, bit i%8. */
static inline int pcsc_bit_test(const uint8_t *map, unsigned int i)
{
	return (map[i >> 3] >> (i & 7)) & 1;
}

static inline void pcsc_bit_set(uint8_t *map, unsigned int i)
{
	map[i >> 3] = (uint8_t)(map[i >> 3] | (1u << (i & 7)));
}

static inline void pcsc_bit_clear(uint8_t *map, unsigned int i)
{
	map[i >> 3] = (uint8_t)(map[i >> 3] & ~(1u << (i & 7)));
}

enum pcsc_verdict {
	PCSC_VALID = 0,
	PCSC_STALE,
	PCSC_GONE,
	PCSC_BAD,
	PCSC_NEW,
	PCSC_UNJUDGED,		/* not yet judged (mode off) */
	PCSC_VERDICT_MAX
};

/* Why a verdict other than VALID/NEW was given. Text: pcsc_reason_str. */
enum pcsc_reason {
	PCSC_R_NONE = 0,
	PCSC_R_NAME,		/* malformed node name */
	PCSC_R_DUP,		/* the same BDF twice */
	PCSC_R_NO_DA,		/* no da property */
	PCSC_R_DA_SIZE,		/* da not exactly 8 bytes */
	PCSC_R_DA_ALIGN,	/* da not page aligned */
	PCSC_R_DA_NOTRAM,	/* pcsc_data not entirely in RAM */
	PCSC_R_DA_OWNED,	/* overlaps the stub's own memory (image, DTB...) */
	PCSC_R_DA_META,		/* overlaps the KHO/pcsc FDTs or the preserved map */
	PCSC_R_DA_ENTRY,	/* overlaps another entry's pcsc_data */
	PCSC_R_DA_NOTPRESERVED,	/* not preserved per the KHO map */
	PCSC_R_VENDOR,		/* vendor ID differs */
	PCSC_R_DEVICE,		/* device ID differs */
	PCSC_R_CLASS,		/* class code differs */
	PCSC_R_HDR,		/* header type differs */
	PCSC_R_ABSENT,		/* no function at that BDF */
	PCSC_R_VF_RANGE,	/* VF BDF not in its PF's enabled VF range */
	PCSC_R_IDS,		/* vendor/device bytes not cached: identity unknowable */
	PCSC_R_DA_SCRATCH,	/* inside a KHO scratch area: the next kernel allocates there */
	PCSC_R_MAX
};

/* One cache entry, 32 bytes. */
struct pcsc_entry {
	pci_sbdf_t sbdf;	/* from the name; malformed names sort last */
	int32_t node;		/* FDT offset of its node */
	uint64_t da;		/* value of da (native u64), 0 when absent */
	uint16_t vendor;	/* cached bytes 0..3 (all ones when not read) */
	uint16_t device;
	uint16_t cleared;	/* strict: cached bytes whose bit was cleared */
	uint8_t verdict;	/* enum pcsc_verdict */
	uint8_t reason;		/* enum pcsc_reason */
};	/* 24 bytes: with its 8-byte scratch word, 32 bytes of arena an entry */

struct pcsc_index {
	const void *fdt;
	struct pcsc_entry *e;	/* caller's arena, sorted by (sbdf, node) */
	uint32_t n, cap;
	uint32_t bad;		/* entries marked BAD while indexing */
	char msg[PCSC_MSG_MAX];
};

/* pcsc_verdict_str - "VALID" ... "NEW"; "?" outside the enum. */
const char *pcsc_verdict_str(unsigned int v);
/* pcsc_reason_str - short text for a reason ("" for NONE, "?" outside). */
const char *pcsc_reason_str(unsigned int r);
/* pcsc_fdt_strerror - fdt_strerror of libfdt 1.6.1, same texts, without its
 * table of pointers (a relocation each in the stub image). */
const char *pcsc_fdt_strerror(int err);

/*
 * pcsc_name_parse - strict parse of "dev_%04x_%02x_%02x_%x": exactly 16
 * characters, lower-case hex digits, slot <= 0x1f, function <= 7.
 * Returns 0 and *sbdf; -PCSC_ENAME otherwise (len is the name length, the
 * name need not be NUL terminated).
 */
int pcsc_name_parse(const char *name, size_t len, pci_sbdf_t *sbdf);

/* pcsc_name_format - write the canonical node name for sbdf into buf
 * (>= 17 bytes). Returns 16. */
int pcsc_name_format(pci_sbdf_t sbdf, char *buf);

/*
 * pcsc_fdt_check - validate the pcsc FDT in buf (size bytes available):
 * pcsc_blob_check with compatible "pcsc-v1".
 * Returns 0; -PCSC_EBADFDT (buf NULL or misaligned, header, size,
 * structure or overlapping blocks; msg says which); -PCSC_ECOMPAT
 * (compatible missing or different; msg names it).
 * msg (msglen bytes) may be NULL.
 */
int pcsc_fdt_check(const void *buf, size_t size, char *msg, size_t msglen);

/* pcsc_kho_child_name - would the next kernel's fdt_subnode_offset(root,
 * 0, "pcsc") take a child named name[0..len)? ("pcsc" or "pcsc@..."). */
bool pcsc_kho_child_name(const char *name, size_t len);

/* pcsc_printable - copy at most 32 printable bytes of the untrusted
 * string src[0..slen) into dst (dlen bytes, NUL-terminated) for a message:
 * other bytes and '"' become '?'; stops at a NUL. */
void pcsc_printable(char *dst, size_t dlen, const char *src, int slen);

/*
 * pcsc_blob_check - the shared FDT gate (also used by kho.c): buf 4-byte
 * aligned (libfdt reads the header as a struct), size >= header,
 * magic, totalsize <= size, fdt_check_header + fdt_check_full, the
 * memreserve, structure and strings blocks disjoint (an in-place edit of
 * one must not land in another), and root "compatible" a stringlist
 * containing compat_want (NULL: not checked: the caller judges it, as
 * kho_open does). msg (may be NULL) gets "<what> <problem>", e.g.
 * `KHO FDT unknown compatible "kho-v2"`, or "" on success.
 * Returns 0; -PCSC_EBADFDT (any check before the compatible);
 * -PCSC_ECOMPAT (compatible missing, empty or without compat_want).
 */
int pcsc_blob_check(const void *buf, size_t size, const char *what, const char *compat_want,
		    char *msg, size_t msglen);

/* pcsc_fdt_count - number of direct children of the root (bounded by the
 * checked blob). Returns the count or -PCSC_EBADFDT. */
int pcsc_fdt_count(const void *fdt);

/*
 * pcsc_index_build - one pass over the root's children of a checked fdt:
 * parse each name, read da, then sort by (sbdf, node offset) in O(n log n) and mark
 * duplicates. Entries with malformed names, no da, or da not 8 bytes, and
 * every copy of a duplicated BDF, get verdict BAD and their reason; the
 * rest are PCSC_UNJUDGED. vendor/device are all ones here.
 * Returns 0; -PCSC_ENOSPC (more children than cap; nothing indexed);
 * -PCSC_EBADFDT (structure error while walking). On either error idx->n
 * is 0 and idx->msg says why.
 */
int pcsc_index_build(const void *fdt, struct pcsc_entry *arena, uint32_t cap,
		     struct pcsc_index *idx);


#endif
