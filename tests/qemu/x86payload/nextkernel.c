/* tests/qemu/x86payload/nextkernel.c - test-only fake "next kernel" (protected-mode part of a bzImage): reports
 * how the stub entered it (rip, rsi, selectors, IF, merged boot_params, KHO setup_data) on COM1 and exits QEMU. Test code only. */
#include <stdint.h>
#include "com1.h"

void next_main(uint64_t bp, uint64_t rip);

static void hex(uint64_t v)
{
	int started = 0;

	puts_("0x");
	for (int i = 15; i >= 0; i--) {
		unsigned int d = (v >> (4 * i)) & 0xf;

		if (d || started || i == 0) {
			putc_("0123456789abcdef"[d]);
			started = 1;
		}
	}
}

static uint64_t rd(uint64_t a, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | *(volatile uint8_t *)(a + i);
	return v;
}

/* A real kernel reads nothing outside RAM through the loader's identity map
 * (the stub maps RAM, not every address): [a, a+n) in one e820 RAM entry. */
static int in_e820_ram(uint64_t bp, uint64_t a, uint64_t n)
{
	uint64_t cnt = rd(bp + 0x1e8, 1);

	for (uint64_t i = 0; i < cnt && i < 128; i++) {
		uint64_t e = bp + 0x2d0 + 20 * i;

		if (rd(e + 16, 4) == 1 && rd(e, 8) <= a && a + n <= rd(e, 8) + rd(e + 8, 8))
			return 1;
	}
	return 0;
}

void next_main(uint64_t bp, uint64_t rip)
{
	uint64_t flags, sd;
	uint16_t cs, ds, ss;
	int hops;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	__asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2" : "=r"(cs), "=r"(ds), "=r"(ss));
	puts_("next: entry64 at ");
	hex(rip);
	puts_(" rsi ");
	hex(bp);
	puts_(" cs ");
	hex(cs);
	puts_(" ds ");
	hex(ds);
	puts_(" ss ");
	hex(ss);
	puts_(" if ");
	hex((flags >> 9) & 1);
	puts_("\r\nnext: hdr ");
	for (int i = 0; i < 4; i++)
		putc_((char)rd(bp + 0x202 + i, 1));
	puts_(" version ");
	hex(rd(bp + 0x206, 2));
	puts_(" loader ");
	hex(rd(bp + 0x210, 1));
	puts_(" code32_start ");
	hex(rd(bp + 0x214, 4));
	puts_(" init_size ");
	hex(rd(bp + 0x260, 4));
	puts_(" e820_entries ");
	hex(rd(bp + 0x1e8, 1));
	puts_("\r\nnext: cmdline ");
	puts_((const char *)rd(bp + 0x228, 4));
	puts_("\r\n");
	sd = rd(bp + 0x250, 8);
	for (hops = 0; sd && hops < 16; hops++) {
		puts_("next: setup_data type ");
		hex(rd(sd + 8, 4));
		puts_(" len ");
		hex(rd(sd + 12, 4));
		if (rd(sd + 8, 4) == 10) {
			uint64_t fdt = rd(sd + 16, 8);

			puts_(" kho fdt ");
			hex(fdt);
			if (!in_e820_ram(bp, fdt, 4)) {
				puts_(" not in RAM");
			} else {
				puts_(" magic ");
				hex((rd(fdt, 1) << 24) | (rd(fdt + 1, 1) << 16) |
				    (rd(fdt + 2, 1) << 8) | rd(fdt + 3, 1));
			}
		}
		puts_("\r\n");
		sd = rd(sd, 8);
	}
	puts_("next: done\r\n");
	outl(0xf4, 0x20);		/* QEMU exits (0x20 << 1) | 1 = 65 */
	for (;;)
		__asm__ volatile("cli; hlt");
}
