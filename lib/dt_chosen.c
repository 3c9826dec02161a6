/* dt_chosen.c - /chosen as the old kernel left it for the next one: KHO FDT
 * and scratch, UEFI system table and memory map. Never reads past a property. */
#include <libfdt.h>
#include <string.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>

static void fail(struct dt_chosen *c, int err)
{
	if (!c->err)
		c->err = err;
}

/* An address+size pair in the root's cells, as early_init_dt_check_kho. */
static bool read_pair(const void *fdt, int node, const char *name, int ac, int sc,
		      uint64_t *addr, uint64_t *size, struct dt_chosen *c)
{
	const uint8_t *p;
	int len, rc;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p)
		return false;
	if (ac < 1 || sc < 1 || ac > FDT_MAX_NCELLS || sc > FDT_MAX_NCELLS) {
		fail(c, -PCSC_ERANGE);
		return false;
	}
	if (len != 4 * (ac + sc)) {
		fail(c, -PCSC_EPROPSIZE);
		return false;
	}
	rc = dt_cells_read(p, ac, addr);
	if (!rc)
		rc = dt_cells_read(p + 4 * ac, sc, size);
	if (rc) {
		fail(c, rc);
		return false;
	}
	return true;
}

/* One number of 4 or 8 bytes, as efi_get_fdt_prop accepts. */
static bool read_num(const void *fdt, int node, const char *name, uint64_t *v,
		     struct dt_chosen *c)
{
	const uint8_t *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p)
		return false;
	if (len != 4 && len != 8) {
		fail(c, -PCSC_EPROPSIZE);
		return false;
	}
	dt_cells_read(p, len / 4, v);
	return true;
}

static bool read_u32(const void *fdt, int node, const char *name, uint32_t *v,
		     struct dt_chosen *c)
{
	uint64_t x;

	if (!read_num(fdt, node, name, &x, c))
		return false;
	if (x > 0xffffffffu) {
		fail(c, -PCSC_ERANGE);
		return false;
	}
	*v = (uint32_t)x;
	return true;
}

int dt_chosen_node(const void *fdt)
{
	/* libfdt matches "chosen" against "chosen@0" too, so this already
	 * finds what Linux's "/chosen@0" fallback would. */
	return fdt_path_offset(fdt, "/chosen");
}

int dt_chosen_parse(const void *fdt, struct dt_chosen *c)
{
	uint64_t start = 0;
	uint32_t size = 0, dsize = 0, dver = 0;
	int node, ac, sc;
	bool ok;

	memset(c, 0, sizeof(*c));
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	node = dt_chosen_node(fdt);
	if (node < 0)
		return -PCSC_ENOTFOUND;
	ac = dt_address_cells(fdt, 0);
	sc = dt_size_cells(fdt, 0);

	c->has_kho = read_pair(fdt, node, "linux,kho-fdt", ac, sc,
			       &c->kho_fdt, &c->kho_fdt_size, c);
	c->kho_malformed = !c->has_kho && fdt_getprop(fdt, node, "linux,kho-fdt", NULL);
	c->has_kho_scratch = read_pair(fdt, node, "linux,kho-scratch", ac, sc,
				       &c->kho_scratch, &c->kho_scratch_size, c);
	c->has_uefi = read_num(fdt, node, "linux,uefi-system-table", &c->uefi_systab, c);

	/* The map is usable only as a whole: each field sizes the others. */
	ok = read_num(fdt, node, "linux,uefi-mmap-start", &start, c);
	ok &= read_u32(fdt, node, "linux,uefi-mmap-size", &size, c);
	ok &= read_u32(fdt, node, "linux,uefi-mmap-desc-size", &dsize, c);
	ok &= read_u32(fdt, node, "linux,uefi-mmap-desc-ver", &dver, c);
	if (ok) {
		c->has_uefi_mmap = true;
		c->uefi_mmap_start = start;
		c->uefi_mmap_size = size;
		c->uefi_mmap_desc_size = dsize;
		c->uefi_mmap_desc_ver = dver;
	}
	return 0;
}
