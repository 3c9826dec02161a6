/* arch/x86/cmdline.c - the command line the pcsc.* options come from (PVH start info or boot_params) and the
 * x86 options read from it into struct x86_boot. Must never read a boot structure it has not mapped, nor act on an option itself. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/bootopt.h>
#include <pcsc/log.h>
#include <pcsc/parse.h>
#include "x86.h"

static bool cmdline_value(const char *cmdline, const char *key, char *out, size_t size)
{
	return pcsc_bootopt_value(cmdline, X86_CMDLINE_MAX, key, out, size);
}

/* Copy the NUL-terminated string at phys (bounded) into out. */
static void copy_cmdline(uint64_t phys, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	if (!phys || x86_map_identity(phys, size, false))
		return;
	for (const char *s = (const char *)(uintptr_t)phys; n + 1 < size && s[n]; n++)
		out[n] = s[n];
	out[n] = '\0';
}

/* The command line the pcsc.* options come from: PVH's own (QEMU -append),
 * else the one in boot_params (the next kernel's, as kexec passes it). */
void x86_cmdline_parse(struct x86_boot *b)
{
	char v[32];
	uint64_t bp;

	if (b->start_info && !x86_map_identity(b->start_info, PVH_START_INFO_LEN, false) &&
	    rd32(b->start_info + PVH_OFF_MAGIC) == PVH_START_MAGIC)
		b->cmdline_phys = rd64(b->start_info + PVH_OFF_CMDLINE);
	else if (b->boot_params && !x86_map_identity(b->boot_params, BP_SIZE, false))
		b->cmdline_phys = rd32(b->boot_params + BP_CMD_LINE_PTR) |
				  (uint64_t)rd32(b->boot_params + BP_EXT_CMD_LINE_PTR) << 32;
	copy_cmdline(b->cmdline_phys, b->cmdline, sizeof(b->cmdline));

	b->debug_exit = cmdline_value(b->cmdline, "pcsc.exit", v, sizeof(v)) &&
			!strcmp(v, "debug");
	b->ecam_off = cmdline_value(b->cmdline, "pcsc.ecam", v, sizeof(v)) &&
		      !strcmp(v, "off");
	if (cmdline_value(b->cmdline, "pcsc.x86.selftest", v, sizeof(v))) {
		static char selftest[32];

		memcpy(selftest, v, sizeof(selftest));
		b->selftest = selftest;
	}
	/* PVH test entry: a next kernel's bzImage the test placed in RAM
	 * (the wrapped image says it in pcsc_x86_hdr instead). */
	if (b->entry == X86_ENTRY_PVH &&
	    cmdline_value(b->cmdline, "pcsc.x86.next", v, sizeof(v))) {
		char *comma = strchr(v, ',');

		if (!comma || (*comma = '\0', !pcsc_parse_u64_str(v, &b->next_src)) ||
		    !pcsc_parse_u64_str(comma + 1, &b->next_size) || !b->next_src || !b->next_size) {
			pcsc_log("pcsc: pcsc.x86.next not ADDR,SIZE: ignored");
			b->next_src = b->next_size = 0;
		}
	}
	/* PVH test entry: the boot_params page the test placed in RAM. */
	if (b->entry == X86_ENTRY_PVH &&
	    cmdline_value(b->cmdline, "pcsc.boot_params", v, sizeof(v))) {
		if (pcsc_parse_u64_str(v, &bp) && bp && !(bp & 0xfff))
			b->boot_params = bp;
		else
			pcsc_log("pcsc: pcsc.boot_params=%s ignored: not a page address", v);
	}
}
