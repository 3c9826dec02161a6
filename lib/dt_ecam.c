/* dt_ecam.c - ECAM windows from "pci-host-ecam-generic" DT nodes, segments
 * numbered as Linux numbers them. Never trusts a cell: every node is checked. */
#include <libfdt.h>
#include <string.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>
#include "dt_scan.h"

#define DT_ECAM_COMPAT		"pci-host-ecam-generic"
/* Static domains remembered; more ECAM hosts than this cannot fit an
 * struct ecam anyway. */
#define DT_ECAM_MAX_DOMAINS	(4 * ECAM_MAX_WINDOWS)

struct domain_set {
	uint32_t d[DT_ECAM_MAX_DOMAINS];
	unsigned int n;
};

static bool domain_set_has(const struct domain_set *s, uint32_t d)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->d[i] == d)
			return true;
	return false;
}

static void domain_set_add(struct domain_set *s, uint32_t d)
{
	if (s->n < DT_ECAM_MAX_DOMAINS && !domain_set_has(s, d))
		s->d[s->n++] = d;
}

/* linux,pci-domain: 1 if present (in *d), 0 if absent, or an error. */
static int read_domain(const void *fdt, int node, uint32_t *d)
{
	const uint8_t *p;
	int len;

	p = fdt_getprop(fdt, node, "linux,pci-domain", &len);
	if (!p)
		return 0;
	if (len != 4)
		return -PCSC_EPROPSIZE;
	*d = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (*d > 0xffff)
		return -PCSC_ERANGE;
	return 1;
}

static bool is_pci_type(const void *fdt, int node)
{
	const char *t;
	int len;

	t = fdt_getprop(fdt, node, "device_type", &len);
	return t && len == 4 && !memcmp(t, "pci", 4);
}

/* Linux reserves every static linux,pci-domain of a device_type "pci"
 * node before any host probes, so dynamic numbers avoid all of them. */
static void collect_static(const void *fdt, struct domain_set *st)
{
	int node = -1;
	unsigned int hops;
	uint32_t d;

	for (hops = 0; hops < DT_MAX_NODES; hops++) {
		node = fdt_next_node(fdt, node, NULL);
		if (node < 0)
			break;
		if (is_pci_type(fdt, node) && read_domain(fdt, node, &d) == 1)
			domain_set_add(st, d);
	}
}

static int parse_node(const void *fdt, int node, const struct domain_set *statics,
		      struct domain_set *taken, struct ecam_window *w)
{
	const uint8_t *br;
	uint64_t base, size, buses;
	uint32_t start = 0, end = 255, d = 0;
	int rc, len, has_dom;
	unsigned int i;

	rc = dt_reg_get(fdt, node, 0, &base, &size);
	if (rc)
		return rc;
	if (size < (1ull << ECAM_BUS_SHIFT))
		return -PCSC_ERANGE;
	br = fdt_getprop(fdt, node, "bus-range", &len);
	if (br) {
		uint64_t s64, e64;

		if (len != 8)
			return -PCSC_EPROPSIZE;
		dt_cells_read(br, 1, &s64);
		dt_cells_read(br + 4, 1, &e64);
		if (s64 > e64 || e64 > 255)
			return -PCSC_ERANGE;
		start = (uint32_t)s64;
		end = (uint32_t)e64;
	}
	/* Linux's pci_ecam_create trims the bus range to what reg decodes. */
	buses = size >> ECAM_BUS_SHIFT;
	if ((uint64_t)end - start + 1 > buses)
		end = start + (uint32_t)buses - 1;

	has_dom = read_domain(fdt, node, &d);
	if (has_dom < 0)
		return has_dom;
	if (!has_dom) {
		/* Lowest number neither reserved statically nor handed out
		 * already: at most statics + taken + 1 candidates. */
		for (i = 0, d = 0; i <= DT_ECAM_MAX_DOMAINS * 2; i++, d++)
			if (!domain_set_has(statics, d) && !domain_set_has(taken, d))
				break;
	}
	w->base = base;
	w->seg = (uint16_t)d;
	w->bus_start = (uint8_t)start;
	w->bus_end = (uint8_t)end;
	return has_dom;
}

int dt_ecam_scan(const void *fdt, struct ecam *e, struct dt_scan_stats *stp)
{
	struct domain_set statics = { .n = 0 }, taken = { .n = 0 };
	struct dt_scan_stats local;
	struct dt_scan_stats *st = stp ? stp : &local;
	struct ecam_window w;
	unsigned int hops;
	int node = -1, rc;

	memset(st, 0, sizeof(*st));
	st->first_err_node = -1;
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	collect_static(fdt, &statics);
	for (hops = 0; hops < DT_MAX_NODES; hops++) {
		node = fdt_node_offset_by_compatible(fdt, node, DT_ECAM_COMPAT);
		if (node < 0)
			break;
		if (!dt_node_enabled(fdt, node))
			continue;
		st->found++;
		rc = parse_node(fdt, node, &statics, &taken, &w);
		if (rc >= 0) {
			bool dynamic = rc == 0;

			/* Linux numbers a host only once it registers, so a
			 * refused window consumes no dynamic number. */
			rc = ecam_add_window(e, &w);
			if (!rc && dynamic)
				domain_set_add(&taken, w.seg);
		}
		dt_scan_note(st, node, rc < 0 ? rc : 0);
	}
	return st->first_err;
}
