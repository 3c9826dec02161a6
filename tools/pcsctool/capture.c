/* capture.c - `pcsctool capture`: the same handover as gen, from a live
 * Linux machine's /sys/bus/pci/devices/ * /config. Reads sysfs only. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

int gen_parse_args(int argc, char **argv, struct gen_opts *o, const char **pos,
		   const char **sysfs);

static int cmp_dev(const void *a, const void *b)
{
	const struct gen_dev *x = a, *y = b;

	return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

/* sysfs "0x8086\n" files: a VF's ID registers read all ones, the kernel's
 * vendor/device files say what it is. */
static bool read_hex_file(const char *dir, const char *name, uint16_t *v)
{
	char path[4096], buf[32];
	uint64_t x;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (!pcsc_parse_u64_str(buf, &x) || x > 0xffff)
		return false;
	*v = (uint16_t)x;
	return true;
}

int cmd_capture(int argc, char **argv)
{
	const char *sysfs = "/sys";
	struct gen_opts o;
	struct gen_dev *devs = NULL;
	char dir[2048], path[4096];
	uint32_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int rc;

	rc = gen_parse_args(argc, argv, &o, NULL, &sysfs);
	if (rc)
		return rc;
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysfs);
	d = opendir(dir);
	if (!d) {
		die_msg("%s: %s", dir, strerror(errno));
		return EXIT_IO;
	}
	while ((de = readdir(d))) {
		pci_sbdf_t sbdf;
		uint8_t *cfg;
		size_t len;
		uint16_t v;

		if (de->d_name[0] == '.' || !parse_bdf(de->d_name, &sbdf))
			continue;
		snprintf(path, sizeof(path), "%s/%s/config", dir, de->d_name);
		cfg = read_file(path, &len);
		if (!cfg) {
			die_msg("%s: %s (skipped)", path, strerror(errno));
			continue;
		}
		/* Non-root readers get 64 bytes: too little to judge by. */
		if (len < 256 || (cfg[0x0e] & 0x7f) != 0) {
			if (len < 256)
				die_msg("%s: only %zu bytes (run as root for 4096)", path, len);
			free(cfg);
			continue;
		}
		if (n == cap) {
			struct gen_dev *nd;

			cap = cap ? cap * 2 : 64;
			nd = realloc(devs, cap * sizeof(*devs));
			if (!nd)
				return EXIT_IO;
			devs = nd;
		}
		devs[n].sbdf = sbdf;
		devs[n].cfg = calloc(1, o.S);
		if (!devs[n].cfg)
			return EXIT_IO;
		devs[n].cfg_len = o.S;
		memcpy(devs[n].cfg, cfg, len < o.S ? len : o.S);
		free(cfg);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (devs[n].cfg[0] == 0xff && devs[n].cfg[1] == 0xff) {
			if (read_hex_file(path, "vendor", &v)) {
				devs[n].cfg[0] = (uint8_t)v;
				devs[n].cfg[1] = (uint8_t)(v >> 8);
			}
			if (read_hex_file(path, "device", &v)) {
				devs[n].cfg[2] = (uint8_t)v;
				devs[n].cfg[3] = (uint8_t)(v >> 8);
			}
		}
		n++;
	}
	closedir(d);
	if (!n) {
		die_msg("%s: no endpoint with a readable config", dir);
		return EXIT_DATA;
	}
	qsort(devs, n, sizeof(*devs), cmp_dev);
	printf("capture: %u endpoints from %s\n", n, dir);
	rc = gen_write(&o, devs, n);
	for (i = 0; i < n; i++)
		free(devs[i].cfg);
	free(devs);
	free(o.faults);
	return rc;
}
