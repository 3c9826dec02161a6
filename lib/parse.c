/* parse.c - one unsigned number grammar for every caller (boot options, EFI, pcsctool, topologies).
 * Reads only the bytes it is given; overflow is an error, never a wrap. */
#include <string.h>
#include <pcsc/parse.h>

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

bool pcsc_parse_u64(const char *p, size_t len, unsigned int base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!p || (base != 10 && base != 16))
		return false;
	if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		len -= 2;
		base = 16;
	}
	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		int d = digit(p[i]);

		if (d < 0 || (unsigned int)d >= base)
			return false;
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

bool pcsc_parse_u64_str(const char *s, uint64_t *out)
{
	return s && pcsc_parse_u64(s, strnlen(s, 65), 10, UINT64_MAX, out);
}

bool pcsc_parse_range(const char *s, uint64_t *start, uint64_t *size)
{
	size_t len = s ? strnlen(s, 64) : 64;
	const char *colon = len < 64 ? memchr(s, ':', len) : NULL;

	return colon && pcsc_parse_u64(s, (size_t)(colon - s), 10, UINT64_MAX, start) &&
	       pcsc_parse_u64(colon + 1, len - (size_t)(colon - s) - 1, 10, UINT64_MAX, size) &&
	       *size;
}
