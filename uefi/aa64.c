/* uefi/aa64.c - aa64 hooks of the EFI app: the stack protector's guard, MMIO.
 * It must never touch system registers the firmware owns (MMU, caches, VBAR). */
#include "efi_app.h"

const char efi_arch_name[] = "aa64";

/* gcc's aarch64 stack protector (packaged libfdt.a has it) reads this
 * global; set from the counter at entry, before any protected code runs. */
uintptr_t __stack_chk_guard = (uintptr_t)0x00e1f5a6c3d2b4f0ULL;

void efi_arch_enter(void)
{
	static bool seeded;
	uint64_t cnt;

	/* Chosen once: frames live across a leave/enter pair must still find
	 * their value. The low byte stays 0 so a string overflow stops at it. */
	if (seeded)
		return;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(cnt));
	__stack_chk_guard = (uintptr_t)((__stack_chk_guard ^ cnt * 0x9e3779b97f4a7c15ull) &
				       ~0xffull);
	seeded = true;
}

void efi_arch_leave(void)
{
	/* Nothing to undo: the guard is our own variable. */
}

uint32_t efi_arch_mmio_read32(uint64_t addr)
{
	uint32_t v;

	/* UEFI maps ECAM as Device memory: one aligned ldr, never merged. */
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"((uintptr_t)addr) : "memory");
	return v;
}
