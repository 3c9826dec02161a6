/* dt_mem.c - RAM (/memory), reserved ranges (/reserved-memory, the FDT
 * memreserve block) and the no-map ones among them, from a DTB. Never adds a
 * range it could not fully decode. */
#include <libfdt.h>
#include <stdbool.h>
#include <string.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>
#include "dt_scan.h"

static bool is_memory_node(const void *fdt, int node)
{
	const char *t;
	int len;

	t = fdt_getprop(fdt, node, "device_type", &len);
	return t && len == 7 && !memcmp(t, "memory", 7);
}

/* Every tuple of prop into rs; zero-size tuples carry nothing (Linux skips
 * them). Returns 0 or the first error; tuples before it stay added. */
static int add_tuples(const void *fdt, int node, const char *prop, struct phys_ranges *rs)
{
	uint64_t addr, size;
	int i, rc;

	for (i = 0; i < DT_MAX_REG; i++) {
		rc = dt_prop_reg_get(fdt, node, prop, i, &addr, &size);
		if (rc == -PCSC_ENOTFOUND)
			return i ? 0 : rc;
		if (rc)
			return rc;
		if (!size)
			continue;
		rc = phys_ranges_add(rs, addr, size);
		if (rc)
			return rc;
	}
	return -PCSC_ERANGE;	/* more tuples than any real bank list */
}

int dt_mem_ram(const void *fdt, struct phys_ranges *ram, struct dt_scan_stats *stp)
{
	struct dt_scan_stats local;
	struct dt_scan_stats *st = stp ? stp : &local;
	unsigned int hops = 0;
	int node, rc, len;

	memset(st, 0, sizeof(*st));
	st->first_err_node = -1;
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	fdt_for_each_subnode(node, fdt, 0) {
		if (++hops > DT_MAX_NODES)
			break;
		if (!is_memory_node(fdt, node) || !dt_node_enabled(fdt, node))
			continue;
		st->found++;
		/* As Linux: linux,usable-memory (kdump) overrides reg. */
		if (fdt_getprop(fdt, node, "linux,usable-memory", &len) && len > 0)
			rc = add_tuples(fdt, node, "linux,usable-memory", ram);
		else
			rc = add_tuples(fdt, node, "reg", ram);
		dt_scan_note(st, node, rc);
	}
	if (!st->found)
		return -PCSC_ENOTFOUND;
	return st->first_err;
}

/* The memreserve block into rs: fdt_num_mem_rsv stops at the terminator or
 * reports a block running past the structure (nothing added then). */
static void add_memreserve(const void *fdt, struct phys_ranges *rs, struct dt_scan_stats *st,
			   bool *full)
{
	uint64_t addr, size;
	int i, n, rc;

	n = fdt_num_mem_rsv(fdt);
	if (n < 0) {
		dt_scan_note(st, -1, -PCSC_ETRUNC);
		return;
	}
	for (i = 0; i < n && i < DT_MAX_NODES; i++) {
		st->found++;
		if (fdt_get_mem_rsv(fdt, i, &addr, &size)) {
			dt_scan_note(st, -1, -PCSC_ETRUNC);
			return;
		}
		rc = phys_ranges_add(rs, addr, size);
		if (rc == -PCSC_ENOSPC)
			*full = true;
		dt_scan_note(st, -1, rc);
	}
}

/*
 * Every enabled child of /reserved-memory with a fixed address (reg), or
 * only those with no-map: into rs. Children with only size/alloc-ranges
 * were placed dynamically by the old kernel and are skipped.
 */
static void add_reserved_children(const void *fdt, struct phys_ranges *rs,
				  struct dt_scan_stats *st, bool nomap_only, bool *full)
{
	uint64_t addr, size;
	unsigned int hops = 0;
	int node, parent, rc;

	parent = fdt_path_offset(fdt, "/reserved-memory");
	if (parent < 0)
		return;
	fdt_for_each_subnode(node, fdt, parent) {
		if (++hops > DT_MAX_NODES)
			break;
		if (!dt_node_enabled(fdt, node))
			continue;
		/* Linux tests presence only (of_get_flat_dt_prop != NULL). */
		if (nomap_only && !fdt_getprop(fdt, node, "no-map", NULL))
			continue;
		rc = dt_reg_get(fdt, node, 0, &addr, &size);
		if (rc == -PCSC_ENOTFOUND && !fdt_getprop(fdt, node, "reg", NULL))
			continue;	/* dynamic: placed by the old kernel, no fixed address */
		st->found++;
		if (!rc)
			rc = add_tuples(fdt, node, "reg", rs);
		if (rc == -PCSC_ENOSPC)
			*full = true;
		dt_scan_note(st, node, rc);
	}
}

/* The memreserve block and /reserved-memory (all children, or only the
 * no-map ones) into rs; *full when rs ran out of room. */
static int scan_reserved(const void *fdt, struct phys_ranges *rs, struct dt_scan_stats *stp,
			 bool nomap_only, bool *full)
{
	struct dt_scan_stats local;
	struct dt_scan_stats *st = stp ? stp : &local;

	memset(st, 0, sizeof(*st));
	st->first_err_node = -1;
	*full = false;
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	add_memreserve(fdt, rs, st, full);
	add_reserved_children(fdt, rs, st, nomap_only, full);
	return st->first_err;
}

int dt_mem_reserved(const void *fdt, struct phys_ranges *rsv, struct dt_scan_stats *stp)
{
	bool full;

	return scan_reserved(fdt, rsv, stp, false, &full);
}

int dt_mem_nomap(const void *fdt, struct phys_ranges *nomap, struct dt_scan_stats *stp)
{
	bool full;
	int rc = scan_reserved(fdt, nomap, stp, true, &full);

	/* An incomplete list is worse than a bad node: whoever maps around
	 * it would map a region it was never told about. */
	return full ? -PCSC_ENOSPC : rc;
}
