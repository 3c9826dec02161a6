/* fuzz_common.h - the input format shared by the fuzz harness and its seed generator:
 * the input IS physical RAM from FUZZ_BASE, with an 8-byte header at its start. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>

#define FUZZ_BASE	0x40000000ull
#define FUZZ_HDR	8	/* u32 kho_fdt offset, u8 mode, u8 S (bit 0: 4096), u16 0 */

/* The simulated machine every input is verified against. */
static const char fuzz_topo[] =
	"window 0 00 0f\n"
	"00:01.0 8086:10d3 class=020000\n"
	"00:02.0 1af4:1041 class=020000\n"
	"00:03.0 8086:1572 class=020000 sriov=8,2,0x80,1,154c,enabled\n"
	"00:05.0 1234:1111 class=010802\n";

#endif
