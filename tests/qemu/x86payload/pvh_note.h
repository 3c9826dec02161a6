/* tests/qemu/x86payload/pvh_note.h - the PVH entry note of the test-only x86 old kernels (start.S,
 * entry64.S), as an assembler macro. Test code only; never part of the stub. */
#ifndef X86PAYLOAD_PVH_NOTE_H
#define X86PAYLOAD_PVH_NOTE_H

	/* XEN_ELFNOTE_PHYS32_ENTRY (18) naming entry: QEMU reads it as a size_t. */
	.macro	pvh_entry_note entry
	.pushsection .note.Xen, "a"
	.balign 4
	.long	4, 8, 18
	.asciz	"Xen"
	.balign 4
	.long	\entry, 0
	.popsection
	.endm

#endif
