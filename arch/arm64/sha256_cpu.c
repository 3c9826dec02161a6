/* arch/arm64/sha256_cpu.c - SHA-256 blocks on the ARMv8 SHA2 instructions, when the CPU has them.
 * Built without -mgeneral-regs-only (the stub enables FP/SIMD at entry); never used unprobed. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/sha256.h>

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
			uint32x4_t wk = vaddq_u32(m[g % 4], vld1q_u32(sha256_k + 4 * g)), a = abcd;

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
