/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST CAVP example vectors, streaming
 * in odd-sized pieces, and the 1,000,000 x 'a' long message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/sha256.h>

static void hex(const uint8_t *d, char *out)
{
	static const char hx[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[64] = '\0';
}

static void check(const char *msg, size_t len, const char *want)
{
	uint8_t d[32];
	char s[65];

	sha256(msg, len, d);
	hex(d, s);
	assert_string_equal(s, want);
}

static void empty_message(void **state)
{
	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void abc(void **state)
{
	(void)state;
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void two_block_message(void **state)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	check(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void four_block_message(void **state)
{
	const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	(void)state;
	check(m, strlen(m), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void million_a_streamed_in_odd_pieces(void **state)
{
	static char chunk[997];
	struct sha256_ctx c;
	size_t left = 1000000;
	uint8_t d[32];
	char s[65];

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

		sha256_update(&c, chunk, n);
		left -= n;
	}
	sha256_final(&c, d);
	hex(d, s);
	assert_string_equal(s, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void byte_at_a_time_equals_one_shot(void **state)
{
	const char *m = "The quick brown fox jumps over the lazy dog, 55 bytes.."
			"and some more to cross the 64-byte boundary twice over!!";
	struct sha256_ctx c;
	uint8_t a[32], b[32];
	size_t i;

	(void)state;
	sha256(m, strlen(m), a);
	sha256_init(&c);
	for (i = 0; i < strlen(m); i++)
		sha256_update(&c, m + i, 1);
	sha256_update(&c, m, 0);
	sha256_final(&c, b);
	assert_memory_equal(a, b, 32);
	check("The quick brown fox jumps over the lazy dog", 43,
	      "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

/* The CPU's SHA-256 instructions (x86 SHA-NI on this machine; arm64's SHA2
 * extension is proven under QEMU -cpu max against the host digest) give
 * the portable code's digest for every length and alignment. */
static void cpu_instructions_match_portable(void **state)
{
	static uint8_t buf[4096 + 16];
	sha256_blocks_fn *cpu = sha256_cpu_blocks();
	uint8_t want[32], got[32];
	uint32_t x = 12345;
	size_t len, off, i;

	(void)state;
	if (!cpu) {
		skip();
		return;
	}
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (len = 0; len <= 300; len++)
		for (off = 0; off < 3; off++) {
			assert_string_equal(sha256_use(NULL), "portable");
			sha256(buf + off, len, want);
			assert_string_equal(sha256_use(cpu), "cpu");
			sha256(buf + off, len, got);
			assert_memory_equal(got, want, 32);
		}
	sha256(buf, 4096, got);
	sha256_use(NULL);
	sha256(buf, 4096, want);
	assert_memory_equal(got, want, 32);
	/* And the FIPS vector on the CPU path. */
	sha256_use(cpu);
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(sha256_engine(), "cpu");
	sha256_use(NULL);
	assert_string_equal(sha256_engine(), "portable");
}

/* A compression function that gets the answer wrong is never used. */
static void broken_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	sha256_blocks_portable(h, p, n);
	h[3] ^= 1;
}

static void a_cpu_path_failing_its_known_answer_is_refused(void **state)
{
	(void)state;
	assert_string_equal(sha256_use(broken_blocks), "portable");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(sha256_use(sha256_blocks_portable), "portable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_message),
		cmocka_unit_test(abc),
		cmocka_unit_test(two_block_message),
		cmocka_unit_test(four_block_message),
		cmocka_unit_test(million_a_streamed_in_odd_pieces),
		cmocka_unit_test(byte_at_a_time_equals_one_shot),
		cmocka_unit_test(cpu_instructions_match_portable),
		cmocka_unit_test(a_cpu_path_failing_its_known_answer_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
