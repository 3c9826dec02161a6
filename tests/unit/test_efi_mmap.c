/* test_efi_mmap.c - RAM and firmware ranges from a hand-built UEFI memory
 * map (QEMU/EDK2-like), including hostile descriptors and map headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>
#include "helpers/acpi_image.h"
#include "helpers/range_helpers.h"

#define B ACPI_IMAGE_BASE
#define MAP (B + 0x1000)
#define DS 48		/* EDK2's descriptor size */
static struct physmem pm;
static struct phys_ranges out;

static void desc(unsigned int i, uint32_t type, uint64_t start, uint64_t pages, uint64_t attr)
{
	uint8_t *d = acpi_image_at(MAP + (uint64_t)i * DS);

	memset(d, 0, DS);
	acpi_image_le32(d, type);
	acpi_image_le64(d + 8, start);
	acpi_image_le64(d + 24, pages);
	acpi_image_le64(d + 32, attr);
}

static int setup(void **state)
{
	(void)state;
	acpi_image_init(&pm);
	memset(&out, 0, sizeof(out));
	/* A 1 GiB arm64 guest under EDK2. */
	desc(0, 7, 0x40000000, 0x1000, 0xf);		/* conventional 16 MiB */
	desc(1, 2, 0x41000000, 0x100, 0xf);		/* loader data, adjacent */
	desc(2, 6, 0x7c000000, 0x10, 0x800000000000000full);	/* runtime data */
	desc(3, 9, 0x7c010000, 0x4, 0xf);		/* ACPI reclaim */
	desc(4, 11, 0x4000000, 0x10, 0x1);		/* MMIO: never RAM */
	desc(5, 4, 0x42000000, 0x1e000, 0xf);		/* boot services data */
	desc(6, 7, 0x80000000, 0x10, 0x1);		/* conventional but UC only */
	return 0;
}

static void usable_ram_follows_linux(void **state)
{
	unsigned int used = 99;
	(void)state;
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS, DS, 1, EFI_MMAP_USABLE, true,
					 &out, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(out.n, 2);
	range_helpers_assert(&out, 0, 0x40000000, 0x41100000);
	range_helpers_assert(&out, 1, 0x42000000, 0x60000000);
}

static void firmware_ranges_hold_the_tables(void **state)
{
	unsigned int used;
	(void)state;
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS, DS, 1, EFI_MMAP_FIRMWARE, false,
					 &out, &used), 0);
	assert_int_equal(used, 2);
	assert_int_equal(out.n, 1);
	range_helpers_assert(&out, 0, 0x7c000000, 0x7c014000);
	/* without the WB requirement the UC conventional bank counts too */
	memset(&out, 0, sizeof(out));
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS, DS, 1, EFI_MMAP_TYPE(7), false,
					 &out, &used), 0);
	assert_int_equal(used, 2);
}

static void hostile_headers_are_refused(void **state)
{
	(void)state;
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS, DS, 2, EFI_MMAP_USABLE, true, &out, NULL),
			 -PCSC_EINVAL);
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * 32, 32, 1, EFI_MMAP_USABLE, true, &out, NULL),
			 -PCSC_EINVAL);
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * 44, 44, 1, EFI_MMAP_USABLE, true, &out, NULL),
			 -PCSC_EINVAL);
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS + 1, DS, 1, EFI_MMAP_USABLE, true, &out,
					 NULL), -PCSC_ERANGE);
	assert_int_equal(efi_mmap_ranges(&pm, MAP, (EFI_MMAP_MAX_DESC + 1) * DS, DS, 1,
					 EFI_MMAP_USABLE, true, &out, NULL), -PCSC_ERANGE);
	/* map running past the end of RAM */
	assert_int_equal(efi_mmap_ranges(&pm, B + ACPI_IMAGE_SIZE - DS, 2 * DS, DS, 1,
					 EFI_MMAP_USABLE, true, &out, NULL), -PCSC_ENOTRAM);
	assert_int_equal(out.n, 0);
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 0, DS, 1, EFI_MMAP_USABLE, true, &out, NULL), 0);
}

static void hostile_descriptors_are_skipped(void **state)
{
	unsigned int used;
	(void)state;
	desc(1, 2, 0x41000800, 0x100, 0xf);		/* unaligned */
	desc(5, 4, 0x42000000, 0, 0xf);			/* zero pages */
	desc(6, 7, 0xfffffffffffff000ull, 0x2, 0xf);	/* wraps */
	assert_int_equal(efi_mmap_ranges(&pm, MAP, 7 * DS, DS, 1, EFI_MMAP_USABLE, true,
					 &out, &used), -PCSC_EALIGN);
	assert_int_equal(used, 1);
	assert_int_equal(out.n, 1);
	range_helpers_assert(&out, 0, 0x40000000, 0x41000000);
	desc(0, 7, 0x40000000, 0x10000000000000ull, 0xf);	/* pages << 12 overflows */
	memset(&out, 0, sizeof(out));
	assert_int_equal(efi_mmap_ranges(&pm, MAP, DS, DS, 1, EFI_MMAP_USABLE, true, &out, &used),
			 -PCSC_ERANGE);
	assert_int_equal(used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(usable_ram_follows_linux, setup),
		cmocka_unit_test_setup(firmware_ranges_hold_the_tables, setup),
		cmocka_unit_test_setup(hostile_headers_are_refused, setup),
		cmocka_unit_test_setup(hostile_descriptors_are_skipped, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
