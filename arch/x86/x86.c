/* arch/x86/x86.c - the x86_64 hooks of include/pcsc/arch.h, exceptions and the C entry (paging: paging.c).
 * Must never write PCI config space, and never print from an exception taken inside the exception path. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/bootopt.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/parse.h>
#include "x86.h"

struct x86_boot x86_boot;
static struct stub_platform x86_plat;

/* ------------------------------------------------------------ console ---- */
#define COM1		0x3f8
/* The console: COM1 until the ACPI SPCR table names another I/O port. */
static uint16_t console_port = COM1;
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20
/* ~1 ms of polling at any speed we run; a missing UART never hangs us. */
#define UART_SPIN	100000

void x86_serial_init(void)
{
	uint16_t p = console_port;

	outb(p + UART_IER, 0x00);		/* polled: no interrupts */
	outb(p + UART_LCR, 0x80);		/* DLAB: divisor follows */
	outb(p + 0, 0x01);			/* 115200 baud */
	outb(p + 1, 0x00);
	outb(p + UART_LCR, 0x03);		/* 8N1 */
	outb(p + UART_FCR, 0x07);		/* FIFO on, cleared */
	outb(p + UART_MCR, 0x03);		/* DTR | RTS */
}

void x86_console_set_port(uint16_t port)
{
	console_port = port;
	x86_serial_init();
}

void arch_putc(char c)
{
	for (unsigned int i = 0; i < UART_SPIN; i++)
		if (inb(console_port + UART_LSR) & UART_LSR_THRE)
			break;
	outb(console_port + UART_THR, (uint8_t)c);
}

void x86_log_sink(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\n')
			arch_putc('\r');
		arch_putc(line[i]);
	}
}

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
/* The exit itself, with no printing: also the way out of a nested fault. */
static __attribute__((noreturn)) void poweroff_hw(int code)
{
	if (x86_boot.debug_exit)
		outl(X86_DEBUG_EXIT_PORT, (uint32_t)(X86_EXIT_BASE + code));
	/* Not asked to exit QEMU (or no isa-debug-exit there): reset, in the
	 * order Linux tries: the FADT's reset register, the keyboard
	 * controller, the 0xCF9 reset control, then a triple fault. */
	if (x86_boot.reset_port)
		outb(x86_boot.reset_port, x86_boot.reset_value);
	for (unsigned int i = 0; i < UART_SPIN; i++)
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
	poweroff_hw(code);
}

/* ---------------------------------------------------------- exceptions ---- */
struct idt_entry {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t rsvd;
} __attribute__((packed));

static struct idt_entry x86_idt[32] __attribute__((aligned(16)));

void x86_idt_init(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc;

	for (unsigned int v = 0; v < 32; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(x86_isr_stubs + 16 * v);

		x86_idt[v].off0 = (uint16_t)a;
		x86_idt[v].sel = X86_GDT_CODE64;
		x86_idt[v].ist = 0;
		x86_idt[v].type = 0x8e;		/* present, DPL0, 64-bit interrupt gate */
		x86_idt[v].off1 = (uint16_t)(a >> 16);
		x86_idt[v].off2 = (uint32_t)(a >> 32);
		x86_idt[v].rsvd = 0;
	}
	desc.limit = sizeof(x86_idt) - 1;
	desc.base = (uint64_t)(uintptr_t)x86_idt;
	__asm__ volatile("lidt %0" : : "m"(desc));
}

static volatile int in_exception;

__attribute__((noreturn)) void x86_exception(const uint64_t *frame)
{
	uint64_t cr2;

	if (in_exception++)
		poweroff_hw(X86_EXIT_EXCEPTION);	/* faulted while reporting */
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pcsc_log_release();	/* before the level is known: the context too */
	pcsc_log_at(PCSC_LOG_ALERT, "pcsc: exception vector=%u error=0x%llx rip=0x%llx (image+0x%llx) cr2=0x%llx",
		 (unsigned int)frame[0], (unsigned long long)frame[1],
		 (unsigned long long)frame[2],
		 (unsigned long long)(frame[2] - (uint64_t)(uintptr_t)__image_start),
		 (unsigned long long)cr2);
	/* Still try to leave the way the flow would: the next kernel needs no
	 * help from us, and without one the test wants an exit code. */
	if (x86_plat.has_next) {
		/* We stopped somewhere in the flow: the next kernel must not
		 * trust a cache we may not have finished judging. */
		struct kho_info ki;

		if (x86_plat.kho_fdt) {
			/* Whatever kho_open thinks of the root: detach reads
			 * what it mapped. */
			kho_open(&x86_plat.mem, x86_plat.kho_fdt, x86_plat.kho_fdt_size, &ki);
			if (handover_detach(&ki, &x86_plat.mem) > 0)
				pcsc_log("%s", "pcsc: detached the pcsc subtree from the KHO FDT");
		}
		arch_boot_next(&x86_plat);
	}
	arch_poweroff(X86_EXIT_EXCEPTION);
}

/* ----------------------------------------------------------- selftest ---- */
/* pcsc.x86.selftest=pf|ud|chain64@ADDR: prove the exception path, and the
 * 64-bit entry of a second copy of the stub at ADDR (placed by the test as a
 * flat binary), entered exactly as kexec would: rsi = boot_params. */
static void x86_selftest(const char *what)
{
	uint64_t to;

	if (!strncmp(what, "chain64@", 8) && pcsc_parse_u64_str(what + 8, &to)) {
		if (!x86_boot.boot_params || x86_map_identity(to, 2 << 20, false)) {
			pcsc_log("pcsc: x86 selftest chain64 needs pcsc.boot_params and RAM at 0x%llx",
				 (unsigned long long)to);
			arch_poweroff(X86_EXIT_FATAL);
		}
		pcsc_log("pcsc: x86 selftest chain64 to 0x%llx", (unsigned long long)(to + X86_ENTRY64_OFF));
		x86_paging_handover();
		x86_jump64(to + X86_ENTRY64_OFF, x86_boot.boot_params);
	}
	if (!strcmp(what, "pf")) {
		/* 1 TiB + 0x123: never mapped by us (no RAM, ECAM or firmware
		 * table of a test machine is there). */
		(void)arch_mmio_read32(0x10000000123ull);
	} else if (!strcmp(what, "ud")) {
		__builtin_trap();
	} else if (!strcmp(what, "pf-late")) {
		return;			/* arch_boot_next faults, just before the jump */
	}
	pcsc_log("pcsc: x86 selftest '%s' unknown", what);
}

/* --------------------------------------------------------------- entry ---- */
__attribute__((noreturn)) void x86_main(uint64_t start_info, uint64_t boot_params, int entry)
{
	x86_serial_init();
	pcsc_log_set_sink(x86_log_sink);
	/* Until pcsc.report= is parsed, details are held, not printed. */
	pcsc_log_defer();
	x86_idt_init();
	x86_paging_init();

	x86_boot.entry = entry;
	x86_boot.start_info = start_info;
	x86_boot.boot_params = boot_params;
	x86_cmdline_parse(&x86_boot);
	{
		/* The command line is known: the console level with it, so
		 * an early exit (selftests, a fault) prints what was asked. */
		struct pcsc_bootopts o;

		pcsc_bootopts_parse(x86_boot.cmdline, sizeof(x86_boot.cmdline), &o, NULL, 0);
		pcsc_log_set_report(o.report);
	}

	pcsc_log("pcsc: x86_64 entry %s image 0x%llx-0x%llx boot_params 0x%llx start_info 0x%llx",
		 entry == X86_ENTRY_PVH ? "pvh" : "64bit",
		 (unsigned long long)(uintptr_t)__image_start,
		 (unsigned long long)(uintptr_t)__image_end,
		 (unsigned long long)x86_boot.boot_params, (unsigned long long)start_info);
	if (x86_bad_relocs) {
		pcsc_log("pcsc: x86 image has %llu relocations that are not R_X86_64_RELATIVE",
			 (unsigned long long)x86_bad_relocs);
		arch_poweroff(X86_EXIT_FATAL);
	}
	if (x86_boot.selftest)
		x86_selftest(x86_boot.selftest);

	x86_plat.arch = &x86_boot;
	stub_main(&x86_plat);
}
