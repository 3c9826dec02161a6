# arch/x86/arch.mk - x86_64 toolchain, flags and image rules (included by Makefile).
x86_64_CC := gcc
x86_64_AR := ar
x86_64_OBJCOPY := objcopy
# No red zone (exception frames land on our stack), no SSE/x87 state of ours.
x86_64_ARCH_CFLAGS := -mno-red-zone -mgeneral-regs-only
x86_64_LIBFDT := /usr/lib/x86_64-linux-gnu/libfdt.a
x86_64_IMAGES :=
