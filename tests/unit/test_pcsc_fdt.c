/* test_pcsc_fdt.c - the pcsc FDT gate names what is wrong; node names parse strictly;
 * the index is BDF-sorted in one pass with malformed, duplicate and bad-da entries BAD. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/cache_gen.h>
#include <pcsc/errno.h>
#include <pcsc/pcsc_fdt.h>

static uint8_t fdt[8192];
static struct pcsc_entry arena[16];

static void name_parse_accepts_canonical(void **state)
{
	pci_sbdf_t s = 0;
	char buf[20];

	(void)state;
	assert_int_equal(pcsc_name_parse("dev_0000_01_00_0", 16, &s), 0);
	assert_int_equal(s, PCI_SBDF(0, 1, 0));
	assert_int_equal(pcsc_name_parse("dev_abcd_ff_1f_7", 16, &s), 0);
	assert_int_equal(s, PCI_SBDF(0xabcd, 0xff, PCI_DEVFN(0x1f, 7)));
	assert_int_equal(pcsc_name_format(s, buf), 16);
	assert_string_equal(buf, "dev_abcd_ff_1f_7");
}

static void name_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"dev_0000_01_00_0x", "dev_0000_01_00_", "dev_0000_01_00_8", "dev_0000_01_20_0",
		"dev_ABCD_01_00_0", "dev_0000_0G_00_0", "Dev_0000_01_00_0", "dev-0000_01_00_0",
		"dev_0000-01_00_0", "dev_000_001_00_0", "dev_0000_01_00 0", "",
	};
	pci_sbdf_t s = 0x1234;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pcsc_name_parse(bad[i], strlen(bad[i]), &s), -PCSC_ENAME);
	assert_int_equal(s, 0x1234);
	/* A valid prefix with a length that stops short is not accepted. */
	assert_int_equal(pcsc_name_parse("dev_0000_01_00_0", 15, &s), -PCSC_ENAME);
}

static void check_accepts_generated(void **state)
{
	const struct cache_gen_entry e = { PCI_SBDF(0, 1, 0), 0x1000, NULL, 0 };
	char msg[PCSC_MSG_MAX];

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &e, 1), 0);
	assert_int_equal(pcsc_fdt_check(fdt, 4096, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(pcsc_fdt_count(fdt), 1);
}

static void check_names_each_failure(void **state)
{
	const struct cache_gen_entry e = { PCI_SBDF(0, 1, 0), 0x1000, NULL, 0 };
	char msg[PCSC_MSG_MAX];

	(void)state;
	assert_int_equal(pcsc_fdt_check(fdt, 20, msg, sizeof(msg)), -PCSC_EBADFDT);
	assert_string_equal(msg, "pcsc FDT truncated: 20 bytes");
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &e, 1), 0);
	assert_int_equal(pcsc_fdt_check(fdt, fdt_totalsize(fdt) - 1, msg, sizeof(msg)), -PCSC_EBADFDT);
	assert_string_equal(msg, "pcsc FDT totalsize 162 past the 161 bytes it owns");
	fdt_set_version(fdt, 99);
	fdt_set_last_comp_version(fdt, 99);
	assert_int_equal(pcsc_fdt_check(fdt, 4096, msg, sizeof(msg)), -PCSC_EBADFDT);
	assert_string_equal(msg, "pcsc FDT invalid: FDT_ERR_BADVERSION");
	fdt_set_magic(fdt, 0xd00dfeee);
	assert_int_equal(pcsc_fdt_check(fdt, 4096, msg, sizeof(msg)), -PCSC_EBADFDT);
	assert_string_equal(msg, "pcsc FDT bad magic 0xd00dfeee");
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), "pcsc-v2", &e, 1), 0);
	assert_int_equal(pcsc_fdt_check(fdt, 4096, msg, sizeof(msg)), -PCSC_ECOMPAT);
	assert_string_equal(msg, "pcsc FDT unknown compatible \"pcsc-v2\"");
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &e, 1), 0);
	/* Structure damage inside an otherwise sane header. */
	fdt_set_off_dt_strings(fdt, fdt_totalsize(fdt) - 2);
	assert_int_equal(pcsc_fdt_check(fdt, 4096, msg, sizeof(msg)), -PCSC_EBADFDT);
	assert_int_equal(strncmp(msg, "pcsc FDT invalid: ", 18), 0);
}

static void check_accepts_compatible_stringlist(void **state)
{
	const struct cache_gen_entry e = { PCI_SBDF(0, 1, 0), 0x1000, NULL, 0 };
	char msg[PCSC_MSG_MAX];

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, &e, 1), 0);
	assert_int_equal(fdt_open_into(fdt, fdt, sizeof(fdt)), 0);
	assert_int_equal(fdt_setprop(fdt, 0, "compatible", "vendor,x\0pcsc-v1", 17), 0);
	assert_int_equal(pcsc_fdt_check(fdt, sizeof(fdt), msg, sizeof(msg)), 0);
	/* "pcsc-v1" without its NUL (a truncated list) is not a match. */
	assert_int_equal(fdt_setprop(fdt, 0, "compatible", "pcsc-v1", 7), 0);
	assert_int_equal(pcsc_fdt_check(fdt, sizeof(fdt), msg, sizeof(msg)), -PCSC_ECOMPAT);
}

static void index_sorted_with_bad_entries(void **state)
{
	const struct cache_gen_entry e[8] = {
		{ PCI_SBDF(0, 3, 0), 0x3000, NULL, 0 },
		{ PCI_SBDF(1, 0, 0), 0x9000, NULL, 0 },
		{ PCI_SBDF(0, 1, 0), 0x1000, NULL, 0 },
		{ 0, 0x5000, "dev_0000_02_00_0_", 0 },		/* malformed */
		{ PCI_SBDF(0, 2, 1), 0x6000, NULL, 4 },		/* da size */
		{ PCI_SBDF(0, 2, 2), 0x7000, NULL, -1 },	/* no da */
		{ PCI_SBDF(0, 3, 0), 0x8000, NULL, 0 },		/* duplicate */
		{ PCI_SBDF(0, 2, 0), 0x2000, NULL, 0 },
	};
	struct pcsc_index idx;

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, e, 8), 0);
	assert_int_equal(pcsc_index_build(fdt, arena, 16, &idx), 0);
	assert_int_equal(idx.n, 8);
	assert_int_equal(idx.bad, 5);
	assert_int_equal(arena[0].sbdf, PCI_SBDF(0, 1, 0));
	assert_int_equal(arena[0].verdict, PCSC_UNJUDGED);
	assert_int_equal(arena[0].da, 0x1000);
	assert_int_equal(arena[1].sbdf, PCI_SBDF(0, 2, 0));
	assert_int_equal(arena[1].da, 0x2000);
	assert_int_equal(arena[2].sbdf, PCI_SBDF(0, 2, 1));
	assert_int_equal(arena[2].verdict, PCSC_BAD);
	assert_int_equal(arena[2].reason, PCSC_R_DA_SIZE);
	assert_int_equal(arena[3].reason, PCSC_R_NO_DA);
	assert_int_equal(arena[4].sbdf, PCI_SBDF(0, 3, 0));
	assert_int_equal(arena[4].reason, PCSC_R_DUP);
	assert_int_equal(arena[4].da, 0x3000);
	assert_int_equal(arena[5].reason, PCSC_R_DUP);
	assert_int_equal(arena[5].da, 0x8000);
	assert_int_equal(arena[6].sbdf, PCI_SBDF(1, 0, 0));
	assert_int_equal(arena[6].verdict, PCSC_UNJUDGED);
	assert_int_equal(arena[7].reason, PCSC_R_NAME);
	assert_int_equal(sizeof(struct pcsc_entry), 24);
	assert_string_equal(fdt_get_name(fdt, arena[7].node, NULL), "dev_0000_02_00_0_");
	/* Sorted by (sbdf, node): the malformed name sorts last. */
	for (unsigned int k = 1; k < 7; k++)
		assert_true(arena[k - 1].sbdf < arena[k].sbdf ||
			    (arena[k - 1].sbdf == arena[k].sbdf && arena[k - 1].node < arena[k].node));
}

static void index_arena_too_small(void **state)
{
	const struct cache_gen_entry e[3] = {
		{ PCI_SBDF(0, 1, 0), 0x1000, NULL, 0 },
		{ PCI_SBDF(0, 2, 0), 0x2000, NULL, 0 },
		{ PCI_SBDF(0, 3, 0), 0x3000, NULL, 0 },
	};
	struct pcsc_index idx;

	(void)state;
	assert_int_equal(cache_gen_pcsc_fdt(fdt, sizeof(fdt), NULL, e, 3), 0);
	assert_int_equal(pcsc_index_build(fdt, arena, 2, &idx), -PCSC_ENOSPC);
	assert_string_equal(idx.msg, "pcsc FDT has more than 2 entries");
	assert_int_equal(idx.n, 0);
}

/* The one-pass index reads what libfdt's lookups would: a child's own
 * first "da" (not a grandchild's, not a later duplicate), across NOPs, by
 * name even when the strings block holds "da" twice; and refuses a
 * structure that ends early. */
static void index_reads_what_libfdt_would(void **state)
{
	static uint8_t f[4096];
	uint64_t a = 0x1000, b = 0x2000, c = 0x3000;
	struct pcsc_index idx;
	int node;

	(void)state;
	assert_int_equal(fdt_create(f, sizeof(f)), 0);
	assert_int_equal(fdt_finish_reservemap(f), 0);
	assert_int_equal(fdt_begin_node(f, ""), 0);
	assert_int_equal(fdt_property_string(f, "compatible", "pcsc-v1"), 0);
	assert_int_equal(fdt_begin_node(f, "dev_0000_01_00_0"), 0);
	assert_int_equal(fdt_begin_node(f, "sub"), 0);
	assert_int_equal(fdt_property(f, "da", &c, 8), 0);	/* a grandchild's */
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_property(f, "x", &c, 8), 0);
	assert_int_equal(fdt_property(f, "da", &a, 8), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_begin_node(f, "dev_0000_02_00_0"), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_end_node(f), 0);
	assert_int_equal(fdt_finish(f), 0);
	assert_int_equal(fdt_open_into(f, f, sizeof(f)), 0);
	/* The second child gets "da" through a string of its own (a second
	 * "da" in the strings block, as no sequential writer would make). */
	node = fdt_subnode_offset(f, 0, "dev_0000_02_00_0");
	assert_int_equal(fdt_setprop(f, node, "da", &b, 8), 0);
	assert_int_equal(fdt_check_full(f, sizeof(f)), 0);
	assert_int_equal(pcsc_index_build(f, arena, 16, &idx), 0);
	assert_int_equal(idx.n, 2);
	assert_int_equal(arena[0].da, 0x1000);
	assert_int_equal(arena[0].node, fdt_subnode_offset(f, 0, "dev_0000_01_00_0"));
	assert_int_equal(arena[1].da, 0x2000);
	assert_int_equal(arena[1].node, node);
	assert_int_equal(arena[1].verdict, PCSC_UNJUDGED);
	/* NOPs are skipped like libfdt skips them. */
	assert_int_equal(fdt_nop_node(f, fdt_subnode_offset(f, 0, "dev_0000_01_00_0")), 0);
	assert_int_equal(pcsc_index_build(f, arena, 16, &idx), 0);
	assert_int_equal(idx.n, 1);
	assert_int_equal(arena[0].sbdf, PCI_SBDF(0, 2, 0));
	/* A structure block cut before the root ends. */
	fdt_set_size_dt_struct(f, fdt_size_dt_struct(f) - 8);
	assert_int_equal(pcsc_index_build(f, arena, 16, &idx), -PCSC_EBADFDT);
	assert_string_equal(idx.msg, "pcsc FDT structure error");
	fdt_set_size_dt_struct(f, 1u << 30);
	assert_int_equal(pcsc_index_build(f, arena, 16, &idx), -PCSC_EBADFDT);
}

/* The names the next kernel's by-name lookup of "pcsc" takes. */
static void kho_child_names(void **state)
{
	(void)state;
	assert_true(pcsc_kho_child_name("pcsc", 4));
	assert_true(pcsc_kho_child_name("pcsc@1", 6));
	assert_false(pcsc_kho_child_name("pcsc1", 5));
	assert_false(pcsc_kho_child_name("pcs-", 4));
	assert_false(pcsc_kho_child_name("pcsc", 3));
	assert_false(pcsc_kho_child_name("LUO", 3));
}

static void strings_for_every_verdict_and_reason(void **state)
{
	unsigned int i;

	(void)state;
	assert_string_equal(pcsc_verdict_str(PCSC_VALID), "VALID");
	assert_string_equal(pcsc_verdict_str(PCSC_NEW), "NEW");
	assert_string_equal(pcsc_verdict_str(99), "?");
	assert_string_equal(pcsc_reason_str(PCSC_R_NONE), "");
	assert_string_equal(pcsc_reason_str(PCSC_R_DA_ALIGN), "da unaligned");
	assert_string_equal(pcsc_reason_str(PCSC_R_MAX), "?");
	for (i = 1; i < PCSC_R_MAX; i++)
		assert_true(strlen(pcsc_reason_str(i)) > 0);
}

/* pcsc_fdt_strerror says what the libfdt the images link says, code by code. */
static void fdt_strerror_matches_libfdt(void **state)
{
	int i;

	(void)state;
	for (i = -(FDT_ERR_MAX + 5); i <= 3; i++)
		assert_string_equal(pcsc_fdt_strerror(i), fdt_strerror(i));
	assert_string_equal(pcsc_fdt_strerror(-FDT_ERR_BADSTRUCTURE), "FDT_ERR_BADSTRUCTURE");
	assert_string_equal(pcsc_fdt_strerror(-1000000), fdt_strerror(-1000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_parse_accepts_canonical),
		cmocka_unit_test(fdt_strerror_matches_libfdt),
		cmocka_unit_test(name_parse_rejects_malformed),
		cmocka_unit_test(check_accepts_generated),
		cmocka_unit_test(check_names_each_failure),
		cmocka_unit_test(check_accepts_compatible_stringlist),
		cmocka_unit_test(index_sorted_with_bad_entries),
		cmocka_unit_test(index_arena_too_small),
		cmocka_unit_test(index_reads_what_libfdt_would),
		cmocka_unit_test(kho_child_names),
		cmocka_unit_test(strings_for_every_verdict_and_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
