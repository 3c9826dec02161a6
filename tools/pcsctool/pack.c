/* pack.c - `pcsctool pack`: one raw memory image of a gen/capture directory,
 * laid out as QEMU's pmemsave would dump it. Never changes the directory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

int cmd_pack(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	uint64_t base = UINT64_MAX, end;
	struct manifest m;
	struct region r;
	FILE *f;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--base") && i + 1 < argc) {
			if (!pcsc_parse_u64_str(argv[++i], &base)) {
				die_msg("pack: bad --base");
				return EXIT_USAGE;
			}
		} else if (argv[i][0] != '-' && !dir) {
			dir = argv[i];
		} else {
			die_msg("pack: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!dir || !out) {
		die_msg("pack: DIR and --out IMAGE are required");
		return EXIT_USAGE;
	}
	rc = manifest_read(dir, &m);
	if (!rc)
		rc = region_from_dir(dir, &m, &r);
	if (rc)
		return rc;
	if (base == UINT64_MAX)
		base = r.base;
	if (base > r.base) {
		die_msg("pack: --base 0x%" PRIx64 " is above the first blob 0x%" PRIx64, base, r.base);
		return EXIT_USAGE;
	}
	end = r.base + r.size;
	f = fopen(out, "wb");
	/* Zero gap below the blobs as a hole: a 512 MiB gap costs nothing. */
	if (!f || (r.base > base && fseeko(f, (off_t)(r.base - base), SEEK_SET)) ||
	    fwrite(r.mem, 1, r.size, f) != r.size || fclose(f)) {
		die_msg("%s: %s", out, strerror(errno));
		return EXIT_IO;
	}
	printf("pack: %s holds 0x%" PRIx64 "-0x%" PRIx64 "; read it with --image %s --base 0x%" PRIx64
	       " --kho-fdt 0x%" PRIx64 " --ram 0x%" PRIx64 ":0x%" PRIx64 "\n",
	       out, base, end, out, base, m.kho_fdt, m.ram_start, m.ram_size);
	free(r.mem);
	return 0;
}
