/* source.c - where show and verify read a cache from: a gen/capture
 * directory, or a raw memory image (--image FILE --base ADDR --kho-fdt ADDR).
 * Never writes the source back. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

int source_arg(struct source *s, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t x;

	if (!strcmp(a, "--image") && v) {
		s->image = v;
	} else if ((!strcmp(a, "--base") || !strcmp(a, "--kho-fdt") || !strcmp(a, "--S")) && v) {
		if (!pcsc_parse_u64_str(v, &x)) {
			die_msg("%s needs a number", a);
			return -EXIT_USAGE;
		}
		if (!strcmp(a, "--base"))
			s->base = x, s->has_base = true;
		else if (!strcmp(a, "--kho-fdt"))
			s->kho_fdt = x;
		else if (x == 256 || x == 4096)
			s->S = (uint16_t)x;
		else {
			die_msg("--S must be 256 or 4096");
			return -EXIT_USAGE;
		}
	} else if (!strcmp(a, "--kho-bitmap") && v) {
		if (!pcsc_parse_u64_str(v, &x) || (x != 512 && x != 4096)) {
			die_msg("--kho-bitmap must be 512 or 4096");
			return -EXIT_USAGE;
		}
		s->kho_bitmap = (uint32_t)x;
	} else if (!strcmp(a, "--kho-scratch") && v) {
		if (!pcsc_parse_range(v, &s->kho_scratch, &s->kho_scratch_size)) {
			die_msg("--kho-scratch needs START:SIZE");
			return -EXIT_USAGE;
		}
	} else if (!strcmp(a, "--ram") && v) {
		if (!pcsc_parse_range(v, &s->ram_start, &s->ram_size)) {
			die_msg("--ram needs START:SIZE");
			return -EXIT_USAGE;
		}
	} else if (a[0] != '-' && !s->dir) {
		s->dir = a;
		return 1;
	} else {
		return 0;
	}
	(*i)++;
	return 1;
}

int source_open(struct source *s)
{
	struct manifest m;
	int rc;

	if (s->image) {
		if (!s->has_base || !s->kho_fdt) {
			die_msg("--image needs --base ADDR and --kho-fdt ADDR");
			return EXIT_USAGE;
		}
		rc = region_from_image(s->image, s->base, &s->r);
		if (rc)
			return rc;
		if (!s->ram_size) {	/* RAM = what the image holds */
			s->ram_start = s->r.base;
			s->ram_size = s->r.size;
		}
		if (!s->S)
			s->S = 4096;
		s->entries = 0;
	} else {
		if (!s->dir) {
			die_msg("a cache DIR or --image FILE is required");
			return EXIT_USAGE;
		}
		rc = manifest_read(s->dir, &m);
		if (!rc)
			rc = region_from_dir(s->dir, &m, &s->r);
		if (rc)
			return rc;
		if (!s->ram_size) {
			s->ram_start = m.ram_start;
			s->ram_size = m.ram_size;
		}
		if (!s->kho_fdt)
			s->kho_fdt = m.kho_fdt;
		if (!s->kho_scratch_size) {
			s->kho_scratch = m.kho_scratch;
			s->kho_scratch_size = m.kho_scratch_size;
		}
		if (!s->S)
			s->S = m.S;
		s->entries = m.entries;
	}
	region_physmem(&s->r, &s->pm, s->ram_start, s->ram_size);
	return 0;
}

int source_pcsc_fdt(struct source *s, const char *who, struct kho_info *ki, void **fdt,
		    uint32_t *size)
{
	const uint8_t *hdr;
	char msg[PCSC_MSG_MAX];
	int rc;

	rc = kho_open(&s->pm, s->kho_fdt, 0, ki);
	if (rc) {
		die_msg("%s: KHO root FDT at 0x%" PRIx64 ": %s (%s)", who, s->kho_fdt, ki->msg,
			pcsc_strerror(rc));
		return EXIT_REJECTED;
	}
	hdr = physmem_map(&s->pm, ki->pcsc_fdt_phys, sizeof(struct fdt_header));
	if (!hdr) {
		die_msg("%s: pcsc FDT at 0x%" PRIx64 " is outside RAM", who, ki->pcsc_fdt_phys);
		return EXIT_REJECTED;
	}
	*size = fdt_totalsize(hdr);
	*fdt = physmem_map(&s->pm, ki->pcsc_fdt_phys, *size);
	if (!*fdt || *size > KHO_FDT_MAX_SIZE * 16u) {
		die_msg("%s: pcsc FDT at 0x%" PRIx64 ": totalsize %u past RAM", who,
			ki->pcsc_fdt_phys, *size);
		return EXIT_REJECTED;
	}
	rc = pcsc_fdt_check(*fdt, *size, msg, sizeof(msg));
	if (rc) {
		die_msg("%s: pcsc FDT: %s", who, msg);
		return EXIT_REJECTED;
	}
	return 0;
}
