/* arch/x86/sha256_cpu.c - SHA-256 blocks on the x86 SHA extensions (SHA-NI), when the CPU has them.
 * Only that one function uses SSE4.1/SHA (target attribute); the probe is plain CPUID. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/sha256.h>

/*
 * SHA256RNDS2 does two rounds on the state split as {A,B,E,F} and
 * {C,D,G,H} (high to low dword), taking W+K from the low two dwords of
 * its third operand; SHA256MSG1/MSG2 with one PALIGNR extend the schedule
 * four words at a time. The state is repacked from h[] once per call.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_ni_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	__m128i t, abef, cdgh;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xb1);		/* CDAB */
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b);	/* EFGH */
	abef = _mm_alignr_epi8(t, cdgh, 8);						/* ABEF */
	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);						/* CDGH */
	for (; n; n--, p += SHA256_BLOCK_SIZE) {
		__m128i abef0 = abef, cdgh0 = cdgh, m[4], wk;
		unsigned int g;

		for (g = 0; g < 4; g++)
			m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
		for (g = 0; g < 16; g++) {
			if (g >= 4) {
				__m128i prev = m[(g + 3) % 4];	/* W[4g-4 .. 4g-1] */

				m[g % 4] = _mm_sha256msg2_epu32(
					_mm_add_epi32(_mm_sha256msg1_epu32(m[g % 4], m[(g + 1) % 4]),
						      _mm_alignr_epi8(prev, m[(g + 2) % 4], 4)),
					prev);
			}
			wk = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)(sha256_k + 4 * g)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1b);			/* FEBA */
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);			/* DCHG */
	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, cdgh, 0xf0));		/* DCBA */
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(cdgh, t, 8));	/* HGFE */
}

sha256_blocks_fn *sha256_cpu_blocks(void)
{
	uint32_t a, b, c, d;

	/* Leaf 1: ECX bit 9 SSSE3, bit 19 SSE4.1. Leaf 7.0: EBX bit 29 SHA. */
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	if (a < 7)
		return NULL;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 9)) || !(c & (1u << 19)))
		return NULL;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	return (b & (1u << 29)) ? sha256_ni_blocks : NULL;
}
