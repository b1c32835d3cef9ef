/* tests/api/aligned.c -- aligned_alloc, posix_memalign, memalign, valloc,
 * pvalloc: every power-of-two alignment from the minimum to beyond a segment,
 * and the exact error contract for bad alignments. */
#include "sa_test.h"

typedef void *(aligned_fn)(size_t alignment, size_t size);

static void *via_posix_memalign(size_t alignment, size_t size)
{
    void *p = NULL;
    int rc = sa_posix_memalign(&p, alignment, size);
    cr_assert(rc == 0 || p == NULL);
    return rc == 0 ? p : NULL;
}

static const struct { const char *name; aligned_fn *fn; } k_fns[] = {
    { "aligned_alloc", sa_aligned_alloc },
    { "posix_memalign", via_posix_memalign },
    { "memalign", sa_memalign },
};
#define FN_COUNT (sizeof k_fns / sizeof k_fns[0])

/* Allocates several sizes at `alignment` through every entry point, keeps them
 * all live, and checks alignment, usable size, contents and disjointness. */
static void check_alignment(size_t alignment)
{
    const size_t sizes[] = { 1, 16, alignment / 2 + 1, alignment - 1, alignment,
                             alignment + 1, 3 * alignment, 1000, 70000 };
    enum { NS = sizeof sizes / sizeof sizes[0] };
    sat_range_t r[FN_COUNT * NS];
    void *p[FN_COUNT * NS];
    size_t n = 0;
    for (size_t f = 0; f < FN_COUNT; f++) {
        for (size_t s = 0; s < NS; s++) {
            size_t size = sizes[s];
            /* aligned_alloc is given multiples of the alignment (C11's rule). */
            if (f == 0)
                size = (size + alignment - 1) & ~(alignment - 1);
            void *q = k_fns[f].fn(alignment, size);
            cr_assert_not_null(q, "%s(%zu, %zu) failed", k_fns[f].name, alignment, size);
            cr_assert(sat_aligned(q, alignment), "%s(%zu, %zu) = %p is misaligned",
                      k_fns[f].name, alignment, size, q);
            size_t u = sa_usable_size(q);
            cr_assert_geq(u, size, "%s(%zu, %zu): usable_size %zu", k_fns[f].name, alignment, size, u);
            sat_fill(q, size, n);
            r[n] = (sat_range_t){ (uintptr_t)q, size };
            p[n++] = q;
        }
    }
    for (size_t i = 0; i < n; i++)
        cr_assert(sat_check(p[i], r[i].size, i), "aligned block %zu (%p, align %zu) overwritten",
                  i, p[i], alignment);
    sat_assert_disjoint(r, n);
    for (size_t i = 0; i < n; i++)
        sa_free(p[i]);
}

Test(aligned, every_power_of_two_from_16_to_1mib)
{
    for (size_t a = SA_MIN_ALIGN; a <= ((size_t)1 << 20); a <<= 1)
        check_alignment(a);
}

Test(aligned, segment_sized_and_larger_alignments)
{
    check_alignment(SA_SEGMENT_SIZE);                   /* 4 MiB */
    check_alignment((size_t)SA_SEGMENT_SIZE << 2);      /* 16 MiB */
}

Test(aligned, small_alignments_still_give_the_minimum)
{
    for (size_t a = 1; a < SA_MIN_ALIGN; a <<= 1) {
        void *p = sa_aligned_alloc(a, 4 * a);
        cr_assert_not_null(p, "aligned_alloc(%zu) failed", a);
        cr_assert(sat_aligned(p, SA_MIN_ALIGN));
        sa_free(p);
        p = sa_memalign(a, 3);
        cr_assert_not_null(p, "memalign(%zu) failed", a);
        cr_assert(sat_aligned(p, SA_MIN_ALIGN));
        sa_free(p);
    }
    void *p = (void *)0x1;
    cr_assert_eq(sa_posix_memalign(&p, sizeof(void *), 5), 0);
    cr_assert(sat_aligned(p, SA_MIN_ALIGN));
    sa_free(p);
}

Test(aligned, many_live_aligned_blocks_interleaved_with_malloc)
{
    enum { N = 2000 };
    static sat_range_t r[N];
    static void *p[N];
    uint64_t rng = 42;
    for (size_t i = 0; i < N; i++) {
        size_t a = (size_t)SA_MIN_ALIGN << (sat_rand(&rng) % 10);
        size_t n = 1 + sat_rand(&rng) % 4000;
        p[i] = (i % 3 == 0) ? sa_malloc(n) : sa_memalign(a, n);
        cr_assert_not_null(p[i]);
        if (i % 3 != 0)
            cr_assert(sat_aligned(p[i], a), "memalign(%zu, %zu) = %p", a, n, p[i]);
        sat_fill(p[i], n, i);
        r[i] = (sat_range_t){ (uintptr_t)p[i], n };
    }
    for (size_t i = 0; i < N; i++)
        cr_assert(sat_check(p[i], r[i].size, i));
    sat_assert_disjoint(r, N);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

/* Size 0 at an alignment above the minimum: each call still owns a block of its
 * own. (The over-allocation once left no byte for the request, and aligning up
 * could land on the first byte of the next block, which malloc then handed
 * out again.) Every entry point, mixed with malloc(16) so the neighbour of an
 * aligned block is live; no two live pointers may be equal or overlap, each
 * counted as one byte. */
Test(aligned, size_zero_gets_a_block_of_its_own)
{
    enum { N = 1200 };
    static sat_range_t r[N];
    static void *p[N];
    uint64_t rng = 7;
    for (size_t i = 0; i < N; i++) {
        size_t a = (size_t)32 << (sat_rand(&rng) % 4);      /* 32 .. 256 */
        if (i % 2 == 0)
            p[i] = sa_malloc(16);
        else
            p[i] = k_fns[(i / 2) % FN_COUNT].fn(a, 0);
        cr_assert_not_null(p[i], "call %zu failed", i);
        if (i % 2 != 0) {
            cr_assert(sat_aligned(p[i], a), "%s(%zu, 0) = %p is misaligned",
                      k_fns[(i / 2) % FN_COUNT].name, a, p[i]);
            cr_assert_geq(sa_usable_size(p[i]), 1);
        }
        r[i] = (sat_range_t){ (uintptr_t)p[i], i % 2 == 0 ? 16 : 0 };
    }
    sat_assert_disjoint(r, N);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

/* An alignment of a segment or more is a mapping of its own, the block at
 * alignment bytes in: of size 0, it still owns a byte of that mapping. */
Test(aligned, size_zero_with_segment_alignment_owns_a_byte)
{
    for (size_t a = SA_SEGMENT_SIZE; a <= 4 * SA_SEGMENT_SIZE; a *= 2)
        for (size_t f = 0; f < FN_COUNT; f++) {
            void *p = k_fns[f].fn(a, 0);
            cr_assert_not_null(p, "%s(%zu, 0) failed", k_fns[f].name, a);
            cr_assert(sat_aligned(p, a), "%s(%zu, 0) = %p is misaligned", k_fns[f].name, a, p);
            cr_assert_geq(sa_usable_size(p), 1, "%s(%zu, 0) = %p has no usable byte",
                          k_fns[f].name, a, p);
            *(volatile char *)p = 1;   /* inside its own mapping */
            sa_free(p);
        }
}

Test(aligned, bad_alignment_is_einval)
{
    static const size_t bad[] = { 0, 3, 24, 48, 100, 4097, ((size_t)1 << 20) + 16 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        cr_assert_null(sa_aligned_alloc(bad[i], 64), "aligned_alloc(%zu) accepted", bad[i]);
        cr_assert_eq(errno, EINVAL, "aligned_alloc(%zu): errno %d", bad[i], errno);
        errno = 0;
        cr_assert_null(sa_memalign(bad[i], 64), "memalign(%zu) accepted", bad[i]);
        cr_assert_eq(errno, EINVAL, "memalign(%zu): errno %d", bad[i], errno);
    }
}

Test(posix_memalign, bad_alignment_returns_einval_and_leaves_out_untouched)
{
    /* Not a power of two, or not a multiple of sizeof(void *). */
    static const size_t bad[] = { 0, 1, 2, 4, sizeof(void *) / 2, 24, 48, 100, 4097 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *sentinel = (void *)&bad[i];
        void *out = sentinel;
        errno = 0;
        int rc = sa_posix_memalign(&out, bad[i], 64);
        cr_assert_eq(rc, EINVAL, "posix_memalign(%zu) returned %d", bad[i], rc);
        cr_assert_eq(out, sentinel, "posix_memalign(%zu) wrote *out", bad[i]);
    }
}

Test(posix_memalign, too_large_returns_enomem_and_leaves_out_untouched)
{
    void *sentinel = (void *)&sentinel;
    void *out = sentinel;
    cr_assert_eq(sa_posix_memalign(&out, 64, (size_t)PTRDIFF_MAX + 1), ENOMEM);
    cr_assert_eq(out, sentinel);
    errno = 0;
    cr_assert_null(sa_aligned_alloc(64, SIZE_MAX - 32));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_memalign(4096, (size_t)PTRDIFF_MAX + 1));
    cr_assert_eq(errno, ENOMEM);
    /* valid (power-of-two) alignments beyond the address space */
    errno = 0;
    cr_assert_null(sa_aligned_alloc((size_t)1 << 62, 16));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_memalign((size_t)1 << 63, 16));
    cr_assert_eq(errno, ENOMEM);
    out = sentinel;
    cr_assert_eq(sa_posix_memalign(&out, (size_t)1 << 62, 16), ENOMEM);
    cr_assert_eq(out, sentinel);
}

Test(valloc, returns_page_aligned_blocks)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t n = 1; n < 5 * page; n = n * 2 + 7) {
        void *p = sa_valloc(n);
        cr_assert_not_null(p);
        cr_assert(sat_aligned(p, page), "valloc(%zu) = %p", n, p);
        cr_assert_geq(sa_usable_size(p), n);
        sat_fill(p, n, n);
        cr_assert(sat_check(p, n, n));
        sa_free(p);
    }
}

Test(pvalloc, rounds_the_size_up_to_whole_pages)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t sizes[] = { 1, page - 1, page, page + 1, 3 * page + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t want = (sizes[i] + page - 1) / page * page;
        unsigned char *p = sa_pvalloc(sizes[i]);
        cr_assert_not_null(p, "pvalloc(%zu) failed", sizes[i]);
        cr_assert(sat_aligned(p, page), "pvalloc(%zu) = %p", sizes[i], (void *)p);
        cr_assert_geq(sa_usable_size(p), want, "pvalloc(%zu): usable %zu < %zu",
                      sizes[i], sa_usable_size(p), want);
        sat_fill(p, want, i);   /* the whole rounded size belongs to the caller */
        cr_assert(sat_check(p, want, i));
        sa_free(p);
    }
    /* pvalloc(0), as in glibc, is a unique page-aligned pointer. */
    void *z = sa_pvalloc(0);
    cr_assert_not_null(z);
    cr_assert(sat_aligned(z, page));
    sa_free(z);
    errno = 0;
    cr_assert_null(sa_pvalloc(SIZE_MAX - 1), "pvalloc rounding must not wrap around");
    cr_assert_eq(errno, ENOMEM);
}

Test(aligned, aligned_blocks_can_be_reallocated_keeping_contents)
{
    uint64_t rng = 9;
    for (size_t a = SA_MIN_ALIGN; a <= ((size_t)1 << 16); a <<= 1) {
        for (int k = 0; k < 8; k++) {
            size_t n = 1 + sat_rand(&rng) % 3000;
            void *p = sa_memalign(a, n);
            cr_assert_not_null(p);
            sat_fill(p, n, a + (size_t)k);
            size_t to = 1 + sat_rand(&rng) % 100000;
            void *q = sa_realloc(p, to);
            cr_assert_not_null(q, "realloc of memalign(%zu, %zu) to %zu failed", a, n, to);
            size_t keep = n < to ? n : to;
            cr_assert(sat_check(q, keep, a + (size_t)k), "realloc of memalign(%zu, %zu) to %zu lost data",
                      a, n, to);
            cr_assert_geq(sa_usable_size(q), to);
            sa_free(q);
        }
    }
}

Test(aligned, huge_aligned_blocks_can_be_reallocated_keeping_contents)
{
    const size_t aligns[] = { (size_t)1 << 20, SA_SEGMENT_SIZE, 4 * SA_SEGMENT_SIZE };
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        size_t n = 3 * SA_SEGMENT_SIZE + 12345;
        void *p = sa_memalign(aligns[i], n);
        cr_assert_not_null(p);
        cr_assert(sat_aligned(p, aligns[i]));
        sat_fill(p, n, i);
        const size_t to[] = { 2 * n, n / 2, n / 3 + 1, 100, 5 * n };
        size_t cur = n;
        for (size_t k = 0; k < sizeof to / sizeof to[0]; k++) {
            p = sa_realloc(p, to[k]);
            cr_assert_not_null(p);
            size_t keep = cur < to[k] ? cur : to[k];
            cr_assert(sat_check(p, keep, i), "memalign(%zu) block lost data on realloc %zu -> %zu",
                      aligns[i], cur, to[k]);
            sat_fill(p, to[k], i);
            cur = to[k];
        }
        sa_free(p);
    }
}

Test(aligned, zero_size_gives_unique_aligned_pointers)
{
    void *a = sa_aligned_alloc(64, 0), *b = sa_aligned_alloc(64, 0);
    cr_assert(a != NULL && b != NULL && a != b);
    cr_assert(sat_aligned(a, 64) && sat_aligned(b, 64));
    void *c = NULL;
    cr_assert_eq(sa_posix_memalign(&c, 128, 0), 0);
    cr_assert(c != NULL && c != a && c != b && sat_aligned(c, 128));
    sa_free(a);
    sa_free(b);
    sa_free(c);
}
