/* fuzz_common.h - the input format shared by the fuzz harness and its seed generator:
 * the input IS physical RAM from FUZZ_BASE, with a FUZZ_HDR-byte header at its start. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>

#define FUZZ_BASE	0x40000000ull
/*
 * Header, little-endian, FUZZ_HDR bytes (the stub's "owned" range):
 *   0  u32 KHO root FDT offset from FUZZ_BASE
 *   4  u8  mode (% 3: quick, strict, off)
 *   5  u8  flags: bit 0 S = 4096 (else 256);
 *          bits 1-2 kho_bitmap: 0 none (512 unless proven), 1 forced 512,
 *          2 forced 4096, 3 an invalid 2048 (kho_map_read must refuse it)
 *   6  u16 0
 *   8  u32 KHO scratch array offset from FUZZ_BASE (may lie past the image)
 *  12  u32 KHO scratch array size in bytes (0 = no scratch array)
 */
#define FUZZ_HDR		16
#define FUZZ_MAX_PAGES		256	/* inputs up to 1 MiB (fuzz.mk's -max_len is 64 KiB) */
#define FUZZ_OFF_KHO		0
#define FUZZ_OFF_MODE		4
#define FUZZ_OFF_FLAGS		5
#define FUZZ_OFF_SCRATCH	8
#define FUZZ_OFF_SCRATCH_SIZE	12
#define FUZZ_FLAG_S4096		0x01u
#define FUZZ_FLAG_BITMAP(f)	(((f) >> 1) & 3u)
#define FUZZ_BITMAP_FLAG(k)	((uint8_t)((k) << 1))	/* k = 0..3 as above */

static const uint32_t fuzz_bitmaps[4] = { 0, 512, 4096, 2048 };

/* The simulated machine every input is verified against. */
static const char fuzz_topo[] =
	"window 0 00 0f\n"
	"00:01.0 8086:10d3 class=020000\n"
	"00:02.0 1af4:1041 class=020000\n"
	"00:03.0 8086:1572 class=020000 sriov=8,2,0x80,1,154c,enabled\n"
	"00:05.0 1234:1111 class=010802\n";

#endif
