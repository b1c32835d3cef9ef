/* bench/falseshare.c -- workload 5: false sharing (the pattern of
 * cache-scratch). The main thread allocates small objects back to back and
 * hands one to each worker; a worker writes its object many times, frees it
 * and allocates a replacement, again and again. An allocator that puts the
 * workers' objects on one cache line (or hands a worker back a block from
 * the main thread's page) makes the cores fight over the line. */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS     2       /* one per core */
#define OBJ_SIZE    8       /* several fit one cache line */

typedef struct worker_s {
    volatile uint64_t *obj;
    size_t rounds, writes;
    uint64_t sum;
} worker_t;

/* Workers start together, or the first could finish before the second runs. */
static pthread_barrier_t start;

static void *worker(void *arg)
{
    worker_t *w = arg;
    volatile uint64_t *obj = w->obj;
    pthread_barrier_wait(&start);
    for (size_t r = 0; r < w->rounds; r++) {
        *obj = r;
        for (size_t i = 0; i < w->writes; i++)
            *obj += i;
        w->sum += *obj;
        free((void *)obj);
        obj = malloc(OBJ_SIZE);
        if (obj == NULL) {
            perror("malloc");
            exit(1);
        }
    }
    free((void *)obj);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    pthread_t tid[WORKERS];
    worker_t w[WORKERS];
    for (size_t i = 0; i < WORKERS; i++) {
        w[i] = (worker_t){ malloc(OBJ_SIZE), bench_scaled(1000000), 1000, 0 };
        if (w[i].obj == NULL) {
            perror("malloc");
            return 1;
        }
    }
    pthread_barrier_init(&start, NULL, WORKERS);
    for (size_t i = 0; i < WORKERS; i++)
        if (pthread_create(&tid[i], NULL, worker, &w[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    uint64_t sum = 0;
    for (size_t i = 0; i < WORKERS; i++) {
        pthread_join(tid[i], NULL);
        sum += w[i].sum;
    }
    bench_finish(sum);
    return 0;
}
