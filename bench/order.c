/* bench/order.c -- liborder.so, a diagnostic preloaded in front of any
 * allocator: how far apart are two blocks that malloc hands out one after the
 * other for the same request size? A program that builds objects one after
 * another and later walks them in that order (an interpreter's lists and
 * dicts, a JSON encoder's pieces) reads memory sequentially when they are
 * adjacent, and the hardware prefetchers hide its cache misses; when they are
 * scattered over a page, every object is a miss the core waits for. Cache
 * simulators (callgrind/cachegrind) model no prefetcher, so they count the
 * same misses either way; this measures the order itself, independent of
 * machine load.
 *
 *     LD_PRELOAD="build/bench/liborder.so <allocator.so>" PYTHONMALLOC=malloc \
 *         python3 bench/py_workload.py 1
 *
 * prints at exit, to stderr:
 *     order: mallocs N: near X%, within 4 KiB Y%, far Z%
 * where, per request size rounded up to 16 bytes (sizes up to 1 KiB; larger
 * ones are not counted), a malloc is "near" if its block starts at most two
 * rounded sizes from the previous block of that size (the next block, or
 * the one after, in either direction: size classes of every allocator are
 * within 2x of the request), "within 4 KiB" if not near but on the same
 * 4 KiB-neighbourhood, else "far". Single-threaded programs only (the
 * counters are plain). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ORDER_UNIT      16
#define ORDER_MAX       1024
#define ORDER_CLASSES   (ORDER_MAX / ORDER_UNIT + 1)
#define ORDER_PAGE      4096

static void *(*real_malloc)(size_t);
static uintptr_t prev[ORDER_CLASSES];
static unsigned long n_near, n_page, n_far;

static void note(size_t size, const void *p)
{
    if (p == NULL || size == 0 || size > ORDER_MAX)
        return;
    size_t c = (size + ORDER_UNIT - 1) / ORDER_UNIT;
    uintptr_t a = (uintptr_t)p, b = prev[c];
    prev[c] = a;
    if (b == 0)
        return;
    uintptr_t d = a > b ? a - b : b - a;
    if (d <= 2 * c * ORDER_UNIT)
        n_near++;
    else if (d < ORDER_PAGE)
        n_page++;
    else
        n_far++;
}

void *malloc(size_t size)
{
    if (real_malloc == NULL)
        real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    void *p = real_malloc(size);
    note(size, p);
    return p;
}

__attribute__((destructor)) static void order_report(void)
{
    unsigned long n = n_near + n_page + n_far;
    if (n == 0)
        return;
    fprintf(stderr, "order: mallocs %lu: near %.1f%%, within 4 KiB %.1f%%, far %.1f%%\n",
            n, 100.0 * (double)n_near / (double)n, 100.0 * (double)n_page / (double)n,
            100.0 * (double)n_far / (double)n);
}
