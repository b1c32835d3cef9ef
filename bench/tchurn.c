/* bench/tchurn.c -- thread churn with objects handed across threads: every
 * round starts THREADS fresh threads and joins them. Each keeps a small
 * working set of its own, and every fourth block it allocates goes into a
 * shared exchange table instead, displacing (and freeing) whatever block was
 * there -- built by another thread of this round or by a thread that has
 * ended. When a thread finishes it frees half of its working set and hands
 * the other half to the exchange table. So blocks outlive their threads and
 * are freed by later ones, and every round's pages are left behind by
 * threads that are gone: the exit (abandon) path, reclaiming those pages,
 * and frees into pages with no owner, at thread-creation rate.
 *
 * The checksum is the sum of bench_read() over every block, whoever frees
 * it: the same for every allocator and every interleaving. */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS     4
#define EXCHANGE    8192    /* blocks in the shared exchange table */
#define WORKING     512     /* a thread's own working set */
#define STEPS       3000    /* allocations per thread per round */

static _Atomic(void *) exchange[EXCHANGE];

typedef struct job_s {
    size_t round, id;
    uint64_t sum;
} job_t;

/* Sizes 16..1024, smaller ones more often; the size travels in the low 16
 * bits of the tag so whichever thread frees a block can read it back. */
static size_t churn_size(bench_rng_t *rng)
{
    uint64_t r = bench_rand(rng);
    return 16 + (size_t)((r >> 8) % ((r & 3) == 0 ? 1009 : 241));
}

static uint64_t hand_over(bench_rng_t *rng, void *p)
{
    void *old = atomic_exchange_explicit(&exchange[bench_rand(rng) % EXCHANGE], p,
                                         memory_order_acq_rel);
    return old != NULL ? bench_release_tagged(old) : 0;
}

static void *job(void *arg)
{
    job_t *j = arg;
    bench_rng_t rng = { (j->round << 8) + j->id };
    void *mine[WORKING] = { 0 };
    for (size_t s = 0; s < STEPS; s++) {
        size_t size = churn_size(&rng);
        void *p = malloc(size);
        if (p == NULL) {
            perror("malloc");
            exit(1);
        }
        uint64_t tag = (j->round << 40) + (j->id << 32) + (s << 16) + size;
        bench_fill(p, size, tag);
        if ((s & 3) == 3) {
            j->sum += hand_over(&rng, p);
            continue;
        }
        void **slot = &mine[bench_rand(&rng) % WORKING];
        if (*slot != NULL)
            j->sum += bench_release_tagged(*slot);
        *slot = p;
    }
    for (size_t i = 0; i < WORKING; i++)
        if (mine[i] != NULL)
            j->sum += (i & 1) ? bench_release_tagged(mine[i]) : hand_over(&rng, mine[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t rounds = bench_scaled(1500);
    uint64_t sum = 0;
    for (size_t round = 0; round < rounds; round++) {
        pthread_t tid[THREADS];
        job_t jobs[THREADS];
        for (size_t i = 0; i < THREADS; i++) {
            jobs[i] = (job_t){ round, i, 0 };
            if (pthread_create(&tid[i], NULL, job, &jobs[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (size_t i = 0; i < THREADS; i++) {
            pthread_join(tid[i], NULL);
            sum += jobs[i].sum;
        }
    }
    sum += bench_release_table(exchange, EXCHANGE);
    bench_finish(sum);
    return 0;
}
