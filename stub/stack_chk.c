/* stack_chk.c - the stack protector's canary and failure path for the stub.
 * Packaged libfdt.a is built with -fstack-protector; it must never read a
 * canary nobody set. arm64 reads __stack_chk_guard; x86_64 reads %fs:0x28,
 * which arch/x86 points at pcsc_tls_block before any C code runs. */
#include <stdint.h>

void __stack_chk_fail(void);

/* A fixed, non-zero value with a NUL byte so string overflows stop at it;
 * the stub has no entropy source worth trusting this early. */
uintptr_t __stack_chk_guard = (uintptr_t)0x00e1f5a6c3d2b4f0ULL;

void __stack_chk_fail(void)
{
	/* Trap rather than print: the stack is already suspect. The arch
	 * exception handler reports the fault and still tries the jump. */
	__builtin_trap();
}
