/* arch/arm64/arm64.h - what the arm64 files share among themselves (never
 * included outside arch/arm64): entry state, page tables, DT-found devices. */
#ifndef PCSC_ARCH_ARM64_H
#define PCSC_ARCH_ARM64_H

#include <stdbool.h>
#include <stdint.h>
#include <pcsc/dt_platform.h>
#include <pcsc/physmem.h>

/* Set by arm64_main before anything else runs. */
extern unsigned int arm64_el;		/* exception level we were entered at */
extern const void *arm64_dtb;		/* x0 at entry */

/* Linker-script symbols: the image footprint [_head, _end). Hidden, as all
 * image-local symbols declared outside C: the compiler then addresses them
 * PC-relative (adrp/add) instead of through a GOT slot that costs a
 * relocation in the static-pie image. */
#define ARM64_LOCAL __attribute__((visibility("hidden")))
extern char _head[] ARM64_LOCAL, _end[] ARM64_LOCAL;

/*
 * arm64_main - C entry from head.S (stack, BSS, FP, boot map on): console
 * and PSCI from the DTB, the final map (arm64_mmu_final), then stub_main.
 */
void arm64_main(const void *dtb, unsigned int el) __attribute__((noreturn));

/*
 * arm64_exception - the vector's C half: report ESR/ELR/FAR, then try to
 * reach the next kernel (or power off). regs holds x0..x30.
 */
void arm64_exception(uint64_t idx, const uint64_t *regs) __attribute__((noreturn));

/* booting.rst caps the DTB at 2 MiB, but QEMU hands a -dtb blob on padded
 * past that (a 1 MiB dumpdtb grows to ~2.1 MiB): accept up to 16 MiB. */
#define DTB_MAX_SIZE		(16u << 20)

/* Translation regime of the EL we run at: its descriptors differ (mmu.c). */
enum arm64_regime { ARM64_EL1, ARM64_EL2, ARM64_EL2_E2H };

/* What the map is built from, found by arm64_main before the flow starts,
 * and what became of it (platform.c reports both and hands `mapped` to the
 * session as its RAM). */
struct arm64_mem {
	struct phys_ranges ram;		/* /memory, or the UEFI memory map */
	int ram_rc;			/* arm64_ram_from_dt */
	struct dt_scan_stats ram_st;
	struct phys_ranges nomap;	/* dt_mem_nomap: never mapped */
	int nomap_rc;
	struct phys_ranges mapped;	/* RAM the final map made Normal: all the flow reads */
	bool switched;			/* the final map is live */
	enum arm64_regime regime;
	unsigned int fails;		/* RAM spans the pool could not map */
	uint64_t fail_start, fail_end;	/* the first of them */
};
extern struct arm64_mem arm64_mem;

/*
 * arm64_mem_discover - RAM (arm64_ram_from_dt) and the no-map list
 * (dt_mem_nomap) into m, with their errors for the report.
 */
void arm64_mem_discover(const void *fdt, struct arm64_mem *m);

/*
 * arm64_mmu_early - head.S, MMU off: the boot map, from the image and the
 * DTB header alone: text read-only executable, rodata read-only, data/BSS
 * and the DTB read-write, all Normal at 4 KiB granules; the rest of the low
 * 2 TiB Device-nGnRE execute-never. Returns the value for TTBR0_ELx.
 */
uint64_t arm64_mmu_early(const void *dtb, unsigned int el);

/*
 * arm64_mmu_final - build the map the flow runs on, aside from the boot
 * map, and switch to it (arm64_mmu_switch): the image as above, the
 * embedded next kernel's room, the DTB and the UART page first, then
 * mem->ram minus mem->nomap Normal write-back execute-never; nothing else.
 * Fills mem->mapped with the RAM pieces it mapped whole, and what failed:
 * spans the pool could not take stay unmapped (mem->fails); a no-map list
 * that overflowed (nomap_rc -PCSC_ENOSPC) maps no RAM at all. Keeps
 * POOL_LATE_RESERVE tables for arm64_mmu_map_device. Prints nothing: the
 * console level is not known yet (arm64_mmu_report).
 * Returns 0; -PCSC_ENOSPC (no table for the image, DTB or UART: the boot
 * map stays live, mem->switched false, mem->mapped empty).
 */
int arm64_mmu_final(const void *dtb, uint64_t dtb_size, uint64_t uart, struct arm64_mem *mem);

/* arm64_mmu_report - one detail line (`mmu EL<n>[ vhe| nvhe] tables=U/N
 * nomap=K`) and one line per failure arm64_mmu_final recorded, printed at
 * the default level (RAM left unmapped turns entries BAD: say why). */
void arm64_mmu_report(const struct arm64_mem *mem);

/*
 * arm64_mmu_map_device - add [base, base+size) Device-nGnRE execute-never
 * to the live map where it maps nothing yet (ECAM windows, found after the
 * final map). Returns 0; -PCSC_ERANGE (empty, wraps, or past the PA size);
 * -PCSC_EOVERLAP (the range holds RAM or a no-map/memreserve range: nothing
 * mapped); -PCSC_ENOSPC (pool exhausted: part of the range left unmapped).
 */
int arm64_mmu_map_device(uint64_t base, uint64_t size);

/* arm64_mmu_switch - head.S: MMU off, TTBR0_ELx = ttbr, TLB invalidated,
 * MMU on with SCTLR_ELx.WXN; no load or store in between. */
void arm64_mmu_switch(uint64_t ttbr, unsigned int el);

/*
 * arm64_ram_from_dt - RAM from /memory (dt_mem_ram), or on ACPI systems
 * whose DTB has none, from the UEFI memory map /chosen points at (usable
 * and firmware-table types, write-back only).
 * Returns 0 or the first error of dt_mem_ram / efi_mmap_ranges.
 */
int arm64_ram_from_dt(const void *fdt, struct phys_ranges *ram, struct dt_scan_stats *st);

/* dcache_inval_range - head.S: dc ivac over [start, end). */
void dcache_inval_range(uint64_t start, uint64_t end);

#endif
