/* util.c - pcsctool's plumbing: numbers, files, topology loading, the
 * manifest, host images of guest memory. Never writes outside the given DIR. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pcsc/errno.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

bool parse_bdf(const char *s, pci_sbdf_t *sbdf)
{
	unsigned int seg = 0, bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &tail) == 4) {
		/* with segment */
	} else if (seg = 0, sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3) {
		/* without */
	} else {
		return false;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	*sbdf = PCI_SBDF(seg, bus, PCI_DEVFN(dev, fn));
	return true;
}

uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 65536 + 1);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536 + 1;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}

int topo_load(const char *path, struct topo *t)
{
	size_t len, i, lines = 1;
	unsigned int line = 0, wi;
	uint8_t *text;
	int rc;

	memset(t, 0, sizeof(*t));
	text = read_file(path, &len);
	if (!text) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	t->arena = calloc(lines, sizeof(*t->arena));
	t->funcs = calloc(1, PCI_WALK_ARENA(MAX_FUNCS));
	if (!t->arena || !t->funcs) {
		free(text);
		die_msg("out of memory");
		return EXIT_IO;
	}
	pci_sim_init(&t->sim, t->arena, (uint32_t)lines);
	rc = pci_sim_parse(&t->sim, (const char *)text, len, &line);
	free(text);
	if (rc) {
		die_msg("%s:%u: %s", path, line, pcsc_strerror(rc));
		return EXIT_DATA;
	}
	pci_sim_cfg_init(&t->cfg, &t->sim);
	pci_walk_init(&t->walk, t->funcs, PCI_WALK_ARENA(MAX_FUNCS));
	for (wi = 0; wi < t->sim.nwin; wi++) {
		rc = pci_walk_window(&t->walk, &t->cfg, &t->sim.win[wi]);
		if (rc) {
			die_msg("%s: walk: %s", path, pcsc_strerror(rc));
			return EXIT_DATA;
		}
	}
	pci_walk_finish(&t->walk);
	return 0;
}

void topo_free(struct topo *t)
{
	free(t->arena);
	free(t->funcs);
}

int manifest_write(const char *dir, const struct manifest *m)
{
	char path[4096];
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME);
	f = fopen(path, "w");
	if (!f) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	fprintf(f, "# pcsctool manifest v1 (docs/pcsctool.md)\n"
		"# load each blob with: -device loader,file=DIR/FILE,addr=ADDR,force-raw=on\n");
	fprintf(f, "ram 0x%" PRIx64 " 0x%" PRIx64 "\n", m->ram_start, m->ram_size);
	fprintf(f, "S %u\n", m->S);
	fprintf(f, "entries %u\n", m->entries);
	fprintf(f, "kho-fdt 0x%" PRIx64 " 0x%" PRIx64 "\n", m->kho_fdt, m->kho_fdt_size);
	if (m->kho_scratch_size)
		fprintf(f, "kho-scratch 0x%" PRIx64 " 0x%" PRIx64 "\n", m->kho_scratch,
			m->kho_scratch_size);
	if (m->kho[0])
		fprintf(f, "kho %s\n", m->kho);
	for (i = 0; i < m->nblob; i++)
		fprintf(f, "blob %s 0x%" PRIx64 " 0x%" PRIx64 "\n", m->blob[i].name,
			m->blob[i].addr, m->blob[i].size);
	if (fclose(f)) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	/* The same, ready to paste into a QEMU command line. */
	snprintf(path, sizeof(path), "%s/qemu-loader.args", dir);
	f = fopen(path, "w");
	if (!f) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	for (i = 0; i < m->nblob; i++)
		fprintf(f, "-device loader,file=%s/%s,addr=0x%" PRIx64 ",force-raw=on\n", dir,
			m->blob[i].name, m->blob[i].addr);
	return fclose(f) ? EXIT_IO : 0;
}

int manifest_read(const char *dir, struct manifest *m)
{
	char path[4096], line[512], key[32], name[64];
	unsigned long long a, b;
	unsigned int ln = 0, u;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME);
	f = fopen(path, "r");
	if (!f) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	while (fgets(line, sizeof(line), f)) {
		ln++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s", key) != 1)
			goto bad;
		if (!strcmp(key, "ram") && sscanf(line, "ram %lli %lli", &a, &b) == 2) {
			m->ram_start = a;
			m->ram_size = b;
		} else if (!strcmp(key, "S") && sscanf(line, "S %u", &u) == 1 &&
			   (u == 256 || u == 4096)) {
			m->S = (uint16_t)u;
		} else if (!strcmp(key, "entries") && sscanf(line, "entries %u", &u) == 1) {
			m->entries = u;
		} else if (!strcmp(key, "kho-fdt") &&
			   sscanf(line, "kho-fdt %lli %lli", &a, &b) == 2) {
			m->kho_fdt = a;
			m->kho_fdt_size = b;
		} else if (!strcmp(key, "kho-scratch") &&
			   sscanf(line, "kho-scratch %lli %lli", &a, &b) == 2) {
			m->kho_scratch = a;
			m->kho_scratch_size = b;
		} else if (!strcmp(key, "kho") && sscanf(line, "kho %15s", m->kho) == 1) {
			/* layout name, checked by its users */
		} else if (!strcmp(key, "blob") && m->nblob < MANIFEST_MAX_BLOBS &&
			   sscanf(line, "blob %63s %lli %lli", name, &a, &b) == 3 &&
			   !strchr(name, '/')) {
			strcpy(m->blob[m->nblob].name, name);
			m->blob[m->nblob].addr = a;
			m->blob[m->nblob].size = b;
			m->nblob++;
		} else {
			goto bad;
		}
	}
	fclose(f);
	if (!m->ram_size || !m->S || !m->kho_fdt || !m->nblob) {
		die_msg("%s: incomplete manifest", path);
		return EXIT_DATA;
	}
	return 0;
bad:
	fclose(f);
	die_msg("%s:%u: malformed line", path, ln);
	return EXIT_DATA;
}

int region_from_dir(const char *dir, const struct manifest *m, struct region *r)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned int i;

	for (i = 0; i < m->nblob; i++) {
		const struct manifest_blob *b = &m->blob[i];

		if (b->addr + b->size < b->addr || b->size > (1ull << 34)) {
			die_msg("%s: blob %s: bad range", dir, b->name);
			return EXIT_DATA;
		}
		if (b->addr < lo)
			lo = b->addr;
		if (b->addr + b->size > hi)
			hi = b->addr + b->size;
	}
	if (hi - lo > (1ull << 34)) {
		die_msg("%s: blobs span more than 16 GiB", dir);
		return EXIT_DATA;
	}
	r->base = lo;
	r->size = hi - lo;
	r->mem = calloc(1, r->size ? r->size : 1);
	if (!r->mem) {
		die_msg("out of memory");
		return EXIT_IO;
	}
	for (i = 0; i < m->nblob; i++) {
		const struct manifest_blob *b = &m->blob[i];
		char path[4096];
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, b->name);
		buf = read_file(path, &len);
		if (!buf) {
			die_msg("%s: %s", path, strerror(errno));
			return EXIT_IO;
		}
		if (len > b->size) {
			die_msg("%s: %zu bytes, manifest says 0x%" PRIx64, path, len, b->size);
			free(buf);
			return EXIT_DATA;
		}
		memcpy(r->mem + (b->addr - lo), buf, len);
		free(buf);
	}
	return 0;
}

int region_from_image(const char *path, uint64_t base, struct region *r)
{
	size_t len;

	r->mem = read_file(path, &len);
	if (!r->mem) {
		die_msg("%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	if (base + len < base) {
		die_msg("%s: image wraps past 2^64 from base 0x%" PRIx64, path, base);
		return EXIT_DATA;
	}
	r->base = base;
	r->size = len;
	return 0;
}

void *region_at(const struct region *r, uint64_t phys, uint64_t len)
{
	if (phys < r->base || len > r->size || phys - r->base > r->size - len)
		return NULL;
	return r->mem + (phys - r->base);
}

static void *region_map(void *ctx, uint64_t phys, uint64_t len)
{
	return region_at(ctx, phys, len);
}

void region_physmem(struct region *r, struct physmem *pm, uint64_t ram_start, uint64_t ram_size)
{
	memset(pm, 0, sizeof(*pm));
	phys_ranges_add(&pm->ram, ram_start, ram_size);
	pm->map = region_map;
	pm->ctx = r;
}
