/* uefi/x64.c - x64 hooks of the EFI app: the stack protector's FS block, MMIO.
 * It must never leave the firmware's FS base changed when control returns. */
#include "efi_app.h"

const char efi_arch_name[] = "x64";

#define MSR_FS_BASE	0xc0000100u

/* gcc's x86_64 stack protector reads its canary at %fs:0x28 (packaged
 * libfdt.a is built with it). UEFI gives no guarantee about the FS base,
 * so while the app runs FS points at this block of ours (SPEC §5). */
static struct {
	uint64_t self;
	uint64_t unused[4];
	uint64_t canary;	/* offset 0x28 */
	uint64_t pad[2];
} efi_tls __attribute__((aligned(64)));

static uint64_t efi_saved_fs_base;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

void efi_arch_enter(void)
{
	static bool seeded;
	uint32_t lo, hi;

	/* A per-boot canary from the TSC, chosen once: frames live across a
	 * leave/enter pair (around ResetSystem) must still find their value.
	 * The low byte stays 0 so a string overflow stops at it. */
	if (!seeded) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		efi_tls.self = (uint64_t)(uintptr_t)&efi_tls;
		efi_tls.canary = (((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull) &
				 ~0xffull;
		seeded = true;
	}
	efi_saved_fs_base = rdmsr(MSR_FS_BASE);
	wrmsr(MSR_FS_BASE, (uint64_t)(uintptr_t)&efi_tls);
}

void efi_arch_leave(void)
{
	wrmsr(MSR_FS_BASE, efi_saved_fs_base);
}

uint32_t efi_arch_mmio_read32(uint64_t addr)
{
	uint32_t v;

	/* One movl the compiler cannot split, merge or drop. */
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"((uintptr_t)addr) : "memory");
	return v;
}
