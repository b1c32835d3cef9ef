/* tests/fuzz/main.c -- the seeded fuzzer: `make test` runs it briefly with a
 * fixed seed, `make fuzz` long with a fresh one (mk/fuzz.mk).
 *
 *   fuzz [--seed S] [--ops N] [--threads T] [--slots K] [--trace-from I]
 *
 * --threads 0: N operations in this thread, reproducible from the seed alone
 * (a failure prints the command that replays it, with a trace of the last
 * operations). --threads T: T threads at a time run N operations between
 * them; each lives for a random number of operations and exits, and a new one
 * takes its place; blocks move between threads through shared exchange
 * cells, and a thread that exits leaves part of its blocks to its successors
 * (they free them: blocks of a dead thread, freed from another). Thread g's
 * decisions follow from the seed and g, the interleaving does not: a failure
 * prints the seed, the thread and the operation.
 *
 * At the end every block is freed, and sa_collect(true) must bring the bytes
 * handed out back to what they were before the run. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shardalloc.h"
#include "fuzz.h"

enum { EXCHANGE_CELLS = 64, LIFETIME_MIN = 2000, LIFETIME_SPREAD = 20000 };

static struct {
    uint64_t seed;
    uint64_t ops;
    unsigned threads;
    size_t slots;
    uint64_t trace_from;
} opt = { 0, 1000000, 0, 512, UINT64_MAX };

static _Atomic(fz_block_t *) exchange[EXCHANGE_CELLS];

/* Blocks of threads that exited, for the next ones to take over. */
static pthread_mutex_t orphans_lock = PTHREAD_MUTEX_INITIALIZER;
static fz_block_t *orphans;

/* Threads that finished, for main to join and replace. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_count;

typedef struct worker_s {
    pthread_t th;
    unsigned gen;
    uint64_t quota;
    bool done;
    uint64_t ops, ok, refused;
} worker_t;

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    fz_ctx_t c;
    fz_ctx_init(&c, opt.slots, w->gen, mix(opt.seed ^ ((uint64_t)w->gen << 32)), NULL, 0);
    c.exchange = exchange;
    c.nexchange = EXCHANGE_CELLS;
    /* take over up to a quarter of the slots from threads that exited */
    pthread_mutex_lock(&orphans_lock);
    for (size_t i = 0; i < opt.slots / 4 && orphans != NULL; i++) {
        size_t slot = fz_below(&c.src, opt.slots);
        if (c.slots[slot] == NULL) {
            c.slots[slot] = orphans;
            orphans = orphans->next;
        }
    }
    pthread_mutex_unlock(&orphans_lock);
    for (uint64_t i = 0; i < w->quota; i++)
        fz_step(&c);
    /* leave about half the blocks behind, free the rest */
    for (size_t i = 0; i < opt.slots; i++) {
        fz_block_t *b = c.slots[i];
        if (b != NULL && fz_below(&c.src, 2) == 0) {
            pthread_mutex_lock(&orphans_lock);
            b->next = orphans;
            orphans = b;
            pthread_mutex_unlock(&orphans_lock);
            c.slots[i] = NULL;
        }
    }
    w->ops = c.op;
    w->ok = c.ok;
    w->refused = c.refused;
    fz_ctx_fini(&c);
    pthread_mutex_lock(&done_lock);
    w->done = true;
    done_count++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

static void start(worker_t *w, unsigned gen, uint64_t *remaining)
{
    uint64_t life = LIFETIME_MIN + mix(opt.seed ^ gen) % LIFETIME_SPREAD;
    memset(w, 0, sizeof *w);
    w->gen = gen;
    w->quota = life < *remaining ? life : *remaining;
    *remaining -= w->quota;
    if (pthread_create(&w->th, NULL, worker, w) != 0) {
        perror("fuzz: pthread_create");
        exit(1);
    }
}

/* T threads at a time until the operations are spent; returns the threads run. */
static unsigned run_threads(uint64_t *ok, uint64_t *refused)
{
    worker_t *w = calloc(opt.threads, sizeof *w);
    uint64_t remaining = opt.ops;
    unsigned gen = 0, active = 0;
    for (unsigned i = 0; i < opt.threads && remaining > 0; i++, active++)
        start(&w[i], ++gen, &remaining);
    while (active > 0) {
        pthread_mutex_lock(&done_lock);
        while (done_count == 0)
            pthread_cond_wait(&done_cond, &done_lock);
        pthread_mutex_unlock(&done_lock);
        for (unsigned i = 0; i < opt.threads; i++) {
            pthread_mutex_lock(&done_lock);
            bool finished = w[i].done && w[i].quota > 0;
            if (finished)
                done_count--;
            pthread_mutex_unlock(&done_lock);
            if (!finished)
                continue;
            pthread_join(w[i].th, NULL);
            *ok += w[i].ok;
            *refused += w[i].refused;
            active--;
            w[i].quota = 0;
            if (remaining > 0) {
                start(&w[i], ++gen, &remaining);
                active++;
            }
        }
    }
    free(w);
    /* what is left in the exchange and the orphans is freed by this thread */
    fz_ctx_t c;
    fz_ctx_init(&c, 1, 0, opt.seed, NULL, 0);
    c.op_name = "drain";
    for (size_t i = 0; i < EXCHANGE_CELLS; i++) {
        fz_block_t *b = atomic_exchange(&exchange[i], NULL);
        if (b != NULL)
            fz_release(&c, b);
    }
    while (orphans != NULL) {
        fz_block_t *b = orphans;
        orphans = b->next;
        fz_release(&c, b);
    }
    fz_ctx_fini(&c);
    return gen;
}

static uint64_t number(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "fuzz: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    bool seeded = false;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: fuzz [--seed S] [--ops N] [--threads T] [--slots K] [--trace-from I]\n");
            return 2;
        }
        if (strcmp(argv[i], "--seed") == 0)
            opt.seed = number(argv[++i]), seeded = true;
        else if (strcmp(argv[i], "--ops") == 0)
            opt.ops = number(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0)
            opt.threads = (unsigned)number(argv[++i]);
        else if (strcmp(argv[i], "--slots") == 0)
            opt.slots = number(argv[++i]);
        else if (strcmp(argv[i], "--trace-from") == 0)
            opt.trace_from = number(argv[++i]);
        else {
            fprintf(stderr, "fuzz: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        opt.seed = mix((uint64_t)ts.tv_sec ^ ((uint64_t)ts.tv_nsec << 20));
    }
    if (opt.slots == 0) {
        fprintf(stderr, "fuzz: --slots must be at least 1\n");
        return 2;
    }
    printf("fuzz: seed=%#llx ops=%llu threads=%u slots=%zu\n", (unsigned long long)opt.seed,
           (unsigned long long)opt.ops, opt.threads, opt.slots);
    fflush(stdout);

    fz_reports_begin();
    sa_stats_t before, after;
    sa_stats_get(&before);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t ok = 0, refused = 0;
    unsigned threads_run = 0;
    if (opt.threads == 0) {
        fz_ctx_t c;
        fz_ctx_init(&c, opt.slots, 0, opt.seed, NULL, 0);
        for (uint64_t i = 0; i < opt.ops; i++) {
            c.trace = i >= opt.trace_from;
            fz_step(&c);
        }
        ok = c.ok;
        refused = c.refused;
        fz_ctx_fini(&c);
    } else {
        threads_run = run_threads(&ok, &refused);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fz_reports_end();
    if (fz_live_count() != 0) {
        fprintf(stderr, "fuzz: FAIL seed=%#llx: %zu blocks still in the model after the run\n",
                (unsigned long long)opt.seed, fz_live_count());
        return 1;
    }
    sa_collect(true);
    sa_stats_get(&after);
    if (after.allocated != before.allocated) {
        fprintf(stderr, "fuzz: FAIL seed=%#llx: %zu bytes handed out after every block was freed "
                "and sa_collect(true) (%zu before the run)\n", (unsigned long long)opt.seed,
                after.allocated, before.allocated);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("fuzz: ok: seed %#llx, %llu operations (%llu blocks handed out, %llu refused as they must be)",
           (unsigned long long)opt.seed, (unsigned long long)opt.ops, (unsigned long long)ok,
           (unsigned long long)refused);
    if (opt.threads > 0)
        printf(" over %u threads, %u at a time", threads_run, opt.threads);
    printf(" in %.1f s; mapped %zu KiB after sa_collect\n", secs, after.mapped >> 10);
    return 0;
}
