/* test_acpi_tables.c - checked table mapping and the XSDT/RSDT walk to a
 * table by signature, including broken and lying tables. */
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
static struct physmem pm;

static int setup(void **state)
{
	(void)state;
	acpi_image_init(&pm);
	return 0;
}

static void table_map_checks_everything(void **state)
{
	const uint8_t *t;
	uint32_t len;
	uint8_t body[64];
	(void)state;
	memset(body, 0xab, sizeof(body));
	acpi_image_sdt(B + 0x1000, "APIC", 100, body);
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, "APIC", &t, &len), 0);
	assert_ptr_equal(t, acpi_image_at(B + 0x1000));
	assert_int_equal(len, 100);
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, NULL, &t, &len), 0);
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, "MCFG", &t, &len), -PCSC_ENOTFOUND);
	acpi_image_at(B + 0x1000)[50] ^= 1;
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, "APIC", &t, &len), -PCSC_ECHECKSUM);
	acpi_image_sdt(B + 0x1000, "APIC", 35, NULL);
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, "APIC", &t, &len), -PCSC_ERANGE);
	acpi_image_sdt(B + 0x1000, "APIC", 36, NULL);
	acpi_image_le32(acpi_image_at(B + 0x1000 + 4), ACPI_MAX_TABLE_LEN + 1);
	assert_int_equal(acpi_table_map(&pm, B + 0x1000, "APIC", &t, &len), -PCSC_ERANGE);
	/* length past the end of RAM */
	acpi_image_sdt(B + ACPI_IMAGE_SIZE - 40, "APIC", 36, NULL);
	acpi_image_le32(acpi_image_at(B + ACPI_IMAGE_SIZE - 40 + 4), 41);
	assert_int_equal(acpi_table_map(&pm, B + ACPI_IMAGE_SIZE - 40, "APIC", &t, &len),
			 -PCSC_ENOTRAM);
	assert_int_equal(acpi_table_map(&pm, B + ACPI_IMAGE_SIZE - 20, NULL, &t, &len),
			 -PCSC_ENOTRAM);
}

static void xsdt_walk_finds_the_first_valid_table(void **state)
{
	uint64_t tabs[4] = { 0x1234000, B + 0x2000, B + 0x3000, B + 0x4000 };
	struct acpi_rsdp r = { .revision = 2, .rsdt = 0, .xsdt = B + 0x1000 };
	uint64_t pa = 0;
	(void)state;
	acpi_image_xsdt(B + 0x1000, tabs, 4);
	acpi_image_sdt(B + 0x2000, "FACP", 64, NULL);
	acpi_image_sdt(B + 0x3000, "MCFG", 60, NULL);
	acpi_image_sdt(B + 0x4000, "MCFG", 60, NULL);
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), 0);
	assert_int_equal(pa, B + 0x3000);
	/* a broken first MCFG is passed over */
	acpi_image_at(B + 0x3000)[40] = 1;
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), 0);
	assert_int_equal(pa, B + 0x4000);
	/* when every MCFG is broken, the error says why */
	acpi_image_at(B + 0x4000)[40] = 1;
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ECHECKSUM);
	assert_int_equal(acpi_find_table(&pm, &r, "HPET", &pa), -PCSC_ENOTFOUND);
}

static void rsdt_is_used_below_revision_2(void **state)
{
	uint64_t tabs[2] = { B + 0x2000, B + 0x3000 };
	struct acpi_rsdp r = { .revision = 0, .rsdt = B + 0x1000, .xsdt = B + 0x5000 };
	uint64_t pa = 0;
	(void)state;
	acpi_image_rsdt(B + 0x1000, tabs, 2);
	acpi_image_sdt(B + 0x2000, "FACP", 64, NULL);
	acpi_image_sdt(B + 0x3000, "MCFG", 60, NULL);
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), 0);
	assert_int_equal(pa, B + 0x3000);
	/* revision 2 without an XSDT address falls back to the RSDT */
	r.revision = 2;
	r.xsdt = 0;
	assert_int_equal(acpi_find_table(&pm, &r, "FACP", &pa), 0);
	assert_int_equal(pa, B + 0x2000);
}

static void hostile_root_tables_are_refused(void **state)
{
	uint64_t tabs[1] = { B + 0x2000 };
	struct acpi_rsdp r = { .revision = 2, .xsdt = B + 0x1000 };
	uint64_t pa;
	(void)state;
	acpi_image_sdt(B + 0x2000, "MCFG", 60, NULL);
	acpi_image_sdt(B + 0x1000, "XSDT", 36 + 12, NULL);	/* 1.5 entries */
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ERANGE);
	acpi_image_xsdt(B + 0x1000, tabs, 1);
	memcpy(acpi_image_at(B + 0x1000), "RSDT", 4);		/* wrong signature */
	acpi_image_fix_checksum(B + 0x1000);
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ENOTFOUND);
	acpi_image_xsdt(B + 0x1000, tabs, 1);
	acpi_image_at(B + 0x1000)[36] ^= 0x10;			/* checksum */
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ECHECKSUM);
	r.xsdt = 0x10;
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ENOTRAM);
	r.xsdt = 0;
	r.rsdt = 0;
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ENODEV);
}

static void xsdt_entry_count_is_bounded(void **state)
{
	/* An XSDT claiming 2000 entries (all zero) with the MCFG at entry
	 * 1500: looked at no further than ACPI_MAX_TABLES. */
	struct acpi_rsdp r = { .revision = 2, .xsdt = B + 0x1000 };
	uint32_t len = 36 + 8 * 2000;
	uint64_t pa;
	(void)state;
	acpi_image_sdt(B + 0x8000, "MCFG", 60, NULL);
	acpi_image_sdt(B + 0x1000, "XSDT", len, NULL);
	acpi_image_le64(acpi_image_at(B + 0x1000 + 36 + 8 * 1500), B + 0x8000);
	acpi_image_fix_checksum(B + 0x1000);
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), -PCSC_ENOTFOUND);
	acpi_image_le64(acpi_image_at(B + 0x1000 + 36 + 8 * 1023), B + 0x8000);
	acpi_image_fix_checksum(B + 0x1000);
	assert_int_equal(acpi_find_table(&pm, &r, "MCFG", &pa), 0);
	assert_int_equal(pa, B + 0x8000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(table_map_checks_everything, setup),
		cmocka_unit_test_setup(xsdt_walk_finds_the_first_valid_table, setup),
		cmocka_unit_test_setup(rsdt_is_used_below_revision_2, setup),
		cmocka_unit_test_setup(hostile_root_tables_are_refused, setup),
		cmocka_unit_test_setup(xsdt_entry_count_is_bounded, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
