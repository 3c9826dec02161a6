/* test_report.c - the exact console format of docs/report.md: entry lines per verdict,
 * malformed names, NEW lines merged in BDF order, the summary and sha256 lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/log.h>
#include <pcsc/report.h>
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

static void summary_and_sha_lines(void **state)
{
	struct verify_counts c;
	struct report_summary s;
	uint8_t sha[32];
	char buf[REPORT_LINE_MAX];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.v[PCSC_VALID] = 12;
	c.v[PCSC_STALE] = 1;
	c.v[PCSC_GONE] = 2;
	c.v[PCSC_BAD] = 1;
	c.v[PCSC_NEW] = 3;
	c.patched = 1;
	c.cleared_bytes = 4;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_line_names_kind_and_class),
		cmocka_unit_test(entry_lines_per_verdict),
		cmocka_unit_test(malformed_name_is_quoted),
		cmocka_unit_test(entries_merge_new_in_bdf_order),
		cmocka_unit_test(summary_and_sha_lines),
		cmocka_unit_test(problems_are_capped_at_4k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
