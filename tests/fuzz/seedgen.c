/* seedgen.c - writes fuzz seeds with cache_gen: valid hand-overs (S = 256 and 4096, every
 * mode) and a few damaged ones, in the layout fuzz_common.h describes. Host tool only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/cache_gen.h>
#include <pcsc/pci_sim.h>
#include "fuzz_common.h"

static struct pci_sim sim;
static struct pci_sim_func simfuncs[8];

static const pci_sbdf_t bdfs[4] = {
	PCI_SBDF(0, 0, PCI_DEVFN(1, 0)), PCI_SBDF(0, 0, PCI_DEVFN(2, 0)),
	PCI_SBDF(0, 0, PCI_DEVFN(0x13, 0)), PCI_SBDF(0, 0, PCI_DEVFN(0x13, 1)),
};

/* Returns the image size. Layout: header page, data blocks, pcsc FDT page,
 * 4 map pages, KHO FDT (image ends at its totalsize). */
static size_t make(uint8_t *img, size_t cap, uint16_t S, uint8_t mode, unsigned int n, int fault)
{
	struct cache_gen_entry e[4];
	struct kho_range pres;
	struct pci_cfg cfg;
	uint64_t stride = PCSC_DATA_ALLOC(S), data = FUZZ_BASE + 4096, pfdt, map, kfdt, first;
	size_t used;
	unsigned int i, r;
	uint32_t off;

	memset(img, 0, cap);
	pci_sim_cfg_init(&cfg, &sim);
	for (i = 0; i < n; i++) {
		uint8_t bytes[256];

		for (r = 0; r < 256; r += 4) {
			uint32_t v;

			pci_cfg_read32(&cfg, bdfs[i], (uint16_t)r, &v);
			memcpy(bytes + r, &v, 4);
		}
		if (cache_gen_pcsc_data(img + (data - FUZZ_BASE) + i * stride, stride, S, bytes, 256))
			exit(1);
		memset(&e[i], 0, sizeof(e[i]));
		e[i].sbdf = bdfs[i];
		e[i].da = data + i * stride;
	}
	if (fault == 1)
		e[0].da += 8;			/* unaligned */
	if (fault == 2)
		e[1].name = "dev_0000_00_01_0";	/* duplicate */
	if (fault == 3)
		e[1].da_len = 4;
	pfdt = data + n * stride;
	if (cache_gen_pcsc_fdt(img + (pfdt - FUZZ_BASE), 4096, NULL, e, n))
		exit(1);
	map = pfdt + 4096;
	pres.start = data;
	pres.end = pfdt + 4096;
	if (cache_gen_kho_map(img + (map - FUZZ_BASE), 4 * 4096, map, &pres, 1, NULL, 0, &first, &used))
		exit(1);
	kfdt = map + 4 * 4096;
	if (cache_gen_kho_fdt(img + (kfdt - FUZZ_BASE), 1024, NULL, fault == 4 ? "kho-v9" : NULL, first, pfdt, 0))
		exit(1, 0);
	off = (uint32_t)(kfdt - FUZZ_BASE);
	memcpy(img, &off, 4);
	img[4] = mode;
	img[5] = S == 4096;
	/* The image ends where the KHO FDT does. */
	return (size_t)(kfdt - FUZZ_BASE) + 256;
}

int main(int argc, char **argv)
{
	static uint8_t img[64 * 1024];
	struct { uint16_t S; uint8_t mode; unsigned int n; int fault; } seeds[] = {
		{ 256, 0, 4, 0 }, { 4096, 0, 4, 0 }, { 256, 1, 4, 0 }, { 4096, 1, 3, 0 },
		{ 256, 2, 2, 0 }, { 256, 0, 4, 1 }, { 256, 0, 4, 2 }, { 256, 1, 4, 3 },
		{ 256, 0, 2, 4 },
	};
	unsigned int line, i;

	if (argc != 2) {
		fprintf(stderr, "usage: seedgen DIR\n");
		return 2;
	}
	pci_sim_init(&sim, simfuncs, 8);
	if (pci_sim_parse(&sim, fuzz_topo, sizeof(fuzz_topo) - 1, &line))
		return 1;
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512];
		size_t n = make(img, sizeof(img), seeds[i].S, seeds[i].mode, seeds[i].n, seeds[i].fault);
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%02u", argv[1], i);
		f = fopen(path, "wb");
		if (!f || fwrite(img, 1, n, f) != n || fclose(f))
			return 1;
	}
	return 0;
}
