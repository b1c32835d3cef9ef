# mk/tsan.mk -- the allocator under ThreadSanitizer.
#
#   make test-tsan   src/ (without the overrides) and tests/tsan/races.c built
#                    with -fsanitize=thread, run; any report fails (exit 66).
#                    Small, aligned, large and huge blocks are freed by threads
#                    other than their owner, while threads exit and start;
#                    then tests/tsan/oom.c: threads run out of memory under
#                    SHARDALLOC_LIMIT and recover (the memory pressure).
#
# Criterion's runner does not start under ThreadSanitizer, so the test is a
# plain program that drives the sa_* API from several threads.

TSAN_BIN    := $(BUILD)/tests/tsan/races
TSAN_CFLAGS := -O1 -g -fsanitize=thread $(CSTD) $(WARN) $(INCS) -pthread

TEST_TARGETS += test-tsan
.PHONY: test-tsan

$(TSAN_BIN): tests/tsan/races.c $(SA_CORE_SRCS) $(wildcard src/*.h include/*.h)
	$(call say,CC,$@ [tsan])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TSAN_CFLAGS) $(LDFLAGS) -o $@ tests/tsan/races.c $(SA_CORE_SRCS)

TSAN_OOM_BIN := $(BUILD)/tests/tsan/oom

$(TSAN_OOM_BIN): tests/tsan/oom.c $(SA_CORE_SRCS) $(wildcard src/*.h include/*.h)
	$(call say,CC,$@ [tsan])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TSAN_CFLAGS) $(LDFLAGS) -o $@ tests/tsan/oom.c $(SA_CORE_SRCS)

test-tsan: $(TSAN_BIN) $(TSAN_OOM_BIN)
	$(call run-logged,tsan/races,TSAN_OPTIONS="halt_on_error=1 exitcode=66" $<,$<.log)
	$(call run-logged,tsan/oom,TSAN_OPTIONS="halt_on_error=1 exitcode=66" SHARDALLOC_LIMIT=48M $(TSAN_OOM_BIN),$(TSAN_OOM_BIN).log)
