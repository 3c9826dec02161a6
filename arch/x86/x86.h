/* arch/x86/x86.h - x86_64-private facts shared by head.S and the C files of
 * arch/x86: load address, exit codes, boot_params/PVH layouts, and what each
 * file offers the others. Never included by lib/ or stub/.
 *
 * One job a file; calls go down only (no file of arch/x86 calls one that
 * calls it; the rest of the stub sees include/pcsc/arch.h alone):
 *
 *   head.S ──▶ x86.c        entry ──▶ cmdline.c, selftest.c, exception.c (IDT), stub_main
 *   stub_main (stub/) ──▶ platform.c (arch_platform_discover) ──▶ next.c (x86_next_check),
 *                     │                                          console.c (SPCR), cf8.c
 *                     └─▶ next.c (arch_boot_next: the jump)
 *   head.S ──▶ exception.c  x86_exception ──▶ next.c (arch_boot_next)
 *   leaves, called by the files above and calling none of them:
 *     machine.c (MMIO, timer, power off), console.c, paging.c (identity map),
 *     cf8.c, and head.S's x86_jump64.
 *
 * Selftests run from x86.c before stub_main; nothing below stub_main
 * (discovery, the jump, the exception path) reads pcsc.x86.selftest.
 */
#ifndef PCSC_ARCH_X86_H
#define PCSC_ARCH_X86_H

#include <pcsc/wrap.h>

/* Link (and PVH load) address: QEMU loads the ELF at its p_paddr and jumps
 * to the PVH note's address, which is this constant (linker/x86_64.lds
 * asserts pvh_start32 sits here). The 64-bit entry is 0x200 bytes in, the
 * offset the bzImage 64-bit boot protocol uses. */
#define X86_LOAD_ADDR		PCSC_X86_LOAD_ADDR	/* include/pcsc/wrap.h */
#define X86_ENTRY64_OFF		PCSC_X86_ENTRY64_OFF
#define X86_HDR_OFF		PCSC_X86_HDR_OFF	/* struct pcsc_x86_hdr */

/* How the image was entered (third argument of x86_main). */
#define X86_ENTRY_PVH		1
#define X86_ENTRY_64		2

/* The selectors the 64-bit boot protocol demands of whoever jumps to a
 * kernel (__BOOT_CS 0x10, __BOOT_DS 0x18): we use them ourselves, so the
 * jump needs no GDT switch. */
#define X86_GDT_CODE64		0x10
#define X86_GDT_DATA		0x18

/* Control registers: the number is part of the instruction, so one macro
 * each way instead of an accessor per register. */
#define X86_READ_CR(n) ({ uint64_t cr_; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(cr_)); cr_; })
#define X86_WRITE_CR(n, v) __asm__ volatile("mov %0, %%cr" #n : : "r"((uint64_t)(v)) : "memory")

#define X86_MSR_EFER		0xc0000080
#define X86_MSR_FS_BASE		0xc0000100

/* arch_poweroff codes; isa-debug-exit receives X86_EXIT_BASE + code, so QEMU
 * exits with ((X86_EXIT_BASE + code) << 1) | 1: 33 for success, never 0
 * (a triple fault with -no-reboot exits 0) and never 1 (QEMU's own errors). */
#define X86_EXIT_BASE		0x10
#define X86_EXIT_OK		0
#define X86_EXIT_FATAL		1	/* the image cannot run (bad relocation) */
#define X86_EXIT_RETURNED	2	/* stub_main came back: a bug */
#define X86_EXIT_EXCEPTION	3	/* CPU exception, no next kernel to try */
#define X86_EXIT_NEXT		4	/* the next kernel could not be entered */
#define X86_DEBUG_EXIT_PORT	0xf4

#ifndef __ASSEMBLER__
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/physmem.h>
#include "pio.h"

/* struct hvm_start_info (Xen public/arch-x86/hvm/start_info.h), version 0/1. */
#define PVH_START_MAGIC		0x336ec578u
#define PVH_OFF_MAGIC		0
#define PVH_OFF_VERSION		4
#define PVH_OFF_CMDLINE		24
#define PVH_OFF_RSDP		32
#define PVH_OFF_MEMMAP		40	/* version >= 1 */
#define PVH_OFF_MEMMAP_N	48
#define PVH_START_INFO_LEN	56
#define PVH_MEMMAP_ENTRY_LEN	24	/* {u64 addr, u64 size, u32 type, u32 rsvd} */

/* boot_params, the "zero page" (Linux Documentation/arch/x86/zero-page.rst
 * and boot.rst). */
#define BP_SIZE			4096
#define BP_ACPI_RSDP		0x070	/* u64 */
#define BP_EXT_RAMDISK_IMAGE	0x0c0	/* u32, high half */
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_HDR_MAGIC		0x202	/* "HdrS" */
#define BP_RAMDISK_IMAGE	0x218	/* u32 */
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228	/* u32 */
#define BP_CMDLINE_SIZE		0x238	/* u32, protocol >= 2.06 */
#define BP_SETUP_DATA		0x250	/* u64, protocol >= 2.09 */
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128
#define E820_ENTRY_LEN		20	/* packed {u64 addr, u64 size, u32 type} */
#define E820_RAM		1
#define E820_RESERVED		2
#define E820_ACPI		3
#define E820_NVS		4

/* setup_data: {u64 next; u32 type; u32 len; u8 data[len]}. Type 10 is
 * SETUP_KEXEC_KHO in Linux's arch/x86/include/uapi/asm/setup_data.h (the
 * SPEC said 11: the kernel header says 10). */
#define SETUP_DATA_HDR_LEN	16
#define SETUP_NONE		0	/* parse_setup_data skips it */
#define SETUP_KEXEC_KHO		10
#define SETUP_KHO_LEN		32	/* {fdt_addr, fdt_size, scratch_addr, scratch_size} */
#define SETUP_DATA_MAX_HOPS	64
#define SETUP_INDIRECT		(1u << 31)

#define X86_CMDLINE_MAX		2048

/* The image descriptor at +0x100 (head.S), filled by a wrapper: the
 * struct is include/pcsc/wrap.h's. */
extern struct pcsc_x86_hdr pcsc_x86_hdr;

/* What the entry path learnt before the flow starts; p->arch points here. */
struct x86_boot {
	int entry;			/* X86_ENTRY_* */
	uint64_t start_info;		/* PVH hvm_start_info, 0 on the 64-bit entry */
	uint64_t boot_params;		/* zero page, 0 when none */
	uint64_t cmdline_phys;		/* the command line the options came from */
	char cmdline[X86_CMDLINE_MAX];
	bool debug_exit;		/* pcsc.exit=debug (x86_poweroff_debug_exit) */
	bool ecam_off;			/* pcsc.ecam=off: force the 0xCF8 fallback */
	const char *selftest;		/* pcsc.x86.selftest=..., NULL when absent */
	/* The next kernel's bzImage (embedded, or pcsc.x86.next=ADDR,SIZE). */
	uint64_t next_src;
	uint64_t next_size;
};

/* Polls of a device status bit before going on without it (~1 ms at any
 * speed we run): a missing UART or keyboard controller never hangs us. */
#define X86_SPIN		100000

/* x86_jump64 - enter a 64-bit boot protocol entry with rsi = boot_params,
 * interrupts off, our GDT (CS 0x10, DS/ES/SS 0x18) and identity map. */
__attribute__((noreturn)) void x86_jump64(uint64_t entry, uint64_t boot_params);

/* bzImage setup header (Linux Documentation/arch/x86/boot.rst). */
#define BZ_SETUP_SECTS		0x1f1
#define BZ_BOOT_FLAG		0x1fe	/* 0xaa55 */
#define BZ_JUMP			0x200	/* header ends at 0x202 + byte at 0x201 */
#define BZ_HDRS			0x202
#define BZ_VERSION		0x206
#define BZ_TYPE_OF_LOADER	0x210
#define BZ_LOADFLAGS		0x211
#define BZ_CODE32_START		0x214
#define BZ_RAMDISK_IMAGE	0x218
#define BZ_RAMDISK_SIZE		0x21c
#define BZ_EXT_LOADER_VER	0x226
#define BZ_EXT_LOADER_TYPE	0x227
#define BZ_CMD_LINE_PTR		0x228
#define BZ_KERNEL_ALIGNMENT	0x230
#define BZ_RELOCATABLE		0x234
#define BZ_XLOADFLAGS		0x236
#define BZ_HW_SUBARCH		0x23c
#define BZ_HW_SUBARCH_DATA	0x240
#define BZ_SETUP_DATA		0x250
#define BZ_PREF_ADDRESS		0x258
#define BZ_INIT_SIZE		0x260
#define BZ_MIN_VERSION		0x020c	/* 2.12: xloadflags */
#define XLF_KERNEL_64		0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define LOADED_HIGH		0x01
#define KEEP_SEGMENTS		0x40

/* ---- machine.c ---- */
/* x86_poweroff_debug_exit - pcsc.exit=debug: leave through isa-debug-exit
 * (port 0xf4) before trying a reset. Off until called. */
void x86_poweroff_debug_exit(bool on);

/* x86_poweroff_reset_reg - the FADT's reset register (I/O space), written
 * before the keyboard controller; port 0 = none (the default). */
void x86_poweroff_reset_reg(uint16_t port, uint8_t value);

/* x86_poweroff_quiet - arch_poweroff without printing: also the way out of
 * an exception taken while reporting one. Never returns. */
__attribute__((noreturn)) void x86_poweroff_quiet(int code);

/* ---- console.c ---- */
/* x86_serial_init - polled 16550 on the console port (COM1 at first). */
void x86_serial_init(void);

/* x86_console_set_port - move the console to a 16550 at I/O port (SPCR). */
void x86_console_set_port(uint16_t port);

/* x86_log_sink - the pcsc_log sink: lines to the console, '\n' as CR LF. */
void x86_log_sink(const char *line, size_t len);

/* ---- paging.c ---- */
/* Page tables (paging.c) come from a pool of this many 4 KiB tables. */
#define X86_PT_POOL		96

/* x86_paging_init - our own tables (4- or 5-level, as CR4.LA57 says),
 * mapping only the image: text write-back read-only executable, the rest
 * write-back writable, never executable (EFER.NXE set when the CPU has NX;
 * CR0.WP set so read-only binds us too). PAT indices for WB and UC read
 * from IA32_PAT (the power-on value written only when it has neither).
 * Loaded into CR3. Called once, before anything else is mapped. */
void x86_paging_init(void);

/* x86_map_identity - make [phys, phys+len) reachable at the same virtual
 * address, page by page as what it is: device (ECAM): uncached, read-only;
 * otherwise, once x86_paging_set_ram ran, RAM pages write-back and every
 * other page (firmware tables, the BIOS area) uncached read-only; before
 * it, write-back (only the boot structures the protocol puts in RAM are
 * read then). Pages already mapped keep their mapping; granules are 1 GiB
 * (CPUID Page1GB), 2 MiB or 4 KiB, the largest a whole slot allows.
 * Returns 0; -PCSC_ERANGE (wraps, or at or above MAXPHYADDR, 2^47 with 4
 * levels); -PCSC_EOVERLAP (device: the range holds RAM or pages mapped
 * otherwise); -PCSC_ENOSPC (the pool cannot hold it: nothing is mapped,
 * and the first refusal is logged). */
int x86_map_identity(uint64_t phys, uint64_t len, bool device);

/* x86_paging_set_ram - the RAM map (e820 type 1, page-rounded inward) is
 * known: map all of it write-back, and classify later requests by it. ram
 * must stay valid (it is the platform's). A range the pool cannot hold
 * stays unmapped (logged). */
void x86_paging_set_ram(const struct phys_ranges *ram);

/* x86_paging_handover - just before the jump: every mapping writable and
 * executable, as in kexec's own identity map (memory types unchanged), and
 * EFER.NXE / CR0.WP back to what the entry found. */
void x86_paging_handover(void);

/* x86_paging_tables_used - tables taken from the pool so far. */
unsigned int x86_paging_tables_used(void);

/* ---- next.c (arch_boot_next is its entry) ---- */
/* x86_next_check - validate the bzImage at [src, src+size): "HdrS",
 * protocol >= 2.12, XLF_KERNEL_64, protected-mode part non-empty.
 * Returns 0; -PCSC_ENOTFOUND (no HdrS); -PCSC_ECOMPAT (too old / not 64-bit);
 * -PCSC_ETRUNC (size below the setup part). *why names the problem. */
int x86_next_check(uint64_t src, uint64_t size, const char **why);

/* ---- cmdline.c ---- */
/* x86_cmdline_parse - find the command line (PVH start info, else
 * boot_params), copy it into b->cmdline and read the pcsc.* options the
 * x86 code needs into b (pcsc.exit, pcsc.ecam, pcsc.x86.selftest; on the
 * PVH entry pcsc.x86.next and pcsc.boot_params). Bad values are logged and
 * ignored; nothing is acted on here. */
void x86_cmdline_parse(struct x86_boot *b);

/* ---- selftest.c ---- */
/* x86_selftest - pcsc.x86.selftest=what, before the flow: "pf" and "ud"
 * fault (x86_exception reports and powers off), "chain64@ADDR" enters the
 * stub copy at ADDR + 0x200 with rsi = boot_params (never returns; powers
 * off with X86_EXIT_FATAL without boot_params or RAM there). Returns, after
 * saying so, for anything else. */
void x86_selftest(const char *what, uint64_t boot_params);

/* ---- exception.c ---- */
struct stub_platform;

/* x86_idt_init - exception vectors 0..31 to x86_exception; p is the
 * platform an exception still hands over (as far as discovery filled it). */
void x86_idt_init(struct stub_platform *p);

/* x86_exception - report a CPU exception, then detach the cache and enter
 * the next kernel when there is one, else power off with
 * X86_EXIT_EXCEPTION (head.S's stubs call it with the frame: vector, error
 * code, then the CPU's iret frame). Never returns. */
__attribute__((noreturn)) void x86_exception(const uint64_t *frame);

/* ---- x86.c ---- */
/* x86_main - C entry from head.S: console, IDT, own page tables, options,
 * then stub_main. start_info/boot_params are 0 when absent. Never returns. */
__attribute__((noreturn)) void x86_main(uint64_t start_info, uint64_t boot_params, int entry);

/* Provided by head.S and the linker script. */
extern char __image_start[], __text_end[], __image_end[], __bss_start[], __bss_end[];
extern char x86_stack_bottom[], x86_stack_top[];
extern char x86_isr_stubs[];
extern uint64_t x86_bad_relocs;

/* Loads from identity-mapped physical memory the boot protocol hands us
 * (boot_params, setup_data, setup headers). memcpy: these fields are not
 * always naturally aligned. */
static inline uint16_t rd16(uint64_t a)
{
	uint16_t v;

	memcpy(&v, (const void *)(uintptr_t)a, 2);
	return v;
}

static inline uint32_t rd32(uint64_t a)
{
	uint32_t v;

	memcpy(&v, (const void *)(uintptr_t)a, 4);
	return v;
}

static inline uint64_t rd64(uint64_t a)
{
	uint64_t v;

	memcpy(&v, (const void *)(uintptr_t)a, 8);
	return v;
}

#endif /* !__ASSEMBLER__ */
#endif
