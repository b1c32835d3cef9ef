# mk/sanitize.mk -- the sa_* API suites under AddressSanitizer and
# UndefinedBehaviorSanitizer.
#
#   make test-asan   src/ (without the overrides) and every tests/api suite built
#                    with -fsanitize=address,undefined (any UB report aborts),
#                    run as make test-api runs them
#
# ASan replaces the C library's malloc, which only Criterion and the tests'
# scaffolding use: the suites allocate through sa_*, so what ASan and UBSan
# watch here is shardalloc's own code (its metadata, its arithmetic, its
# reads and writes of the pages it maps) and the suites' use of the blocks.

ASAN_DIR     := $(BUILD)/asan
ASAN_LIB_A   := $(ASAN_DIR)/libshardalloc-asan.a
ASAN_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# the core sources (mk/lib.mk's list is not defined yet where this file is read)
ASAN_SRCS    := $(filter-out src/override.c src/trace.c,$(sort $(wildcard src/*.c)))
ASAN_OBJS    := $(patsubst src/%.c,$(ASAN_DIR)/obj/%.o,$(ASAN_SRCS))
ASAN_SUITES  := $(patsubst tests/api/%.c,%,$(sort $(wildcard tests/api/*.c)))
ASAN_BINS    := $(addprefix $(ASAN_DIR)/tests/,$(ASAN_SUITES))
ASAN_CFLAGS  := $(CSTD) $(WARN) -O1 -g $(INCS) -pthread $(ASAN_SAN)
# No quarantine: it holds only the C library's freed memory (the scaffolding's),
# and would count in the resident sets the churn suite bounds.
ASAN_RUN_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:quarantine_size_mb=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Tests left to make test-api, by suite: the purge delay's is a wall-clock test
# (purged pages reused within SA_PURGE_DELAY_MS), which ASan's slowdown misses.
ASAN_SKIP_memory_return := purged_memory_needed_again_at_once_lengthens_the_purge_delay

.PHONY: test-asan $(addprefix test-asan-,$(ASAN_SUITES))

$(ASAN_DIR)/obj/%.o: src/%.c
	$(call say,CC,$< [asan])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN_LIB_A): $(ASAN_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_BINS): $(ASAN_DIR)/tests/%: tests/api/%.c $(wildcard tests/api/*.h) $(ASAN_LIB_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN_LIB_A) -lcriterion -pthread

test-asan: $(addprefix test-asan-,$(ASAN_SUITES))

$(addprefix test-asan-,$(ASAN_SUITES)): test-asan-%: $(ASAN_DIR)/tests/%
	$(Q)if $(ASAN_RUN_ENV) $< --jobs=$(TEST_JOBS) --timeout=$(TEST_TIMEOUT) --color=never -S \
	        $(if $(ASAN_SKIP_$*),--filter '!(*/$(ASAN_SKIP_$*))') >$<.log 2>&1; then \
	    printf '  %-9s %s\n' TEST "api/$* [asan+ubsan]: $$(grep -o 'Tested:.*' $<.log)$(if $(ASAN_SKIP_$*), (not run here: $(ASAN_SKIP_$*)))"; \
	else \
	    tail -n 60 $<.log; printf '  %-9s %s\n' FAIL "api/$* [asan+ubsan] (log: $<.log)"; exit 1; fi

-include $(ASAN_OBJS:.o=.d)
