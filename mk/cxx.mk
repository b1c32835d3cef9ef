# mk/cxx.mk -- C++: operator new and delete (src/override_new.c).
#
#   make test-cxx    tests/cxx/new_delete.cpp, every C++17 operator new/delete
#                    form, built twice: linked with libshardalloc.a, and run
#                    under LD_PRELOAD=libshardalloc.so; run by `make test`.
#                    Also checks that libshardalloc.so needs libc alone: a C
#                    program preloading it must not map the C++ runtime.

CXX_TEST_DIR    := $(BUILD)/tests/cxx
CXX_TEST_FLAGS  := -std=c++17 $(CXXFLAGS) -Wall -Wextra $(filter -Werror,$(WARN)) -Iinclude -pthread
CXX_TEST_STATIC := $(CXX_TEST_DIR)/new_delete-static
CXX_TEST_PLAIN  := $(CXX_TEST_DIR)/new_delete

TEST_TARGETS += test-cxx
.PHONY: test-cxx

$(CXX_TEST_STATIC): tests/cxx/new_delete.cpp include/shardalloc.h $(SA_LIB_A)
	$(call say,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXX_TEST_FLAGS) -DSA_LINKED $(LDFLAGS) -o $@ $< $(SA_LIB_A)

$(CXX_TEST_PLAIN): tests/cxx/new_delete.cpp include/shardalloc.h
	$(call say,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXX_TEST_FLAGS) $(LDFLAGS) -o $@ $< -ldl

test-cxx: $(CXX_TEST_STATIC) $(CXX_TEST_PLAIN) $(SA_LIB_SO)
	$(call run-logged,cxx/new_delete [static],$(CXX_TEST_STATIC),$(CXX_TEST_STATIC).log)
	$(call run-logged,cxx/new_delete [LD_PRELOAD],LD_PRELOAD=$(abspath $(SA_LIB_SO)) $(CXX_TEST_PLAIN),$(CXX_TEST_PLAIN).log)
	$(Q)needed=$$(readelf -d $(SA_LIB_SO) | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '); \
	if [ "$$needed" = "libc.so.6 " ]; then \
	    printf '  %-9s %s\n' TEST "cxx/needed: libshardalloc.so needs only libc.so.6"; \
	else printf '  %-9s %s\n' FAIL "cxx/needed: libshardalloc.so needs $$needed(libc.so.6 alone expected)"; exit 1; fi
