/* tests/interleave/sched.c -- the scheduler (in each run) and the explorer
 * (over the runs) of the model checker (sched.h).
 *
 * A run: the scenario's threads are real pthreads, but only one runs at a
 * time. A thread about to perform an operation of src/atomic_points.h (or to
 * begin a traced page transition) records what it will do and calls
 * decide(), which picks the thread that performs its next step -- from the
 * prefix the explorer handed down, else by a default rule -- wakes it (a
 * semaphore each) and parks the caller. A step is everything a thread does
 * from one point to its next. Every decision is logged, with every live
 * thread's next operation, in a mapping shared with the explorer.
 *
 * The explorer: stateless depth-first search with replay. Each run is a fork
 * of the process that set the scenario up; after a run, every pair of
 * dependent steps of different threads (same address, one writes; lock
 * operations on the same mutex) not ordered by happens-before is a race,
 * whose earlier step's state becomes a place to try the later step's thread
 * first -- dynamic partial-order reduction (Flanagan & Godefroid, POPL 2005;
 * races(), below); sleep sets (Godefroid) keep a thread whose step commutes
 * with what was run instead from being run again in an equivalent order.
 * Neither bounds
 * anything: every Mazurkiewicz trace of the steps is explored once at least,
 * so every reachable outcome of the scenario is checked. The assumption
 * this rests on: the threads meet only through the operations that are
 * points (a data race elsewhere could hide an order; the double-free
 * scenario, a caller's race on the canary, is reached through the points of
 * the two frees, see scenarios.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "driver.h"
#include "sched.h"
#include "internal.h"

/* ---- what a run tells the explorer ------------------------------------------------- */

enum { RUN_DONE = 1, RUN_CHECK_FAILED, RUN_BLOCKED, RUN_BROKEN };

typedef struct mc_log_s {
    uint32_t nsteps;
    uint8_t status;
    char message[4096];
    char outcome[64];
    unsigned nsnaps;
    size_t snap_len[MC_PAGES_MAX];
    mc_step_t steps[MC_STEPS_MAX];
    unsigned char snaps[];      /* nsnaps snapshots of snap_max bytes each */
} mc_log_t;

static mc_log_t *log_;
static size_t snap_max;
static int err_fd = -1;         /* the run's stderr (a memfd) */

/* ---- the run: scheduler state (each run is a fresh fork) ---------------------------- */

static mc_scenario_t *scenario;
struct sa_heap_s *mc_thread_heap[MC_THREADS];
static int active;                      /* scheduling (not setup, not the final check) */
static __thread int self_id = -1;       /* this thread's number in the scenario */
static __thread const void *also_next;  /* _sa_mc_also_writes for the next point */
static mc_op_t pending[MC_THREADS];     /* each thread's next step */
static uint8_t alive;                   /* threads not finished */
static sem_t go[MC_THREADS], parked, finished;
static size_t depth;
/* the explorer's orders for this run */
static uint8_t prefix[MC_STEPS_MAX];
static size_t plen;
static uint8_t sleep_set;               /* at depth plen, then maintained here */
/* mutexes held, as the scheduler sees them (a LOCK step waits for free) */
#define MC_LOCKS 16
static struct { const void *m; int holder; } locks[MC_LOCKS];

#define BIT(t) ((uint8_t)(1u << (t)))

static int lock_holder(const void *m)
{
    for (int i = 0; i < MC_LOCKS; i++)
        if (locks[i].m == m)
            return locks[i].holder;
    return -1;
}

static void lock_set(const void *m, int holder)
{
    int free_slot = -1;
    for (int i = 0; i < MC_LOCKS; i++) {
        if (locks[i].m == m) {
            locks[i].holder = holder;
            return;
        }
        if (locks[i].m == NULL && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0)
        locks[free_slot] = (typeof(locks[0])){ m, holder };
}

/* Ends the run as broken (not a check of the scenario: the run itself). */
static void __attribute__((noreturn)) run_broken(const char *what)
{
    log_->status = RUN_BROKEN;
    log_->nsteps = (uint32_t)depth;
    snprintf(log_->message, sizeof log_->message, "%s", what);
    _exit(3);
}

/* The footprint of a step: (address, writes) pairs. */
static unsigned footprint(const mc_op_t *o, const void *addr[3], bool write[3])
{
    if (o->op == MC_OP_START || o->op == MC_OP_NONE)
        return 0;
    unsigned n = 0;
    addr[n] = o->addr;
    write[n++] = o->op != SA_MC_LOAD;
    if (o->also) {
        addr[n] = o->also;
        write[n++] = true;
    }
    if (o->region) {
        addr[n] = o->region;
        write[n++] = true;
    }
    return n;
}

/* Do the two steps fail to commute? */
static bool dependent(const mc_op_t *a, const mc_op_t *b)
{
    const void *aa[3], *ba[3];
    bool aw[3], bw[3];
    unsigned na = footprint(a, aa, aw), nb = footprint(b, ba, bw);
    for (unsigned i = 0; i < na; i++)
        for (unsigned j = 0; j < nb; j++)
            if (aa[i] == ba[j] && (aw[i] || bw[j]))
                return true;
    return false;
}

static uint8_t enabled_set(void)
{
    uint8_t en = 0;
    for (unsigned t = 0; t < scenario->threads; t++) {
        if (!(alive & BIT(t)))
            continue;
        if (pending[t].op == SA_MC_LOCK && lock_holder(pending[t].addr) >= 0)
            continue;
        en |= BIT(t);
    }
    return en;
}

/* Pick who performs the next step, log it, and hand over. */
static void decide(int self)
{
    if (alive == 0) {
        sem_post(&finished);
        return;
    }
    uint8_t en = enabled_set();
    if (en == 0)
        run_broken("deadlock: every live thread waits for a mutex");
    if (depth >= MC_STEPS_MAX)
        run_broken("a run longer than MC_STEPS_MAX points (a livelock?)");
    mc_step_t *st = &log_->steps[depth];
    st->enabled = en;
    for (unsigned t = 0; t < MC_THREADS; t++)
        st->next[t] = (alive & BIT(t)) ? pending[t] : (mc_op_t){ .op = MC_OP_NONE };
    int c;
    if (depth < plen) {
        c = prefix[depth];
        if (!(en & BIT(c)))
            run_broken("the run left the prefix it replays (the scenario is not deterministic)");
    } else {
        uint8_t cand = en & (uint8_t)~sleep_set;
        if (cand == 0) {    /* every enabled thread sleeps: an order already explored */
            log_->status = RUN_BLOCKED;
            log_->nsteps = (uint32_t)depth;
            _exit(0);
        }
        c = (self >= 0 && (cand & BIT(self))) ? self : __builtin_ctz(cand);
        uint8_t z = 0;
        for (unsigned u = 0; u < MC_THREADS; u++)
            if ((sleep_set & BIT(u)) && !dependent(&pending[u], &pending[c]))
                z |= BIT(u);
        sleep_set = z;
    }
    st->chosen = (uint8_t)c;
    depth++;
    log_->nsteps = (uint32_t)depth;
    const mc_op_t *o = &pending[c];
    if (o->op == SA_MC_LOCK || (o->op == SA_MC_TRYLOCK && lock_holder(o->addr) < 0))
        lock_set(o->addr, c);
    else if (o->op == SA_MC_UNLOCK)
        lock_set(o->addr, -1);
    if (c != self) {
        sem_post(&go[c]);
        if (self >= 0 && (alive & BIT(self)))
            while (sem_wait(&go[self]) != 0 && errno == EINTR)
                ;
    }
}

void _sa_mc_point(sa_mc_op_t op, const volatile void *addr, const char *func, const char *site)
{
    int self = self_id;
    if (!active || self < 0)
        return;
    const void *page = _sa_trace_mc_page();
    pending[self] = (mc_op_t){ .op = (uint8_t)op, .addr = (const void *)addr, .also = also_next,
                               .region = page ? (const char *)page + 1 : NULL,
                               .func = func, .site = site };
    also_next = NULL;
    decide(self);
    _sa_trace_mc_resume();
}

/* Time stands still in a run: the purge clock (src/os.c) is the one input
 * of the allocator that is not a scheduling decision, and a replayed prefix
 * must lead where it led before. (Linked with --wrap=_sa_os_now_ms.) */
uint64_t __wrap__sa_os_now_ms(void);
uint64_t __wrap__sa_os_now_ms(void)
{
    return 1000;
}

bool _sa_mc_scheduling(void)
{
    return active && self_id >= 0;
}

void _sa_mc_also_writes(const volatile void *addr)
{
    if (active && self_id >= 0)
        also_next = (const void *)addr;
}

const char *mc_stderr(void)
{
    static char text[8192];
    ssize_t n = pread(err_fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = 0;
    return text;
}

void mc_outcome(const char *label)
{
    snprintf(log_->outcome, sizeof log_->outcome, "%s", label);
}

static void thread_finish(int self)
{
    alive &= (uint8_t)~BIT(self);
    pending[self] = (mc_op_t){ .op = MC_OP_NONE };
    decide(self);
}

/* A thread of the scenario other than 0: its body, then the thread's exit
 * as the allocator's exit hook runs it (scheduled like the rest). */
static void *thread_main(void *arg)
{
    int self = (int)(intptr_t)arg;
    self_id = self;
    pending[self] = (mc_op_t){ .op = MC_OP_START };
    sem_post(&parked);
    while (sem_wait(&go[self]) != 0 && errno == EINTR)
        ;
    scenario->body[self]();
    mc_thread_heap[self] = _sa_heap_tls;
    /* The thread lives on as far as the allocator knows (a body exits
     * explicitly, through _sa_heap_done, where the scenario says so): its
     * exit hook must not run unscheduled. */
    _sa_thread_register(NULL);
    thread_finish(self);
    return NULL;
}

static void __attribute__((noreturn)) run_child(void)
{
    alarm(MC_RUN_SECONDS);
    dup2(err_fd, STDERR_FILENO);
    unsigned n = scenario->threads;
    for (unsigned t = 0; t < n; t++)
        sem_init(&go[t], 0, 0);
    sem_init(&parked, 0, 0);
    sem_init(&finished, 0, 0);
    alive = (uint8_t)((1u << n) - 1);
    active = 1;
    for (unsigned t = 1; t < n; t++) {
        pthread_t th;
        if (pthread_create(&th, NULL, thread_main, (void *)(intptr_t)t) != 0)
            run_broken("pthread_create failed");
        pthread_detach(th);
        while (sem_wait(&parked) != 0 && errno == EINTR)
            ;
    }
    self_id = 0;
    pending[0] = (mc_op_t){ .op = MC_OP_START };
    decide(0);
    scenario->body[0]();
    mc_thread_heap[0] = _sa_heap_tls;
    thread_finish(0);
    while (sem_wait(&finished) != 0 && errno == EINTR)
        ;
    active = 0;
    self_id = -1;
    const char *why = scenario->check ? scenario->check() : NULL;
    log_->nsnaps = scenario->npages;
    for (unsigned i = 0; i < scenario->npages; i++)
        log_->snap_len[i] = _sa_trace_snapshot(scenario->pages[i], log_->snaps + i * snap_max);
    if (why)
        snprintf(log_->message, sizeof log_->message, "%s", why);
    log_->status = why ? RUN_CHECK_FAILED : RUN_DONE;
    _exit(0);
}

/* ---- the explorer ---------------------------------------------------------------------- */

typedef struct frame_s {
    uint8_t enabled, chosen, backtrack, done, sleep;
    mc_op_t next[MC_THREADS];
} frame_t;

static frame_t frames[MC_STEPS_MAX];

static void print_interleaving(FILE *out, size_t n)
{
    fprintf(out, "    the interleaving (thread: next operation, in the order performed):\n");
    for (size_t d = 0; d < n; d++) {
        const mc_op_t *o = &frames[d].next[frames[d].chosen];
        if (o->op == MC_OP_START) {
            fprintf(out, "    %4zu  T%u  starts\n", d, frames[d].chosen);
            continue;
        }
        fprintf(out, "    %4zu  T%u  %s: %s\n", d, frames[d].chosen, o->func ? o->func : "?",
                o->site ? o->site : "?");
    }
}

/* A set of 128-bit digests of the runs' transition sequences. */
typedef struct digests_s {
    uint64_t (*slot)[2];
    size_t cap, n;
} digests_t;

static void digest(const unsigned char *p, size_t len, uint64_t h[2])
{
    for (size_t i = 0; i < len; i++) {
        h[0] = (h[0] ^ p[i]) * 0x100000001b3ull;
        h[1] = (h[1] ^ p[i]) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
        h[1] ^= h[1] >> 29;
    }
}

/* Adds h; false if it was there. */
static bool digests_add(digests_t *s, const uint64_t h[2])
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        uint64_t (*slot)[2] = calloc(cap, sizeof *slot);
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i][0] | s->slot[i][1])
                for (size_t k = s->slot[i][0] % cap;; k = (k + 1) % cap)
                    if (!(slot[k][0] | slot[k][1])) {
                        memcpy(slot[k], s->slot[i], sizeof slot[k]);
                        break;
                    }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    for (size_t k = h[0] % s->cap;; k = (k + 1) % s->cap) {
        if (!(s->slot[k][0] | s->slot[k][1])) {
            memcpy(s->slot[k], h, sizeof s->slot[k]);
            s->n++;
            return true;
        }
        if (s->slot[k][0] == h[0] && s->slot[k][1] == h[1])
            return false;
    }
}

/* The digest of a run: its records without the fields that name threads
 * or count (seq, thread), and the final states. */
static void run_digest(const unsigned char *trace, size_t len, uint64_t h[2])
{
    h[0] = 0xcbf29ce484222325ull;
    h[1] = 0x84222325cbf29ce4ull;
    for (size_t off = 0; off + sizeof(sa_trace_rec_t) <= len;) {
        sa_trace_rec_t r;
        memcpy(&r, trace + off, sizeof r);
        if (r.size < sizeof r || r.size > len - off)
            break;
        r.seq = 0;
        r.thread = 0;
        digest((const unsigned char *)&r, sizeof r, h);
        digest(trace + off + sizeof r, r.size - sizeof r, h);
        off += r.size;
    }
    for (unsigned i = 0; i < log_->nsnaps; i++)
        digest(log_->snaps + i * snap_max, log_->snap_len[i], h);
    if (!(h[0] | h[1]))
        h[0] = 1;
}

/* Dynamic partial-order reduction on the run's steps 0..n-1: for each step
 * i (thread p), the last earlier step j of another thread that is dependent
 * with it and does not happen before p's previous step is a race: at the
 * state before j, p (or, if p could not run there, every thread that could)
 * is to be tried. Happens-before: program order and dependent steps,
 * transitively (a vector clock per step). */
static uint32_t clocks[MC_STEPS_MAX][MC_THREADS];

static void races(size_t n)
{
    uint32_t last[MC_THREADS];     /* each thread's latest step + 1, 0: none */
    memset(last, 0, sizeof last);
    for (size_t i = 0; i < n; i++) {
        const frame_t *fi = &frames[i];
        unsigned p = fi->chosen;
        const mc_op_t *op = &fi->next[p];
        uint32_t prev[MC_THREADS] = { 0 };
        if (last[p])
            memcpy(prev, clocks[last[p] - 1], sizeof prev);
        memcpy(clocks[i], prev, sizeof prev);
        bool raced = false;
        for (size_t j = i; j-- > 0;) {
            frame_t *fj = &frames[j];
            unsigned q = fj->chosen;
            if (q == p || !dependent(&fj->next[q], op))
                continue;
            for (unsigned t = 0; t < MC_THREADS; t++)
                if (clocks[j][t] > clocks[i][t])
                    clocks[i][t] = clocks[j][t];
            if (!raced && prev[q] < j + 1) {
                fj->backtrack |= (fj->enabled & BIT(p)) ? BIT(p) : fj->enabled;
                raced = true;
            }
        }
        clocks[i][p] = (uint32_t)i + 1;
        last[p] = (uint32_t)i + 1;
    }
}

mc_result_t mc_explore(mc_scenario_t *sc, mc_replay_fn *replay, void *arg, FILE *out)
{
    mc_result_t res = { 0 };
    double t0 = pf_now_seconds();
    scenario = sc;
    snap_max = _sa_trace_snap_max();
    size_t log_bytes = sizeof(mc_log_t) + MC_PAGES_MAX * snap_max;
    log_ = mmap(NULL, log_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    err_fd = memfd_create("interleave-stderr", 0);
    if (log_ == MAP_FAILED || err_fd < 0) {
        fprintf(out, "  %s: cannot map the run log\n", sc->name);
        res.failed = true;
        return res;
    }
    size_t trace_start;
    bool overflowed;
    const unsigned char *trace = _sa_trace_data(&trace_start, &overflowed);
    digests_t seen = { 0 };
    plen = 0;
    sleep_set = 0;
    for (;;) {
        memset(log_, 0, sizeof(mc_log_t));
        if (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) != 0) {
            fprintf(out, "  %s: cannot reset the run's stderr\n", sc->name);
            res.failed = true;
            break;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            run_child();
        int status = 0;
        waitpid(pid, &status, 0);
        size_t n = log_->nsteps;
        /* the frames of this run: the prefix's are the same; new ones after */
        for (size_t d = 0; d < n; d++) {
            const mc_step_t *st = &log_->steps[d];
            frame_t *f = &frames[d];
            if (d < plen) {
                f->chosen = st->chosen;     /* = the prefix's */
                continue;
            }
            f->enabled = st->enabled;
            f->chosen = st->chosen;
            memcpy(f->next, st->next, sizeof f->next);
            f->backtrack = BIT(st->chosen);
            f->done = 0;
            if (d > plen) {
                const frame_t *p = &frames[d - 1];
                uint8_t z = 0;
                for (unsigned u = 0; u < MC_THREADS; u++)
                    if ((p->sleep & BIT(u)) && !dependent(&p->next[u], &p->next[p->chosen]))
                        z |= BIT(u);
                f->sleep = z;
            } else {
                f->sleep = sleep_set;
            }
        }
        if (n > res.steps_max)
            res.steps_max = n;
        bool exited = WIFEXITED(status);
        const char *why = NULL;
        char buf[256];
        if (!exited) {
            snprintf(buf, sizeof buf, "the run was killed by signal %d%s", WTERMSIG(status),
                     WTERMSIG(status) == SIGALRM ? " (it hung)" : "");
            why = buf;
        } else if (log_->status == RUN_BROKEN || log_->status == RUN_CHECK_FAILED) {
            why = log_->message;
        } else if (log_->status == 0) {
            snprintf(buf, sizeof buf, "the run exited (status %d) without a report",
                     WEXITSTATUS(status));
            why = buf;
        }
        if (log_->status == RUN_BLOCKED) {
            res.blocked++;
        } else if (!why) {
            res.runs++;
            if (log_->outcome[0]) {
                unsigned k = 0;
                while (k < res.noutcomes && strcmp(res.outcome[k], log_->outcome) != 0)
                    k++;
                if (k == res.noutcomes && k < 8)
                    snprintf(res.outcome[res.noutcomes++], sizeof res.outcome[0], "%s",
                             log_->outcome);
                if (k < 8)
                    res.outcome_runs[k]++;
            }
            size_t len;
            trace = _sa_trace_data(&len, &overflowed);
            uint64_t h[2];
            run_digest(trace + trace_start, len - trace_start, h);
            if (overflowed) {
                why = "the trace buffer overflowed";
            } else if (digests_add(&seen, h)) {
                res.distinct++;
                double r0 = pf_now_seconds();
                why = replay(sc->spec ? trace + trace_start : NULL, len - trace_start, log_->snaps,
                             log_->snap_len, log_->nsnaps, arg);
                res.replay_seconds += pf_now_seconds() - r0;
            }
        }
        _sa_trace_rewind(trace_start);
        if (why) {
            fprintf(out, "  %s: FAILED after %llu interleavings: %s\n", sc->name,
                    (unsigned long long)res.runs, why);
            const char *err = mc_stderr();
            if (*err)
                fprintf(out, "    the allocator reported: %s", err);
            print_interleaving(out, n);
            res.failed = true;
            break;
        }
        races(n);
        /* backtrack: the deepest state with a thread left to try */
        size_t d = n;
        uint8_t cand = 0;
        while (d-- > 0) {
            frame_t *f = &frames[d];
            f->done |= BIT(f->chosen);
            cand = f->backtrack & f->enabled & (uint8_t)~(f->done | f->sleep);
            if (cand)
                break;
        }
        if (!cand)
            break;
        frame_t *f = &frames[d];
        unsigned t = (unsigned)__builtin_ctz(cand);
        f->chosen = (uint8_t)t;
        uint8_t z = 0;
        for (unsigned u = 0; u < MC_THREADS; u++)
            if (((f->sleep | f->done) & BIT(u)) && !dependent(&f->next[u], &f->next[t]))
                z |= BIT(u);
        for (size_t k = 0; k <= d; k++)
            prefix[k] = frames[k].chosen;
        plen = d + 1;
        sleep_set = z;
    }
    res.seconds = pf_now_seconds() - t0;
    free(seen.slot);
    munmap(log_, log_bytes);
    close(err_fd);
    return res;
}
