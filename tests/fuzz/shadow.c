/* tests/fuzz/shadow.c -- the fuzzer's model of the heap: fill patterns (byte
 * i of a block is a function of its seed and i alone, so a realloc'd prefix
 * can be checked), the windows a large block is filled and checked in, and
 * the set of live intervals (a treap under one lock: every thread's blocks
 * are in it, so a block handed to two threads at once is seen). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include "shardalloc.h"
#include "fuzz.h"

/* ---- the allocator's reports --------------------------------------------
 * Every operation the fuzzer makes is valid, so any misuse shardalloc reports
 * (a "double free", a "use after free") is a failure: the first one is kept by
 * the error callback (which must not allocate) and checked after every
 * operation. */

static atomic_int reported_kind;
static const char *_Atomic reported_call;
static const void *_Atomic reported_ptr;

static void on_error(sa_error_kind_t kind, const char *call, const void *p, void *arg)
{
    (void)arg;
    int none = 0;
    if (atomic_compare_exchange_strong(&reported_kind, &none, (int)kind)) {
        atomic_store(&reported_call, call);
        atomic_store(&reported_ptr, p);
    }
}

void fz_reports_begin(void)
{
    sa_register_error(on_error, NULL);
}

void fz_reports_end(void)
{
    sa_register_error(NULL, NULL);
}

void fz_reports_check(const fz_ctx_t *c)
{
    int kind = atomic_load(&reported_kind);
    if (kind != 0) {
        const char *call = atomic_load(&reported_call);
        fz_fail(c, "the allocator reported a misuse (sa_error_kind_t %d) in %s() of %p on valid calls",
                kind, call != NULL ? call : "?", atomic_load(&reported_ptr));
    }
}

void fz_fail(const fz_ctx_t *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fz_reports_end();
    /* a thread's seed follows from the run's (printed first) and its number */
    fprintf(stderr, "fuzz: FAIL %s=%#llx thread=%u op=%llu (%s): %s\n",
            c->thread == 0 ? "seed" : "thread seed", (unsigned long long)c->seed, c->thread,
            (unsigned long long)c->op, c->op_name != NULL ? c->op_name : "-", msg);
    if (c->src.bytes == NULL && c->thread == 0)
        fprintf(stderr, "fuzz: reproduce with: fuzz --seed %#llx --threads 0 --ops %llu --trace-from %llu\n",
                (unsigned long long)c->seed, (unsigned long long)c->op + 1,
                (unsigned long long)(c->op > 20 ? c->op - 20 : 0));
    fflush(stderr);
    abort();
}

/* ---- patterns ------------------------------------------------------------ */

static inline uint64_t pat_word(uint64_t seed, size_t i)
{
    return (seed + i) * UINT64_C(0x9E3779B97F4A7C15) ^ (seed >> 29);
}

static inline unsigned char pat_byte(uint64_t seed, size_t i)
{
    size_t w = i & ~(size_t)7;
    return (unsigned char)(pat_word(seed, w) >> (8 * (i - w)));
}

/* The windows a block of n bytes is filled and checked in (fuzz.h). */
static size_t windows(size_t n, size_t off[], size_t len[])
{
    if (n <= FZ_FULL_MAX) {
        off[0] = 0;
        len[0] = n;
        return 1;
    }
    size_t k = 0, between = n - 2 * FZ_EDGE;
    off[k] = 0;
    len[k++] = FZ_EDGE;
    size_t count = between / FZ_STRIDE < FZ_WINDOWS ? between / FZ_STRIDE : FZ_WINDOWS;
    size_t stride = count > 0 ? between / count : 0;
    for (size_t i = 0; i < count; i++) {
        off[k] = (FZ_EDGE + i * stride + (i * 1031) % (stride - FZ_WINDOW)) & ~(size_t)7;
        len[k++] = FZ_WINDOW;
    }
    off[k] = n - FZ_EDGE;
    len[k++] = FZ_EDGE;
    return k;
}

void fz_fill(const fz_block_t *b)
{
    size_t off[FZ_WINDOWS + 2], len[FZ_WINDOWS + 2];
    size_t k = windows(b->usable, off, len);
    for (size_t w = 0; w < k; w++) {
        size_t i = off[w], end = off[w] + len[w];
        for (; i < end && (i & 7) != 0; i++)
            b->p[i] = pat_byte(b->seed, i);
        for (; i + 8 <= end; i += 8) {
            uint64_t v = pat_word(b->seed, i);
            memcpy(b->p + i, &v, 8);
        }
        for (; i < end; i++)
            b->p[i] = pat_byte(b->seed, i);
    }
}

size_t fz_mismatch(const unsigned char *p, size_t basis, size_t limit, uint64_t seed)
{
    size_t off[FZ_WINDOWS + 2], len[FZ_WINDOWS + 2];
    size_t k = windows(basis, off, len);
    for (size_t w = 0; w < k; w++) {
        size_t i = off[w], end = off[w] + len[w];
        if (end > limit)
            end = limit;
        for (; i < end && (i & 7) != 0; i++)
            if (p[i] != pat_byte(seed, i))
                return i;
        for (; i + 8 <= end; i += 8) {
            uint64_t v;
            memcpy(&v, p + i, 8);
            if (v != pat_word(seed, i))
                break;
        }
        for (; i < end; i++)
            if (p[i] != pat_byte(seed, i))
                return i;
    }
    return SIZE_MAX;
}

size_t fz_nonzero(const unsigned char *p, size_t n)
{
    size_t off[FZ_WINDOWS + 2], len[FZ_WINDOWS + 2];
    size_t k = windows(n, off, len);
    for (size_t w = 0; w < k; w++)
        for (size_t i = off[w]; i < off[w] + len[w]; i++)
            if (p[i] != 0)
                return i;
    return SIZE_MAX;
}

/* ---- the live interval set: a treap keyed by start address --------------- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static fz_block_t *live_root;
static size_t live_count;

static uintptr_t start_of(const fz_block_t *b) { return (uintptr_t)b->p; }
static uintptr_t end_of(const fz_block_t *b) { return (uintptr_t)b->p + (b->usable > 0 ? b->usable : 1); }

/* Split t into the blocks starting below key and the rest. */
static void split(fz_block_t *t, uintptr_t key, fz_block_t **lo, fz_block_t **hi)
{
    if (t == NULL) {
        *lo = *hi = NULL;
    } else if (start_of(t) < key) {
        split(t->right, key, &t->right, hi);
        *lo = t;
    } else {
        split(t->left, key, lo, &t->left);
        *hi = t;
    }
}

static fz_block_t *merge(fz_block_t *a, fz_block_t *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    if (a->prio > b->prio) {
        a->right = merge(a->right, b);
        return a;
    }
    b->left = merge(a, b->left);
    return b;
}

static const fz_block_t *extreme(const fz_block_t *t, bool rightmost)
{
    while (t != NULL && (rightmost ? t->right : t->left) != NULL)
        t = rightmost ? t->right : t->left;
    return t;
}

void fz_live_insert(const fz_ctx_t *c, fz_block_t *b)
{
    b->left = b->right = NULL;
    b->prio = ((uintptr_t)b->p ^ (uintptr_t)b) * UINT64_C(0xBF58476D1CE4E5B9);
    pthread_mutex_lock(&live_lock);
    fz_block_t *lo, *hi;
    split(live_root, start_of(b), &lo, &hi);
    const fz_block_t *before = extreme(lo, true), *after = extreme(hi, false);
    const fz_block_t *hit = before != NULL && end_of(before) > start_of(b) ? before
                          : after != NULL && start_of(after) < end_of(b) ? after : NULL;
    if (hit != NULL) {
        fz_block_t copy = *hit;
        pthread_mutex_unlock(&live_lock);
        fz_fail(c, "%p (%zu bytes asked, usable %zu, align %zu) overlaps the live block %p "
                "(%zu asked, usable %zu, align %zu)", (void *)b->p, b->req, b->usable, b->align,
                (void *)copy.p, copy.req, copy.usable, copy.align);
    }
    live_root = merge(merge(lo, b), hi);
    live_count++;
    pthread_mutex_unlock(&live_lock);
}

void fz_live_remove(const fz_ctx_t *c, fz_block_t *b)
{
    pthread_mutex_lock(&live_lock);
    fz_block_t *lo, *mid, *hi;
    split(live_root, start_of(b), &lo, &mid);
    split(mid, start_of(b) + 1, &mid, &hi);
    bool found = mid == b && b->left == NULL && b->right == NULL;
    live_root = merge(lo, hi);
    if (found)
        live_count--;
    pthread_mutex_unlock(&live_lock);
    if (!found)
        fz_fail(c, "model: block %p not in the live set", (void *)b->p);
}

size_t fz_live_count(void)
{
    pthread_mutex_lock(&live_lock);
    size_t n = live_count;
    pthread_mutex_unlock(&live_lock);
    return n;
}
