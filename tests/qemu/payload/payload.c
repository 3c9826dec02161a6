/* tests/qemu/payload/payload.c - the "old kernel" for QEMU tests: numbers bridges
 * depth-first as Linux does and enables SR-IOV VFs, then enters the stub.
 * Test-only code, the only code in the project that writes config space. */
#include <stdint.h>

/* Patched into the file by tests/qemu/conftest.py (offset 0x40). */
struct payload_params {
	char magic[8];		/* "PCSCTPAY" */
	uint64_t ecam;		/* ECAM base of bus 0 (from the stub's own report) */
	uint64_t uart;		/* PL011 base, 0 = silent */
	uint64_t next;		/* where the stub was loaded (-device loader) */
	uint64_t numvfs;	/* VFs to enable per PF; ~0 = TotalVFs, 0 = none */
	uint64_t number_buses;	/* 1: assign bridge bus numbers */
	uint64_t psci;		/* next == 0: power off via 1 hvc / 2 smc */
	uint64_t set_e2h;	/* 1: at EL2, set HCR_EL2.E2H before entering */
	uint64_t reserved[7];
};

extern struct payload_params payload_params;
uint64_t payload_main(uint64_t dtb, uint64_t x1, uint64_t x2, uint64_t x3);

static uint64_t ecam;
static unsigned int nbridges, npfs, nvfs;

static uint64_t cfg_addr(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	return ecam + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12) + reg;
}

static uint32_t rd32(unsigned int b, unsigned int d, unsigned int f, unsigned int r)
{
	return *(volatile uint32_t *)cfg_addr(b, d, f, r);
}

static void wr32(unsigned int b, unsigned int d, unsigned int f, unsigned int r, uint32_t v)
{
	*(volatile uint32_t *)cfg_addr(b, d, f, r) = v;
}

static void wr16(unsigned int b, unsigned int d, unsigned int f, unsigned int r, uint16_t v)
{
	*(volatile uint16_t *)cfg_addr(b, d, f, r) = v;
}

static void putc_(char c)
{
	volatile uint32_t *u = (volatile uint32_t *)payload_params.uart;

	if (!u)
		return;
	while (u[0x18 / 4] & (1u << 5))
		;
	u[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
	for (; *s; s++)
		putc_(*s);
}

static void puthex(uint64_t v)
{
	int i;

	puts_("0x");
	for (i = 60; i > 0 && !(v >> i); i -= 4)
		;
	for (; i >= 0; i -= 4)
		putc_("0123456789abcdef"[(v >> i) & 0xf]);
}

static void putdec(unsigned int v)
{
	char buf[12];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i < 11);
	while (i)
		putc_(buf[--i]);
}

/* SR-IOV: NumVFs then VF Enable + VF MSE, as Linux's sriov_enable does. */
static void enable_vfs(unsigned int b, unsigned int d, unsigned int f)
{
	unsigned int pos = 0x100, hops;
	uint32_t h;

	for (hops = 0; hops < 64 && pos >= 0x100; hops++) {
		h = rd32(b, d, f, pos);
		if (h == 0 || h == 0xffffffffu)
			return;
		if ((h & 0xffff) == 0x0010) {
			uint32_t total = rd32(b, d, f, pos + 0x0c) >> 16;
			uint32_t n = payload_params.numvfs;

			if (n > total)
				n = total;
			if (!n)
				return;
			wr16(b, d, f, pos + 0x10, (uint16_t)n);
			wr16(b, d, f, pos + 0x08, 0x0009);
			npfs++;
			nvfs += n;
			return;
		}
		pos = (h >> 20) & 0xffc;
	}
}

/* Depth-first like Linux's pci_scan_bridge: secondary = max + 1,
 * subordinate 0xff while scanning below, then the real maximum. */
static unsigned int scan_bus(unsigned int bus, unsigned int depth)
{
	unsigned int max = bus, d, f, nfn;

	for (d = 0; d < 32; d++) {
		uint32_t id = rd32(bus, d, 0, 0);

		if ((id & 0xffff) == 0xffff)
			continue;
		nfn = (rd32(bus, d, 0, 0x0c) >> 16) & 0x80 ? 8 : 1;
		for (f = 0; f < nfn; f++) {
			uint32_t hdr;

			if ((rd32(bus, d, f, 0) & 0xffff) == 0xffff)
				continue;
			hdr = (rd32(bus, d, f, 0x0c) >> 16) & 0x7f;
			if (hdr == 1 && payload_params.number_buses && depth < 16 && max < 255) {
				uint32_t v = rd32(bus, d, f, 0x18) & 0xff000000u;
				unsigned int sec = max + 1;

				wr32(bus, d, f, 0x18, v | 0xff0000u | (sec << 8) | bus);
				max = scan_bus(sec, depth + 1);
				wr32(bus, d, f, 0x18, v | (max << 16) | (sec << 8) | bus);
				nbridges++;
			} else if (hdr == 0 && payload_params.numvfs) {
				enable_vfs(bus, d, f);
			}
		}
	}
	return max;
}

/* As the next kernel: report how we were entered (booting.rst: x0 = DTB,
 * x1-x3 = 0, MMU off, D-cache off), then power off. */
static void as_next_kernel(uint64_t dtb, uint64_t x1, uint64_t x2, uint64_t x3)
{
	uint64_t el, sctlr;
	const volatile uint8_t *d = (const volatile uint8_t *)dtb;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	el >>= 2;
	if (el == 2)
		__asm__ volatile("mrs %0, sctlr_el2" : "=r"(sctlr));
	else
		__asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
	puts_("next: entered EL");
	putdec((unsigned int)el);
	puts_(" x0=");
	puthex(dtb);
	puts_(d[0] == 0xd0 && d[1] == 0x0d && d[2] == 0xfe && d[3] == 0xed ? " dtb=ok" : " dtb=bad");
	puts_(x1 | x2 | x3 ? " x1-x3=nonzero" : " x1-x3=0");
	puts_(sctlr & 1 ? " mmu=on" : " mmu=off");
	puts_(sctlr & 4 ? " dcache=on\r\n" : " dcache=off\r\n");
	{
		register uint64_t x0r __asm__("x0") = 0x84000008u;	/* SYSTEM_OFF */

		if (payload_params.psci == 1)
			__asm__ volatile("hvc #0" : "+r"(x0r) : : "memory");
		else if (payload_params.psci == 2)
			__asm__ volatile("smc #0" : "+r"(x0r) : : "memory");
	}
	for (;;)
		__asm__ volatile("wfi");
}

uint64_t payload_main(uint64_t dtb, uint64_t x1, uint64_t x2, uint64_t x3)
{
	unsigned int max;

	if (!payload_params.next)
		as_next_kernel(dtb, x1, x2, x3);
	ecam = payload_params.ecam;
	max = scan_bus(0, 0);
	puts_("payload: bridges=");
	putdec(nbridges);
	puts_(" last_bus=");
	putdec(max);
	puts_(" pfs=");
	putdec(npfs);
	puts_(" vfs=");
	putdec(nvfs);
	if (payload_params.set_e2h) {
		uint64_t el, hcr;

		__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
		if ((el >> 2) == 2) {
			__asm__ volatile("mrs %0, hcr_el2" : "=r"(hcr));
			hcr |= 1ull << 34;
			__asm__ volatile("msr hcr_el2, %0; isb" : : "r"(hcr));
			puts_(" e2h=1");
		}
	}
	puts_(" -> stub\r\n");
	return payload_params.next;
}
