# mk/bench.mk -- the benchmark suite (bench/, issue 5).
#
#   make bench        every workload against glibc, mimalloc, jemalloc, tcmalloc
#                     and shardalloc, interleaved, 5 runs each (20-30 minutes);
#                     writes build/bench/results/<time>.tsv and the report,
#                     build/bench/report/benchmarks.md with its plots
#                     benchmarks-{time,rss,latency}.svg; with BENCH_PUBLISH=1
#                     also copies the report to docs/ (make bench-publish)
#   make bench-publish  copy the report the last `make bench` wrote to docs/
#                     (benchmarks.md and its plots): docs/ changes only when asked
#   make bench-quick  every workload once at reduced scale (a few minutes), table on stdout
#   make bench-build  only build the workloads, the probe library and
#                     libshardalloc-count-off.so (the fast-path counters
#                     compiled out: BENCH_ARGS=--count-off adds it as a column)
#   make bench-order  the python workload once per allocator with liborder.so
#                     in front (bench/order.c): how often malloc hands out the
#                     block next to the previous one of the same size, a
#                     measure of locality that machine load does not move
#   make test-bench-report  the report's figures and target verdicts, computed
#                     from made-up rows with known answers (tests/bench/report_test.py);
#                     run by `make test`, where it runs no benchmark
#
# The benchmarks are not part of `make test`. bench/run.py installs the peer allocators and tools
# with apt when they are missing. BENCH_ARGS passes options to it, e.g.
# BENCH_ARGS='--only large,latency --runs 5'.

BENCH_DIR       := $(BUILD)/bench
BENCH_WORKLOADS := bignum prodcons server churn falseshare large growth buffers latency \
                   liveset xserver tchurn leakgrow fastpath relay
# C++ workloads, bench/<name>.cpp: operator new and delete (bench.h's C part
# from common.o, compiled as C).
BENCH_CXX_WORKLOADS := newdelete
BENCH_BINS      := $(addprefix $(BENCH_DIR)/,$(BENCH_WORKLOADS) $(BENCH_CXX_WORKLOADS))
BENCH_PROBE     := $(BENCH_DIR)/libsaprobe.so
BENCH_ORDER     := $(BENCH_DIR)/liborder.so
BENCH_REUSE     := $(BENCH_DIR)/libsareuse.so
BENCH_CFLAGS    := -O2 -g $(CSTD) $(WARN) -pthread $(INCS)
BENCH_CXXFLAGS  := -O2 -g -std=c++17 -Wall -Wextra -Wshadow $(filter -Werror,$(WARN)) -pthread $(INCS)
BENCH_ARGS      ?=
BENCH_PUBLISH   ?=
BENCH_RESULTS   := $(BENCH_DIR)/results
BENCH_REPORT    := $(BENCH_DIR)/report
BENCH_RUN       := /usr/bin/python3 bench/run.py --build $(BENCH_DIR) --lib $(SA_LIB_SO) \
                   --results $(BENCH_RESULTS) --docs $(BENCH_REPORT)

.PHONY: bench bench-quick bench-build bench-publish bench-order test-bench-report

TEST_TARGETS += test-bench-report
test-bench-report:
	$(call run-logged,bench/report,python3 tests/bench/report_test.py,$(BENCH_DIR)/report-test.log)

BENCH_COUNT_OFF := $(BENCH_DIR)/libshardalloc-count-off.so

bench-build: $(BENCH_BINS) $(BENCH_PROBE) $(BENCH_ORDER) $(BENCH_REUSE) $(BENCH_COUNT_OFF)

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/%: bench/%.c bench/common.c bench/bench.h src/config.h | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $< bench/common.c -ldl

$(BENCH_DIR)/common.o: bench/common.c bench/bench.h | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -c -o $@ $<

$(addprefix $(BENCH_DIR)/,$(BENCH_CXX_WORKLOADS)): $(BENCH_DIR)/%: bench/%.cpp bench/bench.h \
                                                   $(BENCH_DIR)/common.o
	$(call say,CXX,$@)
	$(Q)$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_DIR)/common.o -ldl

$(BENCH_PROBE): bench/probe.c | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC -Wl,-z,now $(LDFLAGS) -o $@ $< -ldl

$(BENCH_REUSE): bench/reuse.c | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC $(LDFLAGS) -o $@ $< -ldl

$(BENCH_ORDER): bench/order.c | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC $(LDFLAGS) -o $@ $< -ldl

# The same sources and flags as libshardalloc.so, one compiler call, with
# SA_FAST_PATH_STATS=0 (src/config.h).
$(BENCH_COUNT_OFF): $(SA_LIB_SRCS) $(wildcard src/*.h include/*.h) | $(BENCH_DIR)
	$(call say,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(SA_LIB_CFLAGS)) $(SA_OVERRIDE_CFLAGS) -DSA_FAST_PATH_STATS=0 $(SA_SO_LDFLAGS) \
	    $(LDFLAGS) -o $@ $(SA_LIB_SRCS)

bench: lib bench-build $(BUILD)/verify
	$(call say,BENCH,every workload x every allocator -> $(BENCH_REPORT)/benchmarks.md)
	$(Q)$(BENCH_RUN) $(BENCH_ARGS)
	$(Q)$(if $(filter 1,$(BENCH_PUBLISH)),$(MAKE) --no-print-directory bench-publish,:)

# Each allocator's line, then shardalloc's; a run whose probe printed nothing fails.
BENCH_ORDER_LIBS := glibc= mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 \
                    jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
                    tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \
                    shardalloc=$(SA_LIB_SO)
bench-order: lib $(BENCH_ORDER)
	$(call say,BENCH,allocation order of python3 bench/py_workload.py 1)
	$(Q)for a in $(BENCH_ORDER_LIBS); do \
	    line=$$(LD_PRELOAD="$(BENCH_ORDER) $${a#*=}" PYTHONMALLOC=malloc \
	            /usr/bin/python3 bench/py_workload.py 1 2>&1 >/dev/null | grep '^order:') \
	        || { echo "bench-order: $${a%%=*}: no order line" >&2; exit 1; }; \
	    printf '%-11s %s\n' "$${a%%=*}" "$$line"; done

bench-quick: lib bench-build $(BUILD)/verify
	$(call say,BENCH,quick subset)
	$(Q)$(BENCH_RUN) --quick $(BENCH_ARGS)

# The report with every plot it links, or nothing: a partial run (--only,
# --quick) prints its tables and writes no report, so what is copied is the
# last full run's.
bench-publish:
	$(Q)test -f $(BENCH_REPORT)/benchmarks.md || { \
	    echo "bench-publish: no $(BENCH_REPORT)/benchmarks.md: run make bench first" >&2; exit 1; }
	$(call say,PUBLISH,$(BENCH_REPORT) -> docs/)
	$(Q)plots=$$(grep -o 'benchmarks-[a-z]*\.svg' $(BENCH_REPORT)/benchmarks.md | sort -u); \
	    for f in $$plots; do test -f $(BENCH_REPORT)/$$f || { \
	        echo "bench-publish: $$f, linked by the report, is missing" >&2; exit 1; }; done; \
	    cp $(BENCH_REPORT)/benchmarks.md $$(for f in $$plots; do echo $(BENCH_REPORT)/$$f; done) docs/
