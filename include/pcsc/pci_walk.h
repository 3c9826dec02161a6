/* pcsc/pci_walk.h - the read-only enumeration of live functions.
 * It follows bus numbers firmware/the old kernel programmed; it never
 * reprograms a bridge nor writes any register. */
#ifndef PCSC_PCI_WALK_H
#define PCSC_PCI_WALK_H

#include <stddef.h>
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

/* One live function, 20 bytes: what funcs[] stores for every physical
 * function and what the iterator yields for every function. */
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

/*
 * The VFs of one PF that lie inside its window, 16 bytes: never stored one
 * by one. VF RIDs grow by the stride, so the range is a sorted stream from
 * first to last (first == last: one VF). A VF's vendor is its PF's, its
 * class unknown, its header normal, its flags PCI_FUNC_VF.
 */
struct pci_vf_range {
	pci_sbdf_t first;	/* VF 0 */
	pci_sbdf_t last;	/* the last VF inside the window */
	uint32_t pf;		/* index of the PF in funcs[] (after pci_walk_finish) */
	uint16_t stride;	/* VF Stride: RID step */
	uint16_t device;	/* VF Device ID */
};

/* A range's place in the iterator's merge: its next VF. */
struct pci_walk_cursor {
	pci_sbdf_t sbdf;
	uint32_t range;		/* index in ranges[] */
};

/*
 * Arena bytes per physical function: its entry, the VF range it would have
 * as a PF, and that range's cursor. VFs cost nothing.
 */
#define PCI_WALK_FUNC_BYTES \
	(sizeof(struct pci_func) + sizeof(struct pci_vf_range) + sizeof(struct pci_walk_cursor))
#define PCI_WALK_ARENA(f)	((size_t)(f) * PCI_WALK_FUNC_BYTES)

/* Anomalies counted (and logged once each) during a walk. */
struct pci_walk_stats {
	uint32_t buses;			/* buses scanned */
	uint32_t crs_timeouts;		/* functions that stayed CRS: treated absent */
	uint32_t cap_loops;		/* capability lists ended by the hop limit */
	uint32_t bad_bridges;		/* bus numbers invalid, looping or reused */
	uint32_t unnumbered_bridges;	/* secondary == 0: nothing behind it seen */
	uint32_t vf_out_of_range;	/* VFs whose RID passes bus 255 / the window */
	uint32_t overflow;		/* functions dropped: funcs[] full (a dropped
					 * PF's VFs included) */
};

/*
 * The walk's result: physical functions (endpoints, bridges, PFs) in
 * funcs[], the VFs of each PF as one range in ranges[]. After
 * pci_walk_finish funcs[] is sorted by SBDF and ranges[] by PF index;
 * pci_walk_first/next yield all n functions in SBDF order.
 */
struct pci_walk {
	struct pci_func *funcs;		/* caller's arena: cap entries */
	struct pci_vf_range *ranges;	/* then cap ranges (one per PF at most) */
	struct pci_walk_cursor *heap;	/* then cap cursors: the iterator's */
	uint32_t cap;			/* physical functions the arena holds */
	uint32_t nphys;			/* in funcs[] */
	uint32_t nranges;		/* in ranges[] */
	uint32_t n;			/* all functions: nphys + every range's VFs */
	uint32_t crs_budget;	/* CRS retries per function (default 1000) */
	struct pci_walk_stats stats;
};

/*
 * pci_walk_init - bind the arena (size bytes, 4-byte aligned) holding
 * cap = size / PCI_WALK_FUNC_BYTES physical functions; counts and stats
 * zeroed, default CRS budget.
 */
void pci_walk_init(struct pci_walk *w, void *arena, size_t size);

/*
 * pci_walk_window - enumerate everything below win->bus_start, depth-first
 * through programmed bridges: function 0 first, functions 1..7 only when
 * header type bit 7 is set, functions 0..255 of device 0 (ARI next-function
 * chain) below a port with ARI forwarding enabled, the VFs of every PF with
 * VF Enable set (derived, not read: one range per PF, the VFs whose RID
 * lies inside the window). Buses outside the window, loops and reused bus
 * numbers are refused and counted. Appends to w->funcs and w->ranges.
 * Returns 0; -PCSC_ENOSPC when more physical functions than cap were found
 * (the walk still ended cleanly, stats.overflow counts what was lost: each
 * physical function dropped and its VFs); -PCSC_ERANGE when
 * win->bus_end < win->bus_start (nothing read).
 */
int pci_walk_window(struct pci_walk *w, struct pci_cfg *cfg, const struct ecam_window *win);

/*
 * pci_walk_all - pci_walk_init over arena (size bytes), every window in
 * turn (a window that fails is logged as "pcsc: walk window N: <error>"
 * and the next is walked), then pci_walk_finish. Returns w->n.
 */
uint32_t pci_walk_all(struct pci_walk *w, void *arena, size_t size,
		      struct pci_cfg *cfg, const struct ecam_window *win, unsigned int nwin);

/*
 * pci_walk_finish - sort funcs[] by SBDF, point each range at its PF's
 * index and sort ranges[] by it. O(p log p) for p physical functions, in
 * place, no allocation; calling it again (after more windows) is safe.
 */
void pci_walk_finish(struct pci_walk *w);

/*
 * Iterator over every function of a finished walk, physical and VF, in
 * SBDF order: a merge of funcs[] with the ranges' sorted streams through
 * a binary min-heap of their cursors (w->heap). Equal SBDFs (a VF landing
 * on a physical function, or on another PF's VF) come physical first, then
 * by PF index. The heap lives in the walk: one iterator per walk at a time.
 * Each step is O(log r) for r ranges; n steps in all.
 */
struct pci_walk_iter {
	const struct pci_walk *w;
	uint32_t i;		/* next physical function */
	uint32_t nheap;		/* ranges not yet exhausted */
	uint32_t vf_range;	/* the range vf was built from (PCI_PF_NONE: none) */
	uint64_t bound;		/* smallest key below the heap's root: the root
				 * advances up to it without a sift */
	struct pci_func vf;	/* the VF last yielded */
};

/*
 * pci_walk_first - start it over w (finished): fills w->heap (the walk's
 * scratch, written even through a const walk), O(r). Returns the first
 * function, NULL when the walk is empty.
 */
const struct pci_func *pci_walk_first(struct pci_walk_iter *it, const struct pci_walk *w);

/*
 * pci_walk_next - the function after the one last returned; NULL after the
 * last. A returned pointer stays valid until the next call (a VF is built
 * in it->vf; a physical function points into funcs[]).
 */
const struct pci_func *pci_walk_next(struct pci_walk_iter *it);

/* pci_vf_range_count - VFs in r (1 when first == last). */
static inline uint32_t pci_vf_range_count(const struct pci_vf_range *r)
{
	return r->first == r->last || !r->stride ? 1u : (r->last - r->first) / r->stride + 1u;
}


#endif
