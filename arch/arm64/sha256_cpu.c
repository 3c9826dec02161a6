/* arch/arm64/sha256_cpu.c - SHA-256 blocks on the ARMv8 SHA2 instructions, when the CPU has them.
 * Built without -mgeneral-regs-only (the stub enables FP/SIMD at entry); never used unprobed. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/sha256.h>

/* FIPS 180-4 §4.2.2: the first 32 bits of the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Four rounds per step: SHA256H updates {a,b,c,d} and SHA256H2 {e,f,g,h}
 * from the same W+K quad; SHA256SU0/SU1 extend the schedule four words at
 * a time (W[t] from W[t-16], W[t-15], W[t-7], W[t-2]). */
__attribute__((target("+crypto")))
static void sha256_ce_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	uint32x4_t abcd = vld1q_u32(h), efgh = vld1q_u32(h + 4);

	for (; n; n--, p += SHA256_BLOCK_SIZE) {
		uint32x4_t a0 = abcd, e0 = efgh, m[4];
		unsigned int g;

		for (g = 0; g < 4; g++)		/* big-endian words */
			m[g] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * g)));
		for (g = 0; g < 16; g++) {
			uint32x4_t wk = vaddq_u32(m[g % 4], vld1q_u32(K + 4 * g)), a = abcd;

			abcd = vsha256hq_u32(abcd, efgh, wk);
			efgh = vsha256h2q_u32(efgh, a, wk);
			if (g < 12)
				m[g % 4] = vsha256su1q_u32(vsha256su0q_u32(m[g % 4], m[(g + 1) % 4]),
							   m[(g + 2) % 4], m[(g + 3) % 4]);
		}
		abcd = vaddq_u32(abcd, a0);
		efgh = vaddq_u32(efgh, e0);
	}
	vst1q_u32(h, abcd);
	vst1q_u32(h + 4, efgh);
}

sha256_blocks_fn *sha256_cpu_blocks(void)
{
	uint64_t isar0;

	/* ID_AA64ISAR0_EL1.SHA2, bits [15:12]: 1 = SHA256H/H2/SU0/SU1. */
	__asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(isar0));
	return ((isar0 >> 12) & 0xf) >= 1 ? sha256_ce_blocks : NULL;
}
