/* arch/x86/next.c - arch_boot_next for x86: enter the next kernel per the 64-bit boot protocol (place its protected-mode
 * part, merge its setup header into boot_params, jump with rsi = boot_params). Must never copy over the stub, boot_params or owned memory. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include "x86.h"

#define MIB		(1ull << 20)
/* Aligned slots tried after the embedded image before giving up. */
#define PLACE_TRIES	64

static uint8_t rd8(uint64_t a)
{
	return *(const volatile uint8_t *)(uintptr_t)a;
}

static uint64_t setup_len(uint64_t src)
{
	unsigned int sects = rd8(src + BZ_SETUP_SECTS);

	return (uint64_t)((sects ? sects : 4) + 1) * 512;	/* 0 means 4 (boot.rst) */
}

int x86_next_check(uint64_t src, uint64_t size, const char **why)
{
	if (size < BZ_INIT_SIZE + 4 || x86_map_identity(src, size, false)) {
		*why = "shorter than a setup header";
		return -PCSC_ETRUNC;
	}
	if (memcmp((const void *)(uintptr_t)(src + BZ_HDRS), "HdrS", 4)) {
		*why = "no HdrS setup header";
		return -PCSC_ENOTFOUND;
	}
	if (rd16(src + BZ_VERSION) < BZ_MIN_VERSION) {
		*why = "boot protocol older than 2.12";
		return -PCSC_ECOMPAT;
	}
	if (!(rd16(src + BZ_XLOADFLAGS) & XLF_KERNEL_64)) {
		*why = "no 64-bit entry (XLF_KERNEL_64)";
		return -PCSC_ECOMPAT;
	}
	if (setup_len(src) >= size) {
		*why = "no protected-mode part";
		return -PCSC_ETRUNC;
	}
	*why = "";
	return 0;
}

/* A destination for init_size bytes: the kernel's own pref_address when it
 * is not relocatable, else the first slot aligned to kernel_alignment after
 * the image we were handed, inside RAM, clear of everything we own (the
 * stub, boot_params, command line, initrd, setup_data, the bzImage itself).
 * resv_end, when non-zero, is the end of what the loader reserved for the
 * wrapped image (our load address + the wrapper's init_size): kexec put
 * nothing else there, while memory past it may hold the KHO FDTs and the
 * preserved pcsc_data we must not overwrite. */
static int place(const struct phys_ranges *ram, const struct phys_ranges *owned,
		 uint64_t src, uint64_t size, uint64_t resv_end, uint64_t *dest)
{
	uint64_t init = rd32(src + BZ_INIT_SIZE);
	uint64_t align = rd32(src + BZ_KERNEL_ALIGNMENT);
	/* Without XLF_CAN_BE_LOADED_ABOVE_4G the whole kernel stays below 4 GiB. */
	uint64_t limit = (rd16(src + BZ_XLOADFLAGS) & XLF_CAN_BE_LOADED_ABOVE_4G) ?
			 UINT64_MAX : (1ull << 32);
	uint64_t d;

	if (!init)
		return -PCSC_ERANGE;
	if (align < 2 * MIB || (align & (align - 1)))
		align = 2 * MIB;
	if (!rd8(src + BZ_RELOCATABLE)) {
		d = rd64(src + BZ_PREF_ADDRESS);
		if (phys_ranges_contains(ram, d, init) && !phys_ranges_overlaps(owned, d, init) &&
		    d + init <= limit && (d >= src + size || d + init <= src) &&
		    !x86_map_identity(d, init, false)) {
			*dest = d;
			return 0;
		}
		return -PCSC_EOVERLAP;
	}
	d = (src + size + align - 1) & ~(align - 1);
	if (resv_end && resv_end < limit)
		limit = resv_end;
	/* A slot must also be mapped: RAM the page-table pool could not hold
	 * (arch/x86/paging.c) is skipped, not jumped into. */
	for (unsigned int i = 0; i < PLACE_TRIES && d + init <= limit; i++, d += align)
		if (phys_ranges_contains(ram, d, init) && !phys_ranges_overlaps(owned, d, init) &&
		    !x86_map_identity(d, init, false)) {
			*dest = d;
			return 0;
		}
	return -PCSC_ENOSPC;
}

/* Place the protected-mode part of the next kernel per its setup header,
 * merge that header into boot_params (keeping the loader's fields, e820,
 * command line, initrd, setup_data) and jump to its 64-bit entry with
 * rsi = boot_params. Returns only on refusal (a negative -PCSC_E*, logged). */
static int next_enter(const struct phys_ranges *ram, const struct phys_ranges *owned,
		      uint64_t src, uint64_t size, uint64_t bp)
{
	/* Fields the loader (kexec, or the test) set in our boot_params; the
	 * header merge must not lose them. */
	uint8_t loader = rd8(bp + BZ_TYPE_OF_LOADER), ext_ver = rd8(bp + BZ_EXT_LOADER_VER);
	uint8_t ext_type = rd8(bp + BZ_EXT_LOADER_TYPE), flags = rd8(bp + BZ_LOADFLAGS);
	uint32_t rd_image = rd32(bp + BZ_RAMDISK_IMAGE), rd_size = rd32(bp + BZ_RAMDISK_SIZE);
	uint32_t cmdline = rd32(bp + BZ_CMD_LINE_PTR), subarch = rd32(bp + BZ_HW_SUBARCH);
	uint64_t subarch_data = rd64(bp + BZ_HW_SUBARCH_DATA), sd = rd64(bp + BZ_SETUP_DATA);
	uint64_t slen = setup_len(src), dest = 0, hdr_end, resv_end = 0;
	/* Our own init_size as the loader saw it (kexec's bzImage64 loader
	 * copies the wrapper's header into boot_params, and reserved exactly
	 * [load, load + init_size) for us). Read before the merge below. */
	uint64_t resv = rd32(bp + BZ_INIT_SIZE);
	const char *why;
	int rc = x86_next_check(src, size, &why);

	if (rc) {
		pcsc_log("pcsc: next kernel at 0x%llx unusable: %s", (unsigned long long)src, why);
		return rc;
	}
	/* Only a reservation that covers the embedded kernel is ours (a test
	 * boot_params may carry none). */
	if (resv && (uint64_t)(uintptr_t)__image_start + resv >= src + size)
		resv_end = (uint64_t)(uintptr_t)__image_start + resv;
	rc = place(ram, owned, src, size, resv_end, &dest);
	if (rc) {
		pcsc_log("pcsc: next kernel: no room for init_size 0x%x (%s)",
			 rd32(src + BZ_INIT_SIZE), pcsc_strerror(rc));
		return rc;
	}
	/* The setup header, as kexec's bzImage64 loader copies it: from 0x1f1
	 * to the end the jump at 0x200 announces. */
	hdr_end = BZ_HDRS + rd8(src + BZ_JUMP + 1);
	if (hdr_end > BP_SIZE || hdr_end < BZ_INIT_SIZE + 4)
		hdr_end = BZ_INIT_SIZE + 4;
	memcpy((void *)(uintptr_t)(bp + BZ_SETUP_SECTS), (const void *)(uintptr_t)(src + BZ_SETUP_SECTS),
	       hdr_end - BZ_SETUP_SECTS);
	*(volatile uint8_t *)(uintptr_t)(bp + BZ_TYPE_OF_LOADER) = loader;
	*(volatile uint8_t *)(uintptr_t)(bp + BZ_EXT_LOADER_VER) = ext_ver;
	*(volatile uint8_t *)(uintptr_t)(bp + BZ_EXT_LOADER_TYPE) = ext_type;
	*(volatile uint8_t *)(uintptr_t)(bp + BZ_LOADFLAGS) =
		(uint8_t)((rd8(src + BZ_LOADFLAGS) & ~KEEP_SEGMENTS) | LOADED_HIGH | (flags & 0x80));
	memcpy((void *)(uintptr_t)(bp + BZ_RAMDISK_IMAGE), &rd_image, 4);
	memcpy((void *)(uintptr_t)(bp + BZ_RAMDISK_SIZE), &rd_size, 4);
	memcpy((void *)(uintptr_t)(bp + BZ_CMD_LINE_PTR), &cmdline, 4);
	memcpy((void *)(uintptr_t)(bp + BZ_HW_SUBARCH), &subarch, 4);
	memcpy((void *)(uintptr_t)(bp + BZ_HW_SUBARCH_DATA), &subarch_data, 8);
	memcpy((void *)(uintptr_t)(bp + BZ_SETUP_DATA), &sd, 8);
	{
		uint32_t c32 = (uint32_t)dest;

		memcpy((void *)(uintptr_t)(bp + BZ_CODE32_START), &c32, 4);
	}
	/* memmove: the destination may overlap the source's tail. */
	memmove((void *)(uintptr_t)dest, (const void *)(uintptr_t)(src + slen), size - slen);
	pcsc_log("pcsc: next kernel protocol %u.%02u at 0x%llx init_size 0x%x: jump 0x%llx rsi=0x%llx",
		 rd16(src + BZ_VERSION) >> 8, rd16(src + BZ_VERSION) & 0xff,
		 (unsigned long long)dest, rd32(src + BZ_INIT_SIZE),
		 (unsigned long long)(dest + X86_ENTRY64_OFF), (unsigned long long)bp);
	x86_paging_handover();
	x86_jump64(dest + X86_ENTRY64_OFF, bp);
}

__attribute__((noreturn)) void arch_boot_next(struct stub_platform *p)
{
	const struct x86_boot *b = p->arch;

	if (!p->has_next) {
		pcsc_log("pcsc: no next kernel");
		arch_poweroff(X86_EXIT_OK);
	}
	(void)next_enter(&p->mem.ram, &p->owned, b->next_src, b->next_size, b->boot_params);
	arch_poweroff(X86_EXIT_NEXT);		/* refused, and said why */
}
