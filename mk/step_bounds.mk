# mk/step_bounds.mk -- the step bounds reached by the code (tests/bounds).
#
#   make test-bounds   the adversaries of tests/bounds/adversaries.c on the
#                      tracing build: every term of B_MALLOC, every loop
#                      limit of spec/bounds.smt2 and B_FREE_LOCAL_PRESSURE is
#                      never exceeded and is reached to at least half; then
#                      each mutant of tests/bounds/mutants/ (a patch removing
#                      a loop limit from src/, or adding work) must make it
#                      fail; run by `make test`
#
# Uses the tracing library (mk/lib.mk), the proof driver's library
# (mk/verify.mk) and the conformance objects (mk/conformance.mk, for
# rp_spec_bound, which evaluates a bound of the spec with Z3).

BOUNDS_DIR   := $(BUILD)/bounds
BOUNDS_RUN   := $(BOUNDS_DIR)/bounds
BOUNDS_OBJS  := $(addprefix $(BOUNDS_DIR)/obj/,bounds.o adversaries.o)
BOUNDS_CFLAGS := $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs -Itests/conformance -DSA_TRACE -pthread -MMD -MP

TEST_ON_VERIFIER += test-bounds

.PHONY: test-bounds

$(BOUNDS_DIR)/obj/%.o: tests/bounds/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BOUNDS_CFLAGS) -c $< -o $@

$(BOUNDS_RUN): $(BOUNDS_OBJS) $(CONF_OBJS) $(SA_TRACE_LIB_A) $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ -lz3 -pthread

BOUNDS_MUTANTS := $(call mutants,bounds)
BOUNDS_MUTANT_RUNS := $(foreach m,$(BOUNDS_MUTANTS),$(BOUNDS_DIR)/mutant-$(m)/bounds)

# Each planted bug: the tracing library with it (mk/lib.mk's mutant-lib), and
# the harness linked with that.
$(foreach m,$(BOUNDS_MUTANTS),$(call trace-mutant-lib,$(BOUNDS_DIR)/mutant-$(m),tests/bounds/mutants/$(m).patch))

$(BOUNDS_DIR)/mutant-%/bounds: $(BOUNDS_OBJS) $(CONF_OBJS) $(BOUNDS_DIR)/mutant-%/libshardalloc-trace.a $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) -o $@ $^ -lz3 -pthread

# A mutant's first line names the adversary that must catch it:
#   # bounds: <adversary>
test-bounds: $(BOUNDS_RUN) $(BOUNDS_MUTANT_RUNS)
	$(call say,BOUNDS,adversaries on the tracing build against spec/bounds.smt2)
	$(Q)$(BOUNDS_RUN) --spec spec
	$(Q)for m in $(BOUNDS_MUTANTS); do \
	    adv=$$(sed -n '1s/^# bounds: *//p' tests/bounds/mutants/$$m.patch); \
	    [ -n "$$adv" ] || { printf '  %-9s %s\n' FAIL "bounds: mutant $$m names no adversary (# bounds: <adversary>)"; exit 1; }; \
	    if $(BOUNDS_DIR)/mutant-$$m/bounds --spec spec --only $$adv --timeout 10 >$(BOUNDS_DIR)/mutant-$$m/log 2>&1; then \
	        cat $(BOUNDS_DIR)/mutant-$$m/log; \
	        printf '  %-9s %s\n' FAIL "bounds: mutant $$m (a loop limit removed) passed"; exit 1; \
	    fi; \
	    why=$$(grep -E 'ABOVE|did not finish' $(BOUNDS_DIR)/mutant-$$m/log | head -1 | sed 's/^ *//; s/^FAIL *bounds: //; s/  */ /g'); \
	    if [ -z "$$why" ]; then \
	        cat $(BOUNDS_DIR)/mutant-$$m/log; \
	        printf '  %-9s %s\n' FAIL "bounds: mutant $$m failed, but not by going past a bound"; exit 1; \
	    fi; \
	    printf '            mutant %-22s caught: %s\n' $$m "$$why"; \
	done

-include $(BOUNDS_OBJS:.o=.d)
