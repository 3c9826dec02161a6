/* arch/x86/cf8.c - the legacy 0xCF8/0xCFC configuration mechanism as a pci_cfg backend (segment 0, 256 bytes).
 * Used only when the firmware publishes no MCFG; must never write anything but the address latch 0xCF8. */
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/errno.h>
#include "cf8.h"
#include "x86.h"

#define CF8_ADDR	0xcf8
#define CF8_DATA	0xcfc
#define CF8_ENABLE	0x80000000u

uint32_t x86_cf8_address(pci_sbdf_t sbdf, uint16_t reg)
{
	return CF8_ENABLE | (uint32_t)PCI_SBDF_BUS(sbdf) << 16 |
	       (uint32_t)PCI_SBDF_DEVFN(sbdf) << 8 | (reg & 0xfc);
}

static int cf8_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	(void)ctx;
	/* Mechanism #1 reaches segment 0 and the first 256 bytes only. */
	if (PCI_SBDF_SEG(sbdf) != 0 || reg >= PCI_CFG_SIZE) {
		*val = 0xffffffffu;
		return -PCSC_ENODEV;
	}
	outl(CF8_ADDR, x86_cf8_address(sbdf, reg));
	*val = inl(CF8_DATA);
	return 0;
}

const struct pci_cfg_ops x86_cf8_ops = {
	.read32 = cf8_read32,
};
