/* test_parse.c - the one number grammar: decimal or 0x hex, whole input, no sign, no wrap,
 * bounded by max and by len (hostile strings included). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/parse.h>

static void decimal_and_hex(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_true(pcsc_parse_u64_str("0", &v));
	assert_int_equal(v, 0);
	assert_true(pcsc_parse_u64_str("4096", &v));
	assert_int_equal(v, 4096);
	assert_true(pcsc_parse_u64_str("0x7f000000", &v));
	assert_int_equal(v, 0x7f000000);
	assert_true(pcsc_parse_u64_str("0XfF", &v));
	assert_int_equal(v, 255);
	assert_true(pcsc_parse_u64_str("18446744073709551615", &v));
	assert_int_equal(v, UINT64_MAX);
	assert_true(pcsc_parse_u64_str("0xffffffffffffffff", &v));
	assert_int_equal(v, UINT64_MAX);
	/* Topology files spell hex without the prefix. */
	assert_true(pcsc_parse_u64("1af4", 4, 16, 0xffff, &v));
	assert_int_equal(v, 0x1af4);
	/* Leading zeros are decimal, not octal. */
	assert_true(pcsc_parse_u64_str("010", &v));
	assert_int_equal(v, 10);
}

static void everything_else_is_refused(void **state)
{
	static const char *const bad[] = {
		"", "0x", "-1", "+1", " 1", "1 ", "1k", "0x1g", "18446744073709551616",
		"0x10000000000000000", "99999999999999999999999", "0b101", "1e3", "0x-1",
	};
	uint64_t v = 42;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(pcsc_parse_u64_str(bad[i], &v));
		assert_int_equal(v, 42);	/* untouched */
	}
	assert_false(pcsc_parse_u64_str(NULL, &v));
	assert_false(pcsc_parse_u64("100", 3, 10, 99, &v));	/* above max */
	assert_false(pcsc_parse_u64("ff", 2, 10, UINT64_MAX, &v));
	assert_false(pcsc_parse_u64("12", 2, 8, UINT64_MAX, &v));	/* no other base */
	/* len bounds the read: "123" of "1234", nothing past. */
	assert_true(pcsc_parse_u64("1234", 3, 10, UINT64_MAX, &v));
	assert_int_equal(v, 123);
	assert_int_equal(v, 123);
}

/* "START:SIZE" as every --kho-scratch, --scratch and --ram spells it. */
static void ranges(void **state)
{
	uint64_t a = 7, n = 7;
	char long_one[80];

	(void)state;
	assert_true(pcsc_parse_range("0x7f000000:0x800000", &a, &n));
	assert_int_equal(a, 0x7f000000);
	assert_int_equal(n, 0x800000);
	assert_true(pcsc_parse_range("4096:16", &a, &n));
	assert_int_equal(a, 4096);
	assert_int_equal(n, 16);
	assert_true(pcsc_parse_range("0:1", &a, &n));
	assert_int_equal(a, 0);
	/* no colon, an empty side, size 0, a second colon, junk, NULL */
	assert_false(pcsc_parse_range("0x1000", &a, &n));
	assert_false(pcsc_parse_range(":0x10", &a, &n));
	assert_false(pcsc_parse_range("0x1000:", &a, &n));
	assert_false(pcsc_parse_range("0x1000:0", &a, &n));
	assert_false(pcsc_parse_range("0x1000:0x10:0x10", &a, &n));
	assert_false(pcsc_parse_range("0x1000:0x10 ", &a, &n));
	assert_false(pcsc_parse_range("-1:1", &a, &n));
	assert_false(pcsc_parse_range(NULL, &a, &n));
	/* 64 characters or more is refused, whatever they spell */
	memset(long_one, '0', sizeof(long_one));
	long_one[60] = ':';
	long_one[61] = '1';
	long_one[62] = 0;
	assert_true(pcsc_parse_range(long_one, &a, &n));
	long_one[62] = '1';
	long_one[63] = 0;
	assert_true(pcsc_parse_range(long_one, &a, &n));
	long_one[63] = '1';
	long_one[64] = 0;
	assert_false(pcsc_parse_range(long_one, &a, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decimal_and_hex),
		cmocka_unit_test(everything_else_is_refused),
		cmocka_unit_test(ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
