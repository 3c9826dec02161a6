/* sim_helpers.h - shared test helpers: a raw one-function config backend,
 * byte pokes, topology loading from tests/fixtures/topo, and walk dumps.
 * Test code only: never linked into lib/. */
#ifndef SIM_HELPERS_H
#define SIM_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/pci_sim.h>
#include <pcsc/pci_walk.h>

/* One function's 4 KiB space at sbdf; every other function reads all ones
 * (return 0, as a decoding bus would); reads counted in calls. */
struct sim_helpers_raw {
	pci_sbdf_t sbdf;
	uint8_t space[4096];
	unsigned int calls;
};

void sim_helpers_raw_init(struct sim_helpers_raw *r, struct pci_cfg *cfg, pci_sbdf_t sbdf);
void sim_helpers_put8(uint8_t *space, unsigned int off, uint8_t v);
void sim_helpers_put16(uint8_t *space, unsigned int off, uint16_t v);
void sim_helpers_put32(uint8_t *space, unsigned int off, uint32_t v);

/* Read path (relative to the repo root, where make test-unit runs) into
 * buf, at most size - 1 bytes, NUL-terminated; returns its length, fails
 * the test when it cannot be opened or does not fit. */
size_t sim_helpers_read_file(const char *path, char *buf, size_t size);

/* sim_helpers_read_file of tests/fixtures/topo/<name>. */
size_t sim_helpers_read_fixture(const char *name, char *buf, size_t size);

/* Parse text into sim (arena of cap functions from the heap, freed by
 * sim_helpers_free); fails the test with the line number on a parse error. */
void sim_helpers_load(struct pci_sim *sim, uint32_t cap, const char *text);
void sim_helpers_load_fixture(struct pci_sim *sim, uint32_t cap, const char *name);
void sim_helpers_free(struct pci_sim *sim);

/* Format one function as "SSSS:BB:DD.F VVVV:DDDD cccccc flags pf" for
 * readable exact comparisons. */
void sim_helpers_func_str(const struct pci_func *f, char *buf, size_t size);

/* The i-th function of the finished walk in iterator (SBDF) order, or
 * NULL; a linear scan: tests only. The pointer lasts until the next
 * sim_helpers_nth/find call. */
const struct pci_func *sim_helpers_nth(const struct pci_walk *w, uint32_t i);

/* The walk's first function at sbdf (a linear search: tests only), or NULL;
 * the pointer lasts as sim_helpers_nth's. */
const struct pci_func *sim_helpers_find(const struct pci_walk *w, pci_sbdf_t sbdf);

/* Hand-made finished walks (callers add in SBDF order, PFs before their
 * VFs): a physical function, and the VF range of physical function pf. */
void sim_helpers_walk_func(struct pci_walk *w, pci_sbdf_t sbdf, uint16_t vendor, uint16_t device,
			   uint32_t class_rev, uint8_t hdr, uint8_t flags);
void sim_helpers_walk_vfs(struct pci_walk *w, uint32_t pf, pci_sbdf_t first, uint16_t stride,
			  uint32_t count, uint16_t device);

#endif
