/* stub/main.c - the flow of SPEC §1, shared by every arch: discover, walk,
 * verify and hand over, report, jump. Never writes PCI config space. */
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include "stub.h"

static const char *const mode_names[] = { "quick", "strict", "off" };

/* What discovery found, one line per fact, so a failed boot says why. */
static void report_platform(const struct stub_platform *p)
{
	unsigned int i;

	pcsc_log("pcsc: mode %s", mode_names[p->mode <= STUB_MODE_OFF ? p->mode : 0]);
	for (i = 0; i < p->mem.ram.n; i++)
		pcsc_log("pcsc: ram 0x%llx-0x%llx",
			 (unsigned long long)p->mem.ram.r[i].start,
			 (unsigned long long)p->mem.ram.r[i].end);
	for (i = 0; i < p->ecam.n; i++) {
		const struct ecam_window *w = &p->ecam.win[i];

		pcsc_log("pcsc: ecam %04x:%02x-%02x at 0x%llx", w->seg, w->bus_start,
			 w->bus_end, (unsigned long long)w->base);
	}
	if (!p->ecam.n && !p->use_legacy)
		pcsc_log("pcsc: no ECAM window: nothing to walk");
	if (p->kho_fdt)
		pcsc_log("pcsc: kho fdt 0x%llx size 0x%llx scratch 0x%llx size 0x%llx",
			 (unsigned long long)p->kho_fdt, (unsigned long long)p->kho_fdt_size,
			 (unsigned long long)p->kho_scratch,
			 (unsigned long long)p->kho_scratch_size);
	else
		pcsc_log("pcsc: no KHO FDT");
}

void stub_main(struct stub_platform *p)
{
	uint64_t t0 = arch_timer_ticks();

	pcsc_log("pcsc: pcsc-stub " PCSC_VERSION);
	arch_platform_discover(p);
	report_platform(p);
	pcsc_log("pcsc: done in %llu us",
		 (unsigned long long)((arch_timer_ticks() - t0) * 1000000ull /
				      (arch_timer_hz() ? arch_timer_hz() : 1)));
	arch_boot_next(p);
}
