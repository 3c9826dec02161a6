/* pcsc/errno.h - the one error space of pcsc-stub: negative -PCSC_E* codes.
 * Never return a bare -1 or a NULL to mean "failed": callers need the why. */
#ifndef PCSC_ERRNO_H
#define PCSC_ERRNO_H

enum pcsc_err {
	PCSC_OK = 0,
	PCSC_EINVAL,		/* argument out of its documented domain */
	PCSC_ENODEV,		/* no function / no window answers there */
	PCSC_ERANGE,		/* number outside the range the ABI allows */
	PCSC_ENOSPC,		/* a fixed arena or blob is full */
	PCSC_ELOOP,		/* a linked structure exceeded its hop limit */
	PCSC_ETIMEDOUT,		/* a bounded retry budget ran out (CRS) */
	PCSC_ENOTFOUND,		/* looked for, not there */
	PCSC_EBADFDT,		/* FDT header or structure invalid */
	PCSC_ECOMPAT,		/* unknown "compatible" */
	PCSC_EALIGN,		/* address not aligned as required */
	PCSC_ENOTRAM,		/* address range not inside RAM */
	PCSC_EOVERLAP,		/* range overlaps memory it must not */
	PCSC_ENOTPRESERVED,	/* range not in the KHO preserved map */
	PCSC_EDUP,		/* duplicate entry */
	PCSC_ENAME,		/* malformed node name */
	PCSC_EPROPSIZE,		/* property has the wrong size */
	PCSC_ECHECKSUM,		/* table checksum mismatch */
	PCSC_ETRUNC,		/* input shorter than it claims */
	PCSC_EPARSE,		/* text input (topology) malformed */
	PCSC_ESTALE,		/* live hardware differs from the cache */
	PCSC_E_MAX
};

/* pcsc_strerror - text for err or -err; "unknown error" outside the enum.
 * Never NULL. */
const char *pcsc_strerror(int err);

/*
 * pcsc_tally - for loops that add many items and go on past a bad one:
 * count rc == 0 in *ok, keep the first error in *first_err.
 */
static inline void pcsc_tally(int rc, int *first_err, unsigned int *ok)
{
	if (!rc)
		(*ok)++;
	else if (!*first_err)
		*first_err = rc;
}

#endif
