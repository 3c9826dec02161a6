/* wrap.c - `pcsctool wrap --arch arm64`: the stub's Image and the next
 * kernel's Image as one arm64 Image (format: arch/arm64/next.h). Never
 * modifies the next kernel's bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pcsctool.h"
#include "wrap_x86.h"

#define IMG_HDR_LEN	0x40
#define IMG_MAGIC_OFF	0x38
#define NEXT_DESC_OFF	0x40
#define NEXT_DESC_LEN	32
#define SZ_2M		(2ull << 20)
#define WRAP_MAX	(1ull << 31)	/* what kexec and QEMU load comfortably */

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool is_arm64_image(const uint8_t *b, size_t len)
{
	/* booting.rst: magic "ARM\x64" at 0x38; flags bit 0 = big-endian. */
	return len >= IMG_HDR_LEN && !memcmp(b + IMG_MAGIC_OFF, "ARM\x64", 4) &&
	       !(ld64(b + 24) & 1);
}

int cmd_wrap(int argc, char **argv)
{
	const char *arch = NULL, *out = NULL, *pos[2] = { NULL, NULL };
	uint8_t *stub, *next, *img;
	size_t slen, nlen;
	uint64_t off, toff, isize, total;
	unsigned int np = 0;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--arch") && i + 1 < argc)
			arch = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] != '-' && np < 2)
			pos[np++] = argv[i];
		else {
			die_msg("wrap: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (arch && !strcmp(arch, "x86_64") && np == 2 && out)
		return wrap_x86_64(pos[0], pos[1], out);
	if (!arch || strcmp(arch, "arm64") || np != 2 || !out) {
		die_msg("wrap: usage: wrap --arch arm64 STUB.bin NEXT.Image -o OUT.Image | "
			"wrap --arch x86_64 STUB.elf NEXT.bzImage -o OUT.bzImage");
		return EXIT_USAGE;
	}
	stub = read_file(pos[0], &slen);
	if (!stub) {
		die_msg("%s: %s", pos[0], strerror(errno));
		return EXIT_IO;
	}
	next = read_file(pos[1], &nlen);
	if (!next) {
		die_msg("%s: %s", pos[1], strerror(errno));
		return EXIT_IO;
	}
	if (!is_arm64_image(stub, slen) || slen < NEXT_DESC_OFF + NEXT_DESC_LEN ||
	    memcmp(stub + NEXT_DESC_OFF, "PCSCNEXT", 8)) {
		die_msg("%s: not a pcsc-stub arm64 Image (magic, LE, PCSCNEXT descriptor)", pos[0]);
		return EXIT_DATA;
	}
	if (ld64(stub + NEXT_DESC_OFF + 8)) {
		die_msg("%s: already wraps a next kernel", pos[0]);
		return EXIT_DATA;
	}
	if (!is_arm64_image(next, nlen)) {
		die_msg("%s: not a little-endian arm64 Image (is it compressed?)", pos[1]);
		return EXIT_DATA;
	}
	/* The stub's footprint (image_size covers BSS and stack) rounded to
	 * 2 MiB keeps the embedded Image 2 MiB aligned when the loader puts
	 * the stub there. */
	isize = ld64(stub + 16);
	if (isize < slen || isize > WRAP_MAX) {
		die_msg("%s: image_size 0x%" PRIx64 " below its file size or absurd", pos[0], isize);
		return EXIT_DATA;
	}
	off = (isize + SZ_2M - 1) / SZ_2M * SZ_2M;
	toff = ld64(next + 8);
	isize = ld64(next + 16);
	if (toff > WRAP_MAX || isize > WRAP_MAX || nlen > WRAP_MAX) {
		die_msg("%s: text_offset/image_size absurd", pos[1]);
		return EXIT_DATA;
	}
	total = off + nlen;
	img = calloc(1, total);
	if (!img)
		return EXIT_IO;
	memcpy(img, stub, slen);
	memcpy(img + off, next, nlen);
	st64(img + 16, off + toff + (nlen > isize ? nlen : isize));
	st64(img + NEXT_DESC_OFF + 8, off);
	st64(img + NEXT_DESC_OFF + 16, nlen);
	st64(img + NEXT_DESC_OFF + 24, 0);
	f = fopen(out, "wb");
	if (!f || fwrite(img, 1, total, f) != total || fclose(f)) {
		die_msg("%s: %s", out, strerror(errno));
		return EXIT_IO;
	}
	printf("wrap: %s = %s (%zu bytes) + %s at 0x%" PRIx64 " (%zu bytes), image_size 0x%" PRIx64 "\n",
	       out, pos[0], slen, pos[1], off, nlen, ld64(img + 16));
	free(img);
	free(stub);
	free(next);
	return 0;
}
