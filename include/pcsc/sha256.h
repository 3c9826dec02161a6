/* pcsc/sha256.h - SHA-256 (FIPS 180-4), streaming, for the hand-over digest.
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

/* sha256_init - start a new digest. */
void sha256_init(struct sha256_ctx *c);

/* sha256_update - hash len more bytes (any length, any alignment; len 0 is a no-op). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);

/* sha256_final - pad, write the 32-byte digest to out; c must be re-initialised to reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);

/* sha256 - one-shot digest of data[0..len). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

#endif
