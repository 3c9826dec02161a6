/* wrap_x86.c - `pcsctool wrap --arch x86_64`: the stub (ELF) and the next kernel (bzImage) as one bzImage
 * (format: docs/x86-boot.md). Never modifies the next kernel's bytes. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/wrap.h>
#include "pcsctool.h"
#include "wrap_x86.h"

#define SETUP_LEN	1024u		/* boot sector + setup_sects = 1 */
#define PM_ALIGN	0x1000u		/* the embedded bzImage starts on a page */
#define KALIGN		0x200000u	/* kernel_alignment we ask of the loader */
#define STUB_LOAD	PCSC_X86_LOAD_ADDR	/* include/pcsc/wrap.h */
#define HDR_OFF		PCSC_X86_HDR_OFF	/* struct pcsc_x86_hdr */
#define WRAP_MAX	((uint64_t)PCSC_WRAP_MAX)

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The stub's single PT_LOAD: file bytes and memory size (BSS included). */
static int stub_segment(const uint8_t *b, size_t len, const uint8_t **seg, uint64_t *filesz,
			uint64_t *memsz)
{
	Elf64_Ehdr eh;
	unsigned int loads = 0;

	if (len < sizeof(eh))
		return -1;
	memcpy(&eh, b, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phoff > len || eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return -1;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, b + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (loads++ || ph.p_paddr != STUB_LOAD || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset || ph.p_memsz < ph.p_filesz ||
		    ph.p_memsz > WRAP_MAX)
			return -1;
		*seg = b + ph.p_offset;
		*filesz = ph.p_filesz;
		*memsz = ph.p_memsz;
	}
	return loads == 1 ? 0 : -1;
}

int wrap_x86_64(struct wrap_job *j)
{
	const uint8_t *seg = NULL, *stub = j->stub, *next = j->next;
	uint64_t filesz = 0, memsz = 0, off, pmlen, init, nalign;
	size_t slen = j->slen, nlen = j->nlen;
	uint8_t *img;

	if (stub_segment(stub, slen, &seg, &filesz, &memsz) || filesz < HDR_OFF + PCSC_X86_HDR_LEN ||
	    memcmp(seg + HDR_OFF, PCSC_X86_HDR_MAGIC, 8)) {
		die_msg("%s: not the x86_64 pcsc-stub ELF (one PT_LOAD at 1 MiB, PCSCX86H at +0x100)",
			j->stub_path);
		return EXIT_DATA;
	}
	/* boot.rst: "HdrS" at 0x202, 64-bit entry (XLF_KERNEL_64), 2.12+. */
	if (nlen < 0x264 || memcmp(next + 0x202, "HdrS", 4) || (next[0x206] | next[0x207] << 8) < 0x020c ||
	    !(next[0x236] & 1) || nlen > WRAP_MAX) {
		die_msg("%s: not a 64-bit bzImage (HdrS, protocol >= 2.12, XLF_KERNEL_64)", j->next_path);
		return EXIT_DATA;
	}
	off = (memsz + PM_ALIGN - 1) / PM_ALIGN * PM_ALIGN;
	pmlen = off + nlen;
	/* The stub places the next kernel at the first slot aligned to ITS
	 * kernel_alignment after the embedded image, and never outside what
	 * the loader reserved for us (init_size): leave room for that
	 * alignment, not just ours. */
	nalign = ld32(next + 0x230);
	if (nalign < KALIGN || (nalign & (nalign - 1)))
		nalign = KALIGN;
	init = (pmlen + KALIGN - 1) / KALIGN * KALIGN + ld32(next + 0x260) + nalign;
	if (init > UINT32_MAX) {
		die_msg("%s: init_size would not fit 32 bits", j->next_path);
		return EXIT_DATA;
	}
	j->len = SETUP_LEN + pmlen;
	img = j->img = calloc(1, j->len);
	if (!img)
		return EXIT_IO;
	/* Setup part: only the header; kexec_file never runs real-mode code. */
	img[0x1f1] = 1;					/* setup_sects */
	st32(img + 0x1f4, (uint32_t)((pmlen + 15) / 16));	/* syssize */
	st16(img + 0x1fe, 0xaa55);			/* boot_flag */
	img[0x200] = 0xeb;				/* jmp: header ends at 0x26c */
	img[0x201] = 0x6c - 0x02;
	memcpy(img + 0x202, "HdrS", 4);
	st16(img + 0x206, 0x020f);			/* protocol 2.15 */
	img[0x211] = 0x01;				/* LOADED_HIGH */
	st32(img + 0x230, KALIGN);			/* kernel_alignment */
	img[0x234] = 1;					/* relocatable_kernel */
	img[0x235] = 21;				/* min_alignment: 2 MiB */
	/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G, and XLF_5LEVEL (0x20) when
	 * the embedded kernel says it copes with 5-level paging: a 5-level
	 * old kernel's kexec_file_load refuses an image without it. */
	st16(img + 0x236, (uint16_t)(0x0003 | (next[0x236] & 0x20)));
	st32(img + 0x238, 2047);			/* cmdline_size */
	st64(img + 0x258, 0x1000000);			/* pref_address */
	st32(img + 0x260, (uint32_t)init);		/* init_size */
	/* Protected-mode part: the stub's segment, BSS room, the bzImage. */
	memcpy(img + SETUP_LEN, seg, filesz);
	memcpy(img + SETUP_LEN + off, next, nlen);
	st64(img + SETUP_LEN + HDR_OFF + 16, off);	/* next_offset */
	st64(img + SETUP_LEN + HDR_OFF + 24, nlen);	/* next_size */
	snprintf(j->said, sizeof(j->said), "setup 0x%x + %s (0x%" PRIx64 " bytes, 0x%" PRIx64
		 " in memory) + %s at +0x%" PRIx64 " (%zu bytes), init_size 0x%" PRIx64, SETUP_LEN,
		 j->stub_path, filesz, memsz, j->next_path, off, nlen, init);
	return 0;
}
