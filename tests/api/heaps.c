/* tests/api/heaps.c -- first-class heaps: blocks of every kind from a heap
 * of its own, destroy frees them all at once, delete hands them to the
 * thread's heap, visit sees exactly the live ones, and only the owner thread
 * may use the heap. */
#include "sa_test.h"
#include <pthread.h>

/* Sizes of every kind: small, medium, large, huge. */
static const size_t k_sizes[] = { 0, 1, 16, 100, 1000, 9000, 70000, 600000, 3u << 20 };
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

/* n blocks from the heap: sizes cycling through k_sizes, every third
 * aligned to 64 << (i % 8); each filled with its pattern. */
static void heap_fill(sa_heap_t *heap, void **p, size_t *size, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size[i] = k_sizes[i % NSIZES];
        if (i % 3 == 2) {
            size_t a = (size_t)64 << (i % 8);
            p[i] = sa_heap_aligned_alloc(heap, a, size[i]);
            cr_assert(sat_aligned(p[i], a), "heap_aligned_alloc(%zu, %zu) = %p", a, size[i], p[i]);
        } else {
            p[i] = sa_heap_malloc(heap, size[i]);
        }
        cr_assert_not_null(p[i], "block %zu (%zu bytes)", i, size[i]);
        cr_assert_geq(sa_heap_usable_size(heap, p[i]), size[i]);
        sat_fill(p[i], size[i], i);
    }
}

/* Frees p[0..n) with sa_free, each once: nothing may be reported. */
static void free_each_silently(void **p, size_t n, const char *what)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    for (size_t i = 0; i < n; i++)
        sa_free(p[i]);
    sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), what);
}

Test(heaps, blocks_of_every_kind_come_from_the_heap_and_free_normally)
{
    enum { N = 90 };
    void *p[N];
    size_t size[N];
    sa_heap_t *heap = sa_heap_new();
    cr_assert_not_null(heap);
    heap_fill(heap, p, size, N);
    sat_range_t r[N];
    for (size_t i = 0; i < N; i++) {
        cr_assert(sat_check(p[i], size[i], i), "block %zu overwritten", i);
        r[i] = (sat_range_t){ (uintptr_t)p[i], size[i] };
    }
    sat_assert_disjoint(r, N);
    /* a block of the thread's own heap is not the heap's */
    void *mine = sa_malloc(100);
    cr_assert_eq(sa_heap_usable_size(heap, mine), 0);
    sa_free(mine);
    free_each_silently(p, N, "frees of a heap's blocks");
    sa_heap_destroy(heap);
}

Test(heaps, calloc_zeroes_and_realloc_keeps_contents_in_the_heap)
{
    sa_heap_t *heap = sa_heap_new();
    for (size_t i = 0; i < NSIZES; i++) {
        unsigned char *z = sa_heap_calloc(heap, 1, k_sizes[i]);
        cr_assert_not_null(z);
        cr_assert(sat_is_zero(z, k_sizes[i]), "heap_calloc(%zu) not zeroed", k_sizes[i]);
        sa_free(z);
    }
    errno = 0;
    cr_assert_null(sa_heap_calloc(heap, SIZE_MAX / 2, 3));
    cr_assert_eq(errno, ENOMEM);
    void *p = sa_malloc(200);     /* the thread's heap: realloc moves it into this one */
    sat_fill(p, 200, 7);
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i] > 200 ? k_sizes[i] : 200;
        void *q = sa_heap_realloc(heap, p, n);
        cr_assert_not_null(q);
        cr_assert(sat_check(q, 200, 7), "heap_realloc(%zu) lost the contents", n);
        if (q != p)     /* moved: into the heap (kept in place when it fits) */
            cr_assert_geq(sa_heap_usable_size(heap, q), n, "heap_realloc(%zu): not the heap's", n);
        p = q;
    }
    sa_heap_destroy(heap);  /* p with it */
}

Test(heaps, destroy_frees_every_block_at_once)
{
    enum { N = 3000 };
    static void *p[N];
    static size_t size[N];
    sa_collect(true);
    sa_stats_t before, full, after;
    sa_stats_get(&before);
    sa_heap_t *heap = sa_heap_new();
    heap_fill(heap, p, size, N);
    sa_stats_get(&full);
    cr_assert_gt(full.allocated, before.allocated + 100 * 600000, "the blocks are counted");
    cr_assert_gt(full.huge_blocks, before.huge_blocks);
    sa_heap_destroy(heap);
    sa_collect(true);
    sa_stats_get(&after);
    cr_assert_leq(after.allocated, before.allocated, "destroy left %zu bytes allocated (%zu before)",
                  after.allocated, before.allocated);
    cr_assert_eq(after.huge_blocks, before.huge_blocks);
    cr_assert_leq(after.mapped, before.mapped + (8u << 20), "destroy kept %zu bytes mapped (%zu before)",
                  after.mapped, before.mapped);
    for (size_t i = 0; i < N; i += 97)
        cr_assert(!sa_owns(p[i]), "block %zu (%zu bytes) still live after destroy", i, size[i]);
}

static void *free_every_other(void *arg)
{
    sat_blocks_t *b = arg;
    for (size_t i = 0; i < b->n; i += 2)
        sa_free(b->p[i]);
    return NULL;
}

Test(heaps, destroy_after_other_threads_freed_some_blocks)
{
    enum { N = 2000 };
    static void *p[N];
    static size_t size[N];
    sa_heap_t *heap = sa_heap_new();
    heap_fill(heap, p, size, N);
    /* another thread frees every other block (remote frees into the heap) */
    pthread_t t;
    sat_blocks_t half = { p, N };
    cr_assert_eq(pthread_create(&t, NULL, free_every_other, &half), 0);
    pthread_join(t, NULL);
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    sa_heap_destroy(heap);
    sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), "destroy after remote frees");
    void *q = sa_malloc(64);  /* the thread's heap still works */
    cr_assert_not_null(q);
    sa_free(q);
}

Test(heaps, destroy_never_frees_blocks_of_an_exited_thread)
{
    /* A first-class heap's first malloc finds no segment of its own, where a
     * thread's heap would adopt the abandoned one. Adopted, its pages would
     * be the heap's, and destroy would free the exited thread's live
     * blocks with them: each then handed out again while the program still
     * holds it. */
    enum { N = 64 };
    static void *p[N];
    sat_blocks_t left = { p, N };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, sat_leave_live_blocks, &left), 0);
    pthread_join(t, NULL);
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(p[i]);
    sa_heap_t *heap = sa_heap_new();
    cr_assert_not_null(heap);
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(sa_heap_malloc(heap, 48));
    sa_heap_destroy(heap);
    for (size_t i = 0; i < N; i++) {
        cr_assert(sa_owns(p[i]), "block %zu of the exited thread freed by another heap's destroy", i);
        cr_assert(sat_check(p[i], 48, i), "block %zu of the exited thread overwritten", i);
    }
    free_each_silently(p, N, "the exited thread's blocks freed once");
}

Test(heaps, delete_keeps_live_blocks_for_the_threads_heap)
{
    enum { N = 600 };
    static void *p[N];
    static size_t size[N];
    sa_heap_t *heap = sa_heap_new();
    heap_fill(heap, p, size, N);
    sa_heap_delete(heap);
    for (size_t i = 0; i < N; i++) {
        cr_assert(sat_check(p[i], size[i], i), "block %zu changed by delete", i);
        cr_assert(sa_owns(p[i]), "block %zu not live after delete", i);
    }
    /* the thread's heap allocates around them, and frees them */
    void *q[N];
    for (size_t i = 0; i < N; i++) {
        q[i] = sa_malloc(k_sizes[i % NSIZES]);
        sat_fill(q[i], k_sizes[i % NSIZES], i + N);
    }
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    for (size_t i = 0; i < N; i++) {
        cr_assert(sat_check(p[i], size[i], i), "block %zu overwritten after delete", i);
        sa_free(p[i]);
        sa_free(q[i]);
    }
    sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), "frees after delete");
}

typedef struct seen_s {
    void **p;
    size_t n, calls, bad, stop_after;
} seen_t;

static bool count_block(const sa_heap_t *heap, void *block, size_t size, void *arg)
{
    (void)heap;
    seen_t *s = arg;
    s->calls++;
    bool known = false;
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i] == block) {
            known = true;
            s->p[i] = NULL;     /* seen once */
            break;
        }
    if (!known || size == 0)
        s->bad++;
    return s->stop_after == 0 || s->calls < s->stop_after;
}

Test(heaps, visit_sees_exactly_the_live_blocks)
{
    enum { N = 400 };
    static void *p[N], *live[N];
    static size_t size[N];
    sa_heap_t *heap = sa_heap_new();
    /* unaligned ones only: visit gives block starts */
    for (size_t i = 0; i < N; i++) {
        size[i] = k_sizes[i % NSIZES];
        p[i] = sa_heap_malloc(heap, size[i]);
        cr_assert_not_null(p[i]);
    }
    size_t n = 0;
    for (size_t i = 0; i < N; i++) {
        if (i % 3 == 0)
            sa_free(p[i]);
        else
            live[n++] = p[i];
    }
    seen_t s = { live, n, 0, 0, 0 };
    cr_assert(sa_heap_visit_blocks(heap, count_block, &s));
    cr_assert_eq(s.bad, 0, "%zu visited blocks were not live blocks of the heap", s.bad);
    cr_assert_eq(s.calls, n, "visited %zu blocks, %zu are live", s.calls, n);
    seen_t stop = { p, N, 0, 0, 5 };
    cr_assert(!sa_heap_visit_blocks(heap, count_block, &stop), "a visit stopped early says so");
    cr_assert_eq(stop.calls, 5);
    sa_heap_destroy(heap);
}

static void *use_foreign_heap(void *arg)
{
    sa_heap_t *heap = arg;
    errno = 0;
    void *p = sa_heap_malloc(heap, 32);
    return p == NULL && errno == EINVAL ? heap : NULL;
}

Test(heaps, only_the_owner_thread_may_allocate)
{
    sa_heap_t *heap = sa_heap_new();
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    pthread_t t;
    void *res = NULL;
    cr_assert_eq(pthread_create(&t, NULL, use_foreign_heap, heap), 0);
    pthread_join(t, &res);
    const char *m = sat_capture_end(&c, msg, sizeof msg);
    cr_assert_eq(res, heap, "another thread's heap_malloc must fail with EINVAL");
    sat_assert_reported(m, "heap_malloc", heap);
    cr_assert(strstr(m, "owner") != NULL, "the message says why: \"%s\"", m);
    sa_heap_destroy(heap);
}

/* Destroyed heaps are taken again by sa_heap_new (or by a thread): after the
 * first round has made what it needs, more rounds map nothing more. */
Test(heaps, many_heaps_made_and_destroyed_do_not_grow_memory)
{
    sa_stats_t s[3];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 200; i++) {
            sa_heap_t *heap = sa_heap_new();
            cr_assert_not_null(heap);
            for (int j = 0; j < 50; j++)
                cr_assert_not_null(sa_heap_malloc(heap, 16 + (size_t)j * 40));
            sa_heap_destroy(heap);
        }
        sa_collect(true);
        sa_stats_get(&s[round]);
    }
    cr_assert_leq(s[2].mapped, s[1].mapped, "mapped grew from %zu to %zu over 200 more heaps",
                  s[1].mapped, s[2].mapped);
    cr_assert_leq(s[2].segments, s[1].segments);
}
