/* blob_helpers.c - simulated RAM image and config bytes for the KHO/PCSC engine tests.
 * Test code only: never linked into lib/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/log.h>
#include "blob_helpers.h"

static void *blob_helpers_map(void *ctx, uint64_t phys, uint64_t len)
{
	struct blob_helpers_ram *r = ctx;

	if (phys < r->base || len > r->size || phys - r->base > r->size - len)
		return NULL;
	return r->mem + (phys - r->base);
}

void blob_helpers_ram_init(struct blob_helpers_ram *r, uint64_t base, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->size = size;
	r->mem = calloc(1, size);
	assert_non_null(r->mem);
	r->pm.map = blob_helpers_map;
	r->pm.ctx = r;
	assert_int_equal(phys_ranges_add(&r->pm.ram, base, size), 0);
}

void blob_helpers_ram_free(struct blob_helpers_ram *r)
{
	free(r->mem);
	r->mem = NULL;
}

uint8_t *blob_helpers_at(struct blob_helpers_ram *r, uint64_t a)
{
	assert_true(a >= r->base && a - r->base < r->size);
	return r->mem + (a - r->base);
}

void blob_helpers_cfg(uint8_t *cfg, uint16_t vendor, uint16_t device, uint32_t class24, uint8_t hdr)
{
	memset(cfg, 0, 256);
	cfg[0] = (uint8_t)vendor;
	cfg[1] = (uint8_t)(vendor >> 8);
	cfg[2] = (uint8_t)device;
	cfg[3] = (uint8_t)(device >> 8);
	cfg[8] = 0x01;			/* revision */
	cfg[9] = (uint8_t)class24;
	cfg[10] = (uint8_t)(class24 >> 8);
	cfg[11] = (uint8_t)(class24 >> 16);
	cfg[0x0e] = hdr;
	cfg[0x06] = 0x10;		/* capability list */
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x10;		/* PCIe capability, last */
	cfg[0x41] = 0x00;
}

static char blob_helpers_log[1 << 16];
static size_t blob_helpers_log_len;

static void blob_helpers_sink(const char *line, size_t len)
{
	if (blob_helpers_log_len + len >= sizeof(blob_helpers_log))
		len = sizeof(blob_helpers_log) - 1 - blob_helpers_log_len;
	memcpy(blob_helpers_log + blob_helpers_log_len, line, len);
	blob_helpers_log_len += len;
	blob_helpers_log[blob_helpers_log_len] = '\0';
}

void blob_helpers_log_start(void)
{
	blob_helpers_log_len = 0;
	blob_helpers_log[0] = '\0';
	pcsc_log_set_sink(blob_helpers_sink);
}

const char *blob_helpers_log_text(void)
{
	return blob_helpers_log;
}
