/* tests/api/realloc.c -- realloc and reallocarray keep the contents across
 * every size-class boundary, into large and huge sizes and back, and follow
 * the C/POSIX contract for NULL, 0 and overflow. */
#include "sa_test.h"
#include "size_class.h"

/* Grow (or shrink) p from `from` to `to` bytes; the first min(from, to)
 * bytes must survive, and the whole new size must be writable. */
static void *resize_and_check(void *p, size_t from, size_t to, uint64_t seed)
{
    void *q = sa_realloc(p, to);
    cr_assert_not_null(q, "realloc(%p, %zu) from %zu failed", p, to, from);
    cr_assert(sat_aligned(q, SA_MIN_ALIGN));
    cr_assert_geq(sa_usable_size(q), to);
    size_t keep = from < to ? from : to;
    size_t bad = sat_mismatch(q, keep, seed);
    cr_assert_eq(bad, keep, "realloc %zu -> %zu lost byte %zu", from, to, bad);
    sat_fill(q, to, seed);
    return q;
}

Test(realloc, keeps_contents_across_every_class_boundary_growing)
{
    size_t size = 1;
    void *p = sa_malloc(size);
    cr_assert_not_null(p);
    sat_fill(p, size, 7);
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t b = _sa_bin_size(bin);
        p = resize_and_check(p, size, b, 7);
        p = resize_and_check(p, b, b + 1, 7);
        size = b + 1;
    }
    /* on into huge sizes */
    for (size_t to = SA_LARGE_OBJ_SIZE_MAX + 1; to <= 6 * SA_SEGMENT_SIZE; to += SA_SEGMENT_SIZE - 3) {
        p = resize_and_check(p, size, to, 7);
        size = to;
    }
    sa_free(p);
}

Test(realloc, keeps_contents_across_every_class_boundary_shrinking)
{
    size_t size = 6 * SA_SEGMENT_SIZE;
    void *p = sa_malloc(size);
    cr_assert_not_null(p);
    sat_fill(p, size, 9);
    for (size_t to = size - SA_SEGMENT_SIZE + 5; to > SA_LARGE_OBJ_SIZE_MAX; to -= SA_SEGMENT_SIZE - 3) {
        p = resize_and_check(p, size, to, 9);
        size = to;
    }
    for (size_t bin = SA_BIN_LARGE_MAX; bin >= 1; bin--) {
        size_t b = _sa_bin_size(bin);
        p = resize_and_check(p, size, b, 9);
        p = resize_and_check(p, b, b - 1, 9);
        size = b - 1;
    }
    p = resize_and_check(p, size, 1, 9);
    sa_free(p);
}

Test(realloc, jumps_between_small_large_and_huge)
{
    const size_t sizes[] = { 10, 3 * SA_SEGMENT_SIZE, 100, SA_LARGE_OBJ_SIZE_MAX, 20,
                             SA_MEDIUM_OBJ_SIZE_MAX + 1, 5 * SA_SEGMENT_SIZE, 1, 4000 };
    size_t size = sizes[0];
    void *p = sa_malloc(size);
    cr_assert_not_null(p);
    sat_fill(p, size, 11);
    for (size_t i = 1; i < sizeof sizes / sizeof sizes[0]; i++) {
        p = resize_and_check(p, size, sizes[i], 11);
        size = sizes[i];
    }
    sa_free(p);
}

Test(realloc, other_live_blocks_are_untouched)
{
    /* Neighbours of a block growing in place (or moving) keep their contents. */
    enum { N = 200 };
    static void *p[N];
    static size_t n[N];
    uint64_t rng = 5;
    for (size_t i = 0; i < N; i++) {
        n[i] = 1 + sat_rand(&rng) % 512;
        p[i] = sa_malloc(n[i]);
        cr_assert_not_null(p[i]);
        sat_fill(p[i], n[i], i);
    }
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < N; i++) {
            size_t to = 1 + sat_rand(&rng) % (i % 10 == 0 ? 200000 : 2048);
            p[i] = resize_and_check(p[i], n[i], to, i);
            n[i] = to;
        }
        for (size_t i = 0; i < N; i++)
            cr_assert(sat_check(p[i], n[i], i), "block %zu overwritten in round %d", i, round);
    }
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
}

Test(realloc, a_buffer_grown_by_small_steps_moves_only_a_few_times)
{
    /* Python grows a list by 1/8 at a time: one size class. Above
     * SA_REALLOC_HEADROOM_MIN a moving realloc takes 1.5x headroom, so the
     * buffer moves every third or fourth step, not at every class boundary. */
    size_t size = 2 * SA_REALLOC_HEADROOM_MIN, steps = 0, moves = 0;
    void *p = sa_malloc(size);
    cr_assert_not_null(p);
    sat_fill(p, size, 11);
    while (size < SA_LARGE_OBJ_SIZE_MAX / 2) {
        size_t to = size + size / 8;
        size_t old_usable = sa_usable_size(p);
        void *q = resize_and_check(p, size, to, 11);
        steps++;
        if (q != p) {
            moves++;
            cr_assert_geq(sa_usable_size(q), old_usable + (old_usable >> SA_REALLOC_GROW_SHIFT),
                          "a moving realloc of %zu -> %zu bytes took no headroom", size, to);
        }
        p = q;
        size = to;
    }
    cr_log_info("%zu growth steps of 1/8, %zu moves", steps, moves);
    cr_assert_leq(moves * 3, steps, "%zu moves in %zu steps of 1/8", moves, steps);
    sa_free(p);
}

Test(realloc, small_blocks_grow_without_headroom)
{
    /* Below SA_REALLOC_HEADROOM_MIN the proven waste bound of malloc holds for
     * realloc too: the new block is the size class of the request. */
    void *p = sa_malloc(100);
    cr_assert_not_null(p);
    void *q = sa_realloc(p, 1000);
    cr_assert_not_null(q);
    cr_assert_eq(sa_usable_size(q), _sa_bin_size(_sa_bin(1000)));
    sa_free(q);
}

Test(realloc, null_pointer_is_malloc)
{
    void *p = sa_realloc(NULL, 100);
    cr_assert_not_null(p);
    cr_assert_geq(sa_usable_size(p), 100);
    sat_fill(p, 100, 1);
    sa_free(p);
    void *z = sa_realloc(NULL, 0);
    cr_assert_not_null(z, "realloc(NULL, 0) is malloc(0): a unique pointer");
    sa_free(z);
}

Test(realloc, zero_size_frees_and_returns_null)
{
    /* shardalloc follows glibc: realloc(p, 0) frees p and returns NULL. The
     * freed block then comes back from malloc of its size class. */
    void *p = sa_malloc(32);
    cr_assert_not_null(p);
    void *q = sa_realloc(p, 0);
    cr_assert_null(q, "realloc(p, 0) returned %p", q);
    bool reused = false;
    for (int i = 0; i < 100000 && !reused; i++) {
        void *r = sa_malloc(32);
        cr_assert_not_null(r);
        reused = (r == p);
        sa_free(r);
    }
    cr_assert(reused, "the block freed by realloc(p, 0) never came back");
}

Test(realloc, too_large_fails_with_enomem_and_keeps_the_block)
{
    void *p = sa_malloc(64);
    cr_assert_not_null(p);
    sat_fill(p, 64, 3);
    errno = 0;
    cr_assert_null(sa_realloc(p, (size_t)PTRDIFF_MAX + 1));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_realloc(p, (size_t)1 << 46));
    cr_assert_eq(errno, ENOMEM);
    cr_assert(sat_check(p, 64, 3), "failed realloc changed the block");
    cr_assert_geq(sa_usable_size(p), 64);
    sa_free(p);
}

Test(reallocarray, multiplies_and_keeps_contents)
{
    int *a = sa_reallocarray(NULL, 10, sizeof(int));
    cr_assert_not_null(a);
    for (int i = 0; i < 10; i++)
        a[i] = i * i;
    a = sa_reallocarray(a, 100000, sizeof(int));
    cr_assert_not_null(a);
    cr_assert_geq(sa_usable_size(a), 100000 * sizeof(int));
    for (int i = 0; i < 10; i++)
        cr_assert_eq(a[i], i * i);
    sa_free(a);
}

Test(reallocarray, overflow_is_enomem_and_keeps_the_block)
{
    size_t half = (size_t)1 << (sizeof(size_t) * 4);
    void *p = sa_malloc(40);
    cr_assert_not_null(p);
    sat_fill(p, 40, 8);
    errno = 0;
    cr_assert_null(sa_reallocarray(p, half, half));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_reallocarray(p, SIZE_MAX, 2));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_reallocarray(p, (size_t)PTRDIFF_MAX / 2 + 1, 2), "above PTRDIFF_MAX");
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_reallocarray(NULL, SIZE_MAX / 3, 4));
    cr_assert_eq(errno, ENOMEM);
    cr_assert(sat_check(p, 40, 8), "failed reallocarray changed the block");
    sa_free(p);
}
