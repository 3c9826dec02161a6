/* bootopt.c - parses pcsc.* boot options: whole words only, one grammar for every image.
 * Reads at most len bytes of an untrusted command line; never writes past out. */
#include <string.h>
#include <pcsc/bootopt.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool pcsc_bootopt_value(const char *cmdline, size_t len, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), i = 0;
	bool found = false;

	if (size)
		out[0] = '\0';
	if (!cmdline)
		return false;
	/* Every iteration consumes at least one byte of the len bounded. */
	while (i < len && cmdline[i]) {
		size_t w = i, n = 0;

		if (is_sep(cmdline[i])) {
			i++;
			continue;
		}
		while (i < len && cmdline[i] && !is_sep(cmdline[i]))
			i++;
		/* The last occurrence wins, as each one overrides the
		 * previous in Linux's parameter handlers. */
		if (i - w > klen && !memcmp(cmdline + w, key, klen) && cmdline[w + klen] == '=') {
			for (w += klen + 1; w < i && n + 1 < size; w++)
				out[n++] = cmdline[w];
			if (size)
				out[n] = '\0';
			found = true;
		}
	}
	return found;
}

bool pcsc_bootopt_flag(const char *cmdline, size_t len, const char *word)
{
	size_t wl = strlen(word), i = 0;

	if (!cmdline)
		return false;
	while (i < len && cmdline[i]) {
		size_t w = i;

		if (is_sep(cmdline[i])) {
			i++;
			continue;
		}
		while (i < len && cmdline[i] && !is_sep(cmdline[i]))
			i++;
		if (i - w == wl && !memcmp(cmdline + w, word, wl))
			return true;
	}
	return false;
}

int pcsc_bootopts_parse(const char *cmdline, size_t len, struct pcsc_bootopts *o,
			char *warn, size_t wlen)
{
	char v[16];
	int err = 0;

	o->mode = PCSC_MODE_QUICK;
	o->kho_bitmap = 0;
	o->report = PCSC_REPORT_SUMMARY;
	if (warn && wlen)
		warn[0] = '\0';
	if (pcsc_bootopt_value(cmdline, len, "pcsc.mode", v, sizeof(v))) {
		if (!strcmp(v, "strict")) {
			o->mode = PCSC_MODE_STRICT;
		} else if (!strcmp(v, "off")) {
			o->mode = PCSC_MODE_OFF;
		} else if (strcmp(v, "quick")) {
			if (warn)
				pcsc_snprintf(warn, wlen, "pcsc.mode=%s unknown: quick", v);
			err = -PCSC_EINVAL;
		}
	}
	if (pcsc_bootopt_value(cmdline, len, "pcsc.kho_bitmap", v, sizeof(v))) {
		if (!strcmp(v, "512")) {
			o->kho_bitmap = 512;
		} else if (!strcmp(v, "4096")) {
			o->kho_bitmap = 4096;
		} else {
			if (warn)
				pcsc_snprintf(warn, wlen, "pcsc.kho_bitmap=%s unknown: not forced", v);
			err = -PCSC_EINVAL;
		}
	}
	/* `quiet` silences the console as Linux's does; an explicit
	 * pcsc.report= says what this stub should print regardless. */
	if (pcsc_bootopt_flag(cmdline, len, "quiet"))
		o->report = PCSC_REPORT_QUIET;
	if (pcsc_bootopt_value(cmdline, len, "pcsc.report", v, sizeof(v))) {
		if (!strcmp(v, "summary")) {
			o->report = PCSC_REPORT_SUMMARY;
		} else if (!strcmp(v, "problems")) {
			o->report = PCSC_REPORT_PROBLEMS;
		} else if (!strcmp(v, "full")) {
			o->report = PCSC_REPORT_FULL;
		} else if (!strcmp(v, "quiet")) {
			o->report = PCSC_REPORT_QUIET;
		} else {
			if (warn)
				pcsc_snprintf(warn, wlen, "pcsc.report=%s unknown: summary", v);
			err = -PCSC_EINVAL;
		}
	}
	return err;
}
