/* tests/api/oom_threads.c -- out of memory with several threads (issue 10,
 * defect 3): under an address-space limit, four threads fill memory with
 * small and medium blocks until malloc returns NULL, free everything, meet,
 * and then each must get small blocks again -- every thread-cycle, whichever
 * thread's pages the memory was in. */
#include "sa_limit_test.h"
#include "sa_thread_test.h"
#include <pthread.h>
#include <stdatomic.h>

enum { OT_THREADS = 4, OT_CYCLES = 6 };

/* Stacks small enough that the limit is the allocator's (glibc's default of
 * 8 MiB each would take 32 MiB of it). */
#define OT_STACK ((size_t)256 << 10)

/* What a thread asks for once everything was freed: small sizes of several
 * classes (each may need a page the thread does not have). */
static const size_t ot_probe[] = { 16, 48, 112, 400, 1500, 3000, SA_SMALL_OBJ_SIZE_MAX };

static pthread_barrier_t ot_barrier;
static atomic_int ot_failed;        /* thread-cycles in which a probe malloc got NULL */
static atomic_int ot_no_enomem;     /* fills that ended in NULL without ENOMEM */
static atomic_int ot_empty_fills;   /* fills in which not one block fit */

/* Blocks of random small and medium sizes (a quarter medium) until NULL,
 * chained through their first word; returns the chain. */
static void *ot_fill(uint64_t *rng)
{
    void *chain = NULL;
    errno = 0;
    for (;;) {
        uint64_t r = sat_rand(rng);
        size_t size = r % 4 == 0 ? SA_SMALL_OBJ_SIZE_MAX + 1 + (r >> 8) % (SA_MEDIUM_OBJ_SIZE_MAX - SA_SMALL_OBJ_SIZE_MAX)
                                 : 16 + (r >> 8) % (SA_SMALL_OBJ_SIZE_MAX - 16);
        void **p = sa_malloc(size);
        if (p == NULL)
            break;
        memset(p, 0x5a, size < 64 ? size : 64);
        *p = chain;
        chain = p;
    }
    if (errno != ENOMEM)
        atomic_fetch_add(&ot_no_enomem, 1);
    if (chain == NULL)
        atomic_fetch_add(&ot_empty_fills, 1);
    return chain;
}

static void ot_release(void *chain)
{
    while (chain != NULL) {
        void *next = *(void **)chain;
        sa_free(chain);
        chain = next;
    }
}

static void *ot_worker(void *arg)
{
    uint64_t rng = (uintptr_t)arg + 1;
    for (int cycle = 0; cycle < OT_CYCLES; cycle++) {
        pthread_barrier_wait(&ot_barrier);     /* everyone fills at once */
        ot_release(ot_fill(&rng));
        pthread_barrier_wait(&ot_barrier);     /* everything is freed */
        void *got[sizeof ot_probe / sizeof ot_probe[0]];
        bool ok = true;
        for (size_t i = 0; i < sizeof ot_probe / sizeof ot_probe[0]; i++) {
            got[i] = sa_malloc(ot_probe[i]);
            if (got[i] == NULL)
                ok = false;
            else
                memset(got[i], 0xa5, ot_probe[i]);
        }
        for (size_t i = 0; i < sizeof ot_probe / sizeof ot_probe[0]; i++)
            sa_free(got[i]);
        if (!ok)
            atomic_fetch_add(&ot_failed, 1);
        if (getenv("SAT_DEBUG") != NULL && !ok)
            fprintf(stderr, "thread %zu, cycle %d: a small malloc failed\n", (size_t)(uintptr_t)arg, cycle);
    }
    return NULL;
}

/* The limited child: exit code = thread-cycles that failed (0 ok), or 100+
 * when the run could not be made or did not exhaust memory as it should. */
static int four_threads_fill_free_and_retry(size_t size, void **slots, size_t max_slots)
{
    (void)size;
    (void)slots;
    (void)max_slots;
    pthread_attr_t attr;
    pthread_t tid[OT_THREADS];
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, OT_STACK) != 0 ||
        pthread_barrier_init(&ot_barrier, NULL, OT_THREADS) != 0)
        return 100;
    for (size_t t = 0; t < OT_THREADS; t++)
        if (pthread_create(&tid[t], &attr, ot_worker, (void *)(uintptr_t)t) != 0)
            return 101;
    for (size_t t = 0; t < OT_THREADS; t++)
        pthread_join(tid[t], NULL);
    if (atomic_load(&ot_no_enomem) != 0)
        return 102;
    /* A thread that got nothing at all in a fill is fine (the others took the
     * space first); every thread getting nothing is not a fill. */
    if (atomic_load(&ot_empty_fills) == OT_THREADS * OT_CYCLES)
        return 103;
    return atomic_load(&ot_failed);
}

static void run_threads_under(size_t headroom)
{
    int code = in_limited_child(headroom, four_threads_fill_free_and_retry, 0, NULL, 0);
    cr_assert_neq(code, 102, "%zu MiB: a fill ended in NULL without errno == ENOMEM", headroom >> 20);
    cr_assert_neq(code, 103, "%zu MiB: no fill got a single block", headroom >> 20);
    cr_assert(code < 100 && code != 20, "%zu MiB: setup failed (exit %d)", headroom >> 20, code);
    cr_assert_eq(code, 0, "%zu MiB: in %d of %d thread-cycles a small malloc returned NULL after every "
                 "block was freed", headroom >> 20, code, OT_THREADS * OT_CYCLES);
}

Test(oom_threads, four_threads_recover_after_filling_48_mib, .timeout = 60)
{
    run_threads_under((size_t)48 << 20);
}

Test(oom_threads, four_threads_recover_after_filling_96_mib, .timeout = 60)
{
    run_threads_under((size_t)96 << 20);
}

/* ---- the memory pressure itself ---------------------------------------------------- */

static size_t pages_retired(void)
{
    sa_stats_t st;
    sa_stats_get(&st);
    return st.pages_retired;
}

/* One block alone on a fresh page (a size class nothing else here uses),
 * freed by its owner: returns how many pages that free retired. */
static size_t retired_by_freeing_a_lone_block(void)
{
    void *p = sa_malloc(3000);
    cr_assert_not_null(p);
    size_t before = pages_retired();
    sa_free(p);
    return pages_retired() - before;
}

Test(oom_threads, without_pressure_an_emptied_page_waits_for_the_retire_delay)
{
    cr_assert_eq(retired_by_freeing_a_lone_block(), 0);
}

Test(oom_threads, under_pressure_the_free_that_empties_a_page_retires_it)
{
    sat_raise_memory_pressure();
    cr_assert_eq(retired_by_freeing_a_lone_block(), 1);
}

/* Another thread frees a block of this thread's and mallocs its size once:
 * whether it got the block back (it kept it in its remote cache, whose
 * blocks go out first). */
static bool ot_freed_block_kept_by_another_thread(void)
{
    void *block = sa_malloc(112);
    cr_assert_not_null(block);
    return sat_freed_by_another_thread(&block, 1, 112, 1) == 1;
}

Test(oom_threads, without_pressure_a_thread_keeps_the_block_it_frees_of_another)
{
    cr_assert(ot_freed_block_kept_by_another_thread());
}

Test(oom_threads, under_pressure_a_thread_keeps_no_block_it_frees_of_another)
{
    /* The owner should get its memory back: the block goes home. */
    sat_raise_memory_pressure();
    cr_assert(!ot_freed_block_kept_by_another_thread());
}

/* sa_heap_destroy frees a first-class heap's blocks while it walks its
 * segments: under pressure its pages must still wait (a retire would change
 * the segments under the walk), and the heap is given up whole. */
Test(oom_threads, under_pressure_a_first_class_heap_is_destroyed_whole)
{
    sa_heap_t *h = sa_heap_new();
    cr_assert_not_null(h);
    uint64_t rng = 7;
    for (int i = 0; i < 20000; i++) {
        uint64_t r = sat_rand(&rng);
        cr_assert_not_null(sa_heap_malloc(h, 16 + r % (2 * SA_SMALL_OBJ_SIZE_MAX)));
    }
    sat_raise_memory_pressure();
    size_t before = pages_retired();
    sa_heap_destroy(h);
    sa_stats_t st;
    sa_stats_get(&st);
    cr_assert_gt(st.pages_retired, before, "the destroyed heap's pages were not retired");
    cr_assert_eq(st.allocated, 0, "%zu bytes still allocated after sa_heap_destroy", st.allocated);
    void *p = sa_malloc(100);
    cr_assert_not_null(p);
    sa_free(p);
}
