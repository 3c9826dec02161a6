/* show.c - `pcsctool show`: the cache like `lspci -n`, per-entry cached-byte
 * counts, and BAD with the reason for entries failing the `da` checks.
 * Reads only: the cache is never patched here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/kho.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/verify.h>
#include "pcsctool.h"

#define SHOW_MAX_RANGES	(1u << 20)

static unsigned int popcount_bytes(const uint8_t *p, size_t n)
{
	unsigned int c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += (unsigned int)__builtin_popcount(p[i]);
	return c;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

int cmd_show(int argc, char **argv)
{
	struct source s = { 0 };
	struct kho_info ki;
	struct kho_map km;
	struct kho_range *rr, *meta;
	struct pcsc_index idx;
	struct pcsc_entry *ents;
	struct phys_ranges fdts = { .n = 0 };
	struct verify_env env;
	uint64_t *scratch;
	const uint8_t *hdr;
	void *pfdt;
	uint32_t i, size, bad = 0;
	bool json = false;
	int rc, cnt;

	for (int i2 = 1; i2 < argc; i2++) {
		rc = source_arg(&s, argc, argv, &i2);
		if (rc < 0)
			return -rc;
		if (rc)
			continue;
		if (!strcmp(argv[i2], "--json")) {
			json = true;
		} else {
			die_msg("show: unexpected argument '%s'", argv[i2]);
			return EXIT_USAGE;
		}
	}
	rc = source_open(&s);
	if (rc)
		return rc;
	rc = kho_open(&s.pm, s.kho_fdt, 0, &ki);
	if (rc) {
		die_msg("show: KHO root FDT at 0x%" PRIx64 ": %s (%s)", s.kho_fdt, ki.msg,
			pcsc_strerror(rc));
		return EXIT_REJECTED;
	}
	hdr = physmem_map(&s.pm, ki.pcsc_fdt_phys, sizeof(struct fdt_header));
	if (!hdr) {
		die_msg("show: pcsc FDT at 0x%" PRIx64 " is outside RAM", ki.pcsc_fdt_phys);
		return EXIT_REJECTED;
	}
	size = fdt_totalsize(hdr);
	pfdt = physmem_map(&s.pm, ki.pcsc_fdt_phys, size);
	if (!pfdt || size > KHO_FDT_MAX_SIZE * 16u) {
		die_msg("show: pcsc FDT at 0x%" PRIx64 ": totalsize %u past RAM", ki.pcsc_fdt_phys, size);
		return EXIT_REJECTED;
	}
	{
		char msg[PCSC_MSG_MAX];

		rc = pcsc_fdt_check(pfdt, size, msg, sizeof(msg));
		if (rc) {
			die_msg("show: pcsc FDT: %s", msg);
			return EXIT_REJECTED;
		}
	}
	cnt = pcsc_fdt_count(pfdt);
	if (cnt < 0)
		return EXIT_REJECTED;
	ents = calloc((size_t)cnt + 1, sizeof(*ents));
	scratch = calloc((size_t)cnt + 1, sizeof(*scratch));
	rr = calloc(SHOW_MAX_RANGES, sizeof(*rr));
	meta = calloc(SHOW_MAX_RANGES, sizeof(*meta));
	if (!ents || !scratch || !rr || !meta)
		return EXIT_IO;
	rc = pcsc_index_build(pfdt, ents, (uint32_t)cnt + 1, &idx);
	if (rc) {
		die_msg("show: index: %s", idx.msg);
		return EXIT_REJECTED;
	}
	rc = kho_map_read(&s.pm, ki.abi, ki.map_phys, s.kho_bitmap, rr, SHOW_MAX_RANGES, meta,
			  SHOW_MAX_RANGES, &km);
	if (rc) {
		die_msg("show: preserved-memory map: %s", km.msg);
		return EXIT_REJECTED;
	}
	/* The FDTs themselves are metadata no entry may point into. */
	phys_ranges_add(&fdts, ki.fdt_phys, ki.fdt_size);
	phys_ranges_add(&fdts, ki.pcsc_fdt_phys, PCSC_PAGE_ALIGN(size));
	memset(&env, 0, sizeof(env));
	env.pm = &s.pm;
	env.meta = &fdts;
	env.kmap = &km;
	env.S = s.S;
	env.mode = PCSC_MODE_QUICK;
	rc = verify_check_entries(&env, &idx, scratch, (uint32_t)cnt + 1);
	if (rc < 0) {
		die_msg("show: entry checks: %s", pcsc_strerror(rc));
		return EXIT_DATA;
	}
	if (json)
		printf("{\"kho_fdt\":\"0x%" PRIx64 "\",\"pcsc_fdt\":\"0x%" PRIx64 "\",\"S\":%u,\"entries\":[",
		       ki.fdt_phys, ki.pcsc_fdt_phys, s.S);
	for (i = 0; i < idx.n; i++) {
		const struct pcsc_entry *e = &idx.e[i];
		const char *name = fdt_get_name(pfdt, e->node, NULL);
		const uint8_t *d = NULL;
		char bdf[32], ids[16] = "????:????";
		unsigned int cached = 0, cls = 0;

		/* Even a BAD entry's bytes are shown when they can be read. */
		if (e->da)
			d = physmem_map(&s.pm, e->da, PCSC_DATA_SIZE(s.S));
		if (d) {
			snprintf(ids, sizeof(ids), "%02x%02x:%02x%02x", d[1], d[0], d[3], d[2]);
			cls = (unsigned int)d[0x0b] << 8 | d[0x0a];
			cached = popcount_bytes(d + PCSC_DATA_CACHED(s.S), s.S / 8);
		}
		if (e->reason == PCSC_R_NAME)
			snprintf(bdf, sizeof(bdf), "%s", name ? name : "?");
		else
			snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", PCI_SBDF_SEG(e->sbdf),
				 PCI_SBDF_BUS(e->sbdf), PCI_SLOT(PCI_SBDF_DEVFN(e->sbdf)),
				 PCI_FUNC(PCI_SBDF_DEVFN(e->sbdf)));
		bad += e->verdict == PCSC_BAD;
		if (json) {
			printf("%s{\"bdf\":", i ? "," : "");
			json_str(bdf);
			printf(",\"node\":");
			json_str(name ? name : "");
			printf(",\"da\":\"0x%" PRIx64 "\"", e->da);
			if (d)
				printf(",\"id\":\"%s\",\"class\":\"%04x\",\"cached\":%u", ids, cls, cached);
			if (e->verdict == PCSC_BAD) {
				printf(",\"bad\":");
				json_str(pcsc_reason_str(e->reason));
			}
			putchar('}');
		} else if (e->verdict == PCSC_BAD) {
			printf("%s %s BAD %s\n", bdf, ids, pcsc_reason_str(e->reason));
		} else {
			printf("%s %s class %04x cached %u/%u\n", bdf, ids, cls, cached, s.S);
		}
	}
	if (json)
		printf("],\"total\":%u,\"bad\":%u}\n", idx.n, bad);
	else
		printf("show: %u entries, %u bad, %u preserved ranges\n", idx.n, bad, km.n);
	free(ents);
	free(scratch);
	free(rr);
	free(meta);
	free(s.r.mem);
	return 0;
}
