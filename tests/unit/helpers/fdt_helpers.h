/* fdt_helpers.h - hand-built DTBs for the dt_* unit tests (libfdt sequential
 * write): the root opened and closed, and 64-bit values as 2-cell pairs. Test code only. */
#ifndef FDT_HELPERS_H
#define FDT_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Start a DTB in fdt[0..size): nrsv memreserve entries (rsv holds address,
 * size pairs; NULL when nrsv is 0), then the root node with #address-cells
 * ac and #size-cells sc, left open for the caller's nodes. */
void fdt_helpers_start(void *fdt, size_t size, const uint64_t *rsv, int nrsv, int ac, int sc);
/* Close the root, finish the blob and check it passes dt_check. */
void fdt_helpers_finish(void *fdt, size_t size);
/* Property prop holding the n 64-bit values v, each as two cells (high,
 * low): an address/size pair in a 2+2-cell parent is n = 2. */
void fdt_helpers_cells64(void *fdt, const char *prop, const uint64_t *v, int n);

#endif
