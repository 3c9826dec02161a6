/* acpi_rsdp.c - find and validate the ACPI RSDP (given, or by the BIOS-area
 * scan). Never follows an address from an RSDP that failed its checksums. */
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>

uint8_t acpi_checksum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

int acpi_rsdp_parse(const struct physmem *pm, uint64_t phys, struct acpi_rsdp *out)
{
	const uint8_t *p;
	uint32_t len;

	memset(out, 0, sizeof(*out));
	p = physmem_map(pm, phys, ACPI_RSDP_V1_LEN);
	if (!p)
		return -PCSC_ENOTRAM;
	if (memcmp(p, "RSD PTR ", 8))
		return -PCSC_ENOTFOUND;
	if (acpi_checksum(p, ACPI_RSDP_V1_LEN))
		return -PCSC_ECHECKSUM;
	out->revision = p[15];
	out->rsdt = acpi_le32(p + 16);
	if (out->revision >= 2) {
		p = physmem_map(pm, phys, ACPI_RSDP_V2_LEN);
		if (!p)
			return -PCSC_ENOTRAM;
		len = acpi_le32(p + 20);
		/* 36 today; allow growth within a page, never beyond. */
		if (len < ACPI_RSDP_V2_LEN || len > 4096)
			return -PCSC_ERANGE;
		p = physmem_map(pm, phys, len);
		if (!p)
			return -PCSC_ENOTRAM;
		if (acpi_checksum(p, len))
			return -PCSC_ECHECKSUM;
		out->xsdt = acpi_le64(p + 24);
	}
	if (!out->rsdt && !out->xsdt)
		return -PCSC_ENODEV;
	return 0;
}

int acpi_rsdp_scan(const struct physmem *pm, uint64_t start, uint64_t len, uint64_t *rsdp)
{
	struct acpi_rsdp r;
	uint64_t a, first, end;

	if (len < ACPI_RSDP_V1_LEN || start + len < start)
		return -PCSC_ENOTFOUND;
	if (!physmem_map(pm, start, len))
		return -PCSC_ENOTRAM;
	first = (start + 15) & ~15ull;
	end = start + len - ACPI_RSDP_V1_LEN;
	/* At most len/16 candidates; a bad checksum just moves on, as the
	 * ACPI spec's search does. */
	for (a = first; a <= end; a += 16)
		if (acpi_rsdp_parse(pm, a, &r) == 0) {
			*rsdp = a;
			return 0;
		}
	return -PCSC_ENOTFOUND;
}
