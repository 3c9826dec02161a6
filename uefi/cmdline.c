/* uefi/cmdline.c - command-line splitting for the EFI app (shell LoadOptions
 * or the args file). It must never write past struct efi_args. */
#include "efi_app.h"

/* Append one token from next() into a; quotes group, blanks split. */
static int args_push(struct efi_args *a, size_t *used, const char *tok, size_t n)
{
	if (a->argc >= EFI_ARGV_MAX || *used + n + 1 > sizeof(a->buf))
		return -1;
	a->argv[a->argc++] = &a->buf[*used];
	for (size_t i = 0; i < n; i++)
		a->buf[(*used)++] = tok[i];
	a->buf[(*used)++] = 0;
	return 0;
}

/* Split ASCII s[0..n) (stops at NUL): blanks and newlines separate, double
 * quotes group, '#' at the start of a line comments the rest of it. */
static int args_split(struct efi_args *a, size_t *used, const char *s, size_t n)
{
	char tok[EFI_ARGS_MAX];
	size_t i = 0, t = 0;
	bool quoted = false, in_tok = false, line_start = true;

	while (i < n && s[i]) {
		char c = s[i++];

		if (!quoted && line_start && c == '#') {
			while (i < n && s[i] && s[i] != '\n')
				i++;
			continue;
		}
		line_start = (c == '\n');
		if (c == '"') {
			quoted = !quoted;
			in_tok = true;
			continue;
		}
		if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			if (in_tok && args_push(a, used, tok, t) < 0)
				return -1;
			in_tok = false;
			t = 0;
			continue;
		}
		if (t + 1 >= sizeof(tok))
			return -1;
		tok[t++] = c;
		in_tok = true;
	}
	if (in_tok && args_push(a, used, tok, t) < 0)
		return -1;
	return a->argc;
}

int efi_args_from_ucs2(struct efi_args *a, const CHAR16 *s, size_t n16)
{
	char ascii[EFI_ARGS_MAX];
	size_t used = 0, n = 0;

	a->argc = 0;
	for (size_t i = 0; i < n16 && s[i]; i++) {
		/* Only printable ASCII and blanks are a command line; anything
		 * else (a boot option's binary OptionalData) ends it. */
		if (!(s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f)))
			break;
		if (n + 1 >= sizeof(ascii))
			return -1;
		ascii[n++] = (char)s[i];
	}
	return args_split(a, &used, ascii, n);
}

int efi_args_from_ascii(struct efi_args *a, const char *prog, const char *s, size_t n)
{
	size_t used = 0;
	size_t plen = 0;

	a->argc = 0;
	while (prog[plen])
		plen++;
	if (args_push(a, &used, prog, plen) < 0)
		return -1;
	return args_split(a, &used, s, n);
}
