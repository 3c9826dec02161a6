/* test_bootopt.c - pcsc.* boot options: whole words only, bounded by len, unknown values named
 * and defaulted; the same grammar for the stub on both arches, the EFI app and pcsctool. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/bootopt.h>
#include <pcsc/errno.h>

static int parse(const char *s, struct pcsc_bootopts *o, char *warn)
{
	return pcsc_bootopts_parse(s, s ? strlen(s) + 1 : 0, o, warn, 64);
}

static void defaults_without_options(void **state)
{
	struct pcsc_bootopts o;
	char warn[64];

	(void)state;
	assert_int_equal(parse("console=ttyAMA0 quiet", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_QUICK);
	assert_int_equal(o.kho_bitmap, 0);
	assert_string_equal(warn, "");
	assert_int_equal(parse(NULL, &o, warn), 0);
	assert_int_equal(parse("", &o, warn), 0);
}

static void every_value_is_recognised(void **state)
{
	struct pcsc_bootopts o;
	char warn[64];

	(void)state;
	assert_int_equal(parse("pcsc.mode=strict pcsc.kho_bitmap=4096", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_STRICT);
	assert_int_equal(o.kho_bitmap, 4096);
	assert_int_equal(parse("a\tpcsc.mode=off\npcsc.kho_bitmap=512 b", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_OFF);
	assert_int_equal(o.kho_bitmap, 512);
	assert_int_equal(parse("pcsc.mode=quick", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_QUICK);
}

/* What the old arm64 strstr accepted and must not: a longer key, a value
 * with a tail, a key inside another word. */
static void only_whole_words_count(void **state)
{
	struct pcsc_bootopts o;
	char warn[64];

	(void)state;
	assert_int_equal(parse("xpcsc.mode=strict", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_QUICK);
	assert_int_equal(parse("pcsc.mode=strictly", &o, warn), -PCSC_EINVAL);
	assert_int_equal(o.mode, PCSC_MODE_QUICK);
	assert_string_equal(warn, "pcsc.mode=strictly unknown: quick");
	assert_int_equal(parse("pcsc.mode.x=off foo=pcsc.mode=off", &o, warn), 0);
	assert_int_equal(o.mode, PCSC_MODE_QUICK);
	assert_int_equal(parse("pcsc.kho_bitmap=1024", &o, warn), -PCSC_EINVAL);
	assert_int_equal(o.kho_bitmap, 0);
	assert_string_equal(warn, "pcsc.kho_bitmap=1024 unknown: not forced");
	/* The last one wins, as in Linux's own handlers. */
	assert_int_equal(parse("pcsc.kho_bitmap= pcsc.kho_bitmap=4096", &o, warn), 0);
	assert_int_equal(o.kho_bitmap, 4096);
	assert_int_equal(parse("pcsc.kho_bitmap=4096 pcsc.kho_bitmap=9", &o, warn), -PCSC_EINVAL);
	assert_int_equal(o.kho_bitmap, 0);
	assert_int_equal(parse("pcsc.kho_bitmap", &o, warn), 0);
}

static void report_level_and_quiet(void **state)
{
	struct pcsc_bootopts o;
	char warn[64];

	(void)state;
	assert_int_equal(parse("root=/dev/vda", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_SUMMARY);
	assert_int_equal(parse("pcsc.report=problems", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_PROBLEMS);
	assert_int_equal(parse("pcsc.report=full", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_FULL);
	assert_int_equal(parse("console=ttyS0 quiet", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_QUIET);
	/* quiet as Linux reads it: a whole word, not a prefix or a value. */
	assert_int_equal(parse("quietly loglevel=quiet", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_SUMMARY);
	/* Asked of the stub by name, pcsc.report wins over a kernel's quiet. */
	assert_int_equal(parse("quiet pcsc.report=full", &o, warn), 0);
	assert_int_equal(o.report, PCSC_REPORT_FULL);
	assert_int_equal(parse("pcsc.report=loud", &o, warn), -PCSC_EINVAL);
	assert_int_equal(o.report, PCSC_REPORT_SUMMARY);
	assert_string_equal(warn, "pcsc.report=loud unknown: summary");
	assert_true(pcsc_bootopt_flag("a quiet b", 9, "quiet"));
	assert_false(pcsc_bootopt_flag("a quiet b", 6, "quiet"));	/* cut by len */
	assert_false(pcsc_bootopt_flag(NULL, 0, "quiet"));
}

static void len_bounds_the_scan(void **state)
{
	const char s[] = "pcsc.mode=off pcsc.kho_bitmap=4096";
	struct pcsc_bootopts o;
	char v[8];

	(void)state;
	/* Not NUL terminated within len: nothing past len is read. */
	assert_int_equal(pcsc_bootopts_parse(s, 13, &o, NULL, 0), 0);
	assert_int_equal(o.mode, PCSC_MODE_OFF);
	assert_int_equal(o.kho_bitmap, 0);
	assert_int_equal(pcsc_bootopts_parse(s, 12, &o, NULL, 0), -PCSC_EINVAL);	/* "of" */
	assert_false(pcsc_bootopt_value(s, 9, "pcsc.mode", v, sizeof(v)));
	/* A value longer than out is cut, still NUL terminated. */
	assert_true(pcsc_bootopt_value("pcsc.x=0123456789", 17, "pcsc.x", v, sizeof(v)));
	assert_string_equal(v, "0123456");
	assert_true(pcsc_bootopt_value("pcsc.x=", 7, "pcsc.x", v, sizeof(v)));
	assert_string_equal(v, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_without_options),
		cmocka_unit_test(every_value_is_recognised),
		cmocka_unit_test(only_whole_words_count),
		cmocka_unit_test(report_level_and_quiet),
		cmocka_unit_test(len_bounds_the_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
