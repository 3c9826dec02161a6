/* tests/kexec/pcsc-kexec.c - the kexec chain test's static loader (guest userland): loads a
 * wrapped stub with kexec_file_load(2), or with kexec_load(2) plus a pcsctool capture placed
 * where it was laid out and announced as KHO would (arm64 /chosen linux,kho-fdt; x86
 * SETUP_KEXEC_KHO setup_data), then kexecs. Never writes PCI config space or /dev/mem.
 *
 *   pcsc-kexec file IMAGE [--initrd F] [--append S]          kexec_file_load(2)
 *   pcsc-kexec load IMAGE [--initrd F] [--append S] [--cache DIR] [--dtb F]
 *                                                            kexec_load(2) + own purgatory
 *   pcsc-kexec exec                                          reboot(LINUX_REBOOT_CMD_KEXEC)
 *
 * Every step prints one "pcsc-kexec: ..." line; a failure prints the syscall and errno text
 * and exits 1 (the test greps these lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kexec.h>
#include <linux/reboot.h>

#define PAGE		0x1000ull
#define MIB2		0x200000ull
#define MAX_SEGS	16		/* KEXEC_SEGMENT_MAX */
#define MAX_BLOBS	8
#define SETUP_KEXEC_KHO	10		/* arch/x86/include/uapi/asm/setup_data.h */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void die(const char *what)
{
	printf("pcsc-kexec: %s: %s (errno %d)\n", what, strerror(errno), errno);
	fflush(stdout);
	exit(1);
}

static void fail(const char *msg)
{
	printf("pcsc-kexec: %s\n", msg);
	fflush(stdout);
	exit(1);
}

/* The whole file in a malloc'd buffer (guest userland: malloc is fine). */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("malloc");
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n <= 0)
			die(path);
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return buf;
}

struct blob {
	char file[600];
	uint64_t addr, size;
};

struct capture {
	uint64_t kho_fdt, kho_fdt_size;
	unsigned int n;
	struct blob b[MAX_BLOBS];
};

/* The manifest of `pcsctool capture` (docs/pcsctool.md): kho-fdt and blob lines. */
static void read_manifest(const char *dir, struct capture *c)
{
	char path[512], line[512], name[256];
	uint64_t a, s;
	FILE *f;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "kho-fdt %" SCNi64 " %" SCNi64, &a, &s) == 2) {
			c->kho_fdt = a;
			c->kho_fdt_size = s;
		} else if (sscanf(line, "blob %255s %" SCNi64 " %" SCNi64, name, &a, &s) == 3) {
			if (c->n == MAX_BLOBS)
				fail("manifest: too many blobs");
			snprintf(c->b[c->n].file, sizeof(c->b[c->n].file), "%s/%s", dir, name);
			c->b[c->n].addr = a;
			c->b[c->n].size = s;
			c->n++;
		}
	}
	fclose(f);
	if (!c->kho_fdt || !c->n)
		fail("manifest: no kho-fdt or no blob");
}

struct loader {
	struct kexec_segment seg[MAX_SEGS];
	unsigned int n;
};

/* One segment; kexec_load wants page-aligned destinations and sizes and no overlap. */
static void add_seg(struct loader *l, const void *buf, size_t len, uint64_t mem, uint64_t memsz,
		    const char *what)
{
	unsigned int i;

	if (l->n == MAX_SEGS)
		fail("too many segments");
	memsz = align_up(memsz > len ? memsz : len, PAGE);
	if (mem & (PAGE - 1))
		fail("segment not page aligned");
	for (i = 0; i < l->n; i++) {
		uint64_t s = (uint64_t)(uintptr_t)l->seg[i].mem, e = s + l->seg[i].memsz;

		if (mem < e && s < mem + memsz) {
			printf("pcsc-kexec: %s 0x%" PRIx64 "+0x%" PRIx64 " overlaps segment %u\n",
			       what, mem, memsz, i);
			fail("layout overlap");
		}
	}
	l->seg[l->n].buf = buf;
	l->seg[l->n].bufsz = len;
	l->seg[l->n].mem = (void *)(uintptr_t)mem;
	l->seg[l->n].memsz = memsz;
	l->n++;
	printf("pcsc-kexec: segment %s 0x%" PRIx64 "-0x%" PRIx64 "\n", what, mem, mem + memsz);
}

/* The first "System RAM" range of /proc/iomem: where the chain's pieces go. */
static uint64_t first_ram(void)
{
	char line[256];
	uint64_t s, e;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		die("/proc/iomem");
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &s, &e) == 2) {
			fclose(f);
			return s;
		}
	}
	fclose(f);
	fail("/proc/iomem: no System RAM");
	return 0;
}

static void add_capture(struct loader *l, const struct capture *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		size_t len;
		uint8_t *b = slurp(c->b[i].file, &len);

		add_seg(l, b, len, c->b[i].addr, c->b[i].size, "cache");
	}
}

/* ---------------------------------------------------------------- arm64 ---- */

/* arm64 purgatory: kexec_load enters it with MMU off and x0 undefined; the
 * boot protocol wants x0 = DTB, x1-x3 = 0 (booting.rst). Encodings checked
 * against aarch64-linux-gnu-objdump (see kexec.md). */
static void arm64_purgatory(uint8_t page[PAGE], uint64_t dtb, uint64_t entry)
{
	static const uint32_t code[] = {
		0x58000100,	/* ldr x0, .+0x20  (dtb) */
		0x58000131,	/* ldr x17, .+0x24 (entry) */
		0xaa1f03e1,	/* mov x1, xzr */
		0xaa1f03e2,	/* mov x2, xzr */
		0xaa1f03e3,	/* mov x3, xzr */
		0xd61f0220,	/* br x17 */
		0xd503201f,	/* nop */
		0xd503201f,	/* nop */
	};

	memset(page, 0, PAGE);
	memcpy(page, code, sizeof(code));
	memcpy(page + 0x20, &dtb, 8);
	memcpy(page + 0x28, &entry, 8);
}

static void fdt_try(int rc, const char *what)
{
	if (rc < 0) {
		printf("pcsc-kexec: dtb %s: %s\n", what, fdt_strerror(rc));
		fail("dtb edit failed");
	}
}

/* The boot DTB (/sys/firmware/fdt) with /chosen set for the next boot:
 * bootargs, the initrd, and the KHO FDT a KHO kernel would announce. */
static uint8_t *arm64_dtb(const char *src, const char *append, uint64_t is, uint64_t ie,
			  const struct capture *c, size_t *len)
{
	size_t slen;
	uint8_t *in = slurp(src, &slen), *out;
	size_t cap = slen + 0x10000;
	int chosen;

	out = calloc(1, cap);
	if (!out)
		die("malloc");
	fdt_try(fdt_open_into(in, out, (int)cap), "open");
	chosen = fdt_path_offset(out, "/chosen");
	if (chosen < 0)
		chosen = fdt_add_subnode(out, 0, "chosen");
	fdt_try(chosen, "chosen");
	fdt_try(fdt_setprop_string(out, chosen, "bootargs", append), "bootargs");
	fdt_delprop(out, chosen, "linux,initrd-start");
	fdt_delprop(out, chosen, "linux,initrd-end");
	if (ie > is) {
		fdt_try(fdt_setprop_u64(out, chosen, "linux,initrd-start", is), "initrd");
		fdt_try(fdt_setprop_u64(out, chosen, "linux,initrd-end", ie), "initrd");
	}
	fdt_delprop(out, chosen, "linux,kho-fdt");
	fdt_delprop(out, chosen, "linux,kho-scratch");
	if (c) {
		/* <addr size> in the root's cells, as Linux's early_init_dt_check_kho. */
		int ac = fdt_address_cells(out, 0), sc = fdt_size_cells(out, 0);
		uint32_t cells[4];
		int k = 0;

		if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
			fail("dtb: root #address-cells/#size-cells not 1 or 2");
		if (ac == 2)
			cells[k++] = cpu_to_fdt32((uint32_t)(c->kho_fdt >> 32));
		cells[k++] = cpu_to_fdt32((uint32_t)c->kho_fdt);
		if (sc == 2)
			cells[k++] = cpu_to_fdt32((uint32_t)(c->kho_fdt_size >> 32));
		cells[k++] = cpu_to_fdt32((uint32_t)c->kho_fdt_size);
		fdt_try(fdt_setprop(out, chosen, "linux,kho-fdt", cells, k * 4), "kho-fdt");
	}
	fdt_try(fdt_pack(out), "pack");
	*len = fdt_totalsize(out);
	free(in);
	return out;
}

/* arm64 layout from the first RAM range up: Image (2 MiB aligned, text_offset,
 * image_size reserved), initrd, DTB, purgatory; the capture where it was laid out. */
static uint64_t load_arm64(struct loader *l, const uint8_t *img, size_t ilen, const uint8_t *rd,
			   size_t rdlen, const char *append, const struct capture *c,
			   const char *dtb_src)
{
	static uint8_t purg[PAGE];
	uint64_t base = align_up(first_ram(), MIB2), toff, isize, at, is = 0, ie = 0, dtb;
	uint8_t *fdt;
	size_t flen;

	if (ilen < 64 || memcmp(img + 0x38, "ARM\x64", 4))
		fail("image: not an arm64 Image");
	memcpy(&toff, img + 0x08, 8);
	memcpy(&isize, img + 0x10, 8);
	if (!isize)
		isize = ilen;
	add_seg(l, img, ilen, base + toff, isize, "image");
	at = align_up(base + toff + isize, MIB2);
	if (rd) {
		is = at;
		ie = at + rdlen;
		add_seg(l, rd, rdlen, is, rdlen, "initrd");
		at = align_up(ie, MIB2);
	}
	dtb = at;
	fdt = arm64_dtb(dtb_src, append, is, ie, c, &flen);
	add_seg(l, fdt, flen, dtb, flen, "dtb");
	at = align_up(dtb + flen, PAGE);
	arm64_purgatory(purg, dtb, base + toff);
	add_seg(l, purg, PAGE, at, PAGE, "purgatory");
	return at;
}

/* ---------------------------------------------------------------- x86_64 --- */

/* x86 purgatory: relocate_kernel enters it in 64-bit mode on its identity
 * map with every register zero; the 64-bit boot protocol wants rsi =
 * boot_params and interrupts off (they are). */
static void x86_purgatory(uint8_t page[PAGE], uint64_t bp, uint64_t entry)
{
	memset(page, 0, PAGE);
	page[0] = 0x48;			/* movabs $bp, %rsi */
	page[1] = 0xbe;
	memcpy(page + 2, &bp, 8);
	page[10] = 0x48;		/* movabs $entry, %rax */
	page[11] = 0xb8;
	memcpy(page + 12, &entry, 8);
	page[20] = 0xff;		/* jmp *%rax */
	page[21] = 0xe0;
}

static int e820_type(const char *t)
{
	if (!strncmp(t, "System RAM", 10))
		return 1;
	if (!strncmp(t, "ACPI Tables", 11))
		return 3;
	if (!strncmp(t, "ACPI Non-volatile", 17))
		return 4;
	return 2;
}

/* The firmware's e820 as the first kernel got it (/sys/firmware/memmap). */
static unsigned int x86_e820(uint8_t *bp)
{
	char path[128], buf[64];
	unsigned int i, n = 0;

	for (i = 0; i < 128 && n < 128; i++) {
		uint64_t s, e;
		uint32_t t;
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/start", i);
		f = fopen(path, "r");
		if (!f)
			break;
		ok = fscanf(f, "%" SCNx64, &s) == 1;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/end", i);
		f = fopen(path, "r");
		ok = ok && f && fscanf(f, "%" SCNx64, &e) == 1;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/type", i);
		f = fopen(path, "r");
		ok = ok && f && fgets(buf, sizeof(buf), f);
		if (f)
			fclose(f);
		if (!ok || e < s)
			continue;
		t = (uint32_t)e820_type(buf);
		e = e - s + 1;
		memcpy(bp + 0x2d0 + 20 * n, &s, 8);
		memcpy(bp + 0x2d0 + 20 * n + 8, &e, 8);
		memcpy(bp + 0x2d0 + 20 * n + 16, &t, 4);
		n++;
	}
	if (!n)
		fail("/sys/firmware/memmap: empty");
	bp[0x1e8] = (uint8_t)n;
	return n;
}

/* x86 layout: the bzImage's protected-mode part at 16 MiB (2 MiB aligned,
 * init_size reserved), entered at +0x200 (64-bit entry); boot_params page
 * with the command line and SETUP_KEXEC_KHO after it; initrd; purgatory. */
static uint64_t load_x86(struct loader *l, const uint8_t *img, size_t ilen, const uint8_t *rd,
			 size_t rdlen, const char *append, const struct capture *c)
{
	static uint8_t purg[PAGE], bp[3 * PAGE];
	uint64_t load = 0x1000000, at, bpa, is = 0, setup_len;
	uint32_t init_size, u32;
	unsigned int hdr_end, sects;
	size_t alen = strlen(append) + 1;

	if (ilen < 0x300 || memcmp(img + 0x202, "HdrS", 4))
		fail("image: not a bzImage");
	sects = img[0x1f1] ? img[0x1f1] : 4;
	setup_len = (uint64_t)(sects + 1) * 512;
	memcpy(&init_size, img + 0x260, 4);
	if (setup_len >= ilen || !(img[0x236] & 1))
		fail("image: no 64-bit entry (XLF_KERNEL_64)");
	add_seg(l, img + setup_len, ilen - setup_len, load,
		init_size > ilen - setup_len ? init_size : ilen - setup_len, "image");
	at = align_up(load + (init_size > ilen ? init_size : ilen), MIB2);
	if (alen > PAGE - 16)
		fail("append: too long");
	bpa = at;
	memset(bp, 0, sizeof(bp));
	/* The setup header as the image has it, then the loader's fields. */
	hdr_end = 0x202 + img[0x201];
	if (hdr_end > 0x280 || hdr_end > ilen)
		hdr_end = 0x280;
	memcpy(bp + 0x1f1, img + 0x1f1, hdr_end - 0x1f1);
	x86_e820(bp);
	bp[0x210] = 0xff;			/* type_of_loader: undefined */
	bp[0x211] |= 0x01;			/* LOADED_HIGH */
	memcpy(bp + PAGE, append, alen);
	u32 = (uint32_t)(bpa + PAGE);
	memcpy(bp + 0x228, &u32, 4);		/* cmd_line_ptr */
	u32 = (uint32_t)((bpa + PAGE) >> 32);
	memcpy(bp + 0x0c8, &u32, 4);		/* ext_cmd_line_ptr */
	if (c) {
		uint64_t node = bpa + 2 * PAGE, v[4] = { c->kho_fdt, c->kho_fdt_size, 0, 0 };
		uint32_t typ = SETUP_KEXEC_KHO, len = sizeof(v);

		memcpy(bp + 0x250, &node, 8);	/* setup_data */
		memset(bp + 2 * PAGE, 0, 8);
		memcpy(bp + 2 * PAGE + 8, &typ, 4);
		memcpy(bp + 2 * PAGE + 12, &len, 4);
		memcpy(bp + 2 * PAGE + 16, v, sizeof(v));
	}
	at = bpa + sizeof(bp);
	if (rd) {
		is = align_up(at, MIB2);
		u32 = (uint32_t)is;
		memcpy(bp + 0x218, &u32, 4);
		u32 = (uint32_t)rdlen;
		memcpy(bp + 0x21c, &u32, 4);
		u32 = (uint32_t)(is >> 32);
		memcpy(bp + 0x0c0, &u32, 4);	/* ext_ramdisk_image */
		add_seg(l, rd, rdlen, is, rdlen, "initrd");
		at = align_up(is + rdlen, PAGE);
	}
	add_seg(l, bp, sizeof(bp), bpa, sizeof(bp), "boot_params");
	x86_purgatory(purg, bpa, load + 0x200);
	add_seg(l, purg, PAGE, at, PAGE, "purgatory");
	return at;
}

/* ------------------------------------------------------------------ main --- */

static int cmd_file(const char *image, const char *initrd, const char *append)
{
	int kfd = open(image, O_RDONLY), ifd = -1;
	unsigned long flags = 0;
	long rc;

	if (kfd < 0)
		die(image);
	if (initrd) {
		ifd = open(initrd, O_RDONLY);
		if (ifd < 0)
			die(initrd);
	} else {
		flags |= KEXEC_FILE_NO_INITRAMFS;
	}
	rc = syscall(SYS_kexec_file_load, kfd, ifd, strlen(append) + 1, append, flags);
	if (rc)
		die("kexec_file_load");
	printf("pcsc-kexec: kexec_file_load ok\n");
	return 0;
}

static int cmd_load(const char *image, const char *initrd, const char *append,
		    const char *cache, const char *dtb)
{
	static struct loader l;
	struct capture c;
	size_t ilen, rdlen = 0;
	uint8_t *img = slurp(image, &ilen), *rd = initrd ? slurp(initrd, &rdlen) : NULL;
	uint64_t entry;
	long rc;

	if (cache) {
		read_manifest(cache, &c);
		add_capture(&l, &c);
		printf("pcsc-kexec: kho-fdt 0x%" PRIx64 " size 0x%" PRIx64 "\n", c.kho_fdt,
		       c.kho_fdt_size);
	}
	if (ilen >= 64 && !memcmp(img + 0x38, "ARM\x64", 4))
		entry = load_arm64(&l, img, ilen, rd, rdlen, append, cache ? &c : NULL, dtb);
	else
		entry = load_x86(&l, img, ilen, rd, rdlen, append, cache ? &c : NULL);
	rc = syscall(SYS_kexec_load, entry, (unsigned long)l.n, l.seg,
		     (unsigned long)KEXEC_ARCH_DEFAULT);
	if (rc)
		die("kexec_load");
	printf("pcsc-kexec: kexec_load ok entry 0x%" PRIx64 " segments %u\n", entry, l.n);
	return 0;
}

static void usage(void)
{
	fail("usage: pcsc-kexec file|load IMAGE [--initrd F] [--append S] [--cache DIR] "
	     "[--dtb F] | exec");
}

int main(int argc, char **argv)
{
	const char *initrd = NULL, *append = "", *cache = NULL, *dtb = "/sys/firmware/fdt";
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "exec")) {
		sync();
		printf("pcsc-kexec: reboot(LINUX_REBOOT_CMD_KEXEC)\n");
		fflush(stdout);
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			LINUX_REBOOT_CMD_KEXEC, NULL);
		die("reboot(LINUX_REBOOT_CMD_KEXEC)");
	}
	if (argc < 3)
		usage();
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--initrd"))
			initrd = argv[++i];
		else if (!strcmp(argv[i], "--append"))
			append = argv[++i];
		else if (!strcmp(argv[i], "--cache"))
			cache = argv[++i];
		else if (!strcmp(argv[i], "--dtb"))
			dtb = argv[++i];
		else
			usage();
	}
	if (!strcmp(argv[1], "file"))
		return cmd_file(argv[2], initrd, append);
	if (!strcmp(argv[1], "load"))
		return cmd_load(argv[2], initrd, append, cache, dtb);
	usage();
	return 1;
}
