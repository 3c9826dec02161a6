/* pcsc/pci_walk.h - the read-only enumeration of live functions.
 * It follows bus numbers firmware/the old kernel programmed; it never
 * reprograms a bridge nor writes any register. */
#ifndef PCSC_PCI_WALK_H
#define PCSC_PCI_WALK_H

#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>

#define PCI_FUNC_BRIDGE		0x01	/* header type 1 */
#define PCI_FUNC_PF		0x02	/* has SR-IOV with VFs enabled */
#define PCI_FUNC_VF		0x04	/* virtual function, not read, derived */
#define PCI_FUNC_ARI		0x08	/* found through ARI next-function chain */
#define PCI_FUNC_PCIE		0x10	/* has a PCI Express capability */

#define PCI_CLASS_UNKNOWN	0xffffffffu	/* VFs: class is not read */
#define PCI_PF_NONE		0xffffffffu

/* One live function, 20 bytes. */
struct pci_func {
	pci_sbdf_t sbdf;
	uint16_t vendor;
	uint16_t device;
	uint32_t class_rev;	/* dword at 0x08; PCI_CLASS_UNKNOWN for VFs */
	uint8_t hdr_type;	/* 0x0e with the multi-function bit cleared */
	uint8_t flags;		/* PCI_FUNC_* */
	uint16_t reserved;
	uint32_t pf;		/* VFs: index of their PF in funcs[], else PCI_PF_NONE */
};

/* Anomalies counted (and logged once each) during a walk. */
struct pci_walk_stats {
	uint32_t buses;			/* buses scanned */
	uint32_t crs_timeouts;		/* functions that stayed CRS: treated absent */
	uint32_t cap_loops;		/* capability lists ended by the hop limit */
	uint32_t bad_bridges;		/* bus numbers invalid, looping or reused */
	uint32_t unnumbered_bridges;	/* secondary == 0: nothing behind it seen */
	uint32_t vf_out_of_range;	/* VFs whose RID passes bus 255 / the window */
	uint32_t overflow;		/* functions dropped: funcs[] full */
};

struct pci_walk {
	struct pci_func *funcs;	/* caller's arena */
	uint32_t cap;
	uint32_t n;
	uint32_t crs_budget;	/* CRS retries per function (default 1000) */
	struct pci_walk_stats stats;
};

/* pci_walk_init - bind the arena; n = 0, stats zeroed, default CRS budget. */
void pci_walk_init(struct pci_walk *w, struct pci_func *arena, uint32_t cap);

/*
 * pci_walk_window - enumerate everything below win->bus_start, depth-first
 * through programmed bridges: function 0 first, functions 1..7 only when
 * header type bit 7 is set, functions 0..255 of device 0 (ARI next-function
 * chain) below a port with ARI forwarding enabled, the VFs of every PF with
 * VF Enable set (derived, not read). Buses outside the window, loops and
 * reused bus numbers are refused and counted. Appends to w->funcs.
 * Returns 0; -PCSC_ENOSPC when the arena filled (the walk still ended
 * cleanly, stats.overflow counts what was lost); -PCSC_ERANGE when
 * win->bus_end < win->bus_start (nothing read).
 */
int pci_walk_window(struct pci_walk *w, struct pci_cfg *cfg, const struct ecam_window *win);

/*
 * pci_walk_all - pci_walk_init over arena[cap], every window in turn (a
 * window that fails is logged as "pcsc: walk window N: <error>" and the
 * next is walked), then pci_walk_finish. Returns w->n.
 */
uint32_t pci_walk_all(struct pci_walk *w, struct pci_func *arena, uint32_t cap,
		      struct pci_cfg *cfg, const struct ecam_window *win, unsigned int nwin);

/*
 * pci_walk_finish - sort funcs[] by SBDF and fix up VF->PF indices.
 * O(n log n), in place, no allocation.
 */
void pci_walk_finish(struct pci_walk *w);


#endif
