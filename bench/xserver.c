/* bench/xserver.c -- a server whose threads free each other's blocks: the
 * worker threads share one table of cached responses; a request builds a new
 * response (a block of random size) and swaps it into a random slot, freeing
 * the block it displaces -- which another worker built in all but 1/THREADS
 * of the cases. So nearly every free is a remote free, into a page whose
 * owner is alive and allocating (unlike `server`, where the owner is gone).
 * THREADS above the core count adds preemption in the middle of a free.
 * With `sparse`, a response leaves its second word as malloc gave it (a
 * short string, a one-word header): what an allocator leaves there is
 * still there when the block is freed.
 *
 *   xserver SCALE THREADS [sparse]     e.g. xserver 1 2, xserver 1 8, xserver 1 2 sparse
 *
 * The checksum is the sum over every block of what bench_read() gives for
 * it, whoever frees it: addition does not care about the order, so it is the
 * same for every allocator and every interleaving. */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS       16384
#define MAX_THREADS 64

static _Atomic(void *) table[SLOTS];
static uint64_t fill_mode;     /* 0, or BENCH_TAG_SPARSE */

typedef struct worker_s {
    pthread_t tid;
    size_t id, requests;
    uint64_t sum;
} worker_t;

/* Response sizes: mostly small, 1 in 32 a buffer up to 4 KiB. The size
 * travels in the low 16 bits of the block's tag, so any thread can read the
 * block back. */
static size_t response_size(bench_rng_t *rng)
{
    uint64_t r = bench_rand(rng);
    if ((r & 31) == 0)
        return 513 + (size_t)((r >> 8) % 3584);
    return 16 + (size_t)((r >> 8) % 497);
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    bench_rng_t rng = { 0x5eed0000 + w->id };
    for (size_t r = 0; r < w->requests; r++) {
        size_t size = response_size(&rng);
        void *p = malloc(size);
        if (p == NULL) {
            perror("malloc");
            exit(1);
        }
        bench_fill(p, size, (((w->id << 40) | (r << 16)) + size) | fill_mode);
        void *old = atomic_exchange_explicit(&table[bench_rand(&rng) % SLOTS], p,
                                             memory_order_acq_rel);
        if (old != NULL)
            w->sum += bench_release_tagged(old);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t threads = bench_arg_count(argc, argv, 2, MAX_THREADS, "threads");
    if (argc > 3) {
        if (strcmp(argv[3], "sparse") != 0) {
            fprintf(stderr, "%s: the fourth argument is `sparse` or nothing\n", argv[0]);
            return 2;
        }
        fill_mode = BENCH_TAG_SPARSE;
    }
    /* The same number of requests in all, however many threads share them. */
    size_t total = bench_scaled(8000000);
    worker_t w[MAX_THREADS];
    for (size_t i = 0; i < threads; i++) {
        w[i] = (worker_t){ .id = i, .requests = total / threads };
        if (pthread_create(&w[i].tid, NULL, worker, &w[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
        sum += w[i].sum;
    }
    sum += bench_release_table(table, SLOTS);
    bench_finish(sum);
    return 0;
}
