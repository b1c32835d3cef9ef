/* tests/cxx/new_delete.cpp -- every replaceable operator new and delete of
 * C++17 lands on shardalloc (src/override_new.c), every form calls the
 * new_handler loop when it fails, returns what the retry after the handler
 * got, and the throwing forms throw std::bad_alloc when there is no handler
 * (the nothrow forms return NULL).
 *
 * Built twice (mk/cxx.mk): linked with libshardalloc.a (SA_LINKED), and
 * plain, run under LD_PRELOAD=libshardalloc.so, where sa_owns and
 * sa_option_set are found with dlsym. Either way every pointer must be one shardalloc handed out: a
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
typedef int option_set_fn(sa_option_t, long long);

#ifdef SA_LINKED
#define SA_API(name) (name)
#else
#define SA_API(name) reinterpret_cast<decltype(&name)>(dlsym(RTLD_DEFAULT, #name))
#endif

static owns_fn *owns;
static option_set_fn *option_set;

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

/* A program's new_handler frees memory; this one lifts the limit that made
 * the allocation fail. */
static void lift_the_limit()
{
    handler_calls++;
    option_set(SA_OPTION_LIMIT, 0);
}

/* Past the bytes already mapped, the next fresh mapping fails: a block this
 * big (a huge one, mapped for itself) fails until lift_the_limit runs. Each
 * call's block is bigger than the last, so none is served by the mapping a
 * freed one left cached (src/huge.c). */
static std::size_t over_the_limit()
{
    static std::size_t size = std::size_t{16} << 20;
    size += std::size_t{1} << 20;
    handler_calls = 0;
    std::set_new_handler(lift_the_limit);
    CHECK(option_set(SA_OPTION_LIMIT, 1) == 0);
    return size;
}

static void the_retry_after_the_new_handler_is_returned()
{
    /* more than a huge block's own alignment (its segment's header before
     * it): the retry of an aligned form must align too */
    const std::size_t wide_align = std::size_t{1} << 20;
    const std::align_val_t al{wide_align};
    void *got[8];
    got[0] = ::operator new(over_the_limit());
    CHECK(owns(got[0]) && handler_calls == 1);
    got[1] = ::operator new[](over_the_limit());
    CHECK(owns(got[1]) && handler_calls == 1);
    got[2] = ::operator new(over_the_limit(), std::nothrow);
    CHECK(owns(got[2]) && handler_calls == 1);
    got[3] = ::operator new[](over_the_limit(), std::nothrow);
    CHECK(owns(got[3]) && handler_calls == 1);
    got[4] = ::operator new(over_the_limit(), al);
    CHECK(owns(got[4]) && aligned_to(got[4], wide_align) && handler_calls == 1);
    got[5] = ::operator new[](over_the_limit(), al);
    CHECK(owns(got[5]) && aligned_to(got[5], wide_align) && handler_calls == 1);
    got[6] = ::operator new(over_the_limit(), al, std::nothrow);
    CHECK(owns(got[6]) && aligned_to(got[6], wide_align) && handler_calls == 1);
    got[7] = ::operator new[](over_the_limit(), al, std::nothrow);
    CHECK(owns(got[7]) && aligned_to(got[7], wide_align) && handler_calls == 1);
    std::set_new_handler(nullptr);
    for (void *p : got)
        ::operator delete(p);
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
    handler_calls = 0;
    std::set_new_handler(give_up_on_third_call);
    CHECK(::operator new[](too_big, std::align_val_t{64}, std::nothrow) == nullptr);
    CHECK(handler_calls == 3);
}

int main()
{
    owns = SA_API(sa_owns);
    option_set = SA_API(sa_option_set);
    if (owns == nullptr || option_set == nullptr) {
        std::fprintf(stderr, "new_delete: sa_owns or sa_option_set not found: not running on shardalloc\n");
        return 1;
    }
    every_form_is_served_by_shardalloc();
    failure_throws_after_the_new_handler_loop();
    the_retry_after_the_new_handler_is_returned();
    nothrow_failure_returns_null();
    std::printf("%d checks: every operator new/delete form on shardalloc\n", checks);
    return 0;
}
