/* efi_systab.c - the RSDP from an EFI system table's configuration table
 * (64-bit layout), as ACPI arm64 servers hand it over. Never calls EFI. */
#include <string.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>

/* EFI_GUIDs as stored in memory: data1..3 little-endian, data4 bytes. */
static const uint8_t acpi20_guid[16] = {	/* 8868e871-e4f1-11d3-bc22-0080c73c8881 */
	0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
	0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t acpi10_guid[16] = {	/* eb9d2d30-2d88-11d3-9a16-0090273fc14d */
	0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
	0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

int efi_find_rsdp(const struct physmem *pm, uint64_t systab, uint64_t *rsdp)
{
	const uint8_t *st, *ct;
	uint64_t n, table, v1 = 0;
	uint64_t i;

	st = physmem_map(pm, systab, EFI_SYSTAB_LEN);
	if (!st)
		return -PCSC_ENOTRAM;
	if (acpi_le64(st) != EFI_SYSTEM_TABLE_SIGNATURE)
		return -PCSC_ENOTFOUND;
	if (acpi_le32(st + 12) < EFI_SYSTAB_LEN)	/* Hdr.HeaderSize */
		return -PCSC_ERANGE;
	n = acpi_le64(st + 104);			/* NumberOfTableEntries */
	table = acpi_le64(st + 112);			/* ConfigurationTable */
	if (n > EFI_MAX_CONFIG_TABLES || (n && !table))
		return -PCSC_ERANGE;
	if (!n)
		return -PCSC_ENOTFOUND;
	ct = physmem_map(pm, table, n * EFI_CONFIG_ENTRY_LEN);
	if (!ct)
		return -PCSC_ENOTRAM;
	for (i = 0; i < n; i++) {
		const uint8_t *e = ct + i * EFI_CONFIG_ENTRY_LEN;

		if (!memcmp(e, acpi20_guid, 16) && acpi_le64(e + 16)) {
			*rsdp = acpi_le64(e + 16);
			return 0;
		}
		if (!v1 && !memcmp(e, acpi10_guid, 16))
			v1 = acpi_le64(e + 16);
	}
	if (!v1)
		return -PCSC_ENOTFOUND;
	*rsdp = v1;
	return 0;
}
