/* test_pci_sim.c - the topology text format builds the documented config
 * spaces; VFs, CRS, loops, windows and parse errors behave as documented. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/pci_caps.h>
#include <pcsc/pci_sim.h>
#include "helpers/sim_helpers.h"

static const char *const SMALL =
	"# a root port, a switch, a multi-function device and a PF\n"
	"00:00.0 1b36:0008 class=060000\n"
	"00:01.0 1b36:000c bridge sec=1 sub=4 ari-fwd   # root port\n"
	"01:00.0 10b5:8747 bridge sec=2 sub=4\n"
	"02:00.0 10b5:8747 bridge sec=3 sub=3\n"
	"02:01.0 10b5:8747 bridge sec=4 sub=4\n"
	"\n"
	"03:00.1 8086:10fb class=020000 rev=01\n"
	"03:00.0 8086:10fb class=020000 rev=01\n"
	"04:00.0 15b3:1017 class=020000 ari sriov=8,4,1,1,1018,enabled\n";

static struct pci_sim sim;
static struct pci_cfg cfg;

static uint32_t rd(pci_sbdf_t sbdf, uint16_t reg)
{
	uint32_t v = 0;

	assert_int_equal(pci_cfg_read32(&cfg, sbdf, reg, &v), 0);
	return v;
}

/* Parse text into sim (room for cap functions) and cfg; unload frees it. */
static void load(uint32_t cap, const char *text)
{
	sim_helpers_load(&sim, cap, text);
	pci_sim_cfg_init(&cfg, &sim);
}

static int load_small(void **state)
{
	(void)state;
	load(64, SMALL);
	return 0;
}

static int unload(void **state)
{
	(void)state;
	sim_helpers_free(&sim);
	return 0;
}

static void functions_are_sorted_and_found(void **state)
{
	(void)state;
	assert_int_equal(sim.n, 8);
	for (uint32_t i = 1; i < sim.n; i++)
		assert_true(sim.funcs[i - 1].sbdf < sim.funcs[i].sbdf);
	assert_int_equal(sim.funcs[5].sbdf, PCI_SBDF(0, 3, PCI_DEVFN(0, 0)));
	assert_ptr_equal(pci_sim_func_get(&sim, PCI_SBDF(0, 3, 1)), &sim.funcs[6]);
	assert_null(pci_sim_func_get(&sim, PCI_SBDF(0, 3, 2)));
	assert_int_equal(sim.nwin, 1);
	assert_int_equal(sim.win[0].bus_start, 0);
	assert_int_equal(sim.win[0].bus_end, 255);
	assert_int_equal(cfg.cfg_size, 4096);
}

static void header_fields_follow_the_line(void **state)
{
	pci_sbdf_t nic0 = PCI_SBDF(0, 3, 0), nic1 = PCI_SBDF(0, 3, 1);
	pci_sbdf_t rp = PCI_SBDF(0, 0, PCI_DEVFN(1, 0));
	(void)state;
	assert_int_equal(rd(nic0, 0x00), 0x10fb8086);
	assert_int_equal(rd(nic0, 0x08), 0x02000001);
	assert_int_equal((rd(nic0, 0x0c) >> 16) & 0xff, 0x80);	/* multi-function */
	assert_int_equal((rd(nic1, 0x0c) >> 16) & 0xff, 0x80);
	assert_int_equal((rd(PCI_SBDF(0, 0, 0), 0x0c) >> 16) & 0xff, 0x00);
	assert_int_equal(rd(rp, 0x08) >> 8, 0x060400);		/* bridge default class */
	assert_int_equal((rd(rp, 0x0c) >> 16) & 0xff, 0x01);
	assert_int_equal(rd(rp, 0x18) & 0xffffff, 0x040100);
	assert_int_equal(rd(PCI_SBDF(0, 2, 8), 0x18) & 0xffffff, 0x040402);
}

static void pcie_capability_carries_port_type_and_ari_forwarding(void **state)
{
	uint16_t pos;
	pci_sbdf_t rp = PCI_SBDF(0, 0, PCI_DEVFN(1, 0));
	(void)state;
	assert_int_equal(pci_find_cap(&cfg, rp, PCI_CAP_ID_EXP, &pos), 0);
	assert_int_equal(pos, 0x40);
	assert_int_equal((rd(rp, pos) >> 20) & 0xf, 0x4);		/* root port */
	assert_int_equal(rd(rp, pos + PCI_EXP_DEVCTL2) & 0xffff, PCI_EXP_DEVCTL2_ARI);
	assert_int_equal((rd(PCI_SBDF(0, 1, 0), pos) >> 20) & 0xf, 0x5);	/* upstream */
	assert_int_equal(rd(PCI_SBDF(0, 1, 0), pos + PCI_EXP_DEVCTL2) & 0xffff, 0);
	assert_int_equal((rd(PCI_SBDF(0, 2, 0), pos) >> 20) & 0xf, 0x6);	/* downstream */
	assert_int_equal((rd(PCI_SBDF(0, 2, 8), pos) >> 20) & 0xf, 0x6);
	assert_int_equal((rd(PCI_SBDF(0, 3, 0), pos) >> 20) & 0xf, 0x0);	/* endpoint */
	assert_int_equal((rd(PCI_SBDF(0, 0, 0), pos) >> 20) & 0xf, 0x9);	/* RCiEP */
	assert_int_equal(pci_find_cap(&cfg, rp, 0x01, &pos), 0);		/* PM */
	assert_int_equal(pos, 0x80);
}

static void sriov_and_ari_capabilities_are_built(void **state)
{
	pci_sbdf_t pf = PCI_SBDF(0, 4, 0);
	uint16_t pos;
	(void)state;
	assert_int_equal(pci_find_ext_cap(&cfg, pf, 0x0001, &pos), 0);
	assert_int_equal(pos, 0x100);
	assert_int_equal(pci_find_ext_cap(&cfg, pf, PCI_EXT_CAP_ID_ARI, &pos), 0);
	assert_int_equal(pos, 0x148);
	assert_int_equal(PCI_ARI_CAP_NFN(rd(pf, pos + PCI_ARI_CAP)), 0);	/* alone */
	assert_int_equal(pci_find_ext_cap(&cfg, pf, PCI_EXT_CAP_ID_SRIOV, &pos), 0);
	assert_int_equal(pos, 0x160);
	assert_int_equal(rd(pf, pos + 0x08) & 0xffff, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_ARI);
	assert_int_equal(rd(pf, pos + 0x0c), 0x00080008);
	assert_int_equal(rd(pf, pos + 0x10) & 0xffff, 4);
	assert_int_equal(rd(pf, pos + 0x14), 0x00010001);
	assert_int_equal(rd(pf, pos + 0x18) >> 16, 0x1018);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 3, 0), PCI_EXT_CAP_ID_SRIOV, &pos),
			 -PCSC_ENOTFOUND);
}

static void vfs_are_synthesised_from_their_pf(void **state)
{
	uint16_t pos;
	(void)state;
	for (unsigned int n = 0; n < 4; n++) {
		pci_sbdf_t vf = PCI_SBDF(0, 4, 1 + n);

		assert_int_equal(rd(vf, 0x00), 0xffffffffu);	/* VF IDs read all ones */
		assert_int_equal(rd(vf, 0x08), 0x02000000);	/* PF's class */
		assert_int_equal(pci_find_cap(&cfg, vf, PCI_CAP_ID_EXP, &pos), 0);
	}
	assert_int_equal(rd(PCI_SBDF(0, 4, 5), 0x08), 0xffffffffu);	/* VF 4: not enabled */
	/* Clearing VF Enable in the PF's space makes them vanish. */
	sim.funcs[7].cfg[0x168] = 0;
	assert_int_equal(rd(PCI_SBDF(0, 4, 1), 0x08), 0xffffffffu);
}

static void absent_and_outside_reads(void **state)
{
	uint32_t v = 0;
	(void)state;
	assert_int_equal(rd(PCI_SBDF(0, 9, 0), 0x00), 0xffffffffu);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(1, 0, 0), 0, &v), -PCSC_ENODEV);
	assert_int_equal(v, 0xffffffffu);
}

static void crs_answers_n_vendor_reads_then_the_device(void **state)
{
	uint32_t v;
	(void)state;
	load(4, "00:02.0 8086:1234 crs=3\n00:03.0 8086:5678 crs=forever\n");
	for (int i = 0; i < 3; i++)
		assert_int_equal(rd(PCI_SBDF(0, 0, 0x10), 0), 0xffff0001u);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(0, 0, 0x10), 8, &v), 0);
	assert_int_equal(rd(PCI_SBDF(0, 0, 0x10), 0), 0x12348086);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rd(PCI_SBDF(0, 0, 0x18), 0), 0xffff0001u);
	assert_int_equal(pci_sim_func_get(&sim, PCI_SBDF(0, 0, 0x18))->crs_left, PCI_SIM_CRS_FOREVER);
}

static void loops_make_the_walkers_end_in_eloop(void **state)
{
	uint16_t pos;
	(void)state;
	load(4, "00:02.0 8086:1234 caploop\n00:03.0 8086:5678 extcaploop ari\n");
	assert_int_equal(pci_find_cap(&cfg, PCI_SBDF(0, 0, 0x10), PCI_CAP_ID_EXP, &pos), -PCSC_ELOOP);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 0, 0x10), 1, &pos), 0);
	assert_int_equal(pci_find_cap(&cfg, PCI_SBDF(0, 0, 0x18), PCI_CAP_ID_EXP, &pos), 0);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 0, 0x18), PCI_EXT_CAP_ID_ARI, &pos), 0);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 0, 0x18), PCI_EXT_CAP_ID_SRIOV, &pos),
			 -PCSC_ELOOP);
}

static void ari_chain_links_present_functions(void **state)
{
	(void)state;
	load(8, "05:00.0 8086:1 ari\n05:00.3 8086:1 ari\n05:02.1 8086:1 ari\n"
		"05:03.0 8086:1\n05:1f.7 8086:1 ari\n");
	assert_int_equal(sim.funcs[0].cfg[0x14d], 0x03);
	assert_int_equal(sim.funcs[1].cfg[0x14d], 0x11);
	assert_int_equal(sim.funcs[2].cfg[0x14d], 0xff);	/* skips the non-ARI 03.0 */
	assert_int_equal(sim.funcs[4].cfg[0x14d], 0x00);
}

static void nomulti_and_legacy(void **state)
{
	uint16_t pos;
	(void)state;
	load(8, "00:02.0 8086:1 nomulti\n00:02.1 8086:2\n00:04.0 1000:0030 legacy\n");
	assert_int_equal(sim.funcs[0].cfg[0x0e], 0x00);
	assert_int_equal(sim.funcs[1].cfg[0x0e], 0x80);
	assert_int_equal(pci_find_cap(&cfg, PCI_SBDF(0, 0, 0x20), PCI_CAP_ID_EXP, &pos), -PCSC_ENOTFOUND);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 0, 0x20), 1, &pos), -PCSC_ENOTFOUND);
}

static void windows_bound_the_segment(void **state)
{
	uint32_t v;
	(void)state;
	load(8, "window 0 0 f\nwindow 1 80 8f 5000000000\n"
		"00:01.0 8086:1\n0001:81:00.0 8086:2\n");
	assert_int_equal(sim.nwin, 2);
	assert_int_equal(sim.win[1].seg, 1);
	assert_int_equal(sim.win[1].bus_start, 0x80);
	assert_int_equal(sim.win[1].bus_end, 0x8f);
	assert_int_equal(sim.win[1].base, 0x5000000000ull);
	assert_int_equal(rd(PCI_SBDF(1, 0x81, 0), 0), 0x00028086);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(1, 0x90, 0), 0, &v), -PCSC_ENODEV);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(0, 0x10, 0), 0, &v), -PCSC_ENODEV);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(0, 0x0f, 0), 0, &v), 0);
}

/* Parse text and expect err at line. */
static void expect_error(const char *text, uint32_t cap, int err, unsigned int line)
{
	struct pci_sim s;
	struct pci_sim_func *arena = calloc(cap ? cap : 1, sizeof(*arena));
	unsigned int got = 0;

	pci_sim_init(&s, arena, cap);
	assert_int_equal(pci_sim_parse(&s, text, strlen(text), &got), err);
	assert_int_equal(got, line);
	free(arena);
}

static void parse_errors_name_their_line(void **state)
{
	(void)state;
	expect_error("00:00.0 8086:1\n00:01.0 8086:1 bogus\n", 4, -PCSC_EPARSE, 2);
	expect_error("00:20.0 8086:1\n", 4, -PCSC_EPARSE, 1);		/* device 0x20 */
	expect_error("00:00.8 8086:1\n", 4, -PCSC_EPARSE, 1);
	expect_error("100:00.0 8086:1\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:00.0 18086:1\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:00.0\n", 4, -PCSC_EPARSE, 1);
	expect_error("# c\n\n00:00.0 8086:1\n00:00.0 8086:2\n", 4, -PCSC_EDUP, 4);
	expect_error("00:00.0 8086:1\n00:01.0 8086:1\n", 1, -PCSC_ENOSPC, 2);
	expect_error("00:01.0 8086:1 bridge sec=1\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:01.0 8086:1 sec=1 sub=1\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:01.0 8086:1 sriov=4,5,1,1,10\n", 4, -PCSC_EPARSE, 1);	/* num > total */
	expect_error("00:01.0 8086:1 sriov=4,4,1,1\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:01.0 8086:1 sriov=4,4,1,1,10,on\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:01.0 8086:1 legacy sriov=4,4,1,1,10\n", 4, -PCSC_EPARSE, 1);
	expect_error("00:01.0 8086:1 crs=-1\n", 4, -PCSC_EPARSE, 1);
	expect_error("window 0 0 f\n00:01.0 8086:1\n10:00.0 8086:1\n", 4, -PCSC_EPARSE, 3);
	expect_error("window 0 0 f\nwindow 0 f 1f\n", 4, -PCSC_EPARSE, 2);
	expect_error("window 0 10 f\n", 4, -PCSC_EPARSE, 1);
	expect_error("window 0 0 f 1234\n", 4, -PCSC_EPARSE, 1);		/* unaligned base */
	expect_error("00:01.0 8086:1\nwindow 0 0 f\n", 4, -PCSC_EPARSE, 2);	/* default taken */
}

static void many_vfs_cost_no_storage(void **state)
{
	(void)state;
	/* Two PFs with 65,535 + 1 VFs spread over 256 buses' worth of RIDs. */
	load(2, "00:00.0 8086:10 sriov=65535,65535,1,1,11,enabled\n"
		"00:00.1 8086:10 sriov=1,1,0,0,12,enabled\n");
	assert_int_equal(sim.n, 2);
	/* VF 65534 of PF 00.0: class 0 like its PF */
	assert_int_equal(rd(PCI_SBDF(0, 0xff, 0xff), 8), 0);
	assert_int_equal(rd(PCI_SBDF(0, 0x80, 0x00), 0), 0xffffffffu);
}

static void fixtures_parse(void **state)
{
	static const char *const names[] = {
		"default.topo", "big.topo", "hostile.topo", "vf4096.topo", "virt-nofw.topo",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pci_sim s;

		sim_helpers_load_fixture(&s, 512, names[i]);
		assert_true(s.n > 0);
		sim_helpers_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(functions_are_sorted_and_found, load_small, unload),
		cmocka_unit_test_setup_teardown(header_fields_follow_the_line, load_small, unload),
		cmocka_unit_test_setup_teardown(pcie_capability_carries_port_type_and_ari_forwarding,
						load_small, unload),
		cmocka_unit_test_setup_teardown(sriov_and_ari_capabilities_are_built, load_small, unload),
		cmocka_unit_test_setup_teardown(vfs_are_synthesised_from_their_pf, load_small, unload),
		cmocka_unit_test_setup_teardown(absent_and_outside_reads, load_small, unload),
		cmocka_unit_test_teardown(crs_answers_n_vendor_reads_then_the_device, unload),
		cmocka_unit_test_teardown(loops_make_the_walkers_end_in_eloop, unload),
		cmocka_unit_test_teardown(ari_chain_links_present_functions, unload),
		cmocka_unit_test_teardown(nomulti_and_legacy, unload),
		cmocka_unit_test_teardown(windows_bound_the_segment, unload),
		cmocka_unit_test(parse_errors_name_their_line),
		cmocka_unit_test_teardown(many_vfs_cost_no_storage, unload),
		cmocka_unit_test(fixtures_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
