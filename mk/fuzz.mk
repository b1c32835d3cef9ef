# mk/fuzz.mk -- the differential fuzzer of the sa_* API (tests/fuzz/).
#
#   make test-fuzz   a seeded run in `make test`: FUZZ_TEST_OPS operations in one
#                    thread, then as many over FUZZ_THREADS threads at a time
#   make fuzz        the long run: libFuzzer for LIBFUZZER_TIME s (below), then
#                    FUZZ_OPS operations single-threaded and as many threaded,
#                    with a fresh seed each time (printed; FUZZ_SEED=... replays one)
#
# A failure prints the seed, the thread and the operation; a single-threaded one
# also the command that replays it with a trace of the last operations.
# FUZZ_TIMEOUT bounds each run (a hang is a failure).

FUZZ_DIR      := $(BUILD)/tests/fuzz
FUZZ_BIN      := $(FUZZ_DIR)/fuzz
FUZZ_SRCS     := tests/fuzz/main.c tests/fuzz/ops.c tests/fuzz/shadow.c
FUZZ_CFLAGS   := $(CSTD) $(WARN) $(OPT) $(INCS) -pthread
FUZZ_TEST_OPS ?= 500000
FUZZ_OPS      ?= 10000000
FUZZ_THREADS  ?= 6
FUZZ_TEST_SEED ?= 0x5eed
FUZZ_SEED     ?=
FUZZ_TIMEOUT  ?= 900

TEST_TARGETS += test-fuzz
.PHONY: test-fuzz fuzz

$(FUZZ_BIN): $(FUZZ_SRCS) tests/fuzz/fuzz.h src/config.h $(SA_LIB_CORE_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FUZZ_CFLAGS) $(LDFLAGS) -o $@ $(FUZZ_SRCS) $(SA_LIB_CORE_A)

# $(call fuzz-run,label,log,arguments): one line, the fuzzer's summary; on
# failure the log (with the seed and the operation).
fuzz-run = $(call run-logged,$(1),timeout $(FUZZ_TIMEOUT) $(FUZZ_BIN) $(3),$(2),sed -n 's/^fuzz: ok: //p')

test-fuzz: $(FUZZ_BIN)
	$(call fuzz-run,fuzz/single,$(FUZZ_DIR)/test-single.log,--seed $(FUZZ_TEST_SEED) --ops $(FUZZ_TEST_OPS) --threads 0)
	$(call fuzz-run,fuzz/threads,$(FUZZ_DIR)/test-threads.log,--seed $(FUZZ_TEST_SEED) --ops $(FUZZ_TEST_OPS) --threads $(FUZZ_THREADS))

fuzz: $(FUZZ_BIN)
	$(call fuzz-run,fuzz/single,$(FUZZ_DIR)/single.log,$(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --ops $(FUZZ_OPS) --threads 0)
	$(call fuzz-run,fuzz/threads,$(FUZZ_DIR)/threads.log,$(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --ops $(FUZZ_OPS) --threads $(FUZZ_THREADS))

# ---- libFuzzer ---------------------------------------------------------------
#
#   make fuzz-libfuzzer   the same interpreter driven by libFuzzer for
#                         LIBFUZZER_TIME seconds (part of `make fuzz`), from
#                         tests/fuzz/corpus/ into build/tests/fuzz/libfuzzer/corpus/
#   make test-fuzz-corpus every input of tests/fuzz/corpus/ once (in `make test`)
#
# Longer: make fuzz-libfuzzer LIBFUZZER_TIME=3600 (or run the binary with
# -jobs=N -workers=N). A crash leaves its input in build/tests/fuzz/libfuzzer/
# (crash-*); replay it with `build/tests/fuzz/libfuzzer/fuzz-sa <file>`, and
# add it to tests/fuzz/corpus/ once fixed. New coverage can be folded into the
# kept corpus with `fuzz-sa -merge=1 tests/fuzz/corpus build/tests/fuzz/libfuzzer/corpus`.
# clang builds the allocator with coverage (fuzzer-no-link), ASan and UBSan.

LIBFUZZER_CC     ?= clang-14
LIBFUZZER_DIR    := $(FUZZ_DIR)/libfuzzer
LIBFUZZER_BIN    := $(LIBFUZZER_DIR)/fuzz-sa
LIBFUZZER_TIME   ?= 60
LIBFUZZER_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
LIBFUZZER_CFLAGS := $(CSTD) $(WARN) -O1 -g $(INCS) -pthread $(LIBFUZZER_SAN)
LIBFUZZER_OBJS   := $(patsubst src/%.c,$(LIBFUZZER_DIR)/obj/%.o,$(SA_CORE_SRCS))
LIBFUZZER_OPTS   := -rss_limit_mb=4096 -max_len=1024 -artifact_prefix=$(LIBFUZZER_DIR)/

TEST_TARGETS += test-fuzz-corpus
.PHONY: fuzz-libfuzzer test-fuzz-corpus
fuzz: fuzz-libfuzzer

$(LIBFUZZER_DIR)/obj/%.o: src/%.c
	$(call say,CC,$< [libfuzzer])
	$(Q)mkdir -p $(@D)
	$(Q)$(LIBFUZZER_CC) $(LIBFUZZER_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(LIBFUZZER_BIN): tests/fuzz/libfuzzer.c tests/fuzz/ops.c tests/fuzz/shadow.c tests/fuzz/fuzz.h $(LIBFUZZER_OBJS)
	$(call say,LD,$@)
	$(Q)$(LIBFUZZER_CC) $(LIBFUZZER_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ \
	    tests/fuzz/libfuzzer.c tests/fuzz/ops.c tests/fuzz/shadow.c $(LIBFUZZER_OBJS)

fuzz-libfuzzer: $(LIBFUZZER_BIN)
	$(Q)mkdir -p $(LIBFUZZER_DIR)/corpus
	$(call run-logged,fuzz/libfuzzer,$(LIBFUZZER_BIN) $(LIBFUZZER_OPTS) -max_total_time=$(LIBFUZZER_TIME) \
	    $(LIBFUZZER_DIR)/corpus tests/fuzz/corpus,$(LIBFUZZER_DIR)/run.log,grep -o 'Done [0-9]* runs in [0-9]* second(s)')

test-fuzz-corpus: $(LIBFUZZER_BIN)
	$(call run-logged,fuzz/corpus,$(LIBFUZZER_BIN) $(LIBFUZZER_OPTS) -runs=0 tests/fuzz/corpus,$(LIBFUZZER_DIR)/corpus.log,sed -n 's|^Done \([0-9]*\) runs.*|\1 inputs of tests/fuzz/corpus under ASan and UBSan|p')

-include $(LIBFUZZER_OBJS:.o=.d)
