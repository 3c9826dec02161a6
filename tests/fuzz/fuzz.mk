# tests/fuzz/fuzz.mk - libFuzzer harness over KHO + pcsc parsing, verify and handover, judged by
# an independent oracle after every input.
#   make -f tests/fuzz/fuzz.mk O=build FUZZ_SECONDS=60 run
# Builds lib/ with clang (ASan + UBSan + coverage), the oracle with ASan + UBSan only (its branches
# are no goal for the fuzzer), seeds the corpus with cache_gen output (tests/fuzz/seedgen.c), then
# fuzzes for FUZZ_SECONDS. Exit status != 0 on a crash or an unsafe handover.
O ?= build
FUZZ_SECONDS ?= 60
FZ := $(O)/fuzz
# Inputs carry a 16-byte header (fuzz_common.h); corpus/ holds the older 8-byte format.
CORPUS := $(FZ)/corpus-v2
CLANG ?= clang
# Open findings the run should not stop on (tests/fuzz/known-findings); empty = none waived.
FUZZ_WAIVE ?= $(shell sed -e 's/\#.*//' tests/fuzz/known-findings)
LIB_SRCS := $(sort $(wildcard lib/*.c))
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Iinclude -DPCSC_VERSION=\"fuzz\" -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link $(SAN)
ORACLE_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer $(SAN)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FZ)/obj/%.o)

.PHONY: run build seeds coverage
build: $(FZ)/pcsc_fuzz $(FZ)/seedgen

$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FZ)/oracle.o: tests/fuzz/oracle.c tests/fuzz/oracle.h
	@mkdir -p $(dir $@)
	$(CLANG) $(ORACLE_CFLAGS) -c $< -o $@

$(FZ)/pcsc_fuzz: tests/fuzz/pcsc_fuzz.c tests/fuzz/fuzz_common.h tests/fuzz/oracle.h $(FZ)/oracle.o $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer tests/fuzz/pcsc_fuzz.c $(FZ)/oracle.o $(FUZZ_OBJS) -lfdt -o $@

# The seed generator is a host program without coverage instrumentation (ASan: it links the
# oracle, which it runs on each seed as written, no session: a proof the oracle is not vacuous).
$(FZ)/seedgen: tests/fuzz/seedgen.c tests/fuzz/fuzz_common.h tests/fuzz/oracle.h $(FZ)/oracle.o $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -O1 -g -Iinclude -DPCSC_VERSION=\"seed\" $(SAN) tests/fuzz/seedgen.c \
		$(FZ)/oracle.o $(LIB_SRCS) -lfdt -o $@

seeds: $(FZ)/seedgen
	@mkdir -p $(CORPUS)
	$(FZ)/seedgen $(CORPUS)

run: build seeds
	# Every finding so far, replayed first with nothing waived: fixed stays fixed.
	PCSC_FUZZ_WAIVE= $(FZ)/pcsc_fuzz $(wildcard tests/fuzz/findings/*.bin)
	PCSC_FUZZ_WAIVE="$(strip $(FUZZ_WAIVE))" $(FZ)/pcsc_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-dict=tests/fuzz/pcsc.dict -artifact_prefix=$(FZ)/ $(CORPUS)

# Which lines of the KHO readers the corpus reaches: a source-coverage build of the same harness
# run once over $(CORPUS) (no fuzzing), then llvm-cov's per-file report.
COV_FILES := lib/kho.c lib/kho_chunks.c lib/kho_radix.c lib/kho_scratch.c lib/session.c \
	lib/handover.c lib/verify.c lib/pcsc_fdt.c
coverage: seeds
	@mkdir -p $(FZ)/cov
	$(CLANG) -std=gnu11 -O0 -g -Iinclude -DPCSC_VERSION=\"cov\" -fprofile-instr-generate \
		-fcoverage-mapping -fsanitize=fuzzer tests/fuzz/pcsc_fuzz.c tests/fuzz/oracle.c \
		$(LIB_SRCS) -lfdt -o $(FZ)/cov/pcsc_cov
	rm -f $(FZ)/cov/run.profraw
	LLVM_PROFILE_FILE=$(FZ)/cov/run.profraw PCSC_FUZZ_STATS=1 \
		PCSC_FUZZ_WAIVE="$(strip $(FUZZ_WAIVE))" $(FZ)/cov/pcsc_cov -runs=0 $(CORPUS)
	llvm-profdata merge -o $(FZ)/cov/run.profdata $(FZ)/cov/run.profraw
	llvm-cov report $(FZ)/cov/pcsc_cov -instr-profile=$(FZ)/cov/run.profdata $(COV_FILES)

-include $(FUZZ_OBJS:.o=.d)
