/* kho_scratch.c - reads the KHO scratch array: the regions the next kernel allocates from first.
 * Only reads through physmem_map; the count is bounded before anything is read. */
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include "kho_map.h"

#define SCRATCH_ENTRY	16u	/* struct kho_scratch { u64 addr; u64 size; } */

int kho_scratch_read(const struct physmem *pm, uint64_t addr, uint64_t size,
		     struct phys_ranges *regions, struct kho_range *array, char *msg)
{
	const uint8_t *a;
	uint64_t i, n;

	memset(regions, 0, sizeof(*regions));
	array->start = array->end = addr;
	kho_say(msg, "%s", "");
	if (!size)
		return 0;
	/* kho_populate: scratch_cnt = scratch_len / sizeof(struct kho_scratch);
	 * a remainder means we are not reading what the kernel wrote. */
	if ((addr & 7) || size % SCRATCH_ENTRY) {
		kho_say(msg, "KHO scratch array 0x%llx+0x%llx not whole 16-byte entries",
			(unsigned long long)addr, (unsigned long long)size);
		return -PCSC_EALIGN;
	}
	n = size / SCRATCH_ENTRY;
	if (n > KHO_MAX_SCRATCH) {
		kho_say(msg, "KHO scratch array has %llu entries, max %u", (unsigned long long)n,
			KHO_MAX_SCRATCH);
		return -PCSC_ERANGE;
	}
	a = physmem_map(pm, addr, size);
	if (!a) {
		kho_say(msg, "KHO scratch array 0x%llx+0x%llx not in RAM", (unsigned long long)addr,
			(unsigned long long)size);
		return -PCSC_ENOTRAM;
	}
	array->end = addr + size;
	for (i = 0; i < n; i++) {
		uint64_t ra, rs;
		int err;

		memcpy(&ra, a + i * SCRATCH_ENTRY, 8);
		memcpy(&rs, a + i * SCRATCH_ENTRY + 8, 8);
		if (!rs)
			continue;
		err = phys_ranges_add(regions, ra, rs);
		if (err) {
			kho_say(msg, "KHO scratch region 0x%llx+0x%llx: %s", (unsigned long long)ra,
				(unsigned long long)rs, pcsc_strerror(err));
			return err;
		}
	}
	return 0;
}
