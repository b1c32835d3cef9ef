/* bench/bignum.c -- workload 1: single-thread small objects with the lifetime
 * mix of bignum arithmetic (the pattern of cfrac/espresso in the allocator
 * literature): every operation allocates its result, most results are
 * temporaries freed at once, some live for a while in a FIFO, a few replace
 * long-lived entries of a table. Results are shrunk with realloc, as bignum
 * code does after normalising. Blocks are 8..~300 bytes. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct num_s {
    uint32_t n;             /* limbs in use */
    uint32_t limb[];        /* little-endian base 2^32 */
} num_t;

/* Results are cut to this many limbs so sizes stay in the small classes. */
#define NUM_MAX_LIMBS   64
#define TABLE_SIZE      256     /* long-lived values */
#define FIFO_SIZE       1024    /* medium-lived values */

static num_t *num_new(uint32_t n)
{
    num_t *x = malloc(sizeof(num_t) + (size_t)n * sizeof(uint32_t));
    if (x == NULL) {
        perror("malloc");
        exit(1);
    }
    x->n = n;
    return x;
}

/* Drop leading zero limbs and cap the length, shrinking the block. */
static num_t *num_norm(num_t *x)
{
    uint32_t n = x->n < NUM_MAX_LIMBS ? x->n : NUM_MAX_LIMBS;
    while (n > 1 && x->limb[n - 1] == 0)
        n--;
    if (n == x->n)
        return x;
    num_t *y = realloc(x, sizeof(num_t) + (size_t)n * sizeof(uint32_t));
    if (y == NULL) {
        perror("realloc");
        exit(1);
    }
    y->n = n;
    return y;
}

static num_t *num_small(uint64_t v)
{
    num_t *x = num_new(2);
    x->limb[0] = (uint32_t)v;
    x->limb[1] = (uint32_t)(v >> 32);
    return num_norm(x);
}

static num_t *num_add(const num_t *a, const num_t *b)
{
    if (a->n < b->n) {
        const num_t *t = a; a = b; b = t;
    }
    num_t *r = num_new(a->n + 1);
    uint64_t carry = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        carry += (uint64_t)a->limb[i] + (i < b->n ? b->limb[i] : 0);
        r->limb[i] = (uint32_t)carry;
        carry >>= 32;
    }
    r->limb[a->n] = (uint32_t)carry;
    return num_norm(r);
}

static num_t *num_mul(const num_t *a, const num_t *b)
{
    num_t *r = num_new(a->n + b->n);
    for (uint32_t i = 0; i < r->n; i++)
        r->limb[i] = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            carry += (uint64_t)a->limb[i] * b->limb[j] + r->limb[i + j];
            r->limb[i + j] = (uint32_t)carry;
            carry >>= 32;
        }
        r->limb[i + b->n] = (uint32_t)carry;
    }
    return num_norm(r);
}

/* The low half of x (a cheap "mod 2^(32k)" that keeps operands varied). */
static num_t *num_low(const num_t *x, uint32_t k)
{
    uint32_t n = k < x->n ? k : x->n;
    num_t *r = num_new(n ? n : 1);
    for (uint32_t i = 0; i < r->n; i++)
        r->limb[i] = i < x->n ? x->limb[i] : 0;
    return num_norm(r);
}

static uint64_t num_hash(const num_t *x)
{
    uint64_t h = x->n;
    for (uint32_t i = 0; i < x->n; i++)
        h = h * 0x100000001b3ULL ^ x->limb[i];
    return h;
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    bench_rng_t rng = { 1 };
    num_t *table[TABLE_SIZE], *fifo[FIFO_SIZE] = { 0 };
    uint64_t sum = 0;
    size_t iters = bench_scaled(6000000);

    for (size_t i = 0; i < TABLE_SIZE; i++)
        table[i] = num_small(bench_rand(&rng));

    for (size_t it = 0; it < iters; it++) {
        num_t *a = table[bench_rand(&rng) % TABLE_SIZE];
        num_t *b = table[bench_rand(&rng) % TABLE_SIZE];
        num_t *la = num_low(a, (uint32_t)bench_range(&rng, 1, 6));
        num_t *lb = num_low(b, (uint32_t)bench_range(&rng, 1, 6));
        num_t *p = num_mul(la, lb);
        num_t *s = num_add(p, a);
        sum += s->limb[0];
        free(la);
        free(lb);
        free(p);

        /* 1 in 8 results lives FIFO_SIZE more steps, 1 in 64 replaces a
         * table entry (long-lived); the rest die now. */
        uint64_t fate = bench_rand(&rng) & 63;
        if (fate == 0) {
            size_t k = bench_rand(&rng) % TABLE_SIZE;
            sum += num_hash(table[k]);
            free(table[k]);
            table[k] = s;
        } else if (fate < 8) {
            size_t k = it % FIFO_SIZE;
            if (fifo[k] != NULL) {
                sum += num_hash(fifo[k]);
                free(fifo[k]);
            }
            fifo[k] = s;
        } else {
            free(s);
        }
    }
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        sum += num_hash(table[i]);
        free(table[i]);
    }
    for (size_t i = 0; i < FIFO_SIZE; i++) {
        if (fifo[i] != NULL) {
            sum += num_hash(fifo[i]);
            free(fifo[i]);
        }
    }
    bench_finish(sum);
    return 0;
}
