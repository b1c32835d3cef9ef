/* tests/api/sa_test.h -- what every API suite shares: block patterns, stderr
 * capture, overlap checks and scaffolding memory that does not come from the
 * allocator under test (so a broken allocator cannot break the checks).
 *
 * Each suite is its own Criterion binary linked with libshardalloc.a through
 * the sa_* entry points only; the C library's malloc stays glibc's, because
 * Criterion's runner allocates with it.
 */
#ifndef SA_TEST_H
#define SA_TEST_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shardalloc.h"
#include "config.h"

/* ---- patterns: byte i of a block filled with seed s is a function of (s, i)
 * alone (not of the length filled), so a prefix check after realloc works. -- */

static inline uint64_t sat_word(uint64_t seed, size_t i)
{
    return (seed + i) * UINT64_C(0x9E3779B97F4A7C15);
}

/* Byte i of the pattern: byte i % 8 (little-endian) of word i / 8. */
static inline unsigned char sat_byte(uint64_t seed, size_t i)
{
    size_t w = i & ~(sizeof(uint64_t) - 1);
    return (unsigned char)(sat_word(seed, w) >> (8 * (i - w)));
}

static inline void sat_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
        uint64_t w = sat_word(seed, i);
        memcpy(b + i, &w, sizeof w);
    }
    for (; i < n; i++)
        b[i] = sat_byte(seed, i);
}

/* Index of the first byte that differs from the pattern, or n if none. */
static inline size_t sat_mismatch(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
        uint64_t w = sat_word(seed, i), v;
        memcpy(&v, b + i, sizeof v);
        if (v != w)
            break;
    }
    for (; i < n; i++)
        if (b[i] != sat_byte(seed, i))
            return i;
    return n;
}

static inline bool sat_check(const void *p, size_t n, uint64_t seed)
{
    return sat_mismatch(p, n, seed) == n;
}

static inline bool sat_is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static inline bool sat_aligned(const void *p, uintptr_t alignment)
{
    return ((uintptr_t)p & (alignment - 1)) == 0;
}

/* ---- scaffolding memory straight from the OS ----------------------------- */

static inline void *sat_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(p != MAP_FAILED, "scaffolding mmap(%zu) failed", n);
    return p;
}

static inline void sat_unmap(void *p, size_t n)
{
    munmap(p, n);
}

/* ---- live blocks never overlap -------------------------------------------- */

typedef struct sat_range_s {
    uintptr_t start;
    size_t    size;
} sat_range_t;

static inline int sat_range_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const sat_range_t *)a)->start, y = ((const sat_range_t *)b)->start;
    return (x > y) - (x < y);
}

/* Sorts r in place and asserts the ranges are pairwise disjoint (and distinct,
 * even when a size is 0). */
static inline void sat_assert_disjoint(sat_range_t *r, size_t n)
{
    qsort(r, n, sizeof *r, sat_range_cmp);
    for (size_t i = 1; i < n; i++) {
        size_t prev = r[i - 1].size ? r[i - 1].size : 1;
        cr_assert(r[i - 1].start + prev <= r[i].start,
                  "blocks overlap: %#" PRIxPTR " (+%zu) and %#" PRIxPTR " (+%zu)",
                  r[i - 1].start, r[i - 1].size, r[i].start, r[i].size);
    }
}

/* ---- stderr capture (fd 2 onto a memfd: the allocator writes with write(2)) --- */

typedef struct sat_capture_s {
    int saved;
    int file;
} sat_capture_t;

static inline void sat_capture_begin(sat_capture_t *c)
{
    fflush(stderr);
    c->file = memfd_create("sat-stderr", 0);
    cr_assert(c->file >= 0, "memfd_create failed");
    c->saved = dup(STDERR_FILENO);
    cr_assert(c->saved >= 0);
    cr_assert(dup2(c->file, STDERR_FILENO) == STDERR_FILENO);
}

/* Restores stderr and returns what was written to it meanwhile (NUL-terminated). */
static inline const char *sat_capture_end(sat_capture_t *c, char *buf, size_t cap)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    ssize_t n = pread(c->file, buf, cap - 1, 0);
    close(c->file);
    buf[n > 0 ? (size_t)n : 0] = '\0';
    return buf;
}

#define SAT_MSG_CAP 4096

/* Runs fn(arg) in a forked child whose stderr is captured into msg (what it
 * wrote, NUL-terminated); the child _exits 0 after fn. Returns the child's
 * wait status (a signal that killed it shows there). fn must not use
 * Criterion's assertions: the child is not a Criterion worker. */
static inline int sat_in_child(void (*fn)(void *), void *arg, char *msg, size_t cap)
{
    int fd = memfd_create("sat-child-stderr", 0);
    cr_assert(fd >= 0, "memfd_create failed");
    fflush(stderr);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        fn(arg);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    ssize_t n = pread(fd, msg, cap - 1, 0);
    msg[n > 0 ? (size_t)n : 0] = '\0';
    close(fd);
    return status;
}

/* The message a bad pointer must produce: "shardalloc: <call>(): <what> <pointer>",
 * starting the captured text, naming the call and the pointer (hex digits). */
static inline void sat_assert_reported(const char *msg, const char *call, const void *p)
{
    char hex[2 * sizeof(uintptr_t) + 1];
    char callp[64];
    snprintf(hex, sizeof hex, "%" PRIxPTR, (uintptr_t)p);
    snprintf(callp, sizeof callp, "%s(", call);
    cr_assert(strncmp(msg, "shardalloc: ", strlen("shardalloc: ")) == 0,
              "%s(%p): expected a message starting 'shardalloc: ', stderr was: \"%s\"", call, p, msg);
    cr_assert(strstr(msg, callp) != NULL,
              "%s(%p): message does not name the call: \"%s\"", call, p, msg);
    cr_assert(strcasestr(msg, hex) != NULL,
              "%s(%p): message does not name the pointer: \"%s\"", call, p, msg);
}

static inline void sat_assert_silent(const char *msg, const char *what)
{
    cr_assert(msg[0] == '\0', "%s: expected no message, stderr was: \"%s\"", what, msg);
}

/* ---- blocks a thread leaves behind: n pointers, filled by a thread body ---- */

typedef struct sat_blocks_s {
    void **p;
    size_t n;
} sat_blocks_t;

enum { SAT_LEFT_SIZE = 48 };

/* A thread body that leaves live blocks at its exit: n blocks of
 * SAT_LEFT_SIZE bytes, block i filled with pattern i (sat_check). */
static inline void *sat_leave_live_blocks(void *arg)
{
    sat_blocks_t *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        b->p[i] = sa_malloc(SAT_LEFT_SIZE);
        if (b->p[i] != NULL)
            sat_fill(b->p[i], SAT_LEFT_SIZE, i);
    }
    return NULL;
}

/* A cheap deterministic generator (xorshift64*), per thread or per test. */
static inline uint64_t sat_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

#endif /* SA_TEST_H */
