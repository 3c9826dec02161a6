/* test_report.c - the exact console format of docs/report.md: entry lines per verdict,
 * malformed names, NEW lines merged in BDF order, the summary and sha256 lines; and
 * the document itself (its reason table, examples and line templates) read back
 * and compared with what the code prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/kho.h>
#include <pcsc/log.h>
#include <pcsc/report.h>
#include <pcsc/session.h>
#include "helpers/blob_helpers.h"
#include "helpers/sim_helpers.h"

static struct pcsc_entry mk(pci_sbdf_t s, uint16_t v, uint16_t d, uint8_t verdict, uint8_t reason)
{
	struct pcsc_entry e;

	memset(&e, 0, sizeof(e));
	e.sbdf = s;
	e.vendor = v;
	e.device = d;
	e.verdict = verdict;
	e.reason = reason;
	return e;
}

static void entry_lines_per_verdict(void **state)
{
	char buf[REPORT_LINE_MAX];
	struct pcsc_entry e;
	struct pci_func f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.sbdf = PCI_SBDF(0, 2, 0);
	f.vendor = 0x1af4;
	f.device = 0x1042;
	e = mk(PCI_SBDF(0, 1, 0), 0x8086, 0x10d3, PCSC_VALID, 0);
	report_entry_line(buf, sizeof(buf), &e, NULL, NULL);
	assert_string_equal(buf, "pcsc: 0000:01:00.0 8086:10d3 VALID");
	e.cleared = 3;
	report_entry_line(buf, sizeof(buf), &e, NULL, NULL);
	assert_string_equal(buf, "pcsc: 0000:01:00.0 8086:10d3 VALID patched=3");
	e = mk(PCI_SBDF(0, 2, 0), 0x1af4, 0x1041, PCSC_STALE, PCSC_R_DEVICE);
	report_entry_line(buf, sizeof(buf), &e, &f, NULL);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1041 STALE device (live 1af4:1042)");
	e = mk(PCI_SBDF(0, 2, 0), 0x1af4, 0x1041, PCSC_STALE, PCSC_R_CLASS);
	report_entry_line(buf, sizeof(buf), &e, &f, NULL);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1041 STALE class");
	e = mk(PCI_SBDF(0x10, 0xab, PCI_DEVFN(0x1f, 7)), 0xffff, 0xffff, PCSC_GONE, PCSC_R_VF_RANGE);
	report_entry_line(buf, sizeof(buf), &e, NULL, NULL);
	assert_string_equal(buf, "pcsc: 0010:ab:1f.7 ffff:ffff GONE VF not enabled");
	e = mk(PCI_SBDF(0, 3, 0), 0xffff, 0xffff, PCSC_BAD, PCSC_R_DA_ALIGN);
	report_entry_line(buf, sizeof(buf), &e, NULL, NULL);
	assert_string_equal(buf, "pcsc: 0000:03:00.0 ffff:ffff BAD da unaligned");
	report_new_line(buf, sizeof(buf), &f);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1042 NEW");
}

static void malformed_name_is_quoted(void **state)
{
	static uint8_t fdt[1024];
	const struct cache_gen_entry ge = { 0, 0x1000, "dev_0000_01_00_Q", 0 };
	char buf[REPORT_LINE_MAX];
	struct pcsc_entry e;

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &ge, 1), 0);
	e = mk(0xffffffffu, 0xffff, 0xffff, PCSC_BAD, PCSC_R_NAME);
	e.node = fdt_first_subnode(fdt, 0);
	report_entry_line(buf, sizeof(buf), &e, NULL, fdt);
	assert_string_equal(buf, "pcsc: ----:--:--.- ffff:ffff BAD malformed name \"dev_0000_01_00_Q\"");
}

static void entries_merge_new_in_bdf_order(void **state)
{
	struct pcsc_entry e[3];
	uint32_t arena[PCI_WALK_ARENA(4) / 4];
	struct pcsc_index idx;
	struct pci_walk w;

	(void)state;
	e[0] = mk(PCI_SBDF(0, 1, 0), 0x8086, 0x10d3, PCSC_VALID, 0);
	e[1] = mk(PCI_SBDF(0, 3, 0), 0x1b36, 0x0001, PCSC_GONE, PCSC_R_ABSENT);
	e[2] = mk(0xffffffffu, 0xffff, 0xffff, PCSC_BAD, PCSC_R_NAME);
	pci_walk_init(&w, arena, sizeof(arena));
	sim_helpers_walk_func(&w, PCI_SBDF(0, 0, 0), 0, 0, 0, 1, 0);	/* bridge: never NEW */
	sim_helpers_walk_func(&w, PCI_SBDF(0, 1, 0), 0x8086, 0x10d3, 0, 0, 0);
	sim_helpers_walk_func(&w, PCI_SBDF(0, 2, 0), 0x1234, 0x5678, 0, 0, 0);
	sim_helpers_walk_func(&w, PCI_SBDF(0, 4, 0), 0x1234, 0x9abc, 0, 0, 0);
	memset(&idx, 0, sizeof(idx));
	idx.e = e;
	idx.n = 3;
	blob_helpers_log_start();
	assert_int_equal(report_entries(&idx, &w), 5);
	assert_string_equal(blob_helpers_log_text(),
			    "pcsc: 0000:01:00.0 8086:10d3 VALID\n"
			    "pcsc: 0000:02:00.0 1234:5678 NEW\n"
			    "pcsc: 0000:03:00.0 1b36:0001 GONE absent\n"
			    "pcsc: 0000:04:00.0 1234:9abc NEW\n"
			    "pcsc: ----:--:--.- ffff:ffff BAD malformed name \"\"\n");
}

/* Verdict counts valid..new, then patched entries and cleared bytes. */
static void counts_set(struct verify_counts *c, uint32_t valid, uint32_t stale, uint32_t gone,
		       uint32_t bad, uint32_t nw, uint32_t patched, uint32_t cleared)
{
	memset(c, 0, sizeof(*c));
	c->v[PCSC_VALID] = valid;
	c->v[PCSC_STALE] = stale;
	c->v[PCSC_GONE] = gone;
	c->v[PCSC_BAD] = bad;
	c->v[PCSC_NEW] = nw;
	c->patched = patched;
	c->cleared_bytes = cleared;
}

static void summary_and_sha_lines(void **state)
{
	struct verify_counts c;
	struct report_summary s;
	uint8_t sha[32];
	char buf[REPORT_LINE_MAX];

	(void)state;
	counts_set(&c, 12, 1, 2, 1, 3, 1, 4);
	memset(&s, 0, sizeof(s));
	s.mode = PCSC_MODE_STRICT;
	s.c = &c;
	s.cfg_reads = 21;
	s.entries = 16;
	s.removed = 4;
	s.funcs = 20;
	s.handover = "ok";
	report_summary_line(buf, sizeof(buf), &s);
	assert_string_equal(buf, "pcsc: summary valid=12 stale=1 gone=2 bad=1 new=3 cfg_reads=21 "
				 "mode=strict entries=16 removed=4 funcs=20 patched=1 cleared=4 handover=ok");
	memset(sha, 0xa5, sizeof(sha));
	sha[31] = 0x01;
	s.sha256 = sha;
	s.c = NULL;
	s.handover = NULL;
	blob_helpers_log_start();
	report_summary(&s);
	assert_string_equal(blob_helpers_log_text(),
			    "pcsc: summary valid=0 stale=0 gone=0 bad=0 new=0 cfg_reads=21 mode=strict "
			    "entries=16 removed=4 funcs=20 patched=0 cleared=0 handover=none\n"
			    "pcsc: sha256 a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a501\n");
}

static void walk_line_names_kind_and_class(void **state)
{
	struct pci_func f = { .sbdf = PCI_SBDF(1, 0x3a, PCI_DEVFN(2, 5)), .vendor = 0x8086,
			      .device = 0x10ca, .class_rev = 0x02000001, .pf = PCI_PF_NONE };
	char buf[REPORT_LINE_MAX];
	int n;

	(void)state;
	n = report_walk_line(buf, sizeof(buf), &f);
	assert_string_equal(buf, "pcsc: walk 0001:3a:02.5 8086:10ca class 020000 ep");
	assert_int_equal(n, (int)strlen(buf));
	f.flags = PCI_FUNC_PF;
	report_walk_line(buf, sizeof(buf), &f);
	assert_string_equal(buf, "pcsc: walk 0001:3a:02.5 8086:10ca class 020000 pf");
	f.flags = PCI_FUNC_BRIDGE;
	f.class_rev = 0x06040000;
	report_walk_line(buf, sizeof(buf), &f);
	assert_string_equal(buf, "pcsc: walk 0001:3a:02.5 8086:10ca class 060400 bridge");
	f.flags = PCI_FUNC_VF;
	f.class_rev = PCI_CLASS_UNKNOWN;
	report_walk_line(buf, sizeof(buf), &f);
	assert_string_equal(buf, "pcsc: walk 0001:3a:02.5 8086:10ca class ------ vf");
}

/* pcsc.report=problems: STALE/GONE/BAD lines only, 4 KiB of them, then
 * one line counting the rest; VALID entries and NEW functions never. */
static void problems_are_capped_at_4k(void **state)
{
	static struct pcsc_entry e[300];
	struct pcsc_index idx;
	const char *log, *last;
	unsigned int i, lines = 0;
	char want[64];

	(void)state;
	memset(&idx, 0, sizeof(idx));
	for (i = 0; i < 300; i++) {
		e[i].sbdf = PCI_SBDF(0, i / 32, i % 32 << 3);
		e[i].vendor = e[i].device = 0xffff;
		e[i].verdict = i % 3 ? PCSC_BAD : PCSC_VALID;
		e[i].reason = i % 3 ? PCSC_R_DA_ALIGN : PCSC_R_NONE;
	}
	idx.e = e;
	idx.n = 300;
	blob_helpers_log_start();
	pcsc_log_set_report(PCSC_REPORT_PROBLEMS);
	report_entries(&idx, NULL);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	log = blob_helpers_log_text();
	assert_null(strstr(log, "VALID"));
	assert_int_equal(strncmp(log, "pcsc: 0000:00:01.0 ffff:ffff BAD da unaligned\n", 46), 0);
	for (last = log; *last; last = strchr(last, '\n') + 1)
		lines++;
	/* Every problem line is 46 bytes: 4096 / 46 -> 90 lines (the 90th
	 * crosses 4 KiB), then the count of the other 200 - 90. */
	assert_int_equal(lines, 91);
	snprintf(want, sizeof(want), "pcsc: ... %u more problems\n", 200u - 90u);
	assert_non_null(strstr(log, want));
	assert_int_equal(strlen(strstr(log, want)), strlen(want));
	/* The default report formats nothing at all. */
	blob_helpers_log_start();
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	assert_int_equal(report_entries(&idx, NULL), 0);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	assert_string_equal(blob_helpers_log_text(), "");
}

/* --- docs/report.md itself, read back (make test-unit runs from the repo root) --- */

static const char *doc(void)
{
	static char text[32768];

	if (!text[0])
		sim_helpers_read_file("docs/report.md", text, sizeof(text));
	return text;
}

/* The whole line of the document that starts with prefix (a copy), or fail. */
static void doc_line(const char *prefix, char *out, size_t size)
{
	const char *p = doc(), *end;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			break;
	if (!p || !*p)
		fail_msg("docs/report.md has no line starting \"%s\"", prefix);
	end = strchr(p, '\n');
	assert_non_null(end);
	assert_true((size_t)(end - p) < size);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
}

/* The verdict each reason goes with (lib/pcsc_fdt.c's index checks and
 * lib/verify.c's entry checks give BAD, judge_ids STALE, judge_absent GONE). */
static const uint8_t reason_verdict[PCSC_R_MAX] = {
	[PCSC_R_NAME] = PCSC_BAD, [PCSC_R_DUP] = PCSC_BAD, [PCSC_R_NO_DA] = PCSC_BAD,
	[PCSC_R_DA_SIZE] = PCSC_BAD, [PCSC_R_DA_ALIGN] = PCSC_BAD, [PCSC_R_DA_NOTRAM] = PCSC_BAD,
	[PCSC_R_DA_OWNED] = PCSC_BAD, [PCSC_R_DA_META] = PCSC_BAD, [PCSC_R_DA_ENTRY] = PCSC_BAD,
	[PCSC_R_DA_NOTPRESERVED] = PCSC_BAD, [PCSC_R_DA_SCRATCH] = PCSC_BAD,
	[PCSC_R_VENDOR] = PCSC_STALE, [PCSC_R_DEVICE] = PCSC_STALE, [PCSC_R_CLASS] = PCSC_STALE,
	[PCSC_R_HDR] = PCSC_STALE, [PCSC_R_IDS] = PCSC_STALE,
	[PCSC_R_ABSENT] = PCSC_GONE, [PCSC_R_VF_RANGE] = PCSC_GONE,
};

/* Every reason text of the doc's table equals pcsc_reason_str of one enum
 * value, in the row of its verdict, and the table has no other text. */
static void reason_table_is_the_code_string_table(void **state)
{
	struct { char verdict[8]; char text[48]; } row[64];
	unsigned int n = 0, r, i, hits;
	const char *p;

	(void)state;
	for (p = doc(); p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *v = NULL, *col, *end;

		for (i = PCSC_STALE; i <= PCSC_BAD; i++) {
			char head[16];

			snprintf(head, sizeof(head), "| %s | ", pcsc_verdict_str(i));
			if (!strncmp(p, head, strlen(head))) {
				v = pcsc_verdict_str(i);
				col = p + strlen(head);
			}
		}
		if (!v)
			continue;
		end = strstr(col, " | ");
		assert_non_null(end);
		/* Every `text` of the reason column. */
		while ((col = memchr(col, '`', (size_t)(end - col))) != NULL) {
			const char *close = memchr(col + 1, '`', (size_t)(end - col - 1));

			assert_non_null(close);
			assert_true(n < 64 && (size_t)(close - col - 1) < sizeof(row[0].text));
			snprintf(row[n].verdict, sizeof(row[n].verdict), "%s", v);
			snprintf(row[n].text, sizeof(row[n].text), "%.*s", (int)(close - col - 1), col + 1);
			n++;
			col = close + 1;
		}
	}
	for (r = 1; r < PCSC_R_MAX; r++) {
		const char *want = pcsc_reason_str(r);

		if (!reason_verdict[r])
			fail_msg("reason %u (\"%s\") has no verdict in this test", r, want);
		for (i = 0, hits = 0; i < n; i++) {
			if (strcmp(row[i].text, want))
				continue;
			hits++;
			if (strcmp(row[i].verdict, pcsc_verdict_str(reason_verdict[r])))
				fail_msg("docs/report.md lists \"%s\" under %s, the code gives %s", want,
					 row[i].verdict, pcsc_verdict_str(reason_verdict[r]));
		}
		if (hits != 1)
			fail_msg("docs/report.md lists reason \"%s\" %u times, not once", want, hits);
	}
	/* Nothing else: every text of the table is one of the code's. */
	assert_int_equal(n, PCSC_R_MAX - 1);
	assert_string_equal(pcsc_reason_str(PCSC_R_NONE), "");
	assert_string_equal(pcsc_reason_str(PCSC_R_MAX), "?");
}

/* "`VERDICT` one of `VALID STALE GONE BAD NEW` (`UNCHECKED` never appears" */
static void verdict_words_are_the_code_strings(void **state)
{
	char want[64], line[256];
	const char *p;

	(void)state;
	snprintf(want, sizeof(want), "one of `%s %s %s %s %s` (`%s` never appears",
		 pcsc_verdict_str(PCSC_VALID), pcsc_verdict_str(PCSC_STALE),
		 pcsc_verdict_str(PCSC_GONE), pcsc_verdict_str(PCSC_BAD), pcsc_verdict_str(PCSC_NEW),
		 pcsc_verdict_str(PCSC_UNJUDGED));
	doc_line("* `VERDICT` ", line, sizeof(line));
	p = strstr(doc(), want);
	if (!p)
		fail_msg("docs/report.md does not say %s", want);
	assert_int_equal(PCSC_UNJUDGED + 1, PCSC_VERDICT_MAX);
}

/* The doc's example block is, line for line, what report_entry_line and
 * report_new_line print for the entries it describes. */
static void doc_examples_are_printed_lines(void **state)
{
	static uint8_t fdt[1024];
	const struct cache_gen_entry ge = { 0, 0x1000, "dev_0000_01_00_Q", 0 };
	const char *start, *end;
	char got[1024], line[REPORT_LINE_MAX];
	struct pcsc_entry e;
	struct pci_func live, nf;
	size_t o = 0;

	(void)state;
	memset(&live, 0, sizeof(live));
	live.sbdf = PCI_SBDF(0, 2, 0);
	live.vendor = 0x1af4;
	live.device = 0x1042;
	memset(&nf, 0, sizeof(nf));
	nf.sbdf = PCI_SBDF(0, 5, 0);
	nf.vendor = 0x1234;
	nf.device = 0x1111;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &ge, 1), 0);
#define ADD(call) do { call; o += (size_t)snprintf(got + o, sizeof(got) - o, "%s\n", line); } while (0)
	e = mk(PCI_SBDF(0, 1, 0), 0x8086, 0x10d3, PCSC_VALID, 0);
	ADD(report_entry_line(line, sizeof(line), &e, NULL, NULL));
	e.cleared = 2;
	ADD(report_entry_line(line, sizeof(line), &e, NULL, NULL));
	e = mk(PCI_SBDF(0, 2, 0), 0x1af4, 0x1041, PCSC_STALE, PCSC_R_DEVICE);
	ADD(report_entry_line(line, sizeof(line), &e, &live, NULL));
	e = mk(PCI_SBDF(0, 3, 0), 0x1b36, 0x0001, PCSC_GONE, PCSC_R_ABSENT);
	ADD(report_entry_line(line, sizeof(line), &e, NULL, NULL));
	e = mk(PCI_SBDF(0, 0, PCI_DEVFN(0x13, 1)), 0xffff, 0xffff, PCSC_GONE, PCSC_R_VF_RANGE);
	ADD(report_entry_line(line, sizeof(line), &e, NULL, NULL));
	e = mk(PCI_SBDF(0, 4, 0), 0xffff, 0xffff, PCSC_BAD, PCSC_R_DA_NOTPRESERVED);
	ADD(report_entry_line(line, sizeof(line), &e, NULL, NULL));
	e = mk(0xffffffffu, 0xffff, 0xffff, PCSC_BAD, PCSC_R_NAME);
	e.node = fdt_first_subnode(fdt, 0);
	ADD(report_entry_line(line, sizeof(line), &e, NULL, fdt));
	ADD(report_new_line(line, sizeof(line), &nf));
#undef ADD
	start = strstr(doc(), "Examples:\n```\n");
	assert_non_null(start);
	start += strlen("Examples:\n```\n");
	end = strstr(start, "```\n");
	assert_non_null(end);
	assert_int_equal((size_t)(end - start), strlen(got));
	assert_memory_equal(start, got, strlen(got));
}

/* Replace each printf conversion (or each "=N") of a doc template with the
 * next of vals: the line the code must print for those values. */
static void fill_template(const char *tmpl, const char *const *vals, unsigned int nvals,
			  bool equals_n, char *out, size_t size)
{
	unsigned int k = 0;
	size_t o = 0;

	while (*tmpl) {
		if (!equals_n && *tmpl == '%') {
			tmpl++;
			while (*tmpl == 'l' || *tmpl == 'h' || *tmpl == 'z')
				tmpl++;
			assert_true(*tmpl == 'u' || *tmpl == 's' || *tmpl == 'd');
			tmpl++;
		} else if (equals_n && tmpl[0] == '=' && tmpl[1] == 'N') {
			out[o++] = '=';
			tmpl += 2;
		} else {
			assert_true(o + 1 < size);
			out[o++] = *tmpl++;
			continue;
		}
		assert_true(k < nvals && o + strlen(vals[k]) < size);
		memcpy(out + o, vals[k], strlen(vals[k]));
		o += strlen(vals[k++]);
	}
	assert_int_equal(k, nvals);
	out[o] = '\0';
}

/* The summary template of the doc, filled in, is what the code prints:
 * the same keys, order, separators and the optional " us=". */
static void summary_template_is_the_printed_line(void **state)
{
	static const char *const vals[] = { "1", "2", "3", "4", "5", "6", "strict", "7", "8",
					    "9", "10", "11", "no-room", "12" };
	char tmpl[512], plain[512], want[512], got[REPORT_LINE_MAX + 64];
	struct verify_counts c;
	struct report_summary s;
	char *open, *close;

	(void)state;
	doc_line("pcsc: summary ", tmpl, sizeof(tmpl));
	/* "[ us=%llu]": once with it, once without. */
	open = strchr(tmpl, '[');
	close = open ? strchr(open, ']') : NULL;
	assert_non_null(close);
	assert_int_equal(close[1], '\0');
	snprintf(plain, sizeof(plain), "%.*s", (int)(open - tmpl), tmpl);
	counts_set(&c, 1, 2, 3, 4, 5, 10, 11);
	memset(&s, 0, sizeof(s));
	s.c = &c;
	s.cfg_reads = 6;
	s.mode = PCSC_MODE_STRICT;
	s.entries = 7;
	s.removed = 8;
	s.funcs = 9;
	s.handover = "no-room";
	fill_template(plain, vals, 13, false, want, sizeof(want));
	report_summary_line(got, sizeof(got), &s);
	assert_string_equal(got, want);
	memmove(open, open + 1, strlen(open + 1) + 1);	/* drop '[' */
	*strchr(tmpl, ']') = '\0';
	fill_template(tmpl, vals, 14, false, want, sizeof(want));
	s.has_us = true;
	s.us = 12;
	report_summary_line(got, sizeof(got), &s);
	assert_string_equal(got, want);
}

/* The walk's totals line: the doc's keys in the doc's order, one value
 * each; the listing before it only when asked; nothing unless FULL. */
static void walk_totals_line_is_the_doc_template(void **state)
{
	static const char *const vals[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };
	uint32_t arena[PCI_WALK_ARENA(2) / 4];
	char tmpl[512], want[640];
	struct pci_walk w;

	(void)state;
	doc_line("pcsc: walk functions=", tmpl, sizeof(tmpl));
	fill_template(tmpl, vals, 9, true, want, sizeof(want));
	strcat(want, "\n");
	pci_walk_init(&w, arena, sizeof(arena));
	sim_helpers_walk_func(&w, PCI_SBDF(0, 1, 0), 0x8086, 0x10d3, 0x02000000, 0, 0);
	w.stats.buses = 2;
	w.stats.unnumbered_bridges = 4;
	w.stats.bad_bridges = 5;
	w.stats.crs_timeouts = 6;
	w.stats.cap_loops = 7;
	w.stats.vf_out_of_range = 8;
	w.stats.overflow = 9;
	blob_helpers_log_start();
	report_walk(&w, 3, false);
	assert_string_equal(blob_helpers_log_text(), want);
	blob_helpers_log_start();
	report_walk(&w, 3, true);
	assert_int_equal(strncmp(blob_helpers_log_text(),
				 "pcsc: walk 0000:01:00.0 8086:10d3 class 020000 ep\n", 50), 0);
	assert_string_equal(blob_helpers_log_text() + 50, want);
	/* Walk lines are details: the default console prints none. */
	blob_helpers_log_start();
	pcsc_log_set_report(PCSC_REPORT_PROBLEMS);
	report_walk(&w, 3, true);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	assert_string_equal(blob_helpers_log_text(), "");
}

/* "(live vvvv:dddd)" follows vendor and device, never class or header
 * type; a NEW VF shows its PF's vendor and the VF Device ID. */
static void live_ids_and_new_vf_lines(void **state)
{
	uint32_t arena[PCI_WALK_ARENA(4) / 4];
	struct pcsc_index idx;
	struct pcsc_entry e;
	struct pci_func f;
	struct pci_walk w;
	char buf[REPORT_LINE_MAX];

	(void)state;
	memset(&f, 0, sizeof(f));
	f.sbdf = PCI_SBDF(0, 2, 0);
	f.vendor = 0x8086;
	f.device = 0x1042;
	e = mk(PCI_SBDF(0, 2, 0), 0x1af4, 0x1041, PCSC_STALE, PCSC_R_VENDOR);
	report_entry_line(buf, sizeof(buf), &e, &f, NULL);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1041 STALE vendor (live 8086:1042)");
	e.reason = PCSC_R_HDR;
	report_entry_line(buf, sizeof(buf), &e, &f, NULL);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1041 STALE header type");
	e.reason = PCSC_R_IDS;
	report_entry_line(buf, sizeof(buf), &e, &f, NULL);
	assert_string_equal(buf, "pcsc: 0000:02:00.0 1af4:1041 STALE ids not cached");

	pci_walk_init(&w, arena, sizeof(arena));
	sim_helpers_walk_func(&w, PCI_SBDF(0, 0, PCI_DEVFN(3, 0)), 0x8086, 0x1572, 0x02000000, 0,
			      PCI_FUNC_PF);
	sim_helpers_walk_vfs(&w, 0, PCI_SBDF(0, 0, PCI_DEVFN(0x13, 0)), 1, 2, 0x154c);
	memset(&idx, 0, sizeof(idx));
	idx.e = &e;
	blob_helpers_log_start();
	assert_int_equal(report_entries(&idx, &w), 3);
	assert_string_equal(blob_helpers_log_text(),
			    "pcsc: 0000:00:03.0 8086:1572 NEW\n"
			    "pcsc: 0000:00:13.0 8086:154c NEW\n"
			    "pcsc: 0000:00:13.1 8086:154c NEW\n");
}

/* A whole-cache rejection on the default console: the reason is cut to
 * 74 characters so it and the summary stay within 256 bytes; `quiet`
 * prints the same cut line alone; FULL prints all of it and the detach. */
#define RAM_BASE 0x40000000ull
#define RAM_SIZE (8ull << 20)
static void rejection_is_cut_unless_full(void **state)
{
	static const enum pcsc_report levels[] = { PCSC_REPORT_SUMMARY, PCSC_REPORT_QUIET,
						   PCSC_REPORT_FULL };
	struct blob_helpers_ram ram;
	struct cache_gen_layout lo;
	struct cache_gen_dev d;
	struct pcsc_session_in in;
	struct pcsc_session_out out;
	uint8_t bytes[256];
	uint64_t huge = UINT64_MAX;
	char msg[160], want[512];
	const char *log;
	unsigned long long b0;
	unsigned int i;
	void *arena;
	int node;

	(void)state;
	for (i = 0; i < 3; i++) {
		blob_helpers_ram_init(&ram, RAM_BASE, RAM_SIZE);
		memset(bytes, 0, sizeof(bytes));
		blob_helpers_cfg(bytes, 0x8086, 0x10d3, 0x020000, 0);
		d = (struct cache_gen_dev){ PCI_SBDF(0, 1, 0), bytes, sizeof(bytes) };
		memset(&lo, 0, sizeof(lo));
		lo.base = RAM_BASE + 0x200000;
		lo.S = 4096;
		assert_int_equal(kho_abi_by_name("v3", &lo.abi, &lo.v1_bitmap), 0);
		assert_true(lo.abi->blob_size);
		assert_int_equal(cache_gen_build(ram.mem, ram.base, ram.size, &d, 1, &lo), 0);
		/* A blob-size no map can preserve: the longest rejection text. */
		node = fdt_subnode_offset(blob_helpers_at(&ram, lo.kho_fdt), 0, "pcsc");
		assert_true(node >= 0);
		assert_int_equal(fdt_setprop_inplace(blob_helpers_at(&ram, lo.kho_fdt), node,
						     KHO_PROP_BLOB_SIZE, &huge, 8), 0);
		snprintf(msg, sizeof(msg), "pcsc blob-size %llu: totalsize %u or preservation does not fit",
			 (unsigned long long)huge,
			 (unsigned int)fdt_totalsize(blob_helpers_at(&ram, lo.pcsc_fdt)));
		assert_true(strlen(msg) > 74);
		arena = malloc(1u << 20);
		assert_non_null(arena);
		memset(&in, 0, sizeof(in));
		in.pm = &ram.pm;
		in.kho_fdt = lo.kho_fdt;
		in.mode = PCSC_MODE_STRICT;
		in.S = 4096;
		in.arena = arena;
		in.arena_size = 1u << 20;
		blob_helpers_log_start();
		pcsc_log_set_report(levels[i]);
		b0 = pcsc_log_bytes();
		assert_int_equal(pcsc_session_run(&in, &out), 0);
		pcsc_log_set_report(PCSC_REPORT_FULL);
		assert_string_equal(out.msg, msg);	/* the session keeps all of it */
		assert_true(out.detached);
		log = blob_helpers_log_text();
		if (levels[i] == PCSC_REPORT_FULL) {
			snprintf(want, sizeof(want), "pcsc: kho kho-v3 ");
			assert_int_equal(strncmp(log, want, strlen(want)), 0);
			snprintf(want, sizeof(want), "\npcsc: cache rejected: %s\n"
				 "pcsc: detached the pcsc subtree from the KHO FDT\n"
				 "pcsc: summary valid=0 stale=0 gone=0 bad=0 new=0 cfg_reads=0 "
				 "mode=strict entries=0 removed=0 funcs=0 patched=0 cleared=0 "
				 "handover=detached\n", msg);
			assert_non_null(strstr(log, want));
			assert_string_equal(strstr(log, want), want);
		} else {
			snprintf(want, sizeof(want), "pcsc: cache rejected: %.74s\n", msg);
			assert_int_equal(strlen(want), 22 + 74 + 1);
			assert_int_equal(strncmp(log, want, strlen(want)), 0);
			if (levels[i] == PCSC_REPORT_QUIET)
				assert_string_equal(log, want);
			else
				assert_string_equal(log + strlen(want),
						    "pcsc: summary valid=0 stale=0 gone=0 bad=0 new=0 "
						    "cfg_reads=0 mode=strict entries=0 removed=0 funcs=0 "
						    "patched=0 cleared=0 handover=detached\n");
			assert_true(pcsc_log_bytes() - b0 <= 256);
		}
		free(arena);
		blob_helpers_ram_free(&ram);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_line_names_kind_and_class),
		cmocka_unit_test(entry_lines_per_verdict),
		cmocka_unit_test(malformed_name_is_quoted),
		cmocka_unit_test(entries_merge_new_in_bdf_order),
		cmocka_unit_test(summary_and_sha_lines),
		cmocka_unit_test(problems_are_capped_at_4k),
		cmocka_unit_test(reason_table_is_the_code_string_table),
		cmocka_unit_test(verdict_words_are_the_code_strings),
		cmocka_unit_test(doc_examples_are_printed_lines),
		cmocka_unit_test(summary_template_is_the_printed_line),
		cmocka_unit_test(walk_totals_line_is_the_doc_template),
		cmocka_unit_test(live_ids_and_new_vf_lines),
		cmocka_unit_test(rejection_is_cut_unless_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
