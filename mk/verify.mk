# mk/verify.mk -- the Z3 proof driver and its obligations (docs/verification.md).
#
#   make verify        build build/verify and discharge every obligation of spec/
#                      (always runs; on success writes build/verify.ok)
#   make verify-stamp  the same, only when build/verify or spec/*.smt2 is newer
#                      than build/verify.ok (what `make test` runs)
#   make test-proofs   tests/proofs: Criterion tests of the driver itself; run
#                      first by `make test`
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
