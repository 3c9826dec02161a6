/* tests/qemu/x86payload/start.S - PVH entry of the test-only x86 "old kernel": stack, then payload_main(ebx).
 * Test code only; never part of the stub. Carries the stub image (STUB_BIN) to copy to 1 MiB. */
#include "pvh_note.h"
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

	pvh_entry_note _start

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
