/* acpi_tables.c - map one checked ACPI table, and find a table by signature
 * through the XSDT or RSDT. Never hands out a table whose checksum fails. */
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>

int acpi_table_map(const struct physmem *pm, uint64_t phys, const char *sig,
		   const uint8_t **tbl, uint32_t *len)
{
	const uint8_t *p;
	uint32_t l;

	p = physmem_map(pm, phys, ACPI_SDT_HDR_LEN);
	if (!p)
		return -PCSC_ENOTRAM;
	if (sig && memcmp(p, sig, 4))
		return -PCSC_ENOTFOUND;
	l = acpi_le32(p + 4);
	if (l < ACPI_SDT_HDR_LEN || l > ACPI_MAX_TABLE_LEN)
		return -PCSC_ERANGE;
	p = physmem_map(pm, phys, l);
	if (!p)
		return -PCSC_ENOTRAM;
	if (acpi_checksum(p, l))
		return -PCSC_ECHECKSUM;
	*tbl = p;
	*len = l;
	return 0;
}

int acpi_find_table(const struct physmem *pm, const struct acpi_rsdp *rsdp,
		    const char *sig, uint64_t *phys)
{
	const uint8_t *root, *t;
	uint32_t len, tlen, n, i, esz;
	uint64_t root_phys, a;
	bool x;
	int rc, first_err = -PCSC_ENOTFOUND;

	x = rsdp->revision >= 2 && rsdp->xsdt;
	root_phys = x ? rsdp->xsdt : rsdp->rsdt;
	if (!root_phys)
		return -PCSC_ENODEV;
	rc = acpi_table_map(pm, root_phys, x ? "XSDT" : "RSDT", &root, &len);
	if (rc)
		return rc;
	esz = x ? 8 : 4;
	if ((len - ACPI_SDT_HDR_LEN) % esz)
		return -PCSC_ERANGE;
	n = (len - ACPI_SDT_HDR_LEN) / esz;
	if (n > ACPI_MAX_TABLES)
		n = ACPI_MAX_TABLES;
	for (i = 0; i < n; i++) {
		const uint8_t *e = root + ACPI_SDT_HDR_LEN + i * esz;

		a = x ? acpi_le64(e) : acpi_le32(e);
		rc = acpi_table_map(pm, a, sig, &t, &tlen);
		if (!rc) {
			*phys = a;
			return 0;
		}
		/* Not this signature (or unreadable): keep looking, but if a
		 * table with the right name was broken, say so at the end. */
		if (rc != -PCSC_ENOTFOUND && rc != -PCSC_ENOTRAM &&
		    first_err == -PCSC_ENOTFOUND)
			first_err = rc;
	}
	return first_err;
}
