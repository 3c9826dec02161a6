/* uefi/main.c - the GNU-EFI bring-up app: entry, arguments, command dispatch,
 * exit status. It never writes PCI config space; it changes no firmware state
 * except the files it is told to write (and power, with --shutdown). */
#include <pcsc/log.h>
#include "efi_app.h"

#ifndef PCSC_VERSION
#define PCSC_VERSION "?"
#endif

/* Read when the command line names no command: lets the app run unattended
 * as the removable-media default \EFI\BOOT\BOOT{X64,AA64}.EFI. */
#define EFI_ARGS_FILE	"pcsc-stub.args"
#define EFI_ARGS_FILE_MAX	4096

EFI_HANDLE efi_image;
EFI_SYSTEM_TABLE *efi_st;

static EFI_GUID efi_loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;

static void efi_usage(void)
{
	pcsc_log("pcsc: usage: pcsc-stub.efi [--shutdown] COMMAND");
	pcsc_log("pcsc:   lspci                              live PCI walk from ACPI MCFG");
	pcsc_log("pcsc:   verify FILE [--strict] [--out FILE] verify a packed cache");
	pcsc_log("pcsc: with no COMMAND, arguments are read from \\" EFI_ARGS_FILE);
}

static const char *efi_status_name(EFI_STATUS st)
{
	switch (st) {
	case EFI_APP_OK:	return "success";
	case EFI_APP_USAGE:	return "usage";
	case EFI_APP_NOT_VALID:	return "not-valid";
	case EFI_APP_REJECTED:	return "rejected";
	case EFI_APP_NO_ECAM:	return "no-ecam";
	case EFI_APP_IO:	return "io";
	case EFI_APP_NO_MEM:	return "no-memory";
	default:		return "error";
	}
}

bool efi_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* argv from the shell's LoadOptions; when they carry no command, from the
 * args file on the app's volume. Returns argc, or -1. */
static int efi_get_args(struct efi_args *a)
{
	EFI_LOADED_IMAGE *li = NULL;
	void *buf;
	uint64_t len;
	int argc = 0;

	if (efi_st->BootServices->HandleProtocol(efi_image, &efi_loaded_image_guid,
						 (void **)&li) == EFI_SUCCESS &&
	    li->LoadOptions && li->LoadOptionsSize >= 2)
		argc = efi_args_from_ucs2(a, li->LoadOptions, li->LoadOptionsSize / 2);
	if (argc >= 2)
		return argc;
	if (efi_file_read(EFI_ARGS_FILE, &buf, &len, EFI_ARGS_FILE_MAX) != EFI_SUCCESS)
		return argc < 0 ? -1 : (a->argc = 0);
	pcsc_log("pcsc: efi args from \\%s", EFI_ARGS_FILE);
	argc = efi_args_from_ascii(a, "pcsc-stub.efi", buf, (size_t)len);
	efi_pages_free(buf, len);
	return argc;
}

static EFI_STATUS efi_run(void)
{
	static struct efi_args args;
	EFI_STATUS st;
	bool shutdown = false;
	char *argv[EFI_ARGV_MAX];
	int argc = 0, n;

	efi_console_init();
	pcsc_log("pcsc: pcsc-stub %s efi %s", PCSC_VERSION, efi_arch_name);
	/* A walk of a large machine may outlast the boot manager's 5-minute
	 * watchdog; the app always ends by itself (every loop is bounded). */
	efi_st->BootServices->SetWatchdogTimer(0, 0, 0, NULL);

	n = efi_get_args(&args);
	if (n < 0) {
		pcsc_log("pcsc: efi command line too long");
		return EFI_APP_USAGE;
	}
	/* Global options are taken out wherever they are. */
	for (int i = 0; i < n; i++) {
		if (i > 0 && efi_streq(args.argv[i], "--shutdown"))
			shutdown = true;
		else
			argv[argc++] = args.argv[i];
	}

	if (argc < 2) {
		efi_usage();
		st = EFI_APP_OK;
	} else if (efi_streq(argv[1], "lspci")) {
		st = efi_cmd_lspci(argc - 1, argv + 1);
	} else if (efi_streq(argv[1], "verify")) {
		st = efi_cmd_verify(argc - 1, argv + 1);
	} else if (efi_streq(argv[1], "help")) {
		efi_usage();
		st = EFI_APP_OK;
	} else {
		pcsc_log("pcsc: unknown command '%s'", argv[1]);
		efi_usage();
		st = EFI_APP_USAGE;
	}
	pcsc_log("pcsc: efi exit 0x%llx %s", (unsigned long long)st, efi_status_name(st));
	if (shutdown) {
		/* Unattended runs (tests, scripted bring-up): power off with
		 * the status as reset data; nothing after this returns. */
		efi_arch_leave();
		efi_st->RuntimeServices->ResetSystem(EfiResetShutdown, st, 0, NULL);
		efi_arch_enter();
	}
	return st;
}

/* Called by gnu-efi's crt0 after self-relocation with the ELF calling
 * convention (SPEC §5): not EFIAPI. Not stack-protected itself, because the
 * canary is only ours after efi_arch_enter. */
__attribute__((no_stack_protector))
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

__attribute__((no_stack_protector))
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	EFI_STATUS ret;

	efi_image = image;
	efi_st = st;
	efi_arch_enter();
	ret = efi_run();
	efi_arch_leave();
	return ret;
}
