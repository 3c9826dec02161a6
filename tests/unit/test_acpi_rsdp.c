/* test_acpi_rsdp.c - RSDP validation (v1 checksum, v2 length and extended
 * checksum) and the BIOS-area scan, over a fake physical memory image. */
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

static void checksum_sums_bytes_mod_256(void **state)
{
	const uint8_t b[4] = { 0x80, 0x80, 0x01, 0xff };
	(void)state;
	assert_int_equal(acpi_checksum(b, 0), 0);
	assert_int_equal(acpi_checksum(b, 2), 0);
	assert_int_equal(acpi_checksum(b, 3), 1);
	assert_int_equal(acpi_checksum(b, 4), 0);
}

static void v2_rsdp_gives_both_roots(void **state)
{
	struct acpi_rsdp r;
	(void)state;
	acpi_image_rsdp(B + 0x100, 2, 0x7fe0000, 0x17fe00000ull);
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), 0);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.rsdt, 0x7fe0000);
	assert_int_equal(r.xsdt, 0x17fe00000ull);
}

static void v1_rsdp_ignores_the_v2_fields(void **state)
{
	struct acpi_rsdp r;
	(void)state;
	acpi_image_rsdp(B + 0x100, 0, 0x7fe0000, 0);
	/* garbage where a v2 length would be must not matter for rev 0 */
	acpi_image_le32(acpi_image_at(B + 0x100 + 20), 0xffffffff);
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), 0);
	assert_int_equal(r.revision, 0);
	assert_int_equal(r.rsdt, 0x7fe0000);
	assert_int_equal(r.xsdt, 0);
}

static void hostile_rsdps_are_refused(void **state)
{
	struct acpi_rsdp r;
	uint8_t *p = acpi_image_at(B + 0x100);
	(void)state;
	acpi_image_rsdp(B + 0x100, 2, 0x1000, 0x2000);
	p[0] = 'X';
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ENOTFOUND);

	acpi_image_rsdp(B + 0x100, 2, 0x1000, 0x2000);
	p[8] ^= 1;					/* v1 checksum */
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ECHECKSUM);

	acpi_image_rsdp(B + 0x100, 2, 0x1000, 0x2000);
	p[32] ^= 1;					/* extended checksum */
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ECHECKSUM);

	acpi_image_rsdp(B + 0x100, 2, 0x1000, 0x2000);
	acpi_image_le32(p + 20, 20);			/* length below 36 */
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ERANGE);
	acpi_image_le32(p + 20, 0x10000000);		/* length absurd */
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ERANGE);

	/* length running past the end of memory */
	acpi_image_rsdp(B + ACPI_IMAGE_SIZE - 64, 2, 0x1000, 0x2000);
	acpi_image_le32(acpi_image_at(B + ACPI_IMAGE_SIZE - 64 + 20), 128);
	assert_int_equal(acpi_rsdp_parse(&pm, B + ACPI_IMAGE_SIZE - 64, &r), -PCSC_ENOTRAM);

	/* v1 structure itself straddling the end of RAM */
	assert_int_equal(acpi_rsdp_parse(&pm, B + ACPI_IMAGE_SIZE - 10, &r), -PCSC_ENOTRAM);
	assert_int_equal(acpi_rsdp_parse(&pm, 0x1000, &r), -PCSC_ENOTRAM);

	acpi_image_rsdp(B + 0x100, 2, 0, 0);		/* points nowhere */
	assert_int_equal(acpi_rsdp_parse(&pm, B + 0x100, &r), -PCSC_ENODEV);
}

static void scan_skips_decoys_and_finds_the_first_valid(void **state)
{
	uint64_t a = 0;
	(void)state;
	acpi_image_rsdp(B + 0x2000, 2, 0x1000, 0x2000);
	acpi_image_at(B + 0x2000)[8] ^= 1;		/* decoy: bad checksum */
	acpi_image_rsdp(B + 0x2008, 0, 0x1000, 0);	/* not 16-aligned: ignored */
	acpi_image_rsdp(B + 0x2040, 0, 0x3000, 0);
	acpi_image_rsdp(B + 0x2080, 0, 0x4000, 0);
	assert_int_equal(acpi_rsdp_scan(&pm, B + 0x1000, 0x2000, &a), 0);
	assert_int_equal(a, B + 0x2040);
	/* range ending before the first good one */
	assert_int_equal(acpi_rsdp_scan(&pm, B + 0x1000, 0x1040 + 19, &a), -PCSC_ENOTFOUND);
	/* exactly long enough for the v1 structure at its end */
	assert_int_equal(acpi_rsdp_scan(&pm, B + 0x1000, 0x1040 + 20, &a), 0);
	assert_int_equal(a, B + 0x2040);
	assert_int_equal(acpi_rsdp_scan(&pm, 0xe0000, 0x20000, &a), -PCSC_ENOTRAM);
	assert_int_equal(acpi_rsdp_scan(&pm, B, 10, &a), -PCSC_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_sums_bytes_mod_256),
		cmocka_unit_test_setup(v2_rsdp_gives_both_roots, setup),
		cmocka_unit_test_setup(v1_rsdp_ignores_the_v2_fields, setup),
		cmocka_unit_test_setup(hostile_rsdps_are_refused, setup),
		cmocka_unit_test_setup(scan_skips_decoys_and_finds_the_first_valid, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
