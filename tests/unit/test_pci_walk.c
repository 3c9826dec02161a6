/* test_pci_walk.c - the walk over simulated topologies returns exactly the
 * expected functions, counts every anomaly once, ends on hostile input, and
 * makes a known, small number of config reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/pci.h>
#include <pcsc/pci_walk.h>
#include "helpers/sim_helpers.h"

#define ARENA	1024	/* physical functions: VFs take no room */

static struct pci_sim sim;
static struct pci_cfg cfg;
static struct pci_walk w;
static uint32_t arena[PCI_WALK_ARENA(ARENA) / 4];

/* Log capture: every walk anomaly is one line starting "pcsc: walk: ". */
static unsigned int log_lines;
static char last_log[256];

static void sink(const char *line, size_t len)
{
	assert_int_equal(strncmp(line, "pcsc: walk: ", 12), 0);
	assert_int_equal(line[len - 1], '\n');
	snprintf(last_log, sizeof(last_log), "%s", line);
	log_lines++;
}

/* Load text, walk every window, finish. Returns the walk's result. */
static int walk_text(const char *text, uint32_t cap)
{
	int ret = 0;

	sim_helpers_load(&sim, 512, text);
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(cap));
	log_lines = 0;
	pcsc_log_set_sink(sink);
	for (unsigned int i = 0; i < sim.nwin; i++) {
		int r = pci_walk_window(&w, &cfg, &sim.win[i]);

		if (r)
			ret = r;
	}
	pci_walk_finish(&w);
	pcsc_log_set_sink(NULL);
	return ret;
}

static int walk_fixture(const char *name)
{
	static char buf[1 << 16];

	sim_helpers_read_fixture(name, buf, sizeof(buf));
	return walk_text(buf, ARENA);
}

static int teardown(void **state)
{
	(void)state;
	sim_helpers_free(&sim);
	return 0;
}

/* Compare the walk with expected lines (sim_helpers_func_str format). */
static void expect_list(const char *const *want, uint32_t n)
{
	struct pci_walk_iter it;
	const struct pci_func *f;
	char got[128];
	uint32_t i = 0;

	for (f = pci_walk_first(&it, &w); f && i < n; f = pci_walk_next(&it), i++) {
		sim_helpers_func_str(f, got, sizeof(got));
		if (strcmp(got, want[i]))
			fail_msg("entry %u: got \"%s\", want \"%s\"", i, got, want[i]);
	}
	assert_int_equal(w.n, n);
	assert_int_equal(i, n);
	assert_null(f);
}

static void expect_stats(uint32_t buses, uint32_t crs, uint32_t loops, uint32_t bad,
			 uint32_t unnumbered, uint32_t vf_out, uint32_t overflow)
{
	assert_int_equal(w.stats.buses, buses);
	assert_int_equal(w.stats.crs_timeouts, crs);
	assert_int_equal(w.stats.cap_loops, loops);
	assert_int_equal(w.stats.bad_bridges, bad);
	assert_int_equal(w.stats.unnumbered_bridges, unnumbered);
	assert_int_equal(w.stats.vf_out_of_range, vf_out);
	assert_int_equal(w.stats.overflow, overflow);
}

static const char *const BIG_PHYS[] = {
	"0000:00:00.0 1b36:0008 060000 h0 ----E pf=-",
	"0000:00:01.0 1b36:000c 060400 h1 B---E pf=-",
	"0000:00:02.0 1b36:000c 060400 h1 B---E pf=-",
	"0000:01:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:02:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:02:01.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:03:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:04:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:05:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:06:00.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:06:01.0 10b5:8796 060400 h1 B---E pf=-",
	"0000:07:00.0 144d:a808 010802 h0 ----E pf=-",
	"0000:09:00.0 8086:1521 020000 h0 ----E pf=-",
	"0000:09:00.1 8086:1521 020000 h0 ----E pf=-",
	"0000:09:00.2 8086:1521 020000 h0 ----E pf=-",
	"0000:09:00.3 8086:1521 020000 h0 ----E pf=-",
	"0000:0a:00.0 15b3:101d 020000 h0 -P-AE pf=-",
	"0000:0a:00.1 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.2 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.3 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.4 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.5 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.6 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:00.7 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.0 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.1 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.2 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.3 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.4 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.5 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.6 15b3:101d 020000 h0 ---AE pf=-",
	"0000:0a:01.7 15b3:101d 020000 h0 ---AE pf=-",
};

/* Issue 2 "Done when": 2 root ports, a 3-level switch, a multi-function
 * device, a 16-function ARI device, a PF with 64 enabled VFs. */
static void big_topology_gives_the_exact_list(void **state)
{
	static char want_buf[96][128];
	const char *want[96];
	uint32_t np = sizeof(BIG_PHYS) / sizeof(BIG_PHYS[0]);
	(void)state;

	assert_int_equal(walk_fixture("big.topo"), 0);
	for (uint32_t i = 0; i < np; i++)
		want[i] = BIG_PHYS[i];
	/* VF n of PF 0a:00.0 (index 16): RID 0x0a00 + 224 + n, across into bus 0b. */
	for (uint32_t n = 0; n < 64; n++) {
		uint32_t rid = 0x0a00 + 224 + n;

		snprintf(want_buf[n], sizeof(want_buf[n]),
			 "0000:%02x:%02x.%x 15b3:101e ffffff h0 --V-- pf=16",
			 rid >> 8, (rid >> 3) & 0x1f, rid & 7);
		want[np + n] = want_buf[n];
	}
	expect_list(want, np + 64);
	expect_stats(11, 0, 0, 0, 0, 0, 0);
	assert_int_equal(log_lines, 0);
	assert_int_equal(sim_helpers_nth(&w, 95)->sbdf, PCI_SBDF(0, 0x0b, PCI_DEVFN(3, 7)));
	assert_int_equal(sim_helpers_nth(&w, 40)->class_rev, PCI_CLASS_UNKNOWN);
	assert_int_equal(w.funcs[16].class_rev, 0x02000000);
	/* 32 physical functions and one range: no byte per VF. */
	assert_int_equal(w.nphys, np);
	assert_int_equal(w.nranges, 1);
	assert_int_equal(w.ranges[0].pf, 16);
	assert_int_equal(pci_vf_range_count(&w.ranges[0]), 64);
	print_message("big.topo: %u functions (%u physical + 64 VFs), %llu config reads\n",
		      w.n, np, (unsigned long long)cfg.reads);
	/* The cost is part of the contract: VFs are derived, never read;
	 * absent slots cost one read; only device 0 below a port. */
	assert_int_equal(cfg.reads, 407);
}

static void hostile_topology_ends_and_counts_each_anomaly(void **state)
{
	static const char *const want[] = {
		"0000:00:00.0 1b36:0008 060000 h0 ----E pf=-",
		"0000:00:01.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:02.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:03.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:04.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:05.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:06.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:07.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:08.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:09.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:0a.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:02:00.0 10b5:8796 060400 h1 B---E pf=-",
		"0000:06:00.0 8086:1533 020000 h0 ----- pf=-",	/* caploop hides PCIe */
		"0000:07:00.0 8086:1533 020000 h0 ----E pf=-",
		"0000:08:00.0 8086:1533 020000 h0 ----E pf=-",	/* ready after 5 CRS */
		"0000:10:00.0 10b5:8796 060400 h1 B---E pf=-",
		"0000:11:00.0 8086:1533 020000 h0 ----E pf=-",
		"0000:fe:00.0 8086:10fb 020000 h0 -P--E pf=-",
		"0000:ff:1e.0 8086:10ed ffffff h0 --V-- pf=17",
	};
	(void)state;
	assert_int_equal(walk_fixture("hostile.topo"), 0);
	expect_list(want, sizeof(want) / sizeof(want[0]));
	/* buses 00 02 06 07 08 09 10 11 fe; 09:00.0 CRS forever; caploop +
	 * extcaploop; 02:00.0, 00:03.0, 00:04.0 bad, 10:00.0 bad but followed
	 * up to its parent's bus 12; 00:01.0 unnumbered; VFs 1..7 of fe:00.0
	 * past bus ff. */
	expect_stats(9, 1, 2, 4, 1, 7, 0);
	assert_int_equal(log_lines, 9);
	print_message("hostile.topo: %u functions, %llu config reads (1001 spent on CRS forever)\n",
		      w.n, (unsigned long long)cfg.reads);
}

static void default_topology_gives_the_exact_list(void **state)
{
	static const char *const want[] = {
		"0000:00:00.0 8086:29c0 060000 h0 ----E pf=-",
		"0000:00:01.0 1234:1111 030000 h0 ----E pf=-",
		"0000:00:02.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:02.1 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:02.2 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:02.3 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:1f.0 8086:2918 060100 h0 ----E pf=-",
		"0000:00:1f.2 8086:2922 010601 h0 ----E pf=-",
		"0000:00:1f.3 8086:2930 0c0500 h0 ----E pf=-",
		"0000:01:00.0 1af4:1041 020000 h0 ----E pf=-",
		"0000:02:00.0 1b36:0010 010802 h0 ----E pf=-",
		"0000:03:00.0 8086:10c9 020000 h0 -P-AE pf=-",
		"0000:03:10.0 8086:10ca ffffff h0 --V-- pf=11",
		"0000:03:10.2 8086:10ca ffffff h0 --V-- pf=11",
		"0000:03:10.4 8086:10ca ffffff h0 --V-- pf=11",
		"0000:03:10.6 8086:10ca ffffff h0 --V-- pf=11",
		"0000:04:00.0 1af4:1042 010000 h0 ----E pf=-",
	};
	(void)state;
	assert_int_equal(walk_fixture("default.topo"), 0);
	expect_list(want, sizeof(want) / sizeof(want[0]));
	expect_stats(5, 0, 0, 0, 0, 0, 0);
	print_message("default.topo: %u functions, %llu config reads\n", w.n,
		      (unsigned long long)cfg.reads);
}

static void virt_without_firmware_lists_the_root_bus(void **state)
{
	static const char *const want[] = {
		"0000:00:00.0 1b36:0008 060000 h0 ----E pf=-",
		"0000:00:01.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:01.1 1b36:000c 060400 h1 B---E pf=-",
		"0000:00:02.0 1af4:1000 020000 h0 ----E pf=-",
	};
	(void)state;
	assert_int_equal(walk_fixture("virt-nofw.topo"), 0);
	expect_list(want, 4);
	expect_stats(1, 0, 0, 0, 2, 0, 0);
	assert_int_equal(log_lines, 2);
}

static void vf4096_costs_no_reads_per_vf(void **state)
{
	struct pci_walk_iter it;
	const struct pci_func *f;
	(void)state;
	assert_int_equal(walk_fixture("vf4096.topo"), 0);
	assert_int_equal(w.n, 5 + 4 + 4096);
	expect_stats(5, 0, 0, 0, 0, 0, 0);
	/* 9 physical functions in the arena, 4096 VFs in 4 ranges. */
	assert_int_equal(w.nphys, 9);
	assert_int_equal(w.nranges, 4);
	f = pci_walk_first(&it, &w);
	for (uint32_t i = 0; i < 5; i++)
		f = pci_walk_next(&it);
	for (uint32_t pf = 0; pf < 4; pf++) {
		uint32_t bus = 0x10 * (pf + 1);
		uint32_t pfi = 5 + pf;

		assert_ptr_equal(f, &w.funcs[pfi]);
		assert_int_equal(f->sbdf, PCI_SBDF(0, bus, 0));
		assert_int_equal(f->flags, PCI_FUNC_PF | PCI_FUNC_ARI | PCI_FUNC_PCIE);
		for (uint32_t n = 0; n < 1024; n++) {
			f = pci_walk_next(&it);
			assert_int_equal(f->sbdf, PCI_SBDF(0, 0, 0) + (bus << 8) + 1 + n);
			assert_int_equal(f->pf, pfi);
			assert_int_equal(f->device, 0x1889);
		}
		f = pci_walk_next(&it);
	}
	assert_null(f);
	f = sim_helpers_find(&w, PCI_SBDF(0, 0x44, 0));
	assert_non_null(f);
	assert_int_equal(f->flags, PCI_FUNC_VF);
	assert_int_equal(f->vendor, 0x8086);
	assert_null(sim_helpers_find(&w, PCI_SBDF(0, 0x44, 1)));
	print_message("vf4096.topo: %u functions, %llu config reads\n", w.n,
		      (unsigned long long)cfg.reads);
	assert_true(cfg.reads < 200);
}

static void empty_bus_costs_one_read_per_device(void **state)
{
	(void)state;
	assert_int_equal(walk_text("window 0 00 00\n", 16), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(cfg.reads, 32);
	expect_stats(1, 0, 0, 0, 0, 0, 0);
}

static void functions_beyond_0_need_bit_7_of_function_0(void **state)
{
	static const char *const want[] = {
		"0000:00:02.0 8086:0001 000000 h0 ----E pf=-",
		"0000:00:04.0 8086:0003 000000 h0 ----E pf=-",
		"0000:00:04.5 8086:0004 000000 h0 ----E pf=-",
	};
	(void)state;
	/* 02.1 hidden by nomulti on 02.0; 03.1 has no function 0. */
	assert_int_equal(walk_text("00:02.0 8086:1 nomulti\n00:02.1 8086:2\n00:03.1 8086:9\n"
				   "00:04.0 8086:3\n00:04.5 8086:4\n", 16), 0);
	expect_list(want, 3);
}

static void below_a_port_only_device_0_is_probed(void **state)
{
	static const char *const want[] = {
		"0000:00:01.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:01:00.0 8086:0001 000000 h0 ----E pf=-",
		"0000:01:00.1 8086:0002 000000 h0 ----E pf=-",
	};
	(void)state;
	assert_int_equal(walk_text("00:01.0 1b36:000c bridge sec=1 sub=1\n"
				   "01:00.0 8086:1\n01:00.1 8086:2\n01:05.0 8086:3\n", 16), 0);
	expect_list(want, 3);
}

static void ari_device_without_forwarding_shows_8_functions(void **state)
{
	char text[2048];
	size_t off;
	(void)state;
	off = (size_t)snprintf(text, sizeof(text), "00:01.0 1b36:000c bridge sec=1 sub=1\n");
	for (int fn = 0; fn < 16; fn++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "01:%02x.%x 15b3:1 ari\n",
					fn >> 3, fn & 7);
	assert_int_equal(walk_text(text, 64), 0);
	assert_int_equal(w.n, 1 + 8);
	assert_int_equal(w.funcs[8].sbdf, PCI_SBDF(0, 1, 7));
	assert_int_equal(w.funcs[8].flags, PCI_FUNC_PCIE);	/* not via the ARI chain */
}

static void ari_chain_reaches_sparse_functions(void **state)
{
	static const char *const want[] = {
		"0000:00:01.0 1b36:000c 060400 h1 B---E pf=-",
		"0000:01:00.0 15b3:0001 000000 h0 ---AE pf=-",
		"0000:01:00.3 15b3:0002 000000 h0 ---AE pf=-",
		"0000:01:10.1 15b3:0003 000000 h0 ---AE pf=-",
		"0000:01:1f.7 15b3:0004 000000 h0 ---AE pf=-",
	};
	(void)state;
	assert_int_equal(walk_text("00:01.0 1b36:000c bridge sec=1 sub=1 ari-fwd\n"
				   "01:00.0 15b3:1 ari\n01:00.3 15b3:2 ari\n01:10.1 15b3:3 ari\n"
				   "01:1f.7 15b3:4 ari\n", 16), 0);
	expect_list(want, 5);
	/* 5 reads for the port's bus, then per function: id, class, header,
	 * status, cap ptr, PCIe cap, AER, ARI header, ARI cap; none between. */
	print_message("ARI chain of 4: %llu config reads\n", (unsigned long long)cfg.reads);
}

static void ari_chain_going_backwards_ends(void **state)
{
	(void)state;
	sim_helpers_load(&sim, 16, "00:01.0 1b36:000c bridge sec=1 sub=1 ari-fwd\n"
				   "01:00.0 15b3:1 ari\n01:00.1 15b3:2 ari\n01:00.2 15b3:3 ari\n");
	/* Function 2 points back at function 1: a loop. */
	pci_sim_func_get(&sim, PCI_SBDF(0, 1, 2))->cfg[0x14d] = 0x01;
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(16));
	assert_int_equal(pci_walk_window(&w, &cfg, &sim.win[0]), 0);
	pci_walk_finish(&w);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.stats.cap_loops, 1);
}

static void non_ari_device_below_ari_port_scans_device_0(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:01.0 1b36:000c bridge sec=1 sub=1 ari-fwd\n"
				   "01:00.0 8086:1\n01:00.2 8086:2\n01:01.0 8086:3\n", 16), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.funcs[2].sbdf, PCI_SBDF(0, 1, 2));
	assert_int_equal(w.funcs[2].flags, PCI_FUNC_PCIE);
}

static void unnumbered_bridges_are_counted_and_skipped(void **state)
{
	(void)state;
	/* As QEMU virt leaves them without firmware: secondary = subordinate = 0. */
	assert_int_equal(walk_text("00:00.0 1b36:0008 class=060000\n"
				   "00:01.0 1b36:000c bridge sec=0 sub=0\n"
				   "00:02.0 1b36:000c bridge sec=0 sub=0\n", 16), 0);
	assert_int_equal(w.n, 3);
	expect_stats(1, 0, 0, 0, 2, 0, 0);
	assert_int_equal(log_lines, 2);
	assert_string_equal(last_log, "pcsc: walk: 0000:00:02.0 bridge unnumbered "
				      "(secondary 0): nothing behind it seen\n");
}

static void bridge_secondary_not_above_its_bus_is_bad(void **state)
{
	(void)state;
	/* A conventional PCI-to-PCI bridge: every device of bus 1 is probed.
	 * 01:00.0 points at its own bus, 01:01.0 back at bus 0. */
	assert_int_equal(walk_text("00:01.0 1b36:0001 bridge sec=1 sub=3 legacy\n"
				   "01:00.0 10b5:1 bridge sec=1 sub=1\n"
				   "01:01.0 10b5:1 bridge sec=0 sub=3\n"
				   "01:02.0 10b5:1 bridge sec=2 sub=2\n"
				   "02:00.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 5);
	assert_int_equal(w.funcs[4].sbdf, PCI_SBDF(0, 2, 0));
	/* Secondary 0 reads as "unnumbered", whatever the subordinate says. */
	expect_stats(3, 0, 0, 1, 1, 0, 0);
}

static void subordinate_below_secondary_is_bad(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:01.0 1b36:000c bridge sec=5 sub=4\n05:00.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 1);
	expect_stats(1, 0, 0, 1, 0, 0, 0);
	assert_non_null(strstr(last_log, "inverted"));
}

static void two_bridges_claiming_one_bus_walk_it_once(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:01.0 1b36:000c bridge sec=1 sub=2\n"
				   "00:02.0 1b36:000c bridge sec=2 sub=2\n"
				   "00:03.0 1b36:000c bridge sec=1 sub=1\n"
				   "01:00.0 8086:1\n02:00.0 8086:2\n", 16), 0);
	/* 00:02.0's bus 2 lies inside 00:01.0's range: claimed. */
	assert_int_equal(w.n, 4);
	assert_int_equal(w.funcs[3].sbdf, PCI_SBDF(0, 1, 0));
	expect_stats(2, 0, 0, 2, 0, 0, 0);
}

static void bridge_outside_the_window_is_bad(void **state)
{
	(void)state;
	assert_int_equal(walk_text("window 0 00 0f\n00:01.0 1b36:000c bridge sec=10 sub=10 legacy\n",
				   16), 0);
	assert_int_equal(w.n, 1);
	expect_stats(1, 0, 0, 1, 0, 0, 0);
	assert_non_null(strstr(last_log, "outside the ECAM window: not followed"));
}

static void bridge_reaching_past_the_window_is_clamped(void **state)
{
	(void)state;
	assert_int_equal(walk_text("window 0 00 0f\n00:02.0 1b36:000c bridge sec=0f sub=10 legacy\n"
				   "0f:00.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 2);
	expect_stats(2, 0, 0, 1, 0, 0, 0);
	assert_string_equal(last_log, "pcsc: walk: 0000:00:02.0 bridge secondary 0f subordinate 10 "
				      "past the ECAM window: walked up to its end\n");
}

static void child_reaching_past_its_parent_is_clamped(void **state)
{
	(void)state;
	/* 01:00.0 claims 02..05 but its parent forwards only up to 03. */
	assert_int_equal(walk_text("00:01.0 1b36:1 bridge sec=1 sub=3 legacy\n"
				   "01:00.0 1b36:1 bridge sec=2 sub=5 legacy\n"
				   "01:01.0 1b36:1 bridge sec=4 sub=4 legacy\n"
				   "02:00.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 4);
	/* 01:01.0: bus 4 is outside 00:01.0's range 1..3. */
	expect_stats(3, 0, 0, 2, 0, 0, 0);
	assert_non_null(strstr(last_log, "outside its parent's range: not followed"));
}

static void crs_within_budget_is_present(void **state)
{
	uint64_t base;
	(void)state;
	assert_int_equal(walk_text("window 0 0 0\n00:00.0 8086:1 crs=3\n", 16), 0);
	assert_int_equal(w.n, 1);
	expect_stats(1, 0, 0, 0, 0, 0, 0);
	base = cfg.reads;
	sim_helpers_free(&sim);
	assert_int_equal(walk_text("window 0 0 0\n00:00.0 8086:1\n", 16), 0);
	assert_int_equal(base - cfg.reads, 3);	/* exactly the retries */
}

static void crs_beyond_budget_is_absent(void **state)
{
	(void)state;
	sim_helpers_load(&sim, 4, "window 0 0 0\n00:00.0 8086:1 crs=forever\n00:01.0 8086:2 crs=11\n");
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(16));
	w.crs_budget = 10;
	assert_int_equal(pci_walk_window(&w, &cfg, &sim.win[0]), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.stats.crs_timeouts, 2);
	assert_int_equal(cfg.reads, 30 + 2 * 11);	/* 30 empty slots, 11 reads each */
}

static void vfs_need_vf_enable(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:02.0 8086:10fb sriov=8,8,1,1,10ed\n", 16), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.funcs[0].flags, PCI_FUNC_PCIE);
	sim_helpers_free(&sim);
	assert_int_equal(walk_text("00:02.0 8086:10fb sriov=8,0,1,1,10ed,enabled\n", 16), 0);
	assert_int_equal(w.n, 1);
}

static void vfs_past_the_window_are_counted(void **state)
{
	(void)state;
	/* Offset 0x100 puts the VFs on bus 01, outside a one-bus window. */
	assert_int_equal(walk_text("window 0 0 0\n00:02.0 8086:10fb sriov=4,4,256,1,10ed,enabled\n",
				   16), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.funcs[0].flags, PCI_FUNC_PF | PCI_FUNC_PCIE);
	expect_stats(1, 0, 0, 0, 0, 4, 0);
	assert_non_null(strstr(last_log, "4 of 4 VFs past bus 00"));
}

static void num_vfs_above_total_vfs_is_clamped(void **state)
{
	(void)state;
	sim_helpers_load(&sim, 4, "window 0 0 0\n00:02.0 8086:10fb sriov=4,4,8,1,10ed,enabled\n");
	/* NumVFs 6 > TotalVFs 4: the simulated VFs answer, the walk still
	 * derives only 4. */
	pci_sim_func_get(&sim, PCI_SBDF(0, 0, 0x10))->cfg[0x170] = 6;
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(16));
	log_lines = 0;
	pcsc_log_set_sink(sink);
	assert_int_equal(pci_walk_window(&w, &cfg, &sim.win[0]), 0);
	pcsc_log_set_sink(NULL);
	pci_walk_finish(&w);
	assert_int_equal(w.n, 5);
	assert_int_equal(sim_helpers_nth(&w, 4)->sbdf, PCI_SBDF(0, 0, 0x1b));
	expect_stats(1, 0, 0, 0, 0, 2, 0);
	assert_int_equal(log_lines, 1);
	assert_non_null(strstr(last_log, "NumVFs 6 > TotalVFs 4"));
}

static void full_arena_is_enospc_and_counted(void **state)
{
	(void)state;
	/* The PF and its 8 VFs take one entry: 00:03.0 is the one lost. */
	assert_int_equal(walk_text("00:02.0 8086:10fb sriov=8,8,1,1,10ed,enabled\n00:03.0 8086:1\n",
				   1), -PCSC_ENOSPC);
	assert_int_equal(w.n, 9);
	assert_int_equal(w.stats.overflow, 1);
	assert_int_equal(log_lines, 1);
}

static void vfs_take_no_arena(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:02.0 8086:10fb sriov=8,8,1,1,10ed,enabled\n", 1), 0);
	assert_int_equal(w.n, 9);
	assert_int_equal(w.nphys, 1);
	assert_int_equal(w.stats.overflow, 0);
}

static void a_dropped_pf_loses_its_vfs_too(void **state)
{
	(void)state;
	assert_int_equal(walk_text("00:01.0 8086:1\n00:02.0 8086:10fb sriov=8,8,1,1,10ed,enabled\n",
				   1), -PCSC_ENOSPC);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.nranges, 0);
	assert_int_equal(w.stats.overflow, 9);	/* the PF and its 8 VFs */
}

static void legacy_functions_skip_extended_space(void **state)
{
	(void)state;
	assert_int_equal(walk_text("window 0 0 0\n00:00.0 1000:0030 legacy\n", 16), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.funcs[0].flags, 0);
	/* id, class, header, status, cap ptr, PM entry + 31 empty slots. */
	assert_int_equal(cfg.reads, 6 + 31);
}

static void segments_sort_after_one_another(void **state)
{
	(void)state;
	assert_int_equal(walk_text("window 1 00 0f\nwindow 0 00 0f 4020000000\n"
				   "0001:00:01.0 8086:2\n00:03.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.funcs[0].sbdf, PCI_SBDF(0, 0, PCI_DEVFN(3, 0)));
	assert_int_equal(w.funcs[1].sbdf, PCI_SBDF(1, 0, PCI_DEVFN(1, 0)));
	assert_int_equal(w.stats.buses, 2);
}

static void finish_is_idempotent_and_find_works(void **state)
{
	struct pci_func before[16];
	struct pci_vf_range rbefore[16];
	(void)state;
	assert_int_equal(walk_text("00:02.0 8086:10fb ari sriov=8,3,8,1,10ed,enabled\n"
				   "00:01.0 8086:1\n", 16), 0);
	assert_int_equal(w.n, 5);
	assert_int_equal(w.nphys, 2);
	assert_int_equal(sim_helpers_nth(&w, 2)->pf, 1);
	memcpy(before, w.funcs, w.nphys * sizeof(w.funcs[0]));
	memcpy(rbefore, w.ranges, w.nranges * sizeof(w.ranges[0]));
	pci_walk_finish(&w);
	assert_memory_equal(before, w.funcs, w.nphys * sizeof(w.funcs[0]));
	assert_memory_equal(rbefore, w.ranges, w.nranges * sizeof(w.ranges[0]));
	for (uint32_t i = 0; i < w.nphys; i++) {
		assert_ptr_equal(sim_helpers_find(&w, w.funcs[i].sbdf), &w.funcs[i]);
		assert_int_equal(w.funcs[i].reserved, 0);
		assert_int_equal(w.funcs[i].pf, PCI_PF_NONE);
	}
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(sim_helpers_find(&w, PCI_SBDF(0, 0, 0x18 + i))->flags, PCI_FUNC_VF);
	assert_null(sim_helpers_find(&w, PCI_SBDF(0, 0, 0)));
	assert_null(sim_helpers_find(&w, PCI_SBDF(0, 0xff, 0xff)));
}

static void windows_walked_after_a_finish_merge_in(void **state)
{
	(void)state;
	sim_helpers_load(&sim, 16, "window 1 00 0f\nwindow 0 00 0f 4020000000\n"
				   "0001:00:02.0 8086:10fb ari sriov=8,2,8,1,10ed,enabled\n"
				   "00:02.0 8086:10fb ari sriov=8,3,8,1,10ed,enabled\n"
				   "00:01.0 8086:1\n");
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(16));
	/* Segment 1 first, finish, then segment 0, finish again. */
	assert_int_equal(pci_walk_window(&w, &cfg, &sim.win[0]), 0);
	pci_walk_finish(&w);
	assert_int_equal(w.ranges[0].pf, 0);
	assert_int_equal(pci_walk_window(&w, &cfg, &sim.win[1]), 0);
	pci_walk_finish(&w);
	assert_int_equal(w.n, 8);
	assert_int_equal(w.nranges, 2);
	assert_int_equal(w.ranges[0].pf, 1);	/* 0000:00:02.0 */
	assert_int_equal(w.ranges[0].first, PCI_SBDF(0, 0, 0x18));
	assert_int_equal(w.ranges[1].pf, 2);	/* 0001:00:02.0 */
	assert_int_equal(sim_helpers_nth(&w, 4)->sbdf, PCI_SBDF(0, 0, 0x1a));
	assert_int_equal(sim_helpers_nth(&w, 5)->sbdf, PCI_SBDF(1, 0, 0x10));
	assert_int_equal(sim_helpers_nth(&w, 7)->sbdf, PCI_SBDF(1, 0, 0x19));
	assert_int_equal(sim_helpers_nth(&w, 7)->pf, 2);
	assert_null(sim_helpers_nth(&w, 8));
}

static void inverted_window_is_refused(void **state)
{
	struct ecam_window bad = { .base = 0, .seg = 0, .bus_start = 5, .bus_end = 4 };
	(void)state;
	sim_helpers_load(&sim, 4, "00:00.0 8086:1\n");
	pci_sim_cfg_init(&cfg, &sim);
	pci_walk_init(&w, arena, PCI_WALK_ARENA(16));
	assert_int_equal(pci_walk_window(&w, &cfg, &bad), -PCSC_ERANGE);
	assert_int_equal(cfg.reads, 0);
}

static void init_sets_defaults(void **state)
{
	struct pci_walk x;
	(void)state;
	memset(&x, 0x5a, sizeof(x));
	pci_walk_init(&x, arena, PCI_WALK_ARENA(7) + PCI_WALK_FUNC_BYTES - 1);
	assert_ptr_equal(x.funcs, arena);
	assert_ptr_equal(x.ranges, (char *)arena + 7 * sizeof(struct pci_func));
	assert_ptr_equal(x.heap, (char *)arena + 7 * (sizeof(struct pci_func) +
						       sizeof(struct pci_vf_range)));
	assert_int_equal(x.cap, 7);
	assert_int_equal(x.n + x.nphys + x.nranges, 0);
	assert_int_equal(x.crs_budget, 1000);
	assert_int_equal(x.stats.buses + x.stats.overflow + x.stats.bad_bridges, 0);
}

static void a_pf_with_65535_vfs_fills_the_segment(void **state)
{
	struct pci_walk_iter it;
	const struct pci_func *f;
	(void)state;
	/* VFs on every other RID of bus 00..ff: the root-bus scan reads their
	 * all-ones IDs and skips them; the walk derives all 65,535. */
	assert_int_equal(walk_text("00:00.0 8086:10fb sriov=65535,65535,1,1,10ed,enabled\n",
				   ARENA), 0);
	assert_int_equal(w.n, 65536);
	assert_int_equal(w.nphys, 1);
	f = pci_walk_first(&it, &w);
	for (uint32_t i = 1; i < w.n; i++) {
		f = pci_walk_next(&it);
		assert_int_equal(f->sbdf, i);
		assert_int_equal(f->pf, 0);
	}
	assert_null(pci_walk_next(&it));
	expect_stats(1, 0, 0, 0, 0, 0, 0);
	print_message("65535 VFs: %u functions, %llu config reads\n", w.n,
		      (unsigned long long)cfg.reads);
	assert_true(cfg.reads < 64);
}

/* ---- the iterator: physical functions and VF ranges merged by SBDF ---- */

#define D(devfn)	PCI_SBDF(0, 0, devfn)
#define EP(sbdf, v)	sim_helpers_walk_func(&w, (sbdf), (v), 0x0001, 0x02000000, 0, PCI_FUNC_PCIE)
#define PF(sbdf, v)	sim_helpers_walk_func(&w, (sbdf), (v), 0x0002, 0x02000000, 0, \
					      PCI_FUNC_PF | PCI_FUNC_PCIE)

/* The next function must be sbdf: physical funcs[phys], or a VF of PF pf. */
static void expect_phys(const struct pci_func *f, pci_sbdf_t sbdf, uint32_t phys)
{
	assert_non_null(f);
	assert_int_equal(f->sbdf, sbdf);
	assert_ptr_equal(f, &w.funcs[phys]);
}

static void expect_vf(const struct pci_func *f, pci_sbdf_t sbdf, uint32_t pf, uint16_t device)
{
	assert_non_null(f);
	assert_int_equal(f->sbdf, sbdf);
	assert_int_equal(f->flags, PCI_FUNC_VF);
	assert_int_equal(f->pf, pf);
	assert_int_equal(f->vendor, w.funcs[pf].vendor);
	assert_int_equal(f->device, device);
	assert_int_equal(f->class_rev, PCI_CLASS_UNKNOWN);
	assert_int_equal(f->hdr_type, PCI_HEADER_TYPE_NORMAL);
}

static void iter_merges_interleaved_ranges_of_two_pfs(void **state)
{
	struct pci_walk_iter it;
	const struct pci_func *f;
	(void)state;
	pci_walk_init(&w, arena, PCI_WALK_ARENA(8));
	PF(D(0x00), 0x8086);
	PF(D(0x01), 0x15b3);
	EP(D(0x20), 0x1af4);
	/* Stride 2 each: PF 0's VFs on even devfns, PF 1's on odd ones. */
	sim_helpers_walk_vfs(&w, 0, D(0x10), 2, 8, 0x10ca);
	sim_helpers_walk_vfs(&w, 1, D(0x11), 2, 8, 0x101e);
	assert_int_equal(w.n, 19);
	expect_phys(f = pci_walk_first(&it, &w), D(0x00), 0);
	expect_phys(f = pci_walk_next(&it), D(0x01), 1);
	for (uint32_t d = 0x10; d < 0x20; d++)
		expect_vf(pci_walk_next(&it), D(d), d & 1, d & 1 ? 0x101e : 0x10ca);
	expect_phys(pci_walk_next(&it), D(0x20), 2);
	assert_null(pci_walk_next(&it));
	assert_null(pci_walk_next(&it));	/* stays ended */
}

static void iter_ties_put_physical_first_then_pf_order(void **state)
{
	struct pci_walk_iter it;
	(void)state;
	pci_walk_init(&w, arena, PCI_WALK_ARENA(8));
	PF(D(0x00), 0x8086);
	PF(D(0x01), 0x15b3);
	EP(D(0x10), 0x1af4);
	/* PF 1's VFs start first; both ranges then meet on 00:02.0, where a
	 * physical function also answers. */
	sim_helpers_walk_vfs(&w, 0, D(0x10), 1, 2, 0x10ca);
	sim_helpers_walk_vfs(&w, 1, D(0x0f), 1, 2, 0x101e);
	expect_phys(pci_walk_first(&it, &w), D(0x00), 0);
	expect_phys(pci_walk_next(&it), D(0x01), 1);
	expect_vf(pci_walk_next(&it), D(0x0f), 1, 0x101e);
	expect_phys(pci_walk_next(&it), D(0x10), 2);
	expect_vf(pci_walk_next(&it), D(0x10), 0, 0x10ca);
	expect_vf(pci_walk_next(&it), D(0x10), 1, 0x101e);
	expect_vf(pci_walk_next(&it), D(0x11), 0, 0x10ca);
	assert_null(pci_walk_next(&it));
}

static void iter_pf_at_the_end_drains_its_range(void **state)
{
	struct pci_walk_iter it;
	(void)state;
	pci_walk_init(&w, arena, PCI_WALK_ARENA(4));
	EP(D(0x00), 0x1af4);
	EP(D(0x08), 0x1af4);
	PF(D(0x10), 0x8086);
	sim_helpers_walk_vfs(&w, 2, PCI_SBDF(0, 1, 0), 3, 4, 0x10ca);
	expect_phys(pci_walk_first(&it, &w), D(0x00), 0);
	expect_phys(pci_walk_next(&it), D(0x08), 1);
	expect_phys(pci_walk_next(&it), D(0x10), 2);
	for (uint32_t k = 0; k < 4; k++)
		expect_vf(pci_walk_next(&it), PCI_SBDF(0, 1, 3 * k), 2, 0x10ca);
	assert_null(pci_walk_next(&it));
}

static void iter_without_vfs_yields_funcs_in_order(void **state)
{
	struct pci_walk_iter it;
	(void)state;
	pci_walk_init(&w, arena, PCI_WALK_ARENA(4));
	assert_null(pci_walk_first(&it, &w));
	PF(D(0x00), 0x8086);	/* VF Enable set, no VF inside the window */
	EP(D(0x08), 0x1af4);
	expect_phys(pci_walk_first(&it, &w), D(0x00), 0);
	expect_phys(pci_walk_next(&it), D(0x08), 1);
	assert_null(pci_walk_next(&it));
	/* Nor does a walk: its PF keeps the flag, no range. */
	assert_int_equal(walk_text("window 0 0 0\n00:02.0 8086:10fb sriov=4,4,256,1,10ed,enabled\n",
				   16), 0);
	assert_int_equal(w.nranges, 0);
	expect_phys(pci_walk_first(&it, &w), D(0x10), 0);
	assert_int_equal(w.funcs[0].flags, PCI_FUNC_PF | PCI_FUNC_PCIE);
	assert_null(pci_walk_next(&it));
}

static void iter_range_cut_at_the_window_end(void **state)
{
	struct pci_walk_iter it;
	const struct pci_func *f, *last = NULL;
	uint32_t k = 0;
	(void)state;
	/* First VF at RID 0x10 + 232 = 00:1f.0: 8 fit on bus 00, 4 do not. */
	assert_int_equal(walk_text("window 0 0 0\n00:02.0 8086:10fb sriov=12,12,232,1,10ed,enabled\n",
				   16), 0);
	assert_int_equal(w.n, 9);
	assert_int_equal(w.nranges, 1);
	assert_int_equal(w.ranges[0].first, D(0xf8));
	assert_int_equal(w.ranges[0].last, D(0xff));
	assert_int_equal(pci_vf_range_count(&w.ranges[0]), 8);
	expect_stats(1, 0, 0, 0, 0, 4, 0);
	assert_non_null(strstr(last_log, "4 of 12 VFs past bus 00"));
	for (f = pci_walk_first(&it, &w); f; f = pci_walk_next(&it), k++)
		last = f;
	assert_int_equal(k, 9);
	expect_vf(last, D(0xff), 0, 0x10ed);
}

static void iter_stride_past_the_window_keeps_one_vf(void **state)
{
	(void)state;
	/* Stride 256: VF 0 on bus 00, VF 1 would be on bus 01. */
	assert_int_equal(walk_text("window 0 0 0\n00:02.0 8086:10fb sriov=2,2,1,256,10ed,enabled\n",
				   16), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ranges[0].first, w.ranges[0].last);
	assert_int_equal(pci_vf_range_count(&w.ranges[0]), 1);
	expect_stats(1, 0, 0, 0, 0, 1, 0);
}

struct flat {
	pci_sbdf_t sbdf;
	uint32_t vf;	/* 0 physical, 1 VF */
	uint32_t idx;	/* physical: funcs[] index; VF: PF index */
};

static int flat_cmp(const void *a, const void *b)
{
	const struct flat *x = a, *y = b;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->vf != y->vf)
		return x->vf < y->vf ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void iter_heap_of_many_pfs_matches_a_sort(void **state)
{
	static struct flat want[200 * 16 + 256];
	struct pci_walk_iter it;
	const struct pci_func *f;
	uint32_t nw = 0, k, i = 0;
	(void)state;
	pci_walk_init(&w, arena, PCI_WALK_ARENA(256));
	/* 200 PFs on bus 00, endpoints on buses 01..02 that VFs run into. */
	for (k = 0; k < 200; k++)
		PF(D(k), (uint16_t)(0x8000 + k));
	for (k = 0; k < 6; k++)
		EP(PCI_SBDF(0, 1, 0) + 50 * k, 0x1af4);
	for (k = 0; k < w.nphys; k++)
		want[nw++] = (struct flat){ w.funcs[k].sbdf, 0, k };
	for (k = 0; k < 200; k++) {
		pci_sbdf_t first = PCI_SBDF(0, 1, 0) + (k * 37) % 300;
		uint16_t stride = (uint16_t)(1 + k % 5);
		uint32_t count = 1 + k % 16;

		sim_helpers_walk_vfs(&w, k, first, stride, count, (uint16_t)k);
		for (uint32_t v = 0; v < count; v++)
			want[nw++] = (struct flat){ first + v * stride, 1, k };
	}
	qsort(want, nw, sizeof(want[0]), flat_cmp);
	assert_int_equal(w.n, nw);
	for (f = pci_walk_first(&it, &w); f; f = pci_walk_next(&it), i++) {
		assert_true(i < nw);
		if (want[i].vf)
			expect_vf(f, want[i].sbdf, want[i].idx, (uint16_t)want[i].idx);
		else
			expect_phys(f, want[i].sbdf, want[i].idx);
	}
	assert_int_equal(i, nw);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(big_topology_gives_the_exact_list),
		T(hostile_topology_ends_and_counts_each_anomaly),
		T(default_topology_gives_the_exact_list),
		T(virt_without_firmware_lists_the_root_bus),
		T(vf4096_costs_no_reads_per_vf),
		T(empty_bus_costs_one_read_per_device),
		T(functions_beyond_0_need_bit_7_of_function_0),
		T(below_a_port_only_device_0_is_probed),
		T(ari_device_without_forwarding_shows_8_functions),
		T(ari_chain_reaches_sparse_functions),
		T(ari_chain_going_backwards_ends),
		T(non_ari_device_below_ari_port_scans_device_0),
		T(unnumbered_bridges_are_counted_and_skipped),
		T(bridge_secondary_not_above_its_bus_is_bad),
		T(subordinate_below_secondary_is_bad),
		T(two_bridges_claiming_one_bus_walk_it_once),
		T(bridge_outside_the_window_is_bad),
		T(bridge_reaching_past_the_window_is_clamped),
		T(child_reaching_past_its_parent_is_clamped),
		T(crs_within_budget_is_present),
		T(crs_beyond_budget_is_absent),
		T(vfs_need_vf_enable),
		T(vfs_past_the_window_are_counted),
		T(num_vfs_above_total_vfs_is_clamped),
		T(full_arena_is_enospc_and_counted),
		T(legacy_functions_skip_extended_space),
		T(segments_sort_after_one_another),
		T(finish_is_idempotent_and_find_works),
		T(inverted_window_is_refused),
		T(init_sets_defaults),
		T(a_pf_with_65535_vfs_fills_the_segment),
		T(vfs_take_no_arena),
		T(a_dropped_pf_loses_its_vfs_too),
		T(windows_walked_after_a_finish_merge_in),
		T(iter_merges_interleaved_ranges_of_two_pfs),
		T(iter_ties_put_physical_first_then_pf_order),
		T(iter_pf_at_the_end_drains_its_range),
		T(iter_without_vfs_yields_funcs_in_order),
		T(iter_range_cut_at_the_window_end),
		T(iter_stride_past_the_window_keeps_one_vf),
		T(iter_heap_of_many_pfs_matches_a_sort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
