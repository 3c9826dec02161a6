/* test_ecam.c - ECAM window math and validation, and the ECAM backend
 * reading through a fake MMIO hook over a host buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>

#define FAKE_BASE	0x4010000000ull
#define FAKE_BUSES	3	/* window of buses 0x10..0x12 */
static uint8_t mmio[FAKE_BUSES << ECAM_BUS_SHIFT];
static unsigned int mmio_calls;
static uint64_t mmio_last;

static uint32_t fake_mmio_read32(uint64_t addr)
{
	uint32_t v;

	mmio_calls++;
	mmio_last = addr;
	assert_int_equal(addr & 3, 0);
	assert_true(addr >= FAKE_BASE && addr + 4 <= FAKE_BASE + sizeof(mmio));
	memcpy(&v, &mmio[addr - FAKE_BASE], 4);
	return v;
}

static void offset_follows_the_ecam_layout(void **state)
{
	struct ecam_window w = { .base = 0, .seg = 0, .bus_start = 0x10, .bus_end = 0x20 };
	(void)state;
	assert_int_equal(ecam_offset(&w, 0x10, 0, 0), 0);
	assert_int_equal(ecam_offset(&w, 0x12, PCI_DEVFN(3, 5), 0x104),
			 (2ull << 20) | (3 << 15) | (5 << 12) | 0x104);
	assert_int_equal(ecam_offset(&w, 0x20, 0xff, 0xffc), (0x10ull << 20) | 0xffffc);
}

static void size_is_one_mib_per_bus(void **state)
{
	struct ecam_window w = { .base = 0, .bus_start = 0, .bus_end = 255 };
	(void)state;
	assert_int_equal(ecam_window_size(&w), 256ull << 20);
	w.bus_start = 7;
	w.bus_end = 7;
	assert_int_equal(ecam_window_size(&w), 1ull << 20);
	w.bus_end = 6;
	assert_int_equal(ecam_window_size(&w), 0);
}

static void check_accepts_real_windows(void **state)
{
	struct ecam_window q35 = { .base = 0xb0000000, .bus_start = 0, .bus_end = 255 };
	struct ecam_window virt = { .base = 0x4010000000ull, .bus_start = 0, .bus_end = 255 };
	(void)state;
	assert_int_equal(ecam_window_check(&q35), 0);
	assert_int_equal(ecam_window_check(&virt), 0);
}

static void check_refuses_bad_windows(void **state)
{
	struct ecam_window w = { .base = 0xb0000000, .bus_start = 5, .bus_end = 4 };
	(void)state;
	assert_int_equal(ecam_window_check(&w), -PCSC_ERANGE);
	w.bus_end = 255;
	w.base = 0xb0080000;
	assert_int_equal(ecam_window_check(&w), -PCSC_EALIGN);
	w.base = 0xffffffffff000000ull;	/* 251 MiB do not fit below 2^64 */
	assert_int_equal(ecam_window_check(&w), -PCSC_ERANGE);
	w.base = 0xffffffffff000000ull;
	w.bus_start = 0;
	w.bus_end = 15;			/* exactly fits up to the last byte */
	assert_int_equal(ecam_window_check(&w), 0);
}

static void add_window_refuses_overlaps_and_overflow(void **state)
{
	struct ecam e;
	struct ecam_window a = { .base = 0x80000000, .seg = 0, .bus_start = 0, .bus_end = 15 };
	struct ecam_window b = { .base = 0x90000000, .seg = 0, .bus_start = 15, .bus_end = 20 };
	struct ecam_window c = { .base = 0x80f00000, .seg = 1, .bus_start = 0, .bus_end = 0 };
	struct ecam_window d = { .base = 0x90000000, .seg = 1, .bus_start = 0, .bus_end = 0 };
	struct ecam_window bad = { .base = 0x90000001, .seg = 2, .bus_start = 0, .bus_end = 0 };
	(void)state;
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(e.n, 0);
	assert_int_equal(ecam_add_window(&e, &a), 0);
	assert_int_equal(ecam_add_window(&e, &b), -PCSC_EOVERLAP);	/* bus 15 twice */
	assert_int_equal(ecam_add_window(&e, &c), -PCSC_EOVERLAP);	/* MMIO of a */
	assert_int_equal(ecam_add_window(&e, &bad), -PCSC_EALIGN);
	assert_int_equal(ecam_add_window(&e, &d), 0);
	assert_int_equal(e.n, 2);
	for (unsigned int i = 2; i < ECAM_MAX_WINDOWS; i++) {
		struct ecam_window w = { .base = 0x100000000ull * i, .seg = (uint16_t)i,
					 .bus_start = 0, .bus_end = 0 };
		assert_int_equal(ecam_add_window(&e, &w), 0);
	}
	struct ecam_window extra = { .base = 0x10000000000ull, .seg = 99 };
	assert_int_equal(ecam_add_window(&e, &extra), -PCSC_ENOSPC);
	assert_int_equal(e.n, ECAM_MAX_WINDOWS);
}

static void find_picks_the_window_by_segment_and_bus(void **state)
{
	struct ecam e;
	struct ecam_window a = { .base = 0x80000000, .seg = 0, .bus_start = 0, .bus_end = 15 };
	struct ecam_window b = { .base = 0x90000000, .seg = 0, .bus_start = 0x80, .bus_end = 0x8f };
	struct ecam_window c = { .base = 0xa0000000, .seg = 3, .bus_start = 0, .bus_end = 255 };
	(void)state;
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(ecam_add_window(&e, &a), 0);
	assert_int_equal(ecam_add_window(&e, &b), 0);
	assert_int_equal(ecam_add_window(&e, &c), 0);
	assert_ptr_equal(ecam_find(&e, 0, 15), &e.win[0]);
	assert_ptr_equal(ecam_find(&e, 0, 0x85), &e.win[1]);
	assert_null(ecam_find(&e, 0, 16));
	assert_null(ecam_find(&e, 1, 0));
	assert_ptr_equal(ecam_find(&e, 3, 255), &e.win[2]);
}

static void backend_reads_through_the_hook(void **state)
{
	struct ecam e;
	struct pci_cfg cfg;
	struct ecam_window w = { .base = FAKE_BASE, .seg = 2, .bus_start = 0x10, .bus_end = 0x12 };
	uint64_t off = (2ull << 20) | (PCI_DEVFN(31, 7) << 12) | 0xabc;
	uint32_t v32;
	(void)state;
	memset(mmio, 0xff, sizeof(mmio));
	mmio[off] = 0x11; mmio[off + 1] = 0x22; mmio[off + 2] = 0x33; mmio[off + 3] = 0x44;
	mmio_calls = 0;
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(ecam_add_window(&e, &w), 0);
	ecam_cfg_init(&cfg, &e);
	assert_int_equal(cfg.cfg_size, 4096);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(2, 0x12, PCI_DEVFN(31, 7)), 0xabc, &v32), 0);
	assert_int_equal(v32, 0x44332211);
	assert_int_equal(mmio_last, FAKE_BASE + off);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(2, 0x10, 0), 0, &v32), 0);
	assert_int_equal(v32, 0xffffffffu);	/* decoded, nobody home */
	assert_int_equal(mmio_calls, 2);
	assert_int_equal(cfg.reads, 2);
}

static void backend_outside_any_window_is_enodev_without_mmio(void **state)
{
	struct ecam e;
	struct pci_cfg cfg;
	struct ecam_window w = { .base = FAKE_BASE, .seg = 2, .bus_start = 0x10, .bus_end = 0x12 };
	uint32_t v32 = 0;
	(void)state;
	mmio_calls = 0;
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(ecam_add_window(&e, &w), 0);
	ecam_cfg_init(&cfg, &e);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(2, 0x13, 0), 0, &v32), -PCSC_ENODEV);
	assert_int_equal(v32, 0xffffffffu);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(0, 0x10, 0), 0, &v32), -PCSC_ENODEV);
	assert_int_equal(pci_cfg_read32(&cfg, PCI_SBDF(2, 0x0f, 0), 0, &v32), -PCSC_ENODEV);
	assert_int_equal(mmio_calls, 0);
}

/* The platform's map hook: refuses what it is told to, records the rest. */
static uint64_t refuse_base;
static uint64_t mapped[ECAM_MAX_WINDOWS][2];
static unsigned int map_calls;

static int fake_map(uint64_t base, uint64_t size)
{
	if (base == refuse_base)
		return -PCSC_EOVERLAP;
	mapped[map_calls][0] = base;
	mapped[map_calls][1] = size;
	map_calls++;
	return 0;
}

static char lines[512];
static size_t lines_len;

static void line_sink(const char *line, size_t len)
{
	assert_true(lines_len + len < sizeof(lines));
	memcpy(lines + lines_len, line, len);
	lines_len += len;
	lines[lines_len] = 0;
}

static void map_windows_drops_what_the_platform_refuses_in_order(void **state)
{
	struct ecam e;
	struct ecam_window w[3] = {
		{ .base = 0x3f000000, .seg = 0, .bus_start = 0, .bus_end = 0xf },
		{ .base = 0x4010000000ull, .seg = 1, .bus_start = 0x10, .bus_end = 0x12 },
		{ .base = 0x8000000000ull, .seg = 2, .bus_start = 0, .bus_end = 0 },
	};
	(void)state;
	ecam_init(&e, fake_mmio_read32);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(ecam_add_window(&e, &w[i]), 0);
	refuse_base = w[1].base;
	map_calls = 0;
	lines_len = 0;
	pcsc_log_set_sink(line_sink);
	/* Said at the default level: not a detail nor a problem line. */
	pcsc_log_set_report(PCSC_REPORT_SUMMARY);
	assert_int_equal(ecam_map_windows(&e, fake_map), 1);
	pcsc_log_set_report(PCSC_REPORT_FULL);
	pcsc_log_set_sink(NULL);
	assert_string_equal(lines, "pcsc: ecam 0001:10-12 at 0x4010000000 not mapped: "
			    "overlapping memory: not walked\n");
	/* Every window was offered with its whole size; the kept ones keep
	 * their order, the refused one is gone and never read. */
	assert_int_equal(map_calls, 2);
	assert_int_equal(mapped[0][0], w[0].base);
	assert_int_equal(mapped[0][1], 16ull << 20);
	assert_int_equal(mapped[1][0], w[2].base);
	assert_int_equal(mapped[1][1], 1ull << 20);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.win[0].seg, 0);
	assert_int_equal(e.win[1].seg, 2);
	assert_null(ecam_find(&e, 1, 0x10));
}

static void map_windows_can_drop_every_window(void **state)
{
	struct ecam e;
	struct ecam_window w = { .base = 0x3f000000, .seg = 0, .bus_start = 0, .bus_end = 0 };
	(void)state;
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(ecam_add_window(&e, &w), 0);
	refuse_base = w.base;
	map_calls = 0;
	assert_int_equal(ecam_map_windows(&e, fake_map), 1);
	assert_int_equal(e.n, 0);
	assert_int_equal(map_calls, 0);
	ecam_init(&e, fake_mmio_read32);
	assert_int_equal(ecam_map_windows(&e, fake_map), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offset_follows_the_ecam_layout),
		cmocka_unit_test(size_is_one_mib_per_bus),
		cmocka_unit_test(check_accepts_real_windows),
		cmocka_unit_test(check_refuses_bad_windows),
		cmocka_unit_test(add_window_refuses_overlaps_and_overflow),
		cmocka_unit_test(find_picks_the_window_by_segment_and_bus),
		cmocka_unit_test(backend_reads_through_the_hook),
		cmocka_unit_test(backend_outside_any_window_is_enodev_without_mmio),
		cmocka_unit_test(map_windows_drops_what_the_platform_refuses_in_order),
		cmocka_unit_test(map_windows_can_drop_every_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
