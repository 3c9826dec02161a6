/* pcsc/physmem.h - physical memory as the engine sees it: RAM ranges and
 * a map() that turns a physical range into a pointer, or refuses.
 * The stub maps 1:1; pcsctool maps into a memory image; tests into buffers. */
#ifndef PCSC_PHYSMEM_H
#define PCSC_PHYSMEM_H

#include <stdbool.h>
#include <stdint.h>

#define PCSC_MAX_RANGES		64

struct phys_range {
	uint64_t start;
	uint64_t end;		/* exclusive */
};

struct phys_ranges {
	struct phys_range r[PCSC_MAX_RANGES];
	unsigned int n;
};

/*
 * phys_ranges_add - add [start, start+size), keeping r[] sorted and merged.
 * Returns 0; -PCSC_ERANGE (size 0 or wraps); -PCSC_ENOSPC (PCSC_MAX_RANGES
 * disjoint ranges already held and this one meets none of them).
 */
int phys_ranges_add(struct phys_ranges *rs, uint64_t start, uint64_t size);

/* phys_ranges_contains - whole [start, start+size) inside one range. O(log n). */
bool phys_ranges_contains(const struct phys_ranges *rs, uint64_t start, uint64_t size);

/* phys_ranges_overlaps - any byte of [start, start+size) in any range. */
bool phys_ranges_overlaps(const struct phys_ranges *rs, uint64_t start, uint64_t size);

struct physmem {
	struct phys_ranges ram;		/* where RAM is */
	/* map [phys, phys+len) for reading and writing, or NULL when the
	 * range is not fully backed. */
	void *(*map)(void *ctx, uint64_t phys, uint64_t len);
	/* Optional: told of every range the engine modified (strict-mode
	 * cached bitmaps, the patched pcsc FDT, a detached KHO root), so the
	 * platform can make it visible to a next kernel entered with caches
	 * off (the stub cleans it to PoC). NULL: nothing to do. */
	void (*wrote)(void *ctx, uint64_t phys, uint64_t len);
	void *ctx;
};

/* physmem_map - map only if the range lies inside RAM and map() agrees.
 * NULL otherwise: pm or pm->map NULL, len 0, a range that wraps, not inside
 * one RAM range, or map() refused. */
void *physmem_map(const struct physmem *pm, uint64_t phys, uint64_t len);

/*
 * physmem_map_checked - physmem_map for a structure the input points at,
 * with the one-line reason when it cannot be: phys must be a multiple of
 * align (a power of two; 1 for none) and [phys, phys+len) mappable RAM.
 * Returns the pointer and sets *err = 0; or NULL with *err = -PCSC_EALIGN
 * ("<what> 0x<phys> not page aligned", or "not <align>-byte aligned") or
 * -PCSC_ENOTRAM ("<what> 0x<phys> not in RAM") written to msg[msglen].
 */
void *physmem_map_checked(const struct physmem *pm, uint64_t phys, uint64_t len, uint64_t align,
			  const char *what, char *msg, unsigned int msglen, int *err);

/* physmem_wrote - report [phys, phys+len) as modified through pm->wrote;
 * a no-op when pm or the hook is NULL or len is 0. */
void physmem_wrote(const struct physmem *pm, uint64_t phys, uint64_t len);

#endif
