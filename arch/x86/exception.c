/* arch/x86/exception.c - the IDT for vectors 0..31 and x86_exception: report a CPU exception, then leave the way
 * the flow would (detach the cache, enter the next kernel) or power off. Must never print from an exception taken inside it. */
#include <stdint.h>
#include <pcsc/arch.h>
#include <pcsc/log.h>
#include "x86.h"

struct idt_entry {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t rsvd;
} __attribute__((packed));

static struct idt_entry x86_idt[32] __attribute__((aligned(16)));
/* What the flow knows so far: filled by discovery after the IDT is up. */
static struct stub_platform *exc_plat;

void x86_idt_init(struct stub_platform *p)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc;

	exc_plat = p;
	for (unsigned int v = 0; v < 32; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(x86_isr_stubs + 16 * v);

		x86_idt[v].off0 = (uint16_t)a;
		x86_idt[v].sel = X86_GDT_CODE64;
		x86_idt[v].ist = 0;
		x86_idt[v].type = 0x8e;		/* present, DPL0, 64-bit interrupt gate */
		x86_idt[v].off1 = (uint16_t)(a >> 16);
		x86_idt[v].off2 = (uint32_t)(a >> 32);
		x86_idt[v].rsvd = 0;
	}
	desc.limit = sizeof(x86_idt) - 1;
	desc.base = (uint64_t)(uintptr_t)x86_idt;
	__asm__ volatile("lidt %0" : : "m"(desc));
}

static volatile int in_exception;

__attribute__((noreturn)) void x86_exception(const uint64_t *frame)
{
	struct stub_platform *p = exc_plat;
	uint64_t cr2;

	if (in_exception++)
		x86_poweroff_quiet(X86_EXIT_EXCEPTION);	/* faulted while reporting */
	cr2 = X86_READ_CR(2);
	pcsc_log_release();	/* before the level is known: the context too */
	pcsc_log_at(PCSC_LOG_ALERT, "pcsc: exception vector=%u error=0x%llx rip=0x%llx (image+0x%llx) cr2=0x%llx",
		 (unsigned int)frame[0], (unsigned long long)frame[1],
		 (unsigned long long)frame[2],
		 (unsigned long long)(frame[2] - (uint64_t)(uintptr_t)__image_start),
		 (unsigned long long)cr2);
	/* Still try to leave the way the flow would: the next kernel needs no
	 * help from us, and without one the test wants an exit code. */
	if (p && p->has_next) {
		/* We stopped somewhere in the flow: the next kernel must not
		 * trust a cache we may not have finished judging. */
		stub_kho_last_resort(p);
		arch_boot_next(p);
	}
	arch_poweroff(X86_EXIT_EXCEPTION);
}
