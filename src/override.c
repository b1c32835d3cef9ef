/* src/override.c -- the standard allocation functions, exported so that
 * LD_PRELOAD=libshardalloc.so (or linking libshardalloc.a statically) puts
 * shardalloc under every malloc of the process, glibc's own included. Also
 * glibc's __libc_* names, malloc_trim, malloc_stats, malloc_info and
 * mallinfo from shardalloc's statistics, and a harmless mallopt. strdup needs nothing: libc's calls
 * malloc. No glibc header declares these here, so no prototype clashes.
 * malloc and free (with cfree and glibc's __libc_ names for them) are not
 * here: they are sa_malloc and sa_free themselves, aliases defined beside
 * them (alloc.c, free.c, compiled with SA_OVERRIDE for the full libraries),
 * so the fast paths are not behind a jump. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "internal.h"

/* The standard names are defined without a prototype: no glibc header is
 * included for them (its declarations carry attributes and types that vary
 * between versions), so the one warning that asks for one is off, here only. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

sa_public void *calloc(size_t n, size_t size)       { return sa_calloc(n, size); }
sa_public void *realloc(void *p, size_t size)       { return sa_realloc(p, size); }
sa_public void *reallocarray(void *p, size_t n, size_t size) { return sa_reallocarray(p, n, size); }
sa_public void *aligned_alloc(size_t a, size_t size) { return sa_aligned_alloc(a, size); }
sa_public void *memalign(size_t a, size_t size)     { return sa_memalign(a, size); }
sa_public int posix_memalign(void **out, size_t a, size_t size) { return sa_posix_memalign(out, a, size); }
sa_public void *valloc(size_t size)                 { return sa_valloc(size); }
sa_public void *pvalloc(size_t size)                { return sa_pvalloc(size); }
sa_public size_t malloc_usable_size(void *p)        { return _sa_usable_size_of(p, "malloc_usable_size"); }

sa_public void *__libc_calloc(size_t n, size_t size) { return sa_calloc(n, size); }
sa_public void *__libc_realloc(void *p, size_t size) { return sa_realloc(p, size); }
sa_public void *__libc_memalign(size_t a, size_t size) { return sa_memalign(a, size); }
sa_public void *__libc_valloc(size_t size)          { return sa_valloc(size); }
sa_public void *__libc_pvalloc(size_t size)         { return sa_pvalloc(size); }
sa_public int __posix_memalign(void **out, size_t a, size_t size) { return sa_posix_memalign(out, a, size); }

/* glibc's malloc_trim returns 1 if memory was released: we always try. */
sa_public int malloc_trim(size_t pad)
{
    (void)pad;
    sa_collect(true);
    return 1;
}

/* No glibc tunable applies to shardalloc: accepted and ignored (1 = success). */
sa_public int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 1;
}

/* glibc's struct mallinfo / mallinfo2 layouts, filled from sa_stats_get. */
struct sa_mallinfo  { int arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };
struct sa_mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };

sa_public struct sa_mallinfo2 mallinfo2(void)
{
    sa_stats_t s;
    sa_stats_get(&s);
    struct sa_mallinfo2 m = { 0 };
    m.arena = s.mapped;
    m.hblks = s.huge_blocks;
    m.uordblks = s.allocated;
    m.fordblks = s.committed > s.allocated ? s.committed - s.allocated : 0;
    return m;
}

sa_public struct sa_mallinfo mallinfo(void)
{
    struct sa_mallinfo2 m2 = mallinfo2();
    struct sa_mallinfo m = { 0 };
    m.arena = (int)m2.arena;
    m.hblks = (int)m2.hblks;
    m.uordblks = (int)m2.uordblks;
    m.fordblks = (int)m2.fordblks;
    return m;
}

sa_public void malloc_stats(void)
{
    sa_stats_print(NULL);
}

/* glibc's malloc_info answered with shardalloc's own statistics (XML). */
sa_public int malloc_info(int options, FILE *fp)
{
    return sa_malloc_info(options, fp);
}
