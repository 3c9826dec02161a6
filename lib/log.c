/* log.c - the console formatter (a C99 printf subset) and the one log sink.
 * Must never call libc stdio nor allocate: it runs before anything is set up. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/log.h>

/* Output cursor: counts every character, stores only what fits. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_c(struct out *o, char c)
{
	if (o->size && o->len < o->size - 1)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	for (; n > 0; n--)
		out_c(o, c);
}

#define F_LEFT	0x01
#define F_ZERO	0x02
#define F_PLUS	0x04
#define F_SPACE	0x08
#define F_ALT	0x10

/*
 * One integer conversion. prec < 0 means "not given"; when it is given the
 * '0' flag is ignored, as C99 says. Digits are produced backwards into a
 * local buffer: 22 places hold any 64-bit value in octal, more than enough.
 */
static void out_uint(struct out *o, unsigned long long v, bool neg, unsigned int base,
		     bool upper, int flags, int width, int prec, bool is_ptr)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int nd = 0;
	char sign = 0;
	const char *prefix = "";
	int plen, zeros, pad;

	while (v && nd < (int)sizeof(tmp)) {
		tmp[nd++] = digits[v % base];
		v /= base;
	}
	if (prec < 0 && nd == 0)
		tmp[nd++] = '0';	/* "%d" of 0 prints "0"; "%.0d" prints nothing */
	if (neg)
		sign = '-';
	else if (base == 10 && (flags & F_PLUS))
		sign = '+';
	else if (base == 10 && (flags & F_SPACE))
		sign = ' ';
	if (base == 16 && (is_ptr || ((flags & F_ALT) && nd && !(nd == 1 && tmp[0] == '0'))))
		prefix = upper ? "0X" : "0x";
	plen = (int)strlen(prefix) + (sign ? 1 : 0);
	zeros = prec > nd ? prec - nd : 0;
	pad = width - plen - zeros - nd;
	if (pad > 0 && (flags & F_ZERO) && !(flags & F_LEFT) && prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(flags & F_LEFT))
		out_pad(o, ' ', pad);
	if (sign)
		out_c(o, sign);
	for (; *prefix; prefix++)
		out_c(o, *prefix);
	out_pad(o, '0', zeros);
	while (nd)
		out_c(o, tmp[--nd]);
	if (flags & F_LEFT)
		out_pad(o, ' ', pad);
}

static void out_str(struct out *o, const char *s, int flags, int width, int prec)
{
	size_t n = 0;
	int pad;

	if (!s)
		s = "(null)";
	/* Bounded length: never read past prec bytes of an unterminated string. */
	while (s[n] && (prec < 0 || n < (size_t)prec))
		n++;
	pad = width > (int)n ? width - (int)n : 0;
	if (!(flags & F_LEFT))
		out_pad(o, ' ', pad);
	for (size_t i = 0; i < n; i++)
		out_c(o, s[i]);
	if (flags & F_LEFT)
		out_pad(o, ' ', pad);
}

/* Read a decimal number, saturating at INT_MAX so a hostile width cannot
 * overflow. */
static int parse_num(const char **p)
{
	int v = 0;

	while (**p >= '0' && **p <= '9') {
		int d = **p - '0';

		v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
		(*p)++;
	}
	return v;
}

enum len_mod { L_NONE, L_HH, L_H, L_L, L_LL, L_Z };

int pcsc_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };
	const char *p = fmt;

	while (*p) {
		int flags = 0, width = 0, prec = -1;
		enum len_mod lm = L_NONE;
		const char *start = p;
		unsigned long long u;
		long long s;

		if (*p != '%') {
			out_c(&o, *p++);
			continue;
		}
		p++;
		for (;; p++) {
			if (*p == '-')
				flags |= F_LEFT;
			else if (*p == '0')
				flags |= F_ZERO;
			else if (*p == '+')
				flags |= F_PLUS;
			else if (*p == ' ')
				flags |= F_SPACE;
			else if (*p == '#')
				flags |= F_ALT;
			else
				break;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = width == INT_MIN ? INT_MAX : -width;
			}
			p++;
		} else {
			width = parse_num(&p);
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
				p++;
			} else {
				prec = parse_num(&p);
			}
		}
		if (*p == 'h') {
			p++;
			lm = L_H;
			if (*p == 'h') {
				p++;
				lm = L_HH;
			}
		} else if (*p == 'l') {
			p++;
			lm = L_L;
			if (*p == 'l') {
				p++;
				lm = L_LL;
			}
		} else if (*p == 'z') {
			p++;
			lm = L_Z;
		}

		switch (*p) {
		case '%':
			out_c(&o, '%');
			break;
		case 'c':
			/* A char field: width applies, precision does not. */
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - 1);
			out_c(&o, (char)va_arg(ap, int));
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - 1);
			break;
		case 's':
			out_str(&o, va_arg(ap, const char *), flags, width, prec);
			break;
		case 'd':
		case 'i':
			switch (lm) {
			case L_HH: s = (signed char)va_arg(ap, int); break;
			case L_H: s = (short)va_arg(ap, int); break;
			case L_L: s = va_arg(ap, long); break;
			case L_LL: s = va_arg(ap, long long); break;
			case L_Z: s = (long long)va_arg(ap, size_t); break;
			default: s = va_arg(ap, int); break;
			}
			/* Negate in unsigned arithmetic: LLONG_MIN has no positive twin. */
			u = s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s;
			out_uint(&o, u, s < 0, 10, false, flags, width, prec, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			switch (lm) {
			case L_HH: u = (unsigned char)va_arg(ap, unsigned int); break;
			case L_H: u = (unsigned short)va_arg(ap, unsigned int); break;
			case L_L: u = va_arg(ap, unsigned long); break;
			case L_LL: u = va_arg(ap, unsigned long long); break;
			case L_Z: u = va_arg(ap, size_t); break;
			default: u = va_arg(ap, unsigned int); break;
			}
			out_uint(&o, u, false, *p == 'u' ? 10 : 16, *p == 'X',
				 flags & ~(F_PLUS | F_SPACE), width, prec, false);
			break;
		case 'p':
			out_uint(&o, (uintptr_t)va_arg(ap, void *), false, 16, false,
				 flags & ~(F_PLUS | F_SPACE | F_ZERO), width, prec, true);
			break;
		default:
			/* Unknown conversion (or a lone '%' at the end): print it as
			 * written, consume nothing, so the mistake shows on the console. */
			for (; start <= p && *start; start++)
				out_c(&o, *start);
			if (!*p)
				goto done;
			break;
		}
		p++;
	}
done:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT_MAX ? INT_MAX : (int)o.len;
}

int pcsc_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pcsc_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static pcsc_log_sink log_sink;

void pcsc_log_set_sink(pcsc_log_sink sink)
{
	log_sink = sink;
}

#define LOG_LINE_MAX	255
#define LOG_HOLD_SIZE	4096

static enum pcsc_report log_report = PCSC_REPORT_FULL;
static bool log_deferred;
static unsigned long long log_bytes;
/* Held lines while deferred: [class byte][line with its '\n'] ... */
static char log_hold[LOG_HOLD_SIZE];
static size_t log_hold_len;

static bool class_printed(enum pcsc_log_class cls, enum pcsc_report r)
{
	switch (r) {
	case PCSC_REPORT_FULL:
		return true;
	case PCSC_REPORT_PROBLEMS:
		return cls >= PCSC_LOG_PROBLEM;
	case PCSC_REPORT_QUIET:
		return cls == PCSC_LOG_ALERT;
	default:
		return cls >= PCSC_LOG_RESULT;
	}
}

int pcsc_log_enabled(enum pcsc_log_class cls)
{
	if (!log_sink)
		return 0;
	/* Deferred: hold what FULL or PROBLEMS could still want. */
	return log_deferred ? 1 : class_printed(cls, log_report);
}

static void emit(const char *line, size_t len)
{
	log_bytes += len;
	log_sink(line, len);
}

void pcsc_log_defer(void)
{
	log_deferred = true;
	log_hold_len = 0;
}

void pcsc_log_set_report(enum pcsc_report r)
{
	size_t i = 0;

	log_report = r;
	if (!log_deferred)
		return;
	log_deferred = false;
	/* Each held line: class byte, then text through its '\n'. */
	while (i < log_hold_len && log_sink) {
		enum pcsc_log_class cls = (enum pcsc_log_class)log_hold[i++];
		size_t n = 0;

		while (i + n < log_hold_len && log_hold[i + n] != '\n')
			n++;
		if (i + n < log_hold_len && class_printed(cls, r)) {
			char line[LOG_LINE_MAX + 2];	/* sinks get a C string */

			memcpy(line, log_hold + i, n + 1);
			line[n + 1] = '\0';
			emit(line, n + 1);
		}
		i += n + 1;
	}
	log_hold_len = 0;
}

void pcsc_log_release(void)
{
	if (log_deferred)
		pcsc_log_set_report(PCSC_REPORT_FULL);
}

unsigned long long pcsc_log_bytes(void)
{
	return log_bytes;
}

static void log_line(enum pcsc_log_class cls, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 2];	/* 255 characters, '\n', NUL */
	size_t len;
	int n;

	if (!pcsc_log_enabled(cls))
		return;
	n = pcsc_vsnprintf(line, LOG_LINE_MAX + 1, fmt, ap);
	len = n < 0 ? 0 : (size_t)n > LOG_LINE_MAX ? LOG_LINE_MAX : (size_t)n;
	if (len == 0 || line[len - 1] != '\n') {
		line[len++] = '\n';
		line[len] = '\0';
	}
	if (log_deferred && !class_printed(cls, PCSC_REPORT_SUMMARY) &&
	    cls != PCSC_LOG_ALERT) {
		/* Held until the level is known; past 4 KiB, dropped. */
		if (log_hold_len + 1 + len <= sizeof(log_hold)) {
			log_hold[log_hold_len++] = (char)cls;
			memcpy(log_hold + log_hold_len, line, len);
			log_hold_len += len;
		}
		return;
	}
	if (log_deferred || class_printed(cls, log_report))
		emit(line, len);
}

void pcsc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(PCSC_LOG_DETAIL, fmt, ap);
	va_end(ap);
}

void pcsc_log_at(enum pcsc_log_class cls, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(cls, fmt, ap);
	va_end(ap);
}
