/* tests/api/errors.c -- pointers shardalloc did not hand out (stack, globals,
 * foreign mmap, interiors of live blocks, already freed blocks) are reported on
 * stderr as "shardalloc: <call>(): <what> <pointer>" and otherwise ignored;
 * the sa_register_error callback hears each one, and with ABORT_ON_ERROR the
 * process aborts after the message. */
#include "sa_test.h"
#include <pthread.h>
#include <signal.h>

static char g_global[256];

/* After a reported mistake the allocator must still work: a burst of
 * allocations of a few sizes, all distinct, aligned and disjoint. */
static void assert_heap_still_works(void)
{
    enum { N = 300 };
    static sat_range_t r[N];
    static void *p[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = 16 + 48 * (i % 7);
        p[i] = sa_malloc(n);
        cr_assert_not_null(p[i]);
        sat_fill(p[i], n, i);
        r[i] = (sat_range_t){ (uintptr_t)p[i], n };
    }
    for (size_t i = 0; i < N; i++)
        cr_assert(sat_check(p[i], 16 + 48 * (i % 7), i));
    sat_assert_disjoint(r, N);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

/* free, realloc and usable_size of `bad` each print one report and leave
 * the memory behind `bad` untouched. */
static void assert_foreign_pointer_rejected(void *bad, size_t span)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    unsigned char *snapshot = sat_map(span);
    memcpy(snapshot, bad, span);

    sat_capture_begin(&c);
    sa_free(bad);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", bad);

    sat_capture_begin(&c);
    size_t u = sa_usable_size(bad);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "usable_size", bad);
    cr_assert_eq(u, 0, "usable_size of a foreign pointer is %zu, expected 0", u);

    sat_capture_begin(&c);
    void *q = sa_realloc(bad, 64);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "realloc", bad);
    cr_assert_null(q, "realloc of a foreign pointer returned %p", q);

    cr_assert(memcmp(snapshot, bad, span) == 0, "memory at the foreign pointer was modified");
    sat_unmap(snapshot, span);
    assert_heap_still_works();
}

Test(free, stack_pointer_is_reported_and_ignored)
{
    char buf[128];
    sat_fill(buf, sizeof buf, 1);
    void *p = sa_malloc(32);    /* the heap is initialised, the thread has a heap */
    assert_foreign_pointer_rejected(buf, sizeof buf);
    cr_assert(sat_check(buf, sizeof buf, 1));
    sa_free(p);
}

Test(free, global_pointer_is_reported_and_ignored)
{
    sat_fill(g_global, sizeof g_global, 2);
    assert_foreign_pointer_rejected(g_global, sizeof g_global);
    assert_foreign_pointer_rejected(g_global + 16, sizeof g_global - 16);
}

Test(free, foreign_mmap_page_is_reported_and_ignored)
{
    size_t n = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *m = sat_map(n);
    sat_fill(m, n, 3);
    assert_foreign_pointer_rejected(m, n);
    assert_foreign_pointer_rejected(m + SA_MIN_ALIGN, n - SA_MIN_ALIGN);
    sat_unmap(m, n);
}

Test(free, foreign_segment_aligned_mapping_is_reported_and_ignored)
{
    /* Memory that looks like a segment (SA_SEGMENT_SIZE-aligned) and a block
     * past its metadata, but was never handed out: the allocator must not trust
     * what a foreign "segment header" contains. Fill it with garbage. */
    size_t span = 2 * SA_SEGMENT_SIZE;
    unsigned char *m = sat_map(span);
    unsigned char *seg = (unsigned char *)(((uintptr_t)m + SA_SEGMENT_MASK) & ~SA_SEGMENT_MASK);
    sat_fill(seg, SA_SEGMENT_INFO_SIZE + SA_SMALL_PAGE_SIZE, 4);
    assert_foreign_pointer_rejected(seg + SA_SEGMENT_INFO_SIZE, SA_SMALL_PAGE_SIZE);
    assert_foreign_pointer_rejected(seg + SA_SMALL_PAGE_SIZE, SA_SMALL_PAGE_SIZE);
    sat_unmap(m, span);
}

/* For live blocks of every kind of page (small, medium, large, huge), the
 * `count` pointers bad_of(p, n, k) made from each block p of n bytes are
 * each reported by free, realloc and usable_size and not owned; the block
 * stays intact, live and freeable. `what`: for the messages. */
static void assert_beside_live_blocks_rejected(void *(*bad_of)(unsigned char *p, size_t n, size_t k),
                                               size_t count, const char *what)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    static const size_t sizes[] = { 64, 1000, 20000, 300000, 3u << 20, 10u << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = sa_malloc(n);
        cr_assert_not_null(p);
        sat_fill(p, n, n);
        for (size_t k = 0; k < count; k++) {
            void *bad = bad_of(p, n, k);
            sat_capture_begin(&c);
            sa_free(bad);
            sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", bad);
            sat_capture_begin(&c);
            void *q = sa_realloc(bad, n * 2);
            sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "realloc", bad);
            cr_assert_null(q);
            sat_capture_begin(&c);
            size_t u = sa_usable_size(bad);
            sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "usable_size", bad);
            cr_assert_eq(u, 0);
            cr_assert(!sa_owns(bad), "sa_owns(%p), %s of a block of %zu bytes", bad, what, n);
        }
        /* The block itself is intact, still live and still freeable. */
        cr_assert(sat_check(p, n, n), "block of %zu bytes changed after frees of %ss", n, what);
        cr_assert_geq(sa_usable_size(p), n);
        sat_capture_begin(&c);
        sa_free(p);
        sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), "free of the real block");
    }
    assert_heap_still_works();
}

static void *interior_of(unsigned char *p, size_t n, size_t k)
{
    unsigned char *inner[] = { p + SA_MIN_ALIGN, p + n / 2, p + n - 1 };
    return inner[k];
}

Test(free, interior_pointer_of_live_block_is_reported_and_ignored)
{
    assert_beside_live_blocks_rejected(interior_of, 3, "interior pointer");
}

/* p with bits set above SA_ADDRESS_BITS. Such a pointer has no segment:
 * the segment map's range compare must refuse it before anything else, for
 * free's made-start test, which takes an offset times magic modulo 2^64,
 * passes p + 2^48 (or p + 2^63) exactly when it passes p (obligation
 * segmap_high_pointer). Its memory is never touched (it has none). */
static void *above_address_bits(unsigned char *p, size_t n, size_t k)
{
    (void)n;
    const uintptr_t high[] = { (uintptr_t)1 << SA_ADDRESS_BITS, (uintptr_t)5 << SA_ADDRESS_BITS,
                               (uintptr_t)1 << 48, (uintptr_t)1 << 63 };
    return (void *)((uintptr_t)p | high[k]);
}

Test(free, pointer_above_the_address_bits_is_reported_and_ignored)
{
    assert_beside_live_blocks_rejected(above_address_bits, 4, "pointer above the address bits");
}

Test(free, double_free_in_a_row_is_reported_and_ignored)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    static const size_t sizes[] = { 16, 200, 5000, 100000, 1u << 20, 8u << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *keep = sa_malloc(sizes[i]);   /* the page stays in use */
        void *p = sa_malloc(sizes[i]);
        cr_assert(keep && p);
        sa_free(p);
        sat_capture_begin(&c);
        sa_free(p);
        sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", p);

        /* Never corrupted: the next allocations of that size are distinct. */
        enum { N = 64 };
        sat_range_t r[N + 1];
        void *q[N];
        for (size_t k = 0; k < N; k++) {
            q[k] = sa_malloc(sizes[i]);
            cr_assert_not_null(q[k]);
            r[k] = (sat_range_t){ (uintptr_t)q[k], sizes[i] };
        }
        r[N] = (sat_range_t){ (uintptr_t)keep, sizes[i] };
        sat_assert_disjoint(r, N + 1);
        for (size_t k = 0; k < N; k++)
            sa_free(q[k]);
        sa_free(keep);
    }
}

Test(free, double_free_after_collect_is_reported_and_ignored)
{
    /* Free two neighbours a and b, then allocate that size until one of them
     * comes back: the free lists were collected, and the other one is now free
     * (on `free` or still on `local_free`), never handed out. Freeing it again
     * is a double free. Afterwards every block handed out is distinct. */
    enum { SIZE = 48, MAXN = 1 << 14 };
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_range_t *r = sat_map(MAXN * sizeof *r);
    void **live = sat_map(MAXN * sizeof *live);
    size_t n = 0;

    void *a = sa_malloc(SIZE), *b = sa_malloc(SIZE);
    cr_assert(a && b);
    sa_free(a);
    sa_free(b);
    void *other = NULL;
    while (n < MAXN) {
        void *q = sa_malloc(SIZE);
        cr_assert_not_null(q);
        live[n++] = q;
        if (q == a || q == b) {
            other = (q == a) ? b : a;
            break;
        }
    }
    cr_assert_not_null(other, "neither freed block came back in %d allocations", MAXN);

    sat_capture_begin(&c);
    sa_free(other);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", other);

    /* Allocate on past the point where `other` is handed out again. */
    size_t more = n;
    for (size_t k = 0; k < more + 2 && n < MAXN; k++) {
        live[n] = sa_malloc(SIZE);
        cr_assert_not_null(live[n]);
        n++;
    }
    for (size_t k = 0; k < n; k++) {
        sat_fill(live[k], SIZE, k);
        r[k] = (sat_range_t){ (uintptr_t)live[k], SIZE };
    }
    for (size_t k = 0; k < n; k++)
        cr_assert(sat_check(live[k], SIZE, k), "block %zu overwritten: a block was handed out twice", k);
    sat_assert_disjoint(r, n);
    for (size_t k = 0; k < n; k++)
        sa_free(live[k]);
    sat_unmap(r, MAXN * sizeof *r);
    sat_unmap(live, MAXN * sizeof *live);
}

Test(free, interior_pointer_in_a_page_with_aligned_blocks_is_reported_and_ignored)
{
    /* memalign may hand out an interior pointer of an over-allocated block;
     * that must not make interior pointers of *other* blocks of the same page
     * acceptable to free. Blocks of the class that serves memalign(256, 100)
     * alternate between 256-aligned and not, so a few calls surely produce an
     * interior pointer in the page that also holds q. */
    enum { ALIGN = 256, SIZE = 100, K = 16 };
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    void *a[K];
    unsigned char *q = sa_malloc(SIZE + ALIGN - 1);     /* same class as the over-allocation */
    cr_assert_not_null(q);
    sat_fill(q, SIZE + ALIGN - 1, 5);
    for (size_t i = 0; i < K; i++) {
        a[i] = sa_memalign(ALIGN, SIZE);
        cr_assert_not_null(a[i]);
        cr_assert(sat_aligned(a[i], ALIGN));
    }

    unsigned char *inner = q + SA_MIN_ALIGN;
    sat_capture_begin(&c);
    sa_free(inner);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", inner);

    /* q is still live: nothing allocated afterwards may overlap it. */
    enum { N = 256 };
    sat_range_t r[N + 1];
    void *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = sa_malloc(SIZE + ALIGN - 1);
        cr_assert_not_null(p[i]);
        sat_fill(p[i], SIZE + ALIGN - 1, 100 + i);
        r[i] = (sat_range_t){ (uintptr_t)p[i], SIZE + ALIGN - 1 };
    }
    r[N] = (sat_range_t){ (uintptr_t)q, SIZE + ALIGN - 1 };
    cr_assert(sat_check(q, SIZE + ALIGN - 1, 5), "q was freed through its interior pointer and reused");
    sat_assert_disjoint(r, N + 1);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    for (size_t i = 0; i < K; i++)
        sa_free(a[i]);
    sa_free(q);
}

static void *free_it(void *p)
{
    sa_free(p);
    return NULL;
}

/* p freed by `first` on a thread of its own (reported there if
 * `first_reports`: it frees p twice), then freed again here: reported, and
 * the heap still works. */
static void double_free_across_threads(void *(*first)(void *), bool first_reports)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    void *keep = sa_malloc(80);
    void *p = sa_malloc(80);
    cr_assert(keep && p);
    pthread_t th;
    sat_capture_begin(&c);
    cr_assert_eq(pthread_create(&th, NULL, first, p), 0);
    pthread_join(th, NULL);
    const char *on_thread = sat_capture_end(&c, msg, sizeof msg);
    if (first_reports)
        sat_assert_reported(on_thread, "free", p);
    else
        sat_assert_silent(on_thread, "one free on another thread");
    sat_capture_begin(&c);
    sa_free(p);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", p);
    assert_heap_still_works();
    sa_free(keep);
}

Test(free, double_free_after_a_remote_free_is_reported_and_ignored)
{
    /* The first free happens on another thread (the block goes to the page's
     * thread_free list); the second, here, must be caught all the same. */
    double_free_across_threads(free_it, false);
}

static void *free_twice_with_a_heap(void *p)
{
    void *own = sa_malloc(16);  /* a heap of its own: the free keeps p (remote cache) */
    sa_free(p);
    sa_free(p);
    sa_free(own);
    return NULL;
}

Test(free, double_free_of_a_block_another_thread_kept_is_reported_and_ignored)
{
    /* A thread with a heap keeps the blocks of others it frees (its remote
     * cache), canary set: its second free, and one here after it, are
     * caught; the block is handed out once at most. */
    double_free_across_threads(free_twice_with_a_heap, true);
}

Test(free, racing_double_remote_free_is_caught_at_collect_and_never_handed_out)
{
    /* Two threads freeing the same block at once can both pass its canary
     * check and both push it on thread_free (a loop in the list). Staged
     * here in sequence: remote frees of p and q, p's canary wiped (what the
     * second racer would have seen), p freed again. The owner's next collect
     * finds more remote frees than blocks in use, reports it, and hands out
     * neither block again. (White-box: the canary is the block's second
     * word, sa_block_t in src/types.h.) */
    enum { SIZE = 3000, AFTER = 64 };
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    void *p = sa_malloc(SIZE), *q = sa_malloc(SIZE);
    cr_assert(p && q);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, free_it, p), 0);
    pthread_join(th, NULL);
    cr_assert_eq(pthread_create(&th, NULL, free_it, q), 0);
    pthread_join(th, NULL);
    ((uintptr_t *)p)[1] = 0;
    cr_assert_eq(pthread_create(&th, NULL, free_it, p), 0);
    pthread_join(th, NULL);
    void *after[AFTER];
    sat_capture_begin(&c);
    for (size_t i = 0; i < AFTER; i++)
        after[i] = sa_malloc(SIZE);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", p);
    cr_assert(strstr(msg, "double free") != NULL, "report: \"%s\"", msg);
    for (size_t i = 0; i < AFTER; i++) {
        cr_assert_not_null(after[i]);
        cr_assert(after[i] != p && after[i] != q, "a block freed twice was handed out again");
    }
    for (size_t i = 0; i < AFTER; i++)
        sa_free(after[i]);
    assert_heap_still_works();
}

/* ---- the error callback and SHARDALLOC_ABORT_ON_ERROR ----------------------------- */

typedef struct seen_error_s {
    int calls;
    sa_error_kind_t kind;
    char call[32];
    const void *p;
    void *arg;
} seen_error_t;

static void record_error(sa_error_kind_t kind, const char *call, const void *p, void *arg)
{
    seen_error_t *seen = arg;
    seen->calls++;
    seen->kind = kind;
    snprintf(seen->call, sizeof seen->call, "%s", call);
    seen->p = p;
    seen->arg = arg;
}

/* `op` misbehaves once: the callback hears it once, after the message. */
static void assert_callback(seen_error_t *seen, sa_error_kind_t kind, const char *call, const void *p)
{
    cr_assert_eq(seen->calls, 1, "%s(%p): callback ran %d times", call, p, seen->calls);
    cr_assert_eq(seen->kind, kind, "%s(%p): kind %d, expected %d", call, p, seen->kind, kind);
    cr_assert_str_eq(seen->call, call);
    cr_assert_eq(seen->p, p, "%s: callback got %p, expected %p", call, seen->p, p);
    cr_assert_eq(seen->arg, seen);
    memset(seen, 0, sizeof *seen);
}

Test(error_callback, receives_the_kind_the_call_and_the_pointer)
{
    static seen_error_t seen;
    sa_register_error(record_error, &seen);
    sat_capture_t c;
    char msg[SAT_MSG_CAP];

    char local[64];
    sat_capture_begin(&c);
    sa_free(local);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", local);
    assert_callback(&seen, SA_ERROR_FOREIGN_POINTER, "free", local);

    void *p = sa_malloc(48);
    void *keep = sa_malloc(48);     /* the page stays in use: p stays a freed block */
    sa_free(p);
    sat_capture_begin(&c);
    sa_free(p);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", p);
    assert_callback(&seen, SA_ERROR_DOUBLE_FREE, "free", p);

    sat_capture_begin(&c);
    cr_assert_null(sa_realloc(p, 100));
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "realloc", p);
    assert_callback(&seen, SA_ERROR_USE_AFTER_FREE, "realloc", p);

    sat_capture_begin(&c);
    cr_assert_eq(sa_usable_size(local + 1), 0);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "usable_size", local + 1);
    assert_callback(&seen, SA_ERROR_FOREIGN_POINTER, "usable_size", local + 1);

    /* unregistered: the message alone */
    sa_register_error(NULL, NULL);
    sat_capture_begin(&c);
    sa_free(p);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", p);
    cr_assert_eq(seen.calls, 0);
    sa_free(keep);
    assert_heap_still_works();
}

/* A forked child with ABORT_ON_ERROR set frees `bad`; the parent sees the
 * message, then SIGABRT. */
static void free_aborting(void *bad)
{
    signal(SIGABRT, SIG_DFL);
    sa_option_set(SA_OPTION_ABORT_ON_ERROR, 1);
    sa_free(bad);   /* the child _exits 0 after it if the option does nothing */
}

static void assert_aborts_after_message(void *bad, const char *what)
{
    char msg[SAT_MSG_CAP];
    int status = sat_in_child(free_aborting, bad, msg, sizeof msg);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "%s with ABORT_ON_ERROR: child status %#x, expected SIGABRT", what, status);
    sat_assert_reported(msg, "free", bad);
    cr_assert(strstr(msg, what) != NULL, "message \"%s\" does not say %s", msg, what);
}

Test(abort_on_error, a_double_free_aborts_after_its_message)
{
    void *keep = sa_malloc(32);
    void *p = sa_malloc(32);
    sa_free(p);
    assert_aborts_after_message(p, "double free");
    sa_free(keep);
}

Test(abort_on_error, a_foreign_pointer_aborts_after_its_message)
{
    assert_aborts_after_message(g_global + 16, "not allocated by shardalloc");
}

Test(abort_on_error, off_by_default_the_process_goes_on)
{
    cr_assert_eq(sa_option_get(SA_OPTION_ABORT_ON_ERROR), 0);
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    sa_free(g_global + 32);
    sat_assert_reported(sat_capture_end(&c, msg, sizeof msg), "free", g_global + 32);
    assert_heap_still_works();
}
