/* acpi_image.c - fake physical memory with hand-built ACPI tables for the
 * acpi_* and efi_* unit tests. Test code only: aborts on misuse. */
#include <stdlib.h>
#include <string.h>
#include <pcsc/acpi.h>
#include "acpi_image.h"

uint8_t acpi_image_mem[ACPI_IMAGE_SIZE];

static void *acpi_image_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys < ACPI_IMAGE_BASE || len > ACPI_IMAGE_SIZE ||
	    phys - ACPI_IMAGE_BASE > ACPI_IMAGE_SIZE - len)
		return NULL;
	return acpi_image_mem + (phys - ACPI_IMAGE_BASE);
}

void acpi_image_init(struct physmem *pm)
{
	memset(acpi_image_mem, 0, sizeof(acpi_image_mem));
	memset(pm, 0, sizeof(*pm));
	if (phys_ranges_add(&pm->ram, ACPI_IMAGE_BASE, ACPI_IMAGE_SIZE))
		abort();
	pm->map = acpi_image_map;
}

uint8_t *acpi_image_at(uint64_t pa)
{
	if (pa < ACPI_IMAGE_BASE || pa >= ACPI_IMAGE_BASE + ACPI_IMAGE_SIZE)
		abort();
	return acpi_image_mem + (pa - ACPI_IMAGE_BASE);
}

void acpi_image_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void acpi_image_le32(uint8_t *p, uint32_t v)
{
	acpi_image_le16(p, (uint16_t)v);
	acpi_image_le16(p + 2, (uint16_t)(v >> 16));
}

void acpi_image_le64(uint8_t *p, uint64_t v)
{
	acpi_image_le32(p, (uint32_t)v);
	acpi_image_le32(p + 4, (uint32_t)(v >> 32));
}

void acpi_image_rsdp(uint64_t pa, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *p = acpi_image_at(pa);

	memset(p, 0, ACPI_RSDP_V2_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "PCSCTS", 6);
	p[15] = rev;
	acpi_image_le32(p + 16, rsdt);
	p[8] = (uint8_t)-acpi_checksum(p, ACPI_RSDP_V1_LEN);
	if (rev >= 2) {
		acpi_image_le32(p + 20, ACPI_RSDP_V2_LEN);
		acpi_image_le64(p + 24, xsdt);
		p[32] = (uint8_t)-acpi_checksum(p, ACPI_RSDP_V2_LEN);
	}
}

void acpi_image_fix_checksum(uint64_t pa)
{
	uint8_t *p = acpi_image_at(pa);
	uint32_t len = acpi_le32(p + 4);

	p[9] = 0;
	p[9] = (uint8_t)-acpi_checksum(p, len);
}

void acpi_image_sdt(uint64_t pa, const char *sig, uint32_t len, const void *body)
{
	uint8_t *p = acpi_image_at(pa);

	memset(p, 0, ACPI_SDT_HDR_LEN);
	memcpy(p, sig, 4);
	acpi_image_le32(p + 4, len);
	p[8] = 1;
	memcpy(p + 10, "PCSCTS", 6);
	if (body)
		memcpy(p + ACPI_SDT_HDR_LEN, body, len - ACPI_SDT_HDR_LEN);
	acpi_image_fix_checksum(pa);
}

void acpi_image_xsdt(uint64_t pa, const uint64_t *tables, unsigned int n)
{
	uint8_t body[8 * 64];
	unsigned int i;

	for (i = 0; i < n && i < 64; i++)
		acpi_image_le64(body + 8 * i, tables[i]);
	acpi_image_sdt(pa, "XSDT", ACPI_SDT_HDR_LEN + 8 * n, body);
}

void acpi_image_rsdt(uint64_t pa, const uint64_t *tables, unsigned int n)
{
	uint8_t body[4 * 64];
	unsigned int i;

	for (i = 0; i < n && i < 64; i++)
		acpi_image_le32(body + 4 * i, (uint32_t)tables[i]);
	acpi_image_sdt(pa, "RSDT", ACPI_SDT_HDR_LEN + 4 * n, body);
}

void acpi_image_mcfg(uint64_t pa, const struct acpi_image_mcfg_entry *e, unsigned int n)
{
	uint8_t body[8 + 16 * 64];
	unsigned int i;

	memset(body, 0, sizeof(body));
	for (i = 0; i < n && i < 64; i++) {
		uint8_t *q = body + 8 + 16 * i;

		acpi_image_le64(q, e[i].base);
		acpi_image_le16(q + 8, e[i].seg);
		q[10] = e[i].start;
		q[11] = e[i].end;
	}
	acpi_image_sdt(pa, "MCFG", ACPI_MCFG_ENTRY_OFF + 16 * n, body);
}
