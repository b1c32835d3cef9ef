/* tests/api/threads.c -- many threads allocating at once: blocks freed by
 * threads other than their owner, owners that exit while their blocks live on
 * elsewhere, thread churn. Every block carries a pattern checked before free. */
#include "sa_thread_test.h"
#include <sched.h>

enum { NT = 4 };

/* ---- cross-thread frees: each thread frees half of its blocks itself and
 * hands the other half, in chains, to the next thread, which checks and frees them. */

enum { XT_OPS = 150000, XT_CHAIN = 32, XT_WINDOW = 256 };

typedef struct inbox_s {
    pthread_mutex_t lock;
    sat_block_t    *head;
} inbox_t;

static inbox_t g_inbox[NT];
static pthread_barrier_t g_barrier;
static atomic_size_t g_remote_freed;

static void inbox_push(inbox_t *in, sat_block_t *first, sat_block_t *last)
{
    pthread_mutex_lock(&in->lock);
    last->next = in->head;
    in->head = first;
    pthread_mutex_unlock(&in->lock);
}

static bool inbox_empty(inbox_t *in)
{
    pthread_mutex_lock(&in->lock);
    bool empty = in->head == NULL;
    pthread_mutex_unlock(&in->lock);
    return empty;
}

static size_t inbox_drain(inbox_t *in)
{
    pthread_mutex_lock(&in->lock);
    sat_block_t *b = in->head;
    in->head = NULL;
    pthread_mutex_unlock(&in->lock);
    return sat_chain_free(b);
}

static void *cross_worker(void *arg)
{
    size_t t = (size_t)arg;
    uint64_t rng = 0x1234 + t;
    sat_block_t *window[XT_WINDOW] = { 0 };
    sat_block_t *chain = NULL, *chain_last = NULL;
    size_t chain_len = 0, freed_remote = 0;
    inbox_t *out = &g_inbox[(t + 1) % NT];

    for (uint64_t i = 0; i < XT_OPS; i++) {
        sat_block_t *b = sat_block_new(sat_pick_size(&rng), (t << 40) | i);
        if (b == NULL)
            break;
        if (i & 1) {
            b->next = chain;
            chain = b;
            if (chain_last == NULL)
                chain_last = b;
            if (++chain_len == XT_CHAIN) {
                inbox_push(out, chain, chain_last);
                chain = chain_last = NULL;
                chain_len = 0;
            }
        } else {
            size_t slot = (size_t)(sat_rand(&rng) % XT_WINDOW);
            if (window[slot] != NULL)
                sat_block_free(window[slot]);
            window[slot] = b;
        }
        if (i % 64 == 0)
            freed_remote += inbox_drain(&g_inbox[t]);
    }
    if (chain != NULL)
        inbox_push(out, chain, chain_last);
    pthread_barrier_wait(&g_barrier);   /* nobody pushes after this */
    freed_remote += inbox_drain(&g_inbox[t]);
    for (size_t s = 0; s < XT_WINDOW; s++)
        if (window[s] != NULL)
            sat_block_free(window[s]);
    atomic_fetch_add(&g_remote_freed, freed_remote);
    return NULL;
}

Test(threads, blocks_freed_by_other_threads_keep_their_contents)
{
    pthread_t th[NT];
    pthread_barrier_init(&g_barrier, NULL, NT);
    for (size_t t = 0; t < NT; t++)
        pthread_mutex_init(&g_inbox[t].lock, NULL);
    for (size_t t = 0; t < NT; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, cross_worker, (void *)t), 0);
    for (size_t t = 0; t < NT; t++)
        pthread_join(th[t], NULL);
    sat_assert_no_thread_failures();
    /* Half of every thread's allocations went to another thread. */
    cr_assert_eq(atomic_load(&g_remote_freed), (size_t)NT * XT_OPS / 2);
}

/* ---- owners exit first: each round's threads free (after checking) the
 * blocks the previous round's threads left behind when they exited, then
 * allocate their own and exit with them live. */

enum { EX_ROUNDS = 20, EX_BLOCKS = 15000 };

static sat_block_t **g_left[NT];    /* blocks left by the previous round's thread t */
static atomic_uint g_round_seed;

static void *exit_worker(void *arg)
{
    size_t t = (size_t)arg;
    uint64_t rng = 0x9876 + t + ((uint64_t)atomic_fetch_add(&g_round_seed, 1) << 8);
    sat_block_t **mine = g_left[t];
    sat_block_t **theirs = g_left[(t + 1) % NT];
    /* Free the even slots the neighbour's predecessor (exited) left; the
     * barrier keeps the neighbour from refilling them before we are done.
     * Odd slots stay live across rounds until the main thread frees them. */
    for (size_t i = 0; i < EX_BLOCKS; i += 2)
        if (theirs[i] != NULL) {
            sat_block_free(theirs[i]);
            theirs[i] = NULL;
        }
    pthread_barrier_wait(&g_barrier);
    for (size_t i = 0; i < EX_BLOCKS; i++) {
        if (mine[i] != NULL && (i & 1))
            continue;   /* odd slots are freed by the next round's neighbour */
        mine[i] = sat_block_new(sat_pick_size(&rng), ((uint64_t)t << 40) | i);
    }
    return NULL;
}

Test(threads, blocks_outlive_their_exited_owner_and_are_freed_by_others)
{
    pthread_t th[NT];
    pthread_barrier_init(&g_barrier, NULL, NT);
    for (size_t t = 0; t < NT; t++)
        g_left[t] = sat_map(EX_BLOCKS * sizeof(sat_block_t *));
    sa_stats_t st;
    size_t peak[2] = { 0, 0 };     /* mapped, highest in the first and second half */
    for (int round = 0; round < EX_ROUNDS; round++) {
        for (size_t t = 0; t < NT; t++)
            cr_assert_eq(pthread_create(&th[t], NULL, exit_worker, (void *)t), 0);
        for (size_t t = 0; t < NT; t++)
            pthread_join(th[t], NULL);
        sat_assert_no_thread_failures();
        /* Odd slots left over from exited threads: the main thread frees them
         * (a remote free into an abandoned page). */
        for (size_t t = 0; t < NT; t++)
            for (size_t i = 1; i < EX_BLOCKS; i += 2)
                if (round % 2 == 1 && g_left[t][i] != NULL) {
                    sat_block_free(g_left[t][i]);
                    g_left[t][i] = NULL;
                }
        sa_stats_get(&st);
        size_t half = round < EX_ROUNDS / 2 ? 0 : 1;
        if (st.mapped > peak[half])
            peak[half] = st.mapped;
    }
    sat_assert_no_thread_failures();
    cr_log_info("exited owners: mapped peaks %zu (first %d rounds), %zu (last %d)",
                peak[0], EX_ROUNDS / 2, peak[1], EX_ROUNDS / 2);
    /* Abandoned pages are reclaimed and reused: the live set is the same every
     * round, so memory must not grow with the number of dead threads (the
     * peak of the later rounds stays near that of the earlier ones). */
    cr_assert_leq(peak[1], peak[0] + peak[0] / 2,
                  "mapped peaked at %zu in the first %d rounds, %zu in the last: abandoned pages not reused",
                  peak[0], EX_ROUNDS / 2, peak[1]);
    for (size_t t = 0; t < NT; t++) {
        for (size_t i = 0; i < EX_BLOCKS; i++)
            if (g_left[t][i] != NULL)
                sat_block_free(g_left[t][i]);
        sat_unmap(g_left[t], EX_BLOCKS * sizeof(sat_block_t *));
    }
    sat_assert_no_thread_failures();
}

/* ---- churn: hundreds of short-lived threads, two at a time, each leaving
 * half its blocks to the main thread. */

enum { CH_THREADS = 300, CH_BLOCKS = 1000 };

static sat_block_t *g_handed[2][CH_BLOCKS / 2];

static void *churn_worker(void *arg)
{
    size_t slot = (size_t)arg & 1;
    uint64_t rng = 0x5555 + (uint64_t)(uintptr_t)arg;
    sat_block_t *local[CH_BLOCKS / 2];
    for (size_t i = 0; i < CH_BLOCKS / 2; i++) {
        local[i] = sat_block_new(sat_pick_size(&rng), (uint64_t)(uintptr_t)arg << 20 | i);
        g_handed[slot][i] = sat_block_new(sat_pick_size(&rng), (uint64_t)(uintptr_t)arg << 21 | i);
    }
    for (size_t i = 0; i < CH_BLOCKS / 2; i++)
        if (local[i] != NULL)
            sat_block_free(local[i]);
    return NULL;
}

Test(threads, many_short_lived_threads_hand_blocks_to_main)
{
    for (size_t k = 0; k < CH_THREADS; k += 2) {
        pthread_t a, b;
        cr_assert_eq(pthread_create(&a, NULL, churn_worker, (void *)(uintptr_t)k), 0);
        cr_assert_eq(pthread_create(&b, NULL, churn_worker, (void *)(uintptr_t)(k + 1)), 0);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        for (size_t s = 0; s < 2; s++)
            for (size_t i = 0; i < CH_BLOCKS / 2; i++)
                if (g_handed[s][i] != NULL)
                    sat_block_free(g_handed[s][i]);
    }
    sat_assert_no_thread_failures();
}

/* ---- remote frees empty the owner's full pages: the owner must find those
 * pages again (to_full / unfull through remote_pages) instead of mapping more. */

enum { RF_ROUNDS = 20, RF_BLOCKS = 40000, RF_SIZE = 64 };

static void *free_all(void *arg)
{
    sat_block_t **blocks = arg;
    for (size_t i = 0; i < RF_BLOCKS; i++)
        sat_block_free(blocks[i]);
    return NULL;
}

Test(threads, pages_emptied_by_remote_frees_are_reused_by_their_owner)
{
    sat_block_t **blocks = sat_map(RF_BLOCKS * sizeof *blocks);
    sa_stats_t st;
    size_t mapped_first = 0;
    for (int round = 0; round < RF_ROUNDS; round++) {
        for (size_t i = 0; i < RF_BLOCKS; i++) {
            blocks[i] = sat_block_new(RF_SIZE, (uint64_t)round << 32 | i);
            cr_assert_not_null(blocks[i]);
        }
        sa_stats_get(&st);
        if (round == 0)
            mapped_first = st.mapped;
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, free_all, blocks), 0);
        pthread_join(th, NULL);
        sat_assert_no_thread_failures();
    }
    /* Without reuse every round maps RF_BLOCKS * RF_SIZE anew; allow half. */
    size_t growth = st.mapped - mapped_first;
    cr_log_info("remote-freed rounds: mapped grew by %zu bytes over %d rounds", growth, RF_ROUNDS - 1);
    cr_assert_lt(growth, (size_t)(RF_ROUNDS - 1) * RF_BLOCKS * RF_SIZE / 2,
                 "mapped grew by %zu bytes over %d rounds of %d remotely freed blocks",
                 growth, RF_ROUNDS - 1, RF_BLOCKS);
    sat_unmap(blocks, RF_BLOCKS * sizeof *blocks);
}

/* ---- the remote cache: a thread keeps blocks of other threads' pages it
 * freed, hands them out again itself, and gives back the rest at its exit. */

/* RC_BLOCKS: as many as a fresh heap's cache keeps in a row (the next one
 * would go home: free.c remote_cache_sends_home); 3.4 KiB, within
 * SA_REMOTE_CACHE_BYTES. */
enum { RC_BLOCKS = SA_REMOTE_CACHE_HOME_EVERY - 1, RC_SIZE = 112 };

/* RC_BLOCKS blocks of this thread's heap, freed by another thread, which
 * then (if reuse) mallocs until each came back, within a page's worth of
 * mallocs; returns the mallocs it took. */
static size_t rc_run(bool reuse)
{
    static void *blocks[RC_BLOCKS];
    for (size_t i = 0; i < RC_BLOCKS; i++)
        cr_assert_not_null(blocks[i] = sa_malloc(RC_SIZE));
    size_t max = reuse ? 65536 / RC_SIZE + RC_BLOCKS : 0;
    size_t mallocs = sat_freed_by_another_thread(blocks, RC_BLOCKS, RC_SIZE, max);
    if (reuse)
        cr_assert_neq(mallocs, SIZE_MAX, "the %d blocks freed by another thread did not all "
                      "come back in its %zu mallocs", RC_BLOCKS, max);
    return mallocs;
}

Test(threads, blocks_a_thread_frees_of_another_are_handed_out_by_it_again)
{
    size_t mallocs = rc_run(true);
    cr_log_info("remote cache: the %d blocks came back within %zu mallocs", RC_BLOCKS, mallocs);
}

Test(threads, blocks_a_thread_kept_are_its_next_mallocs_of_their_class)
{
    /* Its own page has hundreds of free blocks of the class: the kept ones
     * (in its CPU cache) go out first, each of the next RC_BLOCKS mallocs
     * one of them. */
    size_t mallocs = rc_run(true);
    cr_assert_eq(mallocs, RC_BLOCKS, "the %d kept blocks came back within %zu mallocs, not the "
                 "first %d", RC_BLOCKS, mallocs, RC_BLOCKS);
}

/* Runs fn(arg) on a thread of its own (with a heap of its own once it
 * mallocs) and fails the test with the reason fn returned, if any. */
static void run_thread_expecting_no_fault(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    void *why;
    cr_assert_eq(pthread_create(&th, NULL, fn, arg), 0);
    cr_assert_eq(pthread_join(th, &why), 0);
    cr_assert_null(why, "%s", (const char *)why);
}

/* A thread whose kept blocks ran out pops its head page's `free` next: its
 * free that went onto `free` (free_lifo) first, then the rest of `free`, not
 * the free that went onto local_free: that one waits for the generic path's
 * collect (only the generic path and the owner's counted frees put blocks
 * onto `free`: the premise of spec/bounds.smt2 cadence, which a splice of
 * local_free in remote_cache_dry broke), and comes back from it within the
 * page's worth of mallocs. */
enum { RD_OWN = 8, RD_MAX = 65536 / RC_SIZE + RD_OWN };

static void *rd_thread(void *arg)
{
    void *other = arg;      /* a block of the main thread's heap */
    void *own[RD_OWN];
    static void *more[RD_MAX];
    for (size_t i = 0; i < RD_OWN; i++)
        if ((own[i] = sa_malloc(RC_SIZE)) == NULL)
            return "malloc failed";
    sa_free(own[3]);        /* local_free was empty: own[3] goes there */
    sa_free(own[5]);        /* onto `free` (the heap's budget is whole): its head */
    sa_free(other);         /* kept: the fast path's page is now the cache */
    void *kept = sa_malloc(RC_SIZE);
    const char *why = kept != other ? "the kept block did not come back first" : NULL;
    void *lifo = sa_malloc(RC_SIZE);
    if (why == NULL && lifo != own[5])
        why = "the free onto `free` did not come back first once the cache ran dry";
    size_t n = 0;
    bool back3 = false, back5 = false;
    while (why == NULL && !back3) {
        if (n == RD_MAX) {
            why = "the local frees did not come back within a page's worth of mallocs";
            break;
        }
        void *p = more[n++] = sa_malloc(RC_SIZE);
        if (p == NULL)
            why = "malloc failed";
        else if (n == 1 && p == own[3])
            why = "the free on local_free came back right after the cache ran dry: spliced "
                  "onto free outside the generic path";
        back3 |= p == own[3];
        back5 |= p == own[5];
    }
    if (why == NULL && back5)
        why = "the block handed out from `free` came back a second time";
    sa_free(kept);
    sa_free(lifo);
    for (size_t i = 0; i < n; i++)
        sa_free(more[i]);
    for (size_t i = 0; i < RD_OWN; i++)
        if (i != 3 && i != 5)       /* freed above (and in more[] if they came back) */
            sa_free(own[i]);
    return (void *)why;
}

Test(threads, after_its_kept_blocks_a_thread_pops_free_and_its_local_frees_wait_for_the_generic_path)
{
    void *other = sa_malloc(RC_SIZE);
    cr_assert_not_null(other);
    run_thread_expecting_no_fault(rd_thread, other);
}

/* Another thread's `block`, freed by this thread (kept) and malloc'd back
 * (`scribble`: the program then writes all of it), freed again: sets
 * *kept_again to whether this thread's next malloc of the class gets it
 * back. Returns what went wrong before that, or NULL. */
static const char *rh_keep_and_reuse(void *block, bool scribble, bool *kept_again)
{
    sa_free(block);
    void *kept = sa_malloc(RC_SIZE);
    if (kept != block)
        return "the kept block did not come back first";
    if (scribble)
        memset(kept, 0x5a, RC_SIZE);    /* the program's data over the mark */
    sa_free(kept);
    void *next = sa_malloc(RC_SIZE);
    *kept_again = next == block;
    sa_free(next);
    return NULL;
}

static void *rh_thread(void *arg)
{
    void **other = arg;     /* two blocks of the main thread's heap */
    void *own = sa_malloc(RC_SIZE);     /* a heap of its own, to keep blocks in */
    if (own == NULL)
        return "malloc failed";
    bool again[2] = { false, false };
    const char *why = rh_keep_and_reuse(other[0], false, &again[0]);
    if (why == NULL)
        why = rh_keep_and_reuse(other[1], true, &again[1]);
    if (why == NULL)
        why = again[0]   ? "a block handed out from the cache was kept again"
              : !again[1] ? "a kept block the program wrote was not kept again"
                          : NULL;
    sa_free(own);
    return (void *)why;
}

/* A block a thread kept and handed out to itself goes home when it frees it
 * again (its hand-out mark, the second word page_pop leaves, names that
 * thread's cache: free.c remote_cache_may_keep): kept again, it would be
 * the thread's next malloc again, a foreign block remote at every free
 * (Larson's shape). A block whose second word the program wrote is no
 * longer known as one and is kept again, as any other. */
Test(threads, a_block_a_thread_handed_itself_from_its_cache_goes_home_when_freed)
{
    void *other[2] = { sa_malloc(RC_SIZE), sa_malloc(RC_SIZE) };
    cr_assert_not_null(other[0]);
    cr_assert_not_null(other[1]);
    run_thread_expecting_no_fault(rh_thread, other);
}

/* A kept block the program writes over (its mark erased) and frees again,
 * over and over, goes home within SA_REMOTE_CACHE_HOME_EVERY keeps
 * (free.c remote_cache_sends_home): circulation between one thread's cache
 * and its own use ends. */
static void *rh_circulate_thread(void *arg)
{
    void *block = arg;      /* a block of the main thread's heap */
    void *own = sa_malloc(RC_SIZE);     /* a heap of its own, to keep blocks in */
    if (own == NULL)
        return "malloc failed";
    const char *why = "a block written over and freed again was kept every time";
    for (int i = 0; i < 2 * SA_REMOTE_CACHE_HOME_EVERY; i++) {
        sa_free(block);
        void *next = sa_malloc(RC_SIZE);
        if (next == NULL) {
            why = "malloc failed";
            break;
        }
        if (next != block) {    /* it went home: the cache had nothing */
            sa_free(next);
            why = NULL;
            break;
        }
        memset(next, 0x5a, RC_SIZE);    /* the program's data over the mark */
    }
    sa_free(own);
    return (void *)why;
}

Test(threads, a_block_circulating_through_a_thread_s_cache_goes_home_in_the_end)
{
    void *block = sa_malloc(RC_SIZE);
    cr_assert_not_null(block);
    run_thread_expecting_no_fault(rh_circulate_thread, block);
}

Test(threads, a_thread_exit_gives_back_the_blocks_it_kept)
{
    /* The blocks are the only ones of their page: once the freeing thread
     * has exited, a collect finds the page empty and retires it, so its
     * class has no active bytes left. Blocks still kept by the dead thread
     * would keep the page in use. */
    rc_run(false);
    sa_collect(true);
    sa_class_stats_t c;
    bool found = false;
    for (size_t i = 0; sa_stats_class_get(i, &c); i++)
        if (c.block_size >= RC_SIZE) {
            found = true;
            break;
        }
    cr_assert(found);
    cr_assert_eq(c.allocated, 0, "%zu bytes of the class still counted in use", c.allocated);
    cr_assert_eq(c.active, 0, "%zu bytes of the class still active: the page kept blocks "
                 "the exited thread freed", c.active);
}

/* ---- sa_collect(true), sa_stats_get and huge blocks from one thread while
 * others allocate, free and hand blocks over: no block is lost or corrupted. */

enum { CO_OPS = 100000 };

static atomic_bool g_collect_stop;
static sat_block_t *_Atomic g_swap;

static void *collect_worker(void *arg)
{
    uint64_t rng = 0xC011 + (uintptr_t)arg;
    sat_block_t *window[64] = { 0 };
    for (uint64_t i = 0; i < CO_OPS; i++) {
        size_t n = (i % 5000 == 0) ? SA_LARGE_OBJ_SIZE_MAX + 1 + sat_rand(&rng) % SA_SEGMENT_SIZE
                                   : sat_pick_size(&rng);
        sat_block_t *b = sat_block_new(n, (uint64_t)(uintptr_t)arg << 40 | i);
        if (b == NULL)
            break;
        if (i % 3 == 0)
            b = atomic_exchange(&g_swap, b);    /* someone else's block, or NULL */
        size_t s = (size_t)(sat_rand(&rng) % 64);
        if (window[s] != NULL)
            sat_block_free(window[s]);
        window[s] = b;
    }
    for (size_t s = 0; s < 64; s++)
        if (window[s] != NULL)
            sat_block_free(window[s]);
    return NULL;
}

static void *collector(void *arg)
{
    (void)arg;
    sa_stats_t st;
    while (!atomic_load(&g_collect_stop)) {
        sa_collect(true);
        sa_stats_get(&st);
        sat_block_free(sat_block_new(3 * SA_SEGMENT_SIZE, 1));
    }
    return NULL;
}

Test(threads, collect_and_stats_run_safely_beside_allocating_threads)
{
    pthread_t w[3], c;
    cr_assert_eq(pthread_create(&c, NULL, collector, NULL), 0);
    for (uintptr_t t = 0; t < 3; t++)
        cr_assert_eq(pthread_create(&w[t], NULL, collect_worker, (void *)t), 0);
    for (size_t t = 0; t < 3; t++)
        pthread_join(w[t], NULL);
    atomic_store(&g_collect_stop, true);
    pthread_join(c, NULL);
    sat_block_t *b = atomic_exchange(&g_swap, NULL);
    if (b != NULL)
        sat_block_free(b);
    sa_collect(true);
    sat_assert_no_thread_failures();
}

/* ---- a thread's own TLS destructors run after (or before) shardalloc's
 * thread-exit work, and may still free and allocate. */

static pthread_key_t g_key;
static atomic_int g_destructor_runs;

static void key_destructor(void *v)
{
    sat_block_t *b = v;
    sat_block_free(b);      /* a block this thread allocated */
    int run = atomic_fetch_add(&g_destructor_runs, 1);
    sat_block_t *fresh = sat_block_new(300, (uint64_t)run);
    if (fresh == NULL)
        return;
    if (run % 2 == 0)
        pthread_setspecific(g_key, fresh);      /* destructor runs once more */
    else
        sat_block_free(fresh);
}

static void *key_worker(void *arg)
{
    (void)arg;
    uint64_t rng = 17;
    sat_block_t *keep[100];
    for (size_t i = 0; i < 100; i++)
        keep[i] = sat_block_new(sat_pick_size(&rng), i);
    for (size_t i = 0; i < 100; i += 2)
        sat_block_free(keep[i]);
    pthread_setspecific(g_key, sat_block_new(5000, 99));
    return NULL;
}

Test(threads, thread_local_destructors_may_free_and_allocate)
{
    cr_assert_eq(pthread_key_create(&g_key, key_destructor), 0);
    for (int round = 0; round < 50; round++) {
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, key_worker, NULL), 0);
        pthread_join(th, NULL);
    }
    cr_assert_eq(atomic_load(&g_destructor_runs), 100, "destructor ran %d times",
                 atomic_load(&g_destructor_runs));
    sat_assert_no_thread_failures();
    /* the heap still works for this thread after all that */
    enum { N = 1000 };
    static sat_block_t *b[N];
    for (size_t i = 0; i < N; i++)
        b[i] = sat_block_new(300, i);
    for (size_t i = 0; i < N; i++)
        sat_block_free(b[i]);
    sat_assert_no_thread_failures();
}

/* ---- many threads at once (more than cores, more than any per-core cache). */

enum { MANY = 64, MANY_OPS = 4000 };

static void *many_worker(void *arg)
{
    uint64_t rng = 0x4444 + (uintptr_t)arg;
    sat_block_t *w[32] = { 0 };
    for (int i = 0; i < MANY_OPS; i++) {
        size_t s = (size_t)(sat_rand(&rng) % 32);
        if (w[s] != NULL)
            sat_block_free(w[s]);
        w[s] = sat_block_new(sat_pick_size(&rng), (uint64_t)(uintptr_t)arg << 32 | (uint64_t)i);
        if (i % 16 == 0)
            w[s] = atomic_exchange(&g_swap, w[s]);  /* cross-thread hand-over */
    }
    for (size_t s = 0; s < 32; s++)
        if (w[s] != NULL)
            sat_block_free(w[s]);
    return NULL;
}

Test(threads, sixty_four_threads_at_once)
{
    pthread_t th[MANY];
    for (uintptr_t t = 0; t < MANY; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, many_worker, (void *)t), 0);
    for (size_t t = 0; t < MANY; t++)
        pthread_join(th[t], NULL);
    sat_block_t *b = atomic_exchange(&g_swap, NULL);
    if (b != NULL)
        sat_block_free(b);
    sat_assert_no_thread_failures();
}

/* ---- realloc of a block another thread allocated (its free is remote). */

enum { RR_BLOCKS = 20000 };
static void *g_rr[RR_BLOCKS];

static void *rr_allocate(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < RR_BLOCKS; i++) {
        size_t n = 16 + i % 700;
        g_rr[i] = sa_malloc(n);
        if (g_rr[i] == NULL) {
            sat_fail("malloc(%zu) failed", n);
            return NULL;
        }
        sat_fill(g_rr[i], n, i);
    }
    return NULL;
}

Test(threads, realloc_of_blocks_from_an_exited_thread_keeps_contents)
{
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, rr_allocate, NULL), 0);
    pthread_join(th, NULL);
    sat_assert_no_thread_failures();
    for (size_t i = 0; i < RR_BLOCKS; i++) {
        size_t n = 16 + i % 700, to = (i % 3 == 0) ? n / 2 + 1 : n * 3;
        void *q = sa_realloc(g_rr[i], to);
        cr_assert_not_null(q);
        size_t keep = n < to ? n : to;
        cr_assert(sat_check(q, keep, i), "realloc %zu -> %zu of a remote block lost data", n, to);
        g_rr[i] = q;
    }
    for (size_t i = 0; i < RR_BLOCKS; i++)
        sa_free(g_rr[i]);
}

/* ---- a producer that only allocates and a consumer that only frees: the
 * producer's pages come back to it through remote frees, so memory stays
 * bounded by the blocks in flight, not by the blocks ever allocated. */

enum { PC_BLOCKS = 2000000, PC_SIZE = 64, PC_CHAIN = 256 };

static inbox_t g_pc_queue;
static atomic_bool g_pc_done;

static void *pc_consumer(void *arg)
{
    (void)arg;
    for (;;) {
        bool done = atomic_load(&g_pc_done);
        size_t n = inbox_drain(&g_pc_queue);
        if (done && n == 0)
            return NULL;
        if (n == 0)
            sched_yield();
    }
}

Test(threads, producer_consumer_memory_stays_bounded)
{
    pthread_mutex_init(&g_pc_queue.lock, NULL);
    sa_stats_t start, end;
    sa_free(sa_malloc(PC_SIZE));
    sa_stats_get(&start);
    size_t peak = 0;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, pc_consumer, NULL), 0);
    sat_block_t *chain = NULL, *last = NULL;
    for (size_t i = 0; i < PC_BLOCKS; i++) {
        sat_block_t *b = sat_block_new(PC_SIZE, i);
        cr_assert_not_null(b);
        b->next = chain;
        chain = b;
        if (last == NULL)
            last = b;
        if ((i + 1) % PC_CHAIN == 0) {
            inbox_push(&g_pc_queue, chain, last);
            chain = last = NULL;
            /* keep the blocks in flight bounded: wait for the consumer */
            while (!inbox_empty(&g_pc_queue))
                sched_yield();
        }
        if (i % 65536 == 0) {
            sa_stats_get(&end);
            if (end.mapped > peak)
                peak = end.mapped;
        }
    }
    if (chain != NULL)
        inbox_push(&g_pc_queue, chain, last);
    atomic_store(&g_pc_done, true);
    pthread_join(th, NULL);
    sat_assert_no_thread_failures();
    /* Without reuse the producer would map PC_BLOCKS * PC_SIZE (128 MB). */
    size_t bound = (size_t)PC_BLOCKS * PC_SIZE / 4;
    cr_log_info("producer/consumer: mapped grew by %zu bytes for %d blocks of %d bytes",
                peak - start.mapped, PC_BLOCKS, PC_SIZE);
    cr_assert_lt(peak - start.mapped, bound, "mapped grew by %zu bytes with at most %d blocks in flight",
                 peak - start.mapped, 2 * PC_CHAIN);
}

/* A thread that frees as many blocks of another thread's pages as it
 * allocates is served by its remote cache, whose pops are no page
 * transition: without a limit it went tens of thousands of mallocs without
 * a generic call (one keep in SA_REMOTE_CACHE_HOME_EVERY went home and
 * drained its page's `free` one block at a time). With at most
 * SA_REMOTE_CACHE_KEEPS_MAX keeps between two generic calls, the mallocs
 * of a class between two of them are at most its page's capacity plus its
 * own frees onto `free` (SA_LIFO_FREES_MAX: its 4000 frees before the loop
 * go there) plus the cache's CACHE_CAP + SA_REMOTE_CACHE_KEEPS_MAX
 * (spec/bounds.smt2 cache_cadence, with cadence): the deferred-free hook,
 * called at every generic call (SA_HEARTBEAT_PERIOD 1), sees no longer
 * gap. */
enum {
    HB_SIZE = 16,
    HB_OWN = 4000,      /* the consumer's own blocks, freed: its page's `free` holds them */
    HB_ROUNDS = 40000,
    HB_GAP_MAX = SA_SMALL_PAGE_SIZE / HB_SIZE + SA_LIFO_FREES_MAX +
                 SA_REMOTE_CACHE_BYTES / SA_MIN_ALIGN + SA_REMOTE_CACHE_KEEPS_MAX,
};
_Static_assert(SA_HEARTBEAT_PERIOD == 1, "the test counts on a hook call at every generic call");

static void *hb_blocks[HB_ROUNDS];
static _Atomic size_t hb_round;                 /* the consumer's round, read by the hook */
static size_t hb_last_call, hb_gap_max, hb_calls;

static void hb_hook(bool force, unsigned long long heartbeat, void *arg)
{
    (void)force, (void)heartbeat, (void)arg;
    size_t r = atomic_load(&hb_round);
    if (r - hb_last_call > hb_gap_max)
        hb_gap_max = r - hb_last_call;
    hb_last_call = r;
    hb_calls++;
}

/* Ends the hook's watch: unregisters it, and the rounds after its last call
 * are a gap too. */
static void hb_stop(void)
{
    size_t tail = HB_ROUNDS - hb_last_call;
    sa_register_deferred_free(NULL, NULL);
    if (tail > hb_gap_max)
        hb_gap_max = tail;
}

/* The longest gap the hook saw (`what`: whose) within `bound` mallocs. */
static void hb_check(const char *what, size_t bound)
{
    cr_log_info("%s heartbeat: %zu generic calls in %d rounds, longest gap %zu (bound %zu)",
                what, hb_calls, HB_ROUNDS, hb_gap_max, bound);
    cr_assert_leq(hb_gap_max, bound,
                  "%zu mallocs in a row without a generic call (bound %zu; %zu calls in %d rounds)",
                  hb_gap_max, bound, hb_calls, HB_ROUNDS);
}

static void *hb_consumer(void *arg)
{
    (void)arg;
    static void *own[HB_OWN], *got[HB_ROUNDS];
    for (size_t i = 0; i < HB_OWN; i++)
        if ((own[i] = sa_malloc(HB_SIZE)) == NULL)
            return "malloc failed";
    for (size_t i = 0; i < HB_OWN; i++)
        sa_free(own[i]);
    sa_register_deferred_free(hb_hook, NULL);
    for (size_t r = 0; r < HB_ROUNDS; r++) {
        atomic_store(&hb_round, r);
        sa_free(hb_blocks[r]);                  /* another thread's: kept */
        if ((got[r] = sa_malloc(HB_SIZE)) == NULL)
            return "malloc failed";
    }
    hb_stop();
    for (size_t r = 0; r < HB_ROUNDS; r++)
        sa_free(got[r]);
    return NULL;
}

Test(threads, a_thread_its_remote_cache_serves_still_runs_the_generic_path)
{
    for (size_t i = 0; i < HB_ROUNDS; i++)
        cr_assert_not_null(hb_blocks[i] = sa_malloc(HB_SIZE));
    run_thread_expecting_no_fault(hb_consumer, NULL);
    hb_check("remote cache", HB_GAP_MAX);
}

/* A thread that frees its own blocks as fast as it allocates them gets
 * each back at its next malloc (its frees go onto `free`: free.c
 * free_lifo), and would never need the generic path; at most
 * SA_LIFO_FREES_MAX of its frees between two generic calls go there, the
 * rest to local_free, so one page hands out at most its capacity plus that
 * many (spec/bounds.smt2 cadence): the deferred-free hook, called at every
 * generic call, sees no longer gap. (Without the budget: no call at all
 * after the first rounds.) */
enum {
    LH_KEPT = 2,        /* live all along: the frees in the loop are never the page's last */
    LH_GAP_MAX = SA_SMALL_PAGE_SIZE / HB_SIZE + SA_LIFO_FREES_MAX,
};

static void *lh_thread(void *arg)
{
    (void)arg;
    void *kept[LH_KEPT], *first = sa_malloc(HB_SIZE);
    for (size_t i = 0; i < LH_KEPT; i++)
        if ((kept[i] = sa_malloc(HB_SIZE)) == NULL)
            return "malloc failed";
    if (first == NULL)
        return "malloc failed";
    sa_free(first);         /* onto local_free: the frees after it may go onto `free` */
    sa_register_deferred_free(hb_hook, NULL);
    const char *why = NULL;
    size_t reused = 0;
    void *last = NULL;
    for (size_t r = 0; r < HB_ROUNDS && why == NULL; r++) {
        atomic_store(&hb_round, r);
        void *p = sa_malloc(HB_SIZE);
        if (p == NULL)
            why = "malloc failed";
        reused += p == last;
        sa_free(p);
        last = p;
    }
    hb_stop();
    for (size_t i = 0; i < LH_KEPT; i++)
        sa_free(kept[i]);
    cr_log_info("own frees: %zu of %d mallocs got the block freed just before", reused, HB_ROUNDS);
    if (why == NULL && reused < HB_ROUNDS / 2)
        why = "the owner's frees did not come back at its next malloc";
    return (void *)why;
}

Test(threads, a_thread_freeing_its_own_blocks_at_once_still_runs_the_generic_path)
{
    _Static_assert(HB_ROUNDS > 4 * LH_GAP_MAX, "the rounds outlast the bound");
    run_thread_expecting_no_fault(lh_thread, NULL);
    hb_check("own frees", LH_GAP_MAX);
}
