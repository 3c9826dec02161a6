/* tests/qemu/x86payload/nextkernel.S - entries of the fake next kernel: +0 (32-bit, unused: hang) and +0x200
 * (64-bit boot protocol: rsi = boot_params). Test code only. */
	.section .text.head, "ax"
	.globl _start
_start:
	cli
1:	hlt
	jmp	1b
	.org	0x200
	.code64
entry64:
	/* rsi = boot_params; our own stack inside the image (no BSS needed). */
	leaq	stack_top(%rip), %rsp
	movq	%rsi, %rdi
	leaq	entry64(%rip), %rsi
	call	next_main
2:	hlt
	jmp	2b

	.section .data
	.balign 16
	.skip	8192
stack_top:

	.section .note.GNU-stack, "", @progbits
