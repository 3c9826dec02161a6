/* pcsc/arch.h - the only things arch/<arch>/ provides to stub/ and lib/ users.
 * Keep it narrow: console, MMIO, caches, time, power, and the jump. */
#ifndef PCSC_ARCH_H
#define PCSC_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Console: one byte to the boot console (polled, never blocks forever). */
void arch_putc(char c);

/* Device reads: one aligned access, never cached, never merged. */
uint32_t arch_mmio_read32(uint64_t addr);

/* Clean (write back) data cache lines of [addr, addr+len) to the point of
 * coherency, so the next kernel entered with caches off sees our writes. */
void arch_dcache_clean(uint64_t addr, uint64_t len);

/* Free-running counter and its frequency in Hz, for self-timing. */
uint64_t arch_timer_ticks(void);
uint64_t arch_timer_hz(void);

/* Power off (or exit QEMU with status code for tests). Never returns. */
__attribute__((noreturn)) void arch_poweroff(int code);

#endif
