/* tests/qemu/x86payload/entry64.S - test-only old kernel for the stub's 64-bit entry: 0..4 GiB identity map (5-level when LA57), IA32_PAT and EFER.NXE as Linux leaves them, then STUB_ENTRY with rsi = BOOT_PARAMS.
 * Test code only, never part of the stub; built by test_x86_page_tables.py (-DSTUB_ENTRY -DBOOT_PARAMS -DLA57 -DNXE -DPAT_LO -DPAT_HI). */
#include "pvh_note.h"
	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	/* PVH: 32-bit protected mode, paging off. CR4.LA57 can only change
	 * with paging off, so this is where a 5-level old kernel is played. */
	cli
	cld
	movl	$pd, %edi			/* 2048 2 MiB pages: 0..4 GiB, write-back */
	movl	$0x83, %eax
	movl	$2048, %ecx
1:	movl	%eax, (%edi)
	movl	$0, 4(%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b
	movl	$pdpt, %edi
	movl	$pd + 3, %eax
	movl	$4, %ecx
2:	movl	%eax, (%edi)
	addl	$4096, %eax
	addl	$8, %edi
	loop	2b
	movl	$pdpt + 3, pml4
	movl	$pml4 + 3, pml5

	movl	$0x277, %ecx			/* IA32_PAT */
	movl	$PAT_LO, %eax
	movl	$PAT_HI, %edx
	wrmsr

	movl	%cr4, %eax
	orl	$(0x20 | (LA57 << 12)), %eax	/* PAE, LA57 */
	movl	%eax, %cr4
	.if	LA57
	movl	$pml5, %eax
	.else
	movl	$pml4, %eax
	.endif
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx		/* EFER: LME, NXE */
	rdmsr
	orl	$(0x100 | (NXE << 11)), %eax
	wrmsr
	lgdt	gdt_desc
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* PG | PE */
	movl	%eax, %cr0
	ljmp	$0x10, $long64

	.code64
long64:
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movq	$BOOT_PARAMS, %rsi
	movq	$STUB_ENTRY, %rax
	jmp	*%rax

	pvh_entry_note _start

	.data
	.balign 8
gdt:
	.quad	0
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x10: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x18: data */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.bss
	.balign 4096
pml5:	.skip	4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4 * 4096

	.section .note.GNU-stack, "", @progbits
