/* pcsc/log.h - formatted console lines without libc stdio.
 * A tiny formatter keeps images small and output identical on every target. */
#ifndef PCSC_LOG_H
#define PCSC_LOG_H

#include <stdarg.h>
#include <stddef.h>

/*
 * pcsc_vsnprintf/pcsc_snprintf - C99 subset: %% %c %s %d %i %u %x %X %p,
 * length modifiers h hh l ll z, flags '0' '-', field width (number or '*').
 * Always NUL-terminates when size > 0. Returns the length the full output
 * would have had (as C99 does).
 */
int pcsc_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int pcsc_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Where console lines go. The platform sets it once; NULL drops output. */
typedef void (*pcsc_log_sink)(const char *line, size_t len);
void pcsc_log_set_sink(pcsc_log_sink sink);

/*
 * What reaches the console between kernels: every byte there is downtime
 * (a 115200-baud UART moves ~11.5 KB/s). Each line has a class; the report
 * level (pcsc.report=, `quiet`) says which classes are printed:
 *   FULL      everything (host tools, the EFI app, tests that parse lines)
 *   PROBLEMS  problem lines (non-VALID entries), results and alerts
 *   SUMMARY   results (summary, digest) and alerts: the stub's default
 *   QUIET     alerts only (a rejected cache, an exception)
 */
enum pcsc_report {
	PCSC_REPORT_SUMMARY = 0,
	PCSC_REPORT_PROBLEMS,
	PCSC_REPORT_FULL,
	PCSC_REPORT_QUIET,
};

enum pcsc_log_class {
	PCSC_LOG_DETAIL = 0,	/* facts, per-entry VALID/NEW lines, the walk */
	PCSC_LOG_PROBLEM,	/* a STALE/GONE/BAD entry */
	PCSC_LOG_RESULT,	/* summary and digest */
	PCSC_LOG_ALERT,		/* cache rejected, exception: always */
};

/* pcsc_log - a DETAIL line: format it (a trailing '\n' is added if
 * missing, lines are cut at 255 characters) and hand it to the sink when
 * the report level prints details. */
void pcsc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pcsc_log_at - the same for a line of class cls. */
void pcsc_log_at(enum pcsc_log_class cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pcsc_log_enabled - would a line of class cls be printed (or held) now?
 * Lets callers skip formatting what nobody will see. */
int pcsc_log_enabled(enum pcsc_log_class cls);

/*
 * pcsc_log_set_report - choose the level (the default, before any call, is
 * FULL). After pcsc_log_defer, DETAIL and PROBLEM lines were held in a
 * 4 KiB buffer: FULL (PROBLEMS) prints what it held (of that class) now,
 * anything else drops it.
 */
void pcsc_log_set_report(enum pcsc_report r);

/* pcsc_log_defer - until pcsc_log_set_report: hold DETAIL and PROBLEM lines
 * (the stub's first lines come before its command line is parsed). */
void pcsc_log_defer(void);

/* pcsc_log_release - on a failure path before the level is known (an early
 * exception): print what was held as if the level were FULL, in order, so
 * the failure report has its context. A no-op when nothing is held. */
void pcsc_log_release(void);

/* pcsc_log_bytes - bytes handed to the sink so far (newlines included). */
unsigned long long pcsc_log_bytes(void);

#endif
