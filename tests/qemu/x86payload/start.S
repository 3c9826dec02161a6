/* tests/qemu/x86payload/start.S - PVH entry of the test-only x86 "old kernel": stack, then payload_main(ebx).
 * Test code only; never part of the stub. Carries the stub image (STUB_BIN) to copy to 1 MiB. */
	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl	$stack_top, %esp
	pushl	%ebx			/* hvm_start_info, handed on to the stub */
	call	payload_main
1:	hlt
	jmp	1b

	/* XEN_ELFNOTE_PHYS32_ENTRY: QEMU reads it as a size_t. */
	.section .note.Xen, "a"
	.balign 4
	.long	4, 8, 18
	.asciz	"Xen"
	.balign 4
	.long	_start, 0

	.section .rodata.stub, "a"
	.balign 4096
	.globl stub_image, stub_image_end
stub_image:
	.incbin	STUB_BIN
stub_image_end:

	.bss
	.balign 16
	.skip	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
