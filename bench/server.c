/* bench/server.c -- workload 3: a server simulation (the pattern of larson):
 * worker threads each own a table of slots and, request after request, free
 * the object in a random slot and allocate one of random size in its place.
 * Every round the workers exit and fresh ones start, each taking over the
 * table a different worker filled: objects are handed between threads and
 * most frees land on pages of a thread that is gone (abandon/reclaim). */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS     4       /* twice the cores: workers get preempted */
#define SLOTS       4000    /* objects per table */

typedef struct slot_s { void *p; size_t size; } slot_t;

typedef struct worker_s {
    slot_t *table;
    size_t round, id, requests;
    uint64_t sum;
} worker_t;

static slot_t tables[THREADS][SLOTS];

/* Request sizes: mostly small, 1 in 16 a medium buffer up to 8 KiB. */
static size_t request_size(bench_rng_t *rng)
{
    if ((bench_rand(rng) & 15) == 0)
        return bench_range(rng, 1024, 8192);
    return bench_range(rng, 16, 400);
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    bench_rng_t rng = { w->round * 1000003 + w->id };
    for (size_t r = 0; r < w->requests; r++) {
        slot_t *s = &w->table[bench_rand(&rng) % SLOTS];
        if (s->p != NULL) {
            w->sum += bench_read(s->p, s->size);
            free(s->p);
        }
        s->size = request_size(&rng);
        s->p = malloc(s->size);
        if (s->p == NULL) {
            perror("malloc");
            exit(1);
        }
        bench_fill(s->p, s->size, r ^ (w->id << 48));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t rounds = bench_scaled(30);
    uint64_t sum = 0;
    for (size_t round = 0; round < rounds; round++) {
        pthread_t tid[THREADS];
        worker_t w[THREADS];
        for (size_t i = 0; i < THREADS; i++) {
            /* Worker i of this round takes the table worker i-1 had. */
            w[i] = (worker_t){ tables[(i + round) % THREADS], round, i, 100000, 0 };
            if (pthread_create(&tid[i], NULL, worker, &w[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (size_t i = 0; i < THREADS; i++) {
            pthread_join(tid[i], NULL);
            sum += w[i].sum;
        }
    }
    for (size_t t = 0; t < THREADS; t++)
        for (size_t i = 0; i < SLOTS; i++)
            if (tables[t][i].p != NULL) {
                sum += bench_read(tables[t][i].p, tables[t][i].size);
                free(tables[t][i].p);
            }
    bench_finish(sum);
    return 0;
}
