/* bench/bench.h -- what every workload shares: the scale argument, a
 * deterministic random generator, a clock, and the closing report.
 *
 * A workload is a plain C program that calls malloc/free, so LD_PRELOAD swaps
 * the allocator under it. It ends with bench_finish(), which prints
 *     allocator: <file of the library whose `malloc` the program calls>
 *     checksum:  <64-bit value computed from the data it allocated>
 * and the runner (bench/run.py) checks both: the first proves the preload took
 * effect, the second that the allocator did the work (every allocator must
 * print the same checksum for the same workload and scale).
 * Extra results are printed as "name: value" lines the runner keeps.
 * C++ workloads (bench/newdelete.cpp) include it too: the declarations are
 * extern "C" and the helpers valid C++, but for the shared-table ones.
 */
#ifndef SA_BENCH_H
#define SA_BENCH_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* argv[1], a factor on the amount of work (default 1.0; `make bench-quick`
 * passes less). Set by bench_start(). */
extern double bench_scale;

void bench_start(int argc, char **argv);

/* argv[2], a count of threads (or chains of them) from 1 to max, fallback
 * if absent; out of range: a message naming `what`, and exit(2). */
size_t bench_arg_count(int argc, char **argv, size_t fallback, size_t max, const char *what);

/* n scaled by bench_scale, at least 1. */
size_t bench_scaled(size_t n);

/* Print the serving allocator, the checksum and the elapsed time. */
void bench_finish(uint64_t checksum);

/* Path of the shared object that defines the `malloc` this process calls. */
const char *bench_malloc_library(void);

/* Resident set size now, in KiB (from /proc/self/statm). */
long bench_rss_now_kib(void);

double bench_now(void);

/* splitmix64: small, fast, and the same sequence on every allocator. */
typedef struct bench_rng_s { uint64_t s; } bench_rng_t;

static inline uint64_t bench_rand(bench_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline size_t bench_range(bench_rng_t *r, size_t lo, size_t hi)
{
    return lo + (size_t)(bench_rand(r) % (hi - lo + 1));
}

/* A tag with BENCH_TAG_SPARSE set: bench_fill leaves the block's second
 * word (bytes 8-15) as malloc gave it, as a program does that stores a
 * short string or a one-word header in it (what an allocator leaves there,
 * shardalloc's hand-out mark, survives). */
#define BENCH_TAG_SPARSE ((uint64_t)1 << 63)

/* The first byte bench_fill writes after the tag, and whether it writes the
 * last byte (not inside the second word of a sparse tag's block). */
static inline size_t bench_fill_from(uint64_t tag)
{
    return tag & BENCH_TAG_SPARSE ? 16 : 8;
}
static inline bool bench_fill_last(size_t size, uint64_t tag)
{
    return size - 1 >= bench_fill_from(tag);
}

/* Write a recognisable pattern into a block of at least 8 bytes (so the
 * memory is really used: one byte per cache line, the tag in the first word)
 * and return the value a later bench_read() of the intact block gives. */
static inline uint64_t bench_fill(void *p, size_t size, uint64_t tag)
{
    unsigned char *b = (unsigned char *)p;
    for (size_t i = bench_fill_from(tag); i < size; i += 64)
        b[i] = (unsigned char)(tag + i);
    if (bench_fill_last(size, tag))
        b[size - 1] = (unsigned char)(tag + size);
    memcpy(b, &tag, sizeof tag);
    return tag * 31 + size;
}

/* Read back what bench_fill wrote: a block whose content changed (an
 * allocator handing one block out twice) gives a different value. */
static inline uint64_t bench_read(const void *p, size_t size)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t tag, bad = 0;
    memcpy(&tag, b, sizeof tag);
    for (size_t i = bench_fill_from(tag); i < size; i += 64)
        bad += b[i] != (unsigned char)(tag + i);
    if (bench_fill_last(size, tag))
        bad += b[size - 1] != (unsigned char)(tag + size);
    return tag * 31 + size + (bad << 40);
}

#ifndef __cplusplus
/* The threaded workloads hand blocks around with no size beside them: the
 * size travels in the low 16 bits of the block's tag (bench_fill's). Read
 * such a block back and free it. */
static inline uint64_t bench_release_tagged(void *p)
{
    uint64_t tag;
    memcpy(&tag, p, sizeof tag);
    uint64_t v = bench_read(p, (size_t)(tag & 0xffff));
    free(p);
    return v;
}

/* Release every block left in a shared table of n slots. */
static inline uint64_t bench_release_table(_Atomic(void *) *table, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        void *p = atomic_load(&table[i]);
        if (p != NULL)
            sum += bench_release_tagged(p);
    }
    return sum;
}

/* A live set of `live` slots, each a block and its size: `steps` times a
 * random slot's block is read back (`read`) and freed, and a new block of
 * size_of()'s size takes the slot, filled by `fill` (given the step); then
 * every block left is read back and freed. The sum of what `read` and
 * `fill` return goes to *sum. False after a message if calloc or malloc
 * failed. Always inline, so the three functions are called directly in
 * the workload's loop (no indirect call added to what it times). */
typedef struct bench_slot_s { void *p; size_t size; } bench_slot_t;

static inline __attribute__((always_inline)) bool
bench_live_set_run(size_t live, size_t steps, uint64_t seed, size_t (*size_of)(bench_rng_t *),
                   uint64_t (*fill)(void *, size_t, uint64_t), uint64_t (*read)(const void *, size_t),
                   uint64_t *sum)
{
    bench_slot_t *table = (bench_slot_t *)calloc(live, sizeof *table);
    if (table == NULL) {
        perror("calloc");
        return false;
    }
    bench_rng_t rng = { seed };
    uint64_t total = 0;
    for (size_t s = 0; s < steps; s++) {
        bench_slot_t *t = &table[bench_rand(&rng) % live];
        if (t->p != NULL) {
            total += read(t->p, t->size);
            free(t->p);
        }
        t->size = size_of(&rng);
        t->p = malloc(t->size);
        if (t->p == NULL) {
            perror("malloc");
            return false;
        }
        total += fill(t->p, t->size, s);
    }
    for (size_t i = 0; i < live; i++)
        if (table[i].p != NULL) {
            total += read(table[i].p, table[i].size);
            free(table[i].p);
        }
    free(table);
    *sum = total;
    return true;
}

#endif /* !__cplusplus */

#ifdef __cplusplus
}
#endif

#endif /* SA_BENCH_H */
