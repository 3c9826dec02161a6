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

/* pcsc_log - format one line (a trailing '\n' is added if missing, lines are
 * cut at 255 characters) and hand it to the sink. */
void pcsc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
