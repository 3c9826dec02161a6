/* dt_console.c - the arm64 stub's way to talk and to power off, from the DTB:
 * the console UART and the PSCI conduit. Never touches the devices it finds. */
#include <libfdt.h>
#include <string.h>
#include <pcsc/dt_platform.h>
#include <pcsc/errno.h>

static enum dt_console_kind uart_kind(const void *fdt, int node)
{
	if (!fdt_node_check_compatible(fdt, node, "arm,pl011"))
		return DT_CONSOLE_PL011;
	if (!fdt_node_check_compatible(fdt, node, "ns16550a") ||
	    !fdt_node_check_compatible(fdt, node, "ns16550"))
		return DT_CONSOLE_NS16550;
	return DT_CONSOLE_NONE;
}

static int use_node(const void *fdt, int node, struct dt_console *con)
{
	uint64_t size;
	int rc;

	rc = dt_reg_get(fdt, node, 0, &con->base, &size);
	if (rc)
		return rc;
	con->kind = uart_kind(fdt, node);
	con->node = node;
	return 0;
}

/* The node stdout-path names, or a negative value. */
static int stdout_node(const void *fdt)
{
	const char *p;
	int chosen, len, n;

	chosen = fdt_path_offset(fdt, "/chosen");
	if (chosen < 0)
		return chosen;
	p = fdt_getprop(fdt, chosen, "stdout-path", &len);
	if (!p)
		p = fdt_getprop(fdt, chosen, "linux,stdout-path", &len);
	if (!p || len <= 0)
		return -1;
	/* Up to the NUL (inside len) or the ":115200n8" options. */
	for (n = 0; n < len && p[n] && p[n] != ':'; n++)
		;
	if (!n)
		return -1;
	return fdt_path_offset_namelen(fdt, p, n);
}

int dt_console_find(const void *fdt, struct dt_console *con)
{
	int node;

	memset(con, 0, sizeof(*con));
	con->node = -1;
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	node = stdout_node(fdt);
	if (node >= 0 && uart_kind(fdt, node) != DT_CONSOLE_NONE &&
	    dt_node_enabled(fdt, node))
		return use_node(fdt, node, con);
	/* fdt_node_offset_by_compatible moves strictly forward: bounded by
	 * the structure block, and by DT_MAX_NODES for good measure. */
	node = -1;
	for (unsigned int hops = 0; hops < DT_MAX_NODES; hops++) {
		node = fdt_node_offset_by_compatible(fdt, node, "arm,pl011");
		if (node < 0)
			break;
		if (dt_node_enabled(fdt, node))
			return use_node(fdt, node, con);
	}
	return -PCSC_ENOTFOUND;
}

int dt_psci_method(const void *fdt, enum dt_psci_method *m)
{
	/* Arrays, not pointers: no relocation per string in the static-pie image. */
	static const char compat[][13] = { "arm,psci-1.0", "arm,psci-0.2", "arm,psci" };
	const char *s;
	int node, len;
	unsigned int i;

	*m = DT_PSCI_NONE;
	if (!fdt || fdt_check_header(fdt))
		return -PCSC_EBADFDT;
	node = fdt_path_offset(fdt, "/psci");
	for (i = 0; node < 0 && i < sizeof(compat) / sizeof(compat[0]); i++)
		node = fdt_node_offset_by_compatible(fdt, -1, compat[i]);
	if (node < 0)
		return -PCSC_ENOTFOUND;
	s = fdt_getprop(fdt, node, "method", &len);
	if (!s)
		return -PCSC_ENOTFOUND;
	if (len == 4 && !memcmp(s, "hvc", 4))
		*m = DT_PSCI_HVC;
	else if (len == 4 && !memcmp(s, "smc", 4))
		*m = DT_PSCI_SMC;
	else
		return -PCSC_EINVAL;
	return 0;
}
