/* pcsc/cfg.h - read-only PCI config access through a small ops table.
 * There is no write entry point on purpose: the stub never writes config space. */
#ifndef PCSC_CFG_H
#define PCSC_CFG_H

#include <stdint.h>
#include <pcsc/pci.h>

/*
 * A backend implements one aligned 32-bit read, the only width the engine
 * uses, so every backend (ECAM, 0xCF8, simulation) counts and behaves the
 * same way; ECAM and 0xCF8 both allow dword reads.
 *
 * read32: reg is dword aligned and < the backend's config size.
 * Returns 0, or -PCSC_ENODEV when nothing decodes that address (then *val
 * must be set to 0xffffffff, as hardware would return).
 */
struct pci_cfg_ops {
	int (*read32)(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val);
};

struct pci_cfg {
	const struct pci_cfg_ops *ops;
	void *ctx;
	uint16_t cfg_size;	/* 4096 (ECAM) or 256 (legacy 0xCF8) */
	uint64_t reads;		/* every backend read32 call, counted here */
};

/* pci_cfg_init - bind ops/ctx, zero the read counter. */
void pci_cfg_init(struct pci_cfg *cfg, const struct pci_cfg_ops *ops,
		  void *ctx, uint16_t cfg_size);

/*
 * pci_cfg_read32 - one counted config read.
 * reg must be dword aligned and below cfg->cfg_size.
 * Returns 0; -PCSC_EINVAL (misaligned), -PCSC_ERANGE (reg beyond cfg_size,
 * no read made), -PCSC_ENODEV (backend decodes nothing; *val is all ones).
 * *val is always written: all ones on any error.
 */
int pci_cfg_read32(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val);

#endif
