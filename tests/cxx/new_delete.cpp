/* tests/cxx/new_delete.cpp -- every replaceable operator new and delete of
 * C++17 lands on shardalloc (src/override_new.c), and the throwing forms
 * call the new_handler loop before throwing std::bad_alloc.
 *
 * Built twice (mk/cxx.mk): linked with libshardalloc.a (SA_LINKED), and
 * plain, run under LD_PRELOAD=libshardalloc.so, where sa_owns is found with
 * dlsym. Either way every pointer must be one shardalloc handed out: a
 * program on the C++ runtime's own operator new fails. Prints one line on
 * success; any failed check exits 1 naming it. */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <dlfcn.h>
#include "shardalloc.h"

static int checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

typedef bool owns_fn(const void *);

static owns_fn *find_owns()
{
#ifdef SA_LINKED
    return sa_owns;
#else
    return reinterpret_cast<owns_fn *>(dlsym(RTLD_DEFAULT, "sa_owns"));
#endif
}

static owns_fn *owns;

static bool aligned_to(const void *p, std::size_t alignment)
{
    return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

struct alignas(256) wide {
    unsigned char bytes[300];
};

static int handler_calls;

static void give_up_on_third_call()
{
    if (++handler_calls == 3)
        std::set_new_handler(nullptr);
}

/* Past PTRDIFF_MAX: shardalloc refuses it, so new must fail (volatile: the
 * compiler would reject the call it can see is impossible). */
static volatile std::size_t too_big = SIZE_MAX / 2 + 1;

static void every_form_is_served_by_shardalloc()
{
    const std::align_val_t al{4096};

    void *p = ::operator new(100);
    CHECK(owns(p));
    ::operator delete(p);

    p = ::operator new[](1000);
    CHECK(owns(p));
    ::operator delete[](p);

    p = ::operator new(100, std::nothrow);
    CHECK(owns(p));
    ::operator delete(p, std::nothrow);

    p = ::operator new[](100, std::nothrow);
    CHECK(owns(p));
    ::operator delete[](p, std::nothrow);

    p = ::operator new(48);
    CHECK(owns(p));
    ::operator delete(p, std::size_t{48});

    p = ::operator new[](48);
    CHECK(owns(p));
    ::operator delete[](p, std::size_t{48});

    p = ::operator new(100, al);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete(p, al);

    p = ::operator new[](5000, al);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete[](p, al);

    p = ::operator new(100, al, std::nothrow);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete(p, al, std::nothrow);

    p = ::operator new[](100, al, std::nothrow);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete[](p, al, std::nothrow);

    p = ::operator new(64, al);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete(p, std::size_t{64}, al);

    p = ::operator new[](64, al);
    CHECK(owns(p) && aligned_to(p, 4096));
    ::operator delete[](p, std::size_t{64}, al);

    /* new-expressions pick the forms themselves: an over-aligned type uses
     * the aligned ones, the sized delete the sized ones. */
    wide *w = new wide;
    CHECK(owns(w) && aligned_to(w, alignof(wide)));
    delete w;
    wide *ws = new wide[3];
    CHECK(owns(ws) && aligned_to(ws, alignof(wide)));  /* trivial: no array cookie */
    delete[] ws;
    int *i = new int(7);
    CHECK(owns(i) && *i == 7);
    delete i;

    ::operator delete(nullptr);         /* nothing, as free(NULL) */
    ::operator delete[](nullptr, al);
}

static void failure_throws_after_the_new_handler_loop()
{
    bool threw = false;
    handler_calls = 0;
    std::set_new_handler(give_up_on_third_call);
    try {
        void *volatile p = ::operator new(too_big);
        (void)p;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    CHECK(handler_calls == 3);  /* retried after each call until no handler */

    threw = false;
    try {
        void *volatile p = ::operator new[](too_big, std::align_val_t{64});
        (void)p;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
}

static void nothrow_failure_returns_null()
{
    CHECK(::operator new(too_big, std::nothrow) == nullptr);
    CHECK(::operator new[](too_big, std::nothrow) == nullptr);
    CHECK(::operator new(too_big, std::align_val_t{64}, std::nothrow) == nullptr);
    CHECK(::operator new[](too_big, std::align_val_t{64}, std::nothrow) == nullptr);

    /* with a handler: called, and when it gives up, NULL rather than a throw */
    handler_calls = 0;
    std::set_new_handler(give_up_on_third_call);
    CHECK(::operator new(too_big, std::nothrow) == nullptr);
    CHECK(handler_calls == 3);
}

int main()
{
    owns = find_owns();
    if (owns == nullptr) {
        std::fprintf(stderr, "new_delete: sa_owns not found: not running on shardalloc\n");
        return 1;
    }
    every_form_is_served_by_shardalloc();
    failure_throws_after_the_new_handler_loop();
    nothrow_failure_returns_null();
    std::printf("%d checks: every operator new/delete form on shardalloc\n", checks);
    return 0;
}
