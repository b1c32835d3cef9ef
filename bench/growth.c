/* bench/growth.c -- workload 7: long-lived growth with a slowly moving
 * working set (the pattern of a cache or a long-running service). Objects
 * live in a FIFO: the program grows it to its full size, then for a long
 * while allocates new objects at the head and frees the oldest at the tail
 * (sizes drift over time, so freed space does not simply fit the next
 * requests), then shrinks to a tenth and keeps working at that size for a
 * while. It prints the RSS before and after the shrink: an allocator that
 * returns memory to the OS ends far below its peak. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct obj_s { void *p; size_t size; } obj_t;

/* Sizes from 16 bytes to 16 KiB, log-uniform, with a centre that drifts as
 * `phase` goes from 0 to 1; one object in 256 is a 64-256 KiB buffer. */
static size_t object_size(bench_rng_t *rng, double phase)
{
    if ((bench_rand(rng) & 255) == 0)
        return bench_range(rng, 64 << 10, 256 << 10);
    unsigned lo = 4 + (unsigned)(phase * 6);           /* 16 B .. 1 KiB */
    unsigned bits = lo + (unsigned)(bench_rand(rng) % 5);
    return bench_range(rng, (size_t)1 << bits, ((size_t)2 << bits) - 1);
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    bench_rng_t rng = { 7 };
    size_t cap = bench_scaled(60000);      /* objects at full size */
    size_t steps = bench_scaled(1500000);   /* replacements while sliding */
    obj_t *fifo = calloc(cap, sizeof *fifo);
    if (fifo == NULL) {
        perror("calloc");
        return 1;
    }
    size_t head = 0, tail = 0;              /* live objects: [tail, head) */
    uint64_t sum = 0;
    double phase = 0;

#define PUSH() do { \
        size_t sz_ = object_size(&rng, phase); \
        void *p_ = malloc(sz_); \
        if (p_ == NULL) { perror("malloc"); return 1; } \
        sum += bench_fill(p_, sz_, head); \
        fifo[head++ % cap] = (obj_t){ p_, sz_ }; \
    } while (0)
#define POP() do { \
        obj_t *o_ = &fifo[tail++ % cap]; \
        sum += bench_read(o_->p, o_->size); \
        free(o_->p); \
    } while (0)

    while (head < cap)
        PUSH();
    for (size_t s = 0; s < steps; s++) {
        phase = (double)s / (double)steps;
        POP();
        PUSH();
    }
    long rss_full = bench_rss_now_kib();
    while (head - tail > cap / 10)
        POP();
    /* Keep working at the small size: allocators that purge lazily do it
     * from inside later calls. */
    for (size_t s = 0; s < steps / 4; s++) {
        POP();
        PUSH();
    }
    long rss_small = bench_rss_now_kib();
    while (tail < head)
        POP();
    free(fifo);
    printf("rss_full_kib: %ld\nrss_shrunk_kib: %ld\n", rss_full, rss_small);
    bench_finish(sum);
    return 0;
}
