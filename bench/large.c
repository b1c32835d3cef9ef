/* bench/large.c -- workload 6: large blocks. Blocks of 5-25 MiB are
 * allocated, touched (one write per 4 KiB page, as a program filling a
 * buffer would) and freed, in a loop, two alive at a time. Allocators that
 * map and unmap every such block pay a page fault per page every time (issue
 * 5 reports mimalloc 2.0.9 and jemalloc 9-18x slower than glibc here, whose
 * mmap threshold rises after the first free so blocks are reused; our own
 * figures are in docs/benchmarks.md). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define MIB         ((size_t)1 << 20)
#define TOUCH_STEP  4096

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    bench_rng_t rng = { 6 };
    size_t iters = bench_scaled(300);
    unsigned char *keep = NULL;
    size_t keep_size = 0;
    uint64_t sum = 0;
    for (size_t it = 0; it < iters; it++) {
        size_t size = bench_range(&rng, 5 * MIB, 25 * MIB);
        unsigned char *p = malloc(size);
        if (p == NULL) {
            perror("malloc");
            return 1;
        }
        for (size_t i = 0; i < size; i += TOUCH_STEP)
            p[i] = (unsigned char)(i >> 12);
        p[size - 1] = (unsigned char)it;
        for (size_t i = 0; i < size; i += 64 * TOUCH_STEP)
            sum += p[i];
        sum += p[size - 1];
        /* The previous block dies now; this one lives one more turn. */
        free(keep);
        keep = p;
        keep_size = size;
    }
    sum += keep_size;
    free(keep);
    bench_finish(sum);
    return 0;
}
