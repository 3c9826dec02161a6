/* test_acpi_mcfg.c - ECAM windows from MCFG (every entry, every segment,
 * start-bus base adjustment, hostile entries) and the RSDP->MCFG chain. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>
#include "helpers/acpi_image.h"
#include "helpers/ecam_helpers.h"

#define B ACPI_IMAGE_BASE
static struct physmem pm;
static struct ecam e;

static int setup(void **state)
{
	(void)state;
	acpi_image_init(&pm);
	ecam_init(&e, NULL);
	return 0;
}

static void q35_mcfg_gives_one_window(void **state)
{
	const struct acpi_image_mcfg_entry q35[] = { { 0xb0000000, 0, 0, 255 } };
	unsigned int used = 99;
	(void)state;
	acpi_image_mcfg(B + 0x1000, q35, 1);
	assert_int_equal(acpi_mcfg_parse(acpi_image_at(B + 0x1000), 60, &e, &used), 0);
	assert_int_equal(used, 1);
	assert_int_equal(e.n, 1);
	ecam_helpers_assert_win(&e, 0, 0xb0000000, 0, 0, 255);
}

static void every_entry_and_segment_with_start_bus_offset(void **state)
{
	const struct acpi_image_mcfg_entry m[] = {
		{ 0x3f000000000ull, 0, 0, 0x7f },
		{ 0x3f000000000ull, 0, 0x80, 0xff },	/* same base, upper buses */
		{ 0x40000000000ull, 1, 0x10, 0x1f },	/* base is bus 0's */
		{ 0x50000000000ull, 0x8000, 0, 0 },
	};
	unsigned int used;
	(void)state;
	acpi_image_mcfg(B + 0x1000, m, 4);
	assert_int_equal(acpi_mcfg_parse(acpi_image_at(B + 0x1000), 44 + 64, &e, &used), 0);
	assert_int_equal(used, 4);
	ecam_helpers_assert_win(&e, 0, 0x3f000000000ull, 0, 0, 0x7f);
	ecam_helpers_assert_win(&e, 1, 0x3f000000000ull + (0x80ull << 20), 0, 0x80, 0xff);
	ecam_helpers_assert_win(&e, 2, 0x40000000000ull + (0x10ull << 20), 1, 0x10, 0x1f);
	ecam_helpers_assert_win(&e, 3, 0x50000000000ull, 0x8000, 0, 0);
}

static void hostile_entries_are_skipped_exactly(void **state)
{
	const struct acpi_image_mcfg_entry m[] = {
		{ 0xb0000000, 0, 9, 8 },			/* reversed */
		{ 0xfffffffffff00000ull, 1, 1, 1 },		/* base + start wraps */
		{ 0xb0080000, 2, 0, 0 },			/* misaligned */
		{ 0xc0000000, 3, 0, 255 },
		{ 0xd0000000, 3, 255, 255 },			/* overlaps seg 3 */
	};
	unsigned int used;
	(void)state;
	acpi_image_mcfg(B + 0x1000, m, 5);
	assert_int_equal(acpi_mcfg_parse(acpi_image_at(B + 0x1000), 44 + 80, &e, &used),
			 -PCSC_ERANGE);
	assert_int_equal(used, 1);
	assert_int_equal(e.n, 1);
	ecam_helpers_assert_win(&e, 0, 0xc0000000, 3, 0, 255);
}

static void malformed_tables_add_nothing(void **state)
{
	const struct acpi_image_mcfg_entry m[] = { { 0xb0000000, 0, 0, 255 } };
	const uint8_t *t = acpi_image_at(B + 0x1000);
	(void)state;
	acpi_image_mcfg(B + 0x1000, m, 1);
	assert_int_equal(acpi_mcfg_parse(t, 59, &e, NULL), -PCSC_ERANGE);
	assert_int_equal(acpi_mcfg_parse(t, 43, &e, NULL), -PCSC_ERANGE);
	assert_int_equal(acpi_mcfg_parse(t, 35, &e, NULL), -PCSC_ENOTFOUND);
	assert_int_equal(acpi_mcfg_parse(t, 44, &e, NULL), 0);	/* no entries */
	assert_int_equal(e.n, 0);
	acpi_image_at(B + 0x1000)[0] = 'N';
	assert_int_equal(acpi_mcfg_parse(t, 60, &e, NULL), -PCSC_ENOTFOUND);
	assert_int_equal(e.n, 0);
}

static void more_entries_than_windows(void **state)
{
	struct acpi_image_mcfg_entry m[20];
	unsigned int i, used;
	(void)state;
	for (i = 0; i < 20; i++)
		m[i] = (struct acpi_image_mcfg_entry){ 0x100000000ull * (i + 1), (uint16_t)i, 0, 255 };
	acpi_image_mcfg(B + 0x1000, m, 20);
	assert_int_equal(acpi_mcfg_parse(acpi_image_at(B + 0x1000), 44 + 320, &e, &used),
			 -PCSC_ENOSPC);
	assert_int_equal(used, ECAM_MAX_WINDOWS);
	ecam_helpers_assert_win(&e, 15, 0x1000000000ull, 15, 0, 255);
}

static void chain_from_rsdp_to_windows(void **state)
{
	const struct acpi_image_mcfg_entry m[] = { { 0xb0000000, 0, 0, 255 },
						   { 0xe0000000, 1, 0, 63 } };
	uint64_t tabs[2] = { B + 0x2000, B + 0x3000 };
	(void)state;
	acpi_image_rsdp(B + 0x100, 2, 0, B + 0x1000);
	acpi_image_xsdt(B + 0x1000, tabs, 2);
	acpi_image_sdt(B + 0x2000, "FACP", 64, NULL);
	acpi_image_mcfg(B + 0x3000, m, 2);
	assert_int_equal(acpi_ecam_from_rsdp(&pm, B + 0x100, &e), 0);
	assert_int_equal(e.n, 2);
	ecam_helpers_assert_win(&e, 0, 0xb0000000, 0, 0, 255);
	ecam_helpers_assert_win(&e, 1, 0xe0000000, 1, 0, 63);
	/* each link of the chain reports its own failure */
	ecam_init(&e, NULL);
	acpi_image_at(B + 0x3000)[50] ^= 1;
	assert_int_equal(acpi_ecam_from_rsdp(&pm, B + 0x100, &e), -PCSC_ECHECKSUM);
	acpi_image_at(B + 0x100)[8] ^= 1;
	assert_int_equal(acpi_ecam_from_rsdp(&pm, B + 0x100, &e), -PCSC_ECHECKSUM);
	acpi_image_rsdp(B + 0x100, 2, 0, B + 0x1000);
	acpi_image_sdt(B + 0x3000, "SSDT", 60, NULL);
	assert_int_equal(acpi_ecam_from_rsdp(&pm, B + 0x100, &e), -PCSC_ENOTFOUND);
	assert_int_equal(e.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(q35_mcfg_gives_one_window, setup),
		cmocka_unit_test_setup(every_entry_and_segment_with_start_bus_offset, setup),
		cmocka_unit_test_setup(hostile_entries_are_skipped_exactly, setup),
		cmocka_unit_test_setup(malformed_tables_add_nothing, setup),
		cmocka_unit_test_setup(more_entries_than_windows, setup),
		cmocka_unit_test_setup(chain_from_rsdp_to_windows, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
