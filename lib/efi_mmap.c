/* efi_mmap.c - RAM (or firmware-table memory) from a UEFI memory map, for
 * ACPI arm64 machines whose DTB has no /memory. Never trusts a descriptor. */
#include <stddef.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>

#define EFI_PAGE_SHIFT	12

int efi_mmap_ranges(const struct physmem *pm, uint64_t phys, uint32_t size,
		    uint32_t desc_size, uint32_t desc_ver, uint32_t type_mask,
		    bool need_wb, struct phys_ranges *out, unsigned int *used)
{
	const uint8_t *map;
	uint32_t n, i;
	unsigned int ok = 0;
	int rc, first_err = 0;

	if (used)
		*used = 0;
	if (desc_ver != 1 || desc_size < EFI_MMAP_DESC_MIN || desc_size % 8)
		return -PCSC_EINVAL;
	if (size % desc_size)
		return -PCSC_ERANGE;
	n = size / desc_size;
	if (n > EFI_MMAP_MAX_DESC)
		return -PCSC_ERANGE;
	if (!n)
		return 0;
	map = physmem_map(pm, phys, size);
	if (!map)
		return -PCSC_ENOTRAM;
	for (i = 0; i < n; i++) {
		const uint8_t *d = map + (size_t)i * desc_size;
		uint32_t type = acpi_le32(d);
		uint64_t start = acpi_le64(d + 8);
		uint64_t pages = acpi_le64(d + 24);
		uint64_t attr = acpi_le64(d + 32);

		if (type >= 32 || !(type_mask & EFI_MMAP_TYPE(type)))
			continue;
		if (need_wb && !(attr & EFI_MEMORY_WB))
			continue;
		if (start & ((1u << EFI_PAGE_SHIFT) - 1))
			rc = -PCSC_EALIGN;
		else if (!pages || pages > (UINT64_MAX >> EFI_PAGE_SHIFT))
			rc = -PCSC_ERANGE;
		else
			rc = phys_ranges_add(out, start, pages << EFI_PAGE_SHIFT);
		pcsc_tally(rc, &first_err, &ok);
	}
	if (used)
		*used = ok;
	return first_err;
}
