/* bench/rfc_restore.c - the RFC's per-device restore lookup by node name (the baseline of
 * `make bench`). It must never be used to trust a cache: it checks nothing, like the RFC. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/pcsc_fdt.h>
#include "rfc_restore.h"

int rfc_restore_lookup(const void *fdt, const pci_sbdf_t *devs, uint32_t n,
		       struct rfc_restore_result *r)
{
	char name[PCSC_NAME_LEN + 1];
	const void *da;
	uint32_t i;
	int off, len;

	memset(r, 0, sizeof(*r));
	if (fdt_check_header(fdt))
		return -1;
	for (i = 0; i < n; i++) {
		/* The RFC formats "dev_%04x_%02x_%02x_%x" with the kernel's
		 * snprintf; pcsc_name_format writes the same 16 characters. */
		pcsc_name_format(devs[i], name);
		off = fdt_subnode_offset(fdt, 0, name);
		if (off < 0) {
			r->missing++;
			continue;
		}
		da = fdt_getprop(fdt, off, PCSC_PROP_DA, &len);
		if (!da || len != (int)sizeof(uint64_t)) {
			r->missing++;
			continue;
		}
		/* KHO properties are native endian: adopt as is. */
		{
			uint64_t v;

			memcpy(&v, da, sizeof(v));
			r->da_sum += v;
		}
		r->found++;
	}
	r->siblings = rfc_restore_siblings(n);
	return 0;
}

uint64_t rfc_restore_siblings(uint32_t n)
{
	return n ? (uint64_t)n * (n - 1u) / 2u : 0;
}
