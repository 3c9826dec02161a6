/* pcsc/wrap.h - the wrapped-image formats (stub + next kernel in one image) and the boot-protocol
 * offsets they rest on, defined once: the stubs, pcsctool wrap and the Python tests read them here. */
#ifndef PCSC_WRAP_H
#define PCSC_WRAP_H

/* -- arm64 Image (Documentation/arch/arm64/booting.rst) ------------------
 * A wrapped Image, as `pcsctool wrap --arch arm64 STUB.bin NEXT.Image`
 * writes it: [0, stub) the stub's .bin, header first; zeroes up to next_off
 * (the stub's image_size rounded up to 2 MiB); [next_off, +next_len) the next
 * kernel's Image, unchanged. The stub's image_size is patched to cover the
 * next kernel and its BSS; the descriptor at 0x40 names it. */
#define PCSC_ARM64_HDR_TEXT_OFFSET	0x08	/* Image header: text_offset */
#define PCSC_ARM64_HDR_IMAGE_SIZE	0x10	/* image_size */
#define PCSC_ARM64_HDR_FLAGS		0x18	/* flags (bit 0: big endian) */
#define PCSC_ARM64_HDR_MAGIC		0x38	/* "ARM\x64" */
#define PCSC_ARM64_HDR_LEN		0x40
#define PCSC_ARM64_IMAGE_MAGIC		0x644d5241	/* "ARM\x64" little-endian */
#define PCSC_ARM64_NEXT_DESC_OFF	0x40	/* struct pcsc_arm64_next_desc */
#define PCSC_ARM64_NEXT_DESC_LEN	32
#define PCSC_ARM64_NEXT_MAGIC		"PCSCNEXT"
#define PCSC_ARM64_NEXT_ALIGN		0x200000	/* 2 MiB: where the loader puts _head */

/* -- x86_64 ELF / 64-bit entry (Documentation/arch/x86/boot.rst) ----------
 * The stub is linked at PCSC_X86_LOAD_ADDR (QEMU's PVH load, the loader's
 * protected-mode address); its 64-bit entry is PCSC_X86_ENTRY64_OFF in, as
 * the bzImage 64-bit protocol has it; the descriptor at PCSC_X86_HDR_OFF
 * names a next bzImage embedded at or after the end of its BSS. */
#define PCSC_X86_LOAD_ADDR		0x100000
#define PCSC_X86_HDR_OFF		0x100	/* struct pcsc_x86_hdr */
#define PCSC_X86_ENTRY64_OFF		0x200
#define PCSC_X86_HDR_LEN		32
#define PCSC_X86_HDR_MAGIC		"PCSCX86H"
#define PCSC_X86_HDR_VERSION		1

/* Largest wrapped image pcsctool writes: what kexec and QEMU load comfortably. */
#define PCSC_WRAP_MAX			0x80000000

#ifndef __ASSEMBLY__
#include <stdint.h>

struct pcsc_arm64_next_desc {
	char magic[8];		/* PCSC_ARM64_NEXT_MAGIC */
	uint64_t offset;	/* from _head, PCSC_ARM64_NEXT_ALIGN aligned; 0 = none */
	uint64_t size;		/* the next Image file's length */
	uint64_t flags;		/* 0 */
};

struct pcsc_x86_hdr {
	char magic[8];		/* PCSC_X86_HDR_MAGIC */
	uint32_t version;	/* PCSC_X86_HDR_VERSION */
	uint32_t flags;
	uint64_t next_offset;	/* embedded bzImage from the image start; 0 = none */
	uint64_t next_size;
} __attribute__((packed));

_Static_assert(sizeof(struct pcsc_arm64_next_desc) == PCSC_ARM64_NEXT_DESC_LEN, "arm64 desc");
_Static_assert(sizeof(struct pcsc_x86_hdr) == PCSC_X86_HDR_LEN, "x86 hdr");
#endif

#endif
