# mk/test.mk -- the runtime test suites (included by the top-level Makefile).
#
#   make test-api       tests/api/*.c: one Criterion binary each, linked with the
#                       static library and driven through the sa_* entry points
#   make test-api-<suite>        one of them (test-api-malloc, ...)
#   make test-api-purge-free     api/memory_return with SHARDALLOC_PURGE=free
#   make test-api-debug the same suites linked with the debug build (SA_DEBUG=2:
#                       the page invariants asserted at every transition)
#   make test-api-debug-<suite>  one of them
#   make test-preload   tests/preload/*.sh: real programs (python3, git, gcc, sort)
#                       run with LD_PRELOAD=libshardalloc.so, results checked
#   make test-preload-<script>   one of them (test-preload-git, ...)
#   make test-build     build every api suite, plain and debug, without running
#
# The test binaries must not contain shardalloc's malloc/free overrides:
# Criterion's runner allocates with the C library's malloc, and the overrides
# are tested under LD_PRELOAD instead. The link step checks this.
# TEST_JOBS sets Criterion's --jobs, TEST_TIMEOUT its per-test --timeout (a hang
# is a failure); a suite's full log is in build/tests/api/<suite>.log.

# The suites link the archive without the standard-name overrides (mk/lib.mk's
# SA_LIB_CORE_A): from the full archive, any call to malloc in a test would pull
# the override member in, and Criterion's runner would run on shardalloc.

TEST_JOBS      ?= 2
TEST_TIMEOUT   ?= 60
TEST_API_SRCS  := $(sort $(wildcard tests/api/*.c))
TEST_API_NAMES := $(patsubst tests/api/%.c,%,$(TEST_API_SRCS))
TEST_API_BINS  := $(addprefix $(BUILD)/tests/api/,$(TEST_API_NAMES))
TEST_DEBUG_BINS := $(addprefix $(BUILD)/tests/api-debug/,$(TEST_API_NAMES))
TEST_PRELOAD   := $(sort $(filter-out tests/preload/lib.sh,$(wildcard tests/preload/*.sh)))
TEST_CFLAGS    := $(CSTD) $(WARN) $(OPT) $(INCS) -pthread
TEST_LDLIBS    := -lcriterion -pthread

TEST_TARGETS += test-api test-api-debug test-preload

.PHONY: test-api test-api-debug test-preload test-build test-api-purge-free \
        $(addprefix test-api-,$(TEST_API_NAMES)) $(addprefix test-api-debug-,$(TEST_API_NAMES)) \
        $(addprefix test-preload-,$(basename $(notdir $(TEST_PRELOAD))))

test-build: $(TEST_API_BINS) $(TEST_DEBUG_BINS)

# $(call link-suite,archive): compile and link $@ from $<, and refuse a binary
# that defines malloc & co.
define link-suite
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(1) $(TEST_LDLIBS)
	$(Q)if nm $@ | grep -Eq ' [TW] (malloc|free|calloc|realloc)$$'; then \
	    echo "$@: links shardalloc's malloc override; Criterion would run on it" >&2; \
	    rm -f $@; exit 1; fi
endef

$(TEST_API_BINS): $(BUILD)/tests/api/%: tests/api/%.c $(BUILD)/tests/api/%.d $(SA_LIB_CORE_A)
	$(call link-suite,$(SA_LIB_CORE_A))

$(TEST_DEBUG_BINS): $(BUILD)/tests/api-debug/%: tests/api/%.c $(BUILD)/tests/api-debug/%.d $(SA_DEBUG_LIB_A)
	$(call link-suite,$(SA_DEBUG_LIB_A))

test-api: $(addprefix test-api-,$(TEST_API_NAMES)) test-api-purge-free

# $(call run-suite,binary,label,log,environment): one line, its Criterion
# synthesis; on failure the whole log.
define run-suite
$(call run-logged,$(2),$(4) $(1) --jobs=$(TEST_JOBS) --timeout=$(TEST_TIMEOUT) --color=never -S,$(3),grep -o 'Tested:.*[0-9]')
$(call criterion-all-ran,$(1),$(3))
endef
# The environment a suite runs in. memory_return's early-reuse test needs its
# pages handed out again within one purge delay of the purge: 10 ms is less
# than a loaded 2-core machine (or the debug build) takes to purge and reuse
# 64 MiB, so it runs with 100 ms.
SUITE_ENV_memory_return := SHARDALLOC_PURGE_DELAY=100

$(addprefix test-api-,$(TEST_API_NAMES)): test-api-%: $(BUILD)/tests/api/%
	$(call run-suite,$<,api/$*,$<.log,$(SUITE_ENV_$*))

test-api-debug: $(addprefix test-api-debug-,$(TEST_API_NAMES))

$(addprefix test-api-debug-,$(TEST_API_NAMES)): test-api-debug-%: $(BUILD)/tests/api-debug/%
	$(call run-suite,$<,api/$* [debug],$<.log,$(SUITE_ENV_$*))

# The purge policy is an option read at start (default MADV_DONTNEED): memory
# must come back with MADV_FREE too.
test-api-purge-free: $(BUILD)/tests/api/memory_return
	$(call run-suite,$<,api/memory_return [SHARDALLOC_PURGE=free],$<-purge-free.log,SHARDALLOC_PURGE=free $(SUITE_ENV_memory_return))

test-preload: $(addprefix test-preload-,$(basename $(notdir $(TEST_PRELOAD))))

$(addprefix test-preload-,$(basename $(notdir $(TEST_PRELOAD)))): test-preload-%: tests/preload/%.sh tests/preload/lib.sh $(SA_LIB_SO)
	$(call run-logged,preload/$*,SA_SO=$(abspath $(SA_LIB_SO)) sh $<,$(BUILD)/tests/preload/$*.log)

DEP_FILES += $(TEST_API_BINS:=.d) $(TEST_DEBUG_BINS:=.d)
