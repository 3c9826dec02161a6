/* arch/arm64/next.h - the wrapped-Image format (stub + next kernel in one
 * arm64 Image) and the jump into the next kernel. Never guesses a layout. */
#ifndef PCSC_ARCH_ARM64_NEXT_H
#define PCSC_ARCH_ARM64_NEXT_H

#include <stdint.h>

/*
 * Wrapped Image, as `pcsctool wrap --arch arm64 STUB.bin NEXT.Image` (and
 * tests/qemu/conftest.py wrap_arm64) write it:
 *
 *   [0, stub_len)             the stub's .bin, header first
 *   zeroes up to next_off     next_off = the stub's image_size (BSS, stack)
 *                             rounded up to 2 MiB
 *   [next_off, +next_len)     the next kernel's Image file, unchanged
 *
 * The stub's header fields are patched: image_size = next_off +
 * next text_offset + max(next_len, next image_size), so the loader reserves
 * room for the next kernel's BSS; the descriptor at file offset 0x40 gets
 * magic "PCSCNEXT", offset = next_off, size = next_len, flags = 0.
 * The loader puts _head on a 2 MiB boundary (text_offset 0), so the
 * embedded Image already sits 2 MiB aligned: it runs in place when its
 * text_offset is 0 and is moved up by text_offset otherwise.
 */
struct arm64_next_desc {
	char magic[8];		/* "PCSCNEXT" */
	uint64_t offset;	/* from _head; 0 = no next kernel */
	uint64_t size;		/* Image file length */
	uint64_t flags;		/* 0 */
};

#define ARM64_NEXT_ALIGN	(2ull << 20)
#define ARM64_IMAGE_MAGIC	0x644d5241u	/* "ARM\x64" at 0x38 */

/* The descriptor in head.S (file offset 0x40). */
extern struct arm64_next_desc arm64_next_desc;

/*
 * arm64_next_find - validate the descriptor and the embedded Image header:
 * magic, 2 MiB aligned offset, the Image inside the footprint the header
 * reserved, arm64 magic, little-endian. On success *entry is where the
 * next kernel must be entered (after arm64_next_place).
 * Returns 0; -PCSC_ENOTFOUND (no next kernel); -PCSC_EALIGN; -PCSC_ERANGE
 * (does not fit); -PCSC_ECOMPAT (not an arm64 LE Image).
 */
int arm64_next_find(uint64_t *entry, uint64_t *text_offset, uint64_t *footprint);

/* arm64_jump_next - head.S: MMU and D-cache off, I-cache invalidated,
 * x0 = dtb, x1-x3 = 0, branch to entry. */
void arm64_jump_next(uint64_t entry, uint64_t dtb, uint64_t el) __attribute__((noreturn));

#endif
