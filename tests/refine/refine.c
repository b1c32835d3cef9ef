/* tests/refine/refine.c -- exhaustive small-scope refinement:
 * every page state spec/page.smt2's `inv` allows up to a small size, built as a
 * real sa_page_t over real blocks of a real segment, each C function that
 * changes a page called on it with every argument it can take, and Z3 asked
 * whether the spec's transition relates (before, arguments, after).
 *
 *   build/refine/refine [--spec DIR] [--max-reserved N] [-v]
 *
 * The states: for every reserved R <= N (default 4) and capacity C <= R,
 * every location of each made block (FREE, LOCAL, THREAD, LIVE), every order
 * of the three lists, and every (in_full, notify, owned) the flags part of
 * the invariant and full_no_local allow. Each is asked of Z3 (inv), and their
 * number per R is compared with the number of states Z3 says `inv` and
 * `full_no_local` admit at that R
 * (z3_count: models enumerated with blocking clauses over what a page state
 * is -- capacity, flags, locations, list orders; LIVE has no order in the C
 * -- up to ENUMERATE_MAX, counted per shape above). A state missing from
 * the generator, or one too many, fails the run.
 *
 * The calls, on the tracing build (src/trace.c records each transition's
 * page with its lists walked, as the conformance replay reads them; a probe
 * record before and after each call gives the states around it):
 *   sa_malloc            pops the page (the head of its queue: the fast path)
 *   sa_free              every block, by the owner (its heap's budget of
 *                        frees onto `free` left, or spent: _sa_free_local's
 *                        free_lifo or free_local) and by a non-owner thread
 *                        (page->heap another heap, or none once abandoned),
 *                        with a heap of its own and without: a LIVE block is
 *                        _sa_free_local (+ _sa_page_unfull on a full page) or
 *                        _sa_free_remote, which a thread with a heap defers
 *                        for a block of an owned page (kept in its remote
 *                        cache: no transition until _sa_remote_cache_flush);
 *                        any other block must be reported and leave the page
 *                        as it was
 *   _sa_page_collect, _sa_page_extend, _sa_page_to_full (which refuses
 *   exactly where the spec's guard is false), _sa_page_unfull with popped
 *   false and true, _sa_page_retire (in a child: the page goes back to its
 *   segment), _sa_page_abandon, _sa_page_reclaim, and _sa_page_init for every
 *   bin.
 * Each call's records must chain (nothing changes a page outside a traced
 * transition), be the transitions that function performs, and each must be
 * allowed by the spec with the call's arguments (tests/conformance/replay.c,
 * rp_replay_check). A call the spec's guard forbids is either made and
 * refused (a free of a block that is not LIVE must be reported and change
 * nothing; _sa_page_to_full must decline exactly where to_full's guard is
 * false), or is one the code never makes: its callers test a guard first
 * (sa_malloc pops only a non-empty `free` of the page at the head of its
 * queue, page_find extends only a page with `free` empty and blocks left,
 * only the owner collects or abandons, only abandoned pages are reclaimed,
 * retire runs only where _sa_page_can_retire holds, which is checked to
 * imply the spec's guard on every state); those calls are made exactly
 * where that guard holds.
 *
 * Exit status 0 only if every check holds; the count of (state, call) pairs
 * and the time are printed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <z3.h>
#include "internal.h"
#include "driver.h"
#include "replay.h"

#ifndef RP_SPEC_DIR
#define RP_SPEC_DIR "spec"
#endif

/* The most blocks a generated page may have (the model count unrolls the
 * spec's quantifiers on this many). */
#define MAXB 8

enum { L_FREE, L_LOCAL, L_THREAD, L_LIVE, L_UNMADE };
static const char *const lname[] = { "FREE", "LOCAL", "THREAD", "LIVE", "UNMADE" };

/* An abstract page state: what the spec's Page holds, bar the LIVE order. */
typedef struct state_s {
    int R, C;
    uint8_t loc[MAXB];
    int n[3];                   /* lengths of free, local_free, thread_free */
    int list[3][MAXB];          /* their blocks, heads first */
    bool in_full, owned;
    int notify;
} state_t;

/* ---- the run's options and tallies ----------------------------------------------- */

static const char *spec_dir = RP_SPEC_DIR;
static int max_r = 4;
static bool verbose;
static rp_replay_t *replay;
static unsigned long pairs, refusals, guards, failures;
static unsigned long per_call[32];
static const char *call_names[32];
static int ncalls;

static void failf(const state_t *s, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CPU seconds (the -v profile: wall time on a shared machine says little). */
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static double t_check[SA_T__COUNT], t_inv, t_count_cpu;
static unsigned long n_check[SA_T__COUNT];
/* rp_replay_check, timed per transition. */
static const char *check_step(rp_replay_t *r, sa_transition_t t, const unsigned char *b, size_t bl,
                              const unsigned char *a, size_t al, const rp_replay_args_t *args)
{
    double t0 = cpu();
    const char *why = rp_replay_check(r, t, b, bl, a, al, args);
    t_check[t] += cpu() - t0;
    n_check[t]++;
    return why;
}

/* ---- the pages under test ------------------------------------------------------------ */

static sa_heap_t *owner;            /* this thread's heap: owns the pages */
static sa_heap_t other;             /* a heap of another thread (never runs) */

typedef struct page_under_test_s {
    sa_page_t *page;
    size_t bs;
    bool all_calls;                 /* every call, or only those block size changes */
} put_t;

static sa_block_t *block_at(const sa_page_t *p, int b)
{
    return (sa_block_t *)(p->start + (size_t)b * p->block_size);
}

static bool in_queue(const sa_page_queue_t *q, const sa_page_t *page)
{
    for (const sa_page_t *x = q->first; x != NULL; x = x->next)
        if (x == page)
            return true;
    return false;
}

/* Take the page off whichever queue of the owner holds it. */
static void detach(sa_page_t *page)
{
    if (in_queue(&owner->full, page))
        _sa_page_queue_remove(owner, &owner->full, page);
    if (in_queue(&owner->queues[page->bin], page))
        _sa_page_queue_remove(owner, &owner->queues[page->bin], page);
    page->next = page->prev = NULL;
}

/* Make the real page be state s: lists linked through the real blocks (each
 * listed block carries its canary, a LIVE one does not, as page_pop leaves
 * it), the counters, the thread_free word, the owner and its queues. */
/* used as spec/page.smt2 has it in state s: |LIVE| + |THREAD| (used_live_thread). */
static uint32_t state_used(const state_t *s)
{
    uint32_t used = 0;
    for (int b = 0; b < s->C; b++)
        used += s->loc[b] == L_LIVE || s->loc[b] == L_THREAD;
    return used;
}

static void place(sa_page_t *page, const state_t *s)
{
    detach(page);
    page->reserved = (uint32_t)s->R;
    page->capacity = (uint32_t)s->C;
    /* free's block test reads capacity as the made key (kept with it: the
     * debug build asserts it at a local free) */
    page->made_key = _sa_block_made_key(page->capacity, page->block_size, page->magic);
    page->used = state_used(s);
    for (int b = 0; b < s->C; b++) {
        sa_block_t *x = block_at(page, b);
        x->next = (sa_block_t *)(uintptr_t)0xdeadbeefUL;
        x->canary = 0;
    }
    sa_block_t *heads[3] = { NULL, NULL, NULL };
    for (int l = 0; l < 3; l++) {
        for (int k = s->n[l] - 1; k >= 0; k--) {
            sa_block_t *x = block_at(page, s->list[l][k]);
            x->next = heads[l];
            x->canary = _sa_block_canary(x);
            heads[l] = x;
        }
    }
    page->free = heads[L_FREE];
    page->local_free = heads[L_LOCAL];
    page->local_tail = s->n[L_LOCAL] ? block_at(page, s->list[L_LOCAL][s->n[L_LOCAL] - 1]) : NULL;
    page->local_empty = s->n[L_LOCAL] ? 0 : SA_LOCAL_EMPTY;
    atomic_store(&page->thread_free, (uintptr_t)heads[L_THREAD] | (uintptr_t)s->notify |
                                     ((uintptr_t)s->n[L_THREAD] << SA_THREAD_FREE_COUNT_SHIFT));
    page->in_full = s->in_full;
    page->retire_at = 0;
    page->in_use = 1;
    page->remote_next = NULL;
    atomic_store(&page->heap, s->owned ? owner : NULL);
    if (s->owned)
        _sa_page_queue_push_front(owner, s->in_full ? &owner->full : &owner->queues[page->bin], page);
}

/* ---- a call's records ---------------------------------------------------------------- */

#define MAXREC 8
typedef struct rec_s {
    sa_transition_t t;
    const unsigned char *before, *after;
    size_t before_len, after_len;
} rec_t;
typedef struct run_s {
    rec_t rec[MAXREC];
    int n;
    bool cut;
} run_t;

static size_t snap_len(const unsigned char *p)
{
    sa_trace_snap_t h;
    memcpy(&h, p, sizeof h);
    return sizeof h + (size_t)(h.n[0] + h.n[1] + h.n[2] + h.n[3]) * sizeof(uint32_t);
}

/* A record of the page as it is, changing nothing (the snapshot of the
 * tracing build, which walks the real lists). */
static void probe(const sa_page_t *page)
{
    _sa_trace_before(SA_T_TO_FULL, page);
    _sa_trace_after(SA_T_TO_FULL, page);
}

static void run_begin(const sa_page_t *page)
{
    _sa_trace_clear();
    probe(page);
}

static void run_read(run_t *r)
{
    size_t len;
    bool overflowed;
    const unsigned char *data = _sa_trace_data(&len, &overflowed);
    r->n = 0;
    r->cut = overflowed;
    for (size_t off = 0; off < len && r->n < MAXREC;) {
        sa_trace_rec_t h;
        memcpy(&h, data + off, sizeof h);
        rec_t *x = &r->rec[r->n++];
        x->t = (sa_transition_t)h.transition;
        x->before = data + off + sizeof h;
        x->before_len = snap_len(x->before);
        x->after = x->before + x->before_len;
        x->after_len = snap_len(x->after);
        off += h.size;
        if (off < len && r->n == MAXREC)
            r->cut = true;
    }
}

static void run_end(const sa_page_t *page, run_t *r)
{
    probe(page);
    run_read(r);
}

static bool same(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

/* ---- reports ----------------------------------------------------------------------- */

static void show_state(pf_buf_t *out, const state_t *s)
{
    pf_buf_addf(out, "    state: reserved=%d capacity=%d in_full=%d notify=%d owned=%d", s->R, s->C,
                s->in_full, s->notify, s->owned);
    static const char *const ln[3] = { "free", "local_free", "thread_free" };
    for (int l = 0; l < 3; l++) {
        pf_buf_addf(out, " %s[", ln[l]);
        for (int k = 0; k < s->n[l]; k++)
            pf_buf_addf(out, "%s%d", k ? " " : "", s->list[l][k]);
        pf_buf_add(out, "]");
    }
    pf_buf_add(out, " live{");
    for (int b = 0, first = 1; b < s->C; b++)
        if (s->loc[b] == L_LIVE) {
            pf_buf_addf(out, "%s%d", first ? "" : " ", b);
            first = 0;
        }
    pf_buf_add(out, "}\n");
}

/* Up to this reserved, Z3's models of inv are enumerated one by one
 * (measured: 2-4 ms a model on this machine, 714 at reserved 3); above,
 * counted per shape (z3_count). */
#define ENUMERATE_MAX 2

/* After this many failures the run stops: a planted bug shows in its first. */
#define FAIL_MAX 10

static void failf(const state_t *s, const char *call, const char *fmt, ...)
{
    if (failures++ >= FAIL_MAX)
        return;
    pf_buf_t out = { 0 };
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    pf_buf_addf(&out, "refine: %s: %s\n", call, why);
    if (s)
        show_state(&out, s);
    fputs(out.s, stdout);
    pf_buf_free(&out);
}

static void count_call(const char *call)
{
    pairs++;
    for (int i = 0; i < ncalls; i++)
        if (strcmp(call_names[i], call) == 0) {
            per_call[i]++;
            return;
        }
    if (ncalls < 32) {
        call_names[ncalls] = call;
        per_call[ncalls++] = 1;
    }
}

/* ---- the checks of one call ------------------------------------------------------------ */

/* What a call may record: the transitions it performs, in order; `optional`
 * marks where the list may stop (e.g. free_local with or without unfull). */
typedef struct expect_s {
    sa_transition_t t[3];
    int n;          /* transitions it must record at least */
    int max;        /* and at most */
} expect_t;

/* The records of a call between its two probes: chained, the expected
 * transitions, each allowed by the spec with `args`. Returns the number of
 * transitions (or -1 after a failure). */
static int check_run(const state_t *s, const char *call, const run_t *r, const expect_t *e,
                     const rp_replay_args_t *args, bool last_probe)
{
    if (r->cut || r->n < (last_probe ? 2 : 1)) {
        failf(s, call, "the trace of the call is incomplete (%d records)", r->n);
        return -1;
    }
    int first = 1, end = last_probe ? r->n - 1 : r->n, steps = end - first;
    const rec_t *p0 = &r->rec[0];
    if (!same(p0->before, p0->before_len, p0->after, p0->after_len)) {
        failf(s, call, "the probe changed the page");
        return -1;
    }
    if (steps < e->n || steps > e->max) {
        failf(s, call, "recorded %d transitions, expected %d to %d", steps, e->n, e->max);
        return -1;
    }
    const unsigned char *prev = p0->after;
    size_t prev_len = p0->after_len;
    for (int i = first; i < end; i++) {
        const rec_t *x = &r->rec[i];
        if (x->t != e->t[i - first]) {
            failf(s, call, "recorded %s where %s was expected", rp_replay_name(x->t),
                  rp_replay_name(e->t[i - first]));
            return -1;
        }
        if (!same(prev, prev_len, x->before, x->before_len)) {
            pf_buf_t out = { 0 };
            rp_replay_show(&out, "last", prev, prev_len);
            rp_replay_show(&out, "next", x->before, x->before_len);
            failf(s, call, "the page changed outside a traced transition before %s\n%s",
                  rp_replay_name(x->t), out.s);
            pf_buf_free(&out);
            return -1;
        }
        prev = x->after;
        prev_len = x->after_len;
    }
    if (last_probe) {
        const rec_t *pz = &r->rec[r->n - 1];
        if (!same(prev, prev_len, pz->before, pz->before_len)) {
            pf_buf_t out = { 0 };
            rp_replay_show(&out, "last", prev, prev_len);
            rp_replay_show(&out, "now ", pz->before, pz->before_len);
            failf(s, call, "the page changed outside a traced transition\n%s", out.s);
            pf_buf_free(&out);
            return -1;
        }
    }
    /* collect: the take and the finish, with nothing between, are one collect */
    if (steps == 2 && e->t[0] == SA_T_COLLECT_TAKE) {
        const char *why = check_step(replay, SA_T_COLLECT, r->rec[1].before, r->rec[1].before_len,
                                          r->rec[2].after, r->rec[2].after_len, args);
        if (why) {
            pf_buf_t out = { 0 };
            rp_replay_show(&out, "before", r->rec[1].before, r->rec[1].before_len);
            rp_replay_show(&out, "after ", r->rec[2].after, r->rec[2].after_len);
            failf(s, call, "collect: %s\n%s", why, out.s);
            pf_buf_free(&out);
            return -1;
        }
        return steps;
    }
    for (int i = first; i < end; i++) {
        const rec_t *x = &r->rec[i];
        rp_replay_args_t a = *args;
        if (x->t == SA_T_UNFULL && e->t[0] == SA_T_FREE_LOCAL)
            a.popped = false;   /* free_local_slow's unfull: it did not pop the page */
        const char *why = check_step(replay, x->t, x->before, x->before_len, x->after,
                                          x->after_len, &a);
        if (why) {
            pf_buf_t out = { 0 };
            rp_replay_show(&out, "before", x->before, x->before_len);
            rp_replay_show(&out, "after ", x->after, x->after_len);
            failf(s, call, "%s (b=%lld popped=%d): %s\n%s", rp_replay_name(x->t), (long long)a.b,
                  a.popped, why, out.s);
            pf_buf_free(&out);
            return -1;
        }
    }
    return steps;
}

/* A call the spec forbids that the code made anyway and refused: nothing
 * recorded, the page as it was, and the spec's guard false indeed. */
static void check_refused(const state_t *s, const char *call, const run_t *r, sa_transition_t t,
                          const rp_replay_args_t *args)
{
    refusals++;
    if (r->cut || r->n != 2 || !same(r->rec[0].after, r->rec[0].after_len, r->rec[1].before,
                                     r->rec[1].before_len)) {
        failf(s, call, "refused (or should have), but the page changed (%d records)", r->n);
        return;
    }
    int g = rp_replay_guard(replay, t, r->rec[0].before, r->rec[0].before_len, args);
    if (g != 0)
        failf(s, call, "the code refused %s where the spec allows it (guard %d)", rp_replay_name(t), g);
}

/* ---- errors the code reports -------------------------------------------------------- */

static int reports;
static void on_error(sa_error_kind_t kind, const char *call, const void *p, void *arg)
{
    (void)kind;
    (void)call;
    (void)p;
    (void)arg;
    reports++;
}

/* ---- the calls ------------------------------------------------------------------------ */

static void call_pop(put_t *u, const state_t *s)
{
    sa_page_t *page = u->page;
    /* the fast path pops the head of its queue: an owned page, not full */
    if (!s->owned || s->in_full || s->n[L_FREE] == 0)
        return;
    count_call("sa_malloc (page_pop)");
    place(page, s);
    if (owner->page_direct[page->bin] != page) {
        failf(s, "sa_malloc", "the page is not the fast path's");
        return;
    }
    run_t r;
    run_begin(page);
    void *p = sa_malloc(u->bs);
    run_end(page, &r);
    int b = p ? (int)(((uint8_t *)p - page->start) / u->bs) : -1;
    if (p != block_at(page, s->list[L_FREE][0]))
        failf(s, "sa_malloc", "returned %p, not the head of free (block %d)", p, s->list[L_FREE][0]);
    expect_t e = { { SA_T_ALLOC_POP }, 1, 1 };
    rp_replay_args_t a = { .b = b };
    if (check_run(s, "sa_malloc", &r, &e, &a, true) < 0 || p == NULL)
        return;
    /* the block handed out is LIVE: its owner's free takes it back, unreported
     * (the canary, which the walk does not see, is what free goes by) */
    int before = reports;
    sa_free(p);
    if (reports != before)
        failf(s, "sa_malloc", "free refuses the block it handed out (%d reports)", reports - before);
}

/* sa_free(block b) by the owner (remote = false), whose heap has its whole
 * budget of frees onto `free` left (budget = true: a LIVE block of a page
 * that is not full, with local_free non-empty and another block in use, goes
 * onto `free`, free_lifo) or none (budget = false: free_local), or by
 * another thread: one
 * without a heap of its own (keep = false), or one with a heap (keep = true),
 * which keeps a LIVE block of an owned page in its remote cache -- no
 * transition: the block stays LIVE -- and pushes it (free_remote) when it
 * gives the cache back (_sa_remote_cache_flush, at its exit or sa_collect);
 * except every SA_REMOTE_CACHE_HOME_EVERY-th such free, which pushes it at
 * once (free.c remote_cache_sends_home: predicted from the heap's count). */
static void call_free(put_t *u, const state_t *s, int b, bool remote, bool keep, bool budget)
{
    sa_page_t *page = u->page;
    const char *call = !remote ? (budget ? "sa_free (owner)" : "sa_free (owner, budget spent)")
                       : keep  ? "sa_free (non-owner with a heap)" : "sa_free (non-owner without a heap)";
    count_call(call);
    place(page, s);
    if (remote && s->owned)
        atomic_store(&page->heap, &other);  /* owned by another thread's heap */
    run_t r;
    int before = reports;
    sa_heap_t *self = _sa_heap_tls;
    bool may_keep = remote && keep && s->owned;
    bool sends_home = ((self->rcache_keeps + 1) & (SA_REMOTE_CACHE_HOME_EVERY - 1)) == 0;
    if (remote && !keep)
        _sa_heap_tls = SA_HEAP_EMPTY;       /* a thread that never allocated */
    bool lifo = !remote && budget && !s->in_full && s->n[L_LOCAL] > 0 && state_used(s) >= 2;
    owner->lifo_left = budget ? SA_LIFO_FREES_MAX : 0;
    run_begin(page);
    sa_free(block_at(page, b));
    run_end(page, &r);
    _sa_heap_tls = self;
    rp_replay_args_t a = { .b = b };
    if (b < s->C && s->loc[b] == L_LIVE) {
        if (reports != before)
            failf(s, call, "a free of LIVE block %d was reported", b);
        bool kept = may_keep && !sends_home;
        expect_t e = kept         ? (expect_t){ { SA_T_FREE_REMOTE }, 0, 0 }
                     : remote     ? (expect_t){ { SA_T_FREE_REMOTE }, 1, 1 }
                     : lifo       ? (expect_t){ { SA_T_FREE_LIFO }, 1, 1 }
                     : s->in_full ? (expect_t){ { SA_T_UNFULL, SA_T_FREE_LOCAL }, 2, 2 }
                                  : (expect_t){ { SA_T_FREE_LOCAL }, 1, 1 };
        check_run(s, call, &r, &e, &a, true);
        if (lifo && owner->lifo_left != SA_LIFO_FREES_MAX - 1)
            failf(s, call, "a free onto `free` left the heap's budget at %lld, not %d",
                  (long long)owner->lifo_left, SA_LIFO_FREES_MAX - 1);
        if (kept) {
            if (self->rcache[page->bin].free != block_at(page, b))
                failf(s, call, "LIVE block %d of an owned page was not kept", b);
            run_begin(page);
            _sa_remote_cache_flush(self);
            run_end(page, &r);
            expect_t f = { { SA_T_FREE_REMOTE }, 1, 1 };
            check_run(s, "_sa_remote_cache_flush", &r, &f, &a, true);
        }
    } else {
        /* not LIVE: a double free or a pointer not handed out */
        if (reports != before + 1)
            failf(s, call, "a free of %s block %d was not reported once (%d reports)",
                  lname[b < s->C ? s->loc[b] : L_UNMADE], b, reports - before);
        check_refused(s, call, &r, remote ? SA_T_FREE_REMOTE : SA_T_FREE_LOCAL, &a);
    }
    other.remote_pages = NULL;
}

/* A collect (`fn`, named `name`) on the page placed in state s, traced
 * into r; false, nothing run, if the state has no owner (only the owner
 * collects). */
static bool run_collect(put_t *u, const state_t *s, const char *name, void (*fn)(sa_page_t *),
                        run_t *r)
{
    if (!s->owned)
        return false;
    count_call(name);
    place(u->page, s);
    run_begin(u->page);
    SA_REFILL_SCOPE_BEGIN();    /* called as the generic path calls it */
    fn(u->page);
    SA_REFILL_SCOPE_END();
    run_end(u->page, r);
    return true;
}

static void call_collect(put_t *u, const state_t *s)
{
    run_t r;
    if (!run_collect(u, s, "_sa_page_collect", _sa_page_collect, &r))
        return;
    rp_replay_args_t a = { .b = -1 };
    if (r.n == 2 && s->n[L_LOCAL] == 0 && s->n[L_THREAD] == 0) {
        /* nothing to take: no step; the spec's collect changes nothing here */
        const char *why = check_step(replay, SA_T_COLLECT, r.rec[0].before, r.rec[0].before_len,
                                          r.rec[1].before, r.rec[1].before_len, &a);
        if (why)
            failf(s, "_sa_page_collect", "did nothing: %s", why);
        return;
    }
    expect_t e = { { SA_T_COLLECT_TAKE, SA_T_COLLECT_FINISH }, 2, 2 };
    check_run(s, "_sa_page_collect", &r, &e, &a, true);
}

static void call_extend(put_t *u, const state_t *s)
{
    /* its callers' guard (and its assert): owner, free empty, blocks left */
    if (!s->owned || s->n[L_FREE] != 0 || s->C >= s->R)
        return;
    count_call("_sa_page_extend");
    place(u->page, s);
    run_t r;
    run_begin(u->page);
    SA_REFILL_SCOPE_BEGIN();
    _sa_page_extend(u->page);
    SA_REFILL_SCOPE_END();
    run_end(u->page, &r);
    expect_t e = { { SA_T_EXTEND }, 1, 1 };
    rp_replay_args_t a = { .b = -1 };
    check_run(s, "_sa_page_extend", &r, &e, &a, true);
}

static void call_to_full(put_t *u, const state_t *s)
{
    /* its callers' guard (and its assert): an owned page in its size class's
     * queue, free empty, every block made; the rest it checks itself */
    if (!s->owned || s->in_full || s->n[L_FREE] != 0 || s->C != s->R)
        return;
    count_call("_sa_page_to_full");
    place(u->page, s);
    run_t r;
    run_begin(u->page);
    bool moved = _sa_page_to_full(owner, u->page);
    run_end(u->page, &r);
    rp_replay_args_t a = { .b = -1 };
    if (!moved) {
        check_refused(s, "_sa_page_to_full", &r, SA_T_TO_FULL, &a);
        return;
    }
    expect_t e = { { SA_T_TO_FULL }, 1, 1 };
    check_run(s, "_sa_page_to_full", &r, &e, &a, true);
    if (!in_queue(&owner->full, u->page))
        failf(s, "_sa_page_to_full", "the page is not in the full queue");
}

static void call_unfull(put_t *u, const state_t *s, bool popped)
{
    /* popped = false: free_local_slow's call, on an owned full page;
     * popped = true: _sa_heap_take_remote_pages', on an owned page */
    if (!s->owned || (!popped && !s->in_full))
        return;
    const char *call = popped ? "_sa_page_unfull (popped)" : "_sa_page_unfull (not popped)";
    count_call(call);
    place(u->page, s);
    run_t r;
    run_begin(u->page);
    _sa_page_unfull(owner, u->page, popped);
    run_end(u->page, &r);
    expect_t e = { { SA_T_UNFULL }, 1, 1 };
    rp_replay_args_t a = { .b = -1, .popped = popped };
    check_run(s, call, &r, &e, &a, true);
    if (in_queue(&owner->full, u->page) || !in_queue(&owner->queues[u->page->bin], u->page))
        failf(s, call, "the page is not back in its size class's queue");
}

static void call_retire(put_t *u, const state_t *s)
{
    sa_page_t *page = u->page;
    if (!s->owned)
        return;
    place(page, s);
    bool can = _sa_page_can_retire(page);
    /* the code's guard: where it holds, the spec's must */
    guards++;
    run_t r;
    run_begin(page);
    run_end(page, &r);
    rp_replay_args_t a = { .b = -1 };
    int g = rp_replay_guard(replay, SA_T_RETIRE, r.rec[0].before, r.rec[0].before_len, &a);
    if (can && g != 1)
        failf(s, "_sa_page_can_retire", "true where the spec's retire guard is not (%d)", g);
    if (!can)
        return;
    count_call("_sa_page_retire");
    /* in a child: the page goes back to its segment (and may take it along) */
    _sa_trace_clear();
    probe(page);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        _sa_page_retire(owner, page);
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failf(s, "_sa_page_retire", "the child did not exit 0 (status %#x)", status);
        return;
    }
    run_read(&r);
    /* its record's after-state is the page as it leaves the heap (then its
     * segment resets it: no probe after) */
    expect_t e = { { SA_T_RETIRE }, 1, 1 };
    check_run(s, "_sa_page_retire", &r, &e, &a, false);
}

static void call_abandon(put_t *u, const state_t *s)
{
    if (!s->owned)
        return;
    count_call("_sa_page_abandon");
    place(u->page, s);
    /* its caller abandons whole segments: the heap's queues go with them */
    detach(u->page);
    run_t r;
    run_begin(u->page);
    _sa_page_abandon(u->page);
    run_end(u->page, &r);
    expect_t e = { { SA_T_ABANDON }, 1, 1 };
    rp_replay_args_t a = { .b = -1 };
    check_run(s, "_sa_page_abandon", &r, &e, &a, true);
}

static void call_reclaim(put_t *u, const state_t *s)
{
    if (s->owned)
        return;     /* only abandoned pages are adopted */
    count_call("_sa_page_reclaim");
    place(u->page, s);
    run_t r;
    run_begin(u->page);
    _sa_page_reclaim(owner, u->page);
    run_end(u->page, &r);
    expect_t e = { { SA_T_RECLAIM }, 1, 1 };
    rp_replay_args_t a = { .b = -1 };
    check_run(s, "_sa_page_reclaim", &r, &e, &a, true);
    bool full = in_queue(&owner->full, u->page);
    if (full != (u->page->in_full != 0) || (!full && !in_queue(&owner->queues[u->page->bin], u->page)))
        failf(s, "_sa_page_reclaim", "the page is not in the queue its in_full says");
}

/* Every call on one state of one page. */
static void check_state(put_t *u, const state_t *s)
{
    call_extend(u, s);
    if (!u->all_calls)
        return;
    call_pop(u, s);
    for (int b = 0; b < s->R; b++) {
        if (s->owned) {
            call_free(u, s, b, false, false, true);
            call_free(u, s, b, false, false, false);
        }
        call_free(u, s, b, true, false, false);
        call_free(u, s, b, true, true, false);
    }
    call_collect(u, s);
    call_to_full(u, s);
    call_unfull(u, s, false);
    call_unfull(u, s, true);
    call_retire(u, s);
    call_abandon(u, s);
    call_reclaim(u, s);
}

/* ---- the states ------------------------------------------------------------------------- */

/* The snapshot the tracing build takes of a page in state s (to compare
 * with what the probe walks: the page really is the state). */
static size_t expected_snap(const state_t *s, const sa_page_t *page, unsigned char *out)
{
    sa_trace_snap_t h;
    memset(&h, 0, sizeof h);
    h.reserved = (uint32_t)s->R;
    h.capacity = (uint32_t)s->C;
    h.used = state_used(s);
    h.block_size = page->block_size;
    h.area = (uint32_t)_sa_page_block_area(_sa_segment_of_ptr(page), page);
    h.in_full = s->in_full;
    h.notify = (uint8_t)s->notify;
    h.owned = s->owned;
    uint32_t *idx = (uint32_t *)(out + sizeof h);
    size_t k = 0;
    for (int l = 0; l < 3; l++) {
        h.n[l] = (uint32_t)s->n[l];
        for (int i = 0; i < s->n[l]; i++)
            idx[k++] = (uint32_t)s->list[l][i];
    }
    memcpy(out, &h, sizeof h);
    return sizeof h + k * sizeof(uint32_t);
}

static put_t *puts_;
static size_t nputs;
static unsigned long states[MAXB + 1];

/* One generated state: built on every page under test and checked. */
static void visit(state_t *s)
{
    states[s->R]++;
    if (failures >= FAIL_MAX)
        return;
    for (size_t i = 0; i < nputs; i++) {
        put_t *u = &puts_[i];
        /* the other block sizes are there for extend: its callers' guard */
        if (!u->all_calls && (!s->owned || s->n[L_FREE] != 0 || s->C >= s->R))
            continue;
        place(u->page, s);
        unsigned char want[512];
        size_t want_len = expected_snap(s, u->page, want);
        run_t r;
        run_begin(u->page);
        run_read(&r);
        if (r.n != 1 || !same(r.rec[0].before, r.rec[0].before_len, want, want_len)) {
            failf(s, "place", "the real page does not walk as the state (block size %zu)", u->bs);
            continue;
        }
        double ti = cpu();
        bool inv_ok = i != 0 || rp_replay_inv(replay, r.rec[0].before, r.rec[0].before_len) == NULL;
        t_inv += cpu() - ti;
        if (!inv_ok)
            failf(s, "generator", "the state does not satisfy spec/page.smt2's inv");
        check_state(u, s);
    }
}

/* Every order of the lists, then every flag combination inv_flags allows. */
static void orders(state_t *s, int l, const int *members, int nm, bool *used_, int depth)
{
    if (l == 3) {
        for (int f = 0; f < 2; f++)
            for (int nt = 0; nt < 3; nt++)
                for (int o = 0; o < 2; o++) {
                    s->in_full = f, s->notify = nt, s->owned = o;
                    if (s->in_full && s->notify == SA_NOTIFY_NONE)
                        continue;
                    if (s->notify == SA_NOTIFY_WATCH && !(s->in_full && s->n[L_THREAD] == 0))
                        continue;
                    if (!s->owned && s->in_full)
                        continue;
                    /* spec/page.smt2 full_no_local, proven inductive apart
                     * from inv (obligation full_no_local): no other state is
                     * reachable */
                    if ((s->in_full || !s->owned) && s->n[L_LOCAL] != 0)
                        continue;
                    visit(s);
                }
        return;
    }
    if (depth == s->n[l]) {
        /* next list: its members are the blocks located there */
        int next[MAXB], nn = 0;
        bool u2[MAXB] = { false };
        if (l + 1 < 3)
            for (int b = 0; b < s->C; b++)
                if (s->loc[b] == l + 1)
                    next[nn++] = b;
        orders(s, l + 1, next, nn, u2, 0);
        return;
    }
    for (int k = 0; k < nm; k++) {
        if (used_[k])
            continue;
        used_[k] = true;
        s->list[l][depth] = members[k];
        orders(s, l, members, nm, used_, depth + 1);
        used_[k] = false;
    }
}

static void locations(state_t *s, int b)
{
    if (b == s->C) {
        for (int l = 0; l < 3; l++)
            s->n[l] = 0;
        int first[MAXB], nf = 0;
        for (int x = 0; x < s->C; x++) {
            if (s->loc[x] < 3)
                s->n[s->loc[x]]++;
            if (s->loc[x] == L_FREE)
                first[nf++] = x;
        }
        for (int x = s->C; x < s->R; x++)
            s->loc[x] = L_UNMADE;
        bool used_[MAXB] = { false };
        orders(s, 0, first, nf, used_, 0);
        return;
    }
    for (int l = L_FREE; l <= L_LIVE; l++) {
        s->loc[b] = (uint8_t)l;
        locations(s, b + 1);
    }
}

/* ---- what Z3 says inv admits --------------------------------------------------------- */

/* The term of `text` in a parsed `(assert (= text text))` (see z3_count). */
static Z3_ast term_of(Z3_context c, Z3_ast_vector v, unsigned i)
{
    return Z3_get_app_arg(c, Z3_to_app(c, Z3_ast_vector_get(c, v, i)), 0);
}

/* The number of page states with `reserved` = R that satisfy inv, from Z3.
 * What a state is: its capacity, flags, the location of each block and the
 * order of each list (LIVE's order is the model's bookkeeping; the C has
 * none). For every shape (capacity, flags, list lengths: every combination,
 * whether inv allows it or not) Z3 says whether inv allows it (the model
 * unrolled on [0, max_r): quantifier-free, so its answers are exact). With
 * `enumerate`, the states of each allowed shape are then enumerated one
 * model at a time, each excluded by a clause over the locations and list
 * slots; without, they are counted: inv makes each list's sequence a
 * bijection with the blocks there, so a shape of capacity C and list lengths
 * f, l, t has C! / (C - f - l - t)! states (distinct blocks for the list
 * slots in order, the rest LIVE). The run enumerates at small sizes, which
 * checks that count, and counts above. */
static unsigned long z3_count(int R, bool enumerate)
{
    pf_buf_t text = { 0 }, err = { 0 };
    if (!pf_model_text(spec_dir, "page", max_r > 0 ? max_r : 1, &text, &err)) {
        fprintf(stdout, "refine: %s\n", err.s);
        exit(2);
    }
    /* the terms, in this order, after (inv s), (full_no_local s) and (= (reserved s) R) */
    enum { T_CAP, T_FULL, T_NOTIFY, T_OWNED, T_NF, T_NL, T_NT, T_LOC, T_AT = T_LOC + MAXB };
    pf_buf_addf(&text, "(declare-const s Page)\n(assert (and (inv s) (full_no_local s)))\n(assert (= (reserved s) %d))\n"
                       "(assert (= (block_size s) 16))\n", R);
    static const char *const scalars[] = { "(capacity s)", "(in_full s)", "(notify s)", "(owned s)",
                                           "(n s FREE)", "(n s LOCAL)", "(n s THREAD)" };
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++)
        pf_buf_addf(&text, "(assert (= %s %s))\n", scalars[i], scalars[i]);
    for (int b = 0; b < MAXB; b++)
        pf_buf_addf(&text, "(assert (= (loc_of s %d) (loc_of s %d)))\n", b, b);
    static const char *const lists[3] = { "FREE", "LOCAL", "THREAD" };
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < MAXB; i++)
            pf_buf_addf(&text, "(assert (= (at s %s %d) (at s %s %d)))\n", lists[l], i, lists[l], i);
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    Z3_context c = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_ast_vector v = Z3_parse_smtlib2_string(c, text.s, 0, NULL, NULL, 0, NULL, NULL);
    if (Z3_get_error_code(c) != Z3_OK) {
        fprintf(stdout, "refine: the model did not parse\n");
        exit(2);
    }
    Z3_ast_vector_inc_ref(c, v);
    unsigned base = 3;      /* inv and full_no_local, reserved, block_size */
    Z3_ast term[T_AT + 3 * MAXB];
    for (unsigned i = 0; i < T_AT + 3 * MAXB; i++)
        term[i] = term_of(c, v, base + i);
    Z3_solver solver = Z3_mk_solver(c);
    Z3_solver_inc_ref(c, solver);
    for (unsigned i = 0; i < base; i++)
        Z3_solver_assert(c, solver, Z3_ast_vector_get(c, v, i));
    Z3_sort notify_sort = Z3_get_sort(c, term[T_NOTIFY]);
    Z3_sort int_sort = Z3_mk_int_sort(c);
    unsigned long models = 0;
    for (int C = 0; C <= R; C++)
        for (int nf = 0; nf <= C; nf++)
            for (int nl = 0; nf + nl <= C; nl++)
                for (int nt = 0; nf + nl + nt <= C; nt++)
                    for (int shape = 0; shape < 12; shape++) {
                        Z3_solver_push(c, solver);
                        Z3_ast eq[7] = {
                            Z3_mk_eq(c, term[T_CAP], Z3_mk_int(c, C, int_sort)),
                            Z3_mk_eq(c, term[T_FULL], shape & 1 ? Z3_mk_true(c) : Z3_mk_false(c)),
                            Z3_mk_eq(c, term[T_NOTIFY],
                                     Z3_mk_app(c, Z3_get_datatype_sort_constructor(c, notify_sort,
                                                                                   (unsigned)(shape >> 2)), 0, NULL)),
                            Z3_mk_eq(c, term[T_OWNED], shape & 2 ? Z3_mk_true(c) : Z3_mk_false(c)),
                            Z3_mk_eq(c, term[T_NF], Z3_mk_int(c, nf, int_sort)),
                            Z3_mk_eq(c, term[T_NL], Z3_mk_int(c, nl, int_sort)),
                            Z3_mk_eq(c, term[T_NT], Z3_mk_int(c, nt, int_sort)),
                        };
                        for (int i = 0; i < 7; i++)
                            Z3_solver_assert(c, solver, eq[i]);
                        /* what tells two states of this shape apart */
                        Z3_ast key[MAXB + 3 * MAXB];
                        int nkey = 0;
                        for (int b = 0; b < R; b++)
                            key[nkey++] = term[T_LOC + b];
                        const int len[3] = { nf, nl, nt };
                        for (int l = 0; l < 3; l++)
                            for (int i = 0; i < len[l]; i++)
                                key[nkey++] = term[T_AT + l * MAXB + i];
                        Z3_lbool a;
                        if (!enumerate) {
                            a = Z3_solver_check(c, solver);
                            if (a == Z3_L_TRUE) {
                                unsigned long ways = 1;
                                for (int k = C - nf - nl - nt + 1; k <= C; k++)
                                    ways *= (unsigned long)k;
                                models += ways;
                            }
                            Z3_solver_pop(c, solver, 1);
                            if (a == Z3_L_UNDEF) {
                                fprintf(stdout, "refine: z3 answered unknown while counting models\n");
                                exit(2);
                            }
                            continue;
                        }
                        while ((a = Z3_solver_check(c, solver)) == Z3_L_TRUE) {
                            models++;
                            Z3_model m = Z3_solver_get_model(c, solver);
                            Z3_model_inc_ref(c, m);
                            Z3_ast same_key[MAXB + 3 * MAXB + 1];
                            for (int k = 0; k < nkey; k++) {
                                Z3_ast val;
                                if (!Z3_model_eval(c, m, key[k], true, &val)) {
                                    fprintf(stdout, "refine: z3 could not evaluate a model\n");
                                    exit(2);
                                }
                                same_key[k] = Z3_mk_eq(c, key[k], val);
                            }
                            same_key[nkey] = Z3_mk_true(c);
                            Z3_solver_assert(c, solver, Z3_mk_not(c, Z3_mk_and(c, (unsigned)nkey + 1, same_key)));
                            Z3_model_dec_ref(c, m);
                        }
                        if (a != Z3_L_FALSE) {
                            fprintf(stdout, "refine: z3 answered unknown while counting models\n");
                            exit(2);
                        }
                        Z3_solver_pop(c, solver, 1);
                    }
    Z3_solver_dec_ref(c, solver);
    Z3_ast_vector_dec_ref(c, v);
    Z3_del_context(c);
    pf_buf_free(&text);
    pf_buf_free(&err);
    return models;
}

/* ---- page_init, for every bin ----------------------------------------------------------- */

static void check_init(void)
{
    /* a page of each kind, taken out of the heap's queues first */
    sa_page_t *pages[SA_PAGE_KIND_COUNT] = { NULL };
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        sa_page_kind_t kind = _sa_page_kind_of_bin(bin);
        if (pages[kind] == NULL) {
            void *p = sa_malloc(_sa_bin_size(bin));
            if (p == NULL) {
                failf(NULL, "_sa_page_init", "no memory for a page of kind %d", kind);
                return;
            }
            pages[kind] = _sa_page_of(_sa_segment_of_ptr(p), p);
            detach(pages[kind]);
        }
        sa_page_t *page = pages[kind];
        count_call("_sa_page_init");
        run_t r;
        _sa_trace_clear();
        _sa_page_init(owner, page, bin);
        probe(page);
        run_read(&r);
        size_t area = _sa_page_block_area(_sa_segment_of_ptr(page), page);
        rp_replay_args_t a = { .b = -1, .bsize = (int64_t)_sa_bin_size(bin), .area = (int64_t)area };
        expect_t e = { { SA_T_PAGE_INIT }, 1, 1 };
        /* no probe before: page_init's spec has no state before */
        if (r.n != 2 || r.rec[0].t != SA_T_PAGE_INIT ||
            !same(r.rec[0].after, r.rec[0].after_len, r.rec[1].before, r.rec[1].before_len)) {
            failf(NULL, "_sa_page_init", "bin %zu: records do not chain (%d)", bin, r.n);
            continue;
        }
        (void)e;
        const char *why = check_step(replay, SA_T_PAGE_INIT, r.rec[0].before, r.rec[0].before_len,
                                          r.rec[0].after, r.rec[0].after_len, &a);
        if (why)
            failf(NULL, "_sa_page_init", "bin %zu (block size %zu): %s", bin, _sa_bin_size(bin), why);
        page->next = page->prev = NULL;     /* not in any queue */
        atomic_store(&page->heap, owner);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

/* The pages: every call on a page of 16-byte blocks (an extend makes what is
 * left); extend also on block sizes where it makes 2 and 1 blocks of what is
 * left, and where SA_MAX_EXTEND_SIZE holds no whole block (at least one). */
static const size_t extend_counts[] = { 2, 1, 0 };

static size_t bs_for_extend(size_t k)
{
    /* the first bin whose block size gives SA_MAX_EXTEND_SIZE / bs == k */
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t bs = _sa_bin_size(bin);
        if (SA_MAX_EXTEND_SIZE / bs == k && _sa_page_kind_of_bin(bin) == SA_PAGE_SMALL)
            return bs;
    }
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t bs = _sa_bin_size(bin);
        if (SA_MAX_EXTEND_SIZE / bs == k)
            return bs;
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
            spec_dir = argv[++i];
        else if (strcmp(argv[i], "--max-reserved") == 0 && i + 1 < argc)
            max_r = atoi(argv[++i]);
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else {
            fprintf(stderr, "usage: refine [--spec DIR] [--max-reserved N] [-v]\n");
            return 2;
        }
    }
    if (max_r < 0 || max_r > MAXB) {
        fprintf(stderr, "refine: --max-reserved must be 0..%d\n", MAXB);
        return 2;
    }
    double t0 = pf_now_seconds();
    replay = rp_replay_new_unrolled(spec_dir, max_r > 0 ? max_r : 1);
    if (!replay)
        return 2;
    owner = _sa_heap_get_or_init();
    sa_register_error(on_error, NULL);
    /* reports are counted; their text would only fill the log */
    FILE *quiet = freopen("/dev/null", "w", stderr);
    (void)quiet;

    /* page_init first: its pages are taken out of the heap's queues, and
     * the pages under test below are then the heads of theirs */
    check_init();

    size_t sizes[1 + sizeof extend_counts / sizeof *extend_counts];
    size_t nsizes = 0;
    sizes[nsizes++] = SA_MIN_ALIGN;
    for (size_t i = 0; i < sizeof extend_counts / sizeof *extend_counts; i++)
        if ((sizes[nsizes] = bs_for_extend(extend_counts[i])) != 0)
            nsizes++;
    put_t pages[8];
    for (size_t i = 0; i < nsizes; i++) {
        void *p = sa_malloc(sizes[i]);
        if (p == NULL) {
            printf("refine: no memory\n");
            return 2;
        }
        pages[i].page = _sa_page_of(_sa_segment_of_ptr(p), p);
        pages[i].bs = pages[i].page->block_size;
        pages[i].all_calls = i == 0;
        if (pages[i].page->reserved < (uint32_t)max_r) {
            printf("refine: the page of %zu-byte blocks holds fewer than %d blocks\n", pages[i].bs, max_r);
            return 2;
        }
    }
    puts_ = pages;
    nputs = nsizes;
    /* a second page in use keeps each segment in use when retire (in its
     * child) gives one page back */
    (void)sa_malloc(SA_SMALL_OBJ_SIZE_MAX);

    state_t s;
    memset(&s, 0, sizeof s);
    for (s.R = 0; s.R <= max_r; s.R++)
        for (s.C = 0; s.C <= s.R; s.C++)
            locations(&s, 0);
    double t_states = pf_now_seconds();

    /* the generated states against what Z3 says inv admits */
    unsigned long total = 0;
    double t_count0 = pf_now_seconds();
    for (int R = 0; R <= max_r && failures < FAIL_MAX; R++) {
        double tc = cpu();
        /* enumerated where it is cheap (it also checks the counting), counted above */
        unsigned long z = z3_count(R, R <= ENUMERATE_MAX);
        t_count_cpu += cpu() - tc;
        total += states[R];
        if (z != states[R])
            failf(NULL, "generator", "reserved %d: %lu states generated, inv admits %lu", R, states[R], z);
        else if (verbose)
            printf("  reserved %d: %lu states (= the models of inv, %s by Z3, %.2fs)\n", R, states[R],
                   R <= ENUMERATE_MAX ? "enumerated" : "counted per shape", cpu() - tc);
    }
    double t_count = pf_now_seconds() - t_count0;
    double secs = pf_now_seconds() - t0;

    printf("refine: %lu states (reserved <= %d, = the models of inv: %.1fs), block sizes", total, max_r, t_count);
    for (size_t i = 0; i < nsizes; i++)
        printf(" %zu", pages[i].bs);
    printf("\n");
    for (int i = 0; i < ncalls; i++)
        printf("  %-30s %8lu\n", call_names[i], per_call[i]);
    if (failures >= FAIL_MAX)
        printf("refine: stopped after %d failures\n", FAIL_MAX);
    printf("refine: %lu (state, call) pairs checked (%lu refusals of forbidden calls, %lu guards), "
           "%lu failures, %.1fs (states and calls %.1fs)\n",
           pairs, refusals, guards, failures, secs, t_states - t0);
    if (verbose) {
        printf("cpu: total %.1fs, inv %.1fs, count %.1fs, solver %lu\n", cpu(), t_inv, t_count_cpu, (unsigned long)rp_replay_solved(replay));
        for (int t = 0; t < SA_T__COUNT; t++)
            if (n_check[t])
                printf("cpu: %-16s %6lu checks %.2fs\n", rp_replay_name(t), n_check[t], t_check[t]);
    }
    rp_replay_free(replay);
    return failures ? 1 : 0;
}
