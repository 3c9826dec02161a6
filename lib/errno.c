/* errno.c - names for the -PCSC_E* codes.
 * Must stay in step with include/pcsc/errno.h; a unit test checks every code. */
#include <pcsc/errno.h>

static const char *const pcsc_errstr[PCSC_E_MAX] = {
	[PCSC_OK] = "success",
	[PCSC_EINVAL] = "invalid argument",
	[PCSC_ENODEV] = "no such device",
	[PCSC_ERANGE] = "value out of range",
	[PCSC_ENOSPC] = "no space left",
	[PCSC_ELOOP] = "linked list loops or is too long",
	[PCSC_ETIMEDOUT] = "retry budget exhausted",
	[PCSC_ENOTFOUND] = "not found",
	[PCSC_EBADFDT] = "bad FDT",
	[PCSC_ECOMPAT] = "unknown compatible",
	[PCSC_EALIGN] = "misaligned address",
	[PCSC_ENOTRAM] = "address outside RAM",
	[PCSC_EOVERLAP] = "overlapping memory",
	[PCSC_ENOTPRESERVED] = "memory not preserved",
	[PCSC_EDUP] = "duplicate entry",
	[PCSC_ENAME] = "malformed name",
	[PCSC_EPROPSIZE] = "wrong property size",
	[PCSC_ECHECKSUM] = "bad checksum",
	[PCSC_ETRUNC] = "truncated input",
	[PCSC_EPARSE] = "parse error",
	[PCSC_ESTALE] = "stale",
};

const char *pcsc_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= PCSC_E_MAX || !pcsc_errstr[err])
		return "unknown error";
	return pcsc_errstr[err];
}
