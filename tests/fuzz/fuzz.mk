# tests/fuzz/fuzz.mk - libFuzzer harness over KHO + pcsc parsing, verify and hand-over.
#   make -f tests/fuzz/fuzz.mk O=build FUZZ_SECONDS=60 run
# Builds lib/ with clang (ASan + UBSan + coverage), seeds the corpus with cache_gen
# output (tests/fuzz/seedgen.c), then fuzzes for FUZZ_SECONDS. Exit status != 0 on a crash.
O ?= build
FUZZ_SECONDS ?= 60
FZ := $(O)/fuzz
CLANG ?= clang
LIB_SRCS := $(sort $(wildcard lib/*.c))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Iinclude -DPCSC_VERSION=\"fuzz\" -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FZ)/obj/%.o)

.PHONY: run build seeds
build: $(FZ)/pcsc_fuzz $(FZ)/seedgen

$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FZ)/pcsc_fuzz: tests/fuzz/pcsc_fuzz.c tests/fuzz/fuzz_common.h $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer tests/fuzz/pcsc_fuzz.c $(FUZZ_OBJS) -lfdt -o $@

# The seed generator is an ordinary host program (no instrumentation).
$(FZ)/seedgen: tests/fuzz/seedgen.c tests/fuzz/fuzz_common.h $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -O1 -g -Iinclude -DPCSC_VERSION=\"seed\" tests/fuzz/seedgen.c $(LIB_SRCS) -lfdt -o $@

seeds: $(FZ)/seedgen
	@mkdir -p $(FZ)/corpus
	$(FZ)/seedgen $(FZ)/corpus

run: build seeds
	$(FZ)/pcsc_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FZ)/ $(FZ)/corpus

-include $(FUZZ_OBJS:.o=.d)
