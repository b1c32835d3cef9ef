/* tests/api/churn_stress.c -- thread churn against the exit path: threads
 * that live a few milliseconds and exit while their blocks live on, frees of
 * those blocks (some into full pages) by threads of later rounds, sa_collect
 * (true) racing thread exits, reallocs across size classes by threads that do
 * not own the block, and fork while threads churn. Exit abandons segments
 * whose retired pages another thread may reclaim (and put on its own purge
 * list) at once: if the exiting heap still has such a page on its purge list
 * when the segment is published, it spins in purge_list_remove (the page's
 * in_purge_list now belongs to the other heap's list, which it also cuts);
 * these tests run into that window in most runs. A hang is caught by each
 * test's .timeout; every block carries a pattern checked
 * before it is freed, and every test counts what it made and freed. */
#include "sa_thread_test.h"
#include "layout.h"     /* SA_PAGE_KIND_COUNT */
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

/* ---- shared: rounds of short-lived threads ------------------------------------ */

enum {
    CH_THREADS = 4,         /* churn threads per round */
    CH_KEEP    = 2,         /* survivors are freed this many rounds later */
    CH_SLOTS   = CH_KEEP + 1,
    CH_BATCH   = 1500,      /* blocks each thread allocates per round */
    CH_ROUNDS  = 200,
    CH_BURST   = 256,       /* blocks a collector allocates between collects */
};

/* Survivors by round (mod CH_SLOTS) and thread, linked through sat_block_t.
 * Round r fills slot r % CH_SLOTS and reaps slot (r + 1) % CH_SLOTS, filled
 * CH_KEEP rounds before by threads that have exited since. */
static sat_block_t *g_slots[CH_SLOTS][CH_THREADS];
static atomic_size_t g_made, g_freed;

typedef struct churn_job_s {
    size_t round, id;
    sat_block_t **fill;     /* where this thread leaves its survivors */
    sat_block_t **reap;     /* an exited thread's survivors to free, or NULL */
    size_t size_fixed;      /* 0: mixed sizes; else every block this size */
} churn_job_t;

static void free_chain(sat_block_t *b)
{
    atomic_fetch_add(&g_freed, sat_chain_free(b));
}

/* Every block was freed and every other thread has exited: a forced collect
 * adopts what is left and must find no live byte. */
static void assert_nothing_live_after_collect(void)
{
    sa_collect(true);
    sa_stats_t st;
    sa_stats_get(&st);
    cr_assert_eq(st.allocated, 0, "live bytes after every block was freed: %zu",
                 (size_t)st.allocated);
}

static void *churn_job(void *arg)
{
    churn_job_t *j = arg;
    uint64_t rng = j->round * 7919 + j->id + 1;
    sat_block_t *local = NULL, *keep = NULL;
    /* Free an exited thread's survivors first: remote frees into pages of
     * abandoned (or just reclaimed) segments, some of them full. */
    if (j->reap != NULL) {
        free_chain(*j->reap);
        *j->reap = NULL;
    }
    for (size_t i = 0; i < CH_BATCH; i++) {
        size_t size = j->size_fixed != 0 ? j->size_fixed : sat_pick_size(&rng);
        sat_block_t *b = sat_block_new(size, (j->round << 40) ^ (j->id << 32) ^ i);
        if (b == NULL)
            return NULL;
        atomic_fetch_add(&g_made, 1);
        /* Mixed sizes, interleaved: every page keeps survivors, and the freed
         * half leaves pages with free blocks (and empty pages, retired before
         * exit). One size: all survive, the thread exits with full pages. */
        sat_block_t **list = (i & 1) && j->size_fixed == 0 ? &local : &keep;
        b->next = *list;
        *list = b;
    }
    free_chain(local);
    *j->fill = keep;
    return NULL;
}

/* sa_collect(true) in a loop while the rounds run: it adopts abandoned
 * segments (all their pages, their retired pages onto its purge list) while
 * other threads abandon theirs. */
static atomic_bool g_collect_stop;
static atomic_size_t g_collects;

static void *collector(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_collect_stop)) {
        sa_collect(true);
        atomic_fetch_add(&g_collects, 1);
        /* A burst of its own: its generic mallocs reclaim abandoned segments
         * by the malloc path (lock only tried), and its pages retire. */
        sat_block_t *burst = NULL;
        for (size_t i = 0; i < CH_BURST; i++) {
            sat_block_t *b = sat_block_new(SAT_BLOCK_MIN + (i * 40) % 1024, i);
            if (b == NULL)
                break;
            b->next = burst;
            burst = b;
        }
        while (burst != NULL) {
            sat_block_t *next = burst->next;
            sat_block_free(burst);
            burst = next;
        }
        sched_yield();
    }
    return NULL;
}

static void churn_rounds(size_t rounds, size_t collectors, size_t size_fixed)
{
    memset(g_slots, 0, sizeof g_slots);
    atomic_store(&g_made, 0);
    atomic_store(&g_freed, 0);
    atomic_store(&g_collect_stop, false);
    atomic_store(&g_collects, 0);
    pthread_t ctid[2];
    cr_assert_leq(collectors, 2);
    for (size_t c = 0; c < collectors; c++)
        cr_assert_eq(pthread_create(&ctid[c], NULL, collector, NULL), 0);
    for (size_t r = 0; r < rounds; r++) {
        pthread_t tid[CH_THREADS];
        churn_job_t jobs[CH_THREADS];
        size_t fill = r % CH_SLOTS, reap = (r + 1) % CH_SLOTS;
        for (size_t i = 0; i < CH_THREADS; i++)
            jobs[i] = (churn_job_t){
                .round = r, .id = i, .fill = &g_slots[fill][i],
                /* thread i frees what thread i+1 of an earlier round left */
                .reap = r >= CH_KEEP ? &g_slots[reap][(i + 1) % CH_THREADS] : NULL,
                .size_fixed = size_fixed,
            };
        for (size_t i = 0; i < CH_THREADS; i++)
            cr_assert_eq(pthread_create(&tid[i], NULL, churn_job, &jobs[i]), 0);
        for (size_t i = 0; i < CH_THREADS; i++)
            cr_assert_eq(pthread_join(tid[i], NULL), 0, "round %zu thread %zu", r, i);
    }
    atomic_store(&g_collect_stop, true);
    for (size_t c = 0; c < collectors; c++)
        cr_assert_eq(pthread_join(ctid[c], NULL), 0);
    for (size_t s = 0; s < CH_SLOTS; s++)
        for (size_t i = 0; i < CH_THREADS; i++) {
            free_chain(g_slots[s][i]);
            g_slots[s][i] = NULL;
        }
    sat_assert_no_thread_failures();
    cr_assert_eq(atomic_load(&g_made), rounds * CH_THREADS * CH_BATCH,
                 "every round ran to completion");
    cr_assert_eq(atomic_load(&g_freed), atomic_load(&g_made), "every block freed once");
    if (collectors > 0)
        cr_assert_gt(atomic_load(&g_collects), 0, "the collectors ran during the rounds");
    assert_nothing_live_after_collect();
}

Test(churn_stress, survivors_freed_by_later_threads_after_their_owner_exited, .timeout = 20)
{
    churn_rounds(CH_ROUNDS, 0, 0);
}

Test(churn_stress, collect_true_while_threads_exit_and_abandon, .timeout = 20)
{
    churn_rounds(CH_ROUNDS, 2, 0);
}

/* One size only: each thread's pages are full when it exits with its
 * survivors, and the reaping thread's frees all land in full abandoned pages. */
Test(churn_stress, remote_frees_into_full_pages_of_exited_owners, .timeout = 20)
{
    churn_rounds(CH_ROUNDS, 1, SAT_BLOCK_MIN + 48);
}

/* ---- the footprint stays flat under churn ----------------------------------------- */

/* Issue 10's pattern, smaller: rounds of FP_THREADS threads; each frees what
 * a thread of the previous round left, allocates FP_BLOCKS blocks (the first
 * up to 100 KiB, on a large page; the rest up to 2 KiB), frees every other
 * one and exits with the rest live. Live blocks are those of two rounds at
 * most, each thread's in at most one segment per page kind, so the segments
 * never need to exceed FP_SEGMENTS_MAX (with the global cache's). Before
 * exits visited the oldest abandoned segments, segments whose blocks later
 * threads freed stayed abandoned for good: 227 segments after 40 rounds,
 * 2317 after 400, and resident memory grew with them. */
enum {
    FP_THREADS   = 16,
    FP_BLOCKS    = 64,
    FP_BIG_MAX   = 100 * 1024,
    FP_SMALL_MAX = 2 * 1024,
    FP_WARM      = 40,      /* rounds before the resident set is the reference */
    FP_ROUNDS    = 400,     /* rounds in all */
    FP_SEGMENTS_MAX = 2 * FP_THREADS * SA_PAGE_KIND_COUNT + SA_SEGMENT_CACHE_GLOBAL_MAX,
};

typedef struct fp_job_s {
    uint64_t seed;
    sat_block_t *reap, *keep;
} fp_job_t;

static void *fp_job(void *arg)
{
    fp_job_t *j = arg;
    sat_chain_free(j->reap);
    j->reap = NULL;
    for (size_t i = 0; i < FP_BLOCKS; i++) {
        size_t max = i == 0 ? FP_BIG_MAX : FP_SMALL_MAX;
        sat_block_t *b = sat_block_new(SAT_BLOCK_MIN + sat_rand(&j->seed) % max, j->seed);
        if (b == NULL)
            return NULL;
        if (i & 1) {
            sat_block_free(b);
        } else {
            b->next = j->keep;
            j->keep = b;
        }
    }
    return NULL;
}

/* This process's resident set, in bytes. */
static size_t fp_rss(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

Test(churn_stress, footprint_stays_flat_while_threads_come_and_go, .timeout = 30)
{
    static fp_job_t jobs[2][FP_THREADS];
    memset(jobs, 0, sizeof jobs);
    size_t warm_rss = 0;
    for (size_t r = 0; r < FP_ROUNDS; r++) {
        fp_job_t *now = jobs[r & 1], *before = jobs[(r + 1) & 1];
        pthread_t tid[FP_THREADS];
        for (size_t i = 0; i < FP_THREADS; i++) {
            now[i] = (fp_job_t){ .seed = r * 1000003 + i + 1,
                                 .reap = before[(i + 1) % FP_THREADS].keep };
            before[(i + 1) % FP_THREADS].keep = NULL;
        }
        for (size_t i = 0; i < FP_THREADS; i++)
            cr_assert_eq(pthread_create(&tid[i], NULL, fp_job, &now[i]), 0);
        for (size_t i = 0; i < FP_THREADS; i++)
            cr_assert_eq(pthread_join(tid[i], NULL), 0);
        sa_stats_t st;
        sa_stats_get(&st);
        cr_assert_leq(st.segments, FP_SEGMENTS_MAX, "round %zu: %zu segments", r,
                      (size_t)st.segments);
        cr_assert_leq(st.mapped, FP_SEGMENTS_MAX * SA_SEGMENT_SIZE, "round %zu: %zu bytes mapped",
                      r, (size_t)st.mapped);
        size_t rss = fp_rss();
        if (r < FP_WARM)
            warm_rss = rss > warm_rss ? rss : warm_rss;
        else    /* ten times the warm-up's rounds, the same live data */
            cr_assert_leq(rss, 2 * warm_rss, "round %zu: resident %zu bytes, %zu in the first %d",
                          r, rss, warm_rss, FP_WARM);
    }
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < FP_THREADS; i++)
            sat_chain_free(jobs[k][i].keep);
    sat_assert_no_thread_failures();
    assert_nothing_live_after_collect();
}

/* ---- realloc across classes by threads that do not own the block ---------------- */

enum { RA_BLOCKS = 400, RA_ROUNDS = 30, RA_HOPS = 3 };

/* Sizes a block walks through: small, medium, large, huge and back (derived
 * from the class limits, so the walk crosses every kind of page). */
static size_t ra_size(size_t step, size_t i)
{
    static const size_t sizes[] = {
        SAT_BLOCK_MIN + 8,
        SA_SMALL_OBJ_SIZE_MAX - 8,
        SA_SMALL_OBJ_SIZE_MAX + 24,
        SA_MEDIUM_OBJ_SIZE_MAX + 24,
        SA_LARGE_OBJ_SIZE_MAX + SA_OS_PAGE_SIZE,
        SAT_BLOCK_MIN + 100,
        SA_LINEAR_CLASS_MAX + 8,
    };
    size_t s = sizes[(step + i) % (sizeof sizes / sizeof sizes[0])];
    /* the huge step only for one block in 16: bounded memory */
    if (s > SA_LARGE_OBJ_SIZE_MAX && i % 16 != 0)
        s = SA_MEDIUM_OBJ_SIZE_MAX - 8;
    return s;
}

typedef struct ra_job_s {
    sat_block_t **blocks;   /* RA_BLOCKS, handed from thread to thread */
    size_t step;            /* which hop this is */
} ra_job_t;

/* Check the block, grow or shrink it to the next size, check that the
 * common prefix moved, refill it for the new size. */
static sat_block_t *ra_move(sat_block_t *b, size_t new_size)
{
    size_t n = b->size - SAT_BLOCK_MIN;
    size_t bad = sat_mismatch(b + 1, n, b->seed);
    if (bad != n) {
        sat_fail("block %p (size %zu) corrupted at byte %zu before realloc", (void *)b, b->size, bad);
        return b;
    }
    uint64_t seed = b->seed;
    size_t old = b->size;
    sat_block_t *nb = sa_realloc(b, new_size);
    if (nb == NULL) {
        sat_fail("realloc(%zu -> %zu) returned NULL", old, new_size);
        return b;
    }
    size_t keep = (old < new_size ? old : new_size) - SAT_BLOCK_MIN;
    bad = sat_mismatch(nb + 1, keep, seed);
    if (bad != keep)
        sat_fail("realloc %zu -> %zu lost byte %zu of the contents", old, new_size, bad);
    nb->size = new_size;
    nb->seed = seed * 31 + new_size;
    sat_fill(nb + 1, new_size - SAT_BLOCK_MIN, nb->seed);
    return nb;
}

static void *ra_maker(void *arg)
{
    ra_job_t *j = arg;
    for (size_t i = 0; i < RA_BLOCKS; i++) {
        j->blocks[i] = sat_block_new(ra_size(j->step, i), j->step * 100003 + i);
        if (j->blocks[i] != NULL)
            atomic_fetch_add(&g_made, 1);
    }
    return NULL;     /* exits: the blocks' pages are abandoned */
}

static void *ra_mover(void *arg)
{
    ra_job_t *j = arg;
    for (size_t i = 0; i < RA_BLOCKS; i++)
        if (j->blocks[i] != NULL)
            j->blocks[i] = ra_move(j->blocks[i], ra_size(j->step, i));
    return NULL;
}

static void *ra_freer(void *arg)
{
    ra_job_t *j = arg;
    for (size_t i = 0; i < RA_BLOCKS; i++)
        if (j->blocks[i] != NULL) {
            sat_block_free(j->blocks[i]);
            j->blocks[i] = NULL;
            atomic_fetch_add(&g_freed, 1);
        }
    return NULL;
}

/* Two chains at once: in each round a thread makes blocks and exits, RA_HOPS
 * threads one after another realloc each block to another class (the first
 * from a dead owner's page, later ones from pages of threads that exited
 * too), and a last thread frees them. */
Test(churn_stress, realloc_across_classes_by_threads_that_do_not_own_the_block, .timeout = 20)
{
    atomic_store(&g_made, 0);
    atomic_store(&g_freed, 0);
    static sat_block_t *blocks[2][RA_BLOCKS];
    for (size_t r = 0; r < RA_ROUNDS; r++) {
        pthread_t tid[2];
        ra_job_t jobs[2];
        for (size_t c = 0; c < 2; c++) {
            jobs[c] = (ra_job_t){ blocks[c], r * 7 + c };
            cr_assert_eq(pthread_create(&tid[c], NULL, ra_maker, &jobs[c]), 0);
        }
        for (size_t c = 0; c < 2; c++)
            cr_assert_eq(pthread_join(tid[c], NULL), 0);
        for (size_t hop = 0; hop < RA_HOPS; hop++) {
            for (size_t c = 0; c < 2; c++) {
                jobs[c].step++;
                cr_assert_eq(pthread_create(&tid[c], NULL, ra_mover, &jobs[c]), 0);
            }
            for (size_t c = 0; c < 2; c++)
                cr_assert_eq(pthread_join(tid[c], NULL), 0);
        }
        /* chain c's blocks are freed by the thread of chain 1 - c */
        for (size_t c = 0; c < 2; c++)
            cr_assert_eq(pthread_create(&tid[c], NULL, ra_freer, &jobs[1 - c]), 0);
        for (size_t c = 0; c < 2; c++)
            cr_assert_eq(pthread_join(tid[c], NULL), 0);
    }
    sat_assert_no_thread_failures();
    cr_assert_eq(atomic_load(&g_made), (size_t)RA_ROUNDS * 2 * RA_BLOCKS);
    cr_assert_eq(atomic_load(&g_freed), atomic_load(&g_made));
    assert_nothing_live_after_collect();
}

/* ---- fork while threads churn --------------------------------------------------- */

enum { FK_EXIT_ROUNDS = 4000, FK_FORKS = 40, FK_CHILD_BLOCKS = 2000, FK_CHILD_SECONDS = 10 };

static atomic_bool g_churn_stop;
static atomic_size_t g_churn_rounds;
static size_t g_churn_budget;   /* rounds to run in all, or 0: until g_churn_stop */

static void *fk_short(void *arg)
{
    size_t id = (size_t)arg;
    sat_block_t *keep = NULL;
    uint64_t rng = id + 1;
    for (size_t i = 0; i < 200; i++) {
        sat_block_t *b = sat_block_new(sat_pick_size(&rng), id * 1000 + i);
        if (b == NULL)
            break;
        if (i & 1) {
            sat_block_free(b);
        } else {
            b->next = keep;
            keep = b;
        }
    }
    return keep;    /* survivors, freed by the churner after the exit */
}

/* Starts short threads without pause; frees each one's survivors after it
 * exited. */
static void *fk_churner(void *arg)
{
    size_t base = (size_t)arg;
    while (!atomic_load(&g_churn_stop)) {
        size_t r = atomic_fetch_add(&g_churn_rounds, 1);
        if (g_churn_budget != 0 && r >= g_churn_budget)
            break;
        pthread_t t;
        if (pthread_create(&t, NULL, fk_short, (void *)(base + r)) != 0) {
            sat_fail("pthread_create failed");
            return NULL;
        }
        void *keep;
        pthread_join(t, &keep);
        sat_chain_free(keep);
    }
    return NULL;
}

/* Two threads each start short-lived threads back to back: one thread exits
 * (abandons its segments, with retired pages in them) while the other's new
 * thread reclaims them in its first generic mallocs. */
Test(churn_stress, exits_racing_reclaims_of_the_segments_they_abandon, .timeout = 20)
{
    atomic_store(&g_churn_stop, false);
    atomic_store(&g_churn_rounds, 0);
    g_churn_budget = FK_EXIT_ROUNDS;
    pthread_t churners[2];
    for (size_t c = 0; c < 2; c++)
        cr_assert_eq(pthread_create(&churners[c], NULL, fk_churner, (void *)(c << 20)), 0);
    for (size_t c = 0; c < 2; c++)
        cr_assert_eq(pthread_join(churners[c], NULL), 0);
    sat_assert_no_thread_failures();
    cr_assert_geq(atomic_load(&g_churn_rounds), FK_EXIT_ROUNDS, "every round ran");
    assert_nothing_live_after_collect();
}

/* The fork test and its child are not built under AddressSanitizer (make
 * test-asan): GCC 12's libasan does not hold its own allocator's locks
 * across fork, and the C library's thread start and exit allocate through
 * it, so a child forked while another thread is inside ASan's allocator
 * inherits a region mutex held by no one and hangs in its first
 * pthread_create (backtrace: the child in
 * SizeClassAllocator64::GetFromAllocator from AsanThread::Init, the
 * parent's exiting thread in ReturnToAllocator from AsanThread::Destroy;
 * 4 runs in 18 at 6d4e501 and at 412f72c alike). `make test` runs it in
 * the plain and debug builds, where the only allocator at fork is
 * shardalloc's own (src/init.c's fork handlers). */
#ifndef __SANITIZE_ADDRESS__
static void *fk_child_thread(void *arg)
{
    (void)arg;
    void *keep = fk_short((void *)(size_t)99);
    return keep;
}

/* The child: a forked copy of a process whose threads were in the middle of
 * malloc, free and exit. It must allocate, free, start a thread and exit. */
static int fk_child(void)
{
    alarm(FK_CHILD_SECONDS);    /* a hang in the child is a signal the parent sees */
    sat_block_t *list = NULL;
    for (size_t i = 0; i < FK_CHILD_BLOCKS; i++) {
        sat_block_t *b = sat_block_new(SAT_BLOCK_MIN + i % 1024, i);
        if (b == NULL)
            return 2;
        b->next = list;
        list = b;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, fk_child_thread, NULL) != 0)
        return 3;
    void *keep;
    pthread_join(t, &keep);
    sat_chain_free(keep);
    sat_chain_free(list);
    sa_collect(true);
    return atomic_load(&sat_failures) == 0 ? 0 : 4;
}

Test(churn_stress, fork_while_threads_start_allocate_and_exit, .timeout = 20)
{
    atomic_store(&g_churn_stop, false);
    atomic_store(&g_churn_rounds, 0);
    g_churn_budget = 0;
    pthread_t churners[2];
    for (size_t c = 0; c < 2; c++)
        cr_assert_eq(pthread_create(&churners[c], NULL, fk_churner, (void *)(c << 20)), 0);
    for (size_t f = 0; f < FK_FORKS; f++) {
        /* let the churners get going between forks */
        size_t seen = atomic_load(&g_churn_rounds);
        while (atomic_load(&g_churn_rounds) < seen + 2)
            sched_yield();
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0)
            _exit(fk_child());
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status), "fork %zu: child died by signal %d%s", f,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                  WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? " (hung)" : "");
        cr_assert_eq(WEXITSTATUS(status), 0, "fork %zu: child exit status %d", f,
                     WEXITSTATUS(status));
    }
    atomic_store(&g_churn_stop, true);
    for (size_t c = 0; c < 2; c++)
        cr_assert_eq(pthread_join(churners[c], NULL), 0);
    sat_assert_no_thread_failures();
    cr_assert_gt(atomic_load(&g_churn_rounds), FK_FORKS * 2);
}
#endif
