/* bench/latency.c -- workload 8: per-operation latency. Every malloc and
 * free is timed with rdtsc into a log-linear histogram; printed are p50,
 * p99, p99.99 and max in cycles for
 *   malloc_local / free_local    one thread, random sizes, steady state;
 *   malloc_remote / free_remote  a producer allocates while a consumer frees
 *                                its blocks (so malloc also collects remote
 *                                frees), the consumer's frees timed.
 * Operations during which the allocator made an OS call are told apart: this
 * program defines mmap, munmap, mremap, madvise, mprotect, brk and sbrk
 * itself (the executable comes first in symbol lookup, so an allocator that
 * calls them through the dynamic linker calls these), counts the calls, and
 * reports "max outside OS calls" from the operations that made none. glibc
 * calls its own internal copies, so for glibc every operation counts as
 * outside OS calls. Operations during which the thread was switched out are
 * told apart too: before each one the program writes a sentinel into the
 * cpu_id_start word of its rseq area (glibc registers rseq), which the
 * kernel rewrites whenever it schedules the thread back in. Page faults and
 * interrupts that do not reschedule are not told apart.
 *
 * Under shardalloc it also counts each call's steps, the unit of the proven
 * bounds (loop iterations, OS calls, hook calls; spec/bounds.smt2), as the
 * library itself counts them (sa_thread_steps, include/shardalloc.h): per
 * operation the most steps one call took, besides CAS retries (the k of
 * B + k), and how many calls took each count. bench/report.py judges those
 * against the proven bounds; cycles cannot be judged so on this machine, where
 * interrupts and VM exits add more to a call than a whole bound's worth
 * (see `nothing` below).
 *
 * It also prints the proven step bounds of malloc and of both frees (those of
 * spec/bounds.smt2, as build/verify states them: the runner passes them in)
 * and the same in cycles, for scale only:
 * (steps + 1) times a per-step cost estimated from the measured median (the
 * median fast-path malloc less the timer's own cost). */
#define _GNU_SOURCE
#include "bench.h"
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the proven bounds ------------------------------------------------------- */

/* Steps (loop iterations, OS calls, hook calls) of one operation at most, as
 * the proofs state them (spec/bounds.smt2: B_MALLOC, B_FREE_LOCAL,
 * B_FREE_REMOTE). The runner reads them from `build/verify --only
 * bound_starts` and passes them in SA_BENCH_B_MALLOC etc., so the
 * formula lives in one place. A CAS retry adds one step per other thread's
 * successful CAS on the same word (lock-free, the spec's "+ k"): not counted. */
typedef unsigned long long steps_t;

static bool proven_bound(const char *op, steps_t *out)
{
    char name[64];
    snprintf(name, sizeof name, "SA_BENCH_B_%s", op);
    const char *v = getenv(name);
    char *end;
    if (v == NULL || *v == '\0')
        return false;
    *out = strtoull(v, &end, 10);
    return *end == '\0';
}

/* ---- steps, as the allocator counts them ------------------------------------------ */

/* shardalloc exports its per-thread count of steps and CAS retries as
 * sa_thread_steps (include/shardalloc.h); other allocators have no such
 * symbol, and nothing is counted for them. Looked up once (the function reads
 * the calling thread's counts). */
typedef size_t thread_steps_fn(size_t *retries);
static thread_steps_fn *thread_steps;

/* Calls counted per step count below STEP_COUNTS, the last one counting the
 * rest (the max is exact whatever it is). */
#define STEP_COUNTS 8192

typedef struct step_hist_s {
    uint64_t calls[STEP_COUNTS];
    uint64_t n;
    uint64_t max;           /* most steps one call took, besides CAS retries */
    uint64_t retries_max;   /* most CAS retries in one call (the k of B + k) */
} step_hist_t;

typedef struct step_mark_s { size_t steps, retries; } step_mark_t;

static inline step_mark_t steps_now(void)
{
    step_mark_t m = { 0, 0 };
    if (thread_steps != NULL)
        m.steps = thread_steps(&m.retries);
    return m;
}

static void steps_add(step_hist_t *s, step_mark_t before)
{
    if (thread_steps == NULL)
        return;
    step_mark_t after = steps_now();
    uint64_t retries = after.retries - before.retries;
    uint64_t steps = after.steps - before.steps - retries;
    s->calls[steps < STEP_COUNTS ? steps : STEP_COUNTS - 1]++;
    s->n++;
    if (steps > s->max)
        s->max = steps;
    if (retries > s->retries_max)
        s->retries_max = retries;
}

/* "name_steps_max: N", the retries, the calls, and the calls per step count
 * as "name_steps_calls: steps=calls,..." (counts with no call left out). */
static void steps_print(const char *name, const step_hist_t *s)
{
    printf("%s_steps_max: %llu\n%s_steps_retries_max: %llu\n%s_steps_ops: %llu\n%s_steps_calls: ",
           name, (unsigned long long)s->max, name, (unsigned long long)s->retries_max,
           name, (unsigned long long)s->n, name);
    const char *sep = "";
    for (size_t i = 0; i < STEP_COUNTS; i++)
        if (s->calls[i] != 0) {
            printf("%s%zu=%llu", sep, i, (unsigned long long)s->calls[i]);
            sep = ",";
        }
    printf("\n");
}

static step_hist_t s_malloc_local, s_free_local, s_malloc_remote, s_free_remote;

/* ---- OS calls, counted per thread ---------------------------------------------- */

static __thread unsigned long os_calls;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    os_calls++;
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
    os_calls++;
    return (int)syscall(SYS_munmap, addr, len);
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    void *new_addr = (flags & MREMAP_FIXED) ? va_arg(ap, void *) : NULL;
    va_end(ap);
    os_calls++;
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

int madvise(void *addr, size_t len, int advice)
{
    os_calls++;
    return (int)syscall(SYS_madvise, addr, len, advice);
}

int mprotect(void *addr, size_t len, int prot)
{
    os_calls++;
    return (int)syscall(SYS_mprotect, addr, len, prot);
}

/* brk/sbrk keep the kernel's break in a static, as glibc's do. */
static void *cur_brk;

int brk(void *addr)
{
    os_calls++;
    void *r = (void *)syscall(SYS_brk, addr);
    cur_brk = r;
    return r == addr ? 0 : -1;
}

void *sbrk(intptr_t inc)
{
    os_calls++;
    if (cur_brk == NULL)
        cur_brk = (void *)syscall(SYS_brk, NULL);
    void *old = cur_brk;
    if (inc == 0)
        return old;
    void *r = (void *)syscall(SYS_brk, (char *)old + inc);
    if (r != (char *)old + inc)
        return (void *)-1;
    cur_brk = r;
    return old;
}

/* ---- preemption, seen through rseq ---------------------------------------------- */

/* cpu_id_start is the first word of struct rseq; the kernel stores the cpu
 * number there on every return to this thread after it was switched out. A
 * value no cpu number can take shows that did not happen. */
#define RSEQ_SENTINEL   0xfffffff0u

static __thread volatile uint32_t *rseq_word;

static void rseq_watch_init(void)
{
    if (__rseq_size > 0)
        rseq_word = (volatile uint32_t *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static inline void quiet_begin(void)
{
    if (rseq_word != NULL)
        *rseq_word = RSEQ_SENTINEL;
}

static inline int quiet_preempted(void)
{
    return rseq_word != NULL && *rseq_word != RSEQ_SENTINEL;
}

/* ---- timing and histograms -------------------------------------------------------- */

static inline uint64_t cycles(void)
{
    uint32_t lo, hi;
    /* lfence on both sides: the timed call neither starts early nor ends late. */
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Exact below 2^SUB_BITS, then 2^SUB_BITS buckets per power of two (error
 * below 1/64); values up to 2^MAX_EXP cycles. */
#define SUB_BITS    6
#define MAX_EXP     44
#define BUCKETS     ((MAX_EXP - SUB_BITS + 1) << SUB_BITS)

typedef struct hist_s {
    uint64_t count[BUCKETS];
    uint64_t n, max;
    uint64_t max_quiet;         /* max over ops with no OS call, not preempted */
    uint64_t os_ops;            /* ops that made at least one OS call */
    uint64_t preempted_ops;     /* ops during which the thread was switched out */
} hist_t;

static size_t bucket_of(uint64_t v)
{
    if (v < ((uint64_t)1 << SUB_BITS))
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    if (e > MAX_EXP)
        e = MAX_EXP, v = ~(uint64_t)0 >> (63 - MAX_EXP);
    return ((size_t)(e - SUB_BITS + 1) << SUB_BITS)
         + (size_t)((v >> (e - SUB_BITS)) & ((1u << SUB_BITS) - 1));
}

/* The smallest value a bucket holds (what a percentile reports). */
static uint64_t bucket_low(size_t b)
{
    if (b < ((size_t)1 << SUB_BITS))
        return b;
    unsigned e = (unsigned)(b >> SUB_BITS) + SUB_BITS - 1;
    uint64_t sub = b & ((1u << SUB_BITS) - 1);
    return ((uint64_t)1 << e) + (sub << (e - SUB_BITS));
}

static void hist_add(hist_t *h, uint64_t v, int os, int preempted)
{
    h->count[bucket_of(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
    h->os_ops += os != 0;
    h->preempted_ops += preempted != 0;
    if (!os && !preempted && v > h->max_quiet)
        h->max_quiet = v;
}

static uint64_t hist_pct(const hist_t *h, double pct)
{
    uint64_t want = (uint64_t)((double)h->n * pct / 100.0), seen = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        seen += h->count[b];
        if (seen > want)
            return bucket_low(b);
    }
    return h->max;
}

/* The tail, as "name_pNNN: cycles" lines (p999 is the 99.9th percentile),
 * then the max, the max outside OS calls and preemption, and the counts. */
static void hist_print(const char *name, const hist_t *h)
{
    static const struct { const char *key; double pct; } tail[] = {
        { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
        { "p9999", 99.99 }, { "p99999", 99.999 },
    };
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        printf("%s_%s: %llu\n", name, tail[i].key,
               (unsigned long long)hist_pct(h, tail[i].pct));
    printf("%s_max: %llu\n%s_max_quiet: %llu\n%s_os_ops: %llu\n"
           "%s_preempted_ops: %llu\n%s_ops: %llu\n",
           name, (unsigned long long)h->max,
           name, (unsigned long long)h->max_quiet,
           name, (unsigned long long)h->os_ops,
           name, (unsigned long long)h->preempted_ops,
           name, (unsigned long long)h->n);
}

static hist_t h_malloc_local, h_free_local, h_malloc_remote, h_free_remote;

/* Sizes 16 B .. 4 KiB, log-uniform: every small and medium class is hit. */
static size_t latency_size(bench_rng_t *rng)
{
    unsigned bits = 4 + (unsigned)(bench_rand(rng) % 8);
    return bench_range(rng, (size_t)1 << bits, ((size_t)2 << bits) - 1);
}

static uint64_t timed_malloc(hist_t *h, step_hist_t *s, size_t size, void **out)
{
    step_mark_t steps0 = steps_now();
    unsigned long os0 = os_calls;
    quiet_begin();
    uint64_t t0 = cycles();
    void *p = malloc(size);
    uint64_t t1 = cycles();
    hist_add(h, t1 - t0, os_calls != os0, quiet_preempted());
    steps_add(s, steps0);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    *out = p;
    return bench_fill(p, size, size);
}

static uint64_t timed_free(hist_t *h, step_hist_t *s, void *p, size_t size)
{
    uint64_t sum = bench_read(p, size);
    step_mark_t steps0 = steps_now();
    unsigned long os0 = os_calls;
    quiet_begin();
    uint64_t t0 = cycles();
    free(p);
    uint64_t t1 = cycles();
    hist_add(h, t1 - t0, os_calls != os0, quiet_preempted());
    steps_add(s, steps0);
    return sum;
}

/* ---- phase 1: one thread -------------------------------------------------------- */

#define LIVE    50000   /* blocks alive during the timed operations */

typedef struct obj_s { void *p; size_t size; } obj_t;

static uint64_t local_phase(size_t ops)
{
    bench_rng_t rng = { 8 };
    obj_t *live = calloc(LIVE, sizeof *live);
    uint64_t sum = 0;
    static hist_t warm;
    if (live == NULL) {
        perror("calloc");
        exit(1);
    }
    /* Warm-up (its cycles not reported; its steps are, every call is bounded):
     * fill the working set once. */
    for (size_t i = 0; i < LIVE; i++) {
        live[i].size = latency_size(&rng);
        sum += timed_malloc(&warm, &s_malloc_local, live[i].size, &live[i].p);
    }
    for (size_t i = 0; i < ops; i++) {
        obj_t *o = &live[bench_rand(&rng) % LIVE];
        sum += timed_free(&h_free_local, &s_free_local, o->p, o->size);
        o->size = latency_size(&rng);
        sum += timed_malloc(&h_malloc_local, &s_malloc_local, o->size, &o->p);
    }
    for (size_t i = 0; i < LIVE; i++)
        sum += bench_read(live[i].p, live[i].size), free(live[i].p);
    free(live);
    return sum;
}

/* ---- phase 2: producer allocates, consumer frees ----------------------------------- */

#define RING    8192u   /* blocks in flight */

static obj_t ring[RING];
static _Atomic size_t ring_head, ring_tail;
static size_t remote_ops;

static void wait_a_little(unsigned *spins)
{
    if (++*spins > 64) {
        sched_yield();
        *spins = 0;
    }
}

static void *producer(void *arg)
{
    uint64_t *sum = arg;
    bench_rng_t rng = { 9 };
    rseq_watch_init();
    for (size_t i = 0; i < remote_ops; i++) {
        obj_t o;
        o.size = latency_size(&rng);
        *sum += timed_malloc(&h_malloc_remote, &s_malloc_remote, o.size, &o.p);
        size_t h = atomic_load_explicit(&ring_head, memory_order_relaxed);
        unsigned spins = 0;
        while (h - atomic_load_explicit(&ring_tail, memory_order_acquire) == RING)
            wait_a_little(&spins);
        ring[h % RING] = o;
        atomic_store_explicit(&ring_head, h + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    uint64_t *sum = arg;
    rseq_watch_init();
    for (size_t i = 0; i < remote_ops; i++) {
        size_t t = atomic_load_explicit(&ring_tail, memory_order_relaxed);
        unsigned spins = 0;
        while (atomic_load_explicit(&ring_head, memory_order_acquire) == t)
            wait_a_little(&spins);
        obj_t o = ring[t % RING];
        atomic_store_explicit(&ring_tail, t + 1, memory_order_release);
        *sum += timed_free(&h_free_remote, &s_free_remote, o.p, o.size);
    }
    return NULL;
}

static uint64_t remote_phase(size_t ops)
{
    uint64_t psum = 0, csum = 0;
    pthread_t p, c;
    remote_ops = ops;
    if (pthread_create(&c, NULL, consumer, &csum) != 0
            || pthread_create(&p, NULL, producer, &psum) != 0) {
        perror("pthread_create");
        exit(1);
    }
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    return psum + csum;
}

/* ---- report ----------------------------------------------------------------------- */

/* Nothing timed, as often as one phase times its calls: the median is the
 * timer's own cost; max* (no OS call, no preemption) is the machine's noise
 * floor, what interrupts, VM exits and the like add to any timed call. */
static hist_t h_nothing;

static void time_nothing(size_t samples)
{
    for (size_t i = 0; i < samples; i++) {
        quiet_begin();
        uint64_t t0 = cycles();
        uint64_t t1 = cycles();
        hist_add(&h_nothing, t1 - t0, 0, quiet_preempted());
    }
}

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    rseq_watch_init();
    printf("preemption_seen: %s\n", rseq_word != NULL ? "rseq" : "no");
    thread_steps = (thread_steps_fn *)dlsym(RTLD_DEFAULT, "sa_thread_steps");
    uint64_t sum = local_phase(bench_scaled(2000000));
    sum += remote_phase(bench_scaled(2000000));

    hist_print("malloc_local", &h_malloc_local);
    hist_print("free_local", &h_free_local);
    hist_print("malloc_remote", &h_malloc_remote);
    hist_print("free_remote", &h_free_remote);
    /* "no" under an allocator without the count: bench/report.py fails the
     * step check closed for shardalloc then, never passes it. */
    printf("steps_counted: %s\n", thread_steps != NULL ? "yes" : "no");
    if (thread_steps != NULL) {
        steps_print("malloc_local", &s_malloc_local);
        steps_print("free_local", &s_free_local);
        steps_print("malloc_remote", &s_malloc_remote);
        steps_print("free_remote", &s_free_remote);
    }

    /* Cycles per step, for scale: the median local malloc (the fast path: a
     * call with no loop step) less the timer's own cost. An operation of B
     * steps would take about (B + 1) of these, one for the call itself; not a
     * check: every max* holds the machine's noise floor (`nothing`'s max*),
     * which on a VM is larger than most bounds in cycles. */
    time_nothing(bench_scaled(2000000));
    hist_print("nothing", &h_nothing);
    uint64_t overhead = hist_pct(&h_nothing, 50);
    uint64_t median = hist_pct(&h_malloc_local, 50);
    uint64_t step_cycles = median > overhead ? median - overhead : 1;
    printf("timer_overhead_cycles: %llu\nstep_cycles: %llu\n",
           (unsigned long long)overhead, (unsigned long long)step_cycles);
    static const struct { const char *op, *env; } ops[] = {
        { "malloc", "MALLOC" }, { "free_local", "FREE_LOCAL" }, { "free_remote", "FREE_REMOTE" },
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        steps_t steps;
        if (!proven_bound(ops[i].env, &steps))
            continue;   /* run by hand, without the proofs' figures: no bound line */
        printf("bound_steps_%s: %llu\nbound_cycles_%s: %llu\n",
               ops[i].op, steps, ops[i].op, (steps + 1) * (unsigned long long)step_cycles);
    }
    bench_finish(sum);
    return 0;
}
