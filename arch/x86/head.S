/* arch/x86/head.S - the two entries of the x86_64 stub: PVH (32-bit, QEMU -kernel) and the
 * purgatory-style 64-bit entry (rsi = boot_params). Must never run C before BSS, stack and FS base are set. */
#include "x86.h"

/*
 * The image is linked -static-pie at X86_LOAD_ADDR. 32-bit code cannot use
 * RIP-relative addressing and the linker refuses absolute 32-bit
 * relocations in a PIE, so the PVH path addresses everything as
 * (sym - pvh_start32)(%ebp) with %ebp = X86_LOAD_ADDR: the PVH note promises
 * exactly that address, and the assembler turns the differences into
 * PC-relative relocations the linker resolves.
 */
	.section .head.text, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	/* PVH: 32-bit protected mode, paging off, flat CS/DS, ebx = start info,
	 * no stack. Offset 0 of the image. */
	jmp	pvh_body

	/* Image descriptor at +0x100 (docs/x86-boot.md): where a wrapper
	 * (pcsctool wrap) says it appended the next kernel; 0 in the plain
	 * image. The sizes a wrapper needs are the ELF's PT_LOAD filesz/memsz
	 * (a PIE cannot hold link-time sizes here without a relocation). */
	.org	X86_HDR_OFF
	.globl pcsc_x86_hdr
pcsc_x86_hdr:
	.ascii	PCSC_X86_HDR_MAGIC		/* include/pcsc/wrap.h */
	.long	PCSC_X86_HDR_VERSION
	.long	0				/* flags */
	.quad	0				/* next_offset: embedded bzImage, from +0 */
	.quad	0				/* next_size */

	/* The 64-bit entry sits at +0x200, where the bzImage 64-bit boot
	 * protocol (and kexec's bzImage64 loader) jumps. */
	.org	X86_ENTRY64_OFF
	.code64
	.globl entry64
entry64:
	/* Purgatory-style entry: long mode, paging on with (at least) us and
	 * boot_params identity mapped, rsi = boot_params, any stack, any GDT. */
	cli
	cld
	movq	%rsi, %r12			/* boot_params */
	xorl	%r13d, %r13d			/* no PVH start info */
	movl	$X86_ENTRY_64, %r14d
	/* BSS first: our stack, GDT pointer and page tables live there. */
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq
	leaq	x86_stack_top(%rip), %rsp
	/* Our own GDT: the caller's may live in memory the next kernel reuses. */
	leaq	x86_gdt(%rip), %rax
	movq	%rax, x86_gdt_desc+2(%rip)
	lgdt	x86_gdt_desc(%rip)
	pushq	$X86_GDT_CODE64
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq					/* reload CS from our GDT */
1:	movl	$X86_GDT_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs			/* FS/GS bases set by MSR below */
	movl	%eax, %gs
	jmp	common64

	.code32
pvh_body:
	cli
	cld
	movl	$X86_LOAD_ADDR, %ebp
	movl	%ebx, %esi			/* keep start info across stosl */
	leal	(__bss_start - pvh_start32)(%ebp), %edi
	leal	(__bss_end - pvh_start32)(%ebp), %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl

	/* Bootstrap map: our image only (2 MiB pages from 0 to its end; the
	 * PVH note puts it at 1 MiB, so one PD). x86_paging_init replaces it
	 * with tables built from the memory map before anything else is read;
	 * the start info is mapped there. */
	leal	(x86_boot_pdpt - pvh_start32)(%ebp), %eax
	orl	$0x3, %eax			/* present | writable */
	movl	%eax, (x86_boot_pml4 - pvh_start32)(%ebp)
	leal	(x86_boot_pd - pvh_start32)(%ebp), %eax
	orl	$0x3, %eax
	movl	%eax, (x86_boot_pdpt - pvh_start32)(%ebp)
	leal	(x86_boot_pd - pvh_start32)(%ebp), %edi
	leal	(__image_end - pvh_start32 + 0x1fffff)(%ebp), %ecx
	shrl	$21, %ecx			/* 2 MiB pages up to our end */
	movl	$0x83, %eax			/* present | writable | 2 MiB page */
3:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	3b

	movl	%cr4, %eax
	orl	$0x20, %eax			/* PAE: required by long mode */
	movl	%eax, %cr4
	leal	(x86_boot_pml4 - pvh_start32)(%ebp), %eax
	movl	%eax, %cr3
	movl	$X86_MSR_EFER, %ecx
	rdmsr
	orl	$0x100, %eax			/* LME */
	wrmsr
	/* lgdt and the far jump need absolute addresses: build them in place. */
	leal	(x86_gdt - pvh_start32)(%ebp), %eax
	movl	%eax, (x86_gdt_desc + 2 - pvh_start32)(%ebp)
	lgdt	(x86_gdt_desc - pvh_start32)(%ebp)
	leal	(pvh_long - pvh_start32)(%ebp), %eax
	movl	%eax, (x86_farptr - pvh_start32)(%ebp)
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* PG | PE: long mode becomes active */
	movl	%eax, %cr0
	ljmpl	*(x86_farptr - pvh_start32)(%ebp)

	.code64
pvh_long:
	movl	$X86_GDT_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%esi, %r13d			/* start info (zero-extended) */
	xorl	%r12d, %r12d			/* boot_params come from the command line */
	movl	$X86_ENTRY_PVH, %r14d
	leaq	x86_stack_top(%rip), %rsp

common64:
	/* Self-relocate: apply every R_X86_64_RELATIVE for where we run. The
	 * value is recomputed from the addend, so running this twice is safe. */
	leaq	pvh_start32(%rip), %r8
	subq	$X86_LOAD_ADDR, %r8		/* load delta */
	leaq	__rela_start(%rip), %rcx
	leaq	__rela_end(%rip), %r9
4:	cmpq	%r9, %rcx
	jae	6f
	cmpl	$8, 8(%rcx)			/* ELF64_R_TYPE(r_info) == R_X86_64_RELATIVE */
	jne	5f
	movq	(%rcx), %rax
	addq	%r8, %rax			/* where, at run time */
	movq	16(%rcx), %r10
	addq	%r8, %r10			/* what, at run time */
	movq	%r10, (%rax)
	addq	$24, %rcx
	jmp	4b
5:	incq	x86_bad_relocs(%rip)		/* reported by x86_main */
	addq	$24, %rcx
	jmp	4b
6:
	/* The same relative relocations packed as RELR (ld -z
	 * pack-relative-relocs): an even entry is the link address of a word
	 * to fix up, an odd one a bitmap of the 63 words that follow the last
	 * one fixed. The addends are in place, so only the part of the delta
	 * not yet added is added (x86_relr_delta, in .data): a second pass at
	 * the same address changes nothing, as with .rela.dyn above. */
	movq	%r8, %rdx
	subq	x86_relr_delta(%rip), %rdx	/* delta still to add */
	movq	%r8, x86_relr_delta(%rip)
	leaq	__relr_start(%rip), %rcx
	leaq	__relr_end(%rip), %r9
	xorl	%r10d, %r10d			/* next word to fix up (run time) */
10:	cmpq	%r9, %rcx
	jae	14f
	movq	(%rcx), %rax
	addq	$8, %rcx
	testb	$1, %al
	jnz	11f
	leaq	(%rax,%r8), %r10		/* an address */
	addq	%rdx, (%r10)
	addq	$8, %r10
	jmp	10b
11:	movq	%r10, %r11			/* a bitmap: bit i is word i - 1 */
	shrq	$1, %rax
12:	testq	%rax, %rax
	jz	13f
	testb	$1, %al
	jz	15f
	addq	%rdx, (%r11)
15:	shrq	$1, %rax
	addq	$8, %r11
	jmp	12b
13:	addq	$63 * 8, %r10
	jmp	10b
14:
	/* SSE usable: our code is built -mgeneral-regs-only, but newlib's libc.a
	 * has SSE string routines a future link may pull in, and the PVH entry
	 * leaves CR4.OSFXSR clear (every SSE instruction would #UD). */
	movq	%cr0, %rax
	andq	$~0x4, %rax			/* EM off */
	orq	$0x2, %rax			/* MP on */
	movq	%rax, %cr0
	movq	%cr4, %rax
	orq	$0x600, %rax			/* OSFXSR | OSXMMEXCPT */
	movq	%rax, %cr4
	/* FS base -> our TLS block before any C: packaged libfdt.a is built with
	 * -fstack-protector and reads its canary at %fs:0x28. */
	leaq	pcsc_tls_block(%rip), %rax
	movq	%rax, (%rax)			/* %fs:0 points to itself (TLS ABI) */
	movq	__stack_chk_guard(%rip), %rcx
	movq	%rcx, 0x28(%rax)
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$X86_MSR_FS_BASE, %ecx
	wrmsr

	movq	%r13, %rdi
	movq	%r12, %rsi
	movl	%r14d, %edx
	call	x86_main
7:	cli
	hlt
	jmp	7b

/* x86_jump64(entry, boot_params): the 64-bit boot protocol hand-over. Our
 * GDT already has __BOOT_CS/__BOOT_DS; clear what a kernel may not assume. */
	.text
	.globl x86_jump64
x86_jump64:
	cli
	movq	%rdi, %rax
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%ebx, %ebx
	jmp	*%rax

/* Exception stubs, 16 bytes apart so C computes vector v's stub address.
 * Vectors that push an error code skip the dummy push. */
	.text
	.balign 16
	.globl x86_isr_stubs
x86_isr_stubs:
	.set	vec, 0
	.rept	32
	.balign	16
	.if	(vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	x86_isr_common
	.set	vec, vec + 1
	.endr

x86_isr_common:
	movq	%rsp, %rdi			/* frame: vector, error, rip, cs, rflags, rsp, ss */
	andq	$-16, %rsp			/* ABI stack alignment for the C handler */
	call	x86_exception
8:	cli
	hlt
	jmp	8b

	.data
	.balign 16
x86_gdt:
	.quad	0				/* null */
	.quad	0				/* 0x08: unused */
	.quad	0x00af9a000000ffff		/* 0x10: 64-bit code, DPL0 (__BOOT_CS) */
	.quad	0x00cf92000000ffff		/* 0x18: flat data (__BOOT_DS) */
x86_gdt_end:
	.balign 8
	.globl x86_gdt_desc
x86_gdt_desc:
	.word	x86_gdt_end - x86_gdt - 1
	.quad	0				/* base, filled at run time */
	.balign 8
x86_farptr:
	.long	0				/* offset, filled at run time */
	.word	X86_GDT_CODE64

/* XEN_ELFNOTE_PHYS32_ENTRY (18): QEMU's PVH loader reads the 32-bit entry
 * from this note (as a size_t, hence .quad), Linux's own layout. */
	.section .note.Xen, "a"
	.balign 4
	.long	2f - 1f				/* namesz */
	.long	4f - 3f				/* descsz */
	.long	18				/* XEN_ELFNOTE_PHYS32_ENTRY */
1:	.asciz	"Xen"
2:	.balign 4
3:	.quad	X86_LOAD_ADDR
4:	.balign 4

	.bss
	.balign 4096
x86_boot_pml4:					/* PVH bootstrap only (see pvh_body) */
	.skip	4096
x86_boot_pdpt:
	.skip	4096
x86_boot_pd:
	.skip	4096
	.balign 16
	.globl x86_stack_bottom, x86_stack_top
x86_stack_bottom:
	.skip	32768
x86_stack_top:
	.balign 64
	.globl pcsc_tls_block
pcsc_tls_block:
	.skip	64				/* %fs:0 self pointer, %fs:0x28 canary */
	.balign 8
	.globl x86_bad_relocs
x86_bad_relocs:
	.quad	0

	/* What the RELR pass above has added so far (in the file: a copy of
	 * the image starts from its link-time values). */
	.data
	.balign 8
x86_relr_delta:
	.quad	0
