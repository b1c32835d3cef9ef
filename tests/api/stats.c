/* tests/api/stats.c -- sa_stats_get follows what the program does: exact
 * counts for a known workload (N mallocs are N in the totals and in their
 * size class), bytes in use, peaks at least the current values, remote frees
 * counted from the freeing thread, pages and segments made, abandoned and
 * reclaimed, generic calls; and the reports: text with the pid on every line
 * (sa_stats_print), JSON cut to a buffer snprintf-style (sa_stats_json),
 * glibc's malloc_info XML (sa_malloc_info); and sa_thread_steps, each call's
 * steps on the calling thread. */
#include "sa_test.h"
#include "size_class.h"
#include <pthread.h>

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
    sa_stats_print(NULL);
    sat_capture_end(&cap, msg, sizeof msg);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "shardalloc[%d]: stats: ", (int)getpid());
    cr_assert(strncmp(msg, prefix, strlen(prefix)) == 0, "stats_print wrote: \"%s\"", msg);
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

/* ---- exact counts ---------------------------------------------------------------- */

/* The size class holding blocks of `size` (by its block size). */
static sa_class_stats_t class_of(size_t size)
{
    size_t block = _sa_bin_size(_sa_bin(size));
    sa_class_stats_t c;
    for (size_t i = 0; sa_stats_class_get(i, &c); i++)
        if (c.block_size == block)
            return c;
    cr_assert_fail("no size class of block size %zu", block);
    return c;
}

Test(stats, counts_are_exact_for_a_known_workload)
{
    enum { N = 3000, SIZE = 200 };
    sa_free(sa_malloc(SIZE));   /* the heap exists */
    sa_stats_t a, b, c;
    sa_class_stats_t ca = class_of(SIZE), cb, cc;
    sa_stats_get(&a);
    static void *p[N];
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(p[i] = sa_malloc(SIZE));
    sa_stats_get(&b);
    cb = class_of(SIZE);
    cr_assert_eq(b.mallocs - a.mallocs, N, "%zu mallocs counted for %d", b.mallocs - a.mallocs, N);
    cr_assert_eq(cb.mallocs - ca.mallocs, N);
    cr_assert_eq(b.frees, a.frees);
    cr_assert_eq(cb.allocated - ca.allocated, (size_t)N * cb.block_size);
    cr_assert_eq(b.allocated - a.allocated, (size_t)N * cb.block_size);
    cr_assert_gt(b.generic_calls, a.generic_calls, "3000 mallocs and no generic call");
    cr_assert_gt(b.steps_max, 0);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sa_stats_get(&c);
    cc = class_of(SIZE);
    cr_assert_eq(c.frees - a.frees, N, "%zu frees counted for %d", c.frees - a.frees, N);
    cr_assert_eq(cc.frees - ca.frees, N);
    cr_assert_eq(c.remote_frees, a.remote_frees, "local frees counted as remote");
    cr_assert_eq(c.mallocs, b.mallocs);
    cr_assert_eq(cc.allocated, ca.allocated);
    cr_assert_eq(c.allocated, a.allocated);
    /* huge blocks are mallocs and frees too */
    void *h = sa_malloc(3 * SA_SEGMENT_SIZE);
    cr_assert_not_null(h);
    sa_free(h);
    sa_stats_get(&b);
    cr_assert_eq(b.mallocs - c.mallocs, 1);
    cr_assert_eq(b.frees - c.frees, 1);
}

Test(stats, peaks_are_at_least_the_current_values_and_stay)
{
    enum { N = 20000, SIZE = 1000 };    /* ~20 MB */
    static void *p[N];
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(p[i] = sa_malloc(SIZE));
    sa_stats_t full, after;
    sa_stats_get(&full);
    cr_assert_geq(full.active, full.allocated, "active %zu < allocated %zu", full.active, full.allocated);
    cr_assert_geq(full.active_peak, full.active);
    cr_assert_geq(full.mapped_peak, full.mapped);
    cr_assert_geq(full.committed_peak, full.committed);
    cr_assert_geq(full.allocated, (size_t)N * SIZE);
    sa_class_stats_t c = class_of(SIZE);
    cr_assert_geq(c.active, c.allocated);
    cr_assert_geq(c.active_peak, c.active);
    cr_assert_geq(c.active_peak, (size_t)N * c.block_size);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sa_collect(true);       /* retire every page, unmap the cached segments */
    sa_stats_get(&after);
    cr_assert_lt(after.active, full.active - (size_t)N * SIZE / 2, "active %zu -> %zu after freeing",
                 full.active, after.active);
    cr_assert_lt(after.mapped, full.mapped);
    cr_assert_geq(after.active_peak, full.active, "the peak forgot %zu: %zu", full.active,
                  after.active_peak);
    cr_assert_geq(after.mapped_peak, full.mapped);
    cr_assert_geq(after.committed_peak, full.committed);
    cr_assert_geq(class_of(SIZE).active_peak, (size_t)N * c.block_size);
    cr_assert_gt(after.pages_retired, full.pages_retired);
}

/* ---- remote frees ---------------------------------------------------------------- */

typedef struct handoff_s {
    void **blocks;
    size_t n;
    bool allocate_first;    /* give the freeing thread a heap of its own first */
} handoff_t;

static void *free_all(void *arg)
{
    handoff_t *h = arg;
    void *own = h->allocate_first ? sa_malloc(16) : NULL;
    for (size_t i = 0; i < h->n; i++)
        sa_free(h->blocks[i]);
    sa_free(own);
    return NULL;
}

static void assert_remote_frees_counted(bool allocate_first)
{
    enum { N = 500, SIZE = 72 };
    static void *p[N];
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(p[i] = sa_malloc(SIZE));
    sa_stats_t a, b;
    sa_class_stats_t ca = class_of(SIZE), cb;
    sa_stats_get(&a);
    handoff_t h = { p, N, allocate_first };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, free_all, &h), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    sa_stats_get(&b);
    cb = class_of(SIZE);
    cr_assert_eq(b.remote_frees - a.remote_frees, N, "%zu remote frees counted for %d (%s)",
                 b.remote_frees - a.remote_frees, N, allocate_first ? "thread with a heap" : "thread without");
    cr_assert_eq(cb.remote_frees - ca.remote_frees, N);
    cr_assert_eq(b.frees - a.frees, N + (allocate_first ? 1 : 0));
    cr_assert_eq(cb.allocated + (size_t)N * cb.block_size, ca.allocated,
                 "blocks freed by another thread still counted in use");
}

Test(stats, remote_frees_are_counted_by_the_freeing_thread)
{
    assert_remote_frees_counted(true);
}

Test(stats, remote_frees_of_a_thread_without_a_heap_are_counted)
{
    assert_remote_frees_counted(false);
}

/* ---- steps (sa_thread_steps) ---------------------------------------------------------- */

typedef struct steps_seen_s {
    void *remote_block;     /* the main thread's, freed by the counting thread */
    size_t remote_free, remote_retries, first_malloc, fast_malloc, local_free;
} steps_seen_t;

/* Each call's steps, as the difference of this thread's count around it. */
static void *count_steps(void *arg)
{
    steps_seen_t *s = arg;
    size_t r0, r1, s0 = sa_thread_steps(&r0);
    sa_free(s->remote_block);       /* no heap yet: pushed on thread_free, a CAS */
    s->remote_free = sa_thread_steps(&r1) - s0;
    s->remote_retries = r1 - r0;
    s0 = sa_thread_steps(NULL);
    void *a = sa_malloc(64);        /* a fresh page, extended: loop steps */
    s->first_malloc = sa_thread_steps(NULL) - s0;
    s0 = sa_thread_steps(NULL);
    void *b = sa_malloc(64);        /* the fast path: the page has free blocks */
    s->fast_malloc = sa_thread_steps(NULL) - s0;
    s0 = sa_thread_steps(NULL);
    sa_free(a);                     /* not the page's last block: a push */
    s->local_free = sa_thread_steps(NULL) - s0;
    sa_free(b);
    return NULL;
}

Test(stats, thread_steps_count_each_calls_loop_steps_on_its_own_thread)
{
    steps_seen_t s = { .remote_block = sa_malloc(64) };
    cr_assert_not_null(s.remote_block);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, count_steps, &s), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_geq(s.remote_free, 1, "a remote free's push (one CAS) counted %zu steps",
                  s.remote_free);
    cr_assert_eq(s.remote_retries, 0, "%zu CAS retries with no other thread at work",
                 s.remote_retries);
    cr_assert_gt(s.first_malloc, 0, "a new thread's first malloc (a fresh page) took no step");
    cr_assert_eq(s.fast_malloc, 0, "a fast-path malloc counted %zu steps", s.fast_malloc);
    cr_assert_eq(s.local_free, 0, "a local free counted %zu steps", s.local_free);
}

/* ---- pages and segments ----------------------------------------------------------- */

static void *allocate_and_exit(void *arg)
{
    void **keep = arg;
    for (size_t i = 0; i < 64; i++)
        keep[i] = sa_malloc(40000);     /* medium pages */
    return NULL;
}

Test(stats, pages_and_segments_made_abandoned_and_reclaimed)
{
    sa_stats_t a, b, c;
    sa_free(sa_malloc(1));  /* this thread's own heap first: it takes no stocked heap below */
    sa_stats_get(&a);
    static void *keep[64];
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, allocate_and_exit, keep), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);     /* exits with 64 live blocks */
    for (size_t i = 0; i < 64; i++)
        cr_assert_not_null(keep[i]);
    sa_stats_get(&b);
    cr_assert_gt(b.pages_made, a.pages_made);
    cr_assert_gt(b.segments_made, a.segments_made);
    /* Its heap is stocked whole for the next thread: nothing abandoned yet. */
    cr_assert_eq(b.segments_abandoned, a.segments_abandoned, "the exited thread's heap was not stocked");
    sa_collect(true);       /* gives the stocked heap up, then adopts every abandoned segment */
    sa_stats_get(&c);
    cr_assert_gt(c.segments_abandoned, a.segments_abandoned, "the stocked heap given up abandoned nothing");
    cr_assert_gt(c.pages_abandoned, a.pages_abandoned);
    cr_assert_eq(c.segments_reclaimed - a.segments_reclaimed, c.segments_abandoned - a.segments_abandoned);
    cr_assert_eq(c.pages_reclaimed - a.pages_reclaimed, c.pages_abandoned - a.pages_abandoned);
    for (size_t i = 0; i < 64; i++)
        sa_free(keep[i]);
}

/* ---- committed: memory the allocator may have touched, not yet returned ---------- */

/* A fresh segment is mapped whole, but only its header and the pages handed
 * out were ever touched: one small block commits the header and one small
 * page, not the segment. */
Test(stats, a_fresh_segment_commits_only_the_pages_handed_out)
{
    sa_free(sa_malloc(1));      /* the heap exists */
    sa_collect(true);           /* and keeps no segment, cached or not */
    sa_stats_t a, b;
    sa_stats_get(&a);
    void *p = sa_malloc(100);
    cr_assert_not_null(p);
    sa_stats_get(&b);
    cr_assert_eq(b.segments_made, a.segments_made + 1, "not served from a fresh segment");
    cr_assert_geq(b.mapped - a.mapped, SA_SEGMENT_SIZE);
    cr_assert_leq(b.committed - a.committed, SA_SEGMENT_INFO_SIZE + SA_SMALL_PAGE_SIZE,
                  "one block in a fresh segment: committed grew by %zu", b.committed - a.committed);
    cr_assert_geq(b.committed_peak, b.committed);
    sa_free(p);
}

/* ---- reports ------------------------------------------------------------------------ */

static char *print_to_memory(size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    cr_assert_not_null(f);
    sa_stats_print(f);
    cr_assert_eq(fclose(f), 0);
    return text;
}

Test(stats, print_to_a_file_names_the_pid_on_every_line)
{
    void *p = sa_malloc(24);
    size_t len;
    char *text = print_to_memory(&len);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "shardalloc[%d]: stats: ", (int)getpid());
    size_t lines = 0;
    for (char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
        cr_assert(strncmp(line, prefix, strlen(prefix)) == 0, "a line without \"%s\": %.80s", prefix, line);
        cr_assert_not_null(strchr(line, '\n'), "unterminated last line");
        lines++;
    }
    cr_assert_geq(lines, 24 + 1, "%zu lines", lines);
    static const char *const names[] = {
        "allocated ", "active_peak ", "mallocs ", "remote_frees ", "mapped_peak ", "committed ",
        "purged ", "segments_abandoned ", "pages_reclaimed ", "generic_calls ", "steps_max ",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_not_null(strstr(text, names[i]), "no %s in the report", names[i]);
    char cls[64];
    snprintf(cls, sizeof cls, "stats: class %zu: mallocs ", _sa_bin_size(_sa_bin(24)));
    cr_assert_not_null(strstr(text, cls), "no line for the class of 24 bytes: %s", text);
    free(text);
    sa_free(p);
}

/* The value of "name": in a JSON text (the first one). */
static size_t json_value(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(json, key);
    cr_assert_not_null(at, "no %s in %s", key, json);
    return (size_t)strtoull(at + strlen(key), NULL, 10);
}

Test(stats, json_is_cut_to_the_buffer_and_returns_the_length_needed)
{
    enum { N = 100 };
    static void *p[N];
    for (size_t i = 0; i < N; i++)
        p[i] = sa_malloc(300);
    size_t need = sa_stats_json(NULL, 0);
    cr_assert_gt(need, 100);
    char *full = malloc(need + 1);     /* glibc's: the report must not change under us */
    cr_assert_eq(sa_stats_json(full, need + 1), need);
    cr_assert_eq(strlen(full), need);
    cr_assert(full[0] == '{' && full[need - 1] == '}', "%s", full);
    /* balanced, and the numbers those of sa_stats_get */
    int depth = 0;
    for (size_t i = 0; i < need; i++) {
        depth += (full[i] == '{' || full[i] == '[') - (full[i] == '}' || full[i] == ']');
        cr_assert_geq(depth, 0);
    }
    cr_assert_eq(depth, 0);
    sa_stats_t s;
    sa_stats_get(&s);
    cr_assert_eq(json_value(full, "mallocs"), s.mallocs);
    cr_assert_eq(json_value(full, "allocated"), s.allocated);
    cr_assert_eq(json_value(full, "pid"), (size_t)getpid());
    cr_assert_not_null(strstr(full, "\"classes\":[{\"block_size\":"));
    /* cut: the prefix, NUL-terminated, the same length returned */
    char small[40];
    memset(small, 'x', sizeof small);
    cr_assert_eq(sa_stats_json(small, sizeof small), need);
    cr_assert_eq(small[sizeof small - 1], '\0');
    cr_assert(memcmp(small, full, sizeof small - 1) == 0, "cut text \"%s\"", small);
    char one[1] = { 'x' };
    cr_assert_eq(sa_stats_json(one, 1), need);
    cr_assert_eq(one[0], '\0');
    free(full);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

Test(stats, malloc_info_is_xml_of_our_own_statistics)
{
    enum { N = 77, SIZE = 5000 };
    static void *p[N];
    for (size_t i = 0; i < N; i++)
        p[i] = sa_malloc(SIZE);
    char *xml = NULL;
    size_t len;
    FILE *f = open_memstream(&xml, &len);
    cr_assert_not_null(f);
    cr_assert_eq(sa_malloc_info(0, f), 0);
    cr_assert_eq(fclose(f), 0);
    cr_assert(strncmp(xml, "<malloc version=\"1\"", 19) == 0, "%s", xml);
    cr_assert_not_null(strstr(xml, "</malloc>\n"));
    size_t block = _sa_bin_size(_sa_bin(SIZE));
    char size_el[128];
    snprintf(size_el, sizeof size_el, "to=\"%zu\" total=\"%zu\" count=\"%d\"/>", block,
             (size_t)N * block, N);
    cr_assert_not_null(strstr(xml, size_el), "no %s in %s", size_el, xml);
    sa_stats_t s;
    sa_stats_get(&s);
    char mapped[64];
    snprintf(mapped, sizeof mapped, "<system type=\"current\" size=\"%zu\"/>", s.mapped);
    cr_assert_not_null(strstr(xml, mapped), "no %s in %s", mapped, xml);
    cr_assert_not_null(strstr(xml, "<stat name=\"remote_frees\" value=\""));
    free(xml);
    errno = 0;
    cr_assert_eq(sa_malloc_info(1, stdout), -1);
    cr_assert_eq(errno, EINVAL);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}
