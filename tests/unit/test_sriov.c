/* test_sriov.c - sriov_read decodes the capability; sriov_vf_sbdf derives
 * VF RIDs across bus boundaries and refuses n, stride and bus overflows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/sriov.h>
#include "helpers/sim_helpers.h"

static struct sim_helpers_raw raw;
static struct pci_cfg cfg;
static const pci_sbdf_t PF = PCI_SBDF(1, 0x03, PCI_DEVFN(0, 0));

static int setup(void **state)
{
	(void)state;
	sim_helpers_raw_init(&raw, &cfg, PF);
	sim_helpers_put32(raw.space, 0x00, 0x15638086);
	sim_helpers_put32(raw.space, 0x160, 0x00010010);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_ARI);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_INITIAL_VF, 64);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_TOTAL_VF, 64);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_NUM_VF, 8);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_VF_OFFSET, 0x80);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_VF_STRIDE, 2);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_VF_DID, 0x1565);
	return 0;
}

static void read_decodes_every_field(void **state)
{
	struct sriov_info s;
	(void)state;
	memset(&s, 0xaa, sizeof(s));
	assert_int_equal(sriov_read(&cfg, PF, 0x160, &s), 0);
	assert_int_equal(s.pos, 0x160);
	assert_int_equal(s.ctrl, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_ARI);
	assert_int_equal(s.total_vfs, 64);
	assert_int_equal(s.num_vfs, 8);
	assert_int_equal(s.offset, 0x80);
	assert_int_equal(s.stride, 2);
	assert_int_equal(s.vf_device, 0x1565);
	assert_true(s.enabled);
	assert_int_equal(cfg.reads, 5);
}

static void enabled_needs_vfe_and_num_vfs(void **state)
{
	struct sriov_info s;
	(void)state;
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_ARI);
	assert_int_equal(sriov_read(&cfg, PF, 0x160, &s), 0);
	assert_false(s.enabled);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_VFE);
	sim_helpers_put16(raw.space, 0x160 + PCI_SRIOV_NUM_VF, 0);
	assert_int_equal(sriov_read(&cfg, PF, 0x160, &s), 0);
	assert_false(s.enabled);
}

static void read_of_vanished_pf_is_enodev(void **state)
{
	struct sriov_info s;
	(void)state;
	assert_int_equal(sriov_read(&cfg, PCI_SBDF(1, 4, 0), 0x160, &s), -PCSC_ENODEV);
}

/* VF n of pf under s is found, at RID want. */
static void assert_vf(const struct sriov_info *s, pci_sbdf_t pf, uint16_t n, pci_sbdf_t want)
{
	pci_sbdf_t vf = 0x5555;

	assert_int_equal(sriov_vf_sbdf(s, pf, n, &vf), 0);
	assert_int_equal(vf, want);
}

static void vf_rids_follow_offset_and_stride(void **state)
{
	struct sriov_info s = { .num_vfs = 8, .offset = 0x80, .stride = 2 };
	pci_sbdf_t vf;
	(void)state;
	assert_vf(&s, PF, 0, PCI_SBDF(1, 0x03, 0x80));
	assert_vf(&s, PF, 7, PCI_SBDF(1, 0x03, 0x8e));
	assert_int_equal(sriov_vf_sbdf(&s, PF, 8, &vf), -PCSC_ERANGE);
}

static void vf_rids_cross_bus_boundaries(void **state)
{
	/* PF 03:1f.0 (RID 0x03f8), offset 4, stride 1: VF 3 is 04:00.0. */
	struct sriov_info s = { .num_vfs = 300, .offset = 4, .stride = 1 };
	pci_sbdf_t pf = PCI_SBDF(0, 0x03, PCI_DEVFN(31, 0));
	(void)state;
	assert_vf(&s, pf, 2, PCI_SBDF(0, 0x03, 0xfe));
	assert_vf(&s, pf, 4, PCI_SBDF(0, 0x04, 0x00));
	assert_vf(&s, pf, 299, PCI_SBDF(0, 0x05, 0x27));
}

static void vf_rid_past_bus_255_is_erange(void **state)
{
	struct sriov_info s = { .num_vfs = 16, .offset = 0x100, .stride = 0x10 };
	pci_sbdf_t pf = PCI_SBDF(0, 0xfe, 0);
	pci_sbdf_t vf = 0x5555;
	(void)state;
	assert_vf(&s, pf, 15, PCI_SBDF(0, 0xff, 0xf0));	/* ff:1e.0 */
	s.offset = 0x110;	/* VF 15 would be RID 0x10000 */
	assert_int_equal(sriov_vf_sbdf(&s, pf, 15, &vf), -PCSC_ERANGE);
	s.offset = 0xffff;
	s.stride = 0xffff;
	s.num_vfs = 0xffff;
	assert_int_equal(sriov_vf_sbdf(&s, pf, 0xfffe, &vf), -PCSC_ERANGE);
}

static void zero_stride_allows_only_vf0(void **state)
{
	struct sriov_info s = { .num_vfs = 4, .offset = 1, .stride = 0 };
	pci_sbdf_t vf;
	(void)state;
	assert_vf(&s, PF, 0, PCI_SBDF(1, 0x03, 0x01));
	assert_int_equal(sriov_vf_sbdf(&s, PF, 1, &vf), -PCSC_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(read_decodes_every_field, setup),
		cmocka_unit_test_setup(enabled_needs_vfe_and_num_vfs, setup),
		cmocka_unit_test_setup(read_of_vanished_pf_is_enodev, setup),
		cmocka_unit_test(vf_rids_follow_offset_and_stride),
		cmocka_unit_test(vf_rids_cross_bus_boundaries),
		cmocka_unit_test(vf_rid_past_bus_255_is_erange),
		cmocka_unit_test(zero_stride_allows_only_vf0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
