/* pcsc/ecam.h - ECAM windows: the math, their validation, and a pci_cfg backend.
 * MMIO goes through a hook the platform provides; lib/ never dereferences ECAM. */
#ifndef PCSC_ECAM_H
#define PCSC_ECAM_H

#include <stdint.h>
#include <pcsc/cfg.h>

#define ECAM_BUS_SHIFT		20	/* 1 MiB of config space per bus */
#define ECAM_MAX_WINDOWS	16

struct ecam_window {
	uint64_t base;		/* physical address of bus_start's config space */
	uint16_t seg;
	uint8_t bus_start;
	uint8_t bus_end;	/* inclusive */
};

/* ecam_offset - byte offset of (bus, devfn, reg) inside window w.
 * Caller guarantees bus_start <= bus <= bus_end. */
static inline uint64_t ecam_offset(const struct ecam_window *w, uint8_t bus,
				   uint8_t devfn, uint16_t reg)
{
	return ((uint64_t)(bus - w->bus_start) << ECAM_BUS_SHIFT) |
	       ((uint64_t)devfn << 12) | (reg & 0xfff);
}

/* ecam_window_size - bytes the window decodes: (buses) MiB. */
uint64_t ecam_window_size(const struct ecam_window *w);

/*
 * ecam_window_check - validate one window as read from firmware tables.
 * Returns 0; -PCSC_ERANGE (bus_end < bus_start, or base + size wraps);
 * -PCSC_EALIGN (base not 1 MiB aligned).
 */
int ecam_window_check(const struct ecam_window *w);

struct ecam {
	struct ecam_window win[ECAM_MAX_WINDOWS];
	unsigned int n;
	/* Platform MMIO hook: a single aligned 32-bit device read. */
	uint32_t (*mmio_read32)(uint64_t addr);
};

/* ecam_init - empty set of windows using mmio_read32 for accesses. */
void ecam_init(struct ecam *e, uint32_t (*mmio_read32)(uint64_t addr));

/*
 * ecam_add_window - validate w and append it.
 * Returns 0; ecam_window_check's -PCSC_ERANGE and -PCSC_EALIGN;
 * -PCSC_EOVERLAP (same segment and an intersecting bus range as an
 * existing window, or intersecting MMIO); -PCSC_ENOSPC (ECAM_MAX_WINDOWS
 * reached).
 */
int ecam_add_window(struct ecam *e, const struct ecam_window *w);

/* ecam_find - the window decoding (seg, bus), or NULL. */
const struct ecam_window *ecam_find(const struct ecam *e, uint16_t seg, uint8_t bus);

/*
 * ecam_map_windows - hand every window of e to map(base, size) before
 * anything reads it; a window map refuses is dropped (the others keep their
 * order) with one line at the default report level:
 *   pcsc: ecam SSSS:BB-BB at 0xBASE not mapped: <pcsc_strerror>: not walked
 * Returns the number of windows dropped.
 */
unsigned int ecam_map_windows(struct ecam *e, int (*map)(uint64_t base, uint64_t size));

/* ecam_cfg_init - a pci_cfg (cfg_size 4096) reading through e. */
void ecam_cfg_init(struct pci_cfg *cfg, struct ecam *e);

#endif
