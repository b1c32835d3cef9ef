# mk/interleave.mk -- every interleaving of the lock-free steps (issue 9,
# section 2): the allocator built with -DSA_MODEL_CHECK (each operation of
# src/atomic_points.h a scheduling point) and -DSA_TRACE, driven by the
# model checker of tests/interleave through small scenarios.
#
#   make interleave        build the model checker and one per planted bug
#   make test-interleave   every scenario explored, each run replayed through
#                          spec/page.smt2; then each planted bug of
#                          tests/interleave/mutants/ (a patch applied to a copy
#                          of src/ under build/interleave/) must be caught, its
#                          failing interleaving printed in its log; run by
#                          `make test`
#   make interleave-long   the same with the longer scenarios too (minutes)

IL_DIR      := $(BUILD)/interleave
IL_BIN      := $(IL_DIR)/interleave
# the tracing build's sources: without the overrides (Z3, in C++, would allocate
# through them: its every new a step of the model checker)
IL_SRCS     := $(SA_TRACE_LIB_SRCS)
IL_CFLAGS   := $(OPT) $(WARN) $(CSTD) -pthread -fvisibility=hidden $(INCS) -DSA_TRACE -DSA_MODEL_CHECK -MMD -MP
IL_TCFLAGS  := $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs -Itests/conformance -DSA_TRACE \
               -DSA_MODEL_CHECK -pthread -MMD -MP
IL_LDLIBS   := -lz3 -pthread -Wl,--wrap=_sa_os_now_ms
IL_TEST_OBJS := $(addprefix $(IL_DIR)/obj/,main.o sched.o scenarios.o replay.o)
IL_LIB_OBJS := $(patsubst src/%.c,$(IL_DIR)/obj/src/%.o,$(IL_SRCS))
IL_LIB_A    := $(IL_DIR)/libshardalloc-mc.a
# the planted bugs: tests/interleave/mutants/<name>.patch, and the scenario
# that must catch each
IL_MUTANTS  := $(call mutants,interleave)
IL_TIMEOUT  ?= 120

TEST_ON_VERIFIER += test-interleave
.PHONY: test-interleave interleave interleave-long

interleave: $(IL_BIN) $(foreach m,$(IL_MUTANTS),$(IL_DIR)/mutant-$(m)/interleave)

$(IL_DIR)/obj/src/%.o: src/%.c $(IL_DIR)/obj/src/%.d
	$(call say,CC,$< [model check])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(IL_CFLAGS) -c $< -o $@

$(IL_DIR)/obj/replay.o: tests/conformance/replay.c $(IL_DIR)/obj/replay.d
	$(call say,CC,$< [model check])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(IL_TCFLAGS) -c $< -o $@

$(IL_DIR)/obj/%.o: tests/interleave/%.c $(IL_DIR)/obj/%.d
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(IL_TCFLAGS) -c $< -o $@

$(IL_LIB_A): $(IL_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The checker, and one per planted bug (mk/lib.mk's mutant-lib: the files its
# patch changes rebuilt the same way, the other objects shared).
$(foreach m,$(IL_MUTANTS),$(eval $(call mutant-lib,$(IL_DIR)/mutant-$(m)/libshardalloc-mc.a,tests/interleave/mutants/$(m).patch,$(IL_LIB_OBJS),$(IL_CFLAGS))))

$(IL_BIN): $(IL_TEST_OBJS) $(IL_LIB_A) $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ $(IL_LDLIBS)

$(IL_DIR)/mutant-%/interleave: $(IL_TEST_OBJS) $(IL_DIR)/mutant-%/libshardalloc-mc.a $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ $(IL_LDLIBS)

# The mutant's first line names the scenario that must catch it:
#   # interleave: <scenario>
test-interleave: $(IL_BIN) $(foreach m,$(IL_MUTANTS),$(IL_DIR)/mutant-$(m)/interleave)
	$(Q)if timeout $(IL_TIMEOUT) $(IL_BIN) --spec spec >$(IL_BIN).log 2>&1; then \
	    printf '  %-9s %s\n' TEST "interleave: every scenario, every interleaving"; \
	    sed 's/^/          /' $(IL_BIN).log; \
	else \
	    cat $(IL_BIN).log; printf '  %-9s %s\n' FAIL "interleave (log: $(IL_BIN).log)"; exit 1; fi
	$(Q)for m in $(IL_MUTANTS); do \
	    sc=$$(sed -n 's/^# interleave: *//p' tests/interleave/mutants/$$m.patch); \
	    log=$(IL_DIR)/mutant-$$m/interleave.log; \
	    timeout $(IL_TIMEOUT) $(IL_DIR)/mutant-$$m/interleave --spec spec --only "$$sc" >$$log 2>&1; \
	    st=$$?; \
	    if [ $$st -eq 1 ] && grep -q 'FAILED after' $$log && grep -q 'the interleaving' $$log; then \
	        printf '            mutant %s caught by %s %s\n' $$m "$$sc" \
	            "$$(grep -o 'FAILED after.*' $$log | head -n 1 | sed 's/^FAILED //' | cut -c1-110)"; \
	    else \
	        cat $$log; printf '  %-9s %s\n' FAIL "interleave: mutant $$m not caught (status $$st, log: $$log)"; exit 1; fi; \
	done

interleave-long: $(IL_BIN)
	$(call say,EXPLORE,every scenario with the longer variants)
	$(Q)$(IL_BIN) --spec spec --long

DEP_FILES += $(IL_TEST_OBJS:.o=.d) $(IL_LIB_OBJS:.o=.d)
