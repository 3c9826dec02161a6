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
	uint64_t reserved[9];
};

extern struct payload_params payload_params;
uint64_t payload_main(uint64_t dtb);

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

uint64_t payload_main(uint64_t dtb)
{
	unsigned int max;

	(void)dtb;
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
	puts_(" -> stub\r\n");
	return payload_params.next;
}
