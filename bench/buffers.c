/* bench/buffers.c -- single thread, buffers of I/O size against a live set:
 * a table of slots, and step after step one random slot's buffer is read
 * back, freed and replaced by a new one of 16 KiB to 1 MiB (log-uniform:
 * as many of 16-32 KiB as of 512 KiB-1 MiB), every cache line of it
 * written. The shape of a program juggling read buffers, growing vectors
 * and compressed chunks: blocks far above the small classes, too small for
 * a mapping of their own, whose memory is touched whole. An allocator that
 * keeps each size class's free blocks apart holds more of them untouched
 * (peak RSS) and hands out blocks that went cold long ago, where one that
 * reuses the memory freed a moment ago for any size writes into cache.
 *
 *   buffers SCALE [LIVE]      LIVE slots, 256 by default */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

/* 2^14 .. 2^20 bytes, log-uniform: an exponent of 14..19, then a size
 * uniform within its octave. */
static size_t buffer_size(bench_rng_t *rng)
{
    unsigned bits = 14 + (unsigned)(bench_rand(rng) % 6);
    return bench_range(rng, (size_t)1 << bits, ((size_t)2 << bits) - 1);
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t live = bench_arg_count(argc, argv, 256, 1u << 20, "live buffers");
    size_t steps = bench_scaled(60000);
    uint64_t sum;
    if (!bench_live_set_run(live, steps, 11, buffer_size, bench_fill, bench_read, &sum))
        return 1;
    bench_finish(sum);
    return 0;
}
