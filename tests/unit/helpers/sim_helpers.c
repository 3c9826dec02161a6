/* sim_helpers.c - shared unit-test helpers (see sim_helpers.h).
 * Test code only: uses host stdio/malloc, never linked into lib/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include "sim_helpers.h"

static int raw_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	struct sim_helpers_raw *r = ctx;

	r->calls++;
	if (sbdf != r->sbdf) {
		*val = 0xffffffffu;
		return 0;
	}
	memcpy(val, &r->space[reg], 4);
	return 0;
}

static const struct pci_cfg_ops raw_ops = { .read32 = raw_read32 };

void sim_helpers_raw_init(struct sim_helpers_raw *r, struct pci_cfg *cfg, pci_sbdf_t sbdf)
{
	memset(r, 0, sizeof(*r));
	r->sbdf = sbdf;
	pci_cfg_init(cfg, &raw_ops, r, 4096);
}

void sim_helpers_put8(uint8_t *space, unsigned int off, uint8_t v)
{
	space[off] = v;
}

void sim_helpers_put16(uint8_t *space, unsigned int off, uint16_t v)
{
	space[off] = (uint8_t)v;
	space[off + 1] = (uint8_t)(v >> 8);
}

void sim_helpers_put32(uint8_t *space, unsigned int off, uint32_t v)
{
	sim_helpers_put16(space, off, (uint16_t)v);
	sim_helpers_put16(space, off + 2, (uint16_t)(v >> 16));
}

size_t sim_helpers_read_file(const char *path, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	if (n == size - 1)
		fail_msg("%s larger than %zu bytes", path, size - 2);
	buf[n] = '\0';
	return n;
}

size_t sim_helpers_read_fixture(const char *name, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), "tests/fixtures/topo/%s", name);
	return sim_helpers_read_file(path, buf, size);
}

void sim_helpers_load(struct pci_sim *sim, uint32_t cap, const char *text)
{
	struct pci_sim_func *arena = calloc(cap, sizeof(*arena));
	unsigned int line = 0;
	int ret;

	assert_non_null(arena);
	pci_sim_init(sim, arena, cap);
	ret = pci_sim_parse(sim, text, strlen(text), &line);
	if (ret)
		fail_msg("topology parse: %s at line %u", pcsc_strerror(ret), line);
}

void sim_helpers_load_fixture(struct pci_sim *sim, uint32_t cap, const char *name)
{
	static char buf[1 << 20];

	sim_helpers_read_fixture(name, buf, sizeof(buf));
	sim_helpers_load(sim, cap, buf);
}

void sim_helpers_free(struct pci_sim *sim)
{
	free(sim->funcs);
	sim->funcs = NULL;
}

void sim_helpers_func_str(const struct pci_func *f, char *buf, size_t size)
{
	char pf[16] = "-";

	if (f->pf != PCI_PF_NONE)
		snprintf(pf, sizeof(pf), "%u", f->pf);
	snprintf(buf, size, "%04x:%02x:%02x.%x %04x:%04x %06x h%x %s%s%s%s%s pf=%s",
		 PCI_SBDF_SEG(f->sbdf), PCI_SBDF_BUS(f->sbdf),
		 PCI_SLOT(PCI_SBDF_DEVFN(f->sbdf)), PCI_FUNC(PCI_SBDF_DEVFN(f->sbdf)),
		 f->vendor, f->device,
		 f->class_rev == PCI_CLASS_UNKNOWN ? 0xffffffu : f->class_rev >> 8,
		 f->hdr_type,
		 f->flags & PCI_FUNC_BRIDGE ? "B" : "-",
		 f->flags & PCI_FUNC_PF ? "P" : "-",
		 f->flags & PCI_FUNC_VF ? "V" : "-",
		 f->flags & PCI_FUNC_ARI ? "A" : "-",
		 f->flags & PCI_FUNC_PCIE ? "E" : "-", pf);
}

static struct pci_walk_iter helper_it;

const struct pci_func *sim_helpers_nth(const struct pci_walk *w, uint32_t i)
{
	const struct pci_func *f = pci_walk_first(&helper_it, w);

	for (uint32_t k = 0; f && k < i; k++)
		f = pci_walk_next(&helper_it);
	return f;
}

const struct pci_func *sim_helpers_find(const struct pci_walk *w, pci_sbdf_t sbdf)
{
	const struct pci_func *f;

	for (f = pci_walk_first(&helper_it, w); f; f = pci_walk_next(&helper_it))
		if (f->sbdf == sbdf)
			return f;
	return NULL;
}

void sim_helpers_walk_func(struct pci_walk *w, pci_sbdf_t sbdf, uint16_t vendor, uint16_t device,
			   uint32_t class_rev, uint8_t hdr, uint8_t flags)
{
	assert_true(w->nphys < w->cap);
	w->funcs[w->nphys++] = (struct pci_func){ .sbdf = sbdf, .vendor = vendor, .device = device,
						  .class_rev = class_rev, .hdr_type = hdr,
						  .flags = flags, .pf = PCI_PF_NONE };
	w->n++;
}

void sim_helpers_walk_vfs(struct pci_walk *w, uint32_t pf, pci_sbdf_t first, uint16_t stride,
			  uint32_t count, uint16_t device)
{
	assert_true(count > 0 && w->nranges < w->cap && pf < w->nphys);
	w->ranges[w->nranges++] = (struct pci_vf_range){
		.first = first, .last = first + (count - 1) * stride, .pf = pf,
		.stride = stride, .device = device };
	w->n += count;
}
