# mk/oom_fit.mk -- issue 10's out-of-memory pattern measured against the peers
# (not part of `make test`: tests/api/oom_threads.c is the test).
#
#   make oom-fit      tests/stress/oom_fit.c under shardalloc, glibc, mimalloc,
#                     jemalloc and tcmalloc at 48, 96 and 256 MiB of address
#                     space: the live data that fit and the thread-cycles that
#                     failed after everything was freed; the table of
#                     docs/design.md ("Out of memory")

OOM_FIT     := $(BUILD)/stress/oom_fit
OOM_FIT_LIB  = $(or $(SA_LIB_SO),$(BUILD)/libshardalloc.so)

.PHONY: oom-fit

$(OOM_FIT): tests/stress/oom_fit.c tests/api/sa_vm_size.h include/shardalloc.h
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(INCS) -pthread -o $@ $< -ldl

oom-fit: lib $(OOM_FIT)
	$(call say,FIT,out of memory under shardalloc and its four peers)
	$(Q)/usr/bin/python3 tests/stress/oom_fit.py $(OOM_FIT) $(abspath $(OOM_FIT_LIB))
