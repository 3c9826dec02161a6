/* release.c - which kho-v1 bitmap size the running Linux writes, from its release string
 * (`uname -r`), for `pcsctool wrap`. Never answers 4096 where 512 is possible: unknown is unset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/kho.h>
#include "pcsctool.h"

/* Leading decimal number of *s (advanced past it); false when none. */
static bool take_num(const char **s, unsigned long *v)
{
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	*v = strtoul(*s, &end, 10);
	*s = end;
	return *v < 100000;
}

/*
 * docs/abi.md, release table: 6.16 and 6.17.0 - 6.17.8 write 512-byte
 * bitmaps; the PAGE_SIZE change went to 6.17.9 (stable) and into 6.18
 * during its release candidates (which rc was not established), so a
 * 6.18-rc is unknown; 6.18 - 7.0 write 4096; 7.1 on write a radix tree
 * (kho-v2+), which has no bitmap size. Before 6.16 there is no KHO.
 */
uint32_t release_kho_bitmap(const char *release, char *why, size_t len)
{
	unsigned long x = 0, y = 0, z = 0;
	const char *s = release;
	bool rc;

	if (!take_num(&s, &x) || *s++ != '.' || !take_num(&s, &y)) {
		snprintf(why, len, "release \"%s\" not understood: left unset (read as 512, which can only lose entries)", release);
		return 0;
	}
	if (*s == '.') {
		s++;
		if (!take_num(&s, &z)) {
			snprintf(why, len, "release \"%s\" not understood: left unset (read as 512, which can only lose entries)", release);
			return 0;
		}
	}
	rc = !strncmp(s, "-rc", 3) && s[3] >= '0' && s[3] <= '9';
	if (x < 6 || (x == 6 && y < 16)) {
		snprintf(why, len, "Linux %s has no KHO (6.16+)", release);
		return 0;
	}
	if (x == 6 && (y == 16 || (y == 17 && z < 9))) {
		snprintf(why, len, "Linux %s writes kho-v1 with 512-byte bitmaps (6.16 - 6.17.8)", release);
		return KHO_BITMAP_512;
	}
	if (x == 6 && y == 18 && rc) {
		snprintf(why, len, "Linux %s is a 6.18 release candidate, when the bitmap size "
			 "changed: left unset (read as 512, which can only lose entries)", release);
		return 0;
	}
	if (x == 6 || (x == 7 && y == 0)) {
		snprintf(why, len, "Linux %s writes kho-v1 with 4096-byte bitmaps (6.17.9+, 6.18 - 7.0)",
			 release);
		return KHO_BITMAP_4096;
	}
	snprintf(why, len, "Linux %s writes kho-v2 or later (7.1+): a radix tree, no bitmap size", release);
	return 0;
}
