/* pcsc_fuzz.c - libFuzzer harness: the input is a RAM image holding a KHO root FDT, its map,
 * a pcsc FDT and pcsc_data blocks; pcsc_session_run parses, verifies, patches and reports it.
 * It must never let the engine read outside the image (ASan) nor hide an undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/log.h>
#include <pcsc/pci_sim.h>
#include <pcsc/session.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pci_sim sim;
static struct pci_sim_func simfuncs[8];
static uint8_t arena[256 * 1024];
static uint8_t *ram;
static size_t ram_size;

static void *map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys < FUZZ_BASE || len > ram_size || phys - FUZZ_BASE > ram_size - len)
		return NULL;
	return ram + (phys - FUZZ_BASE);
}

static void sink(const char *line, size_t len)
{
	(void)line;
	(void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct pcsc_session_in in;
	struct pcsc_session_out out;
	struct phys_ranges owned;
	struct physmem pm;
	struct pci_cfg cfg;
	uint32_t off;

	if (!ready) {
		unsigned int line;

		pci_sim_init(&sim, simfuncs, 8);
		if (pci_sim_parse(&sim, fuzz_topo, sizeof(fuzz_topo) - 1, &line))
			abort();
		pcsc_log_set_sink(sink);
		ready = 1;
	}
	if (size < FUZZ_HDR)
		return 0;
	/* An exact-size heap copy: ASan catches any read past the image. */
	ram = malloc(size);
	if (!ram)
		return 0;
	memcpy(ram, data, size);
	ram_size = size;
	memcpy(&off, data, 4);

	memset(&pm, 0, sizeof(pm));
	pm.map = map;
	phys_ranges_add(&pm.ram, FUZZ_BASE, size);
	memset(&owned, 0, sizeof(owned));
	phys_ranges_add(&owned, FUZZ_BASE, FUZZ_HDR);
	pci_sim_cfg_init(&cfg, &sim);

	memset(&in, 0, sizeof(in));
	in.cfg = &cfg;
	in.windows = sim.win;
	in.nwindows = sim.nwin;
	in.pm = &pm;
	in.owned = &owned;
	in.kho_fdt = FUZZ_BASE + off;
	in.mode = (enum pcsc_mode)(data[4] % 3);
	in.S = (data[5] & 1) ? 4096 : 256;
	in.arena = arena;
	in.arena_size = sizeof(arena);
	in.max_ranges = 256;
	if (pcsc_session_run(&in, &out))
		abort();	/* only NULL arguments may fail */
	free(ram);
	ram = NULL;
	return 0;
}
