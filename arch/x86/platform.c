/* arch/x86/platform.c - arch_platform_discover for x86: RAM (e820 / PVH memmap), setup_data KHO, ACPI RSDP -> SPCR
 * console, FADT reset, MCFG ECAM (0xCF8 only without MCFG), the next kernel. Must never trust a firmware pointer unmapped or unbounded. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/arch.h>
#include <pcsc/bootopt.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include "cf8.h"
#include "x86.h"

/* ------------------------------------------------------------- memory ---- */
static void *identity_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (x86_map_identity(phys, len, false))
		return NULL;
	return (void *)(uintptr_t)phys;
}

/* The session's RAM (p->mem, ctx): whole e820 RAM pages only. A page that
 * is RAM in part is mapped read-only with the firmware (paging.c), and the
 * session writes what it maps (detach, handover, unplug). */
static void *ram_map(void *ctx, uint64_t phys, uint64_t len)
{
	uint64_t s = phys & ~0xfffull;

	if (!phys_ranges_contains(&((struct physmem *)ctx)->ram, s,
				  ((phys + len + 0xfff) & ~0xfffull) - s))
		return NULL;
	return identity_map(NULL, phys, len);
}

/* Firmware tables live in e820 ACPI/NVS/reserved ranges and the BIOS area
 * below 1 MiB, none of which the engine may treat as RAM: they get their
 * own physmem for ACPI parsing only. */
static struct physmem fwmem;

static void add_range(struct phys_ranges *rs, uint64_t start, uint64_t size, const char *what)
{
	int rc = phys_ranges_add(rs, start, size);

	if (rc && size)
		pcsc_log("pcsc: %s range 0x%llx+0x%llx dropped: %s", what,
			 (unsigned long long)start, (unsigned long long)size, pcsc_strerror(rc));
}

static void add_mem(struct stub_platform *p, uint64_t addr, uint64_t size, uint32_t type)
{
	if (type == E820_RAM)
		add_range(&p->mem.ram, addr, size, "ram");
	if (type == E820_RAM || type == E820_RESERVED || type == E820_ACPI || type == E820_NVS)
		add_range(&fwmem.ram, addr, size, "firmware");
}

/* RAM from boot_params' e820 (what the next kernel is told), else from the
 * PVH memmap (what QEMU told the PVH entry). */
static void discover_ram(struct stub_platform *p, const struct x86_boot *b)
{
	unsigned int n = 0;

	if (b->boot_params) {
		uint8_t cnt = *(const uint8_t *)(uintptr_t)(b->boot_params + BP_E820_ENTRIES);

		if (cnt > BP_E820_MAX) {
			pcsc_log("pcsc: e820_entries %u > %u: clamped", cnt, BP_E820_MAX);
			cnt = BP_E820_MAX;
		}
		for (unsigned int i = 0; i < cnt; i++) {
			uint64_t e = b->boot_params + BP_E820_TABLE + (uint64_t)i * E820_ENTRY_LEN;

			add_mem(p, rd64(e), rd64(e + 8), rd32(e + 16));
		}
		n = cnt;
		if (n)
			pcsc_log("pcsc: x86 ram from boot_params e820 (%u entries)", n);
	}
	if (!n && b->start_info && rd32(b->start_info + PVH_OFF_VERSION) >= 1) {
		uint64_t map = rd64(b->start_info + PVH_OFF_MEMMAP);
		uint32_t cnt = rd32(b->start_info + PVH_OFF_MEMMAP_N);

		if (cnt > BP_E820_MAX)
			cnt = BP_E820_MAX;
		if (map && !x86_map_identity(map, (uint64_t)cnt * PVH_MEMMAP_ENTRY_LEN, false)) {
			for (uint32_t i = 0; i < cnt; i++) {
				uint64_t e = map + (uint64_t)i * PVH_MEMMAP_ENTRY_LEN;

				add_mem(p, rd64(e), rd64(e + 8), rd32(e + 16));
			}
			n = cnt;
			pcsc_log("pcsc: x86 ram from pvh memmap (%u entries)", n);
		}
	}
	if (!n)
		pcsc_log("pcsc: x86 no e820, no pvh memmap: no RAM");
	/* From here the page tables know RAM: all of it write-back, anything
	 * else the stub reads uncached. */
	x86_paging_set_ram(&p->mem.ram);
	/* The BIOS data area, EBDA and the 0xE0000 BIOS segment: RSDP scan. */
	add_range(&fwmem.ram, 0, 0x100000, "firmware");
}

/* ------------------------------------------------------- setup_data ---- */
/* The setup_data list the next kernel walks holds only nodes the stub has
 * seen, and of SETUP_KEXEC_KHO nodes only the one it verifies: Linux's
 * parse_setup_data populates KHO from each, the last winning. A node is
 * retyped SETUP_NONE (which Linux skips) where it is RAM the stub may
 * write, else cut out at the last link field the stub may write (taking
 * any unwritable nodes between with it). */
static uint64_t kho_node, kho_link;	/* the verified KHO node, the link before it */

/* Take node out of the list: retype it where the stub may write it (not
 * when cutting), else point the last writable link field before it (link)
 * past it, or at 0 (cut: the rest of the list goes). */
static int setup_data_drop(struct stub_platform *p, uint64_t link, uint64_t node, bool cut)
{
	volatile uint32_t *h = physmem_map(&p->mem, node, SETUP_DATA_HDR_LEN);
	volatile uint64_t *l = link ? physmem_map(&p->mem, link, 8) : NULL;
	uint64_t at;
	unsigned int hops;

	if (h && !cut) {
		h[2] = SETUP_NONE;
		return 0;
	}
	if (!l)
		return -PCSC_ENOTRAM;
	/* Only while node is still reachable from the link: an earlier cut
	 * may have taken it out, and the link must not bring anything back. */
	for (at = *l, hops = 0; at && at != node && hops < SETUP_DATA_MAX_HOPS; hops++)
		at = physmem_map(&fwmem, at, 8) ? rd64(at) : 0;
	if (at == node)
		*l = cut ? 0 : rd64(node);
	return 0;
}

static void setup_data_say(const char *what, int rc)
{
	pcsc_log_at(PCSC_LOG_RESULT, "pcsc: setup_data %s: %s", what, pcsc_strerror(rc));
}

int arch_kho_unplug(struct stub_platform *p)
{
	return kho_node ? setup_data_drop(p, kho_link, kho_node, false) : -PCSC_ENOTFOUND;
}

/* Walk boot_params' setup_data list: every node is ours to keep (owned),
 * and the first usable SETUP_KEXEC_KHO one names the KHO FDT and scratch
 * array. */
static void discover_setup_data(struct stub_platform *p, const struct x86_boot *b)
{
	uint64_t link = b->boot_params + BP_SETUP_DATA;	/* last writable link field */
	uint64_t node = rd64(link);
	uint64_t seen[SETUP_DATA_MAX_HOPS];
	unsigned int hops, i;

	for (hops = 0; node; hops++) {
		uint32_t type, len;

		/* What the stub cannot read may hold a KHO node. */
		if (!physmem_map(&fwmem, node, SETUP_DATA_HDR_LEN)) {
			setup_data_say("node unreadable: list cut", setup_data_drop(p, link, node, true));
			return;
		}
		/* Linux walks the list unbounded: a loop would hang it. Past
		 * the bound, or back at a node seen, the list ends here. */
		for (i = 0; i < hops && seen[i] != node; i++)
			;
		if (i < hops || hops == SETUP_DATA_MAX_HOPS) {
			setup_data_say("over 64 nodes or a loop: list cut",
				       setup_data_drop(p, link, node, true));
			return;
		}
		seen[hops] = node;
		type = rd32(node + 8);
		len = rd32(node + 12);
		add_range(&p->owned, node, SETUP_DATA_HDR_LEN + (uint64_t)len, "owned");
		if (type == SETUP_KEXEC_KHO) {
			if (len < SETUP_KHO_LEN ||
			    !physmem_map(&fwmem, node, SETUP_DATA_HDR_LEN + SETUP_KHO_LEN)) {
				setup_data_say("short KHO entry dropped",
					       setup_data_drop(p, link, node, false));
			} else if (kho_node) {
				setup_data_say("second KHO entry dropped",
					       setup_data_drop(p, link, node, false));
			} else {
				kho_node = node;
				kho_link = link;
				p->kho_fdt = rd64(node + 16);
				p->kho_fdt_size = rd64(node + 24);
				p->kho_scratch = rd64(node + 32);
				p->kho_scratch_size = rd64(node + 40);
			}
		}
		/* The next link field to edit: a node still in the list, so
		 * one whose whole header the stub may write (a dropped node
		 * that is only part writable was cut out, not retyped). */
		if (physmem_map(&p->mem, node, SETUP_DATA_HDR_LEN))
			link = node;
		node = rd64(node);
	}
}

/* --------------------------------------------------------------- ACPI ---- */
static uint64_t find_rsdp(const struct x86_boot *b)
{
	uint64_t rsdp = 0, ebda = 0;
	const uint8_t *bda;
	struct acpi_rsdp r;
	int rc;

	if (b->boot_params && (rsdp = rd64(b->boot_params + BP_ACPI_RSDP))) {
		rc = acpi_rsdp_parse(&fwmem, rsdp, &r);
		if (!rc) {
			pcsc_log("pcsc: acpi rsdp 0x%llx from boot_params", (unsigned long long)rsdp);
			return rsdp;
		}
		pcsc_log("pcsc: acpi rsdp 0x%llx from boot_params: %s", (unsigned long long)rsdp,
			 pcsc_strerror(rc));
	}
	if (b->start_info && (rsdp = rd64(b->start_info + PVH_OFF_RSDP))) {
		rc = acpi_rsdp_parse(&fwmem, rsdp, &r);
		if (!rc) {
			pcsc_log("pcsc: acpi rsdp 0x%llx from pvh start info", (unsigned long long)rsdp);
			return rsdp;
		}
		pcsc_log("pcsc: acpi rsdp 0x%llx from pvh start info: %s",
			 (unsigned long long)rsdp, pcsc_strerror(rc));
	}
	/* Last resort, the BIOS way: the EBDA's first KiB (its segment is the
	 * BDA word at 0x40e), then 0xE0000-0xFFFFF. */
	bda = physmem_map(&fwmem, 0x40e, 2);
	if (bda)
		ebda = (uint64_t)acpi_le16(bda) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000 && !acpi_rsdp_scan(&fwmem, ebda, 1024, &rsdp)) {
		pcsc_log("pcsc: acpi rsdp 0x%llx from ebda scan", (unsigned long long)rsdp);
		return rsdp;
	}
	if (!acpi_rsdp_scan(&fwmem, 0xe0000, 0x20000, &rsdp)) {
		pcsc_log("pcsc: acpi rsdp 0x%llx from bios scan", (unsigned long long)rsdp);
		return rsdp;
	}
	pcsc_log("pcsc: acpi no rsdp");
	return 0;
}

/* The FADT's reset register, when it is an I/O port (the only kind we
 * drive); arch_poweroff uses it before the keyboard controller. */
static void discover_reset(uint64_t rsdp)
{
	const uint8_t *fadt;
	struct acpi_rsdp r;
	uint64_t phys;
	uint32_t len;

	if (acpi_rsdp_parse(&fwmem, rsdp, &r) || acpi_find_table(&fwmem, &r, "FACP", &phys) ||
	    acpi_table_map(&fwmem, phys, "FACP", &fadt, &len) || len < 129)
		return;
	if (!(acpi_le32(fadt + 112) & (1u << 10)) || fadt[116] != 1)	/* RESET_REG_SUP, I/O */
		return;
	if (acpi_le64(fadt + 120) && acpi_le64(fadt + 120) < 0x10000)
		x86_poweroff_reset_reg((uint16_t)acpi_le64(fadt + 120), fadt[128]);
}

/* The ACPI SPCR table's console, when it is a 16550 in I/O space (types 0,
 * 1 and 0x12 of the SPCR spec; GAS space 1). Other consoles are named and
 * COM1 stays. */
static void discover_spcr(uint64_t rsdp)
{
	const uint8_t *t;
	struct acpi_rsdp r;
	uint64_t phys, addr;
	uint32_t len;

	if (acpi_rsdp_parse(&fwmem, rsdp, &r) || acpi_find_table(&fwmem, &r, "SPCR", &phys) ||
	    acpi_table_map(&fwmem, phys, "SPCR", &t, &len))
		return;
	if (len < 52) {
		pcsc_log("pcsc: acpi SPCR of %u bytes ignored", len);
		return;
	}
	addr = acpi_le64(t + 44);
	if ((t[36] != 0 && t[36] != 1 && t[36] != 0x12) || t[40] != 1 || !addr || addr > 0xfff8) {
		pcsc_log("pcsc: acpi SPCR console type %u space %u at 0x%llx not used: staying on COM1",
			 t[36], t[40], (unsigned long long)addr);
		return;
	}
	if (addr == 0x3f8)
		return;
	pcsc_log("pcsc: console to I/O 0x%llx (SPCR)", (unsigned long long)addr);
	x86_console_set_port((uint16_t)addr);
	pcsc_log("pcsc: console from ACPI SPCR: I/O 0x%llx", (unsigned long long)addr);
}

/* ECAM strong UC, refused where the e820 says RAM (x86_map_identity). */
static int map_ecam(uint64_t base, uint64_t size)
{
	return x86_map_identity(base, size, true);
}

static void discover_ecam(struct stub_platform *p, const struct x86_boot *b, uint64_t rsdp)
{
	int rc;

	ecam_init(&p->ecam, arch_mmio_read32);
	if (b->ecam_off) {
		pcsc_log("pcsc: pcsc.ecam=off: MCFG not used");
	} else if (rsdp) {
		rc = acpi_ecam_from_rsdp(&fwmem, rsdp, &p->ecam);
		if (rc)
			pcsc_log("pcsc: acpi mcfg: %s (%u windows kept)", pcsc_strerror(rc), p->ecam.n);
	}
	ecam_map_windows(&p->ecam, map_ecam);
	if (p->ecam.n)
		return;
	/* No MCFG: PCI mechanism #1 reaches segment 0 and 256 bytes per
	 * function only, so no extended capability (SR-IOV) is visible. The
	 * flow walks windows, so describe segment 0 as one whose base is never
	 * used: use_legacy sends every read to 0xCF8. */
	pcsc_log("pcsc: no MCFG: legacy 0xCF8 config access, segment 0 only, 256-byte config space");
	pci_cfg_init(&p->legacy_cfg, &x86_cf8_ops, NULL, PCI_CFG_SIZE);
	p->use_legacy = true;
	{
		const struct ecam_window all = { .base = 0, .seg = 0, .bus_start = 0, .bus_end = 0xff };

		(void)ecam_add_window(&p->ecam, &all);
	}
}

/* ------------------------------------------------------------ next ---- */
/* The next kernel: embedded by a wrapper after our BSS, or named on the
 * PVH command line by a test. It needs boot_params to be entered. */
static void discover_next(struct stub_platform *p, struct x86_boot *b)
{
	uint64_t mem = (uint64_t)(__image_end - __image_start);
	const char *why;
	int rc;

	if (pcsc_x86_hdr.next_offset) {
		if (pcsc_x86_hdr.next_offset < mem) {
			pcsc_log("pcsc: embedded next kernel +0x%llx in our BSS: ignored",
				 (unsigned long long)pcsc_x86_hdr.next_offset);
			return;
		}
		b->next_src = (uint64_t)(uintptr_t)__image_start + pcsc_x86_hdr.next_offset;
		b->next_size = pcsc_x86_hdr.next_size;
	}
	if (!b->next_src)
		return;
	rc = x86_next_check(b->next_src, b->next_size, &why);
	if (rc) {
		pcsc_log("pcsc: next kernel at 0x%llx unusable: %s", (unsigned long long)b->next_src, why);
		b->next_src = 0;
		return;
	}
	add_range(&p->owned, b->next_src, b->next_size, "owned");
	if (!b->boot_params) {
		pcsc_log("pcsc: next kernel but no boot_params for it");
		return;
	}
	pcsc_log("pcsc: next kernel bzImage at 0x%llx size 0x%llx",
		 (unsigned long long)b->next_src, (unsigned long long)b->next_size);
	p->has_next = true;
}

/* ------------------------------------------------------------ discover ---- */
void arch_platform_discover(struct stub_platform *p)
{
	struct x86_boot *b = p->arch;
	uint64_t rsdp;

	memset(&p->mem, 0, sizeof(p->mem));
	memset(&fwmem, 0, sizeof(fwmem));
	memset(&p->owned, 0, sizeof(p->owned));
	p->mem.map = ram_map;
	p->mem.ctx = &p->mem;
	fwmem.map = identity_map;
	kho_node = kho_link = 0;
	p->kho_fdt = p->kho_fdt_size = p->kho_scratch = p->kho_scratch_size = 0;
	p->use_legacy = false;
	p->has_next = false;
	{
		struct pcsc_bootopts o;
		char warn[64];

		if (pcsc_bootopts_parse(b->cmdline, sizeof(b->cmdline), &o, warn, sizeof(warn)))
			pcsc_log("pcsc: %s", warn);
		p->mode = o.mode;
		p->kho_bitmap = o.kho_bitmap;
		p->report = o.report;
	}

	if (b->boot_params && x86_map_identity(b->boot_params, BP_SIZE, false)) {
		pcsc_log("pcsc: boot_params 0x%llx not mappable: ignored",
			 (unsigned long long)b->boot_params);
		b->boot_params = 0;
	}
	discover_ram(p, b);

	/* What a preserved entry may never point into. */
	add_range(&p->owned, (uint64_t)(uintptr_t)__image_start,
		  (uint64_t)(__image_end - __image_start), "owned");
	if (b->start_info)
		add_range(&p->owned, b->start_info, PVH_START_INFO_LEN, "owned");
	if (b->cmdline_phys)
		add_range(&p->owned, b->cmdline_phys, strlen(b->cmdline) + 1, "owned");
	if (b->boot_params) {
		uint64_t rd = rd32(b->boot_params + BP_RAMDISK_IMAGE) |
			      (uint64_t)rd32(b->boot_params + BP_EXT_RAMDISK_IMAGE) << 32;
		uint64_t rs = rd32(b->boot_params + BP_RAMDISK_SIZE) |
			      (uint64_t)rd32(b->boot_params + BP_EXT_RAMDISK_SIZE) << 32;

		add_range(&p->owned, b->boot_params, BP_SIZE, "owned");
		if (rd && rs)
			add_range(&p->owned, rd, rs, "owned");
		discover_setup_data(p, b);
	}

	discover_next(p, b);
	rsdp = find_rsdp(b);
	if (rsdp) {
		discover_spcr(rsdp);
		discover_reset(rsdp);
	}
	discover_ecam(p, b, rsdp);
}
