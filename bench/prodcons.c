/* bench/prodcons.c -- workload 2: producer/consumer. One thread allocates and
 * fills small blocks, another reads and frees them: every free is a free from
 * a thread that does not own the block (the cross-thread free path, the
 * pattern of xmalloc-test). Pointers travel in batches through a
 * single-producer single-consumer ring of batches, so the queue itself does
 * not allocate, and a hand-over costs little next to the allocations even
 * when the two threads must share one core. */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define BATCH       64      /* blocks per hand-over */
#define RING_SIZE   64u     /* batches in flight at most (4096 blocks) */

typedef struct item_s { void *p; size_t size; } item_t;
typedef struct batch_s { item_t item[BATCH]; } batch_t;

static batch_t ring[RING_SIZE];
static _Atomic size_t ring_head;    /* next slot the producer writes */
static _Atomic size_t ring_tail;    /* next slot the consumer reads */
static size_t total;

/* Spin briefly, then yield: with 2 cores the peer may share ours. */
static void backoff(unsigned *spins)
{
    if (++*spins > 64) {
        sched_yield();
        *spins = 0;
    }
}

static void *producer(void *arg)
{
    (void)arg;
    bench_rng_t rng = { 2 };
    for (size_t i = 0; i < total; i += BATCH) {
        size_t h = atomic_load_explicit(&ring_head, memory_order_relaxed);
        unsigned spins = 0;
        while (h - atomic_load_explicit(&ring_tail, memory_order_acquire) == RING_SIZE)
            backoff(&spins);
        batch_t *b = &ring[h % RING_SIZE];
        for (size_t k = 0; k < BATCH; k++) {
            /* Mostly tiny, a tail up to 512 bytes. */
            size_t size = (bench_rand(&rng) & 3) ? bench_range(&rng, 8, 64)
                                                 : bench_range(&rng, 65, 512);
            void *p = malloc(size);
            if (p == NULL) {
                perror("malloc");
                exit(1);
            }
            bench_fill(p, size, i + k);
            b->item[k] = (item_t){ p, size };
        }
        atomic_store_explicit(&ring_head, h + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    uint64_t *sum = arg;
    for (size_t i = 0; i < total; i += BATCH) {
        size_t t = atomic_load_explicit(&ring_tail, memory_order_relaxed);
        unsigned spins = 0;
        while (atomic_load_explicit(&ring_head, memory_order_acquire) == t)
            backoff(&spins);
        batch_t *b = &ring[t % RING_SIZE];
        for (size_t k = 0; k < BATCH; k++) {
            *sum += bench_read(b->item[k].p, b->item[k].size);
            free(b->item[k].p);
        }
        atomic_store_explicit(&ring_tail, t + 1, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    /* A whole number of batches. */
    total = (bench_scaled(30000000) + BATCH - 1) / BATCH * BATCH;
    uint64_t sum = 0;
    pthread_t prod, cons;
    if (pthread_create(&cons, NULL, consumer, &sum) != 0
            || pthread_create(&prod, NULL, producer, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    bench_finish(sum);
    return 0;
}
