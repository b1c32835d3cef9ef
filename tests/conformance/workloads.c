/* tests/conformance/workloads.c -- the workloads the replay checks.
 *
 *   single_mix      one thread: small, medium, large, aligned, calloc and
 *                   realloc mixed at random, owner frees (alloc_pop, extend,
 *                   free_local, collect, page_init) plus a deferred-free hook
 *                   that frees inside malloc
 *   remote_frees    a producer allocates, a consumer thread frees
 *                   (free_remote, collect of thread_free)
 *   full_pages      pages filled to the last block go to the full queue
 *                   (to_full), are freed by another thread (WATCH -> QUEUED)
 *                   and by the owner, and are found again (unfull)
 *   abandon         threads exit with live blocks (abandon, free_remote to an
 *                   ownerless page) and another thread adopts them (reclaim)
 *   retire          emptied pages retire after the delay, and by sa_collect
 *                   (retire), their memory purged later
 *   heaps           first-class heaps: their owner's frees go remote, one heap
 *                   deleted (abandon + reclaim by the thread's heap), one
 *                   destroyed (collect, free_local of every live block, retire)
 *   swap_table      two threads swap blocks into a shared table and free the
 *                   one each displaces, the other's (kept in its remote
 *                   cache, handed out by its next mallocs until the cache
 *                   runs dry: remote_cache_dry) or its own (free_local)
 *
 * Every block is filled with a pattern and checked when freed, so a plant
 * that hands out a block twice may also show as a corrupted pattern; the
 * replay is what must catch it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "shardalloc.h"
#include "config.h"
#include "workloads.h"
#include "internal.h"     /* _sa_heap_give_up: the abandon workload's exit */

/* ---- helpers --------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t rng_range(uint64_t *s, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(s) % (hi - lo + 1));
}

/* The first word of a block holds a tag of its pointer and size. */
static void tag(void *p, size_t size)
{
    if (p != NULL && size >= sizeof(uint64_t)) {
        uint64_t t = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15u ^ size;
        memcpy(p, &t, sizeof t);
    }
}

static void check_tag(void *p, size_t size)
{
    if (p == NULL || size < sizeof(uint64_t))
        return;
    uint64_t t = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15u ^ size, have;
    memcpy(&have, p, sizeof have);
    if (have != t)
        fprintf(stderr, "workload: block %p of %zu bytes was overwritten\n", p, size);
}

typedef struct slot_s {
    void *p;
    size_t size;
} slot_t;

static void slot_free(slot_t *s)
{
    check_tag(s->p, s->size);
    sa_free(s->p);
    s->p = NULL;
    s->size = 0;
}

/* A size of a random kind: small, medium (small page limit up to medium
 * page limit), large (medium limit up to a quarter of the large limit). */
static size_t random_size(uint64_t *rng)
{
    unsigned k = (unsigned)rng_range(rng, 0, 99);
    if (k < 70)
        return rng_range(rng, 1, k < 35 ? 256 : SA_SMALL_OBJ_SIZE_MAX);
    if (k < 95)
        return rng_range(rng, SA_SMALL_OBJ_SIZE_MAX + 1, SA_MEDIUM_OBJ_SIZE_MAX);
    return rng_range(rng, SA_MEDIUM_OBJ_SIZE_MAX + 1, SA_LARGE_OBJ_SIZE_MAX / 4);
}

/* ---- single_mix ------------------------------------------------------------------ */

static slot_t deferred[16];
static unsigned deferred_n;

/* The deferred-free hook: frees what the workload deferred (inside malloc). */
static void hook(bool force, unsigned long long beat, void *arg)
{
    (void)force;
    (void)beat;
    (void)arg;
    while (deferred_n > 0)
        slot_free(&deferred[--deferred_n]);
}

static void single_mix(unsigned scale)
{
    uint64_t rng = 0x5eed5eedULL;
    size_t nslots = 600;
    slot_t *slots = calloc(nslots, sizeof *slots);
    sa_register_deferred_free(hook, NULL);
    for (size_t op = 0; op < 3000 * (size_t)scale; op++) {
        slot_t *s = &slots[rng_range(&rng, 0, nslots - 1)];
        unsigned k = (unsigned)rng_range(&rng, 0, 99);
        if (s->p == NULL) {
            size_t size = random_size(&rng);
            if (k < 10) {
                size_t align = (size_t)1 << rng_range(&rng, 5, 12);
                s->p = sa_aligned_alloc(align, size);
            } else if (k < 15) {
                s->p = sa_calloc(1, size);
            } else {
                s->p = sa_malloc(size);
            }
            s->size = size;
            tag(s->p, size);
        } else if (k < 50) {
            slot_free(s);
        } else if (k < 75) {
            size_t size = k < 62 ? s->size / 2 + 1 : s->size + rng_range(&rng, 1, 4096);
            check_tag(s->p, s->size);
            s->p = sa_realloc(s->p, size);
            s->size = size;
            tag(s->p, size);
        } else if (k < 78 && deferred_n < 16) {
            deferred[deferred_n++] = *s;    /* freed by the hook, inside malloc */
            s->p = NULL;
        }
    }
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].p)
            slot_free(&slots[i]);
    sa_register_deferred_free(NULL, NULL);
    while (deferred_n > 0)
        slot_free(&deferred[--deferred_n]);
    free(slots);
}

/* ---- a queue between threads ------------------------------------------------------- */

typedef struct queue_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    slot_t *items;
    size_t head, tail, cap;
    bool closed;
} queue_t;

static void queue_init(queue_t *q, size_t cap)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->items = calloc(cap, sizeof *q->items);
    q->head = q->tail = 0;
    q->cap = cap;
    q->closed = false;
}

static void queue_destroy(queue_t *q)
{
    free(q->items);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
}

static void queue_put(queue_t *q, slot_t s)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail - q->head == q->cap)
        pthread_cond_wait(&q->cond, &q->lock);
    q->items[q->tail++ % q->cap] = s;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

static void queue_close(queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* false once closed and empty */
static bool queue_get(queue_t *q, slot_t *s)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail == q->head && !q->closed)
        pthread_cond_wait(&q->cond, &q->lock);
    bool got = q->tail != q->head;
    if (got) {
        *s = q->items[q->head++ % q->cap];
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

static void *consumer(void *arg)
{
    queue_t *q = arg;
    slot_t s;
    while (queue_get(q, &s))
        slot_free(&s);
    return NULL;
}

/* ---- remote_frees ------------------------------------------------------------------ */

static void remote_frees(unsigned scale)
{
    uint64_t rng = 0xfeedf00dULL;
    queue_t q;
    queue_init(&q, 256);
    pthread_t t;
    pthread_create(&t, NULL, consumer, &q);
    slot_t keep[64] = { { 0 } };
    /* Blocks of one size freed by the consumer in shuffled order: thread_free
     * then holds half a page out of address order, and the collect that
     * takes it relinks `free` by address (order_free's pass, which the
     * owner's own frees no longer reach: they go onto `free` itself). */
    enum { SCATTERED = 64, SCATTERED_SIZE = 512 };
    slot_t scattered[SCATTERED];
    for (size_t i = 0; i < SCATTERED; i++) {
        scattered[i] = (slot_t){ sa_malloc(SCATTERED_SIZE), SCATTERED_SIZE };
        tag(scattered[i].p, SCATTERED_SIZE);
    }
    for (size_t i = SCATTERED - 1; i > 0; i--) {
        size_t j = rng_range(&rng, 0, i);
        slot_t x = scattered[i];
        scattered[i] = scattered[j];
        scattered[j] = x;
    }
    for (size_t i = 0; i < SCATTERED; i++)
        queue_put(&q, scattered[i]);
    for (size_t i = 0; i < 2500 * (size_t)scale; i++) {
        size_t size = rng_range(&rng, 0, 9) < 8 ? rng_range(&rng, 1, 512) : random_size(&rng);
        slot_t s = { sa_malloc(size), size };
        tag(s.p, size);
        if (rng_range(&rng, 0, 3) == 0) {
            slot_t *k = &keep[rng_range(&rng, 0, 63)];
            if (k->p)
                slot_free(k);    /* an owner free among the remote ones */
            *k = s;
        } else {
            queue_put(&q, s);
        }
    }
    queue_close(&q);
    pthread_join(t, NULL);
    for (size_t i = 0; i < 64; i++)
        if (keep[i].p)
            slot_free(&keep[i]);
    /* the remote frees are on thread_free: rounds of mallocs, each held until
     * the round ends (freed at once, one block would come back every time),
     * run their pages' `free` dry and collect them */
    static const size_t round_size[] = { 64, SCATTERED_SIZE };
    for (size_t r = 0; r < 2; r++) {
        slot_t round[2 * SCATTERED];
        for (size_t i = 0; i < 2 * SCATTERED; i++) {
            round[i] = (slot_t){ sa_malloc(round_size[r]), round_size[r] };
            tag(round[i].p, round[i].size);
        }
        for (size_t i = 0; i < 2 * SCATTERED; i++)
            slot_free(&round[i]);
    }
    queue_destroy(&q);
}

/* ---- full_pages --------------------------------------------------------------------- */

typedef struct batch_s {
    slot_t *s;
    size_t n;
} batch_t;

static void *free_batch(void *arg)
{
    batch_t *b = arg;
    for (size_t i = 0; i < b->n; i++)
        if (b->s[i].p)
            slot_free(&b->s[i]);
    return NULL;
}

static void full_pages(unsigned scale)
{
    /* a size whose pages fill in a few extends */
    size_t size = SA_SMALL_OBJ_SIZE_MAX / 8;
    size_t per_page = SA_SMALL_PAGE_SIZE / size;
    size_t n = per_page * 6, third = n / 3;
    slot_t *s = calloc(n, sizeof *s);
    for (unsigned round = 0; round < 3 * scale; round++) {
        /* the generic path moves each page that ran out to the full queue
         * (to_full: notify WATCH) */
        for (size_t i = 0; i < n; i++) {
            s[i].p = sa_malloc(size);
            s[i].size = size;
            tag(s[i].p, size);
        }
        /* another thread frees the first third: the first remote free to a
         * watched page tells the owner (QUEUED, pushed on remote_pages) */
        batch_t b = { s, third };
        pthread_t t;
        pthread_create(&t, NULL, free_batch, &b);
        pthread_join(t, NULL);
        /* the owner frees every other block of the second third: unfull
         * from the full queue */
        for (size_t i = third + 1; i < 2 * third; i += 2)
            slot_free(&s[i]);
        /* the owner's generic mallocs take the reported pages back (unfull,
         * popped) and collect them */
        for (size_t i = 0; i < third; i++) {
            s[i].p = sa_malloc(size);
            s[i].size = size;
            tag(s[i].p, size);
        }
        for (size_t i = 0; i < n; i++)
            if (s[i].p)
                slot_free(&s[i]);
    }
    free(s);
}

/* ---- abandon --------------------------------------------------------------------------- */

typedef struct leaver_s {
    slot_t *out;        /* blocks left alive for others */
    size_t n;
    uint64_t seed;
} leaver_t;

/* A thread that allocates, fills a page to the full queue, frees some of its
 * blocks locally, and exits with the rest alive. */
static void *leaver(void *arg)
{
    leaver_t *l = arg;
    uint64_t rng = l->seed;
    size_t size = SA_SMALL_OBJ_SIZE_MAX / 16;
    size_t full = SA_SMALL_PAGE_SIZE / size + 8;
    for (size_t i = 0; i < l->n; i++) {
        size_t sz = i < full ? size : rng_range(&rng, 1, 2048);
        l->out[i].p = sa_malloc(sz);
        l->out[i].size = sz;
        tag(l->out[i].p, sz);
    }
    for (size_t i = 0; i < l->n; i += 3)
        slot_free(&l->out[i]);
    /* The thread's exit as when SA_HEAP_STOCK_MAX heaps are stocked already
     * (the exit hook's give-up path, this workload's subject): the heap is
     * abandoned with the rest alive, not stocked for the next thread. */
    _sa_heap_give_up(_sa_heap_tls);
    _sa_thread_register(NULL);
    return NULL;
}

static void abandon(unsigned scale)
{
    for (unsigned round = 0; round < 2 * scale; round++) {
        leaver_t l = { calloc(600, sizeof(slot_t)), 600, 0xabcULL + round };
        pthread_t t;
        pthread_create(&t, NULL, leaver, &l);
        pthread_join(t, NULL);
        /* frees of blocks in ownerless pages: remote */
        for (size_t i = 1; i < l.n; i += 4)
            if (l.out[i].p)
                slot_free(&l.out[i]);
        /* generic mallocs adopt the abandoned segments (reclaim) */
        slot_t mine[64];
        for (size_t i = 0; i < 64; i++) {
            mine[i].size = 48 + 16 * (i % 8);
            mine[i].p = sa_malloc(mine[i].size);
            tag(mine[i].p, mine[i].size);
        }
        /* now ours: owner frees */
        for (size_t i = 0; i < l.n; i++)
            if (l.out[i].p)
                slot_free(&l.out[i]);
        for (size_t i = 0; i < 64; i++)
            slot_free(&mine[i]);
        free(l.out);
    }
}

/* ---- retire ----------------------------------------------------------------------------- */

static void retire(unsigned scale)
{
    size_t n = 600;
    slot_t *s = calloc(n, sizeof *s);
    for (unsigned round = 0; round < 2 * scale; round++) {
        for (size_t i = 0; i < n; i++) {
            s[i].size = 16 << (i % 6);
            s[i].p = sa_malloc(s[i].size);
            tag(s[i].p, s[i].size);
        }
        for (size_t i = 0; i < n; i++)
            slot_free(&s[i]);
        /* generic calls of other size classes age the emptied pages past the
         * retire delay: the sweep and the search retire them */
        for (size_t i = 0; i < 4 * SA_RETIRE_DELAY; i++) {
            size_t size = 3000 + 500 * (i % 32);
            void *p = sa_malloc(size);
            tag(p, size);
            check_tag(p, size);
            sa_free(p);
            void *q = sa_malloc(SA_SMALL_OBJ_SIZE_MAX + size);
            sa_free(q);
        }
        struct timespec ts = { 0, (long)(2 * SA_PURGE_DELAY_MS) * 1000000L };
        nanosleep(&ts, NULL);
        void *p = sa_malloc(100);       /* purge tick */
        sa_free(p);
        sa_collect(true);               /* retire the rest at once */
    }
    free(s);
}

/* ---- first-class heaps ------------------------------------------------------------ */

static void heaps(unsigned scale)
{
    enum { N = 300 };
    slot_t s[N];
    for (unsigned round = 0; round < scale; round++) {
        for (int kind = 0; kind < 2; kind++) {
            sa_heap_t *heap = sa_heap_new();
            for (size_t i = 0; i < N; i++) {
                s[i].size = 16 + 48 * (i % 5);
                s[i].p = sa_heap_malloc(heap, s[i].size);
                tag(s[i].p, s[i].size);
            }
            for (size_t i = 0; i < N; i += 3)
                slot_free(&s[i]);       /* the owner's frees: remote (not its TLS heap) */
            void *more = sa_heap_malloc(heap, 64);  /* a generic call collects them */
            tag(more, 64);
            if (kind == 0) {
                sa_heap_delete(heap);   /* the rest now the thread's heap's */
                for (size_t i = 0; i < N; i++)
                    if (s[i].p)
                        slot_free(&s[i]);
                check_tag(more, 64);
                sa_free(more);
            } else {
                sa_heap_destroy(heap);  /* every block at once */
            }
        }
    }
}

/* ---- swap_table ------------------------------------------------------------------ */

/* Four size classes only, so each thread's cache of a class keeps, hands
 * out and runs dry many times over, between local frees of the same
 * classes. */
enum { SWAP_SLOTS = 64, SWAP_ROUNDS = 600 };

/* The threads take turns, one request each (the turn's parity says whose),
 * so every run interleaves them the same way whatever the scheduler does. */
static _Atomic unsigned swap_turn;
static slot_t swap_slots[SWAP_SLOTS];

typedef struct swapper_s {
    unsigned me;        /* 0 or 1 */
    uint64_t rng;
} swapper_t;

static void *swapper(void *arg)
{
    swapper_t *w = arg;
    for (size_t i = 0; i < SWAP_ROUNDS; i++) {
        while (atomic_load(&swap_turn) % 2 != w->me)
            sched_yield();
        size_t size = 16 * rng_range(&w->rng, 1, 4);
        slot_t s = { sa_malloc(size), size };
        tag(s.p, size);
        slot_t *t = &swap_slots[rng_range(&w->rng, 0, SWAP_SLOTS - 1)];
        slot_t old = *t;
        *t = s;
        if (old.p)
            slot_free(&old);
        atomic_fetch_add(&swap_turn, 1);
    }
    return NULL;
}

static void swap_table(unsigned scale)
{
    for (unsigned r = 0; r < scale; r++) {
        swapper_t w[2] = { { 0, 0x5a5a0001u + r }, { 1, 0xa5a50002u + r } };
        pthread_t a, b;
        atomic_store(&swap_turn, 0);
        pthread_create(&a, NULL, swapper, &w[0]);
        pthread_create(&b, NULL, swapper, &w[1]);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    }
    for (size_t i = 0; i < SWAP_SLOTS; i++)
        if (swap_slots[i].p)
            slot_free(&swap_slots[i]);
}

const rp_workload_t rp_workloads[] = {
    { "single_mix", "one thread: small/medium/large/aligned/calloc/realloc, owner frees, hook", single_mix },
    { "remote_frees", "producer allocates, consumer thread frees", remote_frees },
    { "full_pages", "full pages watched, freed remotely and locally, taken back", full_pages },
    { "abandon", "threads exit with live blocks, another thread adopts them", abandon },
    { "retire", "emptied pages retire after the delay and by sa_collect, then purge", retire },
    { "heaps", "first-class heaps: remote frees by the owner, delete, destroy", heaps },
    { "swap_table", "two threads free each other's blocks: remote cache kept, handed out, dry", swap_table },
};
const size_t rp_workload_count = sizeof rp_workloads / sizeof *rp_workloads;
