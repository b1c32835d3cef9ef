/* tests/api/malloc.c -- the plain entry points behave like their C11/POSIX
 * namesakes: malloc, zalloc, calloc, free, usable_size, strdup, strndup. */
#include "sa_test.h"
#include "size_class.h"

Test(malloc, zero_size_gives_unique_non_null_pointers)
{
    void *a = sa_malloc(0), *b = sa_malloc(0);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b, "two malloc(0) returned the same pointer %p", a);
    cr_assert(sat_aligned(a, SA_MIN_ALIGN) && sat_aligned(b, SA_MIN_ALIGN));
    sa_free(a);
    sa_free(b);
}

Test(malloc, blocks_are_aligned_writable_and_disjoint)
{
    enum { N = 512 };
    static sat_range_t r[N];
    static void *p[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + (i * 37) % 3000;
        p[i] = sa_malloc(n);
        cr_assert_not_null(p[i], "malloc(%zu) failed", n);
        cr_assert(sat_aligned(p[i], SA_MIN_ALIGN), "malloc(%zu) = %p not aligned", n, p[i]);
        sat_fill(p[i], n, i);
        r[i] = (sat_range_t){ (uintptr_t)p[i], n };
    }
    for (size_t i = 0; i < N; i++)
        cr_assert(sat_check(p[i], 1 + (i * 37) % 3000, i), "block %zu was overwritten", i);
    sat_assert_disjoint(r, N);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

Test(malloc, large_blocks_of_mixed_classes_are_disjoint_and_keep_their_contents)
{
    /* Large pages are spans cut from segments every large class shares
     * (src/segment.c span_alloc): blocks of any large size, replaced at
     * random, must never overlap a live one nor lose a byte. Each block is
     * checked when it is replaced and all at the end. */
    enum { N = 96, ROUNDS = 2000 };
    static sat_range_t r[N];
    static void *p[N];
    static size_t size[N], seed[N];
    uint64_t rng = 4242;
    for (size_t round = 1; round <= ROUNDS; round++) {
        size_t i = sat_rand(&rng) % N;
        if (p[i] != NULL) {
            cr_assert(sat_check(p[i], size[i], seed[i]), "block %zu (%zu bytes) was overwritten", i, size[i]);
            sa_free(p[i]);
        }
        size[i] = SA_MEDIUM_OBJ_SIZE_MAX + 1 + sat_rand(&rng) % (SA_LARGE_OBJ_SIZE_MAX - SA_MEDIUM_OBJ_SIZE_MAX);
        seed[i] = round;
        p[i] = sa_malloc(size[i]);
        cr_assert_not_null(p[i], "malloc(%zu) failed", size[i]);
        sat_fill(p[i], size[i], seed[i]);
    }
    size_t live = 0;
    for (size_t i = 0; i < N; i++)
        if (p[i] != NULL) {
            cr_assert(sat_check(p[i], size[i], seed[i]), "block %zu (%zu bytes) was overwritten", i, size[i]);
            r[live++] = (sat_range_t){ (uintptr_t)p[i], size[i] };
        }
    sat_assert_disjoint(r, live);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

Test(malloc, a_freed_large_block_serves_the_next_large_block_of_any_class)
{
    /* The buffer a program frees (and read just before, most likely) is
     * what its next large request gets, whatever its size class, as glibc
     * and mimalloc do (src/segment.c large_emptied_retire): the freed
     * block's emptied page is retired by that request and the new page
     * begins where it did, the other pages of the segment untouched. */
    const size_t first = 600 << 10, next = 400 << 10;
    cr_assert_neq(_sa_bin(first), _sa_bin(next));
    unsigned char *keep = sa_malloc(first);
    unsigned char *a = sa_malloc(first);
    cr_assert(keep != NULL && a != NULL);
    sat_fill(keep, first, 7);
    memset(a, 0x11, first);
    sa_free(a);
    unsigned char *b = sa_malloc(next);
    cr_assert_eq(b, a, "the next large block (%zu bytes) is at %p, the one just freed (%zu bytes) was at %p",
                 next, (void *)b, first, (void *)a);
    memset(b, 0x22, next);
    cr_assert(sat_check(keep, first, 7), "the segment's other block was overwritten");
    sa_free(b);
    sa_free(keep);
}

Test(malloc, the_next_large_block_retires_the_last_emptied_large_pages)
{
    /* Free only notes an emptied large page; the next large malloc retires
     * the last SA_LARGE_EMPTIED_MAX of them (src/segment.c
     * large_emptied_retire), however many frees came between, so their
     * spans serve it: a program freeing a few buffers and then asking for
     * one of another size does not keep the others' memory waiting. */
    const size_t size = 1 << 20, other = 600 << 10;
    cr_assert_neq(_sa_bin(size), _sa_bin(other));
    void *p[SA_LARGE_EMPTIED_MAX];
    for (size_t i = 0; i < SA_LARGE_EMPTIED_MAX; i++) {
        p[i] = sa_malloc(size);
        cr_assert_not_null(p[i]);
        memset(p[i], 0x44, size);
    }
    sa_stats_t before, after;
    sa_stats_get(&before);
    for (size_t i = 0; i < SA_LARGE_EMPTIED_MAX; i++)
        sa_free(p[i]);
    sa_stats_get(&after);
    cr_assert_eq(after.pages_retired, before.pages_retired, "free retired %zu large pages itself",
                 after.pages_retired - before.pages_retired);
    void *q = sa_malloc(other);
    cr_assert_not_null(q);
    sa_stats_get(&after);
    cr_assert_eq(after.pages_retired - before.pages_retired, SA_LARGE_EMPTIED_MAX,
                 "the next large malloc retired %zu of the %d emptied large pages",
                 after.pages_retired - before.pages_retired, SA_LARGE_EMPTIED_MAX);
    sa_free(q);
}

Test(malloc, a_large_block_goes_to_the_fullest_segment_with_room)
{
    /* Segment A is nearly full (a 2 MiB and a 1.5 MiB block), segment B,
     * made after it and first in the heap's list, holds one 2 MiB block. A
     * 256 KiB block fits both: it goes to A (src/segment.c span_alloc), so
     * B may empty and go back; the first that fits would have been B. */
    void *a1 = sa_malloc(SA_LARGE_OBJ_SIZE_MAX), *a2 = sa_malloc(SA_LARGE_OBJ_SIZE_MAX / 4 * 3);
    void *b1 = sa_malloc(SA_LARGE_OBJ_SIZE_MAX);
    cr_assert(a1 != NULL && a2 != NULL && b1 != NULL);
    uintptr_t seg_a = (uintptr_t)a1 & ~SA_SEGMENT_MASK, seg_b = (uintptr_t)b1 & ~SA_SEGMENT_MASK;
    cr_assert_eq((uintptr_t)a2 & ~SA_SEGMENT_MASK, seg_a, "the 1.5 MiB block is not beside the 2 MiB one");
    cr_assert_neq(seg_b, seg_a, "two 2 MiB blocks in one segment");
    void *r = sa_malloc(256 << 10);
    cr_assert_not_null(r);
    cr_assert_eq((uintptr_t)r & ~SA_SEGMENT_MASK, seg_a,
                 "the 256 KiB block is in segment %#lx, not in the fuller %#lx (the other: %#lx)",
                 (unsigned long)((uintptr_t)r & ~SA_SEGMENT_MASK), (unsigned long)seg_a, (unsigned long)seg_b);
    sa_free(r);
    sa_free(b1);
    sa_free(a2);
    sa_free(a1);
}

Test(malloc, freed_block_is_reused)
{
    /* Without reuse a malloc/free loop would grow without bound. */
    void *first = sa_malloc(48);
    cr_assert_not_null(first);
    sa_free(first);
    bool reused = false;
    for (int i = 0; i < 100000 && !reused; i++) {
        void *p = sa_malloc(48);
        cr_assert_not_null(p);
        reused = (p == first);
        sa_free(p);
    }
    cr_assert(reused, "a freed 48-byte block never came back in 100000 malloc/free pairs");
}

Test(malloc, size_above_ptrdiff_max_is_enomem)
{
    errno = 0;
    cr_assert_null(sa_malloc((size_t)PTRDIFF_MAX + 1));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_malloc(SIZE_MAX));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_zalloc(SIZE_MAX));
    cr_assert_eq(errno, ENOMEM);
}

Test(free, null_is_a_no_op)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    errno = 1234;
    sat_capture_begin(&c);
    sa_free(NULL);
    sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), "free(NULL)");
    cr_assert_eq(errno, 1234, "free(NULL) changed errno");
    void *p = sa_malloc(16);
    cr_assert_not_null(p);
    sa_free(p);
}

Test(free, valid_frees_print_nothing)
{
    sat_capture_t c;
    char msg[SAT_MSG_CAP];
    sat_capture_begin(&c);
    bool all = true;
    for (size_t n = 0; n < 70000; n += 97) {
        void *p = sa_malloc(n);
        all &= p != NULL;
        sa_free(p);
    }
    sat_assert_silent(sat_capture_end(&c, msg, sizeof msg), "malloc/free of valid blocks");
    cr_assert(all, "a malloc failed");
}

Test(usable_size, null_is_zero)
{
    cr_assert_eq(sa_usable_size(NULL), 0);
}

Test(usable_size, covers_request_and_whole_span_is_writable)
{
    for (size_t n = 1; n < 5000; n += 13) {
        unsigned char *p = sa_malloc(n);
        cr_assert_not_null(p);
        size_t u = sa_usable_size(p);
        cr_assert_geq(u, n, "usable_size %zu < request %zu", u, n);
        sat_fill(p, u, n);
        cr_assert(sat_check(p, u, n));
        sa_free(p);
    }
}

Test(zalloc, returns_zeroed_memory_even_when_reusing_a_dirty_block)
{
    for (size_t n = 1; n <= 8192; n = n * 3 + 1) {
        unsigned char *d = sa_malloc(n);
        cr_assert_not_null(d);
        memset(d, 0xA5, sa_usable_size(d));
        sa_free(d);
        unsigned char *z = sa_zalloc(n);
        cr_assert_not_null(z);
        cr_assert(sat_is_zero(z, n), "zalloc(%zu) not zeroed", n);
        sa_free(z);
    }
}

Test(calloc, returns_zeroed_memory_even_when_reusing_a_dirty_block)
{
    /* Dirty many blocks of each size so the calloc'ed one is surely a reused one. */
    enum { K = 64 };
    void *d[K];
    for (size_t n = 8; n <= 300000; n = n * 2 + 8) {
        for (int i = 0; i < K; i++) {
            d[i] = sa_malloc(n);
            cr_assert_not_null(d[i]);
            memset(d[i], 0xFF, sa_usable_size(d[i]));
        }
        for (int i = 0; i < K; i++)
            sa_free(d[i]);
        for (int i = 0; i < K; i++) {
            d[i] = sa_calloc(1, n);
            cr_assert_not_null(d[i]);
            cr_assert(sat_is_zero(d[i], n), "calloc(1, %zu) block %d not zeroed", n, i);
        }
        for (int i = 0; i < K; i++)
            sa_free(d[i]);
    }
}

Test(calloc, zero_count_or_size_gives_a_unique_pointer)
{
    void *a = sa_calloc(0, 16), *b = sa_calloc(16, 0), *c = sa_calloc(0, 0);
    cr_assert(a && b && c);
    cr_assert(a != b && b != c && a != c);
    sa_free(a);
    sa_free(b);
    sa_free(c);
}

Test(calloc, product_overflow_is_enomem)
{
    size_t half = ((size_t)1 << (sizeof(size_t) * 4));
    errno = 0;
    cr_assert_null(sa_calloc(half, half), "calloc(2^32, 2^32) overflows size_t");
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_calloc(SIZE_MAX, 2));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_calloc(3, SIZE_MAX / 2));
    cr_assert_eq(errno, ENOMEM);
}

Test(calloc, product_above_ptrdiff_max_is_enomem)
{
    /* (PTRDIFF_MAX / 2 + 1) * 2 does not overflow size_t but exceeds PTRDIFF_MAX. */
    errno = 0;
    cr_assert_null(sa_calloc((size_t)PTRDIFF_MAX / 2 + 1, 2));
    cr_assert_eq(errno, ENOMEM);
}

Test(strdup, copies_the_string_into_a_fresh_block)
{
    static const char *s[] = { "", "a", "shardalloc", "a somewhat longer string that spans several size classes......" };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        char *d = sa_strdup(s[i]);
        cr_assert_not_null(d);
        cr_assert_neq((const char *)d, s[i]);
        cr_assert_str_eq(d, s[i]);
        cr_assert_geq(sa_usable_size(d), strlen(s[i]) + 1);
        sa_free(d);
    }
}

Test(strndup, copies_at_most_n_bytes_and_terminates)
{
    const char *s = "free list sharding";
    char *d = sa_strndup(s, 4);
    cr_assert_not_null(d);
    cr_assert_str_eq(d, "free");
    sa_free(d);
    d = sa_strndup(s, 1000);
    cr_assert_not_null(d);
    cr_assert_str_eq(d, s);
    sa_free(d);
    d = sa_strndup(s, 0);
    cr_assert_not_null(d);
    cr_assert_str_eq(d, "");
    sa_free(d);
    d = sa_strndup(s, SIZE_MAX);    /* n + 1 must not wrap around */
    cr_assert_not_null(d);
    cr_assert_str_eq(d, s);
    sa_free(d);
    /* strndup must not read past n: the source here is not terminated. */
    char raw[3] = { 'x', 'y', 'z' };
    d = sa_strndup(raw, sizeof raw);
    cr_assert_not_null(d);
    cr_assert_str_eq(d, "xyz");
    sa_free(d);
}

Test(owns, knows_its_live_blocks_and_not_others)
{
    int local = 0;
    void *p = sa_malloc(100);
    cr_assert_not_null(p);
    cr_assert(sa_owns(p));
    cr_assert_not(sa_owns(&local));
    cr_assert_not(sa_owns(NULL));
    sa_free(p);
}

Test(calloc, recycled_huge_block_is_zeroed)
{
    /* A freed huge mapping may be kept for reuse (the huge cache): calloc
     * must not hand its old contents out. Sizes shrink, so a bigger cached
     * mapping can serve a smaller request. */
    for (size_t k = 0; k < 4; k++) {
        size_t n = 5 * SA_SEGMENT_SIZE - k * SA_SEGMENT_SIZE / 2;
        unsigned char *d = sa_malloc(n);
        cr_assert_not_null(d);
        memset(d, 0xEE, sa_usable_size(d));
        sa_free(d);
        unsigned char *z = sa_calloc(n - SA_OS_PAGE_SIZE - 1, 1);
        cr_assert_not_null(z);
        cr_assert(sat_is_zero(z, n - SA_OS_PAGE_SIZE - 1), "calloc of %zu bytes after a dirty huge free", n);
        sa_free(z);
        z = sa_zalloc(n);
        cr_assert_not_null(z);
        cr_assert(sat_is_zero(z, n), "zalloc(%zu) after a dirty huge free", n);
        memset(z, 0xEE, n);
        sa_free(z);
    }
}

Test(malloc, successful_calls_leave_errno_alone)
{
    /* glibc's allocator does not touch errno when it succeeds; programs that
     * check errno after a sequence of calls rely on that. */
    void *keep[64];
    size_t k = 0;
    errno = 1234;
    for (size_t n = 1; n <= 8 * SA_SEGMENT_SIZE; n = n * 3 + 5) {
        void *p = sa_malloc(n);
        cr_assert_not_null(p);
        cr_assert_eq(errno, 1234, "malloc(%zu) changed errno to %d", n, errno);
        p = sa_realloc(p, n * 2);
        cr_assert_not_null(p);
        cr_assert_eq(errno, 1234, "realloc(%zu) changed errno to %d", n * 2, errno);
        void *c = sa_calloc(n, 1);
        cr_assert_not_null(c);
        cr_assert_eq(errno, 1234, "calloc(%zu) changed errno to %d", n, errno);
        void *a = sa_memalign(256, n);
        cr_assert_not_null(a);
        cr_assert_eq(errno, 1234, "memalign(256, %zu) changed errno to %d", n, errno);
        sa_free(c);
        sa_free(a);
        keep[k++] = p;
    }
    for (size_t i = 0; i < k; i++)
        sa_free(keep[i]);
    sa_collect(true);
    cr_assert_eq(errno, 1234, "free/collect changed errno to %d", errno);
}
