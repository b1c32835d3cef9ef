/* src/override_new.cpp -- C++'s operator new and delete on shardalloc: every
 * replaceable form of C++17 ([new.delete]), exported by libshardalloc.so and
 * libshardalloc.a as mimalloc and tcmalloc do, so a C++ program's objects
 * come from the same heaps as its malloc whether shardalloc is preloaded or
 * linked. (A C program linking the archive never references these names, so
 * it never pulls this member, nor libstdc++, in.)
 *
 * The throwing forms loop as the standard requires: on failure call the
 * installed new_handler and retry; with none installed, throw std::bad_alloc.
 * The nothrow forms are that loop inside a try, returning nullptr. Every
 * delete is sa_free (its inline fast path: delete is as hot as free), so a
 * foreign pointer or a double delete is reported, as free()'s, and ignored. */
#include <cstddef>
#include <new>
#include "shardalloc.h"

#define SA_EXPORT __attribute__((visibility("default")))

static void *new_or_throw(std::size_t size, std::size_t alignment)
{
    for (;;) {
        void *p = alignment == 0 ? sa_malloc(size) : sa_aligned_alloc(alignment, size);
        if (__builtin_expect(p != nullptr, 1))
            return p;
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr)
            throw std::bad_alloc();
        handler();  /* frees memory, throws, or ends the program */
    }
}

static void *new_or_null(std::size_t size, std::size_t alignment) noexcept
{
    try {
        return new_or_throw(size, alignment);
    } catch (...) {
        return nullptr;
    }
}

static std::size_t align_of(std::align_val_t al)
{
    return static_cast<std::size_t>(al);
}

SA_EXPORT void *operator new(std::size_t n)                  { return new_or_throw(n, 0); }
SA_EXPORT void *operator new[](std::size_t n)                { return new_or_throw(n, 0); }
SA_EXPORT void *operator new(std::size_t n, const std::nothrow_t &) noexcept   { return new_or_null(n, 0); }
SA_EXPORT void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return new_or_null(n, 0); }

SA_EXPORT void *operator new(std::size_t n, std::align_val_t al)   { return new_or_throw(n, align_of(al)); }
SA_EXPORT void *operator new[](std::size_t n, std::align_val_t al) { return new_or_throw(n, align_of(al)); }
SA_EXPORT void *operator new(std::size_t n, std::align_val_t al, const std::nothrow_t &) noexcept
{
    return new_or_null(n, align_of(al));
}
SA_EXPORT void *operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t &) noexcept
{
    return new_or_null(n, align_of(al));
}

SA_EXPORT void operator delete(void *p) noexcept                          { sa_free(p); }
SA_EXPORT void operator delete[](void *p) noexcept                        { sa_free(p); }
SA_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept   { sa_free(p); }
SA_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { sa_free(p); }
SA_EXPORT void operator delete(void *p, std::size_t) noexcept             { sa_free(p); }
SA_EXPORT void operator delete[](void *p, std::size_t) noexcept           { sa_free(p); }
SA_EXPORT void operator delete(void *p, std::align_val_t) noexcept        { sa_free(p); }
SA_EXPORT void operator delete[](void *p, std::align_val_t) noexcept      { sa_free(p); }
SA_EXPORT void operator delete(void *p, std::size_t, std::align_val_t) noexcept   { sa_free(p); }
SA_EXPORT void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { sa_free(p); }
SA_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept   { sa_free(p); }
SA_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { sa_free(p); }
