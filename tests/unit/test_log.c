/* test_log.c - pcsc_snprintf agrees with the host's C99 snprintf; pcsc_log
 * hands one newline-terminated, length-capped line to the sink. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/bootopt.h>
#include <pcsc/log.h>

/* The cases below deliberately use odd flag mixes and truncating sizes:
 * comparing against libc is the point, so its lint does not apply. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat-overflow"

/* Format with both implementations into same-sized buffers; compare the
 * return value and the bytes. */
#define SAME(size, ...) do {						\
	char a_[512], b_[512];						\
	memset(a_, 0x5a, sizeof(a_));					\
	memset(b_, 0x5a, sizeof(b_));					\
	int ra_ = pcsc_snprintf(a_, (size), __VA_ARGS__);		\
	int rb_ = snprintf(b_, (size), __VA_ARGS__);			\
	assert_int_equal(ra_, rb_);					\
	assert_memory_equal(a_, b_, sizeof(a_));			\
} while (0)

#define SAME_FULL(...) SAME(512, __VA_ARGS__)

static void integers_match_libc(void **state)
{
	(void)state;
	SAME_FULL("%d %i %u", 0, -1, 0u);
	SAME_FULL("%d|%d|%d", INT_MIN, INT_MAX, 42);
	SAME_FULL("%u|%x|%X", UINT_MAX, 0xdeadbeefu, 0xdeadbeefu);
	SAME_FULL("%ld|%lu|%lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
	SAME_FULL("%lld|%llu|%llx", LLONG_MIN, ULLONG_MAX, 0xfedcba9876543210ULL);
	SAME_FULL("%hd|%hu|%hx", (short)-5, (unsigned short)65535, (unsigned short)0xbeef);
	SAME_FULL("%hhd|%hhu|%hhx", (signed char)-128, (unsigned char)255, (unsigned char)0xab);
	SAME_FULL("%hhx|%hx", 0x1234, 0x123456);	/* truncation to the length */
	SAME_FULL("%zu|%zx|%zd", (size_t)SIZE_MAX, (size_t)0xabc, (ptrdiff_t)-7);
}

static void widths_and_flags_match_libc(void **state)
{
	(void)state;
	SAME_FULL("[%5d][%-5d][%05d]", 42, 42, 42);
	SAME_FULL("[%5d][%-5d][%05d]", -42, -42, -42);
	SAME_FULL("[%04x][%08X][%-8x]", 0xau, 0xabcu, 0xbeefu);
	SAME_FULL("[%02x:%02x.%x]", 3u, 0x1fu, 7u);
	SAME_FULL("[%*d][%-*d][%*d]", 6, 1, 6, 2, -6, 3);
	SAME_FULL("[%0*x]", 4, 0x1u);
	SAME_FULL("[%1d][%0d]", 12345, 7);
	SAME_FULL("[%+d][% d][%+d]", 5, 5, -5);
	SAME_FULL("[%#x][%#X][%#x][%#08x]", 255u, 255u, 0u, 0x12u);
	SAME_FULL("[%.3d][%8.3d][%-8.3d][%.0d][%08.3d]", 7, -7, 7, 0, 9);
	SAME_FULL("[%-05d]", 3);
}

static void strings_and_chars_match_libc(void **state)
{
	(void)state;
	SAME_FULL("[%s][%10s][%-10s]", "abc", "abc", "abc");
	SAME_FULL("[%.2s][%.*s][%5.1s]", "abcdef", 3, "xyzw", "qq");
	SAME_FULL("[%s]", "");
	SAME_FULL("[%c][%3c][%-3c]", 'a', 'b', 'c');
	SAME_FULL("100%% [%%] %s", "done");
	SAME_FULL("pcsc: %04x:%02x:%02x.%x %04x:%04x %s", 0u, 1u, 0u, 0u, 0x8086u, 0x10d3u,
		  "VALID");
}

static void pointers_match_libc(void **state)
{
	int x;
	(void)state;
	SAME_FULL("%p", (void *)&x);
	SAME_FULL("[%20p][%-20p]", (void *)0x1234, (void *)0x1234);
}

static void truncation_matches_libc(void **state)
{
	(void)state;
	for (size_t sz = 1; sz < 24; sz++)
		SAME(sz, "cfg_reads=%u name=%s x=%08x", 123456u, "dev_0000", 0xcafeu);
	SAME(5, "%d", -123456789);
}

static void size_zero_writes_nothing(void **state)
{
	char b[4] = { 'x', 'y', 'z', 'w' };
	(void)state;
	assert_int_equal(pcsc_snprintf(b, 0, "%s", "hello"), 5);
	assert_memory_equal(b, "xyzw", 4);
	assert_int_equal(pcsc_snprintf(NULL, 0, "%d", 1234), 4);
}

static void null_string_prints_placeholder(void **state)
{
	char b[32];
	(void)state;
	assert_int_equal(pcsc_snprintf(b, sizeof(b), "[%s]", (char *)NULL), 8);
	assert_string_equal(b, "[(null)]");
}

static void unknown_conversion_is_printed_verbatim(void **state)
{
	char b[32];
	(void)state;
	/* Built at run time so the compiler's format check does not object. */
	char fmt[] = "a%qb%";
	assert_int_equal(pcsc_snprintf(b, sizeof(b), fmt), 5);
	assert_string_equal(b, "a%qb%");
}

/* A caller's own variadic wrapper, as pcsc_log is built. */
static int wrap(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pcsc_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void vsnprintf_consumes_a_va_list(void **state)
{
	char b[64];
	(void)state;
	assert_int_equal(wrap(b, sizeof(b), "%s=%llu/%zu%c", "reads", 123456789012ULL,
			      (size_t)42, '!'), 22);
	assert_string_equal(b, "reads=123456789012/42!");
	assert_int_equal(wrap(b, 4, "%d%d", 12, 34), 4);
	assert_string_equal(b, "123");
}

static char sink_buf[1024];
static size_t sink_len;
static int sink_calls;

static void test_sink(const char *line, size_t len)
{
	assert_true(len < sizeof(sink_buf));
	assert_int_equal(strlen(line), len);
	memcpy(sink_buf, line, len + 1);
	sink_len = len;
	sink_calls++;
}

static void log_adds_newline_once(void **state)
{
	(void)state;
	sink_calls = 0;
	pcsc_log_set_sink(test_sink);
	pcsc_log("pcsc: summary valid=%u", 12u);
	assert_int_equal(sink_calls, 1);
	assert_string_equal(sink_buf, "pcsc: summary valid=12\n");
	assert_int_equal(sink_len, 23);
	pcsc_log("already %s\n", "ends");
	assert_int_equal(sink_calls, 2);
	assert_string_equal(sink_buf, "already ends\n");
	pcsc_log("%s", "");
	assert_string_equal(sink_buf, "\n");
	pcsc_log_set_sink(NULL);
}

static void log_cuts_long_lines_at_255(void **state)
{
	char big[600];
	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pcsc_log_set_sink(test_sink);
	pcsc_log("%s", big);
	assert_int_equal(sink_len, 256);
	assert_int_equal(sink_buf[254], 'q');
	assert_int_equal(sink_buf[255], '\n');
	pcsc_log_set_sink(NULL);
}

static void log_without_sink_is_silent(void **state)
{
	(void)state;
	sink_calls = 0;
	pcsc_log_set_sink(NULL);
	pcsc_log("dropped %d", 1);
	assert_int_equal(sink_calls, 0);
}

static char all[8192];
static size_t all_len;

static void collect_sink(const char *line, size_t len)
{
	assert_int_equal(strlen(line), len);
	assert_true(all_len + len < sizeof(all));
	memcpy(all + all_len, line, len + 1);
	all_len += len;
}

static void emit_one_of_each(void)
{
	pcsc_log("d");
	pcsc_log_at(PCSC_LOG_PROBLEM, "p");
	pcsc_log_at(PCSC_LOG_RESULT, "r");
	pcsc_log_at(PCSC_LOG_ALERT, "a");
}

/* Each report level prints exactly its classes, and counts its bytes. */
static void report_levels_print_their_classes(void **state)
{
	static const struct { enum pcsc_report r; const char *want; } t[] = {
		{ PCSC_REPORT_FULL, "d\np\nr\na\n" },
		{ PCSC_REPORT_PROBLEMS, "p\nr\na\n" },
		{ PCSC_REPORT_SUMMARY, "r\na\n" },
		{ PCSC_REPORT_QUIET, "a\n" },
	};
	unsigned long long b0;
	unsigned int i;

	(void)state;
	pcsc_log_set_sink(collect_sink);
	for (i = 0; i < 4; i++) {
		all_len = 0;
		all[0] = 0;
		pcsc_log_set_report(t[i].r);
		b0 = pcsc_log_bytes();
		emit_one_of_each();
		assert_string_equal(all, t[i].want);
		assert_int_equal(pcsc_log_bytes() - b0, strlen(t[i].want));
		assert_int_equal(pcsc_log_enabled(PCSC_LOG_DETAIL), t[i].r == PCSC_REPORT_FULL);
	}
	pcsc_log_set_report(PCSC_REPORT_FULL);
	pcsc_log_set_sink(NULL);
	assert_int_equal(pcsc_log_enabled(PCSC_LOG_ALERT), 0);
}

/* Before the command line is parsed: results and alerts go out at once,
 * details and problems wait for the level, in order, within 4 KiB. */
static void deferred_lines_wait_for_the_level(void **state)
{
	unsigned int i;

	(void)state;
	pcsc_log_set_sink(collect_sink);
	all_len = 0;
	pcsc_log_defer();
	emit_one_of_each();
	assert_string_equal(all, "r\na\n");
	pcsc_log_set_report(PCSC_REPORT_PROBLEMS);
	assert_string_equal(all, "r\na\np\n");
	all_len = 0;
	pcsc_log_defer();
	emit_one_of_each();
	pcsc_log_set_report(PCSC_REPORT_FULL);
	assert_string_equal(all, "r\na\nd\np\n");
	all_len = 0;
	pcsc_log_defer();
	emit_one_of_each();
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	assert_string_equal(all, "r\na\n");
	/* A failure before the level is known prints what was held, in order,
	 * before its own alert; once the level is known, release does nothing. */
	all_len = 0;
	pcsc_log_defer();
	pcsc_log("entry");
	pcsc_log_release();
	pcsc_log_at(PCSC_LOG_ALERT, "exception");
	assert_string_equal(all, "entry\nexception\n");
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	pcsc_log_release();
	pcsc_log("detail");
	assert_string_equal(all, "entry\nexception\n");
	/* Past the hold buffer, later details are dropped, earlier kept. */
	all_len = 0;
	pcsc_log_defer();
	for (i = 0; i < 500; i++)
		pcsc_log("detail line %03u", i);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	assert_non_null(strstr(all, "detail line 000\n"));
	assert_null(strstr(all, "detail line 499\n"));
	assert_true(all_len <= 4096);
	pcsc_log_set_sink(NULL);
}

/* docs/report.md's level table, row by row: what the command line says
 * ("how") decides which classes reach the console. d: details (facts, walk,
 * VALID/NEW), p: STALE/GONE/BAD lines, r: summary and sha256, a: cache
 * rejected and an exception. */
static void command_line_levels_of_the_doc(void **state)
{
	static const struct { const char *how; const char *want; } t[] = {
		{ "console=ttyS0", "r\na\n" },			/* summary: the stub's default */
		{ "pcsc.report=summary", "r\na\n" },
		{ "pcsc.report=problems", "p\nr\na\n" },
		{ "pcsc.report=full", "d\np\nr\na\n" },
		{ "console=ttyS0 quiet", "a\n" },		/* as Linux honours it */
		{ "pcsc.report=quiet", "a\n" },
		{ "quiet pcsc.report=full", "d\np\nr\na\n" },	/* asked by name: wins */
		{ "pcsc.report=loud", "r\na\n" },		/* unknown: summary */
	};
	struct pcsc_bootopts o;
	unsigned int i;

	(void)state;
	pcsc_log_set_sink(collect_sink);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		all_len = 0;
		all[0] = 0;
		pcsc_bootopts_parse(t[i].how, strlen(t[i].how), &o, NULL, 0);
		pcsc_log_set_report(o.report);
		emit_one_of_each();
		if (strcmp(all, t[i].want))
			fail_msg("\"%s\" printed \"%s\", want \"%s\"", t[i].how, all, t[i].want);
	}
	pcsc_log_set_report(PCSC_REPORT_FULL);
	pcsc_log_set_sink(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integers_match_libc),
		cmocka_unit_test(widths_and_flags_match_libc),
		cmocka_unit_test(strings_and_chars_match_libc),
		cmocka_unit_test(pointers_match_libc),
		cmocka_unit_test(truncation_matches_libc),
		cmocka_unit_test(size_zero_writes_nothing),
		cmocka_unit_test(null_string_prints_placeholder),
		cmocka_unit_test(unknown_conversion_is_printed_verbatim),
		cmocka_unit_test(vsnprintf_consumes_a_va_list),
		cmocka_unit_test(log_adds_newline_once),
		cmocka_unit_test(log_cuts_long_lines_at_255),
		cmocka_unit_test(log_without_sink_is_silent),
		cmocka_unit_test(report_levels_print_their_classes),
		cmocka_unit_test(deferred_lines_wait_for_the_level),
		cmocka_unit_test(command_line_levels_of_the_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
