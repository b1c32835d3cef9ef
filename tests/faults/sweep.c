/* tests/faults/sweep.c -- the allocator when the kernel says no (make
 * test-faults). Built with the fault-injection build of the library
 * (-DSA_FAULT_INJECT, src/os.c): the kernel calls shardalloc makes (mmap,
 * madvise, mremap) are numbered, and the k-th can be made to fail as the
 * kernel would refuse it, alone ("single") or with every later one until the
 * test lifts it ("sticky": the kernel out of memory for good).
 *
 * A workload that reaches every kind of kernel call (segments of small,
 * medium and large pages, huge blocks fresh and from the huge cache, far
 * aligned ones, huge realloc in place and moving, purging, unmapping) is run
 * once to count its kernel calls, N. Then for every k in 1..N, in a child
 * process of its own, both ways: every call returns NULL with errno ENOMEM
 * (or posix_memalign ENOMEM) or a block that keeps its contents (calloc's
 * zeroed); nothing crashes; once the faults are lifted, everything freed and
 * sa_collect(true) leaves no more mapped than the counting run did and no
 * bytes handed out; and the workload then runs again with every allocation
 * succeeding. Plain program (fork per k), not Criterion. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shardalloc.h"
#include "config.h"

/* the hook, in the fault-injection build of src/os.c only */
extern atomic_ulong _sa_fault_calls;
extern atomic_ulong _sa_fault_at;
extern atomic_bool _sa_fault_sticky;

enum { BLOCKS = 50 };      /* each call of the workload with each size */

/* What a child reports back (a shared page: the parent reads it after wait). */
typedef struct report_s {
    unsigned long calls;        /* kernel calls the workload made */
    unsigned long refused;      /* allocation calls that returned NULL / ENOMEM */
    size_t mapped;              /* mapped after the workload, freed and collected */
    char why[256];              /* the failure, if any */
} report_t;

static report_t *report;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->why, sizeof report->why, fmt, ap);
    va_end(ap);
    _exit(1);
}

static unsigned char pattern(const void *p, size_t i)
{
    return (unsigned char)(((uintptr_t)p >> 4) * 31 + i * 7 + 1);
}

/* A few bytes spread over the block: enough to see it kept its contents. */
static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += n / 8 + 1)
        p[i] = pattern(p, i);
    if (n > 0)
        p[n - 1] = pattern(p, n - 1);
}

static bool intact(const unsigned char *p, const unsigned char *was, size_t n)
{
    for (size_t i = 0; i < n; i += n / 8 + 1)
        if (p[i] != pattern(was, i))
            return false;
    return n == 0 || p[n - 1] == pattern(was, n - 1);
}

typedef struct slot_s { unsigned char *p; size_t n; } slot_t;

/* NULL must come with ENOMEM, unless the run must not fail at all. */
static bool got(void *p, int err, bool must, const char *call, size_t n)
{
    if (p != NULL)
        return true;
    if (must)
        fail("%s(%zu) returned NULL with no fault injected (errno %d)", call, n, err);
    if (err != ENOMEM)
        fail("%s(%zu) returned NULL with errno %d, not ENOMEM", call, n, err);
    report->refused++;
    return false;
}

static void take(slot_t *s, void *p, size_t n, bool zeroed, const char *call)
{
    if (zeroed)
        for (size_t i = 0; i < n; i += n / 16 + 1)
            if (((unsigned char *)p)[i] != 0)
                fail("%s(%zu) = %p: byte %zu not zero", call, n, p, i);
    s->p = p;
    s->n = n;
    fill(s->p, n);
}

static void release(slot_t *s)
{
    if (s->p == NULL)
        return;
    if (!intact(s->p, s->p, s->n))
        fail("block %p of %zu bytes lost its contents", (void *)s->p, s->n);
    sa_free(s->p);
    s->p = NULL;
}

static const size_t sizes[] = {
    24, 300, 5000, SA_SMALL_OBJ_SIZE_MAX + 16, 40000, SA_MEDIUM_OBJ_SIZE_MAX + 100,
    300000, SA_LARGE_OBJ_SIZE_MAX, SA_LARGE_OBJ_SIZE_MAX + 1, 3 << 20,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* The workload: must says no call may fail. */
static void workload(bool must)
{
    static slot_t s[BLOCKS];
    for (size_t i = 0; i < BLOCKS; i++) {
        size_t n = sizes[i % NSIZES];
        void *p;
        errno = 0;
        switch (i % 5) {
        case 0:
            p = sa_malloc(n);
            if (got(p, errno, must, "malloc", n))
                take(&s[i], p, n, false, "malloc");
            break;
        case 1:
            p = sa_calloc(1, n);
            if (got(p, errno, must, "calloc", n))
                take(&s[i], p, n, true, "calloc");
            break;
        case 2: {
            size_t a = (i / 5) % 2 == 0 ? 4096 : SA_SEGMENT_SIZE;    /* far huge too */
            p = sa_aligned_alloc(a, n);
            if (got(p, errno, must, "aligned_alloc", n)) {
                if ((uintptr_t)p % a != 0)
                    fail("aligned_alloc(%zu, %zu) = %p misaligned", a, n, p);
                take(&s[i], p, n, false, "aligned_alloc");
            }
            break;
        }
        case 3: {
            void *q = NULL;
            int r = sa_posix_memalign(&q, 64, n);
            if (r != 0 && r != ENOMEM)
                fail("posix_memalign(64, %zu) returned %d", n, r);
            if (got(r == 0 ? q : NULL, r, must, "posix_memalign", n))
                take(&s[i], q, n, false, "posix_memalign");
            break;
        }
        default:
            p = sa_zalloc(n);
            if (got(p, errno, must, "zalloc", n))
                take(&s[i], p, n, true, "zalloc");
        }
    }
    /* huge realloc: grow in place or move, shrink; a small one grows huge */
    for (size_t i = 0; i < BLOCKS; i += 7) {
        if (s[i].p == NULL)
            continue;
        size_t to = s[i].n > SA_LARGE_OBJ_SIZE_MAX ? s[i].n + (1 << 20) : s[i].n < 1000 ? (3 << 20) : s[i].n / 2;
        size_t keep = to < s[i].n ? to : s[i].n;
        unsigned char *was = s[i].p;
        errno = 0;
        unsigned char *q = sa_realloc(s[i].p, to);
        if (!got(q, errno, must, "realloc", to)) {
            if (!intact(s[i].p, s[i].p, s[i].n))
                fail("realloc failed and the block %p changed", (void *)s[i].p);
            continue;
        }
        for (size_t j = 0; j < keep; j += s[i].n / 8 + 1)     /* the bytes fill wrote */
            if (q[j] != pattern(was, j))
                fail("realloc(%p, %zu) = %p lost byte %zu", (void *)was, to, (void *)q, j);
        s[i].p = q;
        s[i].n = to;
        fill(q, to);
    }
    /* huge blocks into the huge cache, then larger ones out of it: a cached
     * mapping grows in place, or its pages move to a fresh one */
    for (size_t i = 1; i < BLOCKS; i += 2)
        if (s[i].n > SA_LARGE_OBJ_SIZE_MAX)
            release(&s[i]);
    for (size_t i = 1; i < BLOCKS; i += 2) {
        size_t n = sizes[i % NSIZES] + (1 << 20);
        if (s[i].p != NULL || n <= (1 << 20) + SA_LARGE_OBJ_SIZE_MAX)
            continue;
        errno = 0;
        void *p = i % 4 == 1 ? sa_calloc(1, n) : sa_malloc(n);
        if (got(p, errno, must, "huge from the cache", n))
            take(&s[i], p, n, i % 4 == 1, "huge from the cache");
    }
    /* free half, give back, and allocate zeroed over what was purged */
    for (size_t i = 0; i < BLOCKS; i += 2)
        release(&s[i]);
    sa_collect(true);
    for (size_t i = 0; i < BLOCKS; i += 2) {
        size_t n = sizes[(i / 2) % NSIZES];
        errno = 0;
        void *p = sa_calloc(n, 1);
        if (got(p, errno, must, "calloc after collect", n))
            take(&s[i], p, n, true, "calloc after collect");
    }
    for (size_t i = 0; i < BLOCKS; i++)
        release(&s[i]);
}

/* One child: faults from k on (k = 0: none), then lifted, then the checks. */
static void child(unsigned long k, bool sticky, size_t floor)
{
    atomic_store(&_sa_fault_sticky, sticky);
    atomic_store(&_sa_fault_at, k);
    workload(k == 0);
    unsigned long calls = atomic_load(&_sa_fault_calls);
    if (k > calls)
        fail("the workload made %lu kernel calls, never reaching the %lu-th", calls, k);
    report->calls = calls;
    atomic_store(&_sa_fault_at, 0);
    atomic_store(&_sa_fault_sticky, false);
    sa_collect(true);
    sa_stats_t st;
    sa_stats_get(&st);
    report->mapped = st.mapped;
    if (st.allocated != 0)
        fail("%zu bytes still handed out after every block was freed", st.allocated);
    if (k != 0 && st.mapped > floor)
        fail("%zu bytes mapped after freeing and sa_collect(true), %zu without faults", st.mapped, floor);
    /* the kernel says yes again: so must the allocator, every time */
    workload(true);
    sa_collect(true);
    sa_stats_get(&st);
    if (st.allocated != 0 || (k != 0 && st.mapped > floor))
        fail("after the run without faults: %zu handed out, %zu mapped (%zu without faults)",
             st.allocated, st.mapped, floor);
    _exit(0);
}

/* Run child(k, sticky) in a process of its own; false (and the reason) if it failed. */
static bool run(unsigned long k, bool sticky, size_t floor)
{
    memset(report, 0, sizeof *report);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("faults: fork");
        exit(1);
    }
    if (pid == 0)
        child(k, sticky, floor);
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("faults: waitpid");
        exit(1);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    if (WIFSIGNALED(status))
        snprintf(report->why, sizeof report->why, "killed by signal %d", WTERMSIG(status));
    fprintf(stderr, "faults: FAIL with the %lu-th kernel call failing (%s): %s\n", k,
            sticky ? "and every later one" : "alone", report->why[0] ? report->why : "exit status");
    return false;
}

int main(void)
{
    report = mmap(NULL, sizeof *report, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (report == MAP_FAILED) {
        perror("faults: mmap");
        return 1;
    }
    if (!run(0, false, SIZE_MAX))
        return 1;
    unsigned long n = report->calls;
    size_t floor = report->mapped;
    if (n == 0) {
        fprintf(stderr, "faults: FAIL the workload made no kernel call (is this the SA_FAULT_INJECT build?)\n");
        return 1;
    }
    unsigned long failures = 0, refused = 0, swept = 0;
    for (int sticky = 0; sticky <= 1; sticky++)
        for (unsigned long k = 1; k <= n; k++) {
            failures += !run(k, sticky, floor);
            refused += report->refused;
            swept++;
        }
    if (failures != 0) {
        fprintf(stderr, "faults: %lu of %lu fault points failed\n", failures, swept);
        return 1;
    }
    printf("faults: %lu kernel calls in the workload; %lu fault points swept (each alone, then "
           "each with every later call failing): %lu allocations refused with ENOMEM, no crash, "
           "no leak (mapped <= %zu KiB after sa_collect), allocation works again every time\n",
           n, swept, refused, floor >> 10);
    return 0;
}
