/* tests/qemu/payload/start.S - Image header and entry of the test payload that
 * plays the old kernel. Test-only: never part of the stub. */
	.section .head.text, "ax"
	.globl	_start
_start:
	b	entry
	.long	0
	.quad	0			/* text_offset */
	.quad	_payload_size		/* image_size (absolute: linked at 0, no PIE) */
	.quad	0xa			/* LE, 4K, anywhere */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0
	/* 0x40: parameters the test patches into the file (struct payload_params). */
	.globl	payload_params
payload_params:
	.ascii	"PCSCTPAY"
	.fill	14, 8, 0

	.text
entry:
	mov	x19, x0			/* DTB, handed on to the stub */
	adrp	x9, _stack_top
	add	x9, x9, :lo12:_stack_top
	mov	sp, x9
	bl	payload_main		/* (x0..x3 as entered) -> address to enter */
	mov	x4, x0
	mov	x0, x19
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x4
