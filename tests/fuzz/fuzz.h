/* tests/fuzz/fuzz.h -- the differential fuzzer of the sa_* API: one
 * interpreter of random operations (ops.c) checked against a shadow model
 * (shadow.c), driven by a seeded generator (main.c: make fuzz, make test) or by
 * libFuzzer's bytes (libfuzzer.c).
 *
 * The model knows, for every block the fuzzer holds: its pointer, the size
 * asked, the usable size reported, the alignment asked and the seed of the
 * pattern written into it. It checks, at every step, what the standard and
 * include/shardalloc.h promise: contents survive until free (and realloc
 * keeps the prefix), no two live blocks overlap (a block of size 0 counts as
 * at least one byte: a pointer handed out twice overlaps), alignment, usable
 * size >= the request, calloc/zalloc zeroing, NULL with the right errno (and
 * posix_memalign's return code) exactly when the call must fail.
 *
 * Memory for the model comes from the C library's malloc, never from the
 * allocator under test. */
#ifndef SA_FUZZ_H
#define SA_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests up to this size must succeed; larger (valid) ones may fail with
 * ENOMEM, and above PTRDIFF_MAX they must. */
#define FZ_SURE_MAX     ((size_t)64 << 20)
/* Blocks up to this size are filled and checked whole; larger ones in
 * windows: head, tail, and a 64-byte window every FZ_STRIDE bytes between (at
 * most FZ_WINDOWS of them: a 64 MiB block is touched in 64 pages, not 16384). */
#define FZ_FULL_MAX     ((size_t)16 << 10)
#define FZ_STRIDE       ((size_t)64 << 10)
#define FZ_EDGE         ((size_t)4096)
#define FZ_WINDOWS      62
#define FZ_WINDOW       ((size_t)64)

/* Where decisions come from: a splitmix64 stream (bytes == NULL) or the
 * bytes of a libFuzzer input (exhausted: every decision reads 0 and
 * fz_src_done says so). */
typedef struct fz_src_s {
    uint64_t state;
    const uint8_t *bytes;
    size_t len, pos;
} fz_src_t;

uint64_t fz_bits(fz_src_t *s, unsigned nbytes);
uint64_t fz_below(fz_src_t *s, uint64_t n);     /* in [0, n), n >= 1 */
static inline bool fz_src_done(const fz_src_t *s) { return s->bytes != NULL && s->pos >= s->len; }

/* A block the fuzzer holds. `p` is what the allocator returned; its interval
 * [p, p + max(usable, 1)) is in the model's interval set while it is live. */
typedef struct fz_block_s {
    unsigned char *p;
    size_t req, usable, align;
    uint64_t seed;
    struct fz_block_s *left, *right, *next;    /* interval set; orphan list */
    uint64_t prio;
} fz_block_t;

/* One interpreter: a thread of the multi-threaded run, the single-threaded
 * run or one libFuzzer input. */
typedef struct fz_ctx_s {
    fz_src_t src;
    uint64_t seed;          /* printed on failure */
    unsigned thread;        /* generation number of the thread, 0 single */
    uint64_t op;            /* index of the operation running */
    const char *op_name;
    size_t nslots;
    fz_block_t **slots;
    _Atomic(fz_block_t *) *exchange;    /* shared cells, NULL: single thread */
    size_t nexchange;
    char *str;              /* source of strdup/strndup */
    size_t str_cap;
    bool trace;             /* print every operation */
    uint64_t ok, refused;   /* calls that returned memory / failed as they must */
} fz_ctx_t;

void fz_ctx_init(fz_ctx_t *c, size_t nslots, unsigned thread, uint64_t seed,
                 const uint8_t *bytes, size_t len);
void fz_ctx_fini(fz_ctx_t *c);                  /* frees every held block */
void fz_step(fz_ctx_t *c);                      /* one random operation */
void fz_release(fz_ctx_t *c, fz_block_t *b);   /* check, free, forget */

/* shadow.c */
void fz_reports_begin(void);    /* from now on a misuse the allocator reports fails */
void fz_reports_check(const fz_ctx_t *c);
void fz_reports_end(void);
void fz_fail(const fz_ctx_t *c, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void fz_fill(const fz_block_t *b);              /* pattern over [0, usable) */
/* First byte of [0, limit) that is not the pattern, among the bytes a block of
 * `basis` bytes is filled in; SIZE_MAX if none. */
size_t fz_mismatch(const unsigned char *p, size_t basis, size_t limit, uint64_t seed);
size_t fz_nonzero(const unsigned char *p, size_t n); /* SIZE_MAX if zero */
void fz_live_insert(const fz_ctx_t *c, fz_block_t *b);  /* fails on overlap */
void fz_live_remove(const fz_ctx_t *c, fz_block_t *b);
size_t fz_live_count(void);

#endif /* SA_FUZZ_H */
