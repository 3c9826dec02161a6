# arch/x86/arch.mk - x86_64 toolchain, flags and image rules (included by Makefile).
x86_64_CC := gcc
x86_64_AR := gcc-ar
x86_64_OBJCOPY := objcopy
# No red zone (exception frames land on our stack), no SSE/x87 state of ours.
x86_64_ARCH_CFLAGS := -mno-red-zone -mgeneral-regs-only -malign-data=abi
x86_64_LIBFDT := /usr/lib/x86_64-linux-gnu/libfdt.a
x86_64_IMAGES :=

# The stub image: arch/x86 objects (head.S first in the link, though the
# linker script orders .head.text first anyway), stub/, lib/, libfdt, newlib.
# -static-pie: head.S applies the R_X86_64_RELATIVE entries itself, so the
# same image runs from QEMU's PVH load at 1 MiB or wherever kexec put it.
x86_64_IMAGES := $(O)/x86_64/pcsc-stub.elf
X86_IMAGE_OBJS := $(patsubst %,$(O)/x86_64/%.o,$(basename $(sort $(wildcard arch/x86/*.S arch/x86/*.c)))) \
	$(patsubst %.c,$(O)/x86_64/%.o,$(sort $(wildcard stub/*.c)))
X86_LDFLAGS := $(TARGET_LTO_LDFLAGS) -nostdlib -static-pie -Wl,-T,linker/x86_64.lds -Wl,--no-undefined \
	-Wl,--gc-sections -Wl,-z,max-page-size=4096 -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack -Wl,-z,norelro \
	-Wl,-z,pack-relative-relocs

$(O)/x86_64/pcsc-stub.elf: $(X86_IMAGE_OBJS) $(O)/x86_64/libpcsc.a linker/x86_64.lds
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(x86_64_CC) $(X86_LDFLAGS) -Wl,-Map,$@.map $(X86_IMAGE_OBJS) $(O)/x86_64/libpcsc.a \
		$(x86_64_LIBFDT) $(DEPS)/newlib-x86_64/lib/libc.a -lgcc -o $@

# SHA-NI code: SSE registers, in that one function only (target attribute);
# head.S sets CR4.OSFXSR, so SSE is usable after entry.
$(O)/x86_64/arch/x86/sha256_cpu.o: x86_64_ARCH_CFLAGS := -mno-red-zone
# The arch code runs once a boot (discovery, page tables, the jump): -Oz,
# smallest, where -Os would only be faster; lib/ (the per-entry work, and
# what make bench counts) stays -Os. Keeps the image under 64 KiB.
$(O)/x86_64/arch/x86/%.o: x86_64_ARCH_CFLAGS += -Oz
