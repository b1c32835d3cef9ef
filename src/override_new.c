/* src/override_new.c -- C++'s operator new and delete on shardalloc: every
 * replaceable form of C++17 ([new.delete]), exported by libshardalloc.so and
 * libshardalloc.a as mimalloc and tcmalloc do, so a C++ program's objects
 * come from the same heaps as its malloc whether shardalloc is preloaded or
 * linked.
 *
 * Written in C under the Itanium C++ ABI's mangled names so that the library
 * does not depend on libstdc++: a C program preloading libshardalloc.so would
 * otherwise map the whole C++ runtime (about 1.4 MiB of resident memory) for
 * nothing. The two things operator new needs from the C++ runtime, the
 * installed new_handler and throwing std::bad_alloc, are weak references:
 * a program that links libstdc++ binds them when it starts. A C program that
 * dlopen()s C++ code loads libstdc++ later (RTLD_LOCAL by default), where
 * the references cannot see it: a failing new looks the two up there
 * (cxx_runtime). (A C program linking the archive never references these
 * names, so it never pulls this member in.)
 *
 * The throwing forms loop as the standard requires: on failure call the
 * installed new_handler and retry; with none installed, throw std::bad_alloc.
 * The nothrow forms run the same loop and return NULL where the throwing
 * form would throw. The loop is _sa_new_failed's, out of line: a new that
 * gets its block costs sa_malloc (or sa_aligned_alloc) and one test, and
 * the throwing new and new[] are _sa_new, malloc's fast path itself
 * (alloc.c), with no test at all. One difference from a C++ definition: C cannot catch, so
 * a new_handler that itself throws propagates out of a nothrow new instead of
 * being turned into NULL. Every delete is sa_free, so a foreign pointer or a
 * double delete is reported, as free()'s, and ignored. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include "internal.h"

typedef void (*new_handler_fn)(void);
typedef new_handler_fn get_handler_fn(void);
typedef void throw_fn(void);

/* std::get_new_handler() and std::__throw_bad_alloc() of libstdc++ */
extern new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

/* The runtime's two functions: bound at start, or else looked up in the
 * libstdc++ loaded since (RTLD_NOLOAD: found only if it is loaded; NULL if
 * it is not). Only a failing new asks. */
static void cxx_runtime(get_handler_fn **get_handler, throw_fn **throw_bad_alloc)
{
    *get_handler = _ZSt15get_new_handlerv;
    *throw_bad_alloc = _ZSt17__throw_bad_allocv;
    if (*get_handler != NULL && *throw_bad_alloc != NULL)
        return;
    void *runtime = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (runtime == NULL)
        return;
    *get_handler = (get_handler_fn *)dlsym(runtime, "_ZSt15get_new_handlerv");
    *throw_bad_alloc = (throw_fn *)dlsym(runtime, "_ZSt17__throw_bad_allocv");
    dlclose(runtime);   /* drops the reference NOLOAD took: it stays loaded */
}

/* What the standard asks of a new whose first try failed, out of line and
 * cold: call the installed new_handler and try again, as long as there is
 * one and the allocation fails; with none installed, NULL for a nothrow form,
 * else throw std::bad_alloc. Apart from try_new's so that the common case
 * saves no registers and builds no frame for it. alignment 0: sa_malloc. */
sa_noinline __attribute__((cold)) void *_sa_new_failed(size_t size, size_t alignment, bool nothrow)
{
    for (;;) {
        get_handler_fn *get_handler;
        throw_fn *throw_bad_alloc;
        cxx_runtime(&get_handler, &throw_bad_alloc);
        new_handler_fn handler = get_handler != NULL ? get_handler() : NULL;
        if (handler == NULL) {
            if (nothrow)
                return NULL;
            if (throw_bad_alloc != NULL)
                throw_bad_alloc();
            static const char msg[] = "shardalloc: operator new(): out of memory, and no C++ "
                                      "runtime to throw std::bad_alloc\n";
            _sa_write_stderr(msg, sizeof msg - 1);
            abort();
        }
        handler();  /* frees memory, throws, or ends the program */
        void *p = alignment == 0 ? sa_malloc(size) : sa_aligned_alloc(alignment, size);
        if (p != NULL)
            return p;
    }
}

/* The other forms: one call of the allocation, one test, and a jump to
 * _sa_new_failed in the rare case. objdump -d: _ZnwmRKSt9nothrow_t is push,
 * mov, call, test, je, pop, ret (the size kept in a callee-saved register
 * for the retry); the aligned forms keep two. */
static sa_always_inline void *try_new(size_t size, bool nothrow)
{
    void *p = sa_malloc(size);
    if (sa_likely(p != NULL))
        return p;
    return _sa_new_failed(size, 0, nothrow);
}

static sa_always_inline void *try_new_aligned(size_t size, size_t alignment, bool nothrow)
{
    void *p = sa_aligned_alloc(alignment, size);
    if (sa_likely(p != NULL))
        return p;
    return _sa_new_failed(size, alignment, nothrow);
}

/* No header declares these names (they are C++'s), and a delete ignores its
 * size, alignment and nothrow tag: sa_free finds all it needs from p. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NEW(name, ...)     sa_public void *name(__VA_ARGS__)
#define DELETE(name, ...)  sa_public void name(void *p, ##__VA_ARGS__) { sa_free(p); }

/* The mangled names, in [new.delete]'s order; size_t is `m`, align_val_t
 * `St11align_val_t`, const nothrow_t & `RKSt9nothrow_t`. align_val_t is an
 * enum over size_t, passed as one. */
typedef size_t align_val_t;
typedef struct nothrow_s nothrow_t;

NEW(_Znwm, size_t n)                                  { return _sa_new(n); }
NEW(_Znam, size_t n)                                  { return _sa_new(n); }
NEW(_ZnwmRKSt9nothrow_t, size_t n, const nothrow_t *t) { return try_new(n, true); }
NEW(_ZnamRKSt9nothrow_t, size_t n, const nothrow_t *t) { return try_new(n, true); }
NEW(_ZnwmSt11align_val_t, size_t n, align_val_t al)   { return try_new_aligned(n, al, false); }
NEW(_ZnamSt11align_val_t, size_t n, align_val_t al)   { return try_new_aligned(n, al, false); }
NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, size_t n, align_val_t al, const nothrow_t *t)
{
    return try_new_aligned(n, al, true);
}
NEW(_ZnamSt11align_val_tRKSt9nothrow_t, size_t n, align_val_t al, const nothrow_t *t)
{
    return try_new_aligned(n, al, true);
}

DELETE(_ZdlPv)
DELETE(_ZdaPv)
DELETE(_ZdlPvRKSt9nothrow_t, const nothrow_t *t)
DELETE(_ZdaPvRKSt9nothrow_t, const nothrow_t *t)
DELETE(_ZdlPvm, size_t n)
DELETE(_ZdaPvm, size_t n)
DELETE(_ZdlPvSt11align_val_t, align_val_t al)
DELETE(_ZdaPvSt11align_val_t, align_val_t al)
DELETE(_ZdlPvmSt11align_val_t, size_t n, align_val_t al)
DELETE(_ZdaPvmSt11align_val_t, size_t n, align_val_t al)
DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, align_val_t al, const nothrow_t *t)
DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, align_val_t al, const nothrow_t *t)
