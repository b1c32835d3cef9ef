/* tests/stress/oom_fit.c -- issue 10's out-of-memory pattern, for any malloc
 * (run under LD_PRELOAD): under an address-space limit of LIMIT MiB above the
 * process's size at start, THREADS threads fill memory with small and medium
 * blocks until malloc returns NULL, meet, free everything, meet, and then
 * each asks for a few small blocks again; CYCLES times. Prints per cycle the
 * live data that fit (the sum of the sizes asked for while every thread held
 * its blocks) and the threads whose small mallocs failed after everything was
 * freed, then the totals:
 *
 *   oom_fit LIMIT_MIB THREADS CYCLES
 *   cycle <c> fit_mib <live> failed <threads>
 *   total fit_mib_min <m> fit_mib_mean <a> failed <f> of <threads x cycles>
 *
 * Under shardalloc (found by its sa_stats_get) each cycle line also gives,
 * when every thread is full, the MiB mapped, in blocks handed out (their
 * size classes' sizes) and in blocks made, and the segments.
 *
 * Thread stacks are 256 KiB, so the limit is the allocator's (glibc's
 * default of 8 MiB each would take 32 MiB of it). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "shardalloc.h"     /* sa_stats_t only: the library is found at run time */
#include "../api/sa_vm_size.h"

#define SMALL_MAX   8192        /* shardalloc's small objects (SA_SMALL_OBJ_SIZE_MAX) */
#define MEDIUM_MAX  65536       /* ... and medium ones (to 64 KiB, as SA_MEDIUM_OBJ_SIZE_MAX
                                 * was when the figures of docs/design.md were taken) */
#define MAX_THREADS 64

static const size_t probe[] = { 16, 48, 112, 400, 1500, 3000, SMALL_MAX };

static pthread_barrier_t barrier;
static int cycles;
static size_t live[MAX_THREADS];
static int failed[MAX_THREADS];

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15u * (t + 1);
    for (int c = 0; c < cycles; c++) {
        pthread_barrier_wait(&barrier);
        void *chain = NULL;
        size_t bytes = 0;
        for (;;) {
            uint64_t r = next_rand(&rng);
            size_t size = r % 4 == 0 ? SMALL_MAX + 1 + (r >> 8) % (MEDIUM_MAX - SMALL_MAX)
                                     : 16 + (r >> 8) % (SMALL_MAX - 16);
            void **p = malloc(size);
            if (p == NULL)
                break;
            memset(p, 0x5a, size < 64 ? size : 64);
            *p = chain;
            chain = p;
            bytes += size;
        }
        live[t] = bytes;
        pthread_barrier_wait(&barrier);     /* everyone is full: live[] is the fit */
        pthread_barrier_wait(&barrier);     /* thread 0 read it */
        while (chain != NULL) {
            void *next = *(void **)chain;
            free(chain);
            chain = next;
        }
        pthread_barrier_wait(&barrier);     /* everything is freed */
        void *got[sizeof probe / sizeof probe[0]];
        int bad = 0;
        for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
            if ((got[i] = malloc(probe[i])) == NULL)
                bad = 1;
        for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
            free(got[i]);
        failed[t] += bad;
        pthread_barrier_wait(&barrier);     /* probes done */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: oom_fit LIMIT_MIB THREADS CYCLES\n");
        return 2;
    }
    size_t limit = strtoull(argv[1], NULL, 10) << 20;
    int threads = atoi(argv[2]);
    cycles = atoi(argv[3]);
    if (threads < 1 || threads > MAX_THREADS || cycles < 1)
        return 2;
    pthread_attr_t attr;
    pthread_t tid[MAX_THREADS];
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, (size_t)256 << 10) != 0 ||
        pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1) != 0)
        return 3;
    void (*stats_get)(sa_stats_t *) = (void (*)(sa_stats_t *))dlsym(RTLD_DEFAULT, "sa_stats_get");
    setvbuf(stdout, NULL, _IONBF, 0);   /* no buffer to allocate once the space is full */
    size_t base = vm_size();
    struct rlimit rl = { base + limit, base + limit };
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        perror("setrlimit");
        return 3;
    }
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tid[t], &attr, worker, (void *)(uintptr_t)t) != 0) {
            perror("pthread_create");
            return 3;
        }
    double sum = 0, min = -1;
    for (int c = 0; c < cycles; c++) {
        pthread_barrier_wait(&barrier);     /* fill */
        pthread_barrier_wait(&barrier);     /* full */
        size_t total = 0;
        for (int t = 0; t < threads; t++)
            total += live[t];
        double mib = (double)total / (1 << 20);
        char extra[160] = "";
        if (stats_get != NULL) {
            sa_stats_t st;
            stats_get(&st);
            snprintf(extra, sizeof extra, " mapped_mib %.1f allocated_mib %.1f active_mib %.1f segments %zu",
                     st.mapped / 1048576.0, st.allocated / 1048576.0, st.active / 1048576.0, st.segments);
        }
        sum += mib;
        if (min < 0 || mib < min)
            min = mib;
        pthread_barrier_wait(&barrier);     /* they free */
        pthread_barrier_wait(&barrier);     /* freed: they probe */
        pthread_barrier_wait(&barrier);
        int bad = 0;
        for (int t = 0; t < threads; t++)
            bad += failed[t];
        printf("cycle %d fit_mib %.1f failed %d%s\n", c, mib, bad, extra);
    }
    int bad = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        bad += failed[t];
    }
    printf("total fit_mib_min %.1f fit_mib_mean %.1f failed %d of %d\n", min, sum / cycles, bad,
           threads * cycles);
    return 0;
}
