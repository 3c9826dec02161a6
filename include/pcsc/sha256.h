/* pcsc/sha256.h - SHA-256 (FIPS 180-4), streaming, for the handover digest.
 * Small and table-driven; it never allocates and never reads past what it is given. */
#ifndef PCSC_SHA256_H
#define PCSC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE	32
#define SHA256_BLOCK_SIZE	64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[SHA256_BLOCK_SIZE];
	uint32_t nbuf;		/* bytes waiting in buf */
};

/* FIPS 180-4 §4.2.2: the round constants, for every compression function. */
extern const uint32_t sha256_k[64];

/* Compress n consecutive 64-byte blocks at p into the state h. */
typedef void sha256_blocks_fn(uint32_t h[8], const uint8_t *p, size_t n);

/* sha256_blocks_portable - the C compression function (FIPS 180-4 §6.2.2). */
void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n);

/*
 * sha256_use - compress with fn from now on, once it has passed a
 * known-answer test (FIPS 180-4's two-block example); NULL or a failed
 * test: the portable code. Every path gives the same digest
 * (tests/unit/test_sha256.c compares them).
 * Returns the name of what is in use: "cpu" or "portable".
 */
const char *sha256_use(sha256_blocks_fn *fn);

/* sha256_engine - "cpu" or "portable": what sha256_update compresses with. */
const char *sha256_engine(void);

/*
 * sha256_cpu_blocks - the CPU's own SHA-256 instructions (arm64 SHA2
 * extension, x86 SHA-NI), or NULL when this CPU lacks them. Implemented
 * per arch in arch/<arch>/sha256_cpu.c (not in lib/: it is CPU code), and
 * linked into the stub, the EFI-independent host tools and the unit tests.
 */
sha256_blocks_fn *sha256_cpu_blocks(void);

/* sha256_init - start a new digest. */
void sha256_init(struct sha256_ctx *c);

/* sha256_update - hash len more bytes (any length, any alignment; len 0 is a no-op). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);

/* sha256_final - pad, write the 32-byte digest to out; c must be re-initialised to reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);

/* sha256 - one-shot digest of data[0..len). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

#endif
