/* pcsc/strtab.h - tables of strings that need no relocation.
 *
 * Why: the stub is a static-pie image, so every `const char *` in a table is
 * a pointer its head.S must relocate (24 bytes of .rela.dyn on arm64, plus
 * the 8-byte pointer). Instead, as glibc's strerror does (msgstr + msgidx),
 * the strings of one X-macro list sit in one struct of char arrays, one
 * member per enum constant, and an array indexed by the enum holds each
 * string's offset in it:
 *
 *	#define FOO_STRS(X) X(FOO_A, "a") X(FOO_B, "bee")
 *	static const struct foo_text { FOO_STRS(PCSC_STRTAB_CHARS) } foo_text = {
 *		FOO_STRS(PCSC_STRTAB_TEXT)
 *	};
 *	#define OFF(id, s) [id] = offsetof(struct foo_text, id),
 *	static const uint8_t foo_off[FOO_MAX] = { FOO_STRS(OFF) };
 *	#undef OFF
 *	PCSC_STRTAB_CHECK(foo_text, FOO_STRS, FOO_MAX, uint8_t);
 *	... (const char *)&foo_text + foo_off[i]
 *
 * Each string is written once. A constant listed twice (two members of one
 * name), out of the enum ([id] past the array), or missing (count != MAX)
 * does not compile, so the list and the enum cannot drift apart.
 */
#ifndef PCSC_STRTAB_H
#define PCSC_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#define PCSC_STRTAB_CHARS(id, s)	char id[sizeof(s)];
#define PCSC_STRTAB_TEXT(id, s)		s,
#define PCSC_STRTAB_ONE_(id, s)		+ 1

/* The list names every constant of [0, max) once; offsets fit idx_t. */
#define PCSC_STRTAB_CHECK(text, LIST, max, idx_t)				\
	_Static_assert(0 LIST(PCSC_STRTAB_ONE_) == (max), #LIST " != " #max);	\
	_Static_assert(sizeof(text) - 1 <= (idx_t)-1, #text " too big for " #idx_t)

/* The string at offset off of the table text. */
#define PCSC_STRTAB_STR(text, off)	((const char *)&(text) + (off))

#endif
