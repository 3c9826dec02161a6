/* uefi/stack_chk.c - the stack protector's failure path in the EFI app.
 * It must never return into the smashed frame: it leaves through BS->Exit. */
#include "efi_app.h"

void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
	static const CHAR16 msg[] = u"pcsc: efi stack smashing detected, aborting\r\n";

	efi_arch_leave();
	if (efi_st && efi_st->ConOut)
		efi_st->ConOut->OutputString(efi_st->ConOut, (CHAR16 *)msg);
	/* Exit unwinds to whoever started the image (shell or boot manager). */
	if (efi_st)
		efi_st->BootServices->Exit(efi_image, EFI_ABORTED, 0, NULL);
	for (;;)
		__asm__ volatile("" ::: "memory");
}
