/* arch/x86/pio.h - port I/O, the only way to reach COM1, the PIT, 0xCF8 and
 * isa-debug-exit. Self-contained (stdint.h alone), so the test payloads in
 * tests/qemu/x86payload use these same four instructions. */
#ifndef PCSC_ARCH_X86_PIO_H
#define PCSC_ARCH_X86_PIO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
