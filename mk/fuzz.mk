# mk/fuzz.mk -- the differential fuzzer of the sa_* API (tests/fuzz/).
#
#   make test-fuzz   a seeded run in `make test`: FUZZ_TEST_OPS operations in one
#                    thread, then as many over FUZZ_THREADS threads at a time
#   make fuzz        the long run: FUZZ_OPS operations single-threaded and as many
#                    threaded, with a fresh seed each time (printed; FUZZ_SEED=...
#                    replays one)
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
# mk/lib.mk names the archive (read when the recipe runs)
SA_LIB_CORE_A ?= $(BUILD)/libshardalloc-core.a

TEST_TARGETS += test-fuzz
.PHONY: test-fuzz fuzz

$(FUZZ_BIN): $(FUZZ_SRCS) tests/fuzz/fuzz.h src/config.h $(SA_LIB_CORE_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(SA_LIB_CORE_A)

# $(call fuzz-run,label,log,arguments): one line, the fuzzer's summary; on
# failure the log.
define fuzz-run
	$(Q)if timeout $(FUZZ_TIMEOUT) $(FUZZ_BIN) $(3) >$(2) 2>&1; then \
	    printf '  %-9s %s\n' TEST "$(1): $$(head -n 1 $(2) | sed 's/^fuzz: //'), $$(tail -n 1 $(2) | sed 's/^fuzz: ok: //')"; \
	else \
	    cat $(2); printf '  %-9s %s\n' FAIL "$(1) (log: $(2))"; exit 1; fi
endef

test-fuzz: $(FUZZ_BIN)
	$(call fuzz-run,fuzz/single,$(FUZZ_DIR)/test-single.log,--seed $(FUZZ_TEST_SEED) --ops $(FUZZ_TEST_OPS) --threads 0)
	$(call fuzz-run,fuzz/threads,$(FUZZ_DIR)/test-threads.log,--seed $(FUZZ_TEST_SEED) --ops $(FUZZ_TEST_OPS) --threads $(FUZZ_THREADS))

fuzz: $(FUZZ_BIN)
	$(call fuzz-run,fuzz/single,$(FUZZ_DIR)/single.log,$(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --ops $(FUZZ_OPS) --threads 0)
	$(call fuzz-run,fuzz/threads,$(FUZZ_DIR)/threads.log,$(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --ops $(FUZZ_OPS) --threads $(FUZZ_THREADS))
