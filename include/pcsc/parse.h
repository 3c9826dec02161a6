/* pcsc/parse.h - the one number grammar of pcsc-stub: boot options, the EFI app's
 * arguments, pcsctool, topology files. Reads only [p, p+len); never allocates. */
#ifndef PCSC_PARSE_H
#define PCSC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * pcsc_parse_u64 - the whole of p[0..len) as one unsigned number: digits in
 * base (10 or 16), or hex after a "0x"/"0X" prefix whatever base says. No
 * sign, no blanks, no octal, at most 64 digits; the value must be <= max.
 * Returns true and sets *out; false (empty, stray character, overflow,
 * above max, base not 10/16) leaving *out alone.
 */
bool pcsc_parse_u64(const char *p, size_t len, unsigned int base, uint64_t max, uint64_t *out);

/* pcsc_parse_u64_str - the same for a NUL-terminated string (base 10,
 * "0x" for hex, max UINT64_MAX), as command lines spell numbers. */
bool pcsc_parse_u64_str(const char *s, uint64_t *out);

/*
 * pcsc_parse_range - "START:SIZE" (each as pcsc_parse_u64_str), SIZE not
 * 0, the whole string under 64 characters: the EFI app's and pcsctool's
 * --kho-scratch, --scratch, --ram. Returns false for anything else (*start
 * may then be set).
 */
bool pcsc_parse_range(const char *s, uint64_t *start, uint64_t *size);

#endif
