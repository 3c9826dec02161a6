/* ecam.c - ECAM window arithmetic and validation, and the ECAM pci_cfg backend.
 * Must never dereference an ECAM address itself: all MMIO goes through the
 * platform's mmio_read32 hook. */
#include <stdbool.h>
#include <stddef.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>

uint64_t ecam_window_size(const struct ecam_window *w)
{
	if (w->bus_end < w->bus_start)
		return 0;
	return (uint64_t)(w->bus_end - w->bus_start + 1) << ECAM_BUS_SHIFT;
}

int ecam_window_check(const struct ecam_window *w)
{
	uint64_t size;

	if (w->bus_end < w->bus_start)
		return -PCSC_ERANGE;
	if (w->base & ((1ull << ECAM_BUS_SHIFT) - 1))
		return -PCSC_EALIGN;
	size = ecam_window_size(w);
	if (w->base + (size - 1) < w->base)
		return -PCSC_ERANGE;
	return 0;
}

void ecam_init(struct ecam *e, uint32_t (*mmio_read32)(uint64_t addr))
{
	e->n = 0;
	e->mmio_read32 = mmio_read32;
}

/* Inclusive-range intersection; callers have checked both ranges are sane,
 * so "last" never wraps. */
static bool ranges_meet(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

int ecam_add_window(struct ecam *e, const struct ecam_window *w)
{
	uint64_t last = w->base + ecam_window_size(w) - 1;
	int ret = ecam_window_check(w);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < e->n; i++) {
		const struct ecam_window *o = &e->win[i];

		if (o->seg == w->seg &&
		    ranges_meet(o->bus_start, o->bus_end, w->bus_start, w->bus_end))
			return -PCSC_EOVERLAP;
		if (ranges_meet(o->base, o->base + ecam_window_size(o) - 1, w->base, last))
			return -PCSC_EOVERLAP;
	}
	if (e->n >= ECAM_MAX_WINDOWS)
		return -PCSC_ENOSPC;
	e->win[e->n++] = *w;
	return 0;
}

const struct ecam_window *ecam_find(const struct ecam *e, uint16_t seg, uint8_t bus)
{
	for (unsigned int i = 0; i < e->n && i < ECAM_MAX_WINDOWS; i++) {
		const struct ecam_window *w = &e->win[i];

		if (w->seg == seg && bus >= w->bus_start && bus <= w->bus_end)
			return w;
	}
	return NULL;
}

unsigned int ecam_map_windows(struct ecam *e, int (*map)(uint64_t base, uint64_t size))
{
	unsigned int i = 0, j, dropped = 0;
	int rc;

	/* Each pass keeps or drops window i: at most ECAM_MAX_WINDOWS. */
	while (i < e->n && i < ECAM_MAX_WINDOWS) {
		const struct ecam_window *w = &e->win[i];

		rc = map(w->base, ecam_window_size(w));
		if (!rc) {
			i++;
			continue;
		}
		/* Said at the default level: every entry behind this window
		 * turns GONE, and this line is why. */
		pcsc_log_at(PCSC_LOG_RESULT, "pcsc: ecam %04x:%02x-%02x at 0x%llx not mapped: %s: "
			    "not walked", w->seg, w->bus_start, w->bus_end,
			    (unsigned long long)w->base, pcsc_strerror(rc));
		for (j = i + 1; j < e->n; j++)
			e->win[j - 1] = e->win[j];
		e->n--;
		dropped++;
	}
	return dropped;
}

static int ecam_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	const struct ecam *e = ctx;
	const struct ecam_window *w = ecam_find(e, PCI_SBDF_SEG(sbdf), PCI_SBDF_BUS(sbdf));

	if (!w) {
		*val = 0xffffffffu;
		return -PCSC_ENODEV;
	}
	*val = e->mmio_read32(w->base + ecam_offset(w, PCI_SBDF_BUS(sbdf),
						    PCI_SBDF_DEVFN(sbdf), reg & 0xffc));
	return 0;
}

static const struct pci_cfg_ops ecam_ops = {
	.read32 = ecam_read32,
};

void ecam_cfg_init(struct pci_cfg *cfg, struct ecam *e)
{
	pci_cfg_init(cfg, &ecam_ops, e, PCIE_CFG_SIZE);
}
