/* gen.c - `pcsctool gen` and the writer shared with capture: lays out what
 * an old PCSC kernel leaves in RAM, with optional injected faults. Never
 * writes anything but the files of the output directory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

enum fault_kind { F_STALE, F_GONE, F_DROP, F_DUP, F_BADNAME, F_BADDA, F_CORRUPT };

struct fault {
	enum fault_kind kind;
	pci_sbdf_t sbdf;
	char arg[48];
};

/* One block = one pcsc_data; one node = one FDT child (dup shares a block). */
struct block {
	struct gen_dev dev;
	bool preserved;
};

struct node {
	pci_sbdf_t sbdf;
	uint32_t block;
	struct cache_gen_entry e;
	char name[48];
};

static int parse_fault(const char *spec, struct fault *f)
{
	static const struct { const char *k; enum fault_kind v; } kinds[] = {
		{ "stale", F_STALE }, { "gone", F_GONE }, { "drop", F_DROP }, { "dup", F_DUP },
		{ "badname", F_BADNAME }, { "badda", F_BADDA }, { "corrupt", F_CORRUPT },
	};
	char buf[96], *eq, *val, *colon;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	if (!eq) {			/* a bare BDF: its device ID goes stale */
		f->kind = F_STALE;
		strcpy(f->arg, "device");
		return parse_bdf(buf, &f->sbdf) ? 0 : -1;
	}
	*eq = 0;
	val = eq + 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(buf, kinds[i].k))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	f->kind = kinds[i].v;
	if (f->kind == F_CORRUPT) {
		static const char *const ok[] = { "pcsc-magic", "pcsc-compat", "pcsc-totalsize",
			"kho-compat", "kho-magic", "map-loop", "pcsc-outside" };
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (!strcmp(val, ok[i])) {
				strcpy(f->arg, val);
				return 0;
			}
		return -1;
	}
	/* BDF[:arg] - the BDF itself has colons: the argument follows the
	 * function number's '.' digit. */
	colon = strchr(val, '.');
	if (!colon)
		return -1;
	colon = strchr(colon, ':');
	if (colon) {
		*colon = 0;
		if (strlen(colon + 1) >= sizeof(f->arg))
			return -1;
		strcpy(f->arg, colon + 1);
	}
	if (!parse_bdf(val, &f->sbdf))
		return -1;
	switch (f->kind) {
	case F_STALE:
		if (!f->arg[0])
			strcpy(f->arg, "device");
		return (!strcmp(f->arg, "vendor") || !strcmp(f->arg, "device") ||
			!strcmp(f->arg, "class") || !strcmp(f->arg, "hdr")) ? 0 : -1;
	case F_BADDA:
		return (!strcmp(f->arg, "align") || !strcmp(f->arg, "notram") ||
			!strcmp(f->arg, "overlap") || !strcmp(f->arg, "meta") ||
			!strcmp(f->arg, "notpreserved") || !strcmp(f->arg, "size") ||
			!strcmp(f->arg, "none")) ? 0 : -1;
	case F_BADNAME:
		return 0;
	default:
		return f->arg[0] ? -1 : 0;
	}
}

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->dev.sbdf < y->dev.sbdf ? -1 : x->dev.sbdf > y->dev.sbdf;
}

static struct block *find_block(struct block *bl, uint32_t nb, pci_sbdf_t s)
{
	uint32_t i;

	for (i = 0; i < nb; i++)
		if (bl[i].dev.sbdf == s)
			return &bl[i];
	return NULL;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool has_corrupt(const struct fault *fs, unsigned int n, const char *what)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fs[i].kind == F_CORRUPT && !strcmp(fs[i].arg, what))
			return true;
	return false;
}

static void fmt_bdf(pci_sbdf_t s, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", PCI_SBDF_SEG(s), PCI_SBDF_BUS(s),
		 PCI_SLOT(PCI_SBDF_DEVFN(s)), PCI_FUNC(PCI_SBDF_DEVFN(s)));
}

int gen_write(const struct gen_opts *o, struct gen_dev *devs, uint32_t n)
{
	struct fault *fs;
	struct block *bl;
	struct node *nd;
	struct kho_range *rg;
	struct manifest m;
	uint32_t nb = 0, nn = 0, nr = 0, i, j;
	uint64_t at, stride, data, pfdt, alloc, map_area, map_size, kho, scr, end, first = 0;
	const struct kho_abi *abi;
	uint32_t v1_bitmap;
	uint64_t ram_end = o->ram_start + o->ram_size;
	size_t used = 0;
	uint8_t *img;
	char bdf[32];
	int rc;

	fs = calloc(o->nfaults + 1, sizeof(*fs));
	bl = calloc(n + o->nfaults + 1, sizeof(*bl));
	nd = calloc(n + 2 * o->nfaults + 1, sizeof(*nd));
	rg = calloc(n + o->nfaults + 2, sizeof(*rg));
	if (!fs || !bl || !nd || !rg) {
		die_msg("out of memory");
		return EXIT_IO;
	}
	for (i = 0; i < o->nfaults; i++)
		if (parse_fault(o->faults[i], &fs[i])) {
			die_msg("bad fault spec '%s' (see pcsctool --help)", o->faults[i]);
			return EXIT_USAGE;
		}

	/* Blocks: every device not dropped, plus a made-up one per gone=. */
	for (i = 0; i < n; i++) {
		bl[nb].dev = devs[i];
		bl[nb].preserved = true;
		nb++;
	}
	for (i = 0; i < o->nfaults; i++) {
		struct block *b = find_block(bl, nb, fs[i].sbdf);

		fmt_bdf(fs[i].sbdf, bdf, sizeof(bdf));
		if (fs[i].kind == F_CORRUPT)
			continue;
		if (fs[i].kind == F_GONE) {
			if (b) {
				die_msg("gone=%s: a function exists there", bdf);
				return EXIT_USAGE;
			}
			b = &bl[nb++];
			b->dev.sbdf = fs[i].sbdf;
			b->dev.cfg = calloc(1, o->S);
			b->dev.cfg_len = o->S;
			b->preserved = true;
			if (!b->dev.cfg)
				return EXIT_IO;
			/* An Intel NIC that has since been unplugged. */
			put16(b->dev.cfg, 0x8086);
			put16(b->dev.cfg + 2, 0x10d3);
			b->dev.cfg[0x0b] = 0x02;
			continue;
		}
		if (!b) {
			die_msg("%s: no endpoint at that BDF", bdf);
			return EXIT_USAGE;
		}
	}
	/* Drop = the old kernel saved nothing for it: the live function is NEW. */
	for (i = 0; i < o->nfaults; i++)
		if (fs[i].kind == F_DROP) {
			struct block *b = find_block(bl, nb, fs[i].sbdf);

			*b = bl[--nb];
		}
	qsort(bl, nb, sizeof(*bl), cmp_block);

	for (i = 0; i < o->nfaults; i++) {
		struct block *b = find_block(bl, nb, fs[i].sbdf);
		uint8_t *c;

		if (fs[i].kind != F_STALE || !b)
			continue;
		c = b->dev.cfg;
		if (!strcmp(fs[i].arg, "vendor"))
			put16(c, (uint16_t)((c[0] | c[1] << 8) ^ 0x5a5a));
		else if (!strcmp(fs[i].arg, "device"))
			put16(c + 2, (uint16_t)((c[2] | c[3] << 8) ^ 0x5a5a));
		else if (!strcmp(fs[i].arg, "class"))
			c[0x0b] ^= 0x0f;
		else
			c[0x0e] ^= 0x01;	/* header type 0 <-> 1 */
	}

	/* Layout, as cache_gen_build: data blocks, pcsc FDT, map, KHO root. */
	at = o->at ? o->at : o->ram_start + DEFAULT_CACHE_OFF;
	if (at & (PCSC_PAGE_SIZE - 1)) {
		die_msg("cache address 0x%" PRIx64 " not page aligned", at);
		return EXIT_USAGE;
	}
	for (i = 0; i < nb; i++) {
		nd[nn].sbdf = bl[i].dev.sbdf;
		nd[nn].block = i;
		nn++;
		for (j = 0; j < o->nfaults; j++)
			if (fs[j].kind == F_DUP && fs[j].sbdf == bl[i].dev.sbdf) {
				nd[nn] = nd[nn - 1];
				nn++;
			}
	}
	stride = PCSC_DATA_ALLOC(o->S);
	data = at;
	pfdt = data + nb * stride;
	alloc = cache_gen_pcsc_fdt_size(nn);
	map_area = pfdt + alloc;
	if (kho_abi_by_name(o->kho ? o->kho : "v1-512", &abi, &v1_bitmap)) {
		die_msg("--kho must be v1-512, v1-4096, v2, v3 or v4");
		return EXIT_USAGE;
	}
	map_size = cache_gen_kho_map_size(abi, nb) + o->nfaults * (uint64_t)KHO_PAGE_SIZE;
	kho = map_area + map_size;
	/* The scratch array: the page after the KHO root, as kexec loads it. */
	scr = kho + KHO_PAGE_SIZE;
	end = scr + KHO_PAGE_SIZE;
	if (at < o->ram_start || end > ram_end) {
		die_msg("cache 0x%" PRIx64 "-0x%" PRIx64 " does not fit RAM 0x%" PRIx64 "-0x%" PRIx64,
			at, end, o->ram_start, ram_end);
		return EXIT_USAGE;
	}
	img = calloc(1, end - at);
	if (!img)
		return EXIT_IO;
	for (i = 0; i < nb; i++) {
		rc = cache_gen_pcsc_data(img + (data - at) + i * stride, stride, o->S,
					 bl[i].dev.cfg, bl[i].dev.cfg_len);
		if (rc) {
			die_msg("pcsc_data: %s", pcsc_strerror(rc));
			return EXIT_DATA;
		}
	}
	for (i = 0; i < nn; i++) {
		nd[i].e.sbdf = nd[i].sbdf;
		nd[i].e.da = data + nd[i].block * stride;
		nd[i].e.name = NULL;
		nd[i].e.da_len = 0;
	}
	for (i = 0; i < o->nfaults; i++) {
		struct node *x = NULL;

		for (j = 0; j < nn; j++)
			if (nd[j].sbdf == fs[i].sbdf) {
				x = &nd[j];
				break;
			}
		if (!x)
			continue;
		if (fs[i].kind == F_BADNAME) {
			if (fs[i].arg[0]) {
				strcpy(x->name, fs[i].arg);
			} else {
				/* upper-case "DEV": well-formed otherwise */
				pcsc_name_format(x->sbdf, x->name);
				memcpy(x->name, "DEV", 3);
			}
			x->e.name = x->name;
		} else if (fs[i].kind == F_BADDA) {
			const char *k = fs[i].arg;

			/* Each fault makes exactly one entry BAD unless said
			 * otherwise: a misaligned da points into the KHO root's
			 * page, which no entry's block can overlap. */
			if (!strcmp(k, "align"))
				x->e.da = kho + 0x100;
			else if (!strcmp(k, "notram"))
				x->e.da = ram_end + x->block * stride;
			else if (!strcmp(k, "overlap"))
				x->e.da = data + (x->block ? x->block - 1 : x->block + 1) * stride;
			else if (!strcmp(k, "meta"))
				x->e.da = pfdt;
			else if (!strcmp(k, "notpreserved"))
				bl[x->block].preserved = false;
			else if (!strcmp(k, "size"))
				x->e.da_len = 4;
			else
				x->e.da_len = -1;
		}
	}
	/* cache_gen_pcsc_fdt takes a packed entry array: copy it out. */
	{
		struct cache_gen_entry *ea = calloc(nn + 1, sizeof(*ea));

		if (!ea)
			return EXIT_IO;
		for (i = 0; i < nn; i++)
			ea[i] = nd[i].e;
		rc = cache_gen_pcsc_fdt(img + (pfdt - at), alloc,
					has_corrupt(fs, o->nfaults, "pcsc-compat") ? "pcsc-v0" :
					PCSC_COMPATIBLE, ea, nn);
		free(ea);
	}
	if (rc) {
		die_msg("pcsc FDT: %s", pcsc_strerror(rc));
		return EXIT_DATA;
	}
	/* Preserved: runs of preserved blocks, then the pcsc FDT's pages. At
	 * most nb + 2 ranges: rg has n + nfaults + 2 >= nb + 2 slots. */
	for (i = 0; i < nb; i++) {
		uint64_t s = data + i * stride;

		if (!bl[i].preserved)
			continue;
		if (nr && rg[nr - 1].end == s)
			rg[nr - 1].end = s + stride;
		else
			rg[nr++] = (struct kho_range){ s, s + stride };
	}
	if (nr && rg[nr - 1].end == pfdt)
		rg[nr - 1].end = pfdt + alloc;
	else
		rg[nr++] = (struct kho_range){ pfdt, pfdt + alloc };
	/* And the KHO root FDT's page, an order-0 folio, as every KHO version
	 * preserves it (docs/abi.md fact 5; cache_gen_build does the same). */
	rg[nr++] = (struct kho_range){ kho, kho + KHO_PAGE_SIZE };
	rc = cache_gen_kho_map(img + (map_area - at), map_size, map_area, rg, nr, abi, v1_bitmap,
			       &first, &used);
	if (rc) {
		die_msg("KHO map: %s", pcsc_strerror(rc));
		return EXIT_DATA;
	}
	rc = cache_gen_kho_fdt(img + (kho - at), KHO_PAGE_SIZE, abi,
			       has_corrupt(fs, o->nfaults, "kho-compat") ? "kho-v0" : NULL,
			       first,
			       has_corrupt(fs, o->nfaults, "pcsc-outside") ? ram_end + 0x1000 : pfdt,
			       fdt_totalsize(img + (pfdt - at)));
	if (rc) {
		die_msg("KHO FDT: %s", pcsc_strerror(rc));
		return EXIT_DATA;
	}
	if (has_corrupt(fs, o->nfaults, "pcsc-magic"))
		memset(img + (pfdt - at), 0xde, 4);
	if (has_corrupt(fs, o->nfaults, "pcsc-totalsize"))
		fdt_set_totalsize(img + (pfdt - at), (uint32_t)(alloc + (1u << 20)));
	if (has_corrupt(fs, o->nfaults, "kho-magic"))
		memset(img + (kho - at), 0xde, 4);
	if (has_corrupt(fs, o->nfaults, "map-loop") && first)
		memcpy(img + (first - at), &first, 8);	/* next = itself (native u64) */

	/* struct kho_scratch {u64 addr; u64 size;}[]: the regions, or by
	 * default one 8 MiB region 16 MiB below the end of RAM. */
	for (i = 0; i < (o->nscratch ? o->nscratch : 1u); i++) {
		uint64_t sa = o->nscratch ? o->scratch[i].addr : ram_end - (16u << 20);
		uint64_t ss = o->nscratch ? o->scratch[i].size : 8u << 20;

		memcpy(img + (scr - at) + 16 * i, &sa, 8);
		memcpy(img + (scr - at) + 16 * i + 8, &ss, 8);
	}
	if (mkdir(o->out, 0777) && errno != EEXIST) {
		die_msg("%s: %s", o->out, strerror(errno));
		return EXIT_IO;
	}
	memset(&m, 0, sizeof(m));
	m.ram_start = o->ram_start;
	m.ram_size = o->ram_size;
	m.S = o->S;
	m.entries = nn;
	m.kho_fdt = kho;
	m.kho_fdt_size = KHO_PAGE_SIZE;
	m.kho_scratch = scr;
	m.kho_scratch_size = 16u * (o->nscratch ? o->nscratch : 1u);
	snprintf(m.kho, sizeof(m.kho), "%s", o->kho ? o->kho : "v1-512");
	m.blob[0] = (struct manifest_blob){ "pcsc_data.bin", data, nb * stride };
	m.blob[1] = (struct manifest_blob){ "pcsc.dtb", pfdt, alloc };
	m.blob[2] = (struct manifest_blob){ "kho_map.bin", map_area, map_size };
	m.blob[3] = (struct manifest_blob){ "kho.dtb", kho, KHO_PAGE_SIZE };
	m.blob[4] = (struct manifest_blob){ "kho_scratch.bin", scr, KHO_PAGE_SIZE };
	m.nblob = 5;
	for (i = 0; i < m.nblob; i++) {
		rc = write_file(o->out, m.blob[i].name, img + (m.blob[i].addr - at), m.blob[i].size);
		if (rc)
			return rc;
	}
	rc = manifest_write(o->out, &m);
	if (rc)
		return rc;
	printf("gen: %u entries (%u blocks), %u faults; kho-fdt 0x%" PRIx64
	       "; cache 0x%" PRIx64 "-0x%" PRIx64 "; map %zu bytes used\n",
	       nn, nb, o->nfaults, kho, at, end, used);
	free(img);
	free(fs);
	free(bl);
	free(nd);
	free(rg);
	return 0;
}

/* Shared option parsing of gen and capture. Returns 0, or EXIT_USAGE. */
static int layout_opt(struct gen_opts *o, const char *opt, const char *val)
{
	uint64_t v;

	if (!val || !pcsc_parse_u64_str(val, &v)) {
		die_msg("%s needs a number", opt);
		return EXIT_USAGE;
	}
	if (!strcmp(opt, "--base"))
		o->ram_start = v;
	else if (!strcmp(opt, "--ram-size"))
		o->ram_size = v;
	else if (!strcmp(opt, "--at"))
		o->at = v;
	else if (v == 256 || v == 4096)
		o->S = (uint16_t)v;
	else {
		die_msg("--S must be 256 or 4096");
		return EXIT_USAGE;
	}
	return 0;
}

int gen_parse_args(int argc, char **argv, struct gen_opts *o, const char **pos,
		   const char **sysfs);

int gen_parse_args(int argc, char **argv, struct gen_opts *o, const char **pos,
		   const char **sysfs)
{
	int i, rc;

	memset(o, 0, sizeof(*o));
	o->ram_start = DEFAULT_RAM_BASE;
	o->ram_size = DEFAULT_RAM_SIZE;
	o->S = 4096;
	o->faults = calloc((size_t)argc + 1, sizeof(*o->faults));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--out") && v) {
			o->out = v;
			i++;
		} else if (!strcmp(a, "--stale") && v && o->faults) {
			o->faults[o->nfaults++] = v;
			i++;
		} else if (!strcmp(a, "--kho") && v) {
			o->kho = v;
			i++;
		} else if (!strcmp(a, "--scratch") && v) {
			if (o->nscratch >= sizeof(o->scratch) / sizeof(o->scratch[0]) ||
			    !pcsc_parse_range(v, &o->scratch[o->nscratch].addr,
					 &o->scratch[o->nscratch].size)) {
				die_msg("--scratch needs START:SIZE (at most 8)");
				return EXIT_USAGE;
			}
			o->nscratch++;
			i++;
		} else if (!strcmp(a, "--sysfs") && v && sysfs) {
			*sysfs = v;
			i++;
		} else if (!strcmp(a, "--base") || !strcmp(a, "--ram-size") || !strcmp(a, "--at") ||
			   !strcmp(a, "--S")) {
			rc = layout_opt(o, a, v);
			if (rc)
				return rc;
			i++;
		} else if (a[0] != '-' && pos && !*pos) {
			*pos = a;
		} else {
			die_msg("%s: unexpected argument '%s'", argv[0], a);
			return EXIT_USAGE;
		}
	}
	if (!o->out) {
		die_msg("%s: --out DIR is required", argv[0]);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	struct gen_opts o;
	struct gen_dev *devs;
	struct topo t;
	struct pci_walk_iter it;
	const struct pci_func *f;
	const char *topo = NULL;
	uint32_t i, n = 0;
	int rc;

	rc = gen_parse_args(argc, argv, &o, &topo, NULL);
	if (rc)
		return rc;
	if (!topo) {
		die_msg("gen: TOPOLOGY is required");
		return EXIT_USAGE;
	}
	rc = topo_load(topo, &t);
	if (rc)
		return rc;
	devs = calloc(t.walk.n + 1, sizeof(*devs));
	if (!devs)
		return EXIT_IO;
	/* What the old kernel saved: every type 0 function, VFs included,
	 * its config space as read (a VF's IDs as Linux knows them: the
	 * PF's vendor and the VF Device ID, since the registers read ones). */
	for (f = pci_walk_first(&it, &t.walk); f; f = pci_walk_next(&it)) {
		struct gen_dev *d = &devs[n];
		uint32_t off, v;

		if (f->hdr_type != PCI_HEADER_TYPE_NORMAL)
			continue;
		d->sbdf = f->sbdf;
		d->cfg = malloc(o.S);
		d->cfg_len = o.S;
		if (!d->cfg)
			return EXIT_IO;
		for (off = 0; off < o.S; off += 4) {
			pci_cfg_read32(&t.cfg, f->sbdf, (uint16_t)off, &v);
			/* config space is little-endian on the wire */
			d->cfg[off] = (uint8_t)v;
			d->cfg[off + 1] = (uint8_t)(v >> 8);
			d->cfg[off + 2] = (uint8_t)(v >> 16);
			d->cfg[off + 3] = (uint8_t)(v >> 24);
		}
		put16(d->cfg, f->vendor);
		put16(d->cfg + 2, f->device);
		n++;
	}
	rc = gen_write(&o, devs, n);
	for (i = 0; i < n; i++)
		free(devs[i].cfg);
	free(devs);
	free(o.faults);
	topo_free(&t);
	return rc;
}
