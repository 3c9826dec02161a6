/* stub/stub.h - the contract between stub/main.c (the flow, shared by both
 * arches) and arch/<arch>/ (discovery through its boot protocol, the jump).
 * Everything the flow needs from the boot protocol arrives in stub_platform. */
#ifndef PCSC_STUB_H
#define PCSC_STUB_H

#include <stdbool.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/ecam.h>
#include <pcsc/physmem.h>
#include <pcsc/verify.h>

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

/* stub_main - the flow of SPEC §1, entered by arch code with a stack, BSS
 * cleared, the console working and p->arch set. Never returns. */
__attribute__((noreturn)) void stub_main(struct stub_platform *p);

#endif
