/* physmem.c - sorted, merged physical range sets and the one gate (physmem_map) through
 * which the engine touches memory. It never maps a byte outside RAM. */
#include <stddef.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include <pcsc/sort.h>

int phys_ranges_add(struct phys_ranges *rs, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	unsigned int i, j, k;

	if (!size || end < start)
		return -PCSC_ERANGE;
	/* First range ending at or after start (touching ranges merge). */
	for (i = 0; i < rs->n && rs->r[i].end < start; i++)
		;
	/* Ranges [i, j) touch or overlap the new one. */
	for (j = i; j < rs->n && rs->r[j].start <= end; j++)
		;
	if (i == j) {
		if (rs->n >= PCSC_MAX_RANGES)
			return -PCSC_ENOSPC;
		for (k = rs->n; k > i; k--)
			rs->r[k] = rs->r[k - 1];
		rs->r[i].start = start;
		rs->r[i].end = end;
		rs->n++;
		return 0;
	}
	if (rs->r[i].start < start)
		start = rs->r[i].start;
	if (rs->r[j - 1].end > end)
		end = rs->r[j - 1].end;
	rs->r[i].start = start;
	rs->r[i].end = end;
	for (k = j; k < rs->n; k++)
		rs->r[i + 1 + k - j] = rs->r[k];
	rs->n -= j - i - 1;
	return 0;
}

static bool starts_at_or_below(const struct phys_range *r, uint64_t addr)
{
	return r->start <= addr;
}

PCSC_DEFINE_PARTITION_POINT(ranges_upper_bound, struct phys_range, uint64_t, starts_at_or_below)

/* Index of the last range with start <= addr, or -1. */
static int last_at_or_below(const struct phys_ranges *rs, uint64_t addr)
{
	return (int)ranges_upper_bound(rs->r, rs->n, addr) - 1;
}

bool phys_ranges_contains(const struct phys_ranges *rs, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	int i;

	if (!rs || !size || end < start)
		return false;
	i = last_at_or_below(rs, start);
	return i >= 0 && end <= rs->r[i].end;
}

bool phys_ranges_overlaps(const struct phys_ranges *rs, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	int i;

	if (!rs || !size)
		return false;
	if (end < start)
		end = UINT64_MAX;
	i = last_at_or_below(rs, end - 1);
	return i >= 0 && rs->r[i].end > start;
}

void *physmem_map(const struct physmem *pm, uint64_t phys, uint64_t len)
{
	if (!pm || !pm->map || !phys_ranges_contains(&pm->ram, phys, len))
		return NULL;
	return pm->map(pm->ctx, phys, len);
}

void physmem_wrote(const struct physmem *pm, uint64_t phys, uint64_t len)
{
	if (pm && pm->wrote && len)
		pm->wrote(pm->ctx, phys, len);
}

void *physmem_map_checked(const struct physmem *pm, uint64_t phys, uint64_t len, uint64_t align,
			  const char *what, char *msg, unsigned int msglen, int *err)
{
	void *p;

	if (phys & (align - 1)) {
		if (align == 4096)	/* every page KHO and PCSC preserve is 4 KiB */
			pcsc_snprintf(msg, msglen, "%s 0x%llx not page aligned", what,
				      (unsigned long long)phys);
		else
			pcsc_snprintf(msg, msglen, "%s 0x%llx not %u-byte aligned", what,
				      (unsigned long long)phys, (unsigned int)align);
		*err = -PCSC_EALIGN;
		return NULL;
	}
	p = physmem_map(pm, phys, len);
	if (!p) {
		pcsc_snprintf(msg, msglen, "%s 0x%llx not in RAM", what, (unsigned long long)phys);
		*err = -PCSC_ENOTRAM;
		return NULL;
	}
	*err = 0;
	return p;
}
