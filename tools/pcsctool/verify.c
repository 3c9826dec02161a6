/* verify.c - `pcsctool verify`: the stub's own session (lib/ session.h) over a
 * simulated machine and a cache from gen/capture or a memory image; prints
 * the stub's report, then checks the digest it handed over against the blob.
 * Exit status: 0 all VALID, 1 entries removed, 2 rejected, 3 digest mismatch. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pcsc/bootopt.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/session.h>
#include "pcsctool.h"

static void stdout_sink(const char *line, size_t len)
{
	fwrite(line, 1, len, stdout);
	if (!len || line[len - 1] != '\n')
		putchar('\n');
}

/* The cache as the next kernel would find it: every blob of the source
 * directory's manifest, read back from the patched memory. */
static int write_back(const struct source *s, const char *dir)
{
	struct manifest m;
	unsigned int i;
	int rc;

	rc = manifest_read(s->dir, &m);
	if (rc)
		return rc;
	if (mkdir(dir, 0777) && errno != EEXIST) {
		die_msg("%s: %s", dir, strerror(errno));
		return EXIT_IO;
	}
	for (i = 0; i < m.nblob; i++) {
		const void *p = region_at(&s->r, m.blob[i].addr, m.blob[i].size);

		if (!p)
			return EXIT_DATA;
		rc = write_file(dir, m.blob[i].name, p, m.blob[i].size);
		if (rc)
			return rc;
	}
	return manifest_write(dir, &m);
}

/* --report LEVEL, through the stub's own grammar (pcsc.report=). */
static int parse_report(const char *v, enum pcsc_report *r)
{
	struct pcsc_bootopts bo;
	char opt[64];

	snprintf(opt, sizeof(opt), "pcsc.report=%s", v);
	if (strpbrk(v, " \t\n") || pcsc_bootopts_parse(opt, strlen(opt), &bo, NULL, 0)) {
		die_msg("verify: --report full|problems|summary|quiet");
		return EXIT_USAGE;
	}
	*r = bo.report;
	return 0;
}

/*
 * The self-check: read back the blob just handed over, as show does, and
 * recompute its digest from the blob alone. `digest ok HEX` is a detail
 * line (printed at --report full); a mismatch is an alert, always printed.
 * Returns 0 or EXIT_MISMATCH.
 */
static int check_handover(struct source *s, const struct pcsc_session_out *out)
{
	struct handed_over h;
	struct kho_info ki;
	char line[256];
	uint32_t size;
	void *fdt;

	if (source_pcsc_fdt(s, "verify", &ki, &fdt, &size)) {
		pcsc_log_at(PCSC_LOG_ALERT, "digest MISMATCH (the handed-over pcsc FDT is unreadable)");
		return EXIT_MISMATCH;
	}
	if (handed_read(fdt, &s->pm, s->S, &h))
		return EXIT_IO;
	if (h.ok && memcmp(h.sha, out->sha256, sizeof(h.sha))) {
		h.ok = false;	/* the property is not what the session reported */
		snprintf(h.why, sizeof(h.why), "sha256 property differs from the session's");
	}
	handed_digest_line(&h, line, sizeof(line));
	if (!h.ok) {
		pcsc_log_at(PCSC_LOG_ALERT, "%s", line);
		return EXIT_MISMATCH;
	}
	pcsc_log("%s", line);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct source s = { 0 };
	struct pcsc_session_in in;
	struct pcsc_session_out out;
	const char *topology = NULL, *wdir = NULL;
	enum pcsc_mode mode = PCSC_MODE_QUICK;
	enum pcsc_report report = PCSC_REPORT_FULL;	/* the host tool shows everything */
	struct topo t;
	size_t arena_size;
	uint32_t entries;
	void *arena;
	int rc, i, check = 0;

	for (i = 1; i < argc; i++) {
		rc = source_arg(&s, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc)
			continue;
		if (!strcmp(argv[i], "--topology") && i + 1 < argc) {
			topology = argv[++i];
		} else if (!strcmp(argv[i], "--write") && i + 1 < argc) {
			wdir = argv[++i];
		} else if (!strcmp(argv[i], "--report") && i + 1 < argc) {
			rc = parse_report(argv[++i], &report);
			if (rc)
				return rc;
		} else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "quick"))
				mode = PCSC_MODE_QUICK;
			else if (!strcmp(argv[i], "strict"))
				mode = PCSC_MODE_STRICT;
			else if (!strcmp(argv[i], "off"))
				mode = PCSC_MODE_OFF;
			else {
				die_msg("verify: --mode quick|strict|off");
				return EXIT_USAGE;
			}
		} else {
			die_msg("verify: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!topology) {
		die_msg("verify: --topology TOPOLOGY is required");
		return EXIT_USAGE;
	}
	if (wdir && s.image) {
		die_msg("verify: --write needs a cache DIR, not --image");
		return EXIT_USAGE;
	}
	rc = source_open(&s);
	if (!rc)
		rc = topo_load(topology, &t);
	if (rc)
		return rc;
	/* A fresh counter: the session's reads are the ones reported. */
	pci_sim_cfg_init(&t.cfg, &t.sim);
	entries = s.entries ? s.entries + 16 : 1u << 17;
	arena_size = PCSC_SESSION_ARENA(entries, t.walk.nphys + 64, 1u << 16);
	arena = malloc(arena_size);
	if (!arena)
		return EXIT_IO;
	memset(&in, 0, sizeof(in));
	in.cfg = &t.cfg;
	in.windows = t.sim.win;
	in.nwindows = t.sim.nwin;
	in.pm = &s.pm;
	in.kho_fdt = s.kho_fdt;
	in.kho_scratch = s.kho_scratch;
	in.kho_scratch_size = s.kho_scratch_size;
	in.kho_bitmap = s.kho_bitmap;
	in.mode = mode;
	in.S = s.S;
	in.max_funcs = t.walk.nphys + 64;
	in.arena = arena;
	in.arena_size = arena_size;
	pcsc_log_set_sink(stdout_sink);
	pcsc_log_set_report(report);
	rc = pcsc_session_run(&in, &out);
	if (!rc && out.props_added)
		check = check_handover(&s, &out);
	pcsc_log_set_sink(NULL);
	free(arena);
	topo_free(&t);
	if (rc) {
		die_msg("verify: %s", pcsc_strerror(rc));
		return EXIT_DATA;
	}
	fflush(stdout);
	if (wdir) {
		rc = write_back(&s, wdir);
		if (rc)
			return rc;
	}
	free(s.r.mem);
	if (check)
		return check;
	if (out.status)
		return EXIT_REJECTED;
	return out.removed ? EXIT_PATCHED : EXIT_CLEAN;
}
