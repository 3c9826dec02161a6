/* test_errno.c - every -PCSC_E* code has its own text; strangers get a default. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>

static void every_code_has_a_distinct_text(void **state)
{
	(void)state;
	for (int i = 0; i < PCSC_E_MAX; i++) {
		const char *s = pcsc_strerror(-i);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown error");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s, pcsc_strerror(j));
	}
}

static void positive_and_negative_codes_agree(void **state)
{
	(void)state;
	assert_string_equal(pcsc_strerror(PCSC_ELOOP), pcsc_strerror(-PCSC_ELOOP));
}

static void out_of_range_code_is_unknown(void **state)
{
	(void)state;
	assert_string_equal(pcsc_strerror(-PCSC_E_MAX), "unknown error");
	assert_string_equal(pcsc_strerror(12345), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_has_a_distinct_text),
		cmocka_unit_test(positive_and_negative_codes_agree),
		cmocka_unit_test(out_of_range_code_is_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
