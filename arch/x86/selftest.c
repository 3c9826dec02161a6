/* arch/x86/selftest.c - pcsc.x86.selftest=pf|ud|chain64@ADDR, run by x86_main before the flow starts: a fault on purpose
 * (the exception path) or a kexec-style entry of a second copy of the stub. Must never run from the session or the jump to the next kernel. */
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/log.h>
#include <pcsc/parse.h>
#include "x86.h"

void x86_selftest(const char *what, uint64_t boot_params)
{
	uint64_t to;

	/* chain64@ADDR: the 64-bit entry of a second copy of the stub at ADDR
	 * (placed by the test as a flat binary), entered exactly as kexec
	 * would: rsi = boot_params. */
	if (!strncmp(what, "chain64@", 8) && pcsc_parse_u64_str(what + 8, &to)) {
		if (!boot_params || x86_map_identity(to, 2 << 20, false)) {
			pcsc_log("pcsc: selftest chain64: no boot_params/RAM at 0x%llx",
				 (unsigned long long)to);
			arch_poweroff(X86_EXIT_FATAL);
		}
		pcsc_log("pcsc: x86 selftest chain64 to 0x%llx", (unsigned long long)(to + X86_ENTRY64_OFF));
		x86_paging_handover();
		x86_jump64(to + X86_ENTRY64_OFF, boot_params);
	}
	if (!strcmp(what, "pf")) {
		/* 1 TiB + 0x123: never mapped by us (no RAM, ECAM or firmware
		 * table of a test machine is there). */
		(void)arch_mmio_read32(0x10000000123ull);
	} else if (!strcmp(what, "ud")) {
		__builtin_trap();
	}
	pcsc_log("pcsc: x86 selftest '%s' unknown", what);
}
