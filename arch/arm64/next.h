/* arch/arm64/next.h - the wrapped-Image format (stub + next kernel in one
 * arm64 Image) and the jump into the next kernel. Never guesses a layout. */
#ifndef PCSC_ARCH_ARM64_NEXT_H
#define PCSC_ARCH_ARM64_NEXT_H

#include <stdint.h>
#include <pcsc/wrap.h>
#include "arm64.h"

/* The wrapped-Image format: include/pcsc/wrap.h. */
#define ARM64_NEXT_ALIGN	PCSC_ARM64_NEXT_ALIGN
#define ARM64_IMAGE_MAGIC	PCSC_ARM64_IMAGE_MAGIC

/* The descriptor in head.S (file offset 0x40). */
extern struct pcsc_arm64_next_desc arm64_next_desc ARM64_LOCAL;

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
