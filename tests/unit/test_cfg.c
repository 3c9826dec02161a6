/* test_cfg.c - pci_cfg_read32: counted aligned dword
 * reads, refuse misaligned or out-of-space registers, and report all ones
 * on any error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/cfg.h>
#include <pcsc/errno.h>

/* A backend answering from a 4 KiB byte array for one SBDF, ENODEV else. */
struct fake {
	pci_sbdf_t sbdf;
	uint8_t space[4096];
	unsigned int calls;
	uint16_t last_reg;
};

static int fake_read32(void *ctx, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	struct fake *f = ctx;

	f->calls++;
	f->last_reg = reg;
	assert_int_equal(reg & 3, 0);
	if (sbdf != f->sbdf) {
		*val = 0x12345678;	/* garbage: the wrapper must hide it */
		return -PCSC_ENODEV;
	}
	memcpy(val, &f->space[reg], 4);
	return 0;
}

static const struct pci_cfg_ops fake_ops = { .read32 = fake_read32 };

static struct fake fk;
static struct pci_cfg cfg;
static const pci_sbdf_t DEV = PCI_SBDF(0, 3, PCI_DEVFN(2, 1));

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.sbdf = DEV;
	for (int i = 0; i < 4096; i++)
		fk.space[i] = (uint8_t)(i * 7 + 1);
	pci_cfg_init(&cfg, &fake_ops, &fk, 4096);
	cfg.reads = 99;		/* init must reset it */
	pci_cfg_init(&cfg, &fake_ops, &fk, 4096);
	return 0;
}

static void init_binds_and_zeroes(void **state)
{
	(void)state;
	assert_ptr_equal(cfg.ops, &fake_ops);
	assert_ptr_equal(cfg.ctx, &fk);
	assert_int_equal(cfg.cfg_size, 4096);
	assert_int_equal(cfg.reads, 0);
}

static void read32_returns_the_dword_and_counts(void **state)
{
	uint32_t v, want;
	(void)state;
	memcpy(&want, &fk.space[0x100], 4);
	assert_int_equal(pci_cfg_read32(&cfg, DEV, 0x100, &v), 0);
	assert_int_equal(v, want);
	assert_int_equal(cfg.reads, 1);
	assert_int_equal(fk.last_reg, 0x100);
}

static void misaligned_reads_are_refused_without_a_read(void **state)
{
	uint32_t v32 = 0;
	(void)state;
	assert_int_equal(pci_cfg_read32(&cfg, DEV, 0x02, &v32), -PCSC_EINVAL);
	assert_int_equal(v32, 0xffffffffu);
	v32 = 0;
	assert_int_equal(pci_cfg_read32(&cfg, DEV, 0x03, &v32), -PCSC_EINVAL);
	assert_int_equal(v32, 0xffffffffu);
	assert_int_equal(cfg.reads, 0);
	assert_int_equal(fk.calls, 0);
}

static void reads_beyond_cfg_size_are_refused(void **state)
{
	uint32_t v32 = 0;
	(void)state;
	cfg.cfg_size = 256;
	assert_int_equal(pci_cfg_read32(&cfg, DEV, 0x100, &v32), -PCSC_ERANGE);
	assert_int_equal(v32, 0xffffffffu);
	assert_int_equal(pci_cfg_read32(&cfg, DEV, 0xfc, &v32), 0);
	assert_int_equal(cfg.reads, 1);
}

static void backend_error_yields_all_ones(void **state)
{
	uint32_t v32;
	pci_sbdf_t other = PCI_SBDF(0, 4, 0);
	(void)state;
	assert_int_equal(pci_cfg_read32(&cfg, other, 0, &v32), -PCSC_ENODEV);
	assert_int_equal(v32, 0xffffffffu);
	assert_int_equal(pci_cfg_read32(&cfg, other, 4, &v32), -PCSC_ENODEV);
	assert_int_equal(cfg.reads, 2);	/* failed reads still cost a read */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(init_binds_and_zeroes, setup),
		cmocka_unit_test_setup(read32_returns_the_dword_and_counts, setup),
		cmocka_unit_test_setup(misaligned_reads_are_refused_without_a_read, setup),
		cmocka_unit_test_setup(reads_beyond_cfg_size_are_refused, setup),
		cmocka_unit_test_setup(backend_error_yields_all_ones, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
