/* tests/api/memory_return.c -- memory goes back to the OS: after freeing a
 * large heap of small and medium blocks and sa_collect(true), the allocator's
 * committed/mapped bytes and the process's resident memory drop; huge blocks
 * are recycled through the cache. */
#include "sa_test.h"
#include "size_class.h"
#include <pthread.h>
#include <unistd.h>

enum { HEAP_MIB = 256 };

/* Resident bytes that the kernel has not been told it may drop: Rss minus
 * LazyFree from /proc/self/smaps_rollup (MADV_FREE'd pages stay in Rss until
 * memory pressure, but they are LazyFree). */
static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    cr_assert_not_null(f);
    char line[256];
    size_t rss_kb = 0, lazy_kb = 0, v;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "Rss: %zu kB", &v) == 1)
            rss_kb = v;
        else if (sscanf(line, "LazyFree: %zu kB", &v) == 1)
            lazy_kb = v;
    }
    fclose(f);
    cr_assert_gt(rss_kb, 0);
    return (rss_kb - lazy_kb) * 1024;
}

Test(memory_return, freed_small_and_medium_heap_is_returned_after_collect)
{
    const size_t total = (size_t)HEAP_MIB << 20;
    const size_t max_blocks = total / SA_MIN_ALIGN;
    void **p = sat_map(max_blocks * sizeof *p);
    uint64_t rng = 77;
    size_t n = 0, bytes = 0;
    while (bytes < total) {
        /* three quarters small, one quarter medium, by count */
        size_t size = (sat_rand(&rng) % 4 == 0)
            ? SA_SMALL_OBJ_SIZE_MAX + 1 + sat_rand(&rng) % (SA_MEDIUM_OBJ_SIZE_MAX - SA_SMALL_OBJ_SIZE_MAX)
            : 1 + sat_rand(&rng) % 1024;
        p[n] = sa_malloc(size);
        cr_assert_not_null(p[n]);
        memset(p[n], 0x5A, size);       /* really touch it */
        bytes += size;
        n++;
    }
    sa_stats_t full, empty;
    sa_stats_get(&full);
    size_t rss_full = resident_bytes();
    cr_assert_geq(full.allocated, total, "stats: allocated %zu after allocating %zu", full.allocated, total);
    cr_assert_geq(full.committed, total);
    cr_assert_geq(full.mapped, full.committed);

    for (size_t i = 0; i < n; i++)
        sa_free(p[i]);
    sa_collect(true);
    sa_stats_get(&empty);
    size_t rss_empty = resident_bytes();

    cr_log_info("256 MiB heap freed + collect: committed %zu -> %zu, mapped %zu -> %zu, resident %zu -> %zu",
                full.committed, empty.committed, full.mapped, empty.mapped, rss_full, rss_empty);
    /* A real drop: at least half of what the blocks took, by every measure. */
    cr_assert_lt(empty.allocated, full.allocated - total / 2,
                 "allocated %zu -> %zu", full.allocated, empty.allocated);
    cr_assert_lt(empty.committed, full.committed - total / 2,
                 "committed %zu -> %zu after free + collect", full.committed, empty.committed);
    cr_assert_leq(empty.mapped, full.mapped);
    cr_assert_lt(rss_empty, rss_full - total / 2,
                 "resident %zu -> %zu after free + collect", rss_full, rss_empty);
    sat_unmap(p, max_blocks * sizeof *p);
}

Test(memory_return, heap_is_reusable_after_returning_memory)
{
    /* Purged pages and segments come back when needed, zero or not, and
     * writable: allocate, free, collect, three times over. */
    enum { N = 20000 };
    static void *p[N];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            size_t size = 1 + (i * 7919) % 3000;
            p[i] = sa_malloc(size);
            cr_assert_not_null(p[i]);
            sat_fill(p[i], size, i + (size_t)round);
        }
        for (size_t i = 0; i < N; i++)
            cr_assert(sat_check(p[i], 1 + (i * 7919) % 3000, i + (size_t)round));
        for (size_t i = 0; i < N; i++)
            sa_free(p[i]);
        sa_collect(true);
    }
}

Test(memory_return, huge_blocks_are_returned_when_freed_and_collected)
{
    sa_stats_t before, live, after;
    sa_collect(true);
    sa_stats_get(&before);
    enum { N = 8 };
    void *p[N];
    size_t sum = 0;
    for (size_t i = 0; i < N; i++) {
        size_t size = 5 * SA_SEGMENT_SIZE + i * SA_OS_PAGE_SIZE * 3;
        p[i] = sa_malloc(size);
        cr_assert_not_null(p[i]);
        memset(p[i], 1, size);
        sum += size;
    }
    sa_stats_get(&live);
    cr_assert_eq(live.huge_blocks, before.huge_blocks + N);
    cr_assert_geq(live.mapped, before.mapped + sum);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sa_collect(true);
    sa_stats_get(&after);
    cr_assert_eq(after.huge_blocks, before.huge_blocks);
    cr_assert_lt(after.committed, live.committed - sum / 2,
                 "committed %zu -> %zu after freeing %zu bytes of huge blocks",
                 live.committed, after.committed, sum);
}

Test(memory_return, huge_block_loop_is_served_by_the_cache)
{
    /* malloc/touch/free of 5-25 MiB blocks: it completes, every block is
     * usable, and the huge cache saves OS mappings (fewer mmap calls than
     * allocations). No timing asserts here; bench/ measures the speed. */
    enum { ITER = 300 };
    const size_t lo = 5u << 20, span = 20u << 20;
    uint64_t rng = 3;
    sa_stats_t before, after;
    sa_stats_get(&before);
    for (int i = 0; i < ITER; i++) {
        size_t size = lo + sat_rand(&rng) % span;
        unsigned char *p = sa_malloc(size);
        cr_assert_not_null(p, "malloc(%zu) failed at iteration %d", size, i);
        cr_assert(sat_aligned(p, SA_MIN_ALIGN));
        cr_assert_geq(sa_usable_size(p), size);
        for (size_t off = 0; off < size; off += SA_OS_PAGE_SIZE)
            p[off] = (unsigned char)i;
        p[size - 1] = (unsigned char)i;
        cr_assert_eq(p[(size / 2) & ~(SA_OS_PAGE_SIZE - 1)], (unsigned char)i);
        sa_free(p);
    }
    sa_stats_get(&after);
    size_t calls = after.mmap_calls - before.mmap_calls;
    cr_log_info("huge loop: %zu mmap calls for %d malloc/free pairs of 5-25 MiB", calls, ITER);
    cr_assert_lt(calls, (size_t)ITER,
                 "%zu mmap calls for %d huge malloc/free pairs: the cache did not serve any", calls, ITER);
    cr_assert_eq(after.huge_blocks, before.huge_blocks);
}

/* ---- threads that exit leave abandoned segments; once their blocks are
 * freed (here, by the main thread), that memory must go back too. */

enum { EXITED_THREADS = 4, EXITED_MIB_EACH = 32 };

typedef struct exited_s {
    void **blocks;
    size_t n;
} exited_t;

static void *allocate_and_exit(void *arg)
{
    exited_t *e = arg;
    size_t bytes = 0;
    uint64_t rng = (uintptr_t)arg;
    while (bytes < (size_t)EXITED_MIB_EACH << 20) {
        size_t size = 16 + sat_rand(&rng) % 2000;
        void *p = sa_malloc(size);
        if (p == NULL)
            break;
        memset(p, 0x3C, size);
        e->blocks[e->n++] = p;
        bytes += size;
    }
    return NULL;
}

Test(memory_return, memory_of_exited_threads_is_returned_once_its_blocks_are_freed)
{
    const size_t total = (size_t)EXITED_THREADS * EXITED_MIB_EACH << 20;
    const size_t max_blocks = ((size_t)EXITED_MIB_EACH << 20) / 16;
    exited_t e[EXITED_THREADS];
    pthread_t th[EXITED_THREADS];
    for (size_t t = 0; t < EXITED_THREADS; t++) {
        e[t] = (exited_t){ sat_map(max_blocks * sizeof(void *)), 0 };
        cr_assert_eq(pthread_create(&th[t], NULL, allocate_and_exit, &e[t]), 0);
    }
    for (size_t t = 0; t < EXITED_THREADS; t++)
        pthread_join(th[t], NULL);
    sa_stats_t full, empty;
    sa_stats_get(&full);
    size_t rss_full = resident_bytes();
    for (size_t t = 0; t < EXITED_THREADS; t++) {
        for (size_t i = 0; i < e[t].n; i++)
            sa_free(e[t].blocks[i]);
        sat_unmap(e[t].blocks, max_blocks * sizeof(void *));
    }
    sa_collect(true);
    /* A few allocations after collect: the generic path is where abandoned
     * segments are looked at. */
    for (int i = 0; i < 1000; i++)
        sa_free(sa_malloc(16 + (size_t)i));
    sa_collect(true);
    sa_stats_get(&empty);
    size_t rss_empty = resident_bytes();
    cr_log_info("exited threads: committed %zu -> %zu, resident %zu -> %zu",
                full.committed, empty.committed, rss_full, rss_empty);
    cr_assert_lt(empty.committed, full.committed - total / 2,
                 "committed %zu -> %zu after the exited threads' blocks were freed",
                 full.committed, empty.committed);
    cr_assert_lt(rss_empty, rss_full - total / 2, "resident %zu -> %zu", rss_full, rss_empty);
}

/* A thread that exits with one live block in a fresh segment abandons it
 * with every other page never touched: whoever adopts the segment has
 * nothing of those pages to purge (a madvise call each, for nothing). */
static void *allocate_one_and_exit(void *arg)
{
    *(void **)arg = sa_malloc(100);
    return NULL;
}

Test(memory_return, untouched_pages_of_an_adopted_segment_are_not_purged)
{
    sa_collect(true);           /* this thread's heap exists, no segment cached */
    void *p = NULL;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, allocate_one_and_exit, &p), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_not_null(p);
    sa_stats_t a, b;
    sa_stats_get(&a);
    sa_collect(true);           /* adopts the segment, purges what waits */
    sa_stats_get(&b);
    cr_assert_eq(b.segments_reclaimed - a.segments_reclaimed, 1, "the segment was not adopted");
    cr_assert_lt(b.purged - a.purged, SA_SMALL_PAGE_SIZE,
                 "%zu bytes purged of an adopted segment with one page ever used",
                 b.purged - a.purged);
    sa_free(p);
}

Test(memory_return, repeated_bursts_do_not_grow_the_heap)
{
    /* The same burst (64 MiB of mixed sizes, all freed) twenty times: the
     * memory kept between bursts must not grow with the number of bursts. */
    enum { BURSTS = 20, BURST_MIB = 64 };
    const size_t total = (size_t)BURST_MIB << 20;
    const size_t max_blocks = total / 16;
    void **p = sat_map(max_blocks * sizeof *p);
    sa_stats_t st;
    size_t mapped_after_first = 0, peak_growth = 0;
    for (int burst = 0; burst < BURSTS; burst++) {
        uint64_t rng = 1234;    /* the same sizes every time */
        size_t n = 0, bytes = 0;
        while (bytes < total && n < max_blocks) {
            size_t size = 1 + sat_rand(&rng) % ((sat_rand(&rng) % 8 == 0) ? 200000 : 500);
            p[n] = sa_malloc(size);
            cr_assert_not_null(p[n]);
            memset(p[n], 0x77, size < 256 ? size : 256);
            bytes += size;
            n++;
        }
        for (size_t i = 0; i < n; i++)
            sa_free(p[i]);
        sa_stats_get(&st);
        if (burst == 0)
            mapped_after_first = st.mapped;
        else if (st.mapped > mapped_after_first && st.mapped - mapped_after_first > peak_growth)
            peak_growth = st.mapped - mapped_after_first;
    }
    cr_log_info("bursts: mapped %zu after the first, at most %zu more later", mapped_after_first, peak_growth);
    cr_assert_lt(peak_growth, total / 4, "mapped grew by %zu bytes over %d identical bursts (first: %zu)",
                 peak_growth, BURSTS, mapped_after_first);
    sat_unmap(p, max_blocks * sizeof *p);
}

Test(memory_return, large_classes_share_their_segments)
{
    /* One block of each large class at a time, freed before the next: with
     * a large page of a class's own (4 MiB, up to 14 blocks) each class kept
     * a segment for what it once held, 24 classes 96 MiB; as spans of
     * segments every large class shares (src/segment.c), a freed block's
     * page is retired by the next large malloc (large_emptied_retire) and
     * its units serve that block: the segment of the current block, one of
     * the block freed before it, and one of slack. */
    enum { ROUNDS = 50 };
    sa_stats_t before, after;
    sa_stats_get(&before);
    size_t classes = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
            size_t bs = _sa_bin_size(bin);
            if (bs <= SA_MEDIUM_OBJ_SIZE_MAX)
                continue;
            classes += round == 0;
            unsigned char *p = sa_malloc(bs);
            cr_assert_not_null(p);
            memset(p, 0x33, bs);
            sa_free(p);
        }
    sa_stats_get(&after);
    const size_t allowed = 3 * SA_SEGMENT_SIZE;
    cr_log_info("%zu large classes, %d rounds: mapped peak %zu -> %zu (allowed %zu more)", classes, ROUNDS,
                before.mapped_peak, after.mapped_peak, allowed);
    cr_assert_geq(classes, 16, "only %zu large classes", classes);
    cr_assert_leq(after.mapped_peak - before.mapped_peak, allowed,
                  "one large block at a time mapped %zu bytes at its peak over %zu classes",
                  after.mapped_peak - before.mapped_peak, classes);
}

Test(memory_return, empty_pages_among_survivors_are_purged)
{
    /* A few survivors keep every segment alive, so nothing can be unmapped:
     * the empty pages between them must be purged (MADV_DONTNEED or
     * MADV_FREE by option). One block in KEEP survives: most pages are empty. */
    enum { SIZE = 100, KEEP = 5000 };
    const size_t total = ((size_t)HEAP_MIB << 20) / 2;
    const size_t n = total / SIZE;
    void **p = sat_map(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i] = sa_malloc(SIZE);
        cr_assert_not_null(p[i]);
        memset(p[i], 0x42, SIZE);
    }
    sa_stats_t full, sparse;
    sa_stats_get(&full);
    size_t rss_full = resident_bytes();
    for (size_t i = 0; i < n; i++)
        if (i % KEEP != 0)
            sa_free(p[i]);
    sa_collect(true);
    sa_stats_get(&sparse);
    size_t rss_sparse = resident_bytes();
    cr_log_info("survivors 1 in %d: committed %zu -> %zu, resident %zu -> %zu, purged %zu bytes",
                KEEP, full.committed, sparse.committed, rss_full, rss_sparse, sparse.purged - full.purged);
    cr_assert_gt(sparse.purged, full.purged, "no page was purged");
    cr_assert_lt(sparse.committed, full.committed - total / 2,
                 "committed %zu -> %zu with one block in %d surviving", full.committed, sparse.committed, KEEP);
    cr_assert_lt(rss_sparse, rss_full - total / 2, "resident %zu -> %zu", rss_full, rss_sparse);
    for (size_t i = 0; i < n; i += KEEP)
        cr_assert(((unsigned char *)p[i])[SIZE - 1] == 0x42, "a survivor lost its contents");
    for (size_t i = 0; i < n; i += KEEP)
        sa_free(p[i]);
    sat_unmap(p, n * sizeof *p);
}

Test(memory_return, purged_memory_needed_again_at_once_lengthens_the_purge_delay)
{
    /* sa_collect(true) purges the empty pages between survivors (it cannot
     * unmap their segments); handing them out again at once is the early
     * reuse that doubles the delay (src/purge_delay.c). A quiet spell of
     * SA_PURGE_CALM_DELAYS delays then halves it at the next retire. */
    enum { SIZE = 100, KEEP = 5000 };
    const size_t n = ((size_t)64 << 20) / SIZE;
    void **p = sat_map(n * sizeof *p);
    sa_stats_t start, purged, reused, calm;
    sa_stats_get(&start);
    if (start.purge_delay_ms == 0)
        cr_skip_test("SHARDALLOC_PURGE_DELAY=0: nothing to lengthen");
    for (size_t i = 0; i < n; i++)
        cr_assert_not_null(p[i] = sa_malloc(SIZE));
    for (size_t i = 0; i < n; i++)
        if (i % KEEP != 0)
            sa_free(p[i]);
    sa_collect(true);
    sa_stats_get(&purged);
    cr_assert_gt(purged.purged, start.purged, "no page was purged");
    cr_assert_eq(purged.purge_delay_ms, start.purge_delay_ms, "the delay moved before any reuse");
    for (size_t i = 0; i < n; i++)
        if (i % KEEP != 0)
            cr_assert_not_null(p[i] = sa_malloc(SIZE));
    sa_stats_get(&reused);
    cr_log_info("purge delay %zu ms, after an early reuse %zu ms",
                start.purge_delay_ms, reused.purge_delay_ms);
    cr_assert_gt(reused.purge_delay_ms, start.purge_delay_ms,
                 "purged pages reused at once did not lengthen the delay");
    /* Quiet: no purge, no reuse for more than SA_PURGE_CALM_DELAYS delays.
     * Then retiring pages (each takes a deadline) steps the delay down. */
    usleep((useconds_t)(reused.purge_delay_ms * (SA_PURGE_CALM_DELAYS + 2) * 1000));
    for (size_t i = 0; i < n; i++)
        if (i % KEEP != 0)
            sa_free(p[i]);
    sa_collect(true);
    sa_stats_get(&calm);
    cr_log_info("after a quiet spell: %zu ms", calm.purge_delay_ms);
    cr_assert_lt(calm.purge_delay_ms, reused.purge_delay_ms, "the delay did not come back down");
    for (size_t i = 0; i < n; i += KEEP)
        sa_free(p[i]);
    sat_unmap(p, n * sizeof *p);
}
