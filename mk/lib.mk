# mk/lib.mk -- the allocator itself.
#
#   make lib         build/libshardalloc.a, build/libshardalloc.so.X.Y.Z with its
#                    SONAME link libshardalloc.so.X and libshardalloc.so, and
#                    build/libshardalloc-core.a (the sa_* API only)
#   make trace-lib   build/trace/libshardalloc-trace.a (-DSA_TRACE, with src/trace.c)
#   make debug-lib   build/debug/libshardalloc-debug.a (-DSA_DEBUG: invariant asserts)
#
# The version X.Y.Z is SA_VERSION_MAJOR/MINOR/PATCH of include/shardalloc.h.
# For other fragments: SA_LIB_A, SA_LIB_SO (paths), SA_LIB_SRCS (sources),
# SA_LIB_CORE_A (the archive without the malloc/free and operator new/delete
# overrides: the sa_* API only, for programs that keep the C library's malloc),
# SA_TRACE_LIB_A, SA_DEBUG_LIB_A (both without the overrides too).

sa_version_part = $(shell sed -n 's/^\#define SA_VERSION_$(1) *\([0-9]*\)$$/\1/p' include/shardalloc.h)
SA_VERSION_MAJOR := $(call sa_version_part,MAJOR)
SA_VERSION_FULL  := $(SA_VERSION_MAJOR).$(call sa_version_part,MINOR).$(call sa_version_part,PATCH)

SA_LIB_SRCS    := $(filter-out src/trace.c,$(sort $(wildcard src/*.c)))
SA_LIB_A       := $(BUILD)/libshardalloc.a
SA_LIB_SO      := $(BUILD)/libshardalloc.so
SA_SONAME      := libshardalloc.so.$(SA_VERSION_MAJOR)
SA_LIB_SO_REAL := $(BUILD)/libshardalloc.so.$(SA_VERSION_FULL)
SA_LIB_CORE_A  := $(BUILD)/libshardalloc-core.a
SA_TRACE_LIB_A := $(BUILD)/trace/libshardalloc-trace.a
SA_DEBUG_LIB_A := $(BUILD)/debug/libshardalloc-debug.a

# Hidden by default; the API and the overrides are exported one by one (sa_public).
# initial-exec TLS: the thread's heap is one load away, and preloading works.
SA_LIB_CFLAGS  := $(OPT) -fPIC $(WARN) $(CSTD) -pthread -fvisibility=hidden \
                  -fno-semantic-interposition -ftls-model=initial-exec $(INCS) -MMD -MP

# The overrides (malloc & co., C++'s operator new/delete) are in the full
# libraries only; the core archive is the sa_* API alone.
SA_OVERRIDE_SRCS  := src/override.c src/override_new.c
# malloc and free are the fast paths themselves, not a jump to them: in the
# full libraries alloc.c and free.c are compiled with SA_OVERRIDE, which
# makes malloc (free, and glibc's names for them) aliases of sa_malloc
# (sa_free); the core archive's are compiled without.
SA_ALIAS_SRCS      := src/alloc.c src/free.c
SA_OVERRIDE_CFLAGS := -DSA_OVERRIDE
SA_LIB_OBJS       := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out $(SA_ALIAS_SRCS),$(SA_LIB_SRCS))) \
                     $(patsubst src/%.c,$(BUILD)/obj/override/%.o,$(SA_ALIAS_SRCS))
SA_CORE_OBJS      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out $(SA_OVERRIDE_SRCS),$(SA_LIB_SRCS)))
SA_CORE_SRCS      := $(filter-out $(SA_OVERRIDE_SRCS),$(SA_LIB_SRCS))
SA_TRACE_LIB_SRCS := $(SA_CORE_SRCS) $(wildcard src/trace.c)
SA_TRACE_LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/trace/%.o,$(SA_TRACE_LIB_SRCS))
SA_DEBUG_LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/debug/%.o,$(SA_CORE_SRCS))

# Planted bugs. A mutant is a patch to src/, tests/<suite>/mutants/<name>.patch,
# whose comment lines before the diff say what it breaks (and, for the suites
# that need it, "# <suite>: <what must catch it>" first). Every suite builds
# its mutants with this one recipe and must catch each (mk/conformance.mk,
# refine.mk, interleave.mk, step_bounds.mk); src/ itself carries none.
#
# $(call mutant-lib,archive,patch,objects,cflags): the rule of `archive`: src/
# copied beside it and the patch applied exactly (-F0: a patch that no longer
# applies is a broken mutant, and the build fails); the .c files it changes
# compiled with cflags (-w: a planted bug's warnings are not the code's); the
# other members the unpatched build's `objects` (one per src/*.c, by name).
# A patch may change only .c files: a header would need every object rebuilt.
# For $(eval): one call per mutant.
define mutant-lib
$(1): $(2) $(3)
	$$(call say,MUTANT,$(subst /mutants/,/,$(patsubst tests/%.patch,%,$(2))))
	$$(Q)rm -rf $$(@D)/src $$(@D)/obj && mkdir -p $$(@D)/src $$(@D)/obj && cp src/*.c src/*.h $$(@D)/src/
	$$(Q)patch -s -F0 -p1 -d $$(@D) < $(2) || { echo "$(2): no longer applies to src/ (a broken mutant)"; exit 1; }
	$$(Q)! grep -q '^+++ b/src/.*\.h' $(2) || { echo "$(2): changes a header (a mutant changes src/*.c only)"; exit 1; }
	$$(Q)changed=$$$$(sed -n 's|^+++ b/src/\([a-z_]*\.c\).*|\1|p' $(2)); \
	    [ -n "$$$$changed" ] || { echo "$(2): changes no src/*.c"; exit 1; }; \
	    for f in $$$$changed; do \
	        $$(CC) $(4) -w -c $$(@D)/src/$$$$f -o $$(@D)/obj/$$$${f%.c}.o || exit 1; done; \
	    keep=$$$$(for o in $(3); do b=$$$$(basename $$$$o .o); \
	        case " $$$$changed " in *" $$$$b.c "*) ;; *) echo $$$$o;; esac; done); \
	    rm -f $$@ && ar rcs $$@ $$$$keep $$(@D)/obj/*.o
endef
# $(call mutants,suite): the names of tests/<suite>/mutants/*.patch.
mutants = $(basename $(notdir $(sort $(wildcard tests/$(1)/mutants/*.patch))))
# $(call trace-mutant-lib,dir,patch): the tracing library with the bug planted,
# dir/libshardalloc-trace.a (the conformance, refinement and bounds mutants).
trace-mutant-lib = $(eval $(call mutant-lib,$(1)/libshardalloc-trace.a,$(2),$(SA_TRACE_LIB_OBJS),$(SA_LIB_CFLAGS) -DSA_TRACE))

.PHONY: trace-lib debug-lib
lib: $(SA_LIB_A) $(SA_LIB_SO) $(SA_LIB_CORE_A)
trace-lib: $(SA_TRACE_LIB_A)
debug-lib: $(SA_DEBUG_LIB_A)

$(BUILD)/obj/%.o: src/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SA_LIB_CFLAGS) -c $< -o $@

$(BUILD)/obj/override/%.o: src/%.c
	$(call say,CC,$< [override])
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SA_LIB_CFLAGS) $(SA_OVERRIDE_CFLAGS) -c $< -o $@

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

# How a shared libshardalloc is linked (also bench's count-off build).
# -Bsymbolic-functions: calls inside the library bind to its own functions
# (no PLT), while the exported malloc & co. still interpose everyone else's.
SA_SO_LDFLAGS := -shared -pthread -Wl,-Bsymbolic-functions -Wl,-z,now

$(SA_LIB_SO_REAL): $(SA_LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(SA_SO_LDFLAGS) -Wl,-soname,$(SA_SONAME) $(LDFLAGS) -o $@ $^

$(BUILD)/$(SA_SONAME): $(SA_LIB_SO_REAL)
	$(Q)ln -sf $(notdir $<) $@

$(SA_LIB_SO): $(BUILD)/$(SA_SONAME)
	$(Q)ln -sf $(notdir $<) $@

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

-include $(SA_LIB_OBJS:.o=.d) $(SA_CORE_OBJS:.o=.d) $(SA_TRACE_LIB_OBJS:.o=.d) $(SA_DEBUG_LIB_OBJS:.o=.d)
