# arch/arm64/arch.mk - arm64 toolchain, flags and image rules (included by Makefile).
CROSS_COMPILE ?= aarch64-linux-gnu-
arm64_CC := $(CROSS_COMPILE)gcc
arm64_AR := $(CROSS_COMPILE)gcc-ar
arm64_OBJCOPY := $(CROSS_COMPILE)objcopy
# -mstrict-align: code may run before the MMU maps RAM Normal memory, where
# unaligned accesses fault. -mgeneral-regs-only: no FP/SIMD state in our code.
arm64_ARCH_CFLAGS := -mstrict-align -mgeneral-regs-only
arm64_LIBFDT := $(DEPS)/arm64-root/usr/lib/aarch64-linux-gnu/libfdt.a


# The stub Image: arch/arm64 + stub/ + libpcsc.a + libfdt + newlib, linked
# as a static PIE at 0 (head.S applies .rela.dyn), then flattened to the
# raw Image that QEMU -kernel, booti and kexec_file_load take.
# Cortex-A53 erratum 843419: only the ADR rewrite. The default (full) also
# reserves a 4 KiB-padded veneer section as soon as any adrp lands at page
# offset 0xff8/0xffc, even when the rewrite then needs no veneer: +4 KiB of
# image by layout luck. The image is far below ADR's +-1 MiB reach from its
# code; a target out of reach fails the link, never goes unfixed.
arm64_IMAGE_OBJS := $(patsubst %,$(O)/arm64/%.o,$(basename $(sort $(wildcard arch/arm64/*.c arch/arm64/*.S)))) \
	$(STUB_SRCS:%.c=$(O)/arm64/%.o)
arm64_IMAGES := $(O)/arm64/pcsc-stub.elf $(O)/arm64/pcsc-stub.bin

$(O)/arm64/pcsc-stub.elf: $(arm64_IMAGE_OBJS) $(O)/arm64/libpcsc.a linker/arm64.lds
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(arm64_CC) $(TARGET_LTO_LDFLAGS) -nostdlib -static-pie -Wl,--no-undefined -Wl,-T,linker/arm64.lds \
		-Wl,--gc-sections -Wl,-z,max-page-size=4096 -Wl,--no-dynamic-linker -Wl,--no-warn-rwx-segments -Wl,--build-id=none -Wl,-Map,$@.map \
		-Wl,--fix-cortex-a53-843419=adr \
		$(arm64_IMAGE_OBJS) $(O)/arm64/libpcsc.a $(arm64_LIBFDT) \
		$(arm64_NEWLIB)/lib/libc.a -lgcc -o $@

$(O)/arm64/pcsc-stub.bin: $(O)/arm64/pcsc-stub.elf
	@$(if $(Q),echo "  OBJCOPY $@")
	$(Q)$(arm64_OBJCOPY) -O binary $< $@

# The SHA2-extension code uses NEON registers; the rest of the stub stays
# general-registers only (FP/SIMD is enabled at entry, head.S).
$(O)/arm64/arch/arm64/sha256_cpu.o: arm64_ARCH_CFLAGS := -mstrict-align
