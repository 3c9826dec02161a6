/* pcsc/pci_sim.h - a simulated PCI segment described by a small text format,
 * a pci_cfg backend for tests, pcsctool and benchmarks (docs/topology.md).
 * Storage is the caller's arena: nothing here allocates. */
#ifndef PCSC_PCI_SIM_H
#define PCSC_PCI_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>

#define PCI_SIM_CRS_FOREVER	0xffffffffu

/* One physical function; VFs are synthesised from their PF on read. */
struct pci_sim_func {
	pci_sbdf_t sbdf;
	uint32_t crs_left;	/* vendor-ID reads still answered 0x0001 */
	uint32_t sim_flags;	/* options from the topology line; private to pci_sim.c */
	uint8_t cfg[4096];	/* config space as the device presents it */
};

struct pci_sim {
	struct pci_sim_func *funcs;	/* caller's arena, sorted by sbdf after parse */
	uint32_t cap;
	uint32_t n;
	struct ecam_window win[ECAM_MAX_WINDOWS];	/* from "window" lines */
	unsigned int nwin;
};

/* pci_sim_init - empty simulation over the caller's arena. */
void pci_sim_init(struct pci_sim *sim, struct pci_sim_func *arena, uint32_t cap);

/*
 * pci_sim_parse - add the functions described by text (len bytes, need not
 * be NUL terminated). On error *err_line is the 1-based line at fault.
 * Returns 0; -PCSC_EPARSE (malformed line, bad or overlapping window, a
 * function no window decodes); -PCSC_ENOSPC (arena full, or more than
 * ECAM_MAX_WINDOWS windows); -PCSC_EDUP (a function given twice). What
 * was parsed before the failing line stays in sim.
 */
int pci_sim_parse(struct pci_sim *sim, const char *text, size_t len, unsigned int *err_line);

/* pci_sim_func_get - the physical function at sbdf, or NULL. */
struct pci_sim_func *pci_sim_func_get(struct pci_sim *sim, pci_sbdf_t sbdf);

/* pci_sim_cfg_init - a pci_cfg (4096-byte space) reading the simulation. */
void pci_sim_cfg_init(struct pci_cfg *cfg, struct pci_sim *sim);

#endif
