/* pcsc/dt_platform.h - what the stub learns from a device tree: ECAM windows,
 * RAM and reserved ranges, /chosen (KHO, UEFI), console and PSCI. Read-only; never trusts a cell. */
#ifndef PCSC_DT_PLATFORM_H
#define PCSC_DT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/ecam.h>
#include <pcsc/physmem.h>

/* Upper bound on nodes visited by any scan here: a DTB is walked with
 * strictly increasing offsets, but a bound keeps every loop obviously finite. */
#define DT_MAX_NODES		65536
/* reg tuples read from one node. */
#define DT_MAX_REG		256

/*
 * dt_check - validate a whole DTB before any other function here sees it:
 * header, version 17 or later (what dtc, QEMU and Linux write), totalsize
 * <= bufsize, structure block, string offsets (libfdt's fdt_check_full).
 * Returns 0; -PCSC_EINVAL (fdt NULL); -PCSC_ETRUNC (totalsize > bufsize or
 * bufsize below a header); -PCSC_EBADFDT (anything else libfdt rejects).
 */
int dt_check(const void *fdt, size_t bufsize);

/*
 * dt_cells_read - a number of ncells big-endian cells (unaligned allowed).
 * Returns 0; -PCSC_ERANGE (ncells negative or above 4, or the value does
 * not fit 64 bits: a leading cell of a 3- or 4-cell number is non-zero).
 */
int dt_cells_read(const void *cells, int ncells, uint64_t *val);

/*
 * dt_address_cells / dt_size_cells - libfdt's fdt_address_cells /
 * fdt_size_cells, same results (test_dt_reg compares them): the property's
 * value 0..4 (#address-cells 1..4); 2 / 1 when absent; -FDT_ERR_BADNCELLS
 * (not 4 bytes, above 4, #address-cells 0); fdt_getprop's other errors.
 */
int dt_address_cells(const void *fdt, int node);
int dt_size_cells(const void *fdt, int node);

/*
 * dt_node_enabled - status absent, "okay" or "ok" (as Linux's
 * of_fdt_device_is_available). false for every other status.
 */
bool dt_node_enabled(const void *fdt, int node);

/*
 * dt_reg_get - tuple idx of node's reg, in the parent's #address-cells /
 * #size-cells (DT defaults 2 / 1 when absent).
 * Returns 0; -PCSC_ENOTFOUND (no reg, reg empty, or idx negative or past
 * its last tuple); -PCSC_EPROPSIZE (reg length not a multiple of the tuple
 * size); -PCSC_ERANGE (#address-cells not 1..4 or #size-cells not 0..4,
 * a value beyond 64 bits); -PCSC_EBADFDT (parent unreadable).
 */
int dt_reg_get(const void *fdt, int node, int idx, uint64_t *addr, uint64_t *size);

/* dt_prop_reg_get - as dt_reg_get for a reg-shaped property named prop
 * (linux,usable-memory); -PCSC_ENOTFOUND also when prop is absent. */
int dt_prop_reg_get(const void *fdt, int node, const char *prop, int idx,
		    uint64_t *addr, uint64_t *size);

/* Outcome of a scan over several nodes: a bad node is skipped, the rest are
 * still used, and the first failure is kept for the report. */
struct dt_scan_stats {
	unsigned int found;	/* nodes matching the scan */
	unsigned int used;	/* nodes (or tuples) that contributed */
	unsigned int skipped;	/* rejected: disabled nodes are not counted */
	int first_err;		/* 0, or the -PCSC_E* of the first rejection */
	int first_err_node;	/* its node offset (-1 for the memreserve block) */
};

/*
 * dt_ecam_scan - every enabled `compatible = "pci-host-ecam-generic"` node,
 * in node order, into e: base and size from reg (first tuple), buses from
 * bus-range (default 0..255, cut to what reg covers, as Linux's
 * pci_ecam_create does), segment from linux,pci-domain, otherwise the
 * lowest number no device_type "pci" node claims statically and no earlier
 * host took (Linux >= 6.0: of_pci_reserve_static_domain_nr + ida_alloc,
 * commit c14f7ccc9f5d). st may be NULL.
 * Returns 0 when every node was used (also when there is none);
 * -PCSC_EBADFDT (fdt NULL or header) with nothing added; otherwise the
 * first failing node's error, the good windows still added:
 * -PCSC_ENOTFOUND (no reg, or reg empty), -PCSC_EPROPSIZE (reg, bus-range
 * or linux,pci-domain of the wrong size), -PCSC_ERANGE (bus-range reversed
 * or past 255, domain past 65535, reg smaller than 1 MiB, cells too wide,
 * window wraps past 2^64), -PCSC_EBADFDT (its parent unreadable), and
 * ecam_add_window's -PCSC_EALIGN (base not 1 MiB aligned), -PCSC_EOVERLAP,
 * -PCSC_ENOSPC (ECAM_MAX_WINDOWS reached).
 */
int dt_ecam_scan(const void *fdt, struct ecam *e, struct dt_scan_stats *st);

/*
 * dt_mem_ram - RAM from every enabled root child with device_type "memory":
 * linux,usable-memory when present (as Linux), else reg; every tuple,
 * zero-size tuples skipped. st may be NULL.
 * Returns 0; -PCSC_EBADFDT (fdt NULL or header); -PCSC_ENOTFOUND (no
 * enabled memory node); otherwise the first bad node's error, tuples
 * before it and other nodes still added: -PCSC_ENOTFOUND (no reg, or reg
 * empty), -PCSC_EPROPSIZE, -PCSC_ERANGE and -PCSC_EBADFDT as dt_reg_get
 * gives them, -PCSC_ERANGE (a range that wraps, more than DT_MAX_REG
 * tuples), -PCSC_ENOSPC (ram full).
 */
int dt_mem_ram(const void *fdt, struct phys_ranges *ram, struct dt_scan_stats *st);

/*
 * dt_mem_reserved - the FDT memreserve block plus the reg of every enabled
 * child of /reserved-memory (in its #address-cells/#size-cells). Children
 * with only size/alloc-ranges (placed dynamically by the old kernel) have
 * no fixed address here and are skipped without error. st may be NULL.
 * Returns 0 (also when nothing is reserved); -PCSC_EBADFDT (fdt NULL or
 * header) with nothing added; otherwise the first failure, everything else
 * still added: -PCSC_ETRUNC (memreserve block runs past the blob),
 * -PCSC_ENOTFOUND (a child's reg is empty), -PCSC_EPROPSIZE, -PCSC_ERANGE
 * and -PCSC_EBADFDT as dt_reg_get gives them, -PCSC_ERANGE (a range that
 * wraps, more than DT_MAX_REG tuples), -PCSC_ENOSPC (rsv full: unlike
 * dt_mem_nomap, a failure like any other).
 */
int dt_mem_reserved(const void *fdt, struct phys_ranges *rsv, struct dt_scan_stats *st);

/*
 * dt_mem_nomap - what must never be mapped cacheable: the reg (every tuple)
 * of each enabled /reserved-memory child that has a `no-map` property
 * (presence is enough, as Linux's __reserved_mem_reserve_reg: firmware and
 * secure-world carve-outs Linux never maps), plus every entry of the FDT
 * memreserve block (Linux only memblock_reserves those; the stub keeps its
 * hands off them too: bootloaders put spin tables and carve-outs there).
 * no-map children with only size/alloc-ranges were placed dynamically by
 * the old kernel and have no fixed address here: skipped without error.
 * Zero-size tuples add nothing. st may be NULL.
 * Returns 0 (also when nothing is reserved); -PCSC_EBADFDT (header) with
 * nothing added; -PCSC_ENOSPC when a region did not fit in nomap: the list
 * is incomplete, so a caller must not map RAM around it (this error wins
 * over any other); otherwise the first failure with every other region
 * still added: -PCSC_ETRUNC (memreserve block runs past the blob: none of
 * its entries added), errors of dt_reg_get (-PCSC_ENOTFOUND: reg empty;
 * -PCSC_EPROPSIZE, -PCSC_ERANGE, -PCSC_EBADFDT) for a child whose reg
 * cannot be read (that child skipped, as Linux skips it), -PCSC_ERANGE (a
 * range that wraps, more than DT_MAX_REG tuples in one child).
 */
int dt_mem_nomap(const void *fdt, struct phys_ranges *nomap, struct dt_scan_stats *st);

/* What /chosen tells the stub. A field is valid only if its has_ flag is. */
struct dt_chosen {
	bool has_kho;			/* linux,kho-fdt present and well-formed */
	bool kho_malformed;		/* linux,kho-fdt present, not readable here
					 * (Linux may still take its low cells) */
	uint64_t kho_fdt, kho_fdt_size;
	bool has_kho_scratch;		/* linux,kho-scratch */
	uint64_t kho_scratch, kho_scratch_size;
	bool has_uefi;			/* linux,uefi-system-table */
	uint64_t uefi_systab;
	bool has_uefi_mmap;		/* all four linux,uefi-mmap-* present */
	uint64_t uefi_mmap_start;
	uint32_t uefi_mmap_size, uefi_mmap_desc_size, uefi_mmap_desc_ver;
	int err;			/* first malformed property, else 0 */
};

/*
 * dt_chosen_parse - /chosen: linux,kho-fdt and linux,kho-scratch (address
 * and size in the root's #address-cells/#size-cells, as Linux's
 * early_init_dt_check_kho), linux,uefi-system-table and linux,uefi-mmap-*
 * (4 or 8 bytes each, as Linux's efi fdtparams). A malformed property is
 * ignored (its has_ stays false) and recorded in c->err; a malformed
 * linux,kho-fdt also sets kho_malformed. /chosen is found as Linux finds it
 * (dt_chosen_node).
 * Returns 0 (c->err: 0, or -PCSC_EPROPSIZE / -PCSC_ERANGE for the first
 * malformed property); -PCSC_EBADFDT (fdt NULL or header); -PCSC_ENOTFOUND
 * (no /chosen). On either error c is zeroed.
 */
int dt_chosen_parse(const void *fdt, struct dt_chosen *c);

/* dt_chosen_node - the node Linux reads as /chosen (early_init_dt_scan_chosen:
 * "/chosen", else "/chosen@0"; libfdt's path lookup matches "chosen@0" for
 * "chosen" by itself). Returns its offset or a negative libfdt error. */
int dt_chosen_node(const void *fdt);

enum dt_console_kind { DT_CONSOLE_NONE = 0, DT_CONSOLE_PL011, DT_CONSOLE_NS16550 };

struct dt_console {
	enum dt_console_kind kind;
	uint64_t base;		/* MMIO base from reg */
	int node;		/* its node offset */
};

/*
 * dt_console_find - the console: the node named by /chosen/stdout-path
 * (path or alias, ":options" stripped) if it is an arm,pl011 or ns16550a,
 * else the first enabled arm,pl011.
 * Returns 0; -PCSC_EBADFDT (fdt NULL or header); -PCSC_ENOTFOUND (no
 * usable UART); for the chosen UART's reg, dt_reg_get's -PCSC_ENOTFOUND,
 * -PCSC_EPROPSIZE, -PCSC_ERANGE, -PCSC_EBADFDT.
 */
int dt_console_find(const void *fdt, struct dt_console *con);

enum dt_psci_method { DT_PSCI_NONE = 0, DT_PSCI_HVC, DT_PSCI_SMC };

/*
 * dt_psci_method - the conduit from /psci (or any psci-compatible node)
 * "method" = "hvc" | "smc".
 * Returns 0; -PCSC_EBADFDT (fdt NULL or header); -PCSC_ENOTFOUND (no psci
 * node or no method); -PCSC_EINVAL (method is neither).
 */
int dt_psci_method(const void *fdt, enum dt_psci_method *m);

#endif
