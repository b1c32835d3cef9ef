# mk/faults.mk -- the allocator when the kernel refuses (tests/faults/).
#
#   make test-faults   the workload of tests/faults/sweep.c with its k-th kernel
#                      call (mmap, madvise, mremap) failing, for every k, alone
#                      and with every later call failing too; in `make test`
#
# The library is built again with -DSA_FAULT_INJECT (the hook in src/os.c);
# without it the hook is compiled out, so the real library carries nothing.

FAULTS_DIR    := $(BUILD)/tests/faults
FAULTS_BIN    := $(FAULTS_DIR)/sweep
FAULTS_LIB_A  := $(BUILD)/faults/libshardalloc-faults.a
# the core sources (mk/lib.mk's list is not defined yet where this file is read)
FAULTS_SRCS   := $(filter-out src/override.c src/trace.c,$(sort $(wildcard src/*.c)))
FAULTS_OBJS   := $(patsubst src/%.c,$(BUILD)/obj/faults/%.o,$(FAULTS_SRCS))
FAULTS_CFLAGS := $(OPT) $(WARN) $(CSTD) -pthread $(INCS) -DSA_FAULT_INJECT -MMD -MP

TEST_TARGETS += test-faults
.PHONY: test-faults

$(BUILD)/obj/faults/%.o: src/%.c
	$(call say,CC,$< [faults])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FAULTS_CFLAGS) -c $< -o $@

$(FAULTS_LIB_A): $(FAULTS_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FAULTS_BIN): tests/faults/sweep.c $(FAULTS_LIB_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -pthread -o $@ $< $(FAULTS_LIB_A)

test-faults: $(FAULTS_BIN)
	$(Q)if timeout 600 $< >$<.log 2>&1; then \
	    printf '  %-9s %s\n' TEST "faults/sweep: $$(tail -n 1 $<.log | sed 's/^faults: //')"; \
	else \
	    tail -n 40 $<.log; printf '  %-9s %s\n' FAIL "faults/sweep (log: $<.log)"; exit 1; fi

-include $(FAULTS_OBJS:.o=.d)
