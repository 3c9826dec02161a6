/* pcsc/bootopt.h - the one parser of pcsc.* boot options, for every image: the stub's
 * command line (arm64 /chosen/bootargs, x86 boot_params/PVH), the EFI app, pcsctool.
 * It only reads the string it is given, bounded by len, and never allocates. */
#ifndef PCSC_BOOTOPT_H
#define PCSC_BOOTOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/log.h>
#include <pcsc/verify.h>

/* What the stub takes from its command line. */
struct pcsc_bootopts {
	enum pcsc_mode mode;	/* pcsc.mode=quick|strict|off; quick */
	uint32_t kho_bitmap;	/* pcsc.kho_bitmap=512|4096; 0 = not forced */
	enum pcsc_report report;	/* pcsc.report=summary|problems|full; `quiet`
				 * (as Linux honours it) alone; summary */
};

/*
 * pcsc_bootopt_value - the value of the last whole word "key=value" in
 * cmdline[0..len) (words split on space, tab, newline; the scan also stops
 * at a NUL). The value is copied into out (size bytes, NUL-terminated,
 * truncated to fit). "xkey=" and "key.sub=" are other keys.
 * Returns true when the key is present (even with an empty value).
 */
bool pcsc_bootopt_value(const char *cmdline, size_t len, const char *key, char *out, size_t size);

/* pcsc_bootopt_flag - is word (no '=') a whole word of cmdline[0..len)? */
bool pcsc_bootopt_flag(const char *cmdline, size_t len, const char *word);

/*
 * pcsc_bootopts_parse - fill o from cmdline[0..len) (defaults when NULL).
 * An unknown value keeps that option's default and is named in warn
 * (wlen bytes, may be NULL), e.g. "pcsc.kho_bitmap=1024 unknown: not forced".
 * Returns 0; -PCSC_EINVAL (some value unknown; o still usable).
 */
int pcsc_bootopts_parse(const char *cmdline, size_t len, struct pcsc_bootopts *o,
			char *warn, size_t wlen);

#endif
