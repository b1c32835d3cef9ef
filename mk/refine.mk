# mk/refine.mk -- exhaustive small-scope refinement (tests/refine/refine.c).
#
#   make refine      every page state spec/page.smt2's inv allows with up to
#                    REFINE_RESERVED blocks (default 4), built as a real page,
#                    every C function that changes a page called on it, each
#                    result asked of Z3 against the spec's transition; then
#                    each planted bug of tests/refine/mutants/ must be caught.
#                    Run by `make test`.
#
# It links the tracing library (whose records walk the real lists: the
# conformance replay's abstraction) and the replay (tests/conformance).
# The planted bugs of tests/refine/mutants/*.patch are applied to a copy of
# src/ each and must make it fail.

REFINE_DIR      := $(BUILD)/refine
REFINE_BIN      := $(REFINE_DIR)/refine
REFINE_RESERVED ?= 4
REFINE_CFLAGS   := $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs -Itests/conformance -DSA_TRACE -pthread \
                   -DRP_SPEC_DIR='"$(abspath spec)"'
REFINE_MUTANTS  := $(call mutants,refine)
REFINE_MUTANT_BINS := $(foreach m,$(REFINE_MUTANTS),$(REFINE_DIR)/mutant-$(m)/refine)

# first among the verifier's users: the longest of them
TEST_ON_VERIFIER := refine $(TEST_ON_VERIFIER)

.PHONY: refine

$(REFINE_DIR)/refine.o: tests/refine/refine.c $(REFINE_DIR)/refine.d
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(REFINE_CFLAGS) -MMD -MP -c $< -o $@

$(REFINE_BIN): $(REFINE_DIR)/refine.o $(CONF_DIR)/obj/replay.o $(SA_TRACE_LIB_A) $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ -lz3 -pthread

# The checker, then each planted bug: its run must fail with a finding (a
# crash or a run that did not get to its summary is not a catch).
refine: $(REFINE_BIN) $(REFINE_MUTANT_BINS)
	$(call run-logged,refine,$(REFINE_BIN) --spec spec --max-reserved $(REFINE_RESERVED),$(REFINE_DIR)/refine.log,sed -n 's/^refine: \(.*pairs checked\)/\1/p')
	$(Q)sed -n -e 's/^refine: \([0-9]* states.*\)/            \1/p' $(REFINE_DIR)/refine.log
	$(Q)for m in $(REFINE_MUTANTS); do log=$(REFINE_DIR)/mutant-$$m/refine.log; \
	    if $(REFINE_DIR)/mutant-$$m/refine --spec spec --max-reserved $(REFINE_RESERVED) >$$log 2>&1; then \
	        printf '  %-9s %s\n' FAIL "refine: mutant $$m not caught (log: $$log)"; exit 1; fi; \
	    if ! grep -q '^refine: .* pairs checked' $$log; then \
	        cat $$log; printf '  %-9s %s\n' FAIL "refine: mutant $$m: the run did not finish (log: $$log)"; exit 1; fi; \
	    printf '            mutant %-30s caught: %s\n' $$m "$$(grep -m1 '^refine: ' $$log | cut -c9- | cut -c1-80)"; \
	done

# Each planted bug: the tracing library with it (mk/lib.mk's mutant-lib), and
# the checker linked with that.
$(foreach m,$(REFINE_MUTANTS),$(call trace-mutant-lib,$(REFINE_DIR)/mutant-$(m),tests/refine/mutants/$(m).patch))

$(REFINE_DIR)/mutant-%/refine: $(REFINE_DIR)/refine.o $(CONF_DIR)/obj/replay.o $(REFINE_DIR)/mutant-%/libshardalloc-trace.a $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ -lz3 -pthread

DEP_FILES += $(REFINE_DIR)/refine.d
