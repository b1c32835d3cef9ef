# shardalloc -- a malloc with free list sharding, its page state machine proven by Z3.
#
#   make            build build/libshardalloc.a and build/libshardalloc.so
#   make verify     build proofs/verify and discharge every obligation (and refute every mutant)
#   make test       make verify, then every test suite (stops at the first failure)
#   make bench      side-by-side benchmarks against glibc, mimalloc, jemalloc, tcmalloc
#   make stress     issue 10's thread churn at full size, limits asserted (minutes)
#   make install    PREFIX=/usr/local
#   make clean
#
# Each part of the build lives in a fragment of its own under mk/ (lib, verify,
# test, conformance, bench); this file holds only what they share.
# Quiet by default: one line per step; V=1 shows the commands.

CC      ?= cc
BUILD   := build
PREFIX  ?= /usr/local

WARN    := -Wall -Wextra -Werror
CSTD    := -std=gnu11
OPT     ?= -O2 -g
INCS    := -Iinclude -Isrc

ifeq ($(V),1)
Q :=
else
Q := @
endif
# $(call say,VERB,what) prints one aligned line per build step.
say = @printf '  %-9s %s\n' '$(1)' '$(2)'

.PHONY: all lib verify test bench clean install
all: lib

# Fragments append the targets `make test` runs after `verify`, in order.
TEST_TARGETS :=

include $(sort $(wildcard mk/*.mk))

test:
	$(Q)$(MAKE) --no-print-directory verify
	$(Q)$(MAKE) --no-print-directory $(TEST_TARGETS)

clean:
	$(call say,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

$(BUILD):
	$(Q)mkdir -p $@
