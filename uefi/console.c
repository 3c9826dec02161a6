/* uefi/console.c - pcsc_log's sink in the EFI app: ASCII lines to ConOut.
 * It must never call ConOut before efi_main has set efi_st. */
#include <pcsc/log.h>
#include "efi_app.h"

/* One line at most (pcsc_log cuts at 255) plus "\r\n" and NUL. */
#define LINE16_MAX	260

static void efi_console_sink(const char *line, size_t len)
{
	CHAR16 buf[LINE16_MAX];
	size_t i, n = 0;

	for (i = 0; i < len && n + 3 < LINE16_MAX; i++) {
		unsigned char c = (unsigned char)line[i];

		/* ConOut wants CR LF; anything else non-printable becomes '?'. */
		if (c == '\n') {
			buf[n++] = '\r';
			buf[n++] = '\n';
		} else {
			buf[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
	}
	buf[n] = 0;
	efi_st->ConOut->OutputString(efi_st->ConOut, buf);
}

void efi_console_init(void)
{
	pcsc_log_set_sink(efi_console_sink);
}
