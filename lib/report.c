/* report.c - formats the console report (docs/report.md) through pcsc_log.
 * The format is an interface tests parse: change it only with the document. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/log.h>
#include <pcsc/report.h>

static int bdf(char *buf, size_t size, pci_sbdf_t s)
{
	uint8_t devfn = PCI_SBDF_DEVFN(s);

	return pcsc_snprintf(buf, size, "%04x:%02x:%02x.%x", PCI_SBDF_SEG(s), PCI_SBDF_BUS(s),
			     PCI_SLOT(devfn), PCI_FUNC(devfn));
}

int report_entry_line(char *buf, size_t size, const struct pcsc_entry *e,
		      const struct pci_func *live, const void *fdt)
{
	char where[40], tail[48] = "";
	int len;

	if (e->reason == PCSC_R_NAME) {
		const char *name = fdt ? fdt_get_name(fdt, e->node, &len) : NULL;
		char shown[36];
		int i, o = 0;

		for (i = 0; name && i < len && o < 32; i++)
			shown[o++] = (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"') ? name[i] : '?';
		shown[o] = '\0';
		pcsc_snprintf(where, sizeof(where), "%s", "----:--:--.-");
		pcsc_snprintf(tail, sizeof(tail), " \"%s\"", shown);
	} else {
		bdf(where, sizeof(where), e->sbdf);
		if (e->verdict == PCSC_STALE && live &&
		    (e->reason == PCSC_R_VENDOR || e->reason == PCSC_R_DEVICE))
			pcsc_snprintf(tail, sizeof(tail), " (live %04x:%04x)", live->vendor, live->device);
		else if (e->verdict == PCSC_VALID && e->cleared)
			pcsc_snprintf(tail, sizeof(tail), " patched=%u", e->cleared);
	}
	return pcsc_snprintf(buf, size, "pcsc: %s %04x:%04x %s%s%s%s", where, e->vendor, e->device,
			     pcsc_verdict_str(e->verdict), e->reason ? " " : "",
			     pcsc_reason_str(e->reason), tail);
}

int report_new_line(char *buf, size_t size, const struct pci_func *f)
{
	char where[24];

	bdf(where, sizeof(where), f->sbdf);
	return pcsc_snprintf(buf, size, "pcsc: %s %04x:%04x NEW", where, f->vendor, f->device);
}

static const char *func_kind(const struct pci_func *f)
{
	if (f->flags & PCI_FUNC_VF)
		return "vf";
	if (f->flags & PCI_FUNC_PF)
		return "pf";
	if (f->flags & PCI_FUNC_BRIDGE)
		return "bridge";
	return "ep";
}

int report_walk_line(char *buf, size_t size, const struct pci_func *f)
{
	char where[24], cls[8];

	bdf(where, sizeof(where), f->sbdf);
	if (f->class_rev == PCI_CLASS_UNKNOWN)
		pcsc_snprintf(cls, sizeof(cls), "------");
	else
		pcsc_snprintf(cls, sizeof(cls), "%06x", f->class_rev >> 8);
	return pcsc_snprintf(buf, size, "pcsc: walk %s %04x:%04x class %s %s", where,
			     f->vendor, f->device, cls, func_kind(f));
}

static bool endpoint(const struct pci_func *f)
{
	return (f->hdr_type & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_NORMAL;
}

void report_walk(const struct pci_walk *w, uint64_t cfg_reads, bool list)
{
	char line[REPORT_LINE_MAX];
	struct pci_walk_iter it;
	const struct pci_func *f;

	if (!pcsc_log_enabled(PCSC_LOG_DETAIL))
		return;
	/* Bounded: the iterator yields w->n functions, then NULL. */
	for (f = list ? pci_walk_first(&it, w) : NULL; f; f = pci_walk_next(&it)) {
		report_walk_line(line, sizeof(line), f);
		pcsc_log("%s", line);
	}
	pcsc_log("pcsc: walk functions=%u buses=%u cfg_reads=%llu unnumbered_bridges=%u "
		 "bad_bridges=%u crs_timeouts=%u cap_loops=%u vf_out_of_range=%u overflow=%u",
		 w->n, w->stats.buses, (unsigned long long)cfg_reads, w->stats.unnumbered_bridges,
		 w->stats.bad_bridges, w->stats.crs_timeouts, w->stats.cap_loops,
		 w->stats.vf_out_of_range, w->stats.overflow);
}

/* Problem lines a PROBLEMS report prints before it only counts them. */
#define REPORT_PROBLEM_BYTES	4096u

static bool is_problem(const struct pcsc_entry *e)
{
	return e->verdict == PCSC_STALE || e->verdict == PCSC_GONE || e->verdict == PCSC_BAD;
}

uint32_t report_entries(const struct pcsc_index *idx, const struct pci_walk *w)
{
	char line[REPORT_LINE_MAX];
	struct pci_walk_iter it;
	const struct pci_func *f;
	uint32_t i = 0, lines = 0, more = 0;
	bool detail = pcsc_log_enabled(PCSC_LOG_DETAIL), problem = pcsc_log_enabled(PCSC_LOG_PROBLEM);
	size_t problem_bytes = 0;

	/* The default report prints neither: not one line formatted. */
	if (!detail && !problem)
		return 0;
	f = w ? pci_walk_first(&it, w) : NULL;
	while (i < idx->n || f) {
		const struct pcsc_entry *e = i < idx->n ? &idx->e[i] : NULL;
		int n;

		if (f && (!e || e->reason == PCSC_R_NAME || f->sbdf < e->sbdf)) {
			if (detail && endpoint(f)) {
				report_new_line(line, sizeof(line), f);
				pcsc_log("%s", line);
				lines++;
			}
			f = pci_walk_next(&it);
			continue;
		}
		if (is_problem(e) && !detail && problem_bytes >= REPORT_PROBLEM_BYTES) {
			more++;
		} else if (detail || is_problem(e)) {
			n = report_entry_line(line, sizeof(line), e,
					      f && e->reason != PCSC_R_NAME && f->sbdf == e->sbdf ? f : NULL,
					      idx->fdt);
			pcsc_log_at(is_problem(e) ? PCSC_LOG_PROBLEM : PCSC_LOG_DETAIL, "%s", line);
			problem_bytes += is_problem(e) ? (size_t)n + 1 : 0;
			lines++;
		}
		if (f && e->reason != PCSC_R_NAME && f->sbdf == e->sbdf &&
		    (i + 1 >= idx->n || idx->e[i + 1].sbdf != e->sbdf))
			f = pci_walk_next(&it);
		i++;
	}
	if (more)
		pcsc_log_at(PCSC_LOG_PROBLEM, "pcsc: ... %u more problems", (unsigned int)more);
	return lines;
}

int report_summary_line(char *buf, size_t size, const struct report_summary *s)
{
	static const struct verify_counts zero;
	const struct verify_counts *c = s->c ? s->c : &zero;

	int n;

	n = pcsc_snprintf(buf, size,
			  "pcsc: summary valid=%u stale=%u gone=%u bad=%u new=%u cfg_reads=%llu "
			  "mode=%s entries=%u removed=%u funcs=%u patched=%u cleared=%u handover=%s",
			  c->v[PCSC_VALID], c->v[PCSC_STALE], c->v[PCSC_GONE], c->v[PCSC_BAD],
			  c->v[PCSC_NEW], (unsigned long long)s->cfg_reads, pcsc_mode_str(s->mode),
			  s->entries, s->removed, s->funcs, c->patched, c->cleared_bytes,
			  s->handover ? s->handover : "none");
	if (s->has_us && n >= 0 && (size_t)n < size)
		n += pcsc_snprintf(buf + n, size - (size_t)n, " us=%llu", (unsigned long long)s->us);
	return n;
}

void report_summary(const struct report_summary *s)
{
	static const char hx[] = "0123456789abcdef";
	char line[REPORT_LINE_MAX + 64];
	int i;

	report_summary_line(line, sizeof(line), s);
	pcsc_log_at(PCSC_LOG_RESULT, "%s", line);
	if (!s->sha256)
		return;
	for (i = 0; i < 32; i++) {
		line[2 * i] = hx[s->sha256[i] >> 4];
		line[2 * i + 1] = hx[s->sha256[i] & 15];
	}
	line[64] = '\0';
	pcsc_log_at(PCSC_LOG_RESULT, "pcsc: sha256 %s", line);
}
