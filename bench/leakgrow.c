/* bench/leakgrow.c -- leak-growth with threads: every round starts THREADS
 * fresh threads; each works on a live set of its own (frees a random block,
 * allocates one in its place), then ends, freeing its live set but for a few
 * blocks it leaks: they stay allocated until the program ends, scattered
 * over the pages the thread used. The leaked set grows slowly and steadily;
 * the rest of each thread's memory is free again when it ends. An allocator
 * that reuses the pages dead threads left behind (rather than keeping each
 * thread's pages for the few blocks on them) stays near the leaked size
 * plus one round's working set.
 *
 * The checksum is the sum of bench_read() over every block. */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define LIVE    2048    /* a thread's live set */
#define STEPS   20000   /* replacements per thread per round */
#define LEAK    32      /* blocks a thread leaves allocated when it ends */

typedef struct obj_s { void *p; size_t size; } obj_t;

typedef struct job_s {
    size_t round, id;
    obj_t *leaked;      /* LEAK entries for this thread's leaks */
    uint64_t sum;
} job_t;

static size_t leak_size(bench_rng_t *rng)
{
    uint64_t r = bench_rand(rng);
    return 16 + (size_t)((r >> 8) % ((r & 7) == 0 ? 2033 : 241));
}

static void *job(void *arg)
{
    job_t *j = arg;
    bench_rng_t rng = { (j->round << 8) + j->id };
    obj_t *live = calloc(LIVE, sizeof *live);
    if (live == NULL) {
        perror("calloc");
        exit(1);
    }
    for (size_t s = 0; s < STEPS; s++) {
        obj_t *o = &live[bench_rand(&rng) % LIVE];
        if (o->p != NULL) {
            j->sum += bench_read(o->p, o->size);
            free(o->p);
        }
        o->size = leak_size(&rng);
        o->p = malloc(o->size);
        if (o->p == NULL) {
            perror("malloc");
            exit(1);
        }
        bench_fill(o->p, o->size, (j->round << 40) + (j->id << 32) + s);
    }
    /* Leak every LIVE/LEAK-th block, free the others. */
    size_t n = 0;
    for (size_t i = 0; i < LIVE; i++) {
        if (live[i].p == NULL)
            continue;
        if (i % (LIVE / LEAK) == 0 && n < LEAK) {
            j->leaked[n++] = live[i];
        } else {
            j->sum += bench_read(live[i].p, live[i].size);
            free(live[i].p);
        }
    }
    free(live);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t rounds = bench_scaled(400);
    obj_t *leaked = calloc(rounds * THREADS * LEAK, sizeof *leaked);
    if (leaked == NULL) {
        perror("calloc");
        return 1;
    }
    uint64_t sum = 0;
    for (size_t round = 0; round < rounds; round++) {
        pthread_t tid[THREADS];
        job_t jobs[THREADS];
        for (size_t i = 0; i < THREADS; i++) {
            jobs[i] = (job_t){ round, i, &leaked[(round * THREADS + i) * LEAK], 0 };
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
    long rss_end = bench_rss_now_kib();
    for (size_t i = 0; i < rounds * THREADS * LEAK; i++)
        if (leaked[i].p != NULL) {
            sum += bench_read(leaked[i].p, leaked[i].size);
            free(leaked[i].p);
        }
    free(leaked);
    printf("rss_leaked_kib: %ld\n", rss_end);
    bench_finish(sum);
    return 0;
}
