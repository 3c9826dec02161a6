/* efi/verify.c - the `verify` command: a packed cache from the ESP through
 * pcsc_session_run. It never writes PCI config space. */
#include <pcsc/log.h>
#include "efi_app.h"

EFI_STATUS efi_cmd_verify(int argc, char **argv)
{
	pcsc_log("pcsc: verify not built yet");
	return EFI_UNSUPPORTED;
}
