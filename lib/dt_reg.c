/* dt_reg.c - the few DT reading primitives the discovery scans share: blob
 * check, cell decoding, status, reg tuples. Never reads past a property. */
#include <libfdt.h>
#include <string.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>

int dt_check(const void *fdt, size_t bufsize)
{
	int rc;

	if (!fdt)
		return -PCSC_EINVAL;
	if (bufsize < sizeof(struct fdt_header))
		return -PCSC_ETRUNC;
	/* Check the header alone first so a lying totalsize is named as such.
	 * Only version 17 (what dtc, QEMU and Linux write): libfdt 1.6's
	 * fdt_check_full dereferences NULL on some hostile pre-17 blobs
	 * (found by fuzzing), and no boot path here produces them. */
	if (fdt_magic(fdt) != FDT_MAGIC || fdt_version(fdt) < 17 ||
	    fdt_check_header(fdt) != 0)
		return -PCSC_EBADFDT;
	if (fdt_totalsize(fdt) > bufsize)
		return -PCSC_ETRUNC;
	rc = fdt_check_full(fdt, bufsize);
	if (rc == -FDT_ERR_TRUNCATED)
		return -PCSC_ETRUNC;
	return rc ? -PCSC_EBADFDT : 0;
}

int dt_cells_read(const void *cells, int ncells, uint64_t *val)
{
	const uint8_t *p = cells;
	uint64_t v = 0;
	int i;

	if (ncells < 0 || ncells > FDT_MAX_NCELLS)
		return -PCSC_ERANGE;
	for (i = 0; i < ncells; i++) {
		/* Bytes, not fdt32_t loads: reg inside a DTB need not be
		 * aligned for a Device-memory (MMU off) access. */
		uint32_t c = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			     (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];

		if (ncells - i > 2 && c)
			return -PCSC_ERANGE;
		v = v << 32 | c;
	}
	*val = v;
	return 0;
}

/* As libfdt's fdt_cells: our own, so its fdt_addresses.o (mostly
 * fdt_appendprop_addrrange, never used here) stays out of the image. */
static int dt_ncells(const void *fdt, int node, const char *name, int absent)
{
	const void *c;
	uint64_t v;
	int len;

	c = fdt_getprop(fdt, node, name, &len);
	if (!c)
		return len == -FDT_ERR_NOTFOUND ? absent : len;
	if (len != 4)
		return -FDT_ERR_BADNCELLS;
	dt_cells_read(c, 1, &v);
	return v > FDT_MAX_NCELLS ? -FDT_ERR_BADNCELLS : (int)v;
}

int dt_address_cells(const void *fdt, int node)
{
	int n = dt_ncells(fdt, node, "#address-cells", 2);

	return n == 0 ? -FDT_ERR_BADNCELLS : n;
}

int dt_size_cells(const void *fdt, int node)
{
	return dt_ncells(fdt, node, "#size-cells", 1);
}

bool dt_node_enabled(const void *fdt, int node)
{
	const char *s;
	int len;

	s = fdt_getprop(fdt, node, "status", &len);
	if (!s)
		return true;
	if (len <= 0)
		return false;
	/* Compare within len: a status without a NUL must not be read past. */
	if (len >= 5 && !memcmp(s, "okay", 5))
		return true;
	if (len >= 3 && !memcmp(s, "ok", 3))
		return true;
	return false;
}

int dt_prop_reg_get(const void *fdt, int node, const char *prop, int idx,
		    uint64_t *addr, uint64_t *size)
{
	const uint8_t *reg;
	int parent, ac, sc, len, tuple, rc;

	parent = fdt_parent_offset(fdt, node);
	if (parent < 0)
		return -PCSC_EBADFDT;
	ac = dt_address_cells(fdt, parent);
	sc = dt_size_cells(fdt, parent);
	/* An address needs at least one cell; size 0 cells is legal DT but
	 * describes no range, so a window or RAM bank cannot come from it. */
	if (ac < 1 || sc < 0 || ac > FDT_MAX_NCELLS || sc > FDT_MAX_NCELLS)
		return -PCSC_ERANGE;
	reg = fdt_getprop(fdt, node, prop, &len);
	if (!reg)
		return -PCSC_ENOTFOUND;
	tuple = 4 * (ac + sc);
	if (len <= 0 || len % tuple)
		return len == 0 ? -PCSC_ENOTFOUND : -PCSC_EPROPSIZE;
	if (idx < 0 || idx >= len / tuple)
		return -PCSC_ENOTFOUND;
	reg += (size_t)idx * tuple;
	rc = dt_cells_read(reg, ac, addr);
	if (rc)
		return rc;
	if (sc == 0) {
		*size = 0;
		return 0;
	}
	return dt_cells_read(reg + 4 * ac, sc, size);
}

int dt_reg_get(const void *fdt, int node, int idx, uint64_t *addr, uint64_t *size)
{
	return dt_prop_reg_get(fdt, node, "reg", idx, addr, size);
}
