/* bench/liveset.c -- single thread, small blocks of random size against a
 * live set: a table of LIVE slots, and step after step one random slot's
 * block is freed and replaced by a new one of random size (16..256 bytes,
 * one in 64 up to 1 KiB). With a small live set nearly every request is
 * served from a page the previous free just touched (the cost of the fast
 * path itself); with a large one the blocks spread over many pages and size
 * classes, and the free list order the allocator keeps decides how many
 * cache misses each request takes.
 *
 *   liveset SCALE LIVE      e.g. liveset 1 100, liveset 1 200000 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

/* Only the first word and the last byte are written and read back: the loop
 * is about the allocator, not about writing memory. */
static void tag_block(void *p, size_t size, uint64_t tag)
{
    memcpy(p, &tag, sizeof tag);
    ((unsigned char *)p)[size - 1] = (unsigned char)(tag >> 8);
}

/* bench_live_set_run's fill: the tag from the step, nothing to the sum. */
static uint64_t fill_block(void *p, size_t size, uint64_t step)
{
    tag_block(p, size, step * 0x9e3779b97f4a7c15ULL);
    return 0;
}

static uint64_t read_block(const void *p, size_t size)
{
    uint64_t tag;
    memcpy(&tag, p, sizeof tag);
    return tag + (((const unsigned char *)p)[size - 1] != (unsigned char)(tag >> 8)) * (1ULL << 40);
}

static size_t small_size(bench_rng_t *rng)
{
    uint64_t r = bench_rand(rng);
    if ((r & 63) == 0)
        return 257 + (size_t)((r >> 8) % 768);
    return 16 + (size_t)((r >> 8) % 241);
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t live = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    if (live == 0) {
        fprintf(stderr, "liveset: the live set must hold at least one block\n");
        return 2;
    }
    /* The same number of requests whatever the live set: times compare. */
    size_t steps = bench_scaled(10000000);
    uint64_t sum;
    if (!bench_live_set_run(live, steps, live, small_size, fill_block, read_block, &sum))
        return 1;
    bench_finish(sum);
    return 0;
}
