/* tests/api/stats.c -- sa_stats_get follows what the program does (allocated
 * bytes, segments, huge blocks, mappings) and sa_stats_print reports on stderr. */
#include "sa_test.h"
#include "size_class.h"

Test(stats, allocated_follows_malloc_and_free)
{
    sa_stats_t a, b, c;
    void *warm = sa_malloc(1);      /* initialise the heap first */
    sa_stats_get(&a);
    enum { N = 1000, SIZE = 1000 };
    void *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = sa_malloc(SIZE);
        cr_assert_not_null(p[i]);
    }
    sa_stats_get(&b);
    size_t block = _sa_bin_size(_sa_bin(SIZE));
    cr_assert_eq(b.allocated - a.allocated, (size_t)N * block,
                 "allocated grew by %zu for %d blocks of %zu", b.allocated - a.allocated, N, block);
    cr_assert_geq(b.committed, b.allocated);
    cr_assert_geq(b.mapped, b.committed);
    cr_assert_gt(b.segments, 0);
    cr_assert_gt(b.mmap_calls, 0);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sa_stats_get(&c);
    cr_assert_eq(c.allocated, a.allocated, "allocated %zu before, %zu after freeing everything",
                 a.allocated, c.allocated);
    sa_free(warm);
}

Test(stats, huge_blocks_are_counted)
{
    sa_stats_t a, b, c;
    sa_stats_get(&a);
    void *h = sa_malloc(3 * SA_SEGMENT_SIZE);
    cr_assert_not_null(h);
    sa_stats_get(&b);
    cr_assert_eq(b.huge_blocks, a.huge_blocks + 1);
    cr_assert_geq(b.allocated - a.allocated, 3 * SA_SEGMENT_SIZE);
    cr_assert_geq(b.mapped - a.mapped, 3 * SA_SEGMENT_SIZE);
    sa_free(h);
    sa_stats_get(&c);
    cr_assert_eq(c.huge_blocks, a.huge_blocks);
    cr_assert_eq(c.allocated, a.allocated);
}

Test(stats, print_writes_a_report_to_stderr)
{
    void *p = sa_malloc(100);
    sat_capture_t cap;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&cap);
    sa_stats_print();
    sat_capture_end(&cap, msg, sizeof msg);
    cr_assert(strncmp(msg, "shardalloc", strlen("shardalloc")) == 0, "stats_print wrote: \"%s\"", msg);
    cr_assert(strstr(msg, "allocated") != NULL, "stats_print does not show `allocated`: \"%s\"", msg);
    sa_free(p);
}

Test(stats, mapped_returns_to_its_baseline_after_huge_realloc_churn)
{
    /* Huge blocks grown and shrunk in place (mremap) or moved: every byte
     * mapped is accounted, so after freeing and sa_collect(true) (which
     * releases the huge cache) mapped and committed are back where they were.
     * Warm up first: the thread's heap metadata is mapped once and stays. */
    sa_free(sa_malloc(1));
    sa_free(sa_malloc(2 * SA_SEGMENT_SIZE));
    sa_collect(true);
    sa_stats_t before, after;
    sa_stats_get(&before);
    uint64_t rng = 8;
    void *p[4] = { 0 };
    for (int i = 0; i < 400; i++) {
        size_t k = (size_t)(sat_rand(&rng) % 4);
        size_t to = SA_LARGE_OBJ_SIZE_MAX + 1 + sat_rand(&rng) % (6 * SA_SEGMENT_SIZE);
        void *q = sa_realloc(p[k], to);
        cr_assert_not_null(q);
        ((unsigned char *)q)[to - 1] = 1;
        p[k] = q;
    }
    for (size_t k = 0; k < 4; k++)
        sa_free(p[k]);
    sa_collect(true);
    sa_stats_get(&after);
    cr_assert_eq(after.huge_blocks, before.huge_blocks);
    cr_assert_eq(after.mapped, before.mapped, "mapped %zu before, %zu after", before.mapped, after.mapped);
    cr_assert_eq(after.committed, before.committed, "committed %zu before, %zu after",
                 before.committed, after.committed);
    cr_assert_eq(after.allocated, before.allocated);
}
