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

typedef struct slot_s { void *p; size_t size; } slot_t;

/* Only the first word and the last byte are written and read back: the loop
 * is about the allocator, not about writing memory. */
static void tag_block(void *p, size_t size, uint64_t tag)
{
    memcpy(p, &tag, sizeof tag);
    ((unsigned char *)p)[size - 1] = (unsigned char)(tag >> 8);
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
    slot_t *table = calloc(live, sizeof *table);
    if (table == NULL) {
        perror("calloc");
        return 1;
    }
    bench_rng_t rng = { live };
    uint64_t sum = 0;
    for (size_t s = 0; s < steps; s++) {
        slot_t *t = &table[bench_rand(&rng) % live];
        if (t->p != NULL) {
            sum += read_block(t->p, t->size);
            free(t->p);
        }
        t->size = small_size(&rng);
        t->p = malloc(t->size);
        if (t->p == NULL) {
            perror("malloc");
            return 1;
        }
        tag_block(t->p, t->size, s * 0x9e3779b97f4a7c15ULL);
    }
    for (size_t i = 0; i < live; i++)
        if (table[i].p != NULL) {
            sum += read_block(table[i].p, table[i].size);
            free(table[i].p);
        }
    free(table);
    bench_finish(sum);
    return 0;
}
