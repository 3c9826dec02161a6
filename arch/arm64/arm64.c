/* arch/arm64/arm64.c - the arm64 hooks of pcsc/arch.h: console (PL011/16550
 * from the DTB), MMIO, caches, timer, PSCI, exceptions. Never writes PCI config space. */
#include <libfdt.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include "arm64.h"

#define PL011_DR		0x00
#define PL011_FR		0x18
#define  PL011_FR_TXFF		(1u << 5)
#define UART8250_LSR		0x05
#define  UART8250_LSR_THRE	(1u << 5)
/* Polls per byte before giving up: a stuck UART must not hang the jump. */
#define UART_SPIN_MAX		100000
#define PSCI_0_2_FN_SYSTEM_OFF	0x84000008u

unsigned int arm64_el;
const void *arm64_dtb;

static struct dt_console console;
/* 8250/16550: register i at base + (i << reg_shift), reg_io_width bytes. */
static unsigned int uart_shift;
static unsigned int uart_width = 1;
static enum dt_psci_method psci;
static struct stub_platform platform;

uint32_t arch_mmio_read32(uint64_t addr)
{
	uint32_t v;

	/* One 32-bit load the compiler can neither split nor merge. */
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static uint8_t mmio_read8(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return (uint8_t)v;
}

static void mmio_write8(uint64_t addr, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"((uint32_t)v), "r"(addr) : "memory");
}

void arch_putc(char c)
{
	unsigned int spin;

	switch (console.kind) {
	case DT_CONSOLE_PL011:
		for (spin = 0; spin < UART_SPIN_MAX; spin++)
			if (!(arch_mmio_read32(console.base + PL011_FR) & PL011_FR_TXFF))
				break;
		mmio_write32(console.base + PL011_DR, (uint8_t)c);
		break;
	case DT_CONSOLE_NS16550: {
		uint64_t lsr = console.base + ((uint64_t)UART8250_LSR << uart_shift);

		for (spin = 0; spin < UART_SPIN_MAX; spin++)
			if ((uart_width == 4 ? arch_mmio_read32(lsr) : mmio_read8(lsr)) &
			    UART8250_LSR_THRE)
				break;
		if (uart_width == 4)
			mmio_write32(console.base, (uint8_t)c);
		else
			mmio_write8(console.base, (uint8_t)c);
		break;
	}
	default:
		break;
	}
}

static void console_sink(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		/* Serial terminals want CR LF; tests strip the CR. */
		if (line[i] == '\n')
			arch_putc('\r');
		arch_putc(line[i]);
	}
}

void arch_dcache_clean(uint64_t addr, uint64_t len)
{
	uint64_t ctr, line, end = addr + len;

	if (!len)
		return;
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ull << ((ctr >> 16) & 0xf);
	for (addr &= ~(line - 1); addr < end; addr += line)
		__asm__ volatile("dc cvac, %0" : : "r"(addr) : "memory");
	__asm__ volatile("dsb sy" : : : "memory");
}

uint64_t arch_timer_ticks(void)
{
	uint64_t v;

	/* isb: do not let the counter read float above earlier work. */
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

uint64_t arch_timer_hz(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

static void psci_call(uint32_t fn)
{
	register uint64_t x0 __asm__("x0") = fn;

	/* An hvc at EL2 would trap to ourselves: there only smc can reach
	 * the PSCI implementation. */
	if (psci == DT_PSCI_HVC && arm64_el < 2)
		__asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "x4", "x5", "x6",
				 "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
				 "x16", "x17", "memory");
	else if (psci != DT_PSCI_NONE)
		__asm__ volatile("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "x4", "x5", "x6",
				 "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
				 "x16", "x17", "memory");
}

void arch_poweroff(int code)
{
	pcsc_log("pcsc: poweroff %d", code);
	psci_call(PSCI_0_2_FN_SYSTEM_OFF);
	/* No PSCI, or it returned: park the CPU. */
	for (;;)
		__asm__ volatile("wfi");
}

/* The exception syndrome registers of the EL we run at (entered at EL2 we
 * stay there, see head.S). */
#define READ_EL_SYSREG(reg) ({						\
	uint64_t v_;							\
	if (arm64_el == 2)						\
		__asm__ volatile("mrs %0, " #reg "_el2" : "=r"(v_));	\
	else								\
		__asm__ volatile("mrs %0, " #reg "_el1" : "=r"(v_));	\
	v_;								\
})

void arm64_exception(uint64_t idx, const uint64_t *regs)
{
	static unsigned int depth;
	uint64_t elr = READ_EL_SYSREG(elr);

	if (depth++) {
		/* A fault while reporting one: no more printing, just stop. */
		psci_call(PSCI_0_2_FN_SYSTEM_OFF);
		for (;;)
			__asm__ volatile("wfi");
	}
	pcsc_log_release();	/* before the level is known: the context too */
	pcsc_log_at(PCSC_LOG_ALERT, "pcsc: exception vector=%u esr=0x%llx elr=0x%llx (image+0x%llx) far=0x%llx lr=0x%llx",
		 (unsigned int)idx, (unsigned long long)READ_EL_SYSREG(esr), (unsigned long long)elr,
		 (unsigned long long)(elr - (uint64_t)(uintptr_t)_head),
		 (unsigned long long)READ_EL_SYSREG(far), (unsigned long long)regs[30]);
	if (platform.has_next) {
		/* We stopped somewhere in the flow: the next kernel must not
		 * trust a cache we may not have finished judging. */
		stub_kho_last_resort(&platform);
		arch_boot_next(&platform);
	}
	arch_poweroff(3);
}

/* reg-shift / reg-io-width of an 8250 node (DT binding defaults 0 / 1);
 * anything but 1 or 4 bytes wide keeps byte accesses. */
static void uart_layout(const void *fdt, int node)
{
	const uint8_t *p;
	int len;

	p = fdt_getprop(fdt, node, "reg-shift", &len);
	if (p && len == 4 && p[3] < 8 && !(p[0] | p[1] | p[2]))
		uart_shift = p[3];
	p = fdt_getprop(fdt, node, "reg-io-width", &len);
	if (p && len == 4 && p[3] == 4 && !(p[0] | p[1] | p[2]))
		uart_width = 4;
}

void arm64_main(const void *dtb, unsigned int el)
{
	int rc;

	arm64_el = el;
	arm64_dtb = dtb;
	/* Without a readable DTB there is no console and no PSCI: nothing
	 * can be said, and arch_poweroff parks the CPU. */
	rc = dt_check(dtb, DTB_MAX_SIZE);
	if (!rc) {
		if (dt_console_find(dtb, &console))
			console.kind = DT_CONSOLE_NONE;
		if (console.kind == DT_CONSOLE_NS16550)
			uart_layout(dtb, console.node);
		if (dt_psci_method(dtb, &psci))
			psci = DT_PSCI_NONE;
	}
	pcsc_log_set_sink(console_sink);
	/* Until pcsc.report= is parsed, details are held, not printed. */
	pcsc_log_defer();
	pcsc_log("pcsc: arm64 entry EL%u image 0x%llx-0x%llx dtb 0x%llx", el,
		 (unsigned long long)(uintptr_t)_head, (unsigned long long)(uintptr_t)_end,
		 (unsigned long long)(uintptr_t)dtb);
	if (rc) {
		pcsc_log("pcsc: dtb unusable: %s", pcsc_strerror(rc));
		arch_poweroff(2);
	}
	/* The map the flow runs on, from what the DTB says: switched to
	 * before anything but the DTB (and a UEFI memory map) was read. */
	arm64_mem_discover(dtb, &arm64_mem);
	arm64_mmu_final(dtb, fdt_totalsize(dtb),
			console.kind == DT_CONSOLE_NONE ? 0 : console.base, &arm64_mem);
	platform.arch = (void *)(uintptr_t)dtb;
	stub_main(&platform);
}
