# mk/conformance.mk -- the model and the code agree (issue 4): the tracing
# build and the replay of its page transitions through spec/page.smt2.
#
#   make trace               the tracing library (-DSA_TRACE, mk/lib.mk's trace-lib),
#                            the replay runner and one library + runner per planted bug
#   make test-conformance    tests/conformance: the workloads replayed (no step the
#                            model disallows, every spec transition seen, step maxima
#                            within the proven bounds) and every planted bug caught;
#                            run by `make test`
#   make conformance-long    the workloads at CONFORMANCE_LONG_SCALE (default 60:
#                            about 1.2 million replayed steps, an hour or more)
#
# The planted bugs are patches, tests/conformance/mutants/<name>.patch, applied
# to a copy of src/ under build/conformance/mutant-<name>/ (src/ itself has none).

CONF_DIR      := $(BUILD)/conformance

CONF_MUTANTS  := $(call mutants,conformance)
CONF_CFLAGS   := $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs -DSA_TRACE -pthread -MMD -MP
CONF_LDLIBS   := -lz3 -pthread
CONF_OBJS     := $(addprefix $(CONF_DIR)/obj/,replay.o check.o workloads.o)
CONF_RUN      := $(CONF_DIR)/conformance-run
CONF_SUITE    := $(CONF_DIR)/conformance
CONF_MUTANT_RUNS := $(foreach m,$(CONF_MUTANTS),$(CONF_DIR)/mutant-$(m)/conformance-run)
CONF_TIMEOUT  ?= 170
CONFORMANCE_LONG_SCALE ?= 60

TEST_ON_VERIFIER += test-conformance

.PHONY: trace test-conformance conformance-long

trace: $(SA_TRACE_LIB_A) $(CONF_RUN) $(CONF_MUTANT_RUNS)

$(CONF_DIR)/obj/%.o: tests/conformance/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CONF_CFLAGS) -DRP_CONFORMANCE_DIR='"$(abspath $(CONF_DIR))"' \
	    -DRP_SPEC_DIR='"$(abspath spec)"' -c $< -o $@

$(CONF_RUN): $(CONF_DIR)/obj/runner.o $(CONF_OBJS) $(SA_TRACE_LIB_A) $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ $(CONF_LDLIBS)

$(CONF_SUITE): $(CONF_DIR)/obj/conformance.o $(CONF_OBJS) $(SA_TRACE_LIB_A) $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ -lcriterion $(CONF_LDLIBS)

# Each planted bug: the tracing library with it (mk/lib.mk's mutant-lib: only
# the files its patch changes rebuilt), and the runner linked with that.
$(foreach m,$(CONF_MUTANTS),$(call trace-mutant-lib,$(CONF_DIR)/mutant-$(m),tests/conformance/mutants/$(m).patch))

$(CONF_DIR)/mutant-%/conformance-run: $(CONF_DIR)/obj/runner.o $(CONF_OBJS) $(CONF_DIR)/mutant-%/libshardalloc-trace.a $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ $(CONF_LDLIBS)

test-conformance: $(CONF_SUITE) $(CONF_MUTANT_RUNS)
	$(Q)if $(CONF_SUITE) --jobs=2 --timeout=$(CONF_TIMEOUT) --color=never --verbose \
	        >$(CONF_SUITE).log 2>&1; then \
	    printf '  %-9s %s\n' TEST "conformance: $$(grep -ao 'Tested:.*' $(CONF_SUITE).log)"; \
	    grep -aE '^\[----\] ([a-z_]*: (steps of|replayed)|mutant [a-z_]* caught)' $(CONF_SUITE).log \
	        | sed -e 's/^\[----\] /            /' -e 's/\(caught on [a-z_]*\):.*/\1/' || true; \
	else \
	    cat $(CONF_SUITE).log; printf '  %-9s %s\n' FAIL "conformance (log: $(CONF_SUITE).log)"; exit 1; fi
	$(call criterion-all-ran,$(CONF_SUITE),$(CONF_SUITE).log)

conformance-long: $(CONF_RUN)
	$(call say,REPLAY,workloads at scale $(CONFORMANCE_LONG_SCALE))
	$(Q)$(CONF_RUN) --spec spec --scale $(CONFORMANCE_LONG_SCALE)

-include $(CONF_OBJS:.o=.d) $(CONF_DIR)/obj/runner.d $(CONF_DIR)/obj/conformance.d
