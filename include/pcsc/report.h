/* pcsc/report.h - the console lines tests parse: one per entry and per NEW function in BDF
 * order, then a summary (format: docs/report.md). It only formats; it never judges. */
#ifndef PCSC_REPORT_H
#define PCSC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/pci_walk.h>
#include <pcsc/verify.h>

#define REPORT_LINE_MAX	256

/*
 * report_entry_line - format one line (no "\n") into buf:
 *   "pcsc: SSSS:BB:DD.F vvvv:dddd VERDICT[ reason][ (live vvvv:dddd)][ patched=N]"
 * vendor:device are the cached bytes; "(live ...)" follows STALE vendor/device;
 * patched=N follows a VALID entry whose strict check cleared N bytes.
 * A malformed name prints "----:--:--.-" and the name (from fdt, quoted,
 * non-printables as '?'). live may be NULL. Returns the line length.
 */
int report_entry_line(char *buf, size_t size, const struct pcsc_entry *e,
		      const struct pci_func *live, const void *fdt);

/* report_new_line - "pcsc: SSSS:BB:DD.F vvvv:dddd NEW". Returns the length. */
int report_new_line(char *buf, size_t size, const struct pci_func *f);

/*
 * report_walk_line - one live function as the stub and the EFI `lspci` print
 * it, so the two outputs compare line for line:
 *   "pcsc: walk SSSS:BB:DD.F vvvv:dddd class CCCCCC KIND"
 * class "------" for VFs (derived, never read); KIND is vf, pf (VFs
 * enabled), bridge or ep. Returns the line length.
 */
int report_walk_line(char *buf, size_t size, const struct pci_func *f);

/*
 * report_walk - one walk as every image lists it: with list, one
 * report_walk_line per function; then always the one totals line
 *   "pcsc: walk functions=%u buses=%u cfg_reads=%llu unnumbered_bridges=%u
 *    bad_bridges=%u crs_timeouts=%u cap_loops=%u vf_out_of_range=%u overflow=%u"
 * (all details: printed with pcsc.report=full). cfg_reads is the caller's
 * count of the walk's config reads.
 */
void report_walk(const struct pci_walk *w, uint64_t cfg_reads, bool list);

/*
 * report_entries - log every entry and every live header-type-0 function
 * without an entry (NEW), merged in BDF order (malformed names last):
 * STALE/GONE/BAD lines as PCSC_LOG_PROBLEM, the rest as details. When only
 * problems are printed, after 4 KiB of them the rest are counted into one
 * "pcsc: ... N more problems" line; when neither is printed (the stub's
 * default) nothing is formatted at all.
 * Must run before handover_patch (it reads node names). w may be NULL.
 * Returns the number of entry/NEW lines logged.
 */
uint32_t report_entries(const struct pcsc_index *idx, const struct pci_walk *w);

struct report_summary {
	enum pcsc_mode mode;
	const struct verify_counts *c;	/* may be NULL (mode off, rejected cache) */
	uint64_t cfg_reads;		/* all config reads of the session */
	uint32_t entries, removed, funcs;
	const char *handover;		/* "ok", "no-room", "detached", "unplugged",
					 * "untouched", "none" */
	const uint8_t *sha256;		/* NULL: no sha line */
	bool has_us;			/* append " us=N": the session's time */
	uint64_t us;
};

/*
 * report_summary_line - format
 *   "pcsc: summary valid=%u stale=%u gone=%u bad=%u new=%u cfg_reads=%llu
 *    mode=%s entries=%u removed=%u funcs=%u patched=%u cleared=%u handover=%s[ us=%llu]"
 * (one line). Returns the length.
 */
int report_summary_line(char *buf, size_t size, const struct report_summary *s);

/* report_summary - log the summary line, then "pcsc: sha256 <64 hex>" when
 * s->sha256 is set, both as PCSC_LOG_RESULT. */
void report_summary(const struct report_summary *s);

#endif
