/* bench/prodcons.c -- workload 2: producer/consumer. One thread allocates and
 * fills small blocks, another reads and frees them: every free is a free from
 * a thread that does not own the block (the cross-thread free path, the
 * pattern of xmalloc-test). Pointers travel in batches through a
 * single-producer single-consumer ring of batches, so the queue itself does
 * not allocate, and a hand-over costs little next to the allocations. */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define BATCH       64      /* blocks per hand-over */
#define RING_SIZE   1024u   /* batches in flight at most (65536 blocks) */

typedef struct item_s { void *p; size_t size; } item_t;
typedef struct batch_s { item_t item[BATCH]; } batch_t;

static batch_t ring[RING_SIZE];
static _Atomic size_t ring_head;    /* next slot the producer writes */
static _Atomic size_t ring_tail;    /* next slot the consumer reads */
static size_t total;

/* Waiting for the peer: spin a little (the hand-over is usually quick), then
 * sleep on a condition variable. Not sched_yield in a loop: on a busy 2-core
 * machine that turns other processes' load into this workload's time. A
 * sleeper waits for the ring to be half drained (or half filled), not for one
 * batch, so the threads do not wake each other once per batch. The sleeper
 * registers in `waiters` before its last check, the publisher reads `waiters`
 * after its store (both sequentially consistent): no wake-up is lost. */
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;
static _Atomic int waiters;
static _Atomic int producer_done;

/* Batches in the ring. */
static size_t ring_fill(void)
{
    return atomic_load(&ring_head) - atomic_load(&ring_tail);
}

static int room_for_one(void)  { return ring_fill() < RING_SIZE; }
static int half_empty(void)    { return ring_fill() <= RING_SIZE / 2; }
static int one_ready(void)     { return ring_fill() > 0; }
static int half_full(void)     { return ring_fill() >= RING_SIZE / 2 || atomic_load(&producer_done); }

static void wait_for(int (*ready)(void), int (*wake)(void))
{
    for (int i = 0; i < 1000; i++) {
        if (ready())
            return;
        __builtin_ia32_pause();
    }
    pthread_mutex_lock(&wait_lock);
    atomic_fetch_add(&waiters, 1);
    while (!wake() && !ready())
        pthread_cond_wait(&wait_cond, &wait_lock);
    atomic_fetch_sub(&waiters, 1);
    pthread_mutex_unlock(&wait_lock);
}

static void wake_peer(void)
{
    if (atomic_load(&waiters) > 0) {
        pthread_mutex_lock(&wait_lock);
        pthread_cond_broadcast(&wait_cond);
        pthread_mutex_unlock(&wait_lock);
    }
}

static void publish(_Atomic size_t *index, size_t value)
{
    atomic_store(index, value);
    wake_peer();
}

static void *producer(void *arg)
{
    (void)arg;
    bench_rng_t rng = { 2 };
    for (size_t i = 0; i < total; i += BATCH) {
        size_t h = atomic_load_explicit(&ring_head, memory_order_relaxed);
        wait_for(room_for_one, half_empty);
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
        publish(&ring_head, h + 1);
    }
    atomic_store(&producer_done, 1);
    wake_peer();
    return NULL;
}

static void *consumer(void *arg)
{
    uint64_t *sum = arg;
    for (size_t i = 0; i < total; i += BATCH) {
        size_t t = atomic_load_explicit(&ring_tail, memory_order_relaxed);
        wait_for(one_ready, half_full);
        batch_t *b = &ring[t % RING_SIZE];
        for (size_t k = 0; k < BATCH; k++) {
            *sum += bench_read(b->item[k].p, b->item[k].size);
            free(b->item[k].p);
        }
        publish(&ring_tail, t + 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    /* A whole number of batches. */
    total = (bench_scaled(16000000) + BATCH - 1) / BATCH * BATCH;
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
