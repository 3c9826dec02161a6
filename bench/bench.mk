# bench/bench.mk - build rule of the host benchmark driver (included by the
# top-level Makefile); bench/run.sh builds it on demand. Never used by `all`.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:%.c=$(O)/host/%.o)

# The instructions the driver counts are those of lib/ built as the stub
# images build it: -Os, the SHA-256 compression (TARGET_HOT_SRCS) -O2. Not
# the host tools' -O2 libpcsc.a, which runs ~7 % fewer. No LTO (the images
# have it): the per-stage figures need lib/'s functions by name; LTO's own
# effect measured under 1 % (issue 13 notes).
BENCH_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/host-bench/%.o)

$(O)/host-bench/%.o: %.c $(STAMP_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(if $(filter $<,$(TARGET_HOT_SRCS)),-O2,-Os) -MMD -MP -c $< -o $@

$(O)/host-bench/libpcsc.a: $(BENCH_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/host/pcsc-bench: $(BENCH_OBJS) $(HOST_CPU_OBJ) $(O)/host-bench/libpcsc.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $^ -lfdt -o $@

# bench/run.sh reads QUICK from its environment.
export QUICK
