/* acpi_mcfg.c - ECAM windows from the ACPI MCFG table, every entry and every
 * segment. Never adds a window whose bus range or address does not hold up. */
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>

int acpi_mcfg_parse(const uint8_t *mcfg, uint32_t len, struct ecam *e, unsigned int *used)
{
	struct ecam_window w;
	uint32_t n, i;
	unsigned int ok = 0;
	int rc, first_err = 0;

	if (used)
		*used = 0;
	if (len < ACPI_SDT_HDR_LEN || memcmp(mcfg, "MCFG", 4))
		return -PCSC_ENOTFOUND;
	if (len < ACPI_MCFG_ENTRY_OFF || (len - ACPI_MCFG_ENTRY_OFF) % ACPI_MCFG_ENTRY_LEN)
		return -PCSC_ERANGE;
	n = (len - ACPI_MCFG_ENTRY_OFF) / ACPI_MCFG_ENTRY_LEN;
	for (i = 0; i < n; i++) {
		const uint8_t *p = mcfg + ACPI_MCFG_ENTRY_OFF + i * ACPI_MCFG_ENTRY_LEN;
		uint64_t base = acpi_le64(p);
		uint64_t off;

		w.seg = acpi_le16(p + 8);
		w.bus_start = p[10];
		w.bus_end = p[11];
		/* MCFG's base decodes bus 0 of the segment; our window's base
		 * is its first bus (Linux: address + (start_bus << 20)). */
		off = (uint64_t)w.bus_start << ECAM_BUS_SHIFT;
		if (w.bus_end < w.bus_start || base + off < base) {
			rc = -PCSC_ERANGE;
		} else {
			w.base = base + off;
			rc = ecam_add_window(e, &w);
		}
		pcsc_tally(rc, &first_err, &ok);
	}
	if (used)
		*used = ok;
	return first_err;
}

int acpi_ecam_from_rsdp(const struct physmem *pm, uint64_t rsdp, struct ecam *e)
{
	struct acpi_rsdp r;
	const uint8_t *t;
	uint64_t phys;
	uint32_t len;
	int rc;

	rc = acpi_rsdp_parse(pm, rsdp, &r);
	if (!rc)
		rc = acpi_find_table(pm, &r, "MCFG", &phys);
	if (!rc)
		rc = acpi_table_map(pm, phys, "MCFG", &t, &len);
	if (!rc)
		rc = acpi_mcfg_parse(t, len, e, NULL);
	return rc;
}
