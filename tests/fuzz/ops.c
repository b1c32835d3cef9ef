/* tests/fuzz/ops.c -- the operations the fuzzer draws, each one call of the
 * sa_* API on a random slot, with what the model expects of it: every
 * allocation call of include/shardalloc.h, sizes from 0 to FZ_SURE_MAX plus
 * the edges of the size classes and absurd ones (above PTRDIFF_MAX, calloc
 * and reallocarray products that overflow), every power-of-two alignment up
 * to 64 MiB and invalid ones, and in the threaded run an exchange of blocks
 * with other threads (their later free is a cross-thread free). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shardalloc.h"
#include "config.h"
#include "fuzz.h"

/* ---- the source of decisions ---------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t fz_bits(fz_src_t *s, unsigned nbytes)
{
    if (s->bytes == NULL) {
        uint64_t v = splitmix(&s->state);
        return nbytes >= 8 ? v : v & ((UINT64_C(1) << (8 * nbytes)) - 1);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes && s->pos < s->len; i++)
        v |= (uint64_t)s->bytes[s->pos++] << (8 * i);
    return v;
}

uint64_t fz_below(fz_src_t *s, uint64_t n)
{
    unsigned nbytes = 1;
    while (nbytes < 8 && (n - 1) >> (8 * nbytes) != 0)
        nbytes++;
    return fz_bits(s, nbytes) % n;
}

/* ---- what the calls are asked ---------------------------------------------- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Sizes where the allocator changes its mind (size classes, page kinds, huge). */
static const size_t edge_sizes[] = {
    SA_MIN_ALIGN, SA_LINEAR_CLASS_MAX, SA_OS_PAGE_SIZE, SA_SMALL_OBJ_SIZE_MAX,
    SA_MEDIUM_OBJ_SIZE_MAX, SA_REALLOC_HEADROOM_MIN, SA_LARGE_OBJ_SIZE_MAX,
    SA_SEGMENT_SIZE, FZ_SURE_MAX,
};
static const long edge_deltas[] = { -17, -1, 0, 1, 15 };

/* Sizes no allocation can satisfy: above PTRDIFF_MAX they must be refused at
 * once; the others reach the kernel, which refuses them (and the allocator
 * gives back all it caches first, so they come rarer). */
static const size_t absurd_sizes[] = {
    SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - SA_OS_PAGE_SIZE, (size_t)PTRDIFF_MAX + 1,
    (size_t)1 << 63 | SA_SEGMENT_SIZE,
};
static const size_t unmappable_sizes[] = {
    PTRDIFF_MAX, PTRDIFF_MAX - SA_OS_PAGE_SIZE + 1, PTRDIFF_MAX - SA_SEGMENT_SIZE,
    (size_t)1 << 62, (size_t)1 << 48, (size_t)1 << 46, (size_t)1 << 40,
};

/* A size of b bits at most, log-uniform between 2^lo and 2^hi. */
static size_t log_uniform(fz_src_t *s, unsigned lo, unsigned hi)
{
    unsigned bits = lo + (unsigned)fz_below(s, hi - lo);
    return ((size_t)1 << bits) + (size_t)fz_below(s, (uint64_t)1 << bits);
}

/* Mostly small, as programs ask; the larger a size the rarer (a block costs
 * page faults in proportion to the windows it is filled in). */
static size_t gen_size(fz_src_t *s)
{
    uint64_t k = fz_below(s, 1024);
    if (k < 80)
        return 0;
    if (k < 520)
        return fz_below(s, 129);
    if (k < 780)
        return fz_below(s, 4097);
    if (k < 900)
        return fz_below(s, (64 << 10) + 1);
    if (k < 960)
        return log_uniform(s, 16, 21);          /* 64 KiB .. 2 MiB */
    if (k < 966)
        return log_uniform(s, 21, 26);          /* 2 MiB .. 64 MiB */
    if (k < 1014)
        return edge_sizes[fz_below(s, COUNT(edge_sizes))] +
               (size_t)edge_deltas[fz_below(s, COUNT(edge_deltas))];
    if (k < 1022)
        return absurd_sizes[fz_below(s, COUNT(absurd_sizes))];
    return unmappable_sizes[fz_below(s, COUNT(unmappable_sizes))];
}

/* For the zeroing calls: the allocator zeroes a reused block page by page
 * (a huge one served from the huge cache too), so sizes above 64 KiB come 8
 * times rarer, huge ones 64 times. */
static size_t gen_size_zeroed(fz_src_t *s)
{
    size_t n = gen_size(s);
    if (n > 4 * FZ_FULL_MAX && n <= 2 * FZ_SURE_MAX && fz_below(s, 8) != 0)
        n >>= 6;
    if (n > SA_LARGE_OBJ_SIZE_MAX && n <= 2 * FZ_SURE_MAX && fz_below(s, 8) != 0)
        n >>= 6;
    return n;
}

/* Not a power of two (or zero); or one far beyond any mapping (rarer: the
 * kernel refuses, after the allocator gave back all it caches). */
static const size_t odd_alignments[] = {
    0, 3, 5, 12, 24, 48, 96, 4095, 4097, ((size_t)1 << 20) | 1, SIZE_MAX, PTRDIFF_MAX,
    (size_t)1 << 63,
};
static const size_t unmappable_alignments[] = {
    (size_t)1 << 62, (size_t)1 << 46, (size_t)1 << 40,
};

static size_t gen_align(fz_src_t *s)
{
    uint64_t k = fz_below(s, 256);
    if (k < 100)
        return (size_t)1 << fz_below(s, 7);
    if (k < 170)
        return (size_t)1 << fz_below(s, 13);
    if (k < 215)
        return (size_t)1 << fz_below(s, 23);
    if (k < 225)
        return (size_t)1 << (23 + fz_below(s, 4));
    if (k < 255)
        return odd_alignments[fz_below(s, COUNT(odd_alignments))];
    return unmappable_alignments[fz_below(s, COUNT(unmappable_alignments))];
}

/* count x size for calloc and reallocarray: mostly small counts, some
 * products that overflow. */
static void gen_product(fz_src_t *s, size_t *count, size_t *size)
{
    /* calloc zeroes, reallocarray does not: both draw as calloc does */
    uint64_t k = fz_below(s, 32);
    if (k == 0) {
        *size = 2 + fz_below(s, 1 << 20);
        *count = SIZE_MAX / *size + 1 + fz_below(s, 8);
    } else if (k == 1) {
        *count = ((size_t)1 << 32) + fz_below(s, 16);
        *size = (size_t)1 << 32;
    } else {
        *size = gen_size_zeroed(s);
        *count = fz_below(s, *size <= SA_OS_PAGE_SIZE ? 17 : 3);
    }
    if (fz_below(s, 2) == 0) {
        size_t t = *count;
        *count = *size;
        *size = t;
    }
}

/* ---- what the model expects ----------------------------------------------- */

enum expect { MUST_SUCCEED, MAY_FAIL, MUST_FAIL };

static enum expect expect_size(size_t n)
{
    return n > PTRDIFF_MAX ? MUST_FAIL : n <= FZ_SURE_MAX ? MUST_SUCCEED : MAY_FAIL;
}

static bool power_of_two(size_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

/* An aligned request: *err is the errno (or return code) a failure must carry. */
static enum expect expect_aligned(size_t a, size_t n, bool posix, int *err)
{
    *err = EINVAL;
    if (!power_of_two(a) || (posix && a % sizeof(void *) != 0))
        return MUST_FAIL;
    *err = ENOMEM;
    if (n > PTRDIFF_MAX || a > PTRDIFF_MAX)
        return MUST_FAIL;
    return n <= FZ_SURE_MAX && a <= FZ_SURE_MAX ? MUST_SUCCEED : MAY_FAIL;
}

#define TRACE(c, ...) do { if ((c)->trace) { \
    printf("op %llu t%u %s: ", (unsigned long long)(c)->op, (c)->thread, (c)->op_name); \
    printf(__VA_ARGS__); putchar('\n'); } } while (0)

/* ---- blocks held ----------------------------------------------------------- */

static uint64_t block_seed(const fz_ctx_t *c)
{
    uint64_t x = c->seed ^ (c->op << 20) ^ ((uint64_t)c->thread << 52);
    return splitmix(&x);
}

/* The block still holds its pattern, and its usable size has not changed. */
static void check_block(const fz_ctx_t *c, const fz_block_t *b)
{
    size_t usable = sa_usable_size(b->p);
    if (usable != b->usable)
        fz_fail(c, "usable size of %p changed from %zu to %zu", (void *)b->p, b->usable, usable);
    size_t at = fz_mismatch(b->p, b->usable, b->usable, b->seed);
    if (at != SIZE_MAX)
        fz_fail(c, "block %p (%zu asked, usable %zu) corrupted at byte %zu", (void *)b->p,
                b->req, b->usable, at);
}

void fz_release(fz_ctx_t *c, fz_block_t *b)
{
    check_block(c, b);
    fz_live_remove(c, b);       /* before free: the memory may be reused at once */
    TRACE(c, "free %p", (void *)b->p);
    sa_free(b->p);
    free(b);
}

static void release_slot(fz_ctx_t *c, size_t slot)
{
    if (c->slots[slot] != NULL) {
        fz_release(c, c->slots[slot]);
        c->slots[slot] = NULL;
    }
}

/* Checks of a block just handed out, before the model takes it: alignment,
 * usable size, no overlap with any live block (before writing to it). */
static fz_block_t *admit(fz_ctx_t *c, void *p, size_t req, size_t align)
{
    if ((uintptr_t)p % align != 0 || (uintptr_t)p % SA_MIN_ALIGN != 0)
        fz_fail(c, "%p (%zu bytes) is not aligned to %zu", p, req, align < SA_MIN_ALIGN ? SA_MIN_ALIGN : align);
    fz_block_t *b = malloc(sizeof *b);
    if (b == NULL)
        fz_fail(c, "model: out of memory");
    b->p = p;
    b->req = req;
    b->usable = sa_usable_size(p);
    b->align = align;
    b->seed = block_seed(c);
    /* usable_size is 0 only for NULL or a pointer not handed out (shardalloc.h) */
    if (b->usable < req || b->usable == 0)
        fz_fail(c, "usable size %zu of %p below the %zu bytes asked (or 0)", b->usable, p, req);
    fz_live_insert(c, b);
    return b;
}

/* A block handed out by an allocation call: checked, filled, held in slot
 * (a block beyond FZ_SURE_MAX is freed at once, to bound the run's memory). */
static void hold(fz_ctx_t *c, size_t slot, void *p, size_t req, size_t align, bool zero)
{
    if (zero) {
        size_t at = fz_nonzero(p, req);
        if (at != SIZE_MAX)
            fz_fail(c, "%p (%zu bytes) not zeroed at byte %zu", p, req, at);
    }
    fz_block_t *b = admit(c, p, req, align);
    fz_fill(b);
    if (req > FZ_SURE_MAX)
        fz_release(c, b);
    else
        c->slots[slot] = b;
}

/* The result of an allocation call: NULL with errno `err` where it may or must
 * fail, a block where it may or must succeed. */
static void result(fz_ctx_t *c, size_t slot, void *p, size_t req, size_t align,
                   enum expect want, int err, bool zero)
{
    int e = errno;
    TRACE(c, "%zu bytes align %zu -> %p (errno %d)", req, align, p, e);
    if (p == NULL) {
        if (want == MUST_SUCCEED)
            fz_fail(c, "NULL for %zu bytes (align %zu), errno %d", req, align, e);
        if (e != err)
            fz_fail(c, "NULL for %zu bytes (align %zu) with errno %d, not %d", req, align, e, err);
        c->refused++;
        return;
    }
    if (want == MUST_FAIL)
        fz_fail(c, "%p for %zu bytes (align %zu): must fail with errno %d", p, req, align, err);
    c->ok++;
    hold(c, slot, p, req, align, zero);
}

/* ---- the operations --------------------------------------------------------- */

static size_t pick_slot(fz_ctx_t *c)
{
    return (size_t)fz_below(&c->src, c->nslots);
}

/* A fresh slot for an allocation: whatever it held is freed first. */
static size_t fresh_slot(fz_ctx_t *c)
{
    size_t slot = pick_slot(c);
    release_slot(c, slot);
    return slot;
}

static void op_malloc(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), n = gen_size(&c->src);
    errno = 0;
    result(c, slot, sa_malloc(n), n, 1, expect_size(n), ENOMEM, false);
}

static void op_zalloc(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), n = gen_size_zeroed(&c->src);
    errno = 0;
    result(c, slot, sa_zalloc(n), n, 1, expect_size(n), ENOMEM, true);
}

static void op_calloc(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), count, size, total;
    gen_product(&c->src, &count, &size);
    bool overflow = __builtin_mul_overflow(count, size, &total);
    errno = 0;
    void *p = sa_calloc(count, size);
    result(c, slot, p, overflow ? SIZE_MAX : total, 1, overflow ? MUST_FAIL : expect_size(total), ENOMEM, true);
}

/* realloc and reallocarray: n == 0 frees (glibc's behaviour, promised by
 * shardalloc.h); a failure leaves the block as it was; a success keeps the
 * prefix both sizes share. */
static void do_realloc(fz_ctx_t *c, bool array)
{
    size_t slot = pick_slot(c), count = 1, n, total;
    if (array)
        gen_product(&c->src, &count, &n);
    else
        n = gen_size(&c->src);
    bool overflow = __builtin_mul_overflow(count, n, &total);
    enum expect want = overflow ? MUST_FAIL : expect_size(total);
    fz_block_t *b = c->slots[slot];
    errno = 0;
    if (b == NULL) {
        void *p = array ? sa_reallocarray(NULL, count, n) : sa_realloc(NULL, n);
        result(c, slot, p, overflow ? SIZE_MAX : total, 1, want, ENOMEM, false);
        return;
    }
    check_block(c, b);
    fz_live_remove(c, b);
    void *q = array ? sa_reallocarray(b->p, count, n) : sa_realloc(b->p, n);
    int e = errno;
    TRACE(c, "%p to %zu x %zu -> %p (errno %d)", (void *)b->p, count, n, q, e);
    if (!overflow && total == 0) {
        if (q != NULL)
            fz_fail(c, "realloc(%p, 0) returned %p, not NULL (it frees)", (void *)b->p, q);
        free(b);
        c->slots[slot] = NULL;
        c->ok++;
        return;
    }
    if (q == NULL) {
        if (want == MUST_SUCCEED)
            fz_fail(c, "realloc(%p, %zu) returned NULL, errno %d", (void *)b->p, total, e);
        if (e != ENOMEM)
            fz_fail(c, "realloc(%p, %zu) failed with errno %d, not ENOMEM", (void *)b->p, total, e);
        fz_live_insert(c, b);       /* still live, untouched */
        check_block(c, b);
        c->refused++;
        return;
    }
    if (want == MUST_FAIL)
        fz_fail(c, "realloc(%p, %zu x %zu) returned %p: must fail", (void *)b->p, count, n, q);
    size_t keep = b->req < total ? b->req : total;
    size_t at = fz_mismatch(q, b->usable, keep, b->seed);
    if (at != SIZE_MAX)
        fz_fail(c, "realloc(%p, %zu) -> %p lost byte %zu of the %zu it keeps", (void *)b->p, total,
                q, at, keep);
    fz_block_t *nb = admit(c, q, total, 1);
    nb->seed = b->seed;             /* the kept prefix already holds the pattern */
    free(b);
    fz_fill(nb);
    c->ok++;
    if (total > FZ_SURE_MAX) {
        fz_release(c, nb);
        c->slots[slot] = NULL;
    } else {
        c->slots[slot] = nb;
    }
}

static void op_realloc(fz_ctx_t *c) { do_realloc(c, false); }
static void op_reallocarray(fz_ctx_t *c) { do_realloc(c, true); }

/* aligned_alloc and memalign: the same promises (shardalloc.h). */
static void do_aligned(fz_ctx_t *c, void *(*fn)(size_t, size_t))
{
    size_t slot = fresh_slot(c), a = gen_align(&c->src), n = gen_size(&c->src);
    int err;
    enum expect want = expect_aligned(a, n, false, &err);
    errno = 0;
    result(c, slot, fn(a, n), n, power_of_two(a) ? a : 1, want, err, false);
}

static void op_aligned_alloc(fz_ctx_t *c) { do_aligned(c, sa_aligned_alloc); }
static void op_memalign(fz_ctx_t *c) { do_aligned(c, sa_memalign); }

/* posix_memalign reports through its return value and leaves *out alone on
 * failure; a NULL out is EINVAL. */
static void op_posix_memalign(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), a = gen_align(&c->src), n = gen_size(&c->src);
    int err;
    enum expect want = expect_aligned(a, n, true, &err);
    if (fz_below(&c->src, 64) == 0) {
        if (sa_posix_memalign(NULL, a, n) != EINVAL)
            fz_fail(c, "posix_memalign(NULL, %zu, %zu) did not return EINVAL", a, n);
        return;
    }
    void *const untouched = (void *)(uintptr_t)0xdead0;
    void *p = untouched;
    int r = sa_posix_memalign(&p, a, n);
    if (r != 0 && p != untouched)
        fz_fail(c, "posix_memalign(%zu, %zu) failed (%d) but wrote %p", a, n, r, p);
    errno = r;      /* the code it returns is checked as the others' errno */
    result(c, slot, r == 0 ? p : NULL, n, a, want, err, false);
}

static void op_valloc(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), n = gen_size(&c->src);
    errno = 0;
    result(c, slot, sa_valloc(n), n, SA_OS_PAGE_SIZE, expect_size(n), ENOMEM, false);
}

/* pvalloc rounds the size up to whole pages (0 to one page). */
static void op_pvalloc(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), n = gen_size(&c->src);
    size_t rounded = (n + SA_OS_PAGE_SIZE - 1) & ~(SA_OS_PAGE_SIZE - 1);
    bool overflow = rounded < n;
    size_t req = overflow ? SIZE_MAX : rounded == 0 ? SA_OS_PAGE_SIZE : rounded;
    errno = 0;
    result(c, slot, sa_pvalloc(n), req, SA_OS_PAGE_SIZE, expect_size(req), ENOMEM, false);
}

/* A string of len non-zero bytes in c->str. */
static size_t gen_string(fz_ctx_t *c)
{
    size_t len = fz_below(&c->src, 16) == 0 ? fz_below(&c->src, c->str_cap) : fz_below(&c->src, 256);
    uint64_t x = block_seed(c);
    for (size_t i = 0; i < len; i++)
        c->str[i] = (char)(1 + splitmix(&x) % 255);
    c->str[len] = '\0';
    return len;
}

static void check_copy(fz_ctx_t *c, const char *d, size_t len)
{
    if (d == NULL)
        fz_fail(c, "NULL for a copy of %zu bytes", len);
    if (memcmp(d, c->str, len) != 0 || d[len] != '\0')
        fz_fail(c, "%p is not a copy of the %zu-byte string", (const void *)d, len);
}

static void op_strdup(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), len = gen_string(c);
    char *d = sa_strdup(c->str);
    TRACE(c, "%zu bytes -> %p", len, (void *)d);
    check_copy(c, d, len);
    c->ok++;
    hold(c, slot, d, len + 1, 1, false);
}

static void op_strndup(fz_ctx_t *c)
{
    size_t slot = fresh_slot(c), len = gen_string(c);
    uint64_t k = fz_below(&c->src, 8);
    size_t n = k == 0 ? SIZE_MAX : k == 1 ? 0 : fz_below(&c->src, len + 20);
    char *d = sa_strndup(c->str, n);
    size_t copied = n < len ? n : len;
    TRACE(c, "%zu of %zu bytes -> %p", n, len, (void *)d);
    check_copy(c, d, copied);
    c->ok++;
    hold(c, slot, d, copied + 1, 1, false);
}

static void op_usable_size(fz_ctx_t *c)
{
    fz_block_t *b = c->slots[pick_slot(c)];
    size_t u = sa_usable_size(b != NULL ? b->p : NULL);
    if (b == NULL && u != 0)
        fz_fail(c, "usable_size(NULL) = %zu", u);
    if (b != NULL && u != b->usable)
        fz_fail(c, "usable_size(%p) = %zu, was %zu", (void *)b->p, u, b->usable);
}

static void op_free(fz_ctx_t *c)
{
    size_t slot = pick_slot(c);
    if (c->slots[slot] == NULL)
        sa_free(NULL);
    else
        release_slot(c, slot);
}

/* Swap a slot with a shared cell: the block taken is another thread's (its
 * free, later, is a remote free); the one left is theirs to take. */
static void op_exchange(fz_ctx_t *c)
{
    if (c->exchange == NULL) {
        op_free(c);
        return;
    }
    size_t slot = pick_slot(c), cell = fz_below(&c->src, c->nexchange);
    fz_block_t *got = atomic_exchange(&c->exchange[cell], c->slots[slot]);
    c->slots[slot] = got;
    if (got != NULL)
        check_block(c, got);
}

static const struct {
    const char *name;
    void (*run)(fz_ctx_t *);
    unsigned weight;
} ops[] = {
    { "malloc", op_malloc, 16 },           { "zalloc", op_zalloc, 4 },
    { "calloc", op_calloc, 6 },            { "realloc", op_realloc, 12 },
    { "reallocarray", op_reallocarray, 4 }, { "aligned_alloc", op_aligned_alloc, 7 },
    { "memalign", op_memalign, 5 },        { "posix_memalign", op_posix_memalign, 7 },
    { "valloc", op_valloc, 2 },            { "pvalloc", op_pvalloc, 2 },
    { "strdup", op_strdup, 3 },            { "strndup", op_strndup, 3 },
    { "usable_size", op_usable_size, 4 },  { "free", op_free, 20 },
    { "exchange", op_exchange, 5 },
};

void fz_step(fz_ctx_t *c)
{
    unsigned total = 0;
    for (size_t i = 0; i < COUNT(ops); i++)
        total += ops[i].weight;
    uint64_t k = fz_below(&c->src, total);
    size_t i = 0;
    while (k >= ops[i].weight)
        k -= ops[i++].weight;
    c->op_name = ops[i].name;
    ops[i].run(c);
    fz_reports_check(c);
    c->op++;
}

void fz_ctx_init(fz_ctx_t *c, size_t nslots, unsigned thread, uint64_t seed,
                 const uint8_t *bytes, size_t len)
{
    memset(c, 0, sizeof *c);
    c->src.state = seed;
    c->src.bytes = bytes;
    c->src.len = len;
    c->seed = seed;
    c->thread = thread;
    c->nslots = nslots;
    c->slots = calloc(nslots, sizeof *c->slots);
    c->str_cap = 2 * FZ_FULL_MAX;
    c->str = malloc(c->str_cap + 1);
    if (c->slots == NULL || c->str == NULL)
        fz_fail(c, "model: out of memory");
}

void fz_ctx_fini(fz_ctx_t *c)
{
    c->op_name = "fini";
    for (size_t i = 0; i < c->nslots; i++)
        release_slot(c, i);
    free(c->slots);
    free(c->str);
    c->slots = NULL;
    c->str = NULL;
}
