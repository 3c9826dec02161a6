# uefi/efi.mk - the GNU-EFI bring-up app, build/efi/pcsc-stub-{x64,aa64}.efi
# (included by the top-level Makefile). lib/ is compiled again here, -fpic
# for gnu-efi's -shared link, into build/efi/<arch>/; uefi/x64.c and
# uefi/aa64.c are the per-arch hooks, every other uefi/*.c is common.
#   make efi-images    both images (part of `make all`)
#   make test-efi      the QEMU tests (OVMF / AAVMF), tests/qemu/test_efi_*.py

EFI_OUT := $(O)/efi
EFI_ARCH_SRCS := uefi/x64.c uefi/aa64.c
EFI_COMMON_SRCS := $(filter-out $(EFI_ARCH_SRCS),$(sort $(wildcard uefi/*.c)))

# x64: Debian's amd64 gnu-efi, installed system-wide. EFIAPI becomes
# __attribute__((ms_abi)) (GNU_EFI_USE_MS_ABI), so firmware calls are plain
# C calls; no red zone (firmware interrupts land on our stack).
efi_x64_TARGET := x86_64
efi_x64_CC := gcc
efi_x64_LD := ld
efi_x64_AR := ar
efi_x64_OBJCOPY := objcopy
efi_x64_GNUEFI := /usr/lib
efi_x64_EFIINC := /usr/include/efi
efi_x64_EFIARCH := x86_64
efi_x64_CFLAGS := -mno-red-zone -mgeneral-regs-only -maccumulate-outgoing-args \
	-DGNU_EFI_USE_MS_ABI
efi_x64_LDFLAGS :=
# objcopy writes the PE headers; only these sections become the image.
efi_x64_PE := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	-j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10

# aa64: Debian's arm64 gnu-efi, unpacked by `make deps`. Its crt0 embeds the
# PE header (EFI_SUBSYSTEM 0xa = EFI application), so the image is the
# flat binary of the ELF: objcopy -O binary.
efi_aa64_TARGET := arm64
efi_aa64_CC := $(arm64_CC)
efi_aa64_LD := $(CROSS_COMPILE)ld
efi_aa64_AR := $(arm64_AR)
efi_aa64_OBJCOPY := $(arm64_OBJCOPY)
efi_aa64_GNUEFI := $(DEPS)/arm64-root/usr/lib
efi_aa64_EFIINC := $(DEPS)/arm64-root/usr/include/efi
efi_aa64_EFIARCH := aarch64
efi_aa64_CFLAGS := -mgeneral-regs-only
# The embedded header makes text and data one flat RWX load segment.
efi_aa64_LDFLAGS := --defsym=EFI_SUBSYSTEM=0xa --no-warn-rwx-segments
# .dynsym lies past _edata: copying it makes the file cover all of
# SizeOfImage, so the loader never reads raw data beyond the file's end.
efi_aa64_PE := -j .text -j .dynamic -j .data -j .rela.dyn -j .rela.plt \
	-j .rela.got -j .rela.data -j .dynsym -O binary

EFI_ARCHES := $(if $(filter x86_64,$(ARCHES)),x64) $(if $(filter arm64,$(ARCHES)),aa64)
EFI_IMAGES := $(foreach a,$(EFI_ARCHES),$(EFI_OUT)/pcsc-stub-$(a).efi)

define efi_rules
efi_$(1)_BASE_CFLAGS := $(COMMON_CFLAGS) -ffreestanding -fno-builtin -nostdlib -nostdinc \
	-fpic -fstack-protector-strong -fno-asynchronous-unwind-tables \
	-isystem $$(shell $$(efi_$(1)_CC) -print-file-name=include) \
	-isystem $(DEPS)/newlib-$$(efi_$(1)_TARGET)/include -isystem $(FDT_INC) \
	$$(efi_$(1)_CFLAGS)
efi_$(1)_LIB_OBJS := $(LIB_SRCS:%.c=$(EFI_OUT)/$(1)/%.o)
efi_$(1)_APP_OBJS := $(EFI_COMMON_SRCS:%.c=$(EFI_OUT)/$(1)/%.o) $(EFI_OUT)/$(1)/uefi/$(1).o

$(EFI_OUT)/$(1)/lib/%.o: lib/%.c $(STAMP_DEPS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$@")
	$$(Q)$$(efi_$(1)_CC) $$(efi_$(1)_BASE_CFLAGS) -MMD -MP -c $$< -o $$@

# uefi/ sees gnu-efi's headers too; -fshort-wchar makes L"" CHAR16 as
# gnu-efi expects.
$(EFI_OUT)/$(1)/uefi/%.o: uefi/%.c $(STAMP_DEPS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$@")
	$$(Q)$$(efi_$(1)_CC) $$(efi_$(1)_BASE_CFLAGS) -fshort-wchar \
		-isystem $$(efi_$(1)_EFIINC) -isystem $$(efi_$(1)_EFIINC)/$$(efi_$(1)_EFIARCH) \
		-isystem $$(efi_$(1)_EFIINC)/protocol -Iefi -MMD -MP -c $$< -o $$@

$(EFI_OUT)/$(1)/libpcsc.a: $$(efi_$(1)_LIB_OBJS)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && $$(efi_$(1)_AR) rcs $$@ $$^

# -shared -Bsymbolic: a position-independent image whose only dynamic
# relocations are RELATIVE ones, applied by gnu-efi's _relocate.
# -z nocombreloc keeps the .rela.* names the linker script places.
# Order: our code, lib/, libfdt, then newlib for mem*/str* (gnu-efi's
# libefi is not linked: we call firmware through the system table), then
# libgnuefi (_relocate) and libgcc.
$(EFI_OUT)/$(1)/pcsc-stub.so: $$(efi_$(1)_APP_OBJS) $(EFI_OUT)/$(1)/libpcsc.a linker/efi-$(1).lds uefi/efi.mk
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(efi_$(1)_LD) -nostdlib --no-undefined -shared -Bsymbolic -z nocombreloc \
		--warn-common --build-id=sha1 -z noexecstack $$(efi_$(1)_LDFLAGS) -T linker/efi-$(1).lds \
		$$(efi_$(1)_GNUEFI)/crt0-efi-$$(efi_$(1)_EFIARCH).o $$(efi_$(1)_APP_OBJS) \
		$(EFI_OUT)/$(1)/libpcsc.a $$($$(efi_$(1)_TARGET)_LIBFDT) \
		$(DEPS)/newlib-$$(efi_$(1)_TARGET)/lib/libc.a \
		$$(efi_$(1)_GNUEFI)/libgnuefi.a \
		$$(shell $$(efi_$(1)_CC) -print-libgcc-file-name) -o $$@

$(EFI_OUT)/pcsc-stub-$(1).efi: $(EFI_OUT)/$(1)/pcsc-stub.so uefi/efi.mk
	@$$(if $$(Q),echo "  EFI     $$@")
	$$(Q)$$(efi_$(1)_OBJCOPY) $$(efi_$(1)_PE) $$< $$@
endef
$(foreach a,x64 aa64,$(eval $(call efi_rules,$(a))))

.PHONY: efi-images test-efi
efi-images: $(EFI_IMAGES)
all: efi-images

# The QEMU tests; they also need pcsctool for the verify fixtures.
test-efi: efi-images host
	$(Q)O=$(O) /usr/bin/python3 -m pytest -p no:cacheprovider -q -rf tests/qemu/test_efi_*.py

# Host unit test of uefi/cmdline.c (tests/unit/test_efi_cmdline.c compiles
# that file in; the Makefile's generic unit-test rule builds it): it needs
# gnu-efi's headers for CHAR16.
$(O)/host-san/tests/test_efi_cmdline: SAN_CFLAGS += -isystem /usr/include/efi \
	-isystem /usr/include/efi/x86_64 -isystem /usr/include/efi/protocol
