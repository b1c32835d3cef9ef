# mk/bench.mk -- the benchmark suite (bench/, issue 5).
#
#   make bench        every workload against glibc, mimalloc, jemalloc, tcmalloc
#                     and shardalloc, interleaved, 5 runs each (20-30 minutes);
#                     writes bench/results/<time>.tsv, docs/benchmarks.md and
#                     docs/benchmarks-{time,rss}.svg
#   make bench-quick  every workload once at reduced scale (a few minutes), table on stdout
#   make bench-build  only build the workloads and the probe library
#
# Not part of `make test`. bench/run.py installs the peer allocators and tools
# with apt when they are missing. BENCH_ARGS passes options to it, e.g.
# BENCH_ARGS='--only large,latency --runs 5'.

BENCH_DIR       := $(BUILD)/bench
BENCH_WORKLOADS := bignum prodcons server churn falseshare large growth latency \
                   liveset xserver tchurn leakgrow fastpath
BENCH_BINS      := $(addprefix $(BENCH_DIR)/,$(BENCH_WORKLOADS))
BENCH_PROBE     := $(BENCH_DIR)/libsaprobe.so
BENCH_CFLAGS    := -O2 -g $(CSTD) $(WARN) -pthread $(INCS)
BENCH_ARGS      ?=
# The library under test; mk/lib.mk names it SA_LIB_SO (read when the recipe
# runs, so the order the fragments are included in does not matter).
BENCH_LIB        = $(or $(SA_LIB_SO),$(BUILD)/libshardalloc.so)

.PHONY: bench bench-quick bench-build

bench-build: $(BENCH_BINS) $(BENCH_PROBE)

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/%: bench/%.c bench/common.c bench/bench.h src/config.h | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $< bench/common.c -ldl

$(BENCH_PROBE): bench/probe.c | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC -Wl,-z,now -o $@ $< -ldl

bench: lib bench-build $(BUILD)/verify
	$(call say,BENCH,every workload x every allocator -> docs/benchmarks.md)
	$(Q)/usr/bin/python3 bench/run.py --build $(BENCH_DIR) --lib $(BENCH_LIB) $(BENCH_ARGS)

bench-quick: lib bench-build $(BUILD)/verify
	$(call say,BENCH,quick subset)
	$(Q)/usr/bin/python3 bench/run.py --quick --build $(BENCH_DIR) --lib $(BENCH_LIB) $(BENCH_ARGS)
