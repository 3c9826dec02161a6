/* arch/arm64/arm64.h - what the arm64 files share among themselves (never
 * included outside arch/arm64): entry state, page tables, DT-found devices. */
#ifndef PCSC_ARCH_ARM64_H
#define PCSC_ARCH_ARM64_H

#include <stdint.h>
#include <pcsc/physmem.h>

/* Set by arm64_main before anything else runs. */
extern unsigned int arm64_el;		/* exception level we were entered at */
extern const void *arm64_dtb;		/* x0 at entry */

/* Linker-script symbols: the image footprint [_head, _end). */
extern char _head[], _end[];

/*
 * arm64_main - C entry from head.S (stack, BSS, FP, identity map ready):
 * console and PSCI from the DTB, RAM mapped Normal, then stub_main.
 */
void arm64_main(const void *dtb, unsigned int el) __attribute__((noreturn));

/*
 * arm64_exception - the vector's C half: report ESR/ELR/FAR, then try to
 * reach the next kernel (or power off). regs holds x0..x30.
 */
void arm64_exception(uint64_t idx, const uint64_t *regs) __attribute__((noreturn));

/*
 * arm64_mmu_map_ram - remap every 1 GiB block wholly inside ram as Normal
 * write-back; a block partly RAM gets 2 MiB granules (Normal where wholly
 * RAM). Blocks already Normal (image, DTB) are left alone: they hold the
 * code running now. Returns the number of blocks changed.
 */
unsigned int arm64_mmu_map_ram(const struct phys_ranges *ram);

/*
 * arm64_ram_from_dt - RAM from /memory (dt_mem_ram), or on ACPI systems
 * whose DTB has none, from the UEFI memory map /chosen points at (usable
 * and firmware-table types, write-back only).
 * Returns 0 or the first error of dt_mem_ram / efi_mmap_ranges.
 */
struct dt_scan_stats;
int arm64_ram_from_dt(const void *fdt, struct phys_ranges *ram, struct dt_scan_stats *st);

/* dcache_inval_range - head.S: dc ivac over [start, end). */
void dcache_inval_range(uint64_t start, uint64_t end);

#endif
