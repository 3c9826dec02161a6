# pcsc-stub - top-level Makefile, Kbuild conventions:
#   make                 host pieces + both targets (arm64, x86_64)
#   make ARCH=arm64      one target only (CROSS_COMPILE=aarch64-linux-gnu-)
#   make O=DIR           out of tree (default build/)      make V=1  verbose
#   make deps | check | demo | test-unit | test-qemu | bench | fuzz | clean
# Sources are found by wildcard: a new lib/foo.c or tests/unit/test_foo.c
# needs no Makefile edit.

O ?= build
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif
export CI

ALL_ARCHES := arm64 x86_64
ARCH ?=
ARCHES := $(if $(ARCH),$(ARCH),$(ALL_ARCHES))
ifneq ($(filter-out $(ALL_ARCHES),$(ARCHES)),)
$(error ARCH must be one of: $(ALL_ARCHES))
endif

DEPS := $(O)/deps
STAMP_DEPS := $(DEPS)/.stamp

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
PCSC_VERSION := 0.1
COMMON_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -DPCSC_VERSION=\"$(PCSC_VERSION)\"

LIB_SRCS := $(sort $(wildcard lib/*.c))
STUB_SRCS := $(sort $(wildcard stub/*.c))

.PHONY: all deps host targets clean check demo test-unit test-qemu test-link \
	bench fuzz FORCE
all: host targets

# Keep every intermediate object (test helpers are otherwise deleted and
# rebuilt on each run).
.SECONDARY:

deps: $(STAMP_DEPS)
$(STAMP_DEPS): tools/deps.sh tools/build-newlib.sh
	$(Q)tools/deps.sh $(O)
	$(Q)mkdir -p $(DEPS) && touch $@

# ---------------------------------------------------------------- host ----
HOST_CC ?= gcc
HOST_CFLAGS := $(COMMON_CFLAGS)
SAN_CFLAGS := $(HOST_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined

HOST_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/host/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/host-san/%.o)
# The host CPU's own SHA-256 instructions (arch/<host arch>/sha256_cpu.c):
# linked into the tools and unit tests, never into libpcsc.a (lib/ stays
# arch-free; sha256_use() takes the function).
HOST_ADIR := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86)
HOST_CPU_OBJ := $(O)/host/arch/$(HOST_ADIR)/sha256_cpu.o
SAN_CPU_OBJ := $(O)/host-san/arch/$(HOST_ADIR)/sha256_cpu.o

$(O)/host/%.o: %.c $(STAMP_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(O)/host-san/%.o: %.c $(STAMP_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(O)/host/libpcsc.a: $(HOST_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/host-san/libpcsc.a: $(SAN_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Unit tests: one cmocka binary per tests/unit/test_*.c, built with ASan+UBSan.
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/host-san/tests/%)
UNIT_HELPERS := $(sort $(wildcard tests/unit/helpers/*.c))
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(O)/host-san/%.o)

$(O)/host-san/tests/%: tests/unit/%.c $(UNIT_HELPER_OBJS) $(SAN_CPU_OBJ) $(O)/host-san/libpcsc.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(HOST_CC) $(SAN_CFLAGS) -Itests/unit -MMD -MP $< $(UNIT_HELPER_OBJS) $(SAN_CPU_OBJ) \
		$(O)/host-san/libpcsc.a -lcmocka -lfdt -o $@

# Host tool(s): tools/<name>/*.c -> $(O)/host/<name>.
TOOL_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard tools/*/*.c))))
TOOLS := $(TOOL_DIRS:tools/%=$(O)/host/%)
define tool_rule
$(O)/host/$(1): $(patsubst %.c,$(O)/host/%.o,$(wildcard tools/$(1)/*.c)) $(HOST_CPU_OBJ) $(O)/host/libpcsc.a
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(HOST_CC) $$(HOST_CFLAGS) $$^ -lfdt -o $$@
endef
$(foreach t,$(TOOL_DIRS:tools/%=%),$(eval $(call tool_rule,$(t))))

host: $(O)/host/libpcsc.a $(O)/host-san/libpcsc.a $(UNIT_BINS) $(TOOLS)

# -------------------------------------------------------------- targets ----
# Every target builds lib/ and stub/ freestanding, position independent,
# against newlib's headers and libc.a (built by make deps) and Debian's
# libfdt.a. Per-arch flags and image rules live in arch/<arch>/arch.mk.
FDT_INC := $(DEPS)/fdt-include

# Targets are optimised for size (the whole image is copied and cached on
# every live update, and must stay under 64 KiB) except the SHA-256
# compression, which keeps -O2: it is most of the per-entry instructions
# (handover digest). Everything else at -Os costs the quick session +7 %
# (n = 65,536: 9,067 -> 9,738 instructions an entry, under the 10,000 of
# issue 13; make bench counts a host lib/ built with these same per-file
# options, bench/bench.mk).
# Link-time optimisation over lib/, stub/ and arch/ (libfdt.a and newlib's
# libc.a stay ordinary objects): GCC keeps each function's own -Os/-O2 and
# target flags, and whole-program inlining and dead-code removal cut ~5 KB.
# The archive needs gcc-ar (the LTO symbol index); one partition is the
# smallest code.
TARGET_LTO := -flto
TARGET_LTO_LDFLAGS := -flto -flto-partition=one
TARGET_HOT_SRCS := arch/arm64/sha256_cpu.c arch/x86/sha256_cpu.c lib/sha256.c

define target_vars
$(1)_NEWLIB := $(DEPS)/newlib-$(1)
$(1)_CFLAGS := $(COMMON_CFLAGS) -Os $(TARGET_LTO) -ffreestanding -fno-builtin -nostdlib -nostdinc \
	-fPIE -fstack-protector-strong -fno-asynchronous-unwind-tables \
	-ffunction-sections -fdata-sections \
	-isystem $$(shell $$($(1)_CC) -print-file-name=include) \
	-isystem $(DEPS)/newlib-$(1)/include -isystem $(FDT_INC)
$(1)_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/$(1)/%.o)
$(1)_STUB_OBJS := $(STUB_SRCS:%.c=$(O)/$(1)/%.o)
$(1)_ARCH_OBJS := $(patsubst %,$(O)/$(1)/%.o,$(basename $(sort $(wildcard arch/$($(1)_ADIR)/*.c arch/$($(1)_ADIR)/*.S))))
endef

# ARCH names the target; arch/<dir> holds its code (x86_64 lives in arch/x86).
arm64_ADIR := arm64
x86_64_ADIR := x86
include arch/arm64/arch.mk arch/x86/arch.mk
$(foreach a,$(ALL_ARCHES),$(eval $(call target_vars,$(a))))

define target_rules
$(O)/$(1)/%.o: %.c $(STAMP_DEPS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$@")
	$$(Q)$$($(1)_CC) $$($(1)_CFLAGS) $$(if $$(filter $$<,$(TARGET_HOT_SRCS)),-O2) \
		$$($(1)_ARCH_CFLAGS) -MMD -MP -c $$< -o $$@

$(O)/$(1)/%.o: %.S $(STAMP_DEPS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AS      $$@")
	$$(Q)$$($(1)_CC) $$($(1)_CFLAGS) $$($(1)_ARCH_CFLAGS) -D__ASSEMBLY__ -MMD -MP -c $$< -o $$@

$(O)/$(1)/libpcsc.a: $$($(1)_LIB_OBJS)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && $$($(1)_AR) rcs $$@ $$^

# Link check: all of lib/ (whole archive) with libfdt and newlib, nothing
# else, must leave no undefined symbol. stub/stack_chk.c is the only extra:
# it is what gives libfdt's stack protector its canary.
$(O)/$(1)/lib-linkcheck.elf: $(O)/$(1)/libpcsc.a $(O)/$(1)/stub/stack_chk.o
	@$$(if $$(Q),echo "  LDCHK   $$@")
	$$(Q)$$($(1)_CC) $(TARGET_LTO_LDFLAGS) -nostdlib -static-pie -Wl,--no-undefined -Wl,-e,0 \
		-Wl,--whole-archive $(O)/$(1)/libpcsc.a -Wl,--no-whole-archive \
		$(O)/$(1)/stub/stack_chk.o $$($(1)_LIBFDT) $$($(1)_NEWLIB)/lib/libc.a -lgcc -o $$@

targets: $(O)/$(1)/libpcsc.a $(O)/$(1)/lib-linkcheck.elf $$($(1)_IMAGES)
endef
$(foreach a,$(ARCHES),$(eval $(call target_rules,$(a))))

# ----------------------------------------------------------------- tests ----
test-unit: host
	$(Q)tests/run-unit.sh $(UNIT_BINS)

test-link: targets

test-qemu: all
	$(Q)O=$(O) ARCHES="$(ARCHES)" tests/qemu/run.sh

# Issue 9: the real kexec chains alone (make check runs them with the QEMU set).
.PHONY: test-kexec
test-kexec: all
	$(Q)O=$(O) ARCHES="$(ARCHES)" tests/kexec/run.sh

# Issue 8: the hostile-input suite alone (make check runs it with the QEMU set).
.PHONY: test-hostile
test-hostile: all
	$(Q)cd tests/qemu && O=$(abspath $(O)) ARCHES="$(ARCHES)" /usr/bin/python3 -m pytest \
		-p no:cacheprovider -q -rf test_hostile.py

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/check.sh $(O) "$(ARCHES)"

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh $(O)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/run.sh $(O)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk O=$(O) FUZZ_SECONDS=$(FUZZ_SECONDS) run

clean:
	$(Q)rm -rf $(filter-out $(DEPS),$(wildcard $(O)/*))

distclean:
	$(Q)rm -rf $(O)

-include uefi/efi.mk
-include bench/bench.mk

-include $(shell find $(O) -name '*.d' -type f 2>/dev/null)
