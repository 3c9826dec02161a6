/* bench/cpu_steps.h - counting the CPU SHA-256 path's instructions by single-stepping. */
#ifndef PCSC_BENCH_CPU_STEPS_H
#define PCSC_BENCH_CPU_STEPS_H

/* cpu_sha256_steps_per_block - instructions per 64-byte block of
 * sha256_cpu_blocks(), counted exactly. Returns 0; -1 (no CPU path, or
 * ptrace refused). */
int cpu_sha256_steps_per_block(double *per_block);

#endif
