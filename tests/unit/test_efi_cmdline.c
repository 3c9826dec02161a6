/* test_efi_cmdline.c - the EFI app's command-line splitting (uefi/cmdline.c), on the host.
 * uefi/ is not part of libpcsc.a: the file under test is compiled in here (uefi/efi.mk
 * adds gnu-efi's headers to this binary's flags). Never touches firmware. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "../../uefi/cmdline.c"

/* UCS-2 copy of an ASCII string, n characters (no NUL unless included). */
static size_t to16(CHAR16 *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i];
	return n;
}

/* The words a split gave: argv[0..argc). */
static void assert_argv(const struct efi_args *a, int argc, const char *const want[])
{
	for (int i = 0; i < argc; i++)
		assert_string_equal(a->argv[i], want[i]);
}

/* Split an ASCII line widened to UCS-2 (no NUL): exactly these argc words. */
static void expect_ucs2(const char *line, int argc, const char *const want[])
{
	struct efi_args a;
	CHAR16 s[64];
	size_t n = strlen(line);

	assert_true(n <= 64);
	assert_int_equal(efi_args_from_ucs2(&a, s, to16(s, line, n)), argc);
	assert_argv(&a, argc, want);
}

static void ucs2_splits_program_and_arguments(void **state)
{
	static const char *const want[] = { "fs0:\\pcsc-stub.efi", "lspci", "--shutdown" };

	(void)state;
	expect_ucs2("fs0:\\pcsc-stub.efi  lspci\t--shutdown", 3, want);
}

static void ucs2_quotes_group_and_vanish(void **state)
{
	static const char *const want[] = { "p", "help", "a b", "" };

	(void)state;
	expect_ucs2("p \"he\"lp \"a b\" \"\"", 4, want);
}

static void ucs2_stops_at_nul_non_ascii_and_length(void **state)
{
	struct efi_args a;
	CHAR16 s[16];

	(void)state;
	to16(s, "p x\0y", 5);
	assert_int_equal(efi_args_from_ucs2(&a, s, 5), 2);
	assert_string_equal(a.argv[1], "x");

	to16(s, "p xy z", 6);
	s[3] = 0x00e9;	/* binary OptionalData, not a command line */
	assert_int_equal(efi_args_from_ucs2(&a, s, 6), 2);
	assert_string_equal(a.argv[1], "x");

	/* n16 bounds the read even without a NUL. */
	to16(s, "p abcdef", 8);
	assert_int_equal(efi_args_from_ucs2(&a, s, 4), 2);
	assert_string_equal(a.argv[1], "ab");

	assert_int_equal(efi_args_from_ucs2(&a, s, 0), 0);
}

static void ucs2_too_many_tokens_or_too_long_is_refused(void **state)
{
	struct efi_args a;
	static CHAR16 s[2 * EFI_ARGS_MAX];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < EFI_ARGV_MAX; i++) {
		s[n++] = 'a';
		s[n++] = ' ';
	}
	assert_int_equal(efi_args_from_ucs2(&a, s, n), EFI_ARGV_MAX);
	s[n++] = 'b';
	assert_int_equal(efi_args_from_ucs2(&a, s, n), -1);

	for (n = 0; n < EFI_ARGS_MAX; n++)
		s[n] = 'x';
	assert_int_equal(efi_args_from_ucs2(&a, s, n), -1);
	assert_int_equal(efi_args_from_ucs2(&a, s, EFI_ARGS_MAX - 2), 1);
	assert_int_equal(strlen(a.argv[0]), EFI_ARGS_MAX - 2);
}

static void ascii_file_prepends_prog_and_skips_comments(void **state)
{
	struct efi_args a;
	const char *f = "# run by the boot manager\r\nverify cache.img\r\n  --out o#ut.img\n#x y\n";
	/* '#' inside a line is an ordinary character. */
	static const char *const want[] = { "pcsc-stub.efi", "verify", "cache.img", "--out",
					    "o#ut.img" };

	(void)state;
	assert_int_equal(efi_args_from_ascii(&a, "pcsc-stub.efi", f, strlen(f)), 5);
	assert_argv(&a, 5, want);
}

static void ascii_empty_file_is_prog_only_and_len_bounds(void **state)
{
	struct efi_args a;

	(void)state;
	assert_int_equal(efi_args_from_ascii(&a, "p", "", 0), 1);
	assert_int_equal(efi_args_from_ascii(&a, "p", "lspci --x", 5), 2);
	assert_string_equal(a.argv[1], "lspci");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ucs2_splits_program_and_arguments),
		cmocka_unit_test(ucs2_quotes_group_and_vanish),
		cmocka_unit_test(ucs2_stops_at_nul_non_ascii_and_length),
		cmocka_unit_test(ucs2_too_many_tokens_or_too_long_is_refused),
		cmocka_unit_test(ascii_file_prepends_prog_and_skips_comments),
		cmocka_unit_test(ascii_empty_file_is_prog_only_and_len_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
