# mk/sanitize.mk -- the sa_* API suites under AddressSanitizer and
# UndefinedBehaviorSanitizer.
#
#   make test-asan   src/ (without the overrides) and every tests/api suite built
#                    with -fsanitize=address,undefined (any UB report aborts),
#                    run as make test-api runs them
#   make test-asan-<suite>  one of them
#
# ASan replaces the C library's malloc, which only Criterion and the tests'
# scaffolding use: the suites allocate through sa_*, so what ASan and UBSan
# watch here is shardalloc's own code (its metadata, its arithmetic, its
# reads and writes of the pages it maps) and the suites' use of the blocks.
# One test is left out of these builds: churn_stress's fork while threads
# start and exit, whose children hang in libasan's own allocator (it keeps
# no lock across fork; tests/api/churn_stress.c says how it was seen).

ASAN_DIR     := $(BUILD)/asan
ASAN_LIB_A   := $(ASAN_DIR)/libshardalloc-asan.a
ASAN_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_OBJS    := $(patsubst src/%.c,$(ASAN_DIR)/obj/%.o,$(SA_CORE_SRCS))
ASAN_SUITES  := $(patsubst tests/api/%.c,%,$(sort $(wildcard tests/api/*.c)))
ASAN_BINS    := $(addprefix $(ASAN_DIR)/tests/,$(ASAN_SUITES))
ASAN_CFLAGS  := $(CSTD) $(WARN) -O1 -g $(INCS) -pthread $(ASAN_SAN)
# No quarantine: it holds only the C library's freed memory (the scaffolding's),
# and would count in the resident sets the churn suite bounds. Each suite also
# runs in mk/test.mk's environment for it (SUITE_ENV_<suite>).
ASAN_RUN_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:quarantine_size_mb=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-asan $(addprefix test-asan-,$(ASAN_SUITES))

$(ASAN_DIR)/obj/%.o: src/%.c
	$(call say,CC,$< [asan])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN_LIB_A): $(ASAN_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_BINS): $(ASAN_DIR)/tests/%: tests/api/%.c $(ASAN_DIR)/tests/%.d $(ASAN_LIB_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(ASAN_LIB_A) -lcriterion -pthread

test-asan: $(addprefix test-asan-,$(ASAN_SUITES))

$(addprefix test-asan-,$(ASAN_SUITES)): test-asan-%: $(ASAN_DIR)/tests/%
	$(call run-suite,$<,api/$* [asan+ubsan],$<.log,$(ASAN_RUN_ENV) $(SUITE_ENV_$*))

-include $(ASAN_OBJS:.o=.d)
DEP_FILES += $(ASAN_BINS:=.d)
