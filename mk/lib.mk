# mk/lib.mk -- the allocator itself.
#
#   make lib         build/libshardalloc.a and build/libshardalloc.so
#   make trace-lib   build/trace/libshardalloc-trace.a (-DSA_TRACE, with src/trace.c)
#   make debug-lib   build/debug/libshardalloc-debug.a (-DSA_DEBUG: invariant asserts)
#   make install     PREFIX=/usr/local
#
# For other fragments: SA_LIB_A, SA_LIB_SO (paths), SA_LIB_SRCS (sources),
# SA_LIB_CORE_A (the archive without the malloc/free overrides: the sa_* API
# only, for programs that keep the C library's malloc), SA_TRACE_LIB_A,
# SA_DEBUG_LIB_A (both without the overrides too).

SA_LIB_SRCS    := $(filter-out src/trace.c,$(sort $(wildcard src/*.c)))
SA_LIB_A       := $(BUILD)/libshardalloc.a
SA_LIB_SO      := $(BUILD)/libshardalloc.so
SA_LIB_CORE_A  := $(BUILD)/libshardalloc-core.a
SA_TRACE_LIB_A := $(BUILD)/trace/libshardalloc-trace.a
SA_DEBUG_LIB_A := $(BUILD)/debug/libshardalloc-debug.a

# Hidden by default; the API and the overrides are exported one by one (sa_public).
# initial-exec TLS: the thread's heap is one load away, and preloading works.
SA_LIB_CFLAGS  := $(OPT) -fPIC $(WARN) $(CSTD) -pthread -fvisibility=hidden \
                  -fno-semantic-interposition -ftls-model=initial-exec $(INCS) -MMD -MP

SA_LIB_OBJS       := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SA_LIB_SRCS))
SA_CORE_OBJS      := $(filter-out $(BUILD)/obj/override.o,$(SA_LIB_OBJS))
SA_CORE_SRCS      := $(filter-out src/override.c,$(SA_LIB_SRCS))
SA_TRACE_LIB_SRCS := $(SA_CORE_SRCS) $(wildcard src/trace.c)
SA_TRACE_LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/trace/%.o,$(SA_TRACE_LIB_SRCS))
SA_DEBUG_LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/debug/%.o,$(SA_CORE_SRCS))

.PHONY: trace-lib debug-lib
lib: $(SA_LIB_A) $(SA_LIB_SO) $(SA_LIB_CORE_A)
trace-lib: $(SA_TRACE_LIB_A)
debug-lib: $(SA_DEBUG_LIB_A)

$(BUILD)/obj/%.o: src/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SA_LIB_CFLAGS) -c $< -o $@

$(BUILD)/obj/trace/%.o: src/%.c
	$(call say,CC,$< [trace])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SA_LIB_CFLAGS) -DSA_TRACE -c $< -o $@

$(BUILD)/obj/debug/%.o: src/%.c
	$(call say,CC,$< [debug])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SA_LIB_CFLAGS) -DSA_DEBUG=2 -c $< -o $@

$(SA_LIB_A): $(SA_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(SA_LIB_CORE_A): $(SA_CORE_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# -Bsymbolic-functions: calls inside the library bind to its own functions
# (no PLT), while the exported malloc & co. still interpose everyone else's.
$(SA_LIB_SO): $(SA_LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -pthread -Wl,-Bsymbolic-functions -Wl,-z,now -o $@ $^

$(SA_TRACE_LIB_A): $(SA_TRACE_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(SA_DEBUG_LIB_A): $(SA_DEBUG_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

install: lib
	$(call say,INSTALL,$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	$(Q)install -m 644 $(SA_LIB_A) $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 755 $(SA_LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 644 include/shardalloc.h $(DESTDIR)$(PREFIX)/include/

-include $(SA_LIB_OBJS:.o=.d) $(SA_TRACE_LIB_OBJS:.o=.d) $(SA_DEBUG_LIB_OBJS:.o=.d)
