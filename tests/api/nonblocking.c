/* tests/api/nonblocking.c -- malloc and free never wait for a lock another
 * thread holds (docs/verification.md, "Locks: what waits and what does not").
 *
 * A helper thread takes the allocator's slow-path locks through the hooks the
 * fork handlers use (_sa_abandon_lock, _sa_heap_lock_all: internal, linked
 * from the archive) and keeps them while the test thread runs the paths that
 * would wait if they took them: reclaim of abandoned segments and the global segment
 * cache (generic malloc), remote frees into abandoned pages, retiring pages
 * whose segments empty, and a new thread's first malloc. A malloc or free
 * that waited would hang until the test's timeout: the test fails. */
#include "sa_thread_test.h"
#include <stdatomic.h>

/* The fork handlers' lock hooks (src/segment.c, src/heap.c). */
void _sa_abandon_lock(void);
void _sa_abandon_unlock(bool child);
void _sa_heap_lock_all(void);
void _sa_heap_unlock_all(bool child);

#define ORPHANS 3000    /* blocks left live by an exiting thread */

static void *orphans[ORPHANS];
static size_t orphan_size(size_t i) { return 16 + (i % 40) * 24; }

/* Allocate ORPHANS blocks (several size classes, many pages) and exit with
 * them live: its segments are abandoned. */
static void *leave_orphans(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ORPHANS; i++) {
        orphans[i] = sa_malloc(orphan_size(i));
        if (orphans[i] == NULL)
            sat_fail("malloc(%zu) failed", orphan_size(i));
        else
            sat_fill(orphans[i], orphan_size(i), i);
    }
    return NULL;
}

/* Allocate and free enough to empty whole segments at exit: they go to the
 * global segment cache. */
static void *fill_global_cache(void *arg)
{
    (void)arg;
    enum { N = 64 };
    void *p[N];
    for (size_t i = 0; i < N; i++)
        p[i] = sa_malloc(SA_SMALL_OBJ_SIZE_MAX);    /* about a segment's worth */
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    return NULL;
}

static atomic_int holding, release;

static void *hold_abandon_lock(void *arg)
{
    (void)arg;
    _sa_abandon_lock();
    atomic_store(&holding, 1);
    while (!atomic_load(&release))
        sched_yield();
    _sa_abandon_unlock(false);
    return NULL;
}

static void run_thread(void *(*fn)(void *))
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fn, NULL), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
}

Test(nonblocking, malloc_and_free_go_on_while_the_abandon_lock_is_held, .timeout = 20)
{
    run_thread(fill_global_cache);
    run_thread(leave_orphans);
    sat_assert_no_thread_failures();

    pthread_t holder;
    atomic_store(&holding, 0);
    atomic_store(&release, 0);
    cr_assert_eq(pthread_create(&holder, NULL, hold_abandon_lock, NULL), 0);
    while (!atomic_load(&holding))
        sched_yield();

    /* Generic mallocs of every size class, fresh pages and segments (reclaim
     * is due: segments are abandoned; the global cache is not empty), frees
     * of our own blocks emptying pages and segments, then remote frees of
     * the abandoned blocks. */
    enum { MINE = 4000 };
    static void *mine[MINE];
    for (size_t i = 0; i < MINE; i++) {
        size_t size = 16 + (i * 97) % (2 * SA_SMALL_OBJ_SIZE_MAX);
        mine[i] = sa_malloc(size);
        cr_assert_not_null(mine[i], "malloc(%zu) with the abandon lock held", size);
        sat_fill(mine[i], size, 1000000 + i);
    }
    for (size_t i = 0; i < MINE; i++) {
        size_t size = 16 + (i * 97) % (2 * SA_SMALL_OBJ_SIZE_MAX);
        cr_assert(sat_check(mine[i], size, 1000000 + i), "block %zu damaged", i);
        sa_free(mine[i]);
    }
    for (size_t i = 0; i < ORPHANS; i += 2) {
        cr_assert(sat_check(orphans[i], orphan_size(i), i), "abandoned block %zu damaged", i);
        sa_free(orphans[i]);
    }
    for (size_t i = 0; i < 64; i++)         /* more generic calls: housekeeping */
        sa_free(sa_malloc(SA_SMALL_OBJ_SIZE_MAX + i * 4096));

    atomic_store(&release, 1);
    cr_assert_eq(pthread_join(holder, NULL), 0);

    /* With the lock free again, what was skipped happens: the rest of the
     * abandoned blocks are intact and free normally. */
    sa_collect(true);
    for (size_t i = 1; i < ORPHANS; i += 2) {
        cr_assert(sat_check(orphans[i], orphan_size(i), i), "abandoned block %zu damaged", i);
        sa_free(orphans[i]);
    }
    sa_collect(true);
    sa_stats_t s;
    sa_stats_get(&s);
    cr_assert_eq(s.allocated, 0, "bytes still allocated after freeing everything: %zu", s.allocated);
}

static atomic_int first_malloc_done;

static void *first_malloc(void *arg)
{
    (void)arg;
    void *p = sa_malloc(100);
    if (p == NULL)
        sat_fail("a new thread's first malloc failed");
    sa_free(p);
    atomic_store(&first_malloc_done, 1);
    return NULL;    /* its exit may wait for the heaps lock: allowed */
}

Test(nonblocking, a_new_threads_first_malloc_goes_on_while_the_heaps_lock_is_held, .timeout = 20)
{
    run_thread(fill_global_cache);  /* a dead heap to recycle exists */
    atomic_store(&first_malloc_done, 0);
    _sa_heap_lock_all();
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, first_malloc, NULL), 0);
    while (!atomic_load(&first_malloc_done))
        sched_yield();
    _sa_heap_unlock_all(false);
    cr_assert_eq(pthread_join(t, NULL), 0);
    sat_assert_no_thread_failures();
}
