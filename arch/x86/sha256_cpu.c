/* arch/x86/sha256_cpu.c - SHA-256 blocks on the x86 SHA extensions (SHA-NI), when the CPU has them.
 * Only that one function uses SSE4.1/SHA (target attribute); the probe is plain CPUID. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/sha256.h>

/* FIPS 180-4 §4.2.2 round constants, four per 128-bit lane group. */
static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

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
			wk = _mm_add_epi32(m[g % 4], _mm_load_si128((const __m128i *)(K + 4 * g)));
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
