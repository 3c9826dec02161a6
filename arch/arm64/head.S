/* arch/arm64/head.S - arm64 Image header and entry: relocate, BSS, stack, FP,
 * vectors, the boot map with the MMU on, then C; the switch to the final map
 * and the MMU-off jump. Never assumes a load address. */

/*
 * Boot protocol (Linux Documentation/arch/arm64/booting.rst): entered at EL2
 * or EL1, MMU off, D-cache off, x0 = physical address of the DTB, x1-x3 = 0.
 * The image is linked at 0 as a static PIE; the loader (QEMU -kernel,
 * kexec_file_load, U-Boot booti) picks a 2 MiB aligned base, so every
 * absolute pointer is fixed up here from .rela.dyn before any C runs.
 */

#include <pcsc/wrap.h>

#define R_AARCH64_RELATIVE	1027

/* MAIR attribute indices (arch/arm64/mmu.c encodes its descriptors with
 * them): 0 Device-nGnRnE, 1 Device-nGnRE, 2 Normal write-back RW-allocate. */
#define MAIR_VALUE		0xff0400
/* T0SZ 16 (48-bit VA), inner/outer WB WA walks, inner shareable, 4K granule. */
#define TCR_COMMON		(16 | (1 << 8) | (1 << 10) | (3 << 12))
#define TCR_EL1_EPD1		(1 << 23)	/* no TTBR1 walks */
#define TCR_EL2_RES1		((1 << 23) | (1 << 31))
#define HCR_E2H_BIT		34
#define SCTLR_M			(1 << 0)
#define SCTLR_A			(1 << 1)
#define SCTLR_C			(1 << 2)
#define SCTLR_I			(1 << 12)
#define SCTLR_WXN		(1 << 19)

	.section .head.text, "ax"
	.globl	_head
_head:
	/* code0/code1: a plain branch; no EFI stub, so no "MZ" magic. */
	b	primary_entry
	.long	0
	.quad	0			/* text_offset: load at a 2 MiB aligned base */
	/* image_size incl. BSS, page tables, stack. Two 32-bit halves: an
	 * ABS32 of an absolute symbol is resolved at link time, where a
	 * .quad would become a dynamic relocation the header cannot have. */
	.long	_image_size_lo32
	.long	_image_size_hi32
	.quad	0xa			/* flags: LE, 4K pages, placement anywhere */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic at 0x38 */
	.long	0			/* res5: no PE header */

	/*
	 * 0x40: the next-kernel descriptor (struct pcsc_arm64_next_desc,
	 * include/pcsc/wrap.h). Zero here; a wrapper (pcsctool wrap) fills it
	 * in the file when it appends the next kernel's Image.
	 */
	.globl	arm64_next_desc
arm64_next_desc:
	.ascii	PCSC_ARM64_NEXT_MAGIC
	.quad	0			/* offset of the next Image from _head */
	.quad	0			/* its length in the file */
	.quad	0			/* flags (none defined) */

	/* Start-up stays in .head.text: it fills the room before the
	 * vectors' 2 KiB boundary instead of padding. */
primary_entry:
	mov	x19, x0			/* x19 = DTB for the whole of start-up */
	msr	daifset, #0xf		/* no interrupts: we install no GIC handler */
	msr	spsel, #1		/* SP_ELx: the SP our exception vectors use */
	mrs	x20, CurrentEL
	lsr	x20, x20, #2		/* x20 = EL we were entered at (1 or 2) */

	/*
	 * The loader cleaned the image to PoC, but lines of BSS (beyond the
	 * file) may still sit dirty in the cache from the old kernel and be
	 * evicted over what we write with the MMU off. Invalidate our whole
	 * footprint first, as Linux's head.S does for its page tables.
	 */
	adrp	x0, _head
	adrp	x1, _end
	add	x1, x1, :lo12:_end
	bl	dcache_inval_range

	/* Apply R_AARCH64_RELATIVE: *(base + off) = base + addend. */
	adrp	x9, _head		/* x9 = load base (link base is 0) */
	adrp	x1, __rela_start
	add	x1, x1, :lo12:__rela_start
	adrp	x2, __rela_end
	add	x2, x2, :lo12:__rela_end
1:	cmp	x1, x2
	b.hs	2f
	ldp	x3, x4, [x1], #16	/* r_offset, r_info */
	ldr	x5, [x1], #8		/* r_addend */
	cmp	w4, #R_AARCH64_RELATIVE
	b.ne	1b			/* static PIE has no other kind */
	add	x5, x5, x9
	str	x5, [x3, x9]
	b	1b
2:
	/* BSS: 16-byte aligned by the linker script, so stp of zeros. */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
3:	cmp	x1, x2
	b.hs	4f
	stp	xzr, xzr, [x1], #16
	b	3b
4:
	adrp	x1, __stack_top
	add	x1, x1, :lo12:__stack_top
	mov	sp, x1

	/* FP/SIMD: newlib's string routines may use q registers. */
	cmp	x20, #2
	b.ne	5f
	mrs	x1, cptr_el2
	mrs	x2, hcr_el2
	tbnz	x2, #HCR_E2H_BIT, 55f
	bic	x1, x1, #(1 << 10)	/* CPTR_EL2.TFP: do not trap FP at EL2 */
	msr	cptr_el2, x1
	b	6f
55:	orr	x1, x1, #(3 << 20)	/* VHE: CPACR_EL1 layout, FPEN = 0b11 */
	msr	cptr_el2, x1
	b	6f
5:	mrs	x1, cpacr_el1
	orr	x1, x1, #(3 << 20)	/* CPACR_EL1.FPEN = 0b11 */
	msr	cpacr_el1, x1
6:	isb

	adr	x1, vectors
	cmp	x20, #2
	b.ne	7f
	msr	vbar_el2, x1
	b	8f
7:	msr	vbar_el1, x1
8:	isb

	/* The boot map (arch/arm64/mmu.c, run with the MMU off: all of it
	 * is built -mstrict-align and stores nothing but aligned words). */
	mov	x0, x19
	mov	x1, x20
	bl	arm64_mmu_early
	mov	x1, x20
	bl	mmu_on_identity

	mov	x0, x19
	mov	x1, x20
	bl	arm64_main		/* never returns */
9:	wfe
	b	9b

/*
 * dcache_inval_range(x0 start, x1 end) - dc ivac over [start, end), line
 * size from CTR_EL0.DminLine. Clobbers x0-x3.
 */
	.globl	dcache_inval_range
dcache_inval_range:
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4
	mov	x2, #4
	lsl	x2, x2, x3		/* line size in bytes */
	sub	x3, x2, #1
	bic	x0, x0, x3
1:	cmp	x0, x1
	b.hs	2f
	dc	ivac, x0
	add	x0, x0, x2
	b	1b
2:	dsb	sy
	ret

/*
 * mmu_on_identity(x0 ttbr, x1 el) - translation on at our EL with the boot
 * map arm64_mmu_early built: MAIR, TCR (48-bit VA, 4 KiB granule, walks
 * inner shareable write-back), TTBR0, then MMU, D- and I-cache on.
 * SCTLR.WXN on: no page of that map is both writable and executable.
 */
mmu_on_identity:
	dsb	sy			/* table stores (MMU off: Device) complete */

	/* Physical address size from ID_AA64MMFR0_EL1.PARange, capped at 48
	 * bits (52 would need TCR.DS with 4K pages). */
	mrs	x7, id_aa64mmfr0_el1
	and	x7, x7, #0xf
	cmp	x7, #5
	mov	x8, #5
	csel	x7, x8, x7, hi
	ldr	x8, =MAIR_VALUE

	cmp	x1, #2
	b.eq	10f

	msr	mair_el1, x8
	ldr	x8, =(TCR_COMMON | TCR_EL1_EPD1)
	orr	x8, x8, x7, lsl #32	/* IPS */
	msr	tcr_el1, x8
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x8, sctlr_el1
	orr	x8, x8, #SCTLR_M
	orr	x8, x8, #SCTLR_C
	orr	x8, x8, #SCTLR_I
	bic	x8, x8, #SCTLR_A	/* unaligned Normal accesses allowed */
	orr	x8, x8, #SCTLR_WXN	/* writable => execute-never */
	msr	sctlr_el1, x8
	isb
	ret

10:	msr	mair_el2, x8
	/* With E2H set (VHE; some CPUs have it stuck at 1) TCR_EL2 has the
	 * TCR_EL1 layout: IPS at [34:32], EPD1 to skip the upper range. */
	mrs	x9, hcr_el2
	tbz	x9, #HCR_E2H_BIT, 11f
	ldr	x8, =(TCR_COMMON | TCR_EL1_EPD1)
	orr	x8, x8, x7, lsl #32	/* IPS */
	b	12f
11:	ldr	x8, =(TCR_COMMON | TCR_EL2_RES1)
	orr	x8, x8, x7, lsl #16	/* PS */
12:	msr	tcr_el2, x8
	msr	ttbr0_el2, x0
	isb
	tlbi	alle2
	dsb	nsh
	isb
	mrs	x8, sctlr_el2
	orr	x8, x8, #SCTLR_M
	orr	x8, x8, #SCTLR_C
	orr	x8, x8, #SCTLR_I
	bic	x8, x8, #SCTLR_A
	orr	x8, x8, #SCTLR_WXN
	msr	sctlr_el2, x8
	isb
	ret
	.ltorg

/*
 * arm64_mmu_switch(x0 ttbr, x1 el) - from the boot map to the final map.
 * Changing a live map entry by entry would need break-before-make on every
 * block that changes type (and the code runs from some of them); instead
 * translation goes off for a few instructions: both maps are identity maps
 * of this code, so fetching continues at the same physical addresses. No
 * load or store between MMU off and on (data accesses would be Device and
 * bypass what the D-cache holds); the walker reads the new tables through
 * the cache (TCR: inner shareable write-back walks), so the dsb that orders
 * the table stores is all they need. The TLB is emptied while translation
 * is off: no entry of the boot map survives into the final one.
 */
	.globl	arm64_mmu_switch
arm64_mmu_switch:
	dsb	ish			/* every table store visible to the walker */
	cmp	x1, #2
	b.eq	1f
	mrs	x2, sctlr_el1
	bic	x3, x2, #SCTLR_M
	msr	sctlr_el1, x3
	isb
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	orr	x2, x2, #SCTLR_WXN
	msr	sctlr_el1, x2
	isb
	ret
1:	mrs	x2, sctlr_el2
	bic	x3, x2, #SCTLR_M
	msr	sctlr_el2, x3
	isb
	msr	ttbr0_el2, x0
	isb
	tlbi	alle2			/* EL2, or EL2&0 with HCR_EL2.E2H */
	dsb	nsh
	isb
	orr	x2, x2, #SCTLR_WXN
	msr	sctlr_el2, x2
	isb
	ret

/*
 * arm64_jump_next(x0 entry, x1 dtb, x2 el) - MMU and D-cache off at our EL
 * (the caller cleaned everything the next kernel may read to PoC), I-cache
 * invalidated, then enter per booting.rst: x0 = DTB, x1-x3 = 0. The map is
 * 1:1, so the instruction after the SCTLR write fetches from the same
 * address with translation off. No memory access after that point.
 */
	.globl	arm64_jump_next
arm64_jump_next:
	mov	x9, x0
	mov	x10, x1
	cmp	x2, #2
	b.eq	1f
	mrs	x3, sctlr_el1
	bic	x3, x3, #SCTLR_M
	bic	x3, x3, #SCTLR_C
	msr	sctlr_el1, x3
	isb
	tlbi	vmalle1
	b	2f
1:	mrs	x3, sctlr_el2
	bic	x3, x3, #SCTLR_M
	bic	x3, x3, #SCTLR_C
	msr	sctlr_el2, x3
	isb
	tlbi	alle2
2:	ic	iallu			/* the next kernel's text was written as data */
	dsb	nsh
	isb
	mov	x0, x10
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x9

/*
 * Exception vectors: 16 entries of 128 bytes, 2 KiB aligned. Every entry
 * saves x0-x30 and calls arm64_exception(index, regs), which reports
 * ESR/ELR/FAR and still tries to reach the next kernel.
 */
	.macro	vec idx
	.balign	128
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	mov	x0, #\idx
	b	vec_common
	.endm

	/* Their own section, first in .text (linker/arm64.lds): the 2 KiB
	 * alignment then costs no padding inside the image. */
	.pushsection .text.vectors, "ax"
	.balign	2048
vectors:
	vec 0
	vec 1
	vec 2
	vec 3
	vec 4
	vec 5
	vec 6
	vec 7
	vec 8
	vec 9
	vec 10
	vec 11
	vec 12
	vec 13
	vec 14
	vec 15
	.popsection

vec_common:
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mov	x1, sp
	bl	arm64_exception		/* never returns */
1:	wfe
	b	1b
