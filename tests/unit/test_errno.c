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

/* The first error is kept, later ones and successes never replace it. */
static void tally_keeps_the_first_error_and_counts_successes(void **state)
{
	unsigned int ok = 0;
	int first = 0;

	(void)state;
	pcsc_tally(0, &first, &ok);
	assert_int_equal(first, 0);
	pcsc_tally(-PCSC_ERANGE, &first, &ok);
	pcsc_tally(0, &first, &ok);
	pcsc_tally(-PCSC_EALIGN, &first, &ok);
	assert_int_equal(first, -PCSC_ERANGE);
	assert_int_equal(ok, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_has_a_distinct_text),
		cmocka_unit_test(positive_and_negative_codes_agree),
		cmocka_unit_test(out_of_range_code_is_unknown),
		cmocka_unit_test(tally_keeps_the_first_error_and_counts_successes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
