# shardalloc -- a malloc with free list sharding, its page state machine proven by Z3.
#
#   make all        what plain `make` does: the libraries in build/ (mk/lib.mk)
#   make verify     build proofs/verify and discharge every obligation (and refute
#                   every mutant); always runs, and records it in build/verify.ok
#   make test       deps; the verifier's own tests; then verify, if spec/ or the
#                   driver changed since build/verify.ok, the libraries and every
#                   test suite (in the order below). Two jobs at a time
#                   (TEST_PARALLEL); stops at the first failure
#   make test-suites  what `make test` runs after deps, in this make: no -j,
#                   no -Werror unless WERROR=1
#   make help       this list: every target of Makefile and mk/*.mk
#   make clean      remove build/
#
# Each part of the build lives in a fragment of its own under mk/; this file
# holds only what they share. Quiet by default: one line per step; V=1 shows
# the commands. CFLAGS (default -O2 -g) and LDFLAGS are honoured; warnings are
# errors (WERROR=1) in `make test` and in CI, not when building the library.

CC       ?= cc
CXX      ?= c++
BUILD    := build

CFLAGS   ?= -O2 -g
CXXFLAGS ?= $(CFLAGS)
LDFLAGS  ?=
WERROR   ?= $(if $(CI),1)
# Every C source of src/, proofs/, tests/ and bench/ (C++ has its own in mk/lib.mk).
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wundef -Wvla \
            $(if $(filter 1,$(WERROR)),-Werror)
CSTD     := -std=gnu11
OPT      ?= $(CFLAGS)
INCS     := -Iinclude -Isrc

ifeq ($(V),1)
Q :=
else
Q := @
endif
# $(call say,VERB,what) prints one aligned line per build step.
say = @printf '  %-9s %s\n' '$(1)' '$(2)'
# $(call run-logged,label,command,log[,summary]): run a test with its output in
# log. On success one line, "TEST label: <summary> [wall s, CPU s]", the summary
# being the log's last line unless a command reading the log is given; on
# failure, the whole log. The CPU seconds keep `make test`'s budget in sight
# whatever else the machine is doing. (command may start with VAR=value: env.)
define run-logged
	$(Q)mkdir -p $(dir $(3))
	$(Q)if /usr/bin/time -f '%e s, CPU %U+%S s' -o $(3).time env $(2) >$(3) 2>&1; then \
	    printf '  %-9s %s [%s]\n' TEST "$(1): $$($(or $(4),tail -n 1) $(3))" "$$(tail -n 1 $(3).time)"; \
	else \
	    cat $(3); printf '  %-9s %s\n' FAIL "$(1) (log: $(3))"; exit 1; fi
endef

# $(call criterion-all-ran,binary,log): a recipe line that fails unless the
# Criterion suite ran every test it lists (Criterion leaves skipped and
# disabled tests out of "Tested:" and still exits 0): a skipped test fails.
define criterion-all-ran
	$(Q)listed=$$($(1) --list 2>/dev/null | sed -n 's/^.*: \([0-9][0-9]*\) tests*$$/\1/p' \
	        | awk '{ s += $$1 } END { print s + 0 }'); \
	    ran=$$(grep -ao 'Tested: [0-9]*' $(2) | tail -n 1 | grep -o '[0-9][0-9]*'); \
	    [ "$$listed" = "$$ran" ] || { printf '  %-9s %s\n' FAIL \
	        "$(1): $$listed tests, $$ran ran: a skipped test is a failure (log: $(2))"; exit 1; }
endef

.PHONY: all lib verify test test-suites help clean
all: lib

# What `make test` runs, in this order (each fragment appends its own):
#   TEST_FIRST        the verifier's own tests (tests/proofs, mk/verify.mk);
#   TEST_ON_VERIFIER  the suites that link the verifier's library and ask Z3
#                     through it (conformance, refine, interleave, bounds): they
#                     start once TEST_FIRST has passed, so a broken driver is
#                     reported as itself, not as a model the code disagrees with;
#   TEST_TARGETS      every other suite: they start at once.
# The proofs (mk/verify.mk's stamp) also wait for TEST_FIRST. Each list puts its
# longest first: with two jobs, the long ones start first and the short ones
# fill in beside them.
TEST_FIRST       :=
TEST_ON_VERIFIER :=
TEST_TARGETS     :=
TEST_PARALLEL    ?= 2

# The dependency files (-MMD -MP) of objects whose rules name their .d as a
# prerequisite: a missing one makes its object out of date, so an object built
# before its rule had -MMD is rebuilt once rather than trusted without its headers.
DEP_FILES :=

# mk/lib.mk and mk/verify.mk first: the others build on their variables (the
# libraries, the version, the verifier's library); the rest in any order.
MK_FIRST := mk/lib.mk mk/verify.mk
include $(MK_FIRST) $(filter-out $(MK_FIRST),$(sort $(wildcard mk/*.mk)))

$(DEP_FILES): ;
include $(wildcard $(DEP_FILES))

# --output-sync: each suite's lines come out together, whichever finishes first.
test:
	$(Q)mkdir -p $(BUILD) && /usr/bin/time -f '%e %U %S' -o $(BUILD)/test.time \
	    $(MAKE) --no-print-directory -j$(TEST_PARALLEL) --output-sync=target \
	    WERROR=1 test-suites
	$(Q)awk '{ printf "  %-9s make test: %.0f s wall, CPU %.0f s (%.0f user + %.0f system)\n", \
	                  "TOTAL", $$1, $$2 + $$3, $$2, $$3 }' $(BUILD)/test.time

test-suites: $(TEST_FIRST) $(VERIFY_STAMP) $(TEST_ON_VERIFIER) lib $(TEST_TARGETS)
# The order only when the suites run together: `make verify` or `make refine`
# alone does not run the driver's tests first.
ifneq ($(filter test-suites,$(MAKECMDGOALS)),)
$(VERIFY_STAMP) $(TEST_ON_VERIFIER): | $(TEST_FIRST)
endif

# Every line of the form "#   make TARGET  what" in Makefile and mk/*.mk, with
# the lines that continue it: the comments are the list, so it cannot drift
# (tests/help/check.sh checks that every target is in it).
help:
	@awk 'FNR == 1 { on = 0; shown = 0 } \
	      /^#   make / { on = 1; if (!shown++) printf "\n%s:\n", FILENAME; sub(/^# /, ""); print; next } \
	      on && /^#      / { sub(/^# /, ""); print; next } { on = 0 }' Makefile $(sort $(wildcard mk/*.mk))

clean:
	$(call say,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

$(BUILD):
	$(Q)mkdir -p $@
