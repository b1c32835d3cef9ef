# mk/bench.mk -- the benchmark suite (bench/, issue 5).
#
#   make bench        every workload against glibc, mimalloc, jemalloc, tcmalloc
#                     and shardalloc, interleaved, 5 runs each (20-30 minutes);
#                     writes bench/results/<time>.tsv, docs/benchmarks.md and
#                     docs/benchmarks-{time,rss}.svg
#   make bench-quick  every workload once at reduced scale (a few minutes), table on stdout
#   make bench-build  only build the workloads, the probe library and
#                     libshardalloc-count-off.so (the fast-path counters
#                     compiled out: BENCH_ARGS=--count-off adds it as a column)
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

.PHONY: bench bench-quick bench-build

BENCH_COUNT_OFF := $(BENCH_DIR)/libshardalloc-count-off.so

bench-build: $(BENCH_BINS) $(BENCH_PROBE) $(BENCH_COUNT_OFF)

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/%: bench/%.c bench/common.c bench/bench.h src/config.h | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $< bench/common.c -ldl

$(BENCH_PROBE): bench/probe.c | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC -Wl,-z,now $(LDFLAGS) -o $@ $< -ldl

# The same sources and flags as libshardalloc.so, one compiler call, with
# SA_FAST_PATH_STATS=0 (src/config.h).
$(BENCH_COUNT_OFF): $(SA_LIB_SRCS) $(wildcard src/*.h include/*.h) | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(SA_LIB_CFLAGS)) -DSA_FAST_PATH_STATS=0 -shared \
	    -Wl,-Bsymbolic-functions -Wl,-z,now $(LDFLAGS) -o $@ $(SA_LIB_SRCS)

bench: lib bench-build $(BUILD)/verify
	$(call say,BENCH,every workload x every allocator -> docs/benchmarks.md)
	$(Q)/usr/bin/python3 bench/run.py --build $(BENCH_DIR) --lib $(SA_LIB_SO) $(BENCH_ARGS)

bench-quick: lib bench-build $(BUILD)/verify
	$(call say,BENCH,quick subset)
	$(Q)/usr/bin/python3 bench/run.py --quick --build $(BENCH_DIR) --lib $(SA_LIB_SO) $(BENCH_ARGS)
