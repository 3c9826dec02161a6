/* errno.c - names for the -PCSC_E* codes.
 * Must stay in step with include/pcsc/errno.h (PCSC_STRTAB_CHECK fails the
 * build otherwise); a unit test checks every code. */
#include <pcsc/errno.h>
#include <pcsc/strtab.h>

#define PCSC_ERRSTRS(X)							\
	X(PCSC_OK, "success")						\
	X(PCSC_EINVAL, "invalid argument")				\
	X(PCSC_ENODEV, "no such device")				\
	X(PCSC_ERANGE, "value out of range")				\
	X(PCSC_ENOSPC, "no space left")					\
	X(PCSC_ELOOP, "linked list loops or is too long")		\
	X(PCSC_ETIMEDOUT, "retry budget exhausted")			\
	X(PCSC_ENOTFOUND, "not found")					\
	X(PCSC_EBADFDT, "bad FDT")					\
	X(PCSC_ECOMPAT, "unknown compatible")				\
	X(PCSC_EALIGN, "misaligned address")				\
	X(PCSC_ENOTRAM, "address outside RAM")				\
	X(PCSC_EOVERLAP, "overlapping memory")				\
	X(PCSC_ENOTPRESERVED, "memory not preserved")			\
	X(PCSC_EDUP, "duplicate entry")					\
	X(PCSC_ENAME, "malformed name")					\
	X(PCSC_EPROPSIZE, "wrong property size")			\
	X(PCSC_ECHECKSUM, "bad checksum")				\
	X(PCSC_ETRUNC, "truncated input")				\
	X(PCSC_EPARSE, "parse error")					\
	X(PCSC_ESTALE, "stale")

/* Offsets into one char block, not pointers: no relocation per string
 * in the static-pie image (pcsc/strtab.h). */
static const struct pcsc_errstr { PCSC_ERRSTRS(PCSC_STRTAB_CHARS) } pcsc_errstr = {
	PCSC_ERRSTRS(PCSC_STRTAB_TEXT)
};
#define OFF(id, s) [id] = offsetof(struct pcsc_errstr, id),
static const uint16_t pcsc_erroff[PCSC_E_MAX] = { PCSC_ERRSTRS(OFF) };
#undef OFF
PCSC_STRTAB_CHECK(pcsc_errstr, PCSC_ERRSTRS, PCSC_E_MAX, uint16_t);

const char *pcsc_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= PCSC_E_MAX)
		return "unknown error";
	return PCSC_STRTAB_STR(pcsc_errstr, pcsc_erroff[err]);
}
