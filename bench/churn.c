/* bench/churn.c -- workload 4: thread churn. Every round starts fresh
 * threads; each allocates a batch, frees part of it itself, and leaves the
 * rest alive when it exits. Those objects outlive their thread for two more
 * rounds and are then freed by a thread of a later round: the exit path
 * (abandoning pages that still hold live blocks), the reclaim path, and frees
 * into pages whose owner is gone (the pattern of threadtest/alloc-test). */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS     4
#define BATCH       6000    /* objects each thread allocates per round */
#define KEEP_ROUNDS 3       /* survivors are freed this many rounds later */

typedef struct obj_s { void *p; size_t size; } obj_t;

typedef struct job_s {
    size_t round, id;
    obj_t *keep;            /* survivors this thread leaves behind */
    obj_t *reap;            /* survivors of an earlier round to free, or NULL */
    uint64_t sum;
} job_t;

/* Survivors, by round (mod SLOTS) and thread. Round r fills slot r % SLOTS
 * and reaps slot (r + 1) % SLOTS, filled KEEP_ROUNDS rounds before: the two
 * never meet, so threads share no slot. */
#define SLOTS       (KEEP_ROUNDS + 1)
static obj_t kept[SLOTS][THREADS][BATCH / 2];

static void *job(void *arg)
{
    job_t *j = arg;
    bench_rng_t rng = { j->round * 7919 + j->id };
    obj_t local[BATCH / 2];
    if (j->reap != NULL)
        for (size_t i = 0; i < BATCH / 2; i++) {
            j->sum += bench_read(j->reap[i].p, j->reap[i].size);
            free(j->reap[i].p);
            j->reap[i].p = NULL;
        }
    for (size_t i = 0; i < BATCH; i++) {
        size_t size = bench_range(&rng, 16, 256);
        void *p = malloc(size);
        if (p == NULL) {
            perror("malloc");
            exit(1);
        }
        bench_fill(p, size, i + (j->id << 32));
        /* Interleave: even objects stay behind, odd ones die here. */
        if (i & 1)
            local[i / 2] = (obj_t){ p, size };
        else
            j->keep[i / 2] = (obj_t){ p, size };
    }
    for (size_t i = 0; i < BATCH / 2; i++) {
        j->sum += bench_read(local[i].p, local[i].size);
        free(local[i].p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t rounds = bench_scaled(600);
    uint64_t sum = 0;
    for (size_t round = 0; round < rounds; round++) {
        pthread_t tid[THREADS];
        job_t jobs[THREADS];
        size_t fill = round % SLOTS, reap = (round + 1) % SLOTS;
        for (size_t i = 0; i < THREADS; i++) {
            /* Thread i frees what thread i+1 of an earlier round left. */
            obj_t *mine = round >= KEEP_ROUNDS ? kept[reap][(i + 1) % THREADS] : NULL;
            jobs[i] = (job_t){ round, i, kept[fill][i], mine, 0 };
        }
        for (size_t i = 0; i < THREADS; i++)
            if (pthread_create(&tid[i], NULL, job, &jobs[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
        for (size_t i = 0; i < THREADS; i++) {
            pthread_join(tid[i], NULL);
            sum += jobs[i].sum;
        }
    }
    for (size_t r = 0; r < SLOTS; r++)
        for (size_t t = 0; t < THREADS; t++)
            for (size_t i = 0; i < BATCH / 2; i++)
                if (kept[r][t][i].p != NULL) {
                    sum += bench_read(kept[r][t][i].p, kept[r][t][i].size);
                    free(kept[r][t][i].p);
                }
    bench_finish(sum);
    return 0;
}
