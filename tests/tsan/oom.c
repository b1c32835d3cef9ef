/* tests/tsan/oom.c -- out of memory with several threads under
 * ThreadSanitizer (make test-tsan runs it with SHARDALLOC_LIMIT=48M, the
 * allocator's own cap on mapped bytes: an address-space limit would refuse
 * the sanitizer's shadow memory). Four threads fill memory until NULL, which
 * raises the memory pressure (src/heap.c), free everything, meet and ask for
 * small blocks again; six cycles in which each thread frees its own blocks
 * (every thread-cycle must get its blocks: docs/design.md, "Out of memory"),
 * then six in which a third of each thread's blocks are freed by its
 * neighbour (remote frees into pages whose owner retires them under
 * pressure; their recovery is not asserted: pages emptied by other threads'
 * frees wait for their owner's generic calls). Any race the sanitizer sees,
 * a fill that never reaches the cap, or an own-frees thread-cycle that gets
 * NULL fails. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shardalloc.h"

enum { THREADS = 4, CYCLES = 6 };

static pthread_barrier_t barrier;
static _Atomic(void *) handed[THREADS];     /* each thread's blocks for its neighbour */
static atomic_int nulls, failed;
static bool remote;                         /* set between the two halves, no thread running */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void release(void *chain)
{
    while (chain != NULL) {
        void *next = *(void **)chain;
        sa_free(chain);
        chain = next;
    }
}

static void *worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    uint64_t rng = 7919 * (t + 1);
    static const size_t probe[] = { 16, 100, 1000, 4000, 8000 };
    for (int c = 0; c < CYCLES; c++) {
        pthread_barrier_wait(&barrier);
        void *own = NULL, *other = NULL;
        for (size_t n = 0;; n++) {
            uint64_t r = next_rand(&rng);
            size_t size = r % 4 == 0 ? 8193 + (r >> 8) % 57000 : 16 + (r >> 8) % 8000;
            void **p = sa_malloc(size);
            if (p == NULL) {
                atomic_fetch_add(&nulls, 1);
                break;
            }
            memset(p, 0x5a, size < 64 ? size : 64);
            if (remote && n % 3 == 0) {
                *p = other;
                other = p;
            } else {
                *p = own;
                own = p;
            }
        }
        atomic_store(&handed[t], other);
        pthread_barrier_wait(&barrier);     /* every thread is full */
        release(own);
        release(atomic_exchange(&handed[(t + 1) % THREADS], NULL));
        pthread_barrier_wait(&barrier);     /* everything is freed */
        void *got[sizeof probe / sizeof probe[0]];
        bool bad = false;
        for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
            bad |= (got[i] = sa_malloc(probe[i])) == NULL;
        for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
            sa_free(got[i]);
        if (bad && !remote)
            atomic_fetch_add(&failed, 1);
    }
    return NULL;
}

static bool run(void)
{
    pthread_t tid[THREADS];
    for (size_t t = 0; t < THREADS; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)(uintptr_t)t) != 0)
            return false;
    for (size_t t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    return true;
}

int main(void)
{
    if (pthread_barrier_init(&barrier, NULL, THREADS) != 0 || !run())
        return 2;
    remote = true;
    if (!run())
        return 2;
    int n = atomic_load(&nulls), f = atomic_load(&failed);
    if (n < 2 * THREADS * CYCLES) {
        fprintf(stderr, "oom: only %d of %d fills reached the cap (SHARDALLOC_LIMIT unset?)\n", n,
                2 * THREADS * CYCLES);
        return 1;
    }
    if (f != 0) {
        fprintf(stderr, "oom: in %d of %d thread-cycles a small malloc got NULL after every block was freed\n",
                f, THREADS * CYCLES);
        return 1;
    }
    printf("ok: %d threads x %d cycles filled the %s cap and recovered; %d more with remote frees\n",
           THREADS, CYCLES, getenv("SHARDALLOC_LIMIT"), CYCLES);
    return 0;
}
