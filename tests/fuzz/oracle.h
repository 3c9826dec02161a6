/* oracle.h - the fuzz harness's safety oracle: after a session, re-reads the memory image the
 * next kernel would see and judges what it would adopt. Shares no code with lib/ (libfdt only). */
#ifndef FUZZ_ORACLE_H
#define FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

struct oracle_in {
	const uint8_t *ram;		/* the image after the session (what the next kernel reads) */
	const uint8_t *before;		/* the same image before the session */
	size_t size;			/* bytes of both: RAM is [base, base + size) */
	uint64_t base;
	uint64_t owned, owned_size;	/* the stub's own bytes */
	uint64_t kho_fdt;		/* KHO root FDT phys, as handed to the session */
	uint64_t scratch, scratch_size;	/* KHO scratch array, as handed to the session */
	uint32_t bitmap_forced;		/* kho_bitmap the session was given (0 = not forced) */
	uint32_t bitmap_used;		/* kho-v1 bitmap bytes the session read (out.kho_bitmap) */
	uint16_t S;			/* pcsc_data config-space size the session was given */
};

/* The map as the oracle decoded it, for differential checks of lib/'s own
 * lookups; filled only when the verdict is ORACLE_KEPT. */
struct oracle_map {
	uint64_t phys;		/* preserved-memory-map */
	int radix;		/* kho-v2+ radix tree (else kho-v1 chunk list) */
	uint8_t *preserved;	/* caller's (size + 4095) / 4096 bytes: 1 where RAM page i
				 * is wholly preserved, else 0 */
};

/* What a verdict rests on, for the fuzz log and the README's statistics. */
enum oracle_outcome {
	ORACLE_UNREACHABLE,	/* no pcsc child the next kernel's lookup finds */
	ORACLE_KEPT,		/* a pcsc FDT is handed on and every entry left in it is safe */
	ORACLE_VIOLATION,
};

/*
 * oracle_judge - the safety invariant of SPEC §3 over in->ram, read as the
 * next kernel reads it. The rules are in tests/fuzz/README.md ("The
 * oracle"). Returns the outcome; on ORACLE_VIOLATION rule names the broken
 * rule (a fixed string) and why (whylen bytes) says where. map may be NULL.
 * oracle_init must have been called once.
 */
enum oracle_outcome oracle_judge(const struct oracle_in *in, struct oracle_map *map,
				 const char **rule, char *why, size_t whylen);

/* oracle_init - reserve the zero-filled window the KHO root is looked up in
 * (4 GiB + 2 pages of untouched anonymous memory). Returns 0, -1 on failure. */
int oracle_init(void);

#endif
