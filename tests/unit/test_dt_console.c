/* test_dt_console.c - console UART from stdout-path (path, alias, options)
 * or the first pl011, and the PSCI conduit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>

static char fdt[8192];

static void start(void)
{
	assert_int_equal(fdt_create(fdt, sizeof(fdt)), 0);
	assert_int_equal(fdt_finish_reservemap(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, ""), 0);
	assert_int_equal(fdt_property_u32(fdt, "#address-cells", 2), 0);
	assert_int_equal(fdt_property_u32(fdt, "#size-cells", 2), 0);
}

static void finish(void)
{
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_finish(fdt), 0);
	assert_int_equal(dt_check(fdt, sizeof(fdt)), 0);
}

static void uart(const char *name, const char *compat, uint64_t base, bool enabled)
{
	fdt32_t c[4] = { cpu_to_fdt32(base >> 32), cpu_to_fdt32((uint32_t)base), 0,
			 cpu_to_fdt32(0x1000) };
	assert_int_equal(fdt_begin_node(fdt, name), 0);
	assert_int_equal(fdt_property_string(fdt, "compatible", compat), 0);
	assert_int_equal(fdt_property(fdt, "reg", c, sizeof(c)), 0);
	if (!enabled)
		assert_int_equal(fdt_property_string(fdt, "status", "disabled"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

static void chosen(const char *stdout_path)
{
	assert_int_equal(fdt_begin_node(fdt, "chosen"), 0);
	if (stdout_path)
		assert_int_equal(fdt_property_string(fdt, "stdout-path", stdout_path), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

static void psci(const char *method)
{
	assert_int_equal(fdt_begin_node(fdt, "psci"), 0);
	assert_int_equal(fdt_property_string(fdt, "compatible", "arm,psci-1.0"), 0);
	if (method)
		assert_int_equal(fdt_property_string(fdt, "method", method), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
}

static void qemu_virt_stdout_path_is_used(void **state)
{
	struct dt_console con;
	(void)state;
	start();
	uart("pl011@9000000", "arm,pl011\0arm,primecell", 0x9000000, true);
	chosen("/pl011@9000000");
	finish();
	assert_int_equal(dt_console_find(fdt, &con), 0);
	assert_int_equal(con.kind, DT_CONSOLE_PL011);
	assert_int_equal(con.base, 0x9000000);
	assert_int_equal(con.node, fdt_path_offset(fdt, "/pl011@9000000"));
}

static void alias_with_options_names_a_16550(void **state)
{
	struct dt_console con;
	(void)state;
	start();
	uart("pl011@9000000", "arm,pl011", 0x9000000, true);
	uart("serial@1c090000", "ns16550a", 0x1c090000, true);
	assert_int_equal(fdt_begin_node(fdt, "aliases"), 0);
	assert_int_equal(fdt_property_string(fdt, "serial0", "/serial@1c090000"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	chosen("serial0:115200n8");
	finish();
	assert_int_equal(dt_console_find(fdt, &con), 0);
	assert_int_equal(con.kind, DT_CONSOLE_NS16550);
	assert_int_equal(con.base, 0x1c090000);
}

static void fallback_is_the_first_enabled_pl011(void **state)
{
	struct dt_console con;
	(void)state;
	start();
	uart("pl011@1000", "arm,pl011", 0x1000, false);
	uart("pl011@2000", "arm,pl011", 0x2000, true);
	uart("pl011@3000", "arm,pl011", 0x3000, true);
	chosen("/nonexistent");
	finish();
	assert_int_equal(dt_console_find(fdt, &con), 0);
	assert_int_equal(con.kind, DT_CONSOLE_PL011);
	assert_int_equal(con.base, 0x2000);
}

static void no_uart_is_not_found(void **state)
{
	struct dt_console con;
	(void)state;
	start();
	uart("serial@1000", "vendor,other-uart", 0x1000, true);
	chosen("/serial@1000");
	finish();
	assert_int_equal(dt_console_find(fdt, &con), -PCSC_ENOTFOUND);
	assert_int_equal(con.kind, DT_CONSOLE_NONE);
	fdt[0] = 0;
	assert_int_equal(dt_console_find(fdt, &con), -PCSC_EBADFDT);
}

static void psci_method_is_read(void **state)
{
	enum dt_psci_method m;
	(void)state;
	start();
	psci("hvc");
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), 0);
	assert_int_equal(m, DT_PSCI_HVC);
	start();
	psci("smc");
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), 0);
	assert_int_equal(m, DT_PSCI_SMC);
	start();
	psci("svc");
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), -PCSC_EINVAL);
	assert_int_equal(m, DT_PSCI_NONE);
	start();
	psci(NULL);
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), -PCSC_ENOTFOUND);
	start();
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), -PCSC_ENOTFOUND);
}

static void psci_found_by_compatible_under_another_name(void **state)
{
	enum dt_psci_method m;
	(void)state;
	start();
	assert_int_equal(fdt_begin_node(fdt, "firmware"), 0);
	assert_int_equal(fdt_begin_node(fdt, "psci-fw"), 0);
	assert_int_equal(fdt_property_string(fdt, "compatible", "arm,psci-0.2"), 0);
	assert_int_equal(fdt_property_string(fdt, "method", "smc"), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	finish();
	assert_int_equal(dt_psci_method(fdt, &m), 0);
	assert_int_equal(m, DT_PSCI_SMC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_virt_stdout_path_is_used),
		cmocka_unit_test(alias_with_options_names_a_16550),
		cmocka_unit_test(fallback_is_the_first_enabled_pl011),
		cmocka_unit_test(no_uart_is_not_found),
		cmocka_unit_test(psci_method_is_read),
		cmocka_unit_test(psci_found_by_compatible_under_another_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
