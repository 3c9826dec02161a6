/* test_physmem.c - range sets stay sorted and merged; contains/overlaps answer exactly;
 * physmem_map refuses anything not wholly inside RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include <pcsc/physmem.h>

static void add_sorts_and_merges(void **state)
{
	struct phys_ranges rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(phys_ranges_add(&rs, 0x5000, 0x1000), 0);
	assert_int_equal(phys_ranges_add(&rs, 0x1000, 0x1000), 0);
	assert_int_equal(phys_ranges_add(&rs, 0x9000, 0x1000), 0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.r[0].start, 0x1000);
	assert_int_equal(rs.r[2].start, 0x9000);
	/* Touching on the left, overlapping two on the right. */
	assert_int_equal(phys_ranges_add(&rs, 0x2000, 0x7800), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].start, 0x1000);
	assert_int_equal(rs.r[0].end, 0xa000);
	assert_int_equal(phys_ranges_add(&rs, 0, 0), -PCSC_ERANGE);
	assert_int_equal(phys_ranges_add(&rs, UINT64_MAX - 10, 100), -PCSC_ERANGE);
}

static void add_full_is_enospc(void **state)
{
	struct phys_ranges rs;
	unsigned int i;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < PCSC_MAX_RANGES; i++)
		assert_int_equal(phys_ranges_add(&rs, (uint64_t)i * 0x2000, 0x1000), 0);
	assert_int_equal(phys_ranges_add(&rs, 0x10000000, 0x1000), -PCSC_ENOSPC);
	/* Merging into an existing range still works when full. */
	assert_int_equal(phys_ranges_add(&rs, 0x1000, 0x1000), 0);
	assert_int_equal(rs.n, PCSC_MAX_RANGES - 1);
}

static void contains_and_overlaps(void **state)
{
	struct phys_ranges rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(phys_ranges_add(&rs, 0x1000, 0x1000), 0);
	assert_int_equal(phys_ranges_add(&rs, 0x4000, 0x2000), 0);
	assert_true(phys_ranges_contains(&rs, 0x4000, 0x2000));
	assert_true(phys_ranges_contains(&rs, 0x1fff, 1));
	assert_false(phys_ranges_contains(&rs, 0x1000, 0x1001));
	assert_false(phys_ranges_contains(&rs, 0x1800, 0x3000));	/* spans a hole */
	assert_false(phys_ranges_contains(&rs, 0x4000, 0));
	assert_false(phys_ranges_contains(&rs, 0xfff, 2));
	assert_true(phys_ranges_overlaps(&rs, 0xfff, 2));
	assert_true(phys_ranges_overlaps(&rs, 0x2fff, 0x1002));
	assert_false(phys_ranges_overlaps(&rs, 0x2000, 0x2000));
	assert_false(phys_ranges_overlaps(&rs, 0x6000, UINT64_MAX));
	assert_true(phys_ranges_overlaps(&rs, 0x5fff, UINT64_MAX));
	assert_false(phys_ranges_overlaps(&rs, 0x1000, 0));
	assert_false(phys_ranges_overlaps(NULL, 0x1000, 1));
}

static uint8_t backing[0x3000];
static unsigned int map_calls;

static void *map_fn(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	map_calls++;
	if (phys < 0x10000 || phys - 0x10000 + len > sizeof(backing))
		return NULL;
	return backing + (phys - 0x10000);
}

static void map_only_inside_ram(void **state)
{
	struct physmem pm;

	(void)state;
	memset(&pm, 0, sizeof(pm));
	pm.map = map_fn;
	assert_int_equal(phys_ranges_add(&pm.ram, 0x10000, 0x2000), 0);
	map_calls = 0;
	assert_ptr_equal(physmem_map(&pm, 0x10010, 16), backing + 0x10);
	assert_null(physmem_map(&pm, 0x11ff0, 0x20));	/* crosses the end of RAM */
	assert_null(physmem_map(&pm, 0x10000, 0));
	assert_int_equal(map_calls, 1);			/* map() asked only when inside */
	assert_null(physmem_map(NULL, 0x10000, 1));
}

static void map_checked_says_why(void **state)
{
	struct physmem pm;
	char msg[64];
	int err = 1;

	(void)state;
	memset(&pm, 0, sizeof(pm));
	pm.map = map_fn;
	assert_int_equal(phys_ranges_add(&pm.ram, 0x10000, 0x2000), 0);
	assert_ptr_equal(physmem_map_checked(&pm, 0x11000, 0x1000, 4096, "node", msg, sizeof(msg),
					     &err), backing + 0x1000);
	assert_int_equal(err, 0);
	assert_null(physmem_map_checked(&pm, 0x10800, 16, 4096, "node", msg, sizeof(msg), &err));
	assert_int_equal(err, -PCSC_EALIGN);
	assert_string_equal(msg, "node 0x10800 not page aligned");
	assert_null(physmem_map_checked(&pm, 0x10004, 16, 8, "FDT at", msg, sizeof(msg), &err));
	assert_int_equal(err, -PCSC_EALIGN);
	assert_string_equal(msg, "FDT at 0x10004 not 8-byte aligned");
	assert_null(physmem_map_checked(&pm, 0x12000, 16, 8, "FDT at", msg, sizeof(msg), &err));
	assert_int_equal(err, -PCSC_ENOTRAM);
	assert_string_equal(msg, "FDT at 0x12000 not in RAM");
	/* align 1: any address; the message is cut to msglen. */
	assert_null(physmem_map_checked(&pm, 0x11fff, 2, 1, "x", msg, 8, &err));
	assert_int_equal(err, -PCSC_ENOTRAM);
	assert_string_equal(msg, "x 0x11f");
}

static uint64_t seen_phys, seen_len;
static int seen_calls;

static void seen(void *ctx, uint64_t phys, uint64_t len)
{
	assert_ptr_equal(ctx, &seen_calls);
	seen_phys = phys;
	seen_len = len;
	seen_calls++;
}

static void wrote_reaches_the_hook_only_when_set(void **state)
{
	struct physmem pm = { .ctx = &seen_calls };

	(void)state;
	seen_calls = 0;
	physmem_wrote(NULL, 0x1000, 8);
	physmem_wrote(&pm, 0x1000, 8);		/* no hook: nothing */
	assert_int_equal(seen_calls, 0);
	pm.wrote = seen;
	physmem_wrote(&pm, 0x2000, 0);		/* empty range: nothing */
	assert_int_equal(seen_calls, 0);
	physmem_wrote(&pm, 0x40001000, 0x200);
	assert_int_equal(seen_calls, 1);
	assert_int_equal(seen_phys, 0x40001000);
	assert_int_equal(seen_len, 0x200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_sorts_and_merges),
		cmocka_unit_test(wrote_reaches_the_hook_only_when_set),
		cmocka_unit_test(add_full_is_enospc),
		cmocka_unit_test(contains_and_overlaps),
		cmocka_unit_test(map_only_inside_ram),
		cmocka_unit_test(map_checked_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
