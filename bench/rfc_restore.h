/* bench/rfc_restore.h - the baseline: the PCSC RFC's restore lookup, reimplemented for
 * measurement only. It never judges anything (that is the gap pcsc-stub closes). */
#ifndef BENCH_RFC_RESTORE_H
#define BENCH_RFC_RESTORE_H

#include <stdint.h>
#include <pcsc/pci.h>

struct rfc_restore_result {
	uint32_t found;		/* devices whose node and 8-byte da were found */
	uint32_t missing;	/* devices without a node (the RFC restores nothing) */
	uint64_t da_sum;	/* sum of the da values adopted (keeps the work observable) */
	uint64_t siblings;	/* nodes stepped over by fdt_subnode_offset, counted
				 * outside libfdt: the exact quadratic term */
};

/*
 * rfc_restore_lookup - for each device in devs[0..n) (enumeration order, as
 * the next kernel meets them), format its node name dev_%04x_%02x_%02x_%x,
 * find it with fdt_subnode_offset(fdt, 0, name) - a linear scan of the root's
 * children, O(n) each and O(n^2) in total - and read its "da" property, as
 * the RFC's restore does before adopting the pages unchecked.
 * Fills r. Returns 0; -1 when fdt's header is not a valid FDT.
 */
int rfc_restore_lookup(const void *fdt, const pci_sbdf_t *devs, uint32_t n,
		       struct rfc_restore_result *r);

/* rfc_restore_siblings - the number of nodes the lookup of n devices in
 * FDT order steps over (0 + 1 + ... + (n-1)): no scan, for extrapolation. */
uint64_t rfc_restore_siblings(uint32_t n);

#endif
