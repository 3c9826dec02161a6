/* show.c - `pcsctool show`: the cache like `lspci -n`, per-entry cached-byte
 * counts, BAD with the reason for entries failing the `da` checks, and a
 * stub's handover (properties, removed entries, the digest recomputed).
 * Reads only: the cache is never patched here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
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

static const char *const count_names[5] = { "valid", "stale", "gone", "bad", "new" };

/* The handover lines (docs/pcsctool.md "show"): after the entries, before
 * the totals. */
static void print_handed(const struct handed_over *h)
{
	struct removed_rec r;
	char line[256];
	uint32_t i, n = handed_nremoved(h);

	if (!h->present) {
		printf("handover none (no stub property on the pcsc root: not handed over)\n");
		return;
	}
	printf("handover version=%s mode=%s", h->version, h->mode);
	for (i = 0; i < 5; i++) {
		if (h->has_counts)
			printf(" %s=%u", count_names[i], h->counts[i]);
		else
			printf(" %s=?", count_names[i]);
	}
	if (h->removed_len >= 0 && h->removed_len % HANDOVER_REMOVED_SIZE == 0)
		printf(" removed=%u\n", n);
	else
		printf(" removed=?\n");
	for (i = 0; i < n; i++) {
		handed_record(h, i, &r);
		printf("removed %s %s%s%s\n", r.bdf, r.vname, r.rname[0] ? " " : "", r.rname);
	}
	handed_digest_line(h, line, sizeof(line));
	printf("%s\n", line);
}

static void print_handed_json(const struct handed_over *h)
{
	struct removed_rec r;
	char hex[65];
	uint32_t i, n = handed_nremoved(h);

	if (!h->present) {
		printf("null");
		return;
	}
	printf("{\"version\":");
	json_str(h->version);
	printf(",\"mode\":");
	json_str(h->mode);
	printf(",\"counts\":");
	if (h->has_counts) {
		for (i = 0; i < 5; i++)
			printf("%s\"%s\":%u", i ? "," : "{", count_names[i], h->counts[i]);
		putchar('}');
	} else {
		printf("null");
	}
	if (h->sha_len == 32) {
		hex_string(h->sha, 32, hex);
		printf(",\"sha256\":\"%s\"", hex);
	} else {
		printf(",\"sha256\":null");
	}
	if (!h->digest_rc) {
		hex_string(h->computed, 32, hex);
		printf(",\"computed\":\"%s\"", hex);
	} else {
		printf(",\"computed\":null");
	}
	printf(",\"digest\":\"%s\",\"why\":", h->ok ? "ok" : "mismatch");
	json_str(h->why);
	printf(",\"wellformed\":%s,\"removed\":", h->wellformed ? "true" : "false");
	if (h->removed_len < 0 || h->removed_len % HANDOVER_REMOVED_SIZE) {
		printf("null}");
		return;
	}
	putchar('[');
	for (i = 0; i < n; i++) {
		handed_record(h, i, &r);
		printf("%s{\"bdf\":\"%s\",\"verdict\":", i ? "," : "", r.bdf);
		json_str(r.vname);
		printf(",\"reason\":");
		json_str(r.rname);
		printf(",\"verdict_code\":%u,\"reason_code\":%u}", r.verdict, r.reason);
	}
	printf("]}");
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
	struct handed_over h;
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
	rc = source_pcsc_fdt(&s, "show", &ki, &pfdt, &size);
	if (rc)
		return rc;
	rc = handed_read(pfdt, &s.pm, s.S, &h);
	if (rc)
		return rc;
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
	/* The size the stub would read (kho_v1_bitmap: a LUO root is 4096). */
	rc = kho_map_read(&s.pm, ki.abi, ki.map_phys, kho_v1_bitmap(&ki, s.kho_bitmap), rr,
			  SHOW_MAX_RANGES, meta, SHOW_MAX_RANGES, &km);
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
	if (json) {
		printf("],\"handover\":");
		print_handed_json(&h);
		printf(",\"total\":%u,\"bad\":%u}\n", idx.n, bad);
	} else {
		print_handed(&h);
		printf("show: %u entries, %u bad, %u preserved ranges\n", idx.n, bad, km.n);
	}
	free(ents);
	free(scratch);
	free(rr);
	free(meta);
	free(s.r.mem);
	return h.present && !(h.ok && h.wellformed) ? EXIT_MISMATCH : 0;
}
