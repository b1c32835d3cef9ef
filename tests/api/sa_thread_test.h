/* tests/api/sa_thread_test.h -- for suites whose worker threads check blocks:
 * Criterion's assertions must run on the test's own thread, so workers record
 * the first failure here and the test asserts on it after joining them. Blocks
 * carry a header (link, size, seed) so any thread can check them. */
#ifndef SA_THREAD_TEST_H
#define SA_THREAD_TEST_H

#include "sa_test.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

static atomic_int sat_failures;
static char sat_first_failure[512];

__attribute__((format(printf, 1, 2)))
static inline void sat_fail(const char *fmt, ...)
{
    if (atomic_fetch_add(&sat_failures, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sat_first_failure, sizeof sat_first_failure, fmt, ap);
        va_end(ap);
    }
}

static inline void sat_assert_no_thread_failures(void)
{
    int n = atomic_load(&sat_failures);
    cr_assert_eq(n, 0, "%d failures in worker threads, the first: %s", n, sat_first_failure);
}

/* A checked block: [next | size | seed | pattern ...]. `next` links blocks in
 * hand-over lists between threads; the pattern covers the rest of the request. */
typedef struct sat_block_s {
    struct sat_block_s *next;
    size_t   size;
    uint64_t seed;
} sat_block_t;

#define SAT_BLOCK_MIN sizeof(sat_block_t)

static inline sat_block_t *sat_block_new(size_t size, uint64_t seed)
{
    if (size < SAT_BLOCK_MIN)
        size = SAT_BLOCK_MIN;
    sat_block_t *b = sa_malloc(size);
    if (b == NULL) {
        sat_fail("malloc(%zu) returned NULL", size);
        return NULL;
    }
    if (((uintptr_t)b & (SA_MIN_ALIGN - 1)) != 0)
        sat_fail("malloc(%zu) = %p is misaligned", size, (void *)b);
    b->next = NULL;
    b->size = size;
    b->seed = seed;
    sat_fill(b + 1, size - SAT_BLOCK_MIN, seed);
    return b;
}

/* Checks the block's pattern (a block handed out twice, or written by a
 * neighbour, fails here) and frees it. */
static inline void sat_block_free(sat_block_t *b)
{
    size_t n = b->size - SAT_BLOCK_MIN;
    size_t bad = sat_mismatch(b + 1, n, b->seed);
    if (bad != n)
        sat_fail("block %p (size %zu, seed %#" PRIx64 ") corrupted at byte %zu",
                 (void *)b, b->size, b->seed, bad + SAT_BLOCK_MIN);
    sa_free(b);
}

/* Checks and frees every block of a chain linked through `next`; how many. */
static inline size_t sat_chain_free(sat_block_t *b)
{
    size_t n = 0;
    while (b != NULL) {
        sat_block_t *next = b->next;
        sat_block_free(b);
        b = next;
        n++;
    }
    return n;
}

/* Mostly small, some up to a few KiB, a few medium: the mix of a real program. */
static inline size_t sat_pick_size(uint64_t *rng)
{
    uint64_t r = sat_rand(rng);
    unsigned pick = (unsigned)(r % 100);
    r >>= 8;
    if (pick < 70)
        return SAT_BLOCK_MIN + r % 256;
    if (pick < 97)
        return 256 + r % 4096;
    return 4096 + r % SA_SMALL_OBJ_SIZE_MAX;
}

/* ---- another thread frees this thread's blocks, then mallocs their size:
 * the remote cache (src/free.c) hands the blocks it kept out first. */

typedef struct sat_refree_s {
    void **blocks;
    size_t n, size;
    size_t max_mallocs;
    size_t mallocs;     /* what it took for all to come back, or SIZE_MAX */
} sat_refree_t;

static void *sat_refree_thread(void *arg)
{
    sat_refree_t *job = arg;
    void *own = sa_malloc(job->size);   /* a heap of its own, a page of the class */
    if (own == NULL)
        sat_fail("the freeing thread's own malloc failed");
    for (size_t i = 0; i < job->n; i++)
        sa_free(job->blocks[i]);
    void **got = job->max_mallocs > 0 ? sat_map(job->max_mallocs * sizeof *got) : NULL;
    size_t back = 0, n = 0;
    while (back < job->n && n < job->max_mallocs) {
        got[n] = sa_malloc(job->size);
        if (got[n] == NULL) {
            sat_fail("malloc %zu of the freeing thread failed", n);
            break;
        }
        for (size_t i = 0; i < job->n; i++)
            back += got[n] == job->blocks[i];
        n++;
    }
    job->mallocs = back == job->n ? n : SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        sa_free(got[i]);
    if (got != NULL)
        sat_unmap(got, job->max_mallocs * sizeof *got);
    sa_free(own);
    return NULL;
}

/* A thread with a heap of its own frees `n` blocks of `size` bytes of this
 * thread's heap, then mallocs `size` until every one of them came back, at
 * most `max_mallocs` times (0: it only frees them), and exits. Returns the
 * mallocs it took, or SIZE_MAX if some did not come back. */
static inline size_t sat_freed_by_another_thread(void **blocks, size_t n, size_t size,
                                                 size_t max_mallocs)
{
    sat_refree_t job = { blocks, n, size, max_mallocs, 0 };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, sat_refree_thread, &job), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    sat_assert_no_thread_failures();
    return job.mallocs;
}

#endif /* SA_THREAD_TEST_H */
