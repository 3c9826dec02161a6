/* arch/x86/x86.c - the C entry from head.S: console, IDT, own page tables, command line, selftests, then stub_main.
 * Must never be called back by another file of arch/x86 (the call graph is in x86.h), nor do any of their jobs itself. */
#include <stdint.h>
#include <pcsc/arch.h>
#include <pcsc/bootopt.h>
#include <pcsc/log.h>
#include "x86.h"

static struct x86_boot x86_boot;
static struct stub_platform x86_plat;

__attribute__((noreturn)) void x86_main(uint64_t start_info, uint64_t boot_params, int entry)
{
	x86_serial_init();
	pcsc_log_set_sink(x86_log_sink);
	/* Until pcsc.report= is parsed, details are held, not printed. */
	pcsc_log_defer();
	x86_idt_init(&x86_plat);
	x86_paging_init();

	x86_boot.entry = entry;
	x86_boot.start_info = start_info;
	x86_boot.boot_params = boot_params;
	x86_cmdline_parse(&x86_boot);
	x86_poweroff_debug_exit(x86_boot.debug_exit);
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
		pcsc_log("pcsc: x86 image: %llu non-RELATIVE relocations",
			 (unsigned long long)x86_bad_relocs);
		arch_poweroff(X86_EXIT_FATAL);
	}
	if (x86_boot.selftest)
		x86_selftest(x86_boot.selftest, x86_boot.boot_params);

	x86_plat.arch = &x86_boot;
	stub_main(&x86_plat);
}
