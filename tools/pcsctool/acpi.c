/* acpi.c - `pcsctool acpi`: a minimal EFI system table -> ACPI 2.0 RSDP ->
 * XSDT -> MCFG chain in one blob, for booting the arm64 stub the ACPI way
 * (DTB without PCI nodes, /chosen linux,uefi-system-table). Host files only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <pcsc/acpi.h>
#include <pcsc/errno.h>
#include <pcsc/parse.h>
#include "pcsctool.h"

#define ACPI_BLOB_SIZE	0x1000u
#define OFF_SYSTAB	0x000u
#define OFF_CONFIG	0x100u
#define OFF_RSDP	0x200u
#define OFF_XSDT	0x240u
#define OFF_MCFG	0x300u
#define MAX_ECAM	((ACPI_BLOB_SIZE - OFF_MCFG - ACPI_MCFG_ENTRY_OFF) / ACPI_MCFG_ENTRY_LEN)

static const uint8_t acpi20_guid[16] = {	/* 8868e871-e4f1-11d3-bc22-0080c73c8881 */
	0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
	0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void sdt(uint8_t *p, const char *sig, uint32_t len)
{
	memcpy(p, sig, 4);
	le(p + 4, len, 4);
	p[8] = 1;
	memcpy(p + 10, "PCSCTL", 6);
	memcpy(p + 16, "PCSCTOOL", 8);
	le(p + 24, 1, 4);
	p[9] = (uint8_t)-acpi_checksum(p, len);
}

/* "BASE:SEG:START:END" (hex or C numbers). */
static bool parse_ecam(const char *s, struct ecam_window *w)
{
	unsigned long long base;
	unsigned int seg, start, end;
	char tail;

	if (sscanf(s, "%lli:%i:%i:%i%c", &base, &seg, &start, &end, &tail) != 4 ||
	    seg > 0xffff || start > 255 || end > 255)
		return false;
	w->base = base;
	w->seg = (uint16_t)seg;
	w->bus_start = (uint8_t)start;
	w->bus_end = (uint8_t)end;
	return true;
}

int cmd_acpi(int argc, char **argv)
{
	struct ecam_window win[MAX_ECAM];
	const char *out = NULL, *topology = NULL;
	unsigned int n = 0, i;
	uint64_t at = 0, rsdp = 0;
	struct region r;
	struct physmem pm;
	struct ecam e;
	uint8_t *b;
	int rc;

	for (int k = 1; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;

		if (!v) {
			die_msg("acpi: %s needs a value", a);
			return EXIT_USAGE;
		}
		if (!strcmp(a, "--out")) {
			out = v;
		} else if (!strcmp(a, "--at")) {
			if (!pcsc_parse_u64_str(v, &at) || (at & 0xfff)) {
				die_msg("acpi: --at needs a page-aligned address");
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--topology")) {
			topology = v;
		} else if (!strcmp(a, "--ecam")) {
			if (n == MAX_ECAM || !parse_ecam(v, &win[n])) {
				die_msg("acpi: --ecam BASE:SEG:START:END (at most %u)", (unsigned)MAX_ECAM);
				return EXIT_USAGE;
			}
			n++;
		} else {
			die_msg("acpi: unexpected argument '%s'", a);
			return EXIT_USAGE;
		}
		k++;
	}
	if (topology) {
		struct topo t;

		rc = topo_load(topology, &t);
		if (rc)
			return rc;
		for (i = 0; i < t.sim.nwin && n < MAX_ECAM; i++)
			win[n++] = t.sim.win[i];
		topo_free(&t);
	}
	if (!out || !at || !n) {
		die_msg("acpi: --out DIR, --at ADDR and at least one --ecam or --topology are required");
		return EXIT_USAGE;
	}
	b = calloc(1, ACPI_BLOB_SIZE);
	if (!b)
		return EXIT_IO;
	/* EFI_SYSTEM_TABLE (64-bit): header, then NumberOfTableEntries at 104
	 * and ConfigurationTable at 112; no services (the stub calls none). */
	le(b + OFF_SYSTAB, EFI_SYSTEM_TABLE_SIGNATURE, 8);
	le(b + OFF_SYSTAB + 8, (2u << 16) | 70u, 4);
	le(b + OFF_SYSTAB + 12, EFI_SYSTAB_LEN, 4);
	le(b + OFF_SYSTAB + 104, 1, 8);
	le(b + OFF_SYSTAB + 112, at + OFF_CONFIG, 8);
	memcpy(b + OFF_CONFIG, acpi20_guid, 16);
	le(b + OFF_CONFIG + 16, at + OFF_RSDP, 8);
	/* MCFG: entry base is bus 0's, so a window starting at bus s moves
	 * back by s MiB. */
	for (i = 0; i < n; i++) {
		uint8_t *q = b + OFF_MCFG + ACPI_MCFG_ENTRY_OFF + i * ACPI_MCFG_ENTRY_LEN;

		le(q, win[i].base - ((uint64_t)win[i].bus_start << 20), 8);
		le(q + 8, win[i].seg, 2);
		q[10] = win[i].bus_start;
		q[11] = win[i].bus_end;
	}
	sdt(b + OFF_MCFG, "MCFG", ACPI_MCFG_ENTRY_OFF + n * ACPI_MCFG_ENTRY_LEN);
	le(b + OFF_XSDT + ACPI_SDT_HDR_LEN, at + OFF_MCFG, 8);
	sdt(b + OFF_XSDT, "XSDT", ACPI_SDT_HDR_LEN + 8);
	memcpy(b + OFF_RSDP, "RSD PTR ", 8);
	memcpy(b + OFF_RSDP + 9, "PCSCTL", 6);
	b[OFF_RSDP + 15] = 2;
	b[OFF_RSDP + 8] = (uint8_t)-acpi_checksum(b + OFF_RSDP, ACPI_RSDP_V1_LEN);
	le(b + OFF_RSDP + 20, ACPI_RSDP_V2_LEN, 4);
	le(b + OFF_RSDP + 24, at + OFF_XSDT, 8);
	b[OFF_RSDP + 32] = (uint8_t)-acpi_checksum(b + OFF_RSDP, ACPI_RSDP_V2_LEN);

	/* Read it back with the stub's own parsers before handing it out. */
	r.base = at;
	r.size = ACPI_BLOB_SIZE;
	r.mem = b;
	region_physmem(&r, &pm, at, ACPI_BLOB_SIZE);
	ecam_init(&e, NULL);
	rc = efi_find_rsdp(&pm, at, &rsdp);
	if (!rc)
		rc = acpi_ecam_from_rsdp(&pm, rsdp, &e);
	if (rc || e.n != n) {
		/* e.g. a window ecam_add_window refuses: misaligned, overlapping */
		die_msg("acpi: tables do not read back (%s, %u of %u windows)", pcsc_strerror(rc), e.n, n);
		free(b);
		return EXIT_DATA;
	}
	if (mkdir(out, 0777) && errno != EEXIST) {
		die_msg("%s: %s", out, strerror(errno));
		free(b);
		return EXIT_IO;
	}
	rc = write_file(out, "acpi.bin", b, ACPI_BLOB_SIZE);
	free(b);
	if (rc)
		return rc;
	printf("acpi: uefi-system-table 0x%" PRIx64 " rsdp 0x%" PRIx64 " mcfg 0x%" PRIx64
	       " windows %u; load with -device loader,file=%s/acpi.bin,addr=0x%" PRIx64 ",force-raw=on\n",
	       at, rsdp, at + OFF_MCFG, n, out, at);
	for (i = 0; i < e.n; i++)
		printf("acpi: ecam %04x:%02x-%02x at 0x%" PRIx64 "\n", e.win[i].seg,
		       e.win[i].bus_start, e.win[i].bus_end, e.win[i].base);
	return 0;
}
