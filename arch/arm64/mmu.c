/* arch/arm64/mmu.c - turn RAM Normal write-back in the identity map head.S
 * built (1 GiB blocks, Device elsewhere). Never unmaps what is running now. */
#include <stdint.h>
#include <pcsc/physmem.h>
#include "arm64.h"

#define GIB			(1ull << 30)
#define MIB2			(1ull << 21)
#define L1_ENTRIES		(4 * 512)	/* head.S: 4 level-1 tables */
#define L2_POOL			8		/* linker/arm64.lds */
#define DESC_TYPE_MASK		3ull
#define DESC_BLOCK		1ull
#define DESC_TABLE		3ull
#define ATTRIDX_MASK		(7ull << 2)
#define ATTRIDX_NORMAL		(2ull << 2)
/* Same encodings as head.S. */
#define BLK_DEVICE		0x405ull
#define BLK_NORMAL		0x709ull
#define XN_EL2			(1ull << 54)
#define XN_EL1			(3ull << 53)

extern uint64_t __pgt_l0[];
extern uint64_t __pgt_l2_pool[];

static unsigned int l2_used;

#define HCR_E2H			(1ull << 34)

/* As head.S: one XN bit in the EL2 regime, UXN|PXN at EL1 and with VHE. */
static uint64_t device_attrs(void)
{
	uint64_t hcr = 0;

	if (arm64_el == 2)
		__asm__ volatile("mrs %0, hcr_el2" : "=r"(hcr));
	return BLK_DEVICE | (arm64_el == 2 && !(hcr & HCR_E2H) ? XN_EL2 : XN_EL1);
}

static void tlb_flush(void)
{
	__asm__ volatile("dsb ishst" : : : "memory");
	if (arm64_el == 2)
		__asm__ volatile("tlbi alle2" : : : "memory");
	else
		__asm__ volatile("tlbi vmalle1" : : : "memory");
	__asm__ volatile("dsb ish; isb" : : : "memory");
}

/* Break-before-make: the architecture requires an invalid entry and a TLB
 * flush between two valid mappings of different memory types. */
static void set_entry(volatile uint64_t *slot, uint64_t desc)
{
	*slot = 0;
	tlb_flush();
	*slot = desc;
	tlb_flush();
}

unsigned int arm64_mmu_map_ram(const struct phys_ranges *ram)
{
	volatile uint64_t *l1 = (volatile uint64_t *)(__pgt_l0 + 512);
	unsigned int i, j, changed = 0;

	for (i = 0; i < L1_ENTRIES; i++) {
		uint64_t base = (uint64_t)i * GIB, cur = l1[i];

		if ((cur & DESC_TYPE_MASK) != DESC_BLOCK ||
		    (cur & ATTRIDX_MASK) == ATTRIDX_NORMAL)
			continue;
		if (phys_ranges_contains(ram, base, GIB)) {
			set_entry(&l1[i], base | BLK_NORMAL);
			changed++;
		} else if (phys_ranges_overlaps(ram, base, GIB) && l2_used < L2_POOL) {
			/* Partly RAM: 2 MiB granules, Normal only where wholly
			 * RAM, so no device register is ever mapped cacheable. */
			uint64_t *l2 = __pgt_l2_pool + 512 * l2_used++;

			for (j = 0; j < 512; j++) {
				uint64_t b = base + (uint64_t)j * MIB2;

				l2[j] = b | (phys_ranges_contains(ram, b, MIB2) ?
					     BLK_NORMAL : device_attrs());
			}
			__asm__ volatile("dsb ishst" : : : "memory");
			set_entry(&l1[i], (uint64_t)(uintptr_t)l2 | DESC_TABLE);
			changed++;
		}
	}
	return changed;
}
