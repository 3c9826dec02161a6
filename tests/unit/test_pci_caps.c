/* test_pci_caps.c - capability walkers find what is there, stop at the end,
 * and end looping or header-pointing lists with -PCSC_ELOOP. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/pci_caps.h>
#include "helpers/sim_helpers.h"

static struct sim_helpers_raw raw;
static struct pci_cfg cfg;
static const pci_sbdf_t DEV = PCI_SBDF(0, 2, PCI_DEVFN(0, 0));

/* A list 0x40 (PM, 0x01) -> 0x50 (MSI, 0x05) -> 0x70 (EXP, 0x10) -> end,
 * and extended 0x100 (AER 0x01) -> 0x148 (ARI) -> 0x160 (SR-IOV) -> end. */
static int setup(void **state)
{
	(void)state;
	sim_helpers_raw_init(&raw, &cfg, DEV);
	sim_helpers_put32(raw.space, 0x00, 0x10d38086);
	sim_helpers_put16(raw.space, PCI_STATUS, PCI_STATUS_CAP_LIST);
	sim_helpers_put8(raw.space, PCI_CAPABILITY_LIST, 0x43);	/* low bits reserved */
	sim_helpers_put16(raw.space, 0x40, 0x5001);
	sim_helpers_put16(raw.space, 0x50, 0x7005);
	sim_helpers_put16(raw.space, 0x70, 0x0010);
	sim_helpers_put32(raw.space, 0x100, 0x14810001);
	sim_helpers_put32(raw.space, 0x148, 0x1601000e);
	sim_helpers_put32(raw.space, 0x160, 0x00010010);
	return 0;
}

static void finds_each_standard_capability(void **state)
{
	uint16_t pos = 0;
	(void)state;
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x01, &pos), 0);
	assert_int_equal(pos, 0x40);
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x05, &pos), 0);
	assert_int_equal(pos, 0x50);
	cfg.reads = 0;
	assert_int_equal(pci_find_cap(&cfg, DEV, PCI_CAP_ID_EXP, &pos), 0);
	assert_int_equal(pos, 0x70);
	assert_int_equal(cfg.reads, 5);	/* status, pointer, three entries */
}

static void missing_standard_capability_is_not_found(void **state)
{
	uint16_t pos = 0xdead;
	(void)state;
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x11, &pos), -PCSC_ENOTFOUND);
	assert_int_equal(pos, 0xdead);
	sim_helpers_put16(raw.space, PCI_STATUS, 0);	/* no list at all */
	cfg.reads = 0;
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x01, &pos), -PCSC_ENOTFOUND);
	assert_int_equal(cfg.reads, 1);
}

static void looping_standard_list_ends_with_eloop(void **state)
{
	uint16_t pos;
	(void)state;
	sim_helpers_put16(raw.space, 0x70, 0x4010);	/* 0x70 -> 0x40 */
	cfg.reads = 0;
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x11, &pos), -PCSC_ELOOP);
	assert_int_equal(cfg.reads, 2 + PCI_CAP_MAX_HOPS);
	sim_helpers_put16(raw.space, 0x40, 0x4001);	/* self loop */
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x11, &pos), -PCSC_ELOOP);
}

static void standard_pointer_into_header_is_eloop(void **state)
{
	uint16_t pos;
	(void)state;
	sim_helpers_put16(raw.space, 0x50, 0x1005);
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x10, &pos), -PCSC_ELOOP);
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x05, &pos), 0);	/* before it: fine */
	sim_helpers_put8(raw.space, PCI_CAPABILITY_LIST, 0x3c);
	assert_int_equal(pci_find_cap(&cfg, DEV, 0x05, &pos), -PCSC_ELOOP);
}

static void absent_function_is_enodev(void **state)
{
	uint16_t pos;
	(void)state;
	assert_int_equal(pci_find_cap(&cfg, PCI_SBDF(0, 9, 0), 0x10, &pos), -PCSC_ENODEV);
}

static void finds_each_extended_capability(void **state)
{
	uint16_t pos = 0;
	(void)state;
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, 0x0001, &pos), 0);
	assert_int_equal(pos, 0x100);
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, PCI_EXT_CAP_ID_ARI, &pos), 0);
	assert_int_equal(pos, 0x148);
	cfg.reads = 0;
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, PCI_EXT_CAP_ID_SRIOV, &pos), 0);
	assert_int_equal(pos, 0x160);
	assert_int_equal(cfg.reads, 3);
}

static void missing_extended_capability_is_not_found(void **state)
{
	uint16_t pos = 0xbeef;
	(void)state;
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, 0x0023, &pos), -PCSC_ENOTFOUND);
	assert_int_equal(pos, 0xbeef);
	sim_helpers_put32(raw.space, 0x100, 0);	/* empty extended space */
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, 0x0001, &pos), -PCSC_ENOTFOUND);
	assert_int_equal(pci_find_ext_cap(&cfg, PCI_SBDF(0, 9, 0), 0x0001, &pos),
			 -PCSC_ENOTFOUND);		/* all ones */
}

static void looping_extended_list_ends_with_eloop(void **state)
{
	uint16_t pos;
	(void)state;
	sim_helpers_put32(raw.space, 0x160, 0x14810010);	/* 0x160 -> 0x148 */
	cfg.reads = 0;
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, 0x0023, &pos), -PCSC_ELOOP);
	assert_int_equal(cfg.reads, PCI_EXT_CAP_MAX_HOPS);
}

static void extended_pointer_below_0x100_is_eloop(void **state)
{
	uint16_t pos;
	(void)state;
	sim_helpers_put32(raw.space, 0x148, 0x0401000e);	/* next = 0x040 */
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, PCI_EXT_CAP_ID_SRIOV, &pos), -PCSC_ELOOP);
}

static void no_extended_space_is_erange(void **state)
{
	uint16_t pos;
	(void)state;
	cfg.cfg_size = 256;
	cfg.reads = 0;
	assert_int_equal(pci_find_ext_cap(&cfg, DEV, 0x0001, &pos), -PCSC_ERANGE);
	assert_int_equal(cfg.reads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(finds_each_standard_capability, setup),
		cmocka_unit_test_setup(missing_standard_capability_is_not_found, setup),
		cmocka_unit_test_setup(looping_standard_list_ends_with_eloop, setup),
		cmocka_unit_test_setup(standard_pointer_into_header_is_eloop, setup),
		cmocka_unit_test_setup(absent_function_is_enodev, setup),
		cmocka_unit_test_setup(finds_each_extended_capability, setup),
		cmocka_unit_test_setup(missing_extended_capability_is_not_found, setup),
		cmocka_unit_test_setup(looping_extended_list_ends_with_eloop, setup),
		cmocka_unit_test_setup(extended_pointer_below_0x100_is_eloop, setup),
		cmocka_unit_test_setup(no_extended_space_is_erange, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
