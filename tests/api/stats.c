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
