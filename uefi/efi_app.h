/* uefi/efi_app.h - the contract between the EFI app's common code in uefi/
 * and its two arch files (uefi/x64.c, uefi/aa64.c). Never included by lib/. */
#ifndef PCSC_EFI_APP_H
#define PCSC_EFI_APP_H

#include <efi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/ecam.h>
#include <pcsc/physmem.h>

/* Exit statuses the app returns (and prints as "pcsc: efi exit ..."), so a
 * script or a test can tell outcomes apart without parsing the report. */
#define EFI_APP_OK		EFI_SUCCESS		/* command done; verify: every entry VALID */
#define EFI_APP_USAGE		EFI_INVALID_PARAMETER	/* bad command line */
#define EFI_APP_NOT_VALID	EFI_CRC_ERROR		/* verify: some entry STALE, GONE or BAD */
#define EFI_APP_REJECTED	EFI_VOLUME_CORRUPTED	/* verify: whole cache rejected (detached) */
#define EFI_APP_NO_ECAM		EFI_NOT_FOUND		/* no MCFG / no usable ECAM window */
#define EFI_APP_IO		EFI_LOAD_ERROR		/* file could not be read or written */
#define EFI_APP_NO_MEM		EFI_OUT_OF_RESOURCES	/* page allocation failed */

/* Firmware handles, set once by efi_main before anything else runs. */
extern EFI_HANDLE efi_image;
extern EFI_SYSTEM_TABLE *efi_st;

/* efi_streq - C string equality (no libc string calls needed by callers). */
bool efi_streq(const char *a, const char *b);

/* ---- arch hooks (uefi/x64.c, uefi/aa64.c) ---- */

/* efi_arch_enter - make the stack protector's canary ours before any
 * protected code runs (x64: FS base MSR -> our block; aa64: __stack_chk_guard).
 * Called first thing by efi_main, which itself is not protected. */
void efi_arch_enter(void);

/* efi_arch_leave - undo efi_arch_enter (x64: restore the firmware's FS
 * base). Called on every exit path before control returns to firmware. */
void efi_arch_leave(void);

/* efi_arch_mmio_read32 - one aligned 32-bit device read (ECAM). */
uint32_t efi_arch_mmio_read32(uint64_t addr);

/* "x64" or "aa64", for the banner. */
extern const char efi_arch_name[];

/* ---- console (uefi/console.c) ---- */

/* efi_console_init - route pcsc_log lines to ConOut (which OVMF/AAVMF also
 * mirror to the serial port). */
void efi_console_init(void);

/* ---- command line (uefi/cmdline.c) ---- */

#define EFI_ARGV_MAX	16
#define EFI_ARGS_MAX	512	/* bytes of ASCII command line kept */

struct efi_args {
	int argc;
	char *argv[EFI_ARGV_MAX];
	char buf[EFI_ARGS_MAX];
};

/*
 * efi_args_from_ucs2 - split a UCS-2 command line (the shell's LoadOptions:
 * "prog arg1 ..."; double quotes group) into ASCII argv. Characters outside
 * printable ASCII end the line. n16 = number of CHAR16 available.
 * Returns argc (>= 0); -1 when the line or the token count does not fit.
 */
int efi_args_from_ucs2(struct efi_args *a, const CHAR16 *s, size_t n16);

/*
 * efi_args_from_ascii - same for an ASCII text (the args file), with argv[0]
 * set to prog. Lines starting with '#' are comments; newlines separate
 * tokens like blanks. Returns argc; -1 when it does not fit.
 */
int efi_args_from_ascii(struct efi_args *a, const char *prog, const char *s, size_t n);

/* ---- files on the app's own volume (uefi/file.c) ---- */

/*
 * efi_file_read - read path (ASCII, '/' or '\\' separators, an optional
 * "fsN:" prefix ignored: paths start at the root of the volume the app was
 * loaded from) into fresh pages. *buf and *len receive the data; free with
 * efi_pages_free(*buf, *len). max bounds the size accepted.
 * Returns EFI_SUCCESS or the firmware's error (EFI_NOT_FOUND ...);
 * EFI_BAD_BUFFER_SIZE when the file is larger than max.
 */
EFI_STATUS efi_file_read(const char *path, void **buf, uint64_t *len, uint64_t max);

/* efi_file_write - create or truncate path and write len bytes. */
EFI_STATUS efi_file_write(const char *path, const void *buf, uint64_t len);

/* efi_pages_alloc/free - whole pages of LoaderData, anywhere in RAM. */
void *efi_pages_alloc(uint64_t len);
void efi_pages_free(void *p, uint64_t len);

/* ---- platform discovery (uefi/platform.c) ---- */

/*
 * efi_physmem_init - RAM ranges from the UEFI memory map (every write-back
 * capable range the OS may treat as memory, ACPI tables included), map()
 * 1:1 as UEFI identity-maps memory. Returns EFI_SUCCESS or the firmware's
 * GetMemoryMap error; EFI_BUFFER_TOO_SMALL when RAM does not fit
 * PCSC_MAX_RANGES merged ranges.
 */
EFI_STATUS efi_physmem_init(struct physmem *pm);

/*
 * efi_ecam_init - ECAM windows from the ACPI MCFG found through the EFI
 * configuration table (ACPI 2.0 GUID first). Returns 0 or the -PCSC_E* of
 * efi_find_rsdp / acpi_ecam_from_rsdp.
 */
int efi_ecam_init(const struct physmem *pm, struct ecam *e);

/*
 * efi_discover - efi_physmem_init + efi_ecam_init, logging the RAM range
 * count and every ECAM window. Returns 0 when at least one window is usable
 * (refused MCFG entries are logged); -PCSC_ENOTRAM (memory map unreadable);
 * else efi_ecam_init's error or -PCSC_ENOTFOUND (MCFG had no entry).
 */
int efi_discover(struct physmem *pm, struct ecam *e);

/* ---- commands ---- */

/* efi_cmd_lspci - the live walk, one line per function, then a summary. */
EFI_STATUS efi_cmd_lspci(int argc, char **argv);

/* efi_cmd_verify - verify FILE [--strict] [--out FILE]. */
EFI_STATUS efi_cmd_verify(int argc, char **argv);

#endif
