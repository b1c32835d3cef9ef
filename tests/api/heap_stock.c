/* tests/api/heap_stock.c -- an exited thread's heap sleeps, stocked, and the
 * next thread to start takes it whole (src/heap.c heap_stock, docs/design.md
 * "Stocked heaps"): the new thread mallocs from the old thread's pages (no
 * segment abandoned, no page made or reclaimed), and a thread whose first
 * call frees a block of one takes that one at its malloc; a first-class heap never
 * takes a stocked heap; a stocked heap outlives the purge delay (a loaded
 * machine starts the next thread later than that) and one nobody took
 * within SA_HEAP_STOCK_STALE_MS is given back by sa_collect. */
#include "sa_test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

enum { SIZE = SAT_LEFT_SIZE, LIVE = 64 };

static void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
}

static void *malloc_one(void *arg)
{
    *(void **)arg = sa_malloc(SIZE);
    return NULL;
}

static uintptr_t segment_of(const void *p)
{
    return (uintptr_t)p & ~(SA_SEGMENT_SIZE - 1);
}

static void free_checked(void **p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert(sat_check(p[i], SIZE, i), "block %zu of the exited thread overwritten", i);
        sa_free(p[i]);
    }
}

/* A thread started after another exited mallocs from the exited thread's
 * page: nothing abandoned, reclaimed or made anew. */
static void assert_next_thread_takes_the_stock(void **left)
{
    sa_stats_t before, after;
    sa_stats_get(&before);
    void *q = NULL;
    run_thread(malloc_one, &q);
    sa_stats_get(&after);
    cr_assert_not_null(q);
    cr_assert_eq(segment_of(q), segment_of(left[0]),
                 "the new thread's block %p is not in the exited thread's segment %p",
                 q, (void *)segment_of(left[0]));
    cr_assert_eq(after.pages_made, before.pages_made, "a page made: %zu -> %zu",
                 after.pages_made, before.pages_made);
    cr_assert_eq(after.pages_reclaimed, before.pages_reclaimed);
    cr_assert_eq(after.segments_made, before.segments_made);
    sa_free(q);
}

Test(heap_stock, a_new_thread_takes_over_the_exited_threads_pages)
{
    static void *p[LIVE];
    sat_blocks_t left = { p, LIVE };
    run_thread(sat_leave_live_blocks, &left);
    sa_stats_t st;
    sa_stats_get(&st);
    cr_assert_eq(st.segments_abandoned, 0, "the exited thread's segment was abandoned, not stocked");
    assert_next_thread_takes_the_stock(p);
    free_checked(p, LIVE);
}

Test(heap_stock, a_first_class_heap_never_takes_a_stocked_heap)
{
    static void *p[LIVE];
    sat_blocks_t left = { p, LIVE };
    run_thread(sat_leave_live_blocks, &left);
    /* The stocked heap holds live blocks: sa_heap_destroy would free them. */
    sa_heap_t *heap = sa_heap_new();
    cr_assert_not_null(heap);
    for (size_t i = 0; i < LIVE; i++)
        cr_assert_not_null(sa_heap_malloc(heap, SIZE));
    sa_heap_destroy(heap);
    for (size_t i = 0; i < LIVE; i++)
        cr_assert(sa_owns(p[i]), "block %zu of the exited thread freed by a heap's destroy", i);
    /* ... and the stock is still whole for the next thread. */
    assert_next_thread_takes_the_stock(p);
    free_checked(p, LIVE);
}

/* Two threads that leave live blocks, each with a heap of its own: both
 * have their blocks before either exits (so neither takes the other's
 * stock). */
typedef struct leave_at_once_s {
    sat_blocks_t left[2];
    pthread_barrier_t all_left;
    atomic_int next;
} leave_at_once_t;

static void *leave_at_once(void *arg)
{
    leave_at_once_t *both = arg;
    sat_leave_live_blocks(&both->left[atomic_fetch_add(&both->next, 1)]);
    pthread_barrier_wait(&both->all_left);
    return NULL;
}

/* A thread that frees one block `p[0]` another thread left, then mallocs
 * (p[0] becomes that block) and frees p[1]: the remote frees its two frees
 * made, in `remote`. */
typedef struct free_first_s {
    void **p;
    size_t remote[2];
} free_first_t;

static size_t remote_frees_now(void)
{
    sa_stats_t st;
    sa_stats_get(&st);
    return st.remote_frees;
}

static void *free_then_malloc(void *arg)
{
    free_first_t *f = arg;
    size_t before = remote_frees_now();
    sa_free(f->p[0]);
    size_t between = remote_frees_now();
    f->p[0] = sa_malloc(SIZE);
    size_t after_malloc = remote_frees_now();
    sa_free(f->p[1]);
    f->remote[0] = between - before;
    f->remote[1] = remote_frees_now() - after_malloc;
    return NULL;
}

Test(heap_stock, a_thread_that_starts_by_freeing_takes_the_heap_it_freed_into)
{
    /* Two exited threads' heaps stocked; a probe thread's malloc shows which
     * one a thread start takes when nothing tells it otherwise, and its exit
     * stocks that one again. A thread whose first call frees a
     * block of the other heap (a remote free: it has no heap) takes that
     * heap at its malloc (heap.c heap_claim, _sa_heap_hint): its malloc
     * comes from that heap's segment and its next free of the heap's blocks
     * is local. */
    static void *one[LIVE], *two[LIVE];
    static leave_at_once_t both;
    both.left[0] = (sat_blocks_t){ one, LIVE };
    both.left[1] = (sat_blocks_t){ two, LIVE };
    cr_assert_eq(pthread_barrier_init(&both.all_left, NULL, 2), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, leave_at_once, &both), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&both.all_left);
    cr_assert_neq(segment_of(one[0]), segment_of(two[0]), "the two threads shared a heap");
    void *probe = NULL;
    run_thread(malloc_one, &probe);
    cr_assert_not_null(probe);
    sa_free(probe);
    void **other = segment_of(probe) == segment_of(one[0]) ? two : one;
    cr_assert(segment_of(probe) == segment_of(one[0]) || segment_of(probe) == segment_of(two[0]),
              "the probe thread took neither stock");
    void *freed = other[0];
    free_first_t f = { other, { 0, 0 } };
    run_thread(free_then_malloc, &f);
    cr_assert_not_null(other[0]);
    cr_assert_eq(f.remote[0], 1, "the first free, without a heap, made %zu remote frees",
                 f.remote[0]);
    cr_assert_eq(segment_of(other[0]), segment_of(freed),
                 "its malloc's block %p is not in the segment %p of the heap it freed into "
                 "(the probe's %p)", other[0], (void *)segment_of(freed),
                 (void *)segment_of(probe));
    cr_assert_eq(f.remote[1], 0, "its free after the malloc was remote");
    sa_free(other[0]);
    for (size_t i = 2; i < LIVE; i++) {
        cr_assert(sat_check(other[i], SIZE, i), "block %zu of the taken heap overwritten", i);
        sa_free(other[i]);
    }
    free_checked(other == one ? two : one, LIVE);
}

static void sleep_ms(size_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

enum { N = 16384 };

/* An exited thread's N blocks, on many pages, freed by this thread (remote
 * frees: the pages are the stocked heap's, emptied while it sleeps); the
 * statistics then. */
static void stock_emptied_pages(sa_stats_t *held)
{
    static void *p[N];
    sat_blocks_t left = { p, N };
    run_thread(sat_leave_live_blocks, &left);
    free_checked(p, N);
    sa_stats_get(held);
}

Test(heap_stock, a_stale_stocked_heap_is_given_back_by_collect)
{
    /* The exited thread leaves a block on each of many pages; this thread
     * frees them all (remote frees: the pages are the stocked heap's). The
     * emptied pages stay committed while the heap sleeps, and a collect
     * after SA_HEAP_STOCK_STALE_MS gives the heap up, purging them. */
    sa_stats_t held, back;
    stock_emptied_pages(&held);
    cr_assert_neq(held.purge_delay_ms, SIZE_MAX);
    sleep_ms(SA_HEAP_STOCK_STALE_MS + 20);
    sa_collect(false);
    sa_stats_get(&back);
    cr_log_info("committed %zu -> %zu, purged %zu -> %zu", held.committed, back.committed,
                held.purged, back.purged);
    /* N blocks of SIZE bytes: at least that much purged and no longer committed. */
    cr_assert_geq(back.purged - held.purged, (size_t)N * SIZE / 2,
                  "purged %zu -> %zu", held.purged, back.purged);
    cr_assert_lt(back.committed, held.committed - (size_t)N * SIZE / 2,
                 "committed %zu -> %zu", held.committed, back.committed);
}

Test(heap_stock, a_stock_outlives_the_purge_delay)
{
    /* A stock waits for the next thread start, not for the purge timer: one
     * older than the purge delay (but not SA_HEAP_STOCK_STALE_MS) is kept by
     * a collect, and the next thread still takes it whole. */
    static void *p[LIVE];
    sat_blocks_t left = { p, LIVE };
    run_thread(sat_leave_live_blocks, &left);
    sa_stats_t held, kept;
    sa_stats_get(&held);
    cr_assert_lt(held.purge_delay_ms + 20, (size_t)SA_HEAP_STOCK_STALE_MS);
    sleep_ms(held.purge_delay_ms + 20);
    sa_collect(false);
    sa_stats_get(&kept);
    cr_assert_eq(kept.segments_abandoned, held.segments_abandoned,
                 "a stock older than the purge delay (%zu ms) was given up", held.purge_delay_ms);
    assert_next_thread_takes_the_stock(p);
    free_checked(p, LIVE);
}

Test(heap_stock, a_fresh_stock_outlives_collect_and_force_gives_it_back)
{
    sa_stats_t held, kept, back, after;
    stock_emptied_pages(&held);
    sa_collect(false);      /* within the purge delay: the stock stays */
    sa_stats_get(&kept);
    cr_assert_eq(kept.segments_abandoned, 0, "the stocked heap was given up");
    cr_assert_geq(kept.committed, held.committed - (size_t)N * SIZE / 2,
                  "committed %zu -> %zu", held.committed, kept.committed);
    sa_collect(true);       /* force: every stock, however fresh */
    sa_stats_get(&back);
    cr_assert_lt(back.committed, kept.committed - (size_t)N * SIZE / 2,
                 "committed %zu -> %zu", kept.committed, back.committed);
    /* Given up, the heap is claimed empty by the next thread. */
    void *q = NULL;
    run_thread(malloc_one, &q);
    sa_stats_get(&after);
    cr_assert_not_null(q);
    cr_assert_gt(after.pages_made, back.pages_made, "the next thread found a stocked page");
    sa_free(q);
}
