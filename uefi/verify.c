/* uefi/verify.c - the `verify` command: a cache packed by `pcsctool pack`,
 * loaded from the ESP at its own physical addresses, judged by
 * pcsc_session_run against the live machine, optionally written back.
 * It never writes PCI config space, nor memory outside pages it allocated. */
#include <libfdt.h>
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/parse.h>
#include <pcsc/log.h>
#include <pcsc/session.h>
#include "efi_app.h"

/* A packed cache of 65,536 entries with S = 4096 is ~530 MiB; refuse more. */
#define EFI_CACHE_MAX		(1024ull << 20)
#define EFI_SESSION_ENTRIES	65536u
#define EFI_SESSION_FUNCS	65536u	/* physical: VFs cost no arena */
#define EFI_SESSION_RANGES	8192u
#define PAGE			4096u

static EFI_GUID efi_loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;

/* The image's physical window [base, base+len) and where it really is.
 * Normally buf == base (pages allocated at the cache's own addresses); when
 * firmware holds those pages, reads of the window are redirected to buf. */
struct efi_image_map {
	uint64_t base, len;
	uint8_t *buf;
};

static void *efi_image_map_fn(void *ctx, uint64_t phys, uint64_t len)
{
	const struct efi_image_map *m = ctx;

	if (phys >= m->base && len <= m->len && phys - m->base <= m->len - len)
		return m->buf + (phys - m->base);
	return (void *)(uintptr_t)phys;
}

/* The FDT at page pg of the file, if its root is compatible with compat
 * (NULL: any KHO ABI of lib's table, which *abi then names). */
static const void *efi_fdt_at(const uint8_t *img, uint64_t len, uint64_t off,
			      const char *compat, const struct kho_abi **abi)
{
	const void *fdt = img + off;
	const char *c;
	int clen;

	if (len - off < sizeof(struct fdt_header) || fdt_magic(fdt) != FDT_MAGIC ||
	    fdt_totalsize(fdt) > len - off || fdt_check_header(fdt) != 0)
		return NULL;
	if (compat)
		return fdt_node_check_compatible(fdt, 0, compat) == 0 ? fdt : NULL;
	c = fdt_getprop(fdt, 0, "compatible", &clen);
	return c && !kho_abi_match(c, clen, abi) ? fdt : NULL;
}

/*
 * A packed image has no header of its own (it is a pmemsave-style dump):
 * find the base from its contents. The KHO root FDT (any ABI of kho_abis)
 * is a page of its own; its pcsc subtree property (native u64) is the physical address
 * of the "pcsc-v1" FDT, another page of the file: base = that address
 * minus its offset. Bounded by the file's page count.
 */
static int efi_find_layout(const uint8_t *img, uint64_t len, uint64_t *base,
			   uint64_t *kho_off)
{
	uint64_t pcsc_phys = 0, kho = UINT64_MAX, pcsc = UINT64_MAX;
	const struct kho_abi *abi = NULL;

	for (uint64_t off = 0; off < len; off += PAGE) {
		if (kho == UINT64_MAX && efi_fdt_at(img, len, off, NULL, &abi))
			kho = off;
		else if (pcsc == UINT64_MAX && efi_fdt_at(img, len, off, "pcsc-v1", NULL))
			pcsc = off;
	}
	if (kho == UINT64_MAX || pcsc == UINT64_MAX)
		return -PCSC_ENOTFOUND;
	{
		const void *fdt = img + kho;
		int node = fdt_subnode_offset(fdt, 0, "pcsc");
		int plen = 0;
		const uint8_t *p = node >= 0 ? fdt_getprop(fdt, node, abi->subtree_prop, &plen) : NULL;

		if (!p || plen != 8)
			return -PCSC_EPROPSIZE;
		for (int i = 7; i >= 0; i--)	/* native = little-endian on x64/aa64 */
			pcsc_phys = pcsc_phys << 8 | p[i];
	}
	if (pcsc_phys < pcsc)
		return -PCSC_ERANGE;
	*base = pcsc_phys - pcsc;
	*kho_off = kho;
	return 0;
}

/* Pages at exactly [base, base+len) when firmware has them free. */
static uint8_t *efi_alloc_at(uint64_t base, uint64_t len)
{
	EFI_PHYSICAL_ADDRESS a = base;

	if (base % PAGE)
		return NULL;
	if (efi_st->BootServices->AllocatePages(AllocateAddress, EfiLoaderData,
						(UINTN)((len + PAGE - 1) / PAGE), &a) != EFI_SUCCESS)
		return NULL;
	return (uint8_t *)(uintptr_t)a;
}

EFI_STATUS efi_cmd_verify(int argc, char **argv)
{
	static struct physmem pm, spm;
	static struct ecam e;
	static struct phys_ranges owned;
	static struct pcsc_session_out out;
	struct pcsc_session_in in = { 0 };
	struct efi_image_map map;
	struct pci_cfg cfg;
	const char *file = NULL, *out_file = NULL;
	bool strict = false, have_base = false, have_kho = false;
	uint64_t bitmap = 0, scratch = 0, scratch_size = 0;
	uint64_t base = 0, kho = 0, kho_off = 0, len = 0;
	void *raw = NULL;
	uint8_t *img;
	size_t arena_size = PCSC_SESSION_ARENA(EFI_SESSION_ENTRIES, EFI_SESSION_FUNCS,
					       EFI_SESSION_RANGES);
	void *arena;
	EFI_LOADED_IMAGE *li = NULL;
	EFI_STATUS st;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (efi_streq(argv[i], "--strict")) {
			strict = true;
		} else if (efi_streq(argv[i], "--out") && i + 1 < argc) {
			out_file = argv[++i];
		} else if (efi_streq(argv[i], "--base") && i + 1 < argc) {
			have_base = pcsc_parse_u64_str(argv[++i], &base);
			if (!have_base)
				goto usage;
		} else if (efi_streq(argv[i], "--kho-bitmap") && i + 1 < argc) {
			/* pcsc.kho_bitmap= of the stub: kho-v1 bitmap bytes */
			if (!pcsc_parse_u64_str(argv[++i], &bitmap) || (bitmap != 512 && bitmap != 4096))
				goto usage;
		} else if (efi_streq(argv[i], "--kho-scratch") && i + 1 < argc) {
			/* the KHO scratch array (/chosen linux,kho-scratch,
			 * SETUP_KEXEC_KHO), read through the image's map */
			if (!pcsc_parse_range(argv[++i], &scratch, &scratch_size))
				goto usage;
		} else if (efi_streq(argv[i], "--kho-fdt") && i + 1 < argc) {
			have_kho = pcsc_parse_u64_str(argv[++i], &kho);
			if (!have_kho)
				goto usage;
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			goto usage;
		}
	}
	if (!file || have_base != have_kho)
		goto usage;

	if (efi_discover(&pm, &e) < 0)
		return EFI_APP_NO_ECAM;
	st = efi_file_read(file, &raw, &len, EFI_CACHE_MAX);
	if (st != EFI_SUCCESS) {
		pcsc_log("pcsc: efi read %s: status 0x%llx", file, (unsigned long long)st);
		return EFI_APP_IO;
	}
	if (!have_base) {
		rc = efi_find_layout(raw, len, &base, &kho_off);
		if (rc < 0) {
			pcsc_log("pcsc: efi %s: no KHO root/pcsc-v1 FDT pair (%s): give --base and --kho-fdt",
				 file, pcsc_strerror(rc));
			efi_pages_free(raw, len);
			return EFI_APP_USAGE;
		}
		kho = base + kho_off;
	}
	pcsc_log("pcsc: efi cache %s base 0x%llx size 0x%llx kho-fdt 0x%llx", file,
		 (unsigned long long)base, (unsigned long long)len, (unsigned long long)kho);

	/* The cache's `da` values are physical addresses: put the image
	 * there when the pages are free, so RAM and the data agree as they
	 * would between kernels; else read it where it was loaded. */
	img = efi_alloc_at(base, len);
	if (img) {
		memcpy(img, raw, (size_t)len);
		efi_pages_free(raw, len);
		pcsc_log("pcsc: efi cache placed at its own address");
	} else {
		img = raw;
		pcsc_log("pcsc: efi cache pages busy: read at 0x%llx",
			 (unsigned long long)(uintptr_t)img);
	}
	map = (struct efi_image_map){ .base = base, .len = len, .buf = img };
	spm = pm;
	spm.map = efi_image_map_fn;
	spm.ctx = &map;

	/* Our own image may never be pointed into by an entry. */
	owned.n = 0;
	if (efi_st->BootServices->HandleProtocol(efi_image, &efi_loaded_image_guid,
						 (void **)&li) == EFI_SUCCESS && li->ImageSize)
		phys_ranges_add(&owned, (uint64_t)(uintptr_t)li->ImageBase, li->ImageSize);

	arena = efi_pages_alloc(arena_size);
	if (!arena) {
		efi_pages_free(img, len);
		return EFI_APP_NO_MEM;
	}
	ecam_cfg_init(&cfg, &e);
	in.cfg = &cfg;
	in.windows = e.win;
	in.nwindows = e.n;
	in.pm = &spm;
	in.owned = &owned;
	in.kho_fdt = kho;
	in.kho_bitmap = (uint32_t)bitmap;
	in.kho_scratch = scratch;
	in.kho_scratch_size = scratch_size;
	in.mode = strict ? PCSC_MODE_STRICT : PCSC_MODE_QUICK;
	in.arena = arena;
	in.arena_size = arena_size;
	pcsc_session_run(&in, &out);
	efi_pages_free(arena, arena_size);

	st = EFI_APP_OK;
	if (out.status < 0 || !out.found)
		st = EFI_APP_REJECTED;
	else if (out.counts.v[PCSC_STALE] || out.counts.v[PCSC_GONE] || out.counts.v[PCSC_BAD])
		st = EFI_APP_NOT_VALID;
	if (out_file) {
		EFI_STATUS ws = efi_file_write(out_file, img, len);

		pcsc_log("pcsc: efi wrote %s base 0x%llx kho-fdt 0x%llx: status 0x%llx", out_file,
			 (unsigned long long)base, (unsigned long long)kho,
			 (unsigned long long)ws);
		if (ws != EFI_SUCCESS && st == EFI_APP_OK)
			st = EFI_APP_IO;
	}
	efi_pages_free(img, len);
	return st;
usage:
	pcsc_log("pcsc: usage: verify FILE [--strict] [--kho-bitmap 512|4096] "
		 "[--kho-scratch ADDR:SIZE] [--out FILE] [--base ADDR --kho-fdt ADDR]");
	return EFI_APP_USAGE;
}
