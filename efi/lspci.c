/* efi/lspci.c - the `lspci` command: the live walk from ACPI MCFG, one line
 * per function, then a summary. It never writes PCI config space. */
#include <pcsc/log.h>
#include "efi_app.h"

EFI_STATUS efi_cmd_lspci(int argc, char **argv)
{
	pcsc_log("pcsc: lspci not built yet");
	return EFI_UNSUPPORTED;
}
