/* uefi/lspci.c - the `lspci` command: ECAM from ACPI MCFG, the live walk, one
 * line per function, then a totals line. It never writes PCI config space. */
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/pci_walk.h>
#include <pcsc/report.h>
#include "efi_app.h"

/* Walk capacity in physical functions (VFs are ranges of their PF and
 * cost nothing): PCI_WALK_FUNC_BYTES (44) each, 2.75 MiB, in pages from
 * firmware, so the image stays small. */
#define EFI_LSPCI_MAX_FUNCS	(64u * 1024u)

int efi_discover(struct physmem *pm, struct ecam *e)
{
	EFI_STATUS st = efi_physmem_init(pm);
	int rc;

	if (st != EFI_SUCCESS) {
		pcsc_log("pcsc: efi memory map: status 0x%llx", (unsigned long long)st);
		return -PCSC_ENOTRAM;
	}
	pcsc_log("pcsc: efi ram ranges=%u", pm->ram.n);
	rc = efi_ecam_init(pm, e);
	for (unsigned int i = 0; i < e->n; i++)
		pcsc_log("pcsc: ecam seg %04x bus %02x-%02x base 0x%llx", e->win[i].seg,
			 e->win[i].bus_start, e->win[i].bus_end,
			 (unsigned long long)e->win[i].base);
	if (rc < 0)
		pcsc_log("pcsc: efi acpi mcfg: %s", pcsc_strerror(rc));
	if (e->n == 0) {
		pcsc_log("pcsc: no ECAM window: nothing to walk");
		return rc < 0 ? rc : -PCSC_ENOTFOUND;
	}
	/* Some MCFG entries refused, others usable: walk what we have. */
	return 0;
}

EFI_STATUS efi_cmd_lspci(int argc, char **argv)
{
	static struct physmem pm;
	static struct ecam e;
	struct pci_cfg cfg;
	struct pci_walk w;
	void *funcs;
	uint64_t bytes = PCI_WALK_ARENA(EFI_LSPCI_MAX_FUNCS);

	if (argc != 1) {
		pcsc_log("pcsc: lspci takes no arguments");
		return EFI_APP_USAGE;
	}
	if (efi_discover(&pm, &e) < 0)
		return EFI_APP_NO_ECAM;
	funcs = efi_pages_alloc(bytes);
	if (!funcs)
		return EFI_APP_NO_MEM;

	ecam_cfg_init(&cfg, &e);
	/* The stub's own walk and listing: the two outputs compare 1:1. */
	pci_walk_all(&w, funcs, (size_t)bytes, &cfg, e.win, e.n);
	report_walk(&w, cfg.reads, true);
	efi_pages_free(funcs, bytes);
	return EFI_APP_OK;
}
