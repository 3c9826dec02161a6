/* arch/arm64/platform.c - arch_platform_discover and arch_boot_next for the
 * arm64 boot protocol (x0 = DTB). Reads the DTB only; never trusts a cell. */
#include <libfdt.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/arch.h>
#include <pcsc/bootopt.h>
#include <pcsc/dt_platform.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include "arm64.h"
#include "next.h"

#define IMAGE_HDR_TEXT_OFFSET	PCSC_ARM64_HDR_TEXT_OFFSET
#define IMAGE_HDR_IMAGE_SIZE	PCSC_ARM64_HDR_IMAGE_SIZE
#define IMAGE_HDR_FLAGS		PCSC_ARM64_HDR_FLAGS
#define IMAGE_HDR_MAGIC		PCSC_ARM64_HDR_MAGIC
#define IMAGE_HDR_LEN		PCSC_ARM64_HDR_LEN

static uint64_t rd64(uint64_t addr)
{
	return *(const volatile uint64_t *)(uintptr_t)addr;
}

/* What our own header says the loader reserved (the wrapper patches it). */
static uint64_t own_footprint(void)
{
	return rd64((uint64_t)(uintptr_t)_head + IMAGE_HDR_IMAGE_SIZE);
}

int arm64_next_find(uint64_t *entry, uint64_t *text_offset, uint64_t *footprint)
{
	uint64_t head = (uint64_t)(uintptr_t)_head, own = (uint64_t)(uintptr_t)_end - head;
	uint64_t room = own_footprint(), off = arm64_next_desc.offset, len = arm64_next_desc.size;
	uint64_t img, toff, isize, need;

	if (memcmp(arm64_next_desc.magic, PCSC_ARM64_NEXT_MAGIC, 8) || !off)
		return -PCSC_ENOTFOUND;
	if (off & (ARM64_NEXT_ALIGN - 1))
		return -PCSC_EALIGN;
	/* The Image must lie past our BSS and stack, inside what the loader
	 * reserved, and be at least a header long. */
	if (off < own || len < IMAGE_HDR_LEN || off > room || len > room - off)
		return -PCSC_ERANGE;
	img = head + off;
	if ((uint32_t)rd64(img + IMAGE_HDR_MAGIC) != ARM64_IMAGE_MAGIC)
		return -PCSC_ECOMPAT;
	if (rd64(img + IMAGE_HDR_FLAGS) & 1)	/* big-endian kernel */
		return -PCSC_ECOMPAT;
	toff = rd64(img + IMAGE_HDR_TEXT_OFFSET);
	isize = rd64(img + IMAGE_HDR_IMAGE_SIZE);
	/* image_size 0: a pre-3.17 kernel that does not say how much it needs. */
	need = toff + (isize > len ? isize : len);
	if (!isize || toff >= ARM64_NEXT_ALIGN || need > room - off)
		return -PCSC_ERANGE;
	*entry = img + toff;
	*text_offset = toff;
	*footprint = off + need;
	return 0;
}

/* Clean and invalidate [addr, addr+len) to PoC: the next kernel starts with
 * caches off, and no dirty line of ours may later land on its memory. */
static void dcache_civac(uint64_t addr, uint64_t len)
{
	uint64_t ctr, line, end = addr + len;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ull << ((ctr >> 16) & 0xf);
	for (addr &= ~(line - 1); addr < end; addr += line)
		__asm__ volatile("dc civac, %0" : : "r"(addr) : "memory");
	__asm__ volatile("dsb sy" : : : "memory");
}

/* The stub runs on a 1:1 map: a physical address is the pointer. */
static void *map_identity(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	(void)len;
	return (void *)(uintptr_t)phys;
}

/* pcsc.* options from /chosen/bootargs (lib/bootopt.c has the grammar). */
static void options_from_bootargs(const void *fdt, struct stub_platform *p)
{
	struct pcsc_bootopts o;
	const char *args = NULL;
	char warn[64];
	int chosen, len = 0;

	chosen = fdt_path_offset(fdt, "/chosen");
	if (chosen >= 0)
		args = fdt_getprop(fdt, chosen, "bootargs", &len);
	if (pcsc_bootopts_parse(args, args && len > 0 ? (size_t)len : 0, &o, warn, sizeof(warn)))
		pcsc_log("pcsc: %s", warn);
	p->mode = o.mode;
	p->kho_bitmap = o.kho_bitmap;
	p->report = o.report;
}

/* /chosen linux,initrd-start/-end: 4 or 8 byte big-endian values, as
 * Linux's early_init_dt_check_for_initrd reads them. */
static int initrd_range(const void *fdt, uint64_t *start, uint64_t *end)
{
	const void *ps, *pe;
	int chosen, ls, le;

	chosen = fdt_path_offset(fdt, "/chosen");
	if (chosen < 0)
		return -PCSC_ENOTFOUND;
	ps = fdt_getprop(fdt, chosen, "linux,initrd-start", &ls);
	pe = fdt_getprop(fdt, chosen, "linux,initrd-end", &le);
	if (!ps || !pe)
		return -PCSC_ENOTFOUND;
	if ((ls != 4 && ls != 8) || (le != 4 && le != 8))
		return -PCSC_EPROPSIZE;
	if (dt_cells_read(ps, ls / 4, start) || dt_cells_read(pe, le / 4, end))
		return -PCSC_ERANGE;
	return *end > *start ? 0 : -PCSC_ERANGE;
}

static void scan_report(const char *what, int rc, const struct dt_scan_stats *st)
{
	if (rc)
		pcsc_log("pcsc: dt %s: %s (found=%u used=%u skipped=%u)", what,
			 pcsc_strerror(rc), st->found, st->used, st->skipped);
}

int arm64_ram_from_dt(const void *fdt, struct phys_ranges *ram, struct dt_scan_stats *st)
{
	struct dt_chosen ch;
	struct physmem boot;
	int rc;

	rc = dt_mem_ram(fdt, ram, st);
	if (ram->n || dt_chosen_parse(fdt, &ch) || !ch.has_uefi_mmap)
		return rc;
	/*
	 * ACPI arm64: the EFI stub removed /memory and left the UEFI memory
	 * map. Read it through a RAM view holding only the map itself; keep
	 * usable RAM and the firmware-owned ranges (the system table and
	 * ACPI tables live there), write-back only.
	 */
	memset(&boot, 0, sizeof(boot));
	boot.map = map_identity;
	if (phys_ranges_add(&boot.ram, ch.uefi_mmap_start, ch.uefi_mmap_size))
		return -PCSC_ERANGE;
	return efi_mmap_ranges(&boot, ch.uefi_mmap_start, ch.uefi_mmap_size,
			       ch.uefi_mmap_desc_size, ch.uefi_mmap_desc_ver,
			       EFI_MMAP_USABLE | EFI_MMAP_FIRMWARE, true, ram, NULL);
}

struct arm64_mem arm64_mem;

void arm64_mem_discover(const void *fdt, struct arm64_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->ram_rc = arm64_ram_from_dt(fdt, &m->ram, &m->ram_st);
	m->nomap_rc = dt_mem_nomap(fdt, &m->nomap, NULL);
}

/* No pci-host-ecam-generic node: ACPI arm64, ECAM from MCFG found through
 * the EFI system table /chosen names (the same lib/ code as x86). */
static void ecam_from_acpi(struct stub_platform *p, const struct dt_chosen *ch)
{
	uint64_t rsdp;
	int rc;

	if (!ch->has_uefi) {
		pcsc_log("%s", "pcsc: no pci-host-ecam-generic node and no UEFI system table");
		return;
	}
	rc = efi_find_rsdp(&p->mem, ch->uefi_systab, &rsdp);
	if (rc) {
		pcsc_log("pcsc: acpi: no RSDP via EFI system table 0x%llx: %s",
			 (unsigned long long)ch->uefi_systab, pcsc_strerror(rc));
		return;
	}
	rc = acpi_ecam_from_rsdp(&p->mem, rsdp, &p->ecam);
	pcsc_log("pcsc: acpi: rsdp 0x%llx mcfg windows=%u%s%s", (unsigned long long)rsdp,
		 p->ecam.n, rc ? " error: " : "", rc ? pcsc_strerror(rc) : "");
}

void arch_platform_discover(struct stub_platform *p)
{
	const void *fdt = p->arch;
	struct dt_scan_stats st;
	struct dt_chosen ch;
	uint64_t image = (uint64_t)(uintptr_t)_head;
	int rc;

	memset(&p->mem, 0, sizeof(p->mem));
	p->mem.map = map_identity;
	ecam_init(&p->ecam, arch_mmio_read32);
	p->use_legacy = false;
	memset(&p->owned, 0, sizeof(p->owned));
	p->kho_fdt = p->kho_fdt_size = p->kho_scratch = p->kho_scratch_size = 0;
	p->has_next = false;

	/* RAM as arm64_main found it, less what its map left out (no-map,
	 * memreserve, what the table pool could not reach): physmem refuses
	 * everything else, so no entry or KHO block is read through a hole. */
	scan_report("memory", arm64_mem.ram_rc, &arm64_mem.ram_st);
	arm64_mmu_report(&arm64_mem);
	p->mem.ram = arm64_mem.mapped;

	memset(&st, 0, sizeof(st));
	rc = dt_ecam_scan(fdt, &p->ecam, &st);
	scan_report("ecam", rc, &st);

	/* Firmware carve-outs are as off-limits to a cache entry as the stub. */
	memset(&st, 0, sizeof(st));
	rc = dt_mem_reserved(fdt, &p->owned, &st);
	scan_report("reserved-memory", rc, &st);
	phys_ranges_add(&p->owned, image, (uint64_t)(uintptr_t)_end - image);
	phys_ranges_add(&p->owned, (uint64_t)(uintptr_t)fdt, fdt_totalsize(fdt));
	{
		uint64_t is, ie;

		rc = initrd_range(fdt, &is, &ie);
		if (!rc) {
			/* The next kernel unpacks it: no cache entry may live there. */
			phys_ranges_add(&p->owned, is, ie - is);
			pcsc_log("pcsc: initrd 0x%llx-0x%llx", (unsigned long long)is,
				 (unsigned long long)ie);
		} else if (rc != -PCSC_ENOTFOUND) {
			pcsc_log("pcsc: dt chosen: initrd: %s", pcsc_strerror(rc));
		}
	}

	memset(&ch, 0, sizeof(ch));
	rc = dt_chosen_parse(fdt, &ch);
	/* The KHO root first: an exception from here on detaches or unplugs
	 * it (stub_kho_last_resort), never leaves it unjudged. */
	if (!rc && ch.has_kho) {
		p->kho_fdt = ch.kho_fdt;
		p->kho_fdt_size = ch.kho_fdt_size;
	}
	if (!p->ecam.n)
		ecam_from_acpi(p, &ch);
	/* Every window Device-nGnRE in the live map before the walk reads it;
	 * one the pool cannot take, or that claims RAM, is dropped unread. */
	ecam_map_windows(&p->ecam, arm64_mmu_map_device);
	if (rc && rc != -PCSC_ENOTFOUND)
		pcsc_log("pcsc: dt chosen: %s", pcsc_strerror(rc));
	if (!rc && ch.err)
		pcsc_log("pcsc: dt chosen: malformed property: %s", pcsc_strerror(ch.err));
	/* A linux,kho-fdt we cannot read (cells Linux would still take the
	 * low 64 bits of): its root cannot be verified, so it goes. */
	if (!rc && ch.kho_malformed)
		pcsc_log_at(PCSC_LOG_RESULT, "pcsc: dt chosen linux,kho-fdt malformed: %s",
			    arch_kho_unplug(p) ? "left" : "unplugged");
	if (!rc && ch.has_kho_scratch) {
		p->kho_scratch = ch.kho_scratch;
		p->kho_scratch_size = ch.kho_scratch_size;
	}
	options_from_bootargs(fdt, p);

	{
		uint64_t entry, toff, foot;

		rc = arm64_next_find(&entry, &toff, &foot);
		p->has_next = rc == 0;
		if (p->has_next) {
			/* A cache entry pointing into the next kernel is BAD. */
			phys_ranges_add(&p->owned, image, foot);
			pcsc_log("pcsc: next kernel at 0x%llx (text_offset 0x%llx)",
				 (unsigned long long)entry, (unsigned long long)toff);
		} else if (rc != -PCSC_ENOTFOUND) {
			pcsc_log("pcsc: embedded next kernel unusable: %s", pcsc_strerror(rc));
		}
	}
}

int arch_kho_unplug(struct stub_platform *p)
{
	void *fdt = p->arch;
	int node = dt_chosen_node(fdt);
	uint32_t n = 0, bound = fdt_size_dt_struct(fdt) / 12;	/* a property: >= 12 bytes */

	/* The next kernel reads the scratch pair only with the root
	 * (early_init_dt_check_kho): both go, every copy (a NOP lays bare
	 * the next one of the same name). The DTB is ours (mapped
	 * read-write) and cleaned to PoC before the jump. */
	if (node < 0)
		return -PCSC_ENOTFOUND;
	while (n < bound && !fdt_nop_property(fdt, node, "linux,kho-fdt"))
		n++;
	for (uint32_t i = 0; i < bound && !fdt_nop_property(fdt, node, "linux,kho-scratch"); i++)
		;
	return n ? 0 : -PCSC_ENOTFOUND;
}

void arch_boot_next(struct stub_platform *p)
{
	uint64_t head = (uint64_t)(uintptr_t)_head;
	uint64_t entry, toff, foot;

	if (arm64_next_find(&entry, &toff, &foot)) {
		/* No next kernel: report and power off. */
		arch_poweroff(0);
	}
	if (toff) {
		/* Move the Image up by text_offset inside our reservation
		 * (regions overlap: memmove). */
		memmove((void *)(uintptr_t)entry,
			(const void *)(uintptr_t)(head + arm64_next_desc.offset),
			arm64_next_desc.size);
	}
	pcsc_log("pcsc: jump to 0x%llx EL%u dtb 0x%llx", (unsigned long long)entry,
		 arm64_el, (unsigned long long)(uintptr_t)p->arch);
	/* Everything we wrote or may hold dirty: our footprint (stack, BSS,
	 * the next Image) and the DTB. The KHO and pcsc FDTs were cleaned
	 * by the flow after the handover. */
	dcache_civac(head, foot);
	dcache_civac((uint64_t)(uintptr_t)p->arch, fdt_totalsize(p->arch));
	arm64_jump_next(entry, (uint64_t)(uintptr_t)p->arch, arm64_el);
}
