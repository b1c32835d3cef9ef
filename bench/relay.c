/* bench/relay.c -- a server whose workers hand their table to a successor
 * they start themselves: each chain of workers owns one table of slots; a
 * worker serves requests (free the block in a random slot, allocate one of
 * random size in its place), then starts the next worker of its chain,
 * handing it the table full of its own blocks, and exits. So the successor
 * runs while its predecessor is still alive or exiting, and its first frees
 * land on the pages of a heap that is going away (unlike `server`, where a
 * round's workers all exit before fresh ones start). The main thread fills
 * the tables first, as a server's startup would.
 *
 *   relay SCALE [CHAINS]      e.g. relay 1, relay 1 2
 *
 * A request writes only the first and last bytes of its new block, and reads
 * back one displaced block in CHECK_EVERY before freeing it: the rest are
 * freed cold, out of the CPU's caches, as a server that keeps records and
 * forgets them frees them (the allocator's cost, not the program's,
 * dominates). The checksum is the sum of what relay_read gives for those
 * blocks and for every block left at the end: the same for every
 * allocator. */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SLOTS           5000    /* blocks per table */
#define REQUESTS        250000  /* requests a worker serves before it hands over */
#define GENERATIONS     60      /* workers per chain, at scale 1 */
#define MAX_CHAINS      16
#define SIZE_MIN        8
#define SIZE_MAX_REQ    1000
#define CHECK_EVERY     16      /* requests per displaced block read back */

typedef struct slot_s { unsigned char *p; size_t size; } slot_t;

typedef struct chain_s {
    size_t id, generations;
    slot_t table[SLOTS];
    pthread_t *tids;        /* worker g's thread, set by worker g-1 (main's for 0) */
    uint64_t sum;           /* written by one worker at a time: each starts the next */
} chain_t;

typedef struct worker_s {
    chain_t *chain;
    size_t generation;
} worker_t;

/* The tag in the first word, and a byte of it at the end. */
static uint64_t relay_fill(unsigned char *p, size_t size, uint64_t tag)
{
    memcpy(p, &tag, sizeof tag);
    p[size - 1] = (unsigned char)tag;
    return tag * 31 + size;
}

static uint64_t relay_read(const unsigned char *p, size_t size)
{
    uint64_t tag;
    memcpy(&tag, p, sizeof tag);
    return tag * 31 + size + ((uint64_t)(p[size - 1] != (unsigned char)tag) << 40);
}

static unsigned char *relay_alloc(slot_t *s, uint64_t tag)
{
    unsigned char *p = malloc(s->size);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    relay_fill(p, s->size, tag);
    return p;
}

static void *worker(void *arg);

/* Start worker `generation` of the chain (its thread id where the main
 * thread will join it). */
static void relay_start(chain_t *c, size_t generation)
{
    worker_t *w = malloc(sizeof *w);
    if (w == NULL) {
        perror("malloc");
        exit(1);
    }
    *w = (worker_t){ .chain = c, .generation = generation };
    if (pthread_create(&c->tids[generation], NULL, worker, w) != 0) {
        perror("pthread_create");
        exit(1);
    }
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    chain_t *c = w->chain;
    size_t generation = w->generation;
    free(w);
    bench_rng_t rng = { (c->id << 32) + generation + 1 };
    uint64_t sum = 0;
    for (size_t r = 0; r < REQUESTS; r++) {
        slot_t *s = &c->table[bench_rand(&rng) % SLOTS];
        if (r % CHECK_EVERY == 0)
            sum += relay_read(s->p, s->size);
        free(s->p);
        s->size = bench_range(&rng, SIZE_MIN, SIZE_MAX_REQ);
        s->p = relay_alloc(s, (generation << 40) ^ (r << 8) ^ c->id);
    }
    c->sum += sum;
    /* The hand-over: the successor starts before this thread exits. */
    if (generation + 1 < c->generations)
        relay_start(c, generation + 1);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t chains = bench_arg_count(argc, argv, 2, MAX_CHAINS, "chains");
    size_t generations = bench_scaled(GENERATIONS);
    static chain_t chain[MAX_CHAINS];
    bench_rng_t rng = { 0x7e1a };
    for (size_t i = 0; i < chains; i++) {
        chain[i].id = i;
        chain[i].generations = generations;
        chain[i].tids = calloc(generations, sizeof *chain[i].tids);
        if (chain[i].tids == NULL) {
            perror("calloc");
            return 1;
        }
        for (size_t k = 0; k < SLOTS; k++) {
            slot_t *s = &chain[i].table[k];
            s->size = bench_range(&rng, SIZE_MIN, SIZE_MAX_REQ);
            s->p = relay_alloc(s, (i << 16) + k);
        }
    }
    for (size_t i = 0; i < chains; i++)
        relay_start(&chain[i], 0);
    /* Worker g set tids[g + 1] before it exited, so after joining it the
     * next is known. */
    uint64_t sum = 0;
    for (size_t i = 0; i < chains; i++) {
        for (size_t g = 0; g < generations; g++)
            pthread_join(chain[i].tids[g], NULL);
        sum += chain[i].sum;
        for (size_t k = 0; k < SLOTS; k++) {
            slot_t *s = &chain[i].table[k];
            sum += relay_read(s->p, s->size);
            free(s->p);
        }
        free(chain[i].tids);
    }
    bench_finish(sum);
    return 0;
}
