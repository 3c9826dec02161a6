/* pcsc/arch.h - the whole contract between arch/<arch>/ and stub/: what arch code provides
 * (console, MMIO, caches, time, power, discovery, the jump) and the one call into the flow.
 * Keep it narrow; lib/ never includes it. */
#ifndef PCSC_ARCH_H
#define PCSC_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include <pcsc/verify.h>

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

/* What the boot protocol told us: everything the flow needs from arch code. */
struct stub_platform {
	struct physmem mem;		/* RAM ranges; map() is 1:1 in the stub */
	struct ecam ecam;		/* ECAM windows (DT or MCFG), mmio = arch_mmio_read32 */
	struct pci_cfg legacy_cfg;	/* x86 0xCF8 fallback, valid if use_legacy */
	bool use_legacy;

	uint64_t kho_fdt;		/* KHO root FDT, 0 when the boot had none */
	uint64_t kho_fdt_size;
	uint64_t kho_scratch;		/* the scratch array (struct kho_scratch[]) */
	uint64_t kho_scratch_size;
	uint32_t kho_bitmap;		/* "pcsc.kho_bitmap=512|4096"; 0 = not forced */
	enum pcsc_report report;	/* "pcsc.report=", `quiet`: what the console gets */

	/* Memory a preserved entry may never point into: the stub's own image,
	 * BSS and stack, the DTB / boot_params, command line, initrd, the
	 * embedded next kernel. Filled by arch code. */
	struct phys_ranges owned;

	enum pcsc_mode mode;		/* "pcsc.mode=quick|strict|off" */
	bool has_next;			/* a next kernel is embedded / known */
	void *arch;			/* arch private: DTB or boot_params */
};

/*
 * arch_platform_discover - fill p from the boot protocol (arm64: the DTB in
 * x0; x86: boot_params). Never fails hard: whatever is missing stays empty
 * and is reported by the flow with a one-line message.
 */
void arch_platform_discover(struct stub_platform *p);

/*
 * arch_boot_next - hand over to the next kernel per the arch's boot
 * protocol (arm64: x0 = DTB, MMU off; x86: rsi = boot_params). Without a
 * next kernel: power off / exit QEMU. Never returns.
 */
__attribute__((noreturn)) void arch_boot_next(struct stub_platform *p);

/*
 * arch_kho_unplug - take the KHO root out of what the next kernel is handed
 * (arm64: NOP /chosen linux,kho-fdt and linux,kho-scratch in the DTB; x86:
 * the SETUP_KEXEC_KHO setup_data entry retyped SETUP_NONE), so it boots
 * without KHO. For a root the stub cannot read at all: the only way left to
 * keep its cache from being adopted unverified. Returns 0; -PCSC_ENOTFOUND
 * (no such property / entry); -PCSC_ENOTRAM (the entry is not in RAM the
 * stub may write); -PCSC_EBADFDT (libfdt refused the edit).
 */
int arch_kho_unplug(struct stub_platform *p);

/*
 * stub_kho_last_resort - the exception paths, before they boot the next
 * kernel from the middle of the flow: whatever the KHO root holds, no pcsc
 * child the stub did not finish judging may reach it (handover_detach on
 * what kho_open mapped; a root it could not map at all: arch_kho_unplug).
 */
void stub_kho_last_resort(struct stub_platform *p);

/* stub_main - the flow of SPEC §1, entered by arch code with a stack, BSS
 * cleared, the console working and p->arch set. Never returns. */
__attribute__((noreturn)) void stub_main(struct stub_platform *p);

#endif
