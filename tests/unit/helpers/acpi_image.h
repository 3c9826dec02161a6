/* acpi_image.h - a fake physical memory image for ACPI/EFI table tests:
 * a host buffer at a chosen guest-physical base, plus table builders. */
#ifndef TEST_ACPI_IMAGE_H
#define TEST_ACPI_IMAGE_H

#include <stdint.h>
#include <pcsc/physmem.h>

#define ACPI_IMAGE_BASE	0x80000000ull
#define ACPI_IMAGE_SIZE	(256u * 1024)

extern uint8_t acpi_image_mem[ACPI_IMAGE_SIZE];

/* Zero the image; pm maps [BASE, BASE+SIZE) with RAM = exactly that. */
void acpi_image_init(struct physmem *pm);
/* Pointer to the byte at physical address pa (inside the image). */
uint8_t *acpi_image_at(uint64_t pa);
/* RSDP at pa: revision rev, both checksums correct. */
void acpi_image_rsdp(uint64_t pa, uint8_t rev, uint32_t rsdt, uint64_t xsdt);
/* SDT header at pa with signature sig and length len; body (len - 36
 * bytes) copied from body if non-NULL; checksum fixed last. */
void acpi_image_sdt(uint64_t pa, const char *sig, uint32_t len, const void *body);
/* Recompute the checksum of the SDT at pa (after editing it). */
void acpi_image_fix_checksum(uint64_t pa);
/* XSDT (8-byte entries) or RSDT (4-byte entries) listing n tables. */
void acpi_image_xsdt(uint64_t pa, const uint64_t *tables, unsigned int n);
void acpi_image_rsdt(uint64_t pa, const uint64_t *tables, unsigned int n);
/* MCFG with n entries {base, seg, start, end}. */
struct acpi_image_mcfg_entry {
	uint64_t base;
	uint16_t seg;
	uint8_t start, end;
};
void acpi_image_mcfg(uint64_t pa, const struct acpi_image_mcfg_entry *e, unsigned int n);
/* Little-endian stores. */
void acpi_image_le16(uint8_t *p, uint16_t v);
void acpi_image_le32(uint8_t *p, uint32_t v);
void acpi_image_le64(uint8_t *p, uint64_t v);

#endif
