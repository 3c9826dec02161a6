/* arch/x86/machine.c - the machine hooks of include/pcsc/arch.h: MMIO reads, cache ordering, the TSC timer, power off.
 * Must never write PCI config space, print on the quiet way out, or call anything above it in arch/x86. */
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/arch.h>
#include <pcsc/log.h>
#include "x86.h"

/* --------------------------------------------------------------- MMIO ---- */
uint32_t arch_mmio_read32(uint64_t addr)
{
	uint32_t v;

	/* One movl the compiler cannot merge, split or drop. */
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

void arch_dcache_clean(uint64_t addr, uint64_t len)
{
	/* x86 caches are coherent with every agent the next kernel uses; only
	 * order our stores before the jump. */
	(void)addr;
	(void)len;
	__asm__ volatile("mfence" : : : "memory");
}

/* -------------------------------------------------------------- timer ---- */
static uint64_t tsc_hz;

uint64_t arch_timer_ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The TSC against 10 ms of PIT channel 2 (1.193182 MHz), once. A PIT that
 * never fires leaves the loop after its budget and we report 1 GHz. */
uint64_t arch_timer_hz(void)
{
	uint64_t t0, t1;
	unsigned int i;

	if (tsc_hz)
		return tsc_hz;
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));	/* gate on, speaker off */
	outb(0x43, 0xb0);		/* channel 2, lo/hi byte, mode 0 */
	outb(0x42, 11932 & 0xff);	/* 10 ms */
	outb(0x42, 11932 >> 8);
	t0 = arch_timer_ticks();
	for (i = 0; i < 50000000u; i++)
		if (inb(0x61) & 0x20)
			break;
	t1 = arch_timer_ticks();
	tsc_hz = (i < 50000000u && t1 > t0) ? (t1 - t0) * 100 : 1000000000ull;
	return tsc_hz;
}

/* -------------------------------------------------------------- power ---- */
/* How to leave, as the command line (pcsc.exit=debug) and the FADT said. */
static bool debug_exit;
static uint16_t reset_port;
static uint8_t reset_value;

void x86_poweroff_debug_exit(bool on)
{
	debug_exit = on;
}

void x86_poweroff_reset_reg(uint16_t port, uint8_t value)
{
	reset_port = port;
	reset_value = value;
}

__attribute__((noreturn)) void x86_poweroff_quiet(int code)
{
	if (debug_exit)
		outl(X86_DEBUG_EXIT_PORT, (uint32_t)(X86_EXIT_BASE + code));
	/* Not asked to exit QEMU (or no isa-debug-exit there): reset, in the
	 * order Linux tries: the FADT's reset register, the keyboard
	 * controller, the 0xCF9 reset control, then a triple fault. */
	if (reset_port)
		outb(reset_port, reset_value);
	for (unsigned int i = 0; i < X86_SPIN; i++)
		if (!(inb(0x64) & 0x02))
			break;
	outb(0x64, 0xfe);
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	{
		static const struct { uint16_t limit; uint64_t base; } __attribute__((packed))
			no_idt = { 0, 0 };

		__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

__attribute__((noreturn)) void arch_poweroff(int code)
{
	pcsc_log("pcsc: poweroff %d", code);
	x86_poweroff_quiet(code);
}
