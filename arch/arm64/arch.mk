# arch/arm64/arch.mk - arm64 toolchain, flags and image rules (included by Makefile).
CROSS_COMPILE ?= aarch64-linux-gnu-
arm64_CC := $(CROSS_COMPILE)gcc
arm64_AR := $(CROSS_COMPILE)ar
arm64_OBJCOPY := $(CROSS_COMPILE)objcopy
# -mstrict-align: code may run before the MMU maps RAM Normal memory, where
# unaligned accesses fault. -mgeneral-regs-only: no FP/SIMD state in our code.
arm64_ARCH_CFLAGS := -mstrict-align -mgeneral-regs-only
arm64_LIBFDT := $(DEPS)/arm64-root/usr/lib/aarch64-linux-gnu/libfdt.a
arm64_IMAGES :=
