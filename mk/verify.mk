# mk/verify.mk -- the Z3 proof driver and its obligations (docs/verification.md).
#
#   make verify        build build/verify and discharge every obligation of spec/
#                      (always runs; on success writes build/verify.ok)
#   make verify-stamp  the same, only when build/verify or spec/*.smt2 is newer
#                      than build/verify.ok (what `make test` runs)
#   make test-proofs   tests/proofs: Criterion tests of the driver itself; run
#                      first by `make test`
#   make test-proofs-mutants  each planted bug of tests/proofs/mutants/ (a
#                      patch to the src/ headers build/verify runs) must fail
#                      the obligation its first line names; run by `make test`
#
# The driver's checking code (all of proofs/ but the main in verify.c) is a
# static library, so the tests link the very code `verify` runs.

PROOFS_LIB_SRCS := $(filter-out proofs/verify.c,$(wildcard proofs/*.c))
PROOFS_LIB_OBJS := $(PROOFS_LIB_SRCS:proofs/%.c=$(BUILD)/proofs/%.o)
PROOFS_LIB      := $(BUILD)/libsaproofs.a
SPEC_FILES      := $(wildcard spec/*.smt2)
VERIFY_FLAGS    ?=

$(BUILD)/proofs:
	$(Q)mkdir -p $@

$(BUILD)/proofs/%.o: proofs/%.c $(BUILD)/proofs/%.d | $(BUILD)/proofs
	$(call say,CC,$<)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -MMD -MP -c $< -o $@

$(PROOFS_LIB): $(PROOFS_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/verify: $(BUILD)/proofs/verify.o $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $(LDFLAGS) $^ -o $@ -lz3

# The stamp: what the last successful run had proven, by date. build/verify
# carries src/config.h and proofs/ (its prerequisites); spec/ is read at run time.
VERIFY_STAMP    := $(BUILD)/verify.ok
define verify-run
	$(call say,VERIFY,spec/*.smt2)
	$(Q)rm -f $(VERIFY_STAMP)
	$(Q)$(BUILD)/verify --spec spec $(VERIFY_FLAGS)
	$(Q)$(if $(VERIFY_FLAGS),: a partial run proves less,touch $(VERIFY_STAMP))
endef

.PHONY: verify-stamp
verify: $(BUILD)/verify $(SPEC_FILES)
	$(verify-run)
verify-stamp: $(VERIFY_STAMP)
$(VERIFY_STAMP): $(BUILD)/verify $(SPEC_FILES)
	$(verify-run)

# ---- tests of the driver itself -------------------------------------------------

PROOFS_TEST_BIN  := $(BUILD)/tests/proofs/driver_test

$(PROOFS_TEST_BIN): tests/proofs/driver_test.c $(PROOFS_TEST_BIN).d $(PROOFS_LIB)
	$(Q)mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs -MMD -MP -MF $@.d $(LDFLAGS) $< $(PROOFS_LIB) \
	    -o $@ -lcriterion -lz3

.PHONY: test-proofs
test-proofs: $(PROOFS_TEST_BIN)
	$(call run-logged,proofs,$(PROOFS_TEST_BIN) --jobs 2 --color=never -S,$(PROOFS_TEST_BIN).log,grep -o 'Tested:.*[0-9]')
	$(call criterion-all-ran,$(PROOFS_TEST_BIN),$(PROOFS_TEST_BIN).log)

TEST_FIRST += test-proofs

DEP_FILES += $(PROOFS_LIB_OBJS:.o=.d) $(BUILD)/proofs/verify.d $(PROOFS_TEST_BIN).d

# ---- planted bugs in the C the proofs run -------------------------------------------
#
# The *_agrees obligations run the C of src/'s headers (size classes, layout,
# the unit table, thread_free's word) and compare it with the model; their
# own mutants change the model. These change the C: tests/proofs/mutants/
# <name>.patch, applied exactly to a copy of src/ (headers allowed: the
# driver compiles them), whose first line "# proofs: <obligation>" names
# the obligation that must then fail. build/verify is built again against
# the copy, and `--only` that obligation must end with it failed (a crash
# or a build error is not a catch).
PROOFS_MUTANTS    := $(call mutants,proofs)
PROOFS_MUTANT_DIR := $(BUILD)/proofs/mutants

define proofs-mutant
$(PROOFS_MUTANT_DIR)/$(1)/verify: tests/proofs/mutants/$(1).patch $(PROOFS_LIB_SRCS) proofs/verify.c \
                                  $(wildcard proofs/*.h src/*.h)
	$$(call say,MUTANT,proofs/$(1))
	$$(Q)rm -rf $$(@D) && mkdir -p $$(@D)/src $$(@D)/obj && cp src/*.c src/*.h $$(@D)/src/
	$$(Q)patch -s -F0 -p1 -d $$(@D) < $$< || { echo "$$<: no longer applies to src/ (a broken mutant)"; exit 1; }
	$$(Q)sed -n '1s/^# proofs: *\([a-z_]*\)$$$$/\1/p' $$< | grep -q . || { echo "$$<: no '# proofs: <obligation>' first line"; exit 1; }
	$$(Q)for f in $(PROOFS_LIB_SRCS) proofs/verify.c; do \
	    $$(CC) $$(CSTD) $$(OPT) -w -I$$(@D)/src $$(INCS) -c $$$$f -o $$(@D)/obj/$$$$(basename $$$$f .c).o || exit 1; done
	$$(Q)$$(CC) $$(OPT) $$(LDFLAGS) $$(@D)/obj/*.o -o $$@ -lz3
endef
$(foreach m,$(PROOFS_MUTANTS),$(eval $(call proofs-mutant,$(m))))

.PHONY: test-proofs-mutants
TEST_TARGETS += test-proofs-mutants
test-proofs-mutants: $(foreach m,$(PROOFS_MUTANTS),$(PROOFS_MUTANT_DIR)/$(m)/verify)
	$(Q)[ -n "$(PROOFS_MUTANTS)" ] || { printf '  %-9s %s\n' FAIL "proofs: no planted bug in tests/proofs/mutants"; exit 1; }
	$(Q)for m in $(PROOFS_MUTANTS); do log=$(PROOFS_MUTANT_DIR)/$$m/verify.log; \
	    ob=$$(sed -n '1s/^# proofs: *//p' tests/proofs/mutants/$$m.patch); \
	    if $(PROOFS_MUTANT_DIR)/$$m/verify --spec spec --only $$ob >$$log 2>&1; then \
	        printf '  %-9s %s\n' FAIL "proofs: mutant $$m not caught by $$ob (log: $$log)"; exit 1; fi; \
	    if ! grep -q '^1 obligation, 1 failed' $$log; then \
	        cat $$log; printf '  %-9s %s\n' FAIL "proofs: mutant $$m: $$ob did not fail as an obligation (log: $$log)"; exit 1; fi; \
	    printf '            mutant %-32s caught by %s\n' $$m $$ob; \
	done
	$(Q)printf '  %-9s %s\n' TEST "proofs/mutants: $(words $(PROOFS_MUTANTS)) planted bugs in src/'s headers, each failed its *_agrees obligation"
