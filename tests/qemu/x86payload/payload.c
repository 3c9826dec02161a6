/* tests/qemu/x86payload/payload.c - test-only x86 "old kernel": enables SR-IOV VFs through ECAM as Linux would,
 * copies the stub to 1 MiB and enters its PVH entry with the same start info. Never used outside QEMU tests. */
#include <stdint.h>
#include "com1.h"

/* Set by the test at build time, from what the machine reported. */
#ifndef ECAM_BASE
#error ECAM_BASE
#endif
#ifndef NUMVFS
#define NUMVFS 0xffffffffu	/* all of TotalVFs */
#endif
#define STUB_ADDR	0x100000u

void payload_main(uint32_t start_info);
extern const char stub_image[], stub_image_end[];

static void puthex(uint32_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		putc_("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

static volatile uint32_t *cfg32(uint32_t bus, uint32_t devfn, uint32_t reg)
{
	return (volatile uint32_t *)(uintptr_t)(ECAM_BASE + (bus << 20) + (devfn << 12) + reg);
}

static volatile uint16_t *cfg16(uint32_t bus, uint32_t devfn, uint32_t reg)
{
	return (volatile uint16_t *)(uintptr_t)(ECAM_BASE + (bus << 20) + (devfn << 12) + reg);
}

/* Every function on every bus: find SR-IOV, set NumVFs, VF Enable + VF MSE. */
static void enable_vfs(void)
{
	for (uint32_t bus = 0; bus < 256; bus++) {
		for (uint32_t devfn = 0; devfn < 256; devfn++) {
			uint32_t off = 0x100;

			if ((*cfg32(bus, devfn, 0) & 0xffff) == 0xffff)
				continue;
			for (int hops = 0; hops < 64 && off >= 0x100; hops++) {
				uint32_t h = *cfg32(bus, devfn, off);

				if (h == 0 || h == 0xffffffffu)
					break;
				if ((h & 0xffff) == 0x0010) {
					uint32_t total = *cfg16(bus, devfn, off + 0x0e);
					uint32_t n = NUMVFS < total ? NUMVFS : total;

					*cfg16(bus, devfn, off + 0x10) = (uint16_t)n;
					*cfg16(bus, devfn, off + 0x08) |= 0x0009;
					puts_("payload: ");
					puthex(bus, 2);
					putc_(':');
					puthex(devfn >> 3, 2);
					putc_('.');
					puthex(devfn & 7, 1);
					puts_(" numvfs ");
					puthex(n, 4);
					puts_("\r\n");
					break;
				}
				off = (h >> 20) & 0xffc;
			}
		}
	}
}

void payload_main(uint32_t start_info)
{
	const char *s = stub_image;
	char *d = (char *)(uintptr_t)STUB_ADDR;

	puts_("payload: x86 old kernel\r\n");
	enable_vfs();
	while (s < stub_image_end)
		*d++ = *s++;
	puts_("payload: entering the stub (pvh)\r\n");
	__asm__ volatile("movl %0, %%ebx; jmp *%1" : : "r"(start_info), "r"(STUB_ADDR) : "ebx");
	for (;;)
		;
}
