/* wrap_x86.h - `pcsctool wrap`: the job both arches' builders fill, and the x86_64 one
 * (stub ELF + next bzImage -> one bzImage) that wrap.c dispatches to. */
#ifndef PCSCTOOL_WRAP_X86_H
#define PCSCTOOL_WRAP_X86_H

#include <stddef.h>
#include <stdint.h>

/* wrap.c reads both files and writes img; a builder checks and builds. */
struct wrap_job {
	const char *stub_path, *next_path;
	uint8_t *stub, *next;	/* the files as read */
	size_t slen, nlen;
	uint8_t *img;		/* the builder's image (calloc), len bytes */
	size_t len;
	char said[320];		/* the builder's summary, printed after the write */
};

/*
 * wrap_x86_64 - write out = a bzImage kexec_file_load's bzImage64 loader
 * accepts: a 2-sector setup part ("HdrS" 2.15, boot_flag 0xAA55,
 * LOADED_HIGH, relocatable, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
 * init_size = stub memory rounded to 4 KiB + next bzImage, rounded to
 * 2 MiB, + the next kernel's init_size + 2 MiB), then the stub's load
 * segment (its 64-bit entry at +0x200) padded to its memory size, then the
 * next bzImage, named by the stub's descriptor at +0x100 (arch/x86/x86.h).
 * j->stub is build/x86_64/pcsc-stub.elf (one PT_LOAD). Returns 0 with
 * j->img, j->len and j->said set, or EXIT_IO / EXIT_DATA with a message
 * on stderr.
 */
int wrap_x86_64(struct wrap_job *j);

#endif
