/* main.c - pcsctool: make, inspect and check PCSC caches on the host.
 * Never touches real hardware beyond reading sysfs (capture). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pcsc/sha256.h>
#include "pcsctool.h"

const char *prog = "pcsctool";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pcsctool [--sha auto|cpu|portable] COMMAND ...\n"
		"  gen TOPOLOGY --out DIR [--base RAM] [--ram-size N] [--at ADDR] [--S 256|4096]\n"
		"      [--kho v1-512|v1-4096|v2|v3|v4] [--scratch START:SIZE ...]\n"
		"      [--stale SPEC ...]         write what an old kernel leaves in RAM\n"
		"  verify --topology TOPOLOGY DIR [--mode quick|strict|off] [--write OUTDIR]\n"
		"      [--report full|problems|summary|quiet]\n"
		"  verify --topology TOPOLOGY --image FILE --base ADDR --kho-fdt ADDR [--ram START:SIZE]\n"
		"                                 run the stub's session against the simulation\n"
		"  show DIR [--json] | show --image FILE --base ADDR --kho-fdt ADDR [--ram START:SIZE] [--json]\n"
		"  kho DIR | kho --image FILE --base ADDR --kho-fdt ADDR [--ram START:SIZE]\n"
		"                                 the KHO root for humans: ABI, map per order, subtrees,\n"
		"                                 scratch, metadata (docs/pcsctool.md)\n"
		"      verify, show, kho also take [--kho-bitmap 512|4096] [--kho-scratch START:SIZE]\n"
		"  capture [--sysfs /sys] --out DIR [--base RAM] [--at ADDR] [--kho LAYOUT]\n"
		"  pack DIR --out IMAGE [--base ADDR]  one raw memory image (as pmemsave) of DIR\n"
		"  acpi --out DIR --at ADDR (--ecam BASE:SEG:START:END ... | --topology TOPOLOGY)\n"
		"                                 EFI system table -> RSDP -> XSDT -> MCFG blob\n"
		"  wrap --arch arm64 STUB.bin NEXT.Image -o OUT.Image  stub + next kernel in one Image\n"
		"  wrap --arch x86_64 STUB.elf NEXT.bzImage -o OUT.bzImage\n"
		"      [--kho-bitmap 512|4096|none] [--kernel-release R]  and the pcsc.kho_bitmap=\n"
		"                                 option the running kernel (uname -r) needs\n"
		"fault SPECs for --stale (see docs/pcsctool.md): BDF | stale=BDF[:vendor|device|class|hdr]\n"
		"  gone=BDF drop=BDF dup=BDF badname=BDF[:NAME] badda=BDF:align|notram|overlap|meta|notpreserved|size|none\n"
		"  corrupt=pcsc-magic|pcsc-compat|pcsc-totalsize|kho-compat|kho-magic|map-loop|pcsc-outside\n"
		"--sha (anywhere on the line): SHA-256 on the CPU's instructions when it has them\n"
		"  (auto, the default), required (cpu: exit 69 without), or the portable C code\n");
}

void die_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The SHA-256 engine for the whole process, chosen once before any
 * command runs: "--sha MODE" may stand anywhere on the line and is taken
 * out of argv. Returns 0, or an EXIT_* code after saying why.
 */
static int sha_select(int *argc, char **argv)
{
	const char *want = "auto", *got;
	int i, j;

	for (i = j = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--sha") && i + 1 < *argc)
			want = argv[++i];
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	if (!strcmp(want, "portable")) {
		sha256_use(NULL);
		return 0;
	}
	if (strcmp(want, "auto") && strcmp(want, "cpu")) {
		die_msg("--sha auto|cpu|portable");
		return EXIT_USAGE;
	}
	/* Known-answer tested by sha256_use: a faulty unit falls back. */
	got = sha256_use(sha256_cpu_blocks());
	if (!strcmp(want, "cpu") && strcmp(got, "cpu")) {
		die_msg("--sha cpu: this CPU has no usable SHA-256 instructions");
		return EXIT_UNAVAILABLE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "gen", cmd_gen }, { "verify", cmd_verify }, { "show", cmd_show },
		{ "capture", cmd_capture }, { "pack", cmd_pack }, { "acpi", cmd_acpi },
		{ "wrap", cmd_wrap }, { "kho", cmd_kho },
	};
	size_t i;
	int rc;

	rc = sha_select(&argc, argv);
	if (rc)
		return rc;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	die_msg("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
