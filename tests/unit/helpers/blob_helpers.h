/* blob_helpers.h - shared test helpers: a simulated RAM image (physmem over a heap
 * buffer) and endpoint config spaces for building caches with cache_gen. Test code only. */
#ifndef BLOB_HELPERS_H
#define BLOB_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <pcsc/physmem.h>

/* RAM [base, base+size) backed by mem (calloc'ed). */
struct blob_helpers_ram {
	uint64_t base;
	uint64_t size;
	uint8_t *mem;
	struct physmem pm;
};

void blob_helpers_ram_init(struct blob_helpers_ram *r, uint64_t base, uint64_t size);
void blob_helpers_ram_free(struct blob_helpers_ram *r);
/* Pointer to physical address a (asserts it is inside the image). */
uint8_t *blob_helpers_at(struct blob_helpers_ram *r, uint64_t a);

/* Fill a type 0 header: vendor, device, class (24 bits), header type,
 * and a capability list with one PCIe capability at 0x40. */
void blob_helpers_cfg(uint8_t *cfg, uint16_t vendor, uint16_t device, uint32_t class24, uint8_t hdr);

/* Capture pcsc_log output: start clears and installs the sink; text()
 * returns everything logged since (lines with '\n'). */
void blob_helpers_log_start(void);
const char *blob_helpers_log_text(void);

#endif
