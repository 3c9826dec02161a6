/* wrap.c - `pcsctool wrap`: the stub and the next kernel as one image (arm64 here, format
 * include/pcsc/wrap.h; x86_64 in wrap_x86.c), and the pcsc.kho_bitmap option the running
 * kernel needs. Never modifies the next kernel's bytes, never embeds a host fact in the image. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <pcsc/wrap.h>
#include "pcsctool.h"
#include "wrap_x86.h"

/* The format's numbers: include/pcsc/wrap.h. */
#define IMG_HDR_LEN	PCSC_ARM64_HDR_LEN
#define IMG_MAGIC_OFF	PCSC_ARM64_HDR_MAGIC
#define NEXT_DESC_OFF	PCSC_ARM64_NEXT_DESC_OFF
#define NEXT_DESC_LEN	PCSC_ARM64_NEXT_DESC_LEN
#define SZ_2M		((uint64_t)PCSC_ARM64_NEXT_ALIGN)
#define WRAP_MAX	((uint64_t)PCSC_WRAP_MAX)

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

/* The arm64 wrapped Image of include/pcsc/wrap.h. */
static int wrap_arm64(struct wrap_job *j)
{
	const uint8_t *stub = j->stub, *next = j->next;
	size_t slen = j->slen, nlen = j->nlen;
	uint64_t off, toff, isize;
	uint8_t *img;

	if (!is_arm64_image(stub, slen) || slen < NEXT_DESC_OFF + NEXT_DESC_LEN ||
	    memcmp(stub + NEXT_DESC_OFF, PCSC_ARM64_NEXT_MAGIC, 8)) {
		die_msg("%s: not a pcsc-stub arm64 Image (magic, LE, PCSCNEXT descriptor)", j->stub_path);
		return EXIT_DATA;
	}
	if (ld64(stub + NEXT_DESC_OFF + 8)) {
		die_msg("%s: already wraps a next kernel", j->stub_path);
		return EXIT_DATA;
	}
	if (!is_arm64_image(next, nlen)) {
		die_msg("%s: not a little-endian arm64 Image (is it compressed?)", j->next_path);
		return EXIT_DATA;
	}
	/* The stub's footprint (image_size covers BSS and stack) rounded to
	 * 2 MiB keeps the embedded Image 2 MiB aligned when the loader puts
	 * the stub there. */
	isize = ld64(stub + 16);
	if (isize < slen || isize > WRAP_MAX) {
		die_msg("%s: image_size 0x%" PRIx64 " below its file size or absurd", j->stub_path, isize);
		return EXIT_DATA;
	}
	off = (isize + SZ_2M - 1) / SZ_2M * SZ_2M;
	toff = ld64(next + 8);
	isize = ld64(next + 16);
	if (toff > WRAP_MAX || isize > WRAP_MAX || nlen > WRAP_MAX) {
		die_msg("%s: text_offset/image_size absurd", j->next_path);
		return EXIT_DATA;
	}
	j->len = off + nlen;
	img = j->img = calloc(1, j->len);
	if (!img)
		return EXIT_IO;
	memcpy(img, stub, slen);
	memcpy(img + off, next, nlen);
	st64(img + 16, off + toff + (nlen > isize ? nlen : isize));
	st64(img + NEXT_DESC_OFF + 8, off);
	st64(img + NEXT_DESC_OFF + 16, nlen);
	st64(img + NEXT_DESC_OFF + 24, 0);
	snprintf(j->said, sizeof(j->said), "%s (%zu bytes) + %s at 0x%" PRIx64
		 " (%zu bytes), image_size 0x%" PRIx64, j->stub_path, slen, j->next_path, off, nlen,
		 ld64(img + 16));
	return 0;
}

/* Both inputs read, the arch's image built, written: one path for both. */
static int wrap_run(const char *arch, struct wrap_job *j, const char *out)
{
	FILE *f;
	int rc = EXIT_IO;

	j->stub = read_file(j->stub_path, &j->slen);
	if (!j->stub)
		die_msg("%s: %s", j->stub_path, strerror(errno));
	else if (!(j->next = read_file(j->next_path, &j->nlen)))
		die_msg("%s: %s", j->next_path, strerror(errno));
	else
		rc = !strcmp(arch, "x86_64") ? wrap_x86_64(j) : wrap_arm64(j);
	if (!rc) {
		f = fopen(out, "wb");
		if (!f || fwrite(j->img, 1, j->len, f) != j->len || fclose(f)) {
			die_msg("%s: %s", out, strerror(errno));
			rc = EXIT_IO;
		} else {
			printf("wrap: %s = %s\n", out, j->said);
		}
	}
	free(j->img);
	free(j->stub);
	free(j->next);
	return rc;
}

/*
 * The kho-v1 bitmap size is a fact of the kernel that runs kexec (it writes
 * the map), not of the image: wrap does not embed it, it prints the boot
 * option that says it, for `kexec --append` (docs/kexec.md).
 */
static int kho_bitmap_choice(const char *opt, const char *release, uint32_t *bitmap, char *why,
			     size_t len)
{
	struct utsname u;

	if (opt) {
		if (!strcmp(opt, "512") || !strcmp(opt, "4096"))
			*bitmap = (uint32_t)strtoul(opt, NULL, 10);
		else if (!strcmp(opt, "none"))
			*bitmap = 0;
		else {
			die_msg("wrap: --kho-bitmap must be 512, 4096 or none");
			return EXIT_USAGE;
		}
		snprintf(why, len, "set by --kho-bitmap %s", opt);
		return 0;
	}
	if (!release) {
		if (uname(&u)) {
			die_msg("wrap: uname: %s", strerror(errno));
			return EXIT_IO;
		}
		release = u.release;
	}
	*bitmap = release_kho_bitmap(release, why, len);
	return 0;
}

int cmd_wrap(int argc, char **argv)
{
	const char *arch = NULL, *out = NULL, *pos[2] = { NULL, NULL };
	const char *kho_opt = NULL, *release = NULL;
	unsigned int np = 0;
	uint32_t bitmap = 0;
	char why[160];
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--arch") && i + 1 < argc)
			arch = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--kho-bitmap") && i + 1 < argc)
			kho_opt = argv[++i];
		else if (!strcmp(argv[i], "--kernel-release") && i + 1 < argc)
			release = argv[++i];
		else if (argv[i][0] != '-' && np < 2)
			pos[np++] = argv[i];
		else {
			die_msg("wrap: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!arch || (strcmp(arch, "arm64") && strcmp(arch, "x86_64")) || np != 2 || !out) {
		die_msg("wrap: usage: wrap --arch arm64 STUB.bin NEXT.Image -o OUT.Image | "
			"wrap --arch x86_64 STUB.elf NEXT.bzImage -o OUT.bzImage "
			"[--kho-bitmap 512|4096|none] [--kernel-release R]");
		return EXIT_USAGE;
	}
	rc = kho_bitmap_choice(kho_opt, release, &bitmap, why, sizeof(why));
	if (rc)
		return rc;
	rc = wrap_run(arch, &(struct wrap_job){ .stub_path = pos[0], .next_path = pos[1] }, out);
	if (rc)
		return rc;
	if (bitmap) {
		printf("wrap: kho-bitmap %u: %s\n", bitmap, why);
		printf("wrap: append pcsc.kho_bitmap=%u\n", bitmap);
	} else {
		printf("wrap: kho-bitmap none: %s\n", why);
	}
	return 0;
}
