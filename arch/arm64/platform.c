/* arch/arm64/platform.c - arch_platform_discover and arch_boot_next for the
 * arm64 boot protocol (x0 = DTB). Reads the DTB only; never trusts a cell. */
#include <libfdt.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/arch.h>
#include <pcsc/dt_platform.h>
#include <pcsc/ecam.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include "../../stub/stub.h"
#include "arm64.h"

/* The stub runs on a 1:1 map: a physical address is the pointer. */
static void *map_identity(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	(void)len;
	return (void *)(uintptr_t)phys;
}

/* "pcsc.mode=quick|strict|off" in /chosen/bootargs; quick otherwise. */
static enum stub_mode mode_from_bootargs(const void *fdt)
{
	static const char key[] = "pcsc.mode=";
	const char *args, *p;
	int chosen, len;

	chosen = fdt_path_offset(fdt, "/chosen");
	if (chosen < 0)
		return STUB_MODE_QUICK;
	args = fdt_getprop(fdt, chosen, "bootargs", &len);
	if (!args || len <= 0 || args[len - 1] != '\0')
		return STUB_MODE_QUICK;
	p = strstr(args, key);
	if (!p)
		return STUB_MODE_QUICK;
	p += sizeof(key) - 1;
	if (!strncmp(p, "strict", 6))
		return STUB_MODE_STRICT;
	if (!strncmp(p, "off", 3))
		return STUB_MODE_OFF;
	return STUB_MODE_QUICK;
}

static void scan_report(const char *what, int rc, const struct dt_scan_stats *st)
{
	if (rc)
		pcsc_log("pcsc: dt %s: %s (found=%u used=%u skipped=%u)", what,
			 pcsc_strerror(rc), st->found, st->used, st->skipped);
}

void arch_platform_discover(struct stub_platform *p)
{
	const void *fdt = p->arch;
	struct dt_scan_stats st;
	struct dt_chosen ch;
	uint64_t image = (uint64_t)(uintptr_t)_head;
	int rc;

	memset(&p->mem, 0, sizeof(p->mem));
	p->mem.map = map_identity;
	ecam_init(&p->ecam, arch_mmio_read32);
	p->use_legacy = false;
	memset(&p->owned, 0, sizeof(p->owned));
	p->kho_fdt = p->kho_fdt_size = p->kho_scratch = p->kho_scratch_size = 0;
	p->has_next = false;

	memset(&st, 0, sizeof(st));
	rc = dt_mem_ram(fdt, &p->mem.ram, &st);
	scan_report("memory", rc, &st);

	memset(&st, 0, sizeof(st));
	rc = dt_ecam_scan(fdt, &p->ecam, &st);
	scan_report("ecam", rc, &st);

	/* Firmware carve-outs are as off-limits to a cache entry as the stub. */
	memset(&st, 0, sizeof(st));
	rc = dt_mem_reserved(fdt, &p->owned, &st);
	scan_report("reserved-memory", rc, &st);
	phys_ranges_add(&p->owned, image, (uint64_t)(uintptr_t)_end - image);
	phys_ranges_add(&p->owned, (uint64_t)(uintptr_t)fdt, fdt_totalsize(fdt));

	rc = dt_chosen_parse(fdt, &ch);
	if (rc && rc != -PCSC_ENOTFOUND)
		pcsc_log("pcsc: dt chosen: %s", pcsc_strerror(rc));
	if (!rc && ch.err)
		pcsc_log("pcsc: dt chosen: malformed property: %s", pcsc_strerror(ch.err));
	if (!rc && ch.has_kho) {
		p->kho_fdt = ch.kho_fdt;
		p->kho_fdt_size = ch.kho_fdt_size;
	}
	if (!rc && ch.has_kho_scratch) {
		p->kho_scratch = ch.kho_scratch;
		p->kho_scratch_size = ch.kho_scratch_size;
	}
	p->mode = mode_from_bootargs(fdt);
}

void arch_boot_next(struct stub_platform *p)
{
	/* Chaining into an embedded Image is not built yet: without a next
	 * kernel the protocol is to report and power off. */
	(void)p;
	arch_poweroff(0);
}
