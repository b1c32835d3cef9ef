/* tests/api/size_classes.c -- every request size gets a block that covers it
 * with bounded waste, 16-byte aligned, whose usable size is the block size of
 * the size class src/size_class.h assigns (the map the proofs check). */
#include "sa_test.h"
#include "size_class.h"

/* usable - request < max(16, usable / 8): the 12.5% bound of config.h, with
 * the 16-byte minimum granularity for tiny sizes. */
static void assert_waste_bound(size_t request, size_t usable)
{
    size_t req = request ? request : 1;     /* malloc(0) is served as malloc(1) */
    size_t slack = usable / (1u << SA_CLASS_STEPS_SHIFT);
    if (slack < SA_MIN_ALIGN)
        slack = SA_MIN_ALIGN;
    cr_assert_geq(usable, req, "usable_size %zu < request %zu", usable, request);
    cr_assert_lt(usable - req, slack, "request %zu: usable %zu wastes more than %zu",
                 request, usable, slack);
}

/* Allocate `size`, check alignment, usable size and the class map; keep the
 * block live in a ring of recent blocks so neighbours are checked against it. */
enum { RING = 64 };
typedef struct ring_s {
    void  *p[RING];
    size_t n[RING];
    size_t next;
} ring_t;

static void ring_retire(ring_t *r, size_t slot)
{
    if (r->p[slot] == NULL)
        return;
    cr_assert(sat_check(r->p[slot], r->n[slot], r->n[slot]),
              "block of %zu bytes at %p was overwritten by a neighbour", r->n[slot], r->p[slot]);
    sa_free(r->p[slot]);
    r->p[slot] = NULL;
}

static void check_size(ring_t *r, size_t size, bool class_map)
{
    void *p = sa_malloc(size);
    cr_assert_not_null(p, "malloc(%zu) failed", size);
    cr_assert(sat_aligned(p, SA_MIN_ALIGN), "malloc(%zu) = %p is not %ju-aligned",
              size, p, (uintmax_t)SA_MIN_ALIGN);
    size_t u = sa_usable_size(p);
    assert_waste_bound(size, u);
    if (class_map) {
        size_t want = _sa_bin_size(_sa_bin(size));
        cr_assert_eq(u, want, "malloc(%zu): usable_size %zu, but bin %zu has block size %zu",
                     size, u, _sa_bin(size), want);
    }
    size_t slot = r->next++ % RING;
    ring_retire(r, slot);
    sat_fill(p, size, size);
    r->p[slot] = p;
    r->n[slot] = size;
}

static void ring_drain(ring_t *r)
{
    for (size_t i = 0; i < RING; i++)
        ring_retire(r, i);
}

Test(size_classes, every_size_up_to_the_medium_limit)
{
    static ring_t r;
    for (size_t size = 0; size <= SA_MEDIUM_OBJ_SIZE_MAX; size++)
        check_size(&r, size, true);
    ring_drain(&r);
}

Test(size_classes, strided_sizes_up_to_the_large_limit)
{
    static ring_t r;
    /* A stride that is coprime with every power of two visits all residues. */
    for (size_t size = SA_MEDIUM_OBJ_SIZE_MAX + 1; size <= SA_LARGE_OBJ_SIZE_MAX; size += 4093)
        check_size(&r, size, true);
    ring_drain(&r);
}

Test(size_classes, both_sides_of_every_class_boundary)
{
    static ring_t r;
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t b = _sa_bin_size(bin);
        check_size(&r, b - 1, true);
        check_size(&r, b, true);
        if (b + 1 <= SA_LARGE_OBJ_SIZE_MAX)
            check_size(&r, b + 1, true);
    }
    check_size(&r, SA_LARGE_OBJ_SIZE_MAX + 1, false);     /* first huge size */
    ring_drain(&r);
}

Test(size_classes, huge_sizes_have_bounded_waste)
{
    static ring_t r;
    for (size_t size = SA_LARGE_OBJ_SIZE_MAX + 1; size <= 8 * SA_SEGMENT_SIZE;
         size += SA_SEGMENT_SIZE / 3 + 17)
        check_size(&r, size, false);
    ring_drain(&r);
}

Test(size_classes, class_map_is_monotone_and_consistent)
{
    /* The map the allocator uses (also checked by the proofs) as seen here:
     * bins never decrease with size and each bin's block size covers it. */
    size_t prev = 0;
    for (size_t size = 1; size <= SA_LARGE_OBJ_SIZE_MAX; size++) {
        size_t bin = _sa_bin(size);
        cr_assert_geq(bin, prev, "bin of %zu decreased", size);
        cr_assert_leq(bin, SA_BIN_LARGE_MAX);
        cr_assert_geq(_sa_bin_size(bin), size);
        prev = bin;
    }
    cr_assert_lt(SA_BIN_LARGE_MAX, SA_BIN_COUNT);
}

Test(size_classes, calloc_and_zalloc_use_the_same_classes)
{
    for (size_t size = 1; size <= SA_SMALL_OBJ_SIZE_MAX; size += 7) {
        void *a = sa_calloc(1, size), *z = sa_zalloc(size);
        cr_assert(a && z);
        size_t want = _sa_bin_size(_sa_bin(size));
        cr_assert_eq(sa_usable_size(a), want, "calloc(1, %zu)", size);
        cr_assert_eq(sa_usable_size(z), want, "zalloc(%zu)", size);
        sa_free(a);
        sa_free(z);
    }
}
