/* handed.c - a handed-over cache read back: the stub's properties on the pcsc root and
 * the digest recomputed from the blob alone, as another implementation would. Reads only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/handover.h>
#include <pcsc/pcsc_fdt.h>
#include "pcsctool.h"

void hex_string(const uint8_t *p, size_t n, char *buf)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		buf[2 * i] = hx[p[i] >> 4];
		buf[2 * i + 1] = hx[p[i] & 15];
	}
	buf[2 * n] = '\0';
}

/* A string property as one printable word: it goes into key=value lines. */
static bool prop_word(const void *fdt, const char *name, char *out, size_t len, bool *present)
{
	int plen;
	const char *v = fdt_getprop(fdt, 0, name, &plen);
	char *c;

	snprintf(out, len, "?");
	if (!v)
		return true;
	*present = true;
	if (plen < 1 || v[plen - 1] != '\0')
		return false;
	pcsc_printable(out, len, v, plen - 1);
	for (c = out; *c; c++)
		if (*c == ' ' || *c == '=')
			*c = '?';
	if (!*out)
		snprintf(out, len, "?");
	return true;
}

/* Recompute the digest over every node left, each taken as kept. */
static int recompute(const void *fdt, const struct physmem *pm, uint16_t S, struct handed_over *h)
{
	struct pcsc_index idx;
	struct pcsc_entry *ents;
	uint32_t i;
	int cnt, rc;

	cnt = pcsc_fdt_count(fdt);
	if (cnt < 0) {
		h->digest_rc = cnt;
		snprintf(h->why, sizeof(h->why), "pcsc FDT: %s", pcsc_strerror(cnt));
		return 0;
	}
	ents = calloc((size_t)cnt + 1, sizeof(*ents));
	if (!ents)
		return EXIT_IO;
	rc = pcsc_index_build(fdt, ents, (uint32_t)cnt + 1, &idx);
	if (rc) {
		h->digest_rc = rc;
		snprintf(h->why, sizeof(h->why), "index: %s", idx.msg);
		free(ents);
		return 0;
	}
	/* A node the index refuses (name, duplicate, da) is one no stub
	 * leaves: hashed all the same, it cannot match; say why. */
	for (i = 0; i < idx.n; i++) {
		if (ents[i].verdict == PCSC_BAD && !h->why[0])
			snprintf(h->why, sizeof(h->why), "%u node%s a stub never leaves: %s",
				 idx.bad, idx.bad == 1 ? "" : "s", pcsc_reason_str(ents[i].reason));
		ents[i].verdict = PCSC_VALID;
	}
	rc = handover_digest(&idx, pm, S, h->computed);
	if (rc) {
		h->digest_rc = rc;
		snprintf(h->why, sizeof(h->why), "pcsc_data of a node: %s", pcsc_strerror(rc));
	}
	free(ents);
	return 0;
}

int handed_read(const void *fdt, const struct physmem *pm, uint16_t S, struct handed_over *h)
{
	const void *p;
	int len;

	memset(h, 0, sizeof(*h));
	h->wellformed = true;
	h->wellformed &= prop_word(fdt, HANDOVER_PROP_VERSION, h->version, sizeof(h->version),
				   &h->present);
	h->wellformed &= prop_word(fdt, HANDOVER_PROP_MODE, h->mode, sizeof(h->mode), &h->present);
	p = fdt_getprop(fdt, 0, HANDOVER_PROP_COUNTS, &len);
	if (p) {
		h->present = true;
		h->has_counts = len == (int)sizeof(h->counts);
		if (h->has_counts)
			memcpy(h->counts, p, sizeof(h->counts));	/* native u32 */
		h->wellformed &= h->has_counts;
	}
	h->sha_len = -1;
	p = fdt_getprop(fdt, 0, HANDOVER_PROP_SHA256, &len);
	if (p) {
		h->present = true;
		h->sha_len = len;
		if (len == 32)
			memcpy(h->sha, p, 32);
		h->wellformed &= len == 32;
	}
	h->removed_len = -1;
	p = fdt_getprop(fdt, 0, HANDOVER_PROP_REMOVED, &len);
	if (p) {
		h->present = true;
		h->removed_len = len;
		h->removed = p;
		h->wellformed &= len % HANDOVER_REMOVED_SIZE == 0;
	}
	if (!h->present)
		return 0;
	if (recompute(fdt, pm, S, h))
		return EXIT_IO;
	h->ok = h->sha_len == 32 && !h->digest_rc && !memcmp(h->sha, h->computed, 32);
	if (!h->ok && !h->why[0] && h->sha_len != 32)
		snprintf(h->why, sizeof(h->why), h->sha_len < 0 ? "no sha256 property" :
			 "sha256 property of %d bytes, not 32", h->sha_len);
	return 0;
}

void handed_digest_line(const struct handed_over *h, char *buf, size_t len)
{
	char stored[65] = "none", computed[65] = "none";

	if (h->sha_len == 32)
		hex_string(h->sha, 32, stored);
	if (!h->digest_rc)
		hex_string(h->computed, 32, computed);
	if (h->ok)
		snprintf(buf, len, "digest ok %s", stored);
	else
		snprintf(buf, len, "digest MISMATCH stored %s computed %s%s%s%s", stored, computed,
			 h->why[0] ? " (" : "", h->why, h->why[0] ? ")" : "");
}

uint32_t handed_nremoved(const struct handed_over *h)
{
	if (h->removed_len < 0 || h->removed_len % HANDOVER_REMOVED_SIZE)
		return 0;
	return (uint32_t)h->removed_len / HANDOVER_REMOVED_SIZE;
}

void handed_record(const struct handed_over *h, uint32_t i, struct removed_rec *r)
{
	const uint8_t *p = h->removed + (size_t)i * HANDOVER_REMOVED_SIZE;

	memcpy(&r->sbdf, p, 4);		/* native, like every KHO property */
	r->verdict = p[4];
	r->reason = p[5];
	if (r->sbdf == 0xffffffffu)
		snprintf(r->bdf, sizeof(r->bdf), "----:--:--.-");
	else
		snprintf(r->bdf, sizeof(r->bdf), "%04x:%02x:%02x.%x", PCI_SBDF_SEG(r->sbdf),
			 PCI_SBDF_BUS(r->sbdf), PCI_SLOT(PCI_SBDF_DEVFN(r->sbdf)),
			 PCI_FUNC(PCI_SBDF_DEVFN(r->sbdf)));
	r->vname = pcsc_verdict_str(r->verdict);
	r->rname = pcsc_reason_str(r->reason);
}
