/* test_efi_systab.c - the RSDP from a hand-built 64-bit EFI system table and
 * configuration table; ACPI 2.0 preferred, hostile tables refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>
#include "helpers/acpi_image.h"

#define B ACPI_IMAGE_BASE
#define ST (B + 0x1000)
#define CT (B + 0x2000)
static struct physmem pm;

static const uint8_t g20[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
				 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t g10[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
				 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };
/* SMBIOS3: a neighbour that must be skipped */
static const uint8_t gsm[16] = { 0x44, 0x15, 0xfd, 0xf2, 0x94, 0x97, 0x2c, 0x4a,
				 0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94 };

static void systab(uint64_t n, uint64_t table)
{
	uint8_t *p = acpi_image_at(ST);

	acpi_image_le64(p, EFI_SYSTEM_TABLE_SIGNATURE);
	acpi_image_le32(p + 8, 0x20046);	/* 2.70 */
	acpi_image_le32(p + 12, EFI_SYSTAB_LEN);
	acpi_image_le64(p + 104, n);
	acpi_image_le64(p + 112, table);
}

static void entry(unsigned int i, const uint8_t *guid, uint64_t v)
{
	uint8_t *p = acpi_image_at(CT + 24 * i);

	memcpy(p, guid, 16);
	acpi_image_le64(p + 16, v);
}

static int setup(void **state)
{
	(void)state;
	acpi_image_init(&pm);
	return 0;
}

static void acpi20_is_preferred_over_acpi10(void **state)
{
	uint64_t r = 0;
	(void)state;
	systab(3, CT);
	entry(0, g10, 0x7000);
	entry(1, gsm, 0x6000);
	entry(2, g20, 0x8000);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), 0);
	assert_int_equal(r, 0x8000);
}

static void acpi10_is_the_fallback(void **state)
{
	uint64_t r = 0;
	(void)state;
	systab(2, CT);
	entry(0, gsm, 0x6000);
	entry(1, g10, 0x7000);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), 0);
	assert_int_equal(r, 0x7000);
	systab(1, CT);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ENOTFOUND);
	systab(0, 0);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ENOTFOUND);
}

static void hostile_system_tables_are_refused(void **state)
{
	uint64_t r = 0;
	(void)state;
	systab(1, CT);
	entry(0, g20, 0x8000);
	acpi_image_at(ST)[0] = 'X';
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ENOTFOUND);
	systab(1, CT);
	acpi_image_le32(acpi_image_at(ST + 12), 24);		/* header too short */
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ERANGE);
	systab(EFI_MAX_CONFIG_TABLES + 1, CT);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ERANGE);
	systab(1ull << 60, CT);					/* n * 24 would wrap */
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ERANGE);
	systab(1, 0);
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ERANGE);
	systab(1000, B + ACPI_IMAGE_SIZE - 240);		/* table past RAM */
	assert_int_equal(efi_find_rsdp(&pm, ST, &r), -PCSC_ENOTRAM);
	assert_int_equal(efi_find_rsdp(&pm, B + ACPI_IMAGE_SIZE - 100, &r), -PCSC_ENOTRAM);
	assert_int_equal(r, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(acpi20_is_preferred_over_acpi10, setup),
		cmocka_unit_test_setup(acpi10_is_the_fallback, setup),
		cmocka_unit_test_setup(hostile_system_tables_are_refused, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
