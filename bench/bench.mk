# bench/bench.mk - build rule of the host benchmark driver (included by the
# top-level Makefile); bench/run.sh builds it on demand. Never used by `all`.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:%.c=$(O)/host/%.o)

$(O)/host/pcsc-bench: $(BENCH_OBJS) $(HOST_CPU_OBJ) $(O)/host/libpcsc.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $^ -lfdt -o $@

# bench/run.sh reads QUICK from its environment.
export QUICK
