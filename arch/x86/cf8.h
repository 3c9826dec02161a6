/* arch/x86/cf8.h - the legacy 0xCF8/0xCFC config backend (x86 only).
 * Never used when an MCFG table describes ECAM. */
#ifndef PCSC_ARCH_X86_CF8_H
#define PCSC_ARCH_X86_CF8_H

#include <stdint.h>
#include <pcsc/cfg.h>

/* x86_cf8_ops - pci_cfg backend over 0xCF8/0xCFC; bind with cfg_size 256.
 * read32 returns -PCSC_ENODEV (all ones) for segment != 0 or reg >= 256. */
extern const struct pci_cfg_ops x86_cf8_ops;

/* x86_cf8_address - the 0xCF8 latch value for (bus, devfn, reg): enable
 * bit 31, bus [23:16], devfn [15:8], dword-aligned reg [7:2]. */
uint32_t x86_cf8_address(pci_sbdf_t sbdf, uint16_t reg);

#endif
