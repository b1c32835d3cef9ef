# mk/step_bounds.mk -- the step bounds reached by the code (tests/bounds).
#
#   make test-bounds   the adversaries of tests/bounds/adversaries.c on the
#                      tracing build: every term of B_MALLOC and every loop
#                      limit of spec/bounds.smt2 is never exceeded and is
#                      reached to at least half; then each mutant of
#                      tests/bounds/mutants.txt (a loop limit removed from
#                      src/) must make it fail; run by `make test`
#
# A mutant's library is the tracing library with the one object it changes
# rebuilt from a changed copy (tests/bounds/plant.py, which fails on a mutant
# whose text is no longer in src/: a broken mutant, not a caught one).
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

BOUNDS_MUTANTS := $(shell awk '!/^\#/ && NF { print $$1 }' tests/bounds/mutants.txt)
BOUNDS_MUTANT_RUNS := $(foreach m,$(BOUNDS_MUTANTS),$(BOUNDS_DIR)/mutant-$(m)/bounds)

# $(call bounds-mutant,name): the tracing library with the mutant planted, and
# the harness linked with it.
define bounds-mutant
$(BOUNDS_DIR)/mutant-$(1)/libshardalloc-trace.a: $(SA_TRACE_LIB_A) tests/bounds/mutants.txt tests/bounds/plant.py $(wildcard src/*.c src/*.h)
	$$(call say,PLANT,$(1))
	$$(Q)rm -rf $$(@D)/src && mkdir -p $$(@D)/obj
	$$(Q)f=$$$$(python3 tests/bounds/plant.py tests/bounds/mutants.txt $(1) src $$(@D)/src) && \
	    $$(CC) $$(SA_LIB_CFLAGS) -Wno-error -Wno-unused -DSA_TRACE -Isrc -c $$(@D)/src/$$$$f -o $$(@D)/obj/$$$${f%.c}.o && \
	    cp $(SA_TRACE_LIB_A) $$@.tmp && ar r $$@.tmp $$(@D)/obj/$$$${f%.c}.o 2>/dev/null && mv $$@.tmp $$@

$(BOUNDS_DIR)/mutant-$(1)/bounds: $(BOUNDS_OBJS) $(CONF_OBJS) $(BOUNDS_DIR)/mutant-$(1)/libshardalloc-trace.a $(PROOFS_LIB)
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(OPT) $$(LDFLAGS) -o $$@ $$^ -lz3 -pthread
endef
$(foreach m,$(BOUNDS_MUTANTS),$(eval $(call bounds-mutant,$(m))))

test-bounds: $(BOUNDS_RUN) $(BOUNDS_MUTANT_RUNS)
	$(call say,BOUNDS,adversaries on the tracing build against spec/bounds.smt2)
	$(Q)$(BOUNDS_RUN) --spec spec
	$(Q)for m in $(BOUNDS_MUTANTS); do \
	    adv=$$(awk -v m=$$m '$$1 == m { print $$2 }' tests/bounds/mutants.txt); \
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
