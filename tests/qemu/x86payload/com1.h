/* tests/qemu/x86payload/com1.h - port I/O and polled COM1 output shared by the test-only x86 payloads
 * (payload.c, 32-bit; nextkernel.c, 64-bit). Test code only; never part of the stub. */
#ifndef X86PAYLOAD_COM1_H
#define X86PAYLOAD_COM1_H

#include <stdint.h>
#include "../../../arch/x86/pio.h"

/* Wait (boundedly) for the transmitter, then send: a stuck UART slows the test, never hangs it. */
static inline void putc_(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

/* At most 4096 characters: a string read from a hostile boot_params may have no NUL. */
static inline void puts_(const char *s)
{
	for (int i = 0; i < 4096 && s[i]; i++)
		putc_(s[i]);
}

#endif
