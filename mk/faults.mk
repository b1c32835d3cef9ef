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
FAULTS_OBJS   := $(patsubst src/%.c,$(BUILD)/obj/faults/%.o,$(SA_CORE_SRCS))
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

$(FAULTS_BIN): tests/faults/sweep.c $(FAULTS_BIN).d $(FAULTS_LIB_A)
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -pthread -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(FAULTS_LIB_A)

test-faults: $(FAULTS_BIN)
	$(call run-logged,faults/sweep,timeout 900 $<,$<.log,sed -n 's/^faults: //p')

-include $(FAULTS_OBJS:.o=.d)
DEP_FILES += $(FAULTS_BIN).d
