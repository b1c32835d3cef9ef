# mk/verify.mk -- `make verify`: build the Z3 proof driver and discharge every
# obligation of spec/ (docs/verification.md); `make test-proofs`: Criterion
# tests of the driver itself (tests/proofs/), run by `make test`.
#
# The driver's checking code (all of proofs/ but the main in verify.c) is a
# static library, so the tests link the very code `verify` runs.

PROOFS_LIB_SRCS := $(filter-out proofs/verify.c,$(wildcard proofs/*.c))
PROOFS_LIB_OBJS := $(PROOFS_LIB_SRCS:proofs/%.c=$(BUILD)/proofs/%.o)
PROOFS_HDRS     := $(wildcard proofs/*.h) src/config.h src/size_class.h src/layout.h
PROOFS_LIB      := $(BUILD)/libsaproofs.a
SPEC_FILES      := $(wildcard spec/*.smt2)
VERIFY_FLAGS    ?=

$(BUILD)/proofs:
	$(Q)mkdir -p $@

$(BUILD)/proofs/%.o: proofs/%.c $(PROOFS_HDRS) | $(BUILD)/proofs
	$(call say,CC,$<)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -c $< -o $@

$(PROOFS_LIB): $(PROOFS_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/verify: $(BUILD)/proofs/verify.o $(PROOFS_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) $^ -o $@ -lz3

verify: $(BUILD)/verify $(SPEC_FILES)
	$(call say,VERIFY,spec/*.smt2)
	$(Q)$(BUILD)/verify --spec spec $(VERIFY_FLAGS)

# ---- tests of the driver itself -------------------------------------------------

PROOFS_TEST_SRCS := $(wildcard tests/proofs/*.c)
PROOFS_TEST_BIN  := $(BUILD)/tests/proofs/driver_test

$(PROOFS_TEST_BIN): $(PROOFS_TEST_SRCS) $(PROOFS_LIB) $(PROOFS_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -Iproofs $(PROOFS_TEST_SRCS) $(PROOFS_LIB) -o $@ -lcriterion -lz3

.PHONY: test-proofs
test-proofs: $(PROOFS_TEST_BIN)
	$(call say,TEST,tests/proofs)
	$(Q)$(PROOFS_TEST_BIN) --jobs 2

TEST_TARGETS += test-proofs
