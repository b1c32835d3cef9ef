# mk/stress.mk -- `make stress`: issue 10's thread churn at full size (minutes,
# not part of `make test`; tests/api/churn_stress.c has the small version).
#
#   make stress       tests/stress/churn.c under LD_PRELOAD=libshardalloc.so:
#                     500 rounds of 100 threads, then 50 rounds of 500 threads;
#                     the resident set and the mapped size are checked after
#                     every report (every 50 / 10 rounds) against the limits
#                     below, every block's contents before it is freed
#   make churn-curve  the 100-thread churn under shardalloc, glibc, mimalloc,
#                     jemalloc and tcmalloc in one run: the table of
#                     docs/design.md ("How abandoned memory is bounded")
#
# The limits: live data is two rounds' survivors (each thread keeps 32 blocks
# up to 2 KiB and maybe one up to 100 KiB: about 8 MiB for 100 threads, 40
# MiB for 500). The resident limit is four times glibc's peak on this pattern
# (30 MiB at 100 threads, 190 MiB at 500); the mapped limit lets every thread
# of two rounds keep a segment of each of the three page kinds (3 x 4 MiB),
# plus the thread stacks glibc caches. An allocator that never reclaims
# abandoned segments passes both limits within the first 50 rounds.

STRESS_DIR     := $(BUILD)/stress
STRESS_CHURN   := $(STRESS_DIR)/churn
STRESS_CFLAGS  := $(CSTD) $(WARN) $(OPT) -pthread

.PHONY: stress churn-curve

$(STRESS_CHURN): tests/stress/churn.c
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(STRESS_CFLAGS) $(LDFLAGS) -o $@ $<

# $(call stress-run,rounds,threads,every,max rss MiB,max mapped MiB)
define stress-run
	$(call say,STRESS,churn $(1) rounds x $(2) threads (rss <= $(4) MiB, mapped <= $(5) MiB))
	$(Q)LD_PRELOAD=$(abspath $(SA_LIB_SO)) timeout 600 $(STRESS_CHURN) $(1) $(2) $(3) $(4) $(5)
endef

stress: lib $(STRESS_CHURN)
	$(call stress-run,500,100,50,128,2400)
	$(call stress-run,50,500,10,768,12000)

churn-curve: lib $(STRESS_CHURN)
	$(call say,CURVE,churn under shardalloc and its four peers)
	$(Q)/usr/bin/python3 tests/stress/churn_curve.py $(STRESS_CHURN) $(abspath $(SA_LIB_SO))
