/* src/trace.c -- the tracing build's hooks (-DSA_TRACE, `make trace`): every
 * page transition is recorded with the page's abstract state before and after,
 * read off the real linked lists, and every malloc/free operation's steps are
 * counted. tests/conformance replays the records through spec/page.smt2.
 *
 * One global lock is held from SA_TRACE_BEFORE to SA_TRACE_AFTER, so a
 * snapshot never sees a half-done move and remote frees of other threads are
 * serialised with the owner's transitions: the records are in one global
 * order, a linearization the replay checks step by step.
 *
 * Nothing here calls malloc (we are inside it): the record buffer is one
 * mmap'd region, reserved up front and touched as it fills. Its size is
 * SHARDALLOC_TRACE_MB megabytes (default below); when it is full recording
 * stops and the reader is told (a replay of a truncated trace fails). The
 * mapping is shared and its fill level lives in it, so a parent that touched
 * it (_sa_trace_data) before fork() reads what a child recorded, even one that
 * crashed: records are complete once their AFTER returned.
 *
 * The model-checking build (-DSA_MODEL_CHECK, tests/interleave) runs one
 * thread at a time and switches only at the points of atomic_points.h, some
 * of which lie inside a traced transition (free_remote's CAS loop). There is
 * no lock then (the scheduler serialises), each thread builds its record
 * aside, and a record stands for the transition's linearization point, its
 * last atomic step: the state before is taken again each time its thread
 * resumes at a point inside it, so it is the state just before that step.
 * Only the thread_free word (list, count, notify) changes under a thread
 * parked in a transition; what its owner changed before the linearization
 * point (unfull leaves the full queue before its CAS) is not visible to any
 * other thread. So a snapshot shows every other field as of the page's last
 * recorded transition (`committed`), and only the thread_free word live;
 * only the state after an owner's transition (not a remote free) is read
 * off the page whole. (At most one thread at a time is inside a transition
 * other than free_remote on a page: its owner, or for an abandoned page the
 * holder of the abandon lock.)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#ifndef SA_TRACE
#error "src/trace.c is only built with -DSA_TRACE"
#endif

/* Virtual size of the record buffer when SHARDALLOC_TRACE_MB is not set:
 * reserved without commit, so only what is written costs memory. */
#define TRACE_DEFAULT_MB    4096
/* Nesting of operations per thread (the deferred-free hook may free inside
 * a generic malloc): deeper ones are not counted. */
#define TRACE_MAX_DEPTH     8

/* Room a record may need: header and two snapshots of at most one index per
 * block (a walk stops at the first block met twice, so capacity + 1). */
#define TRACE_SNAP_MAX  (sizeof(sa_trace_snap_t) + (SA_MAX_BLOCKS_PER_PAGE + 1) * sizeof(uint32_t))
#define TRACE_REC_MAX   (sizeof(sa_trace_rec_t) + 2 * TRACE_SNAP_MAX)

/* The head of the shared mapping; records follow at TRACE_DATA. */
typedef struct trace_head_s {
    size_t len;                     /* bytes of finished records */
    bool full;                      /* a record did not fit: the trace is cut */
    uint64_t seq;                   /* records so far */
    /* operations, most and total steps per kind (sa_trace_stats_t) */
    _Atomic uint64_t ops[SA_OP__COUNT], max[SA_OP__COUNT], total[SA_OP__COUNT];
    _Atomic uint64_t retries[SA_OP__COUNT], bounded[SA_OP__COUNT];
    /* most steps (less CAS retries) one generic malloc spent per phase, most
     * iterations one run of a loop took (sa_trace_stats_t) */
    _Atomic uint64_t phase_max[SA_PHASE__COUNT], loop_max[SA_LOOP__COUNT];
} trace_head_t;
#define TRACE_DATA      SA_OS_PAGE_SIZE

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
#ifdef SA_MODEL_CHECK
#define transition_lock()   ((void)0)     /* the scheduler serialises */
#define transition_unlock() ((void)0)
#else
#define transition_lock()   pthread_mutex_lock(&trace_lock)
#define transition_unlock() pthread_mutex_unlock(&trace_lock)
#endif
static unsigned char *map;          /* the mapping, NULL until first use */
static trace_head_t *head;
static unsigned char *buf;          /* map + TRACE_DATA */
static size_t buf_cap;              /* bytes for records */
#define buf_len   (head->len)
#define buf_full  (head->full)
#define rec_seq   (head->seq)
/* The record in progress (between BEFORE and AFTER), at buf + buf_len (the
 * model-checking build: in rec_aside, one per thread, appended at AFTER). */
static __thread const sa_page_t *cur_page;
static __thread sa_transition_t cur_t;
static __thread size_t cur_len;
static __thread bool cur_skip;      /* no room: BEFORE/AFTER still pair up */

/* Collects between their take and their finish: the list each took, shown
 * as TAKEN in snapshots of its page. One per thread at most. Under trace_lock. */
#define TRACE_INFLIGHT 256
static struct { const sa_page_t *page; const sa_block_t *taken; } inflight[TRACE_INFLIGHT];

/* The entry of page (NULL: a free entry), or -1. */
static int inflight_find(const sa_page_t *page)
{
    for (int i = 0; i < TRACE_INFLIGHT; i++)
        if (inflight[i].page == page)
            return i;
    return -1;
}

/* Blocks seen by the snapshot being taken (a block met twice is a cycle or
 * a block on two lists); cleared after each snapshot. Under trace_lock. */
static uint64_t seen[SA_MAX_BLOCKS_PER_PAGE / 64];

static _Atomic unsigned thread_count;

static __thread bool holding;       /* this thread is between BEFORE and AFTER */
static __thread unsigned thread_no;
static __thread int depth;
static __thread uint8_t op_stack[TRACE_MAX_DEPTH];
static __thread uint64_t step_stack[TRACE_MAX_DEPTH];
static __thread uint64_t retry_stack[TRACE_MAX_DEPTH];
/* The open operation's phase and its steps per phase (less retries). */
static __thread uint8_t phase_stack[TRACE_MAX_DEPTH];
static __thread uint64_t phase_steps[TRACE_MAX_DEPTH][SA_PHASE__COUNT];
/* Iterations of the current run of each loop, and the most of any run in
 * the open operation, per nesting level. */
static __thread uint64_t loop_runs[TRACE_MAX_DEPTH][SA_LOOP__COUNT];
static __thread uint64_t loop_best[TRACE_MAX_DEPTH][SA_LOOP__COUNT];

/* Also the tracing build's refill check (page.c _sa_refill_outside_scope). */
void _sa_trace_die(const char *what)
{
    _sa_write_stderr("shardalloc: trace: ", 19);
    _sa_write_stderr(what, strlen(what));
    _sa_write_stderr("\n", 1);
    abort();
}

static size_t buffer_bytes(void)
{
    const char *s = getenv("SHARDALLOC_TRACE_MB");
    size_t mb = TRACE_DEFAULT_MB;
    if (s != NULL && *s) {
        mb = 0;
        for (; *s >= '0' && *s <= '9'; s++)
            mb = mb * 10 + (size_t)(*s - '0');
    }
    return mb << 20;
}

/* Map the buffer on first use. Under trace_lock. */
static bool buffer_ready(void)
{
    if (map != NULL)
        return true;
    size_t cap = buffer_bytes();
    if (cap < TRACE_REC_MAX)
        cap = TRACE_REC_MAX;
    void *p = mmap(NULL, TRACE_DATA + cap, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    map = p;
    head = p;
    buf = map + TRACE_DATA;
    buf_cap = cap;
    return true;
}

#ifdef SA_MODEL_CHECK
static __thread unsigned char rec_aside[TRACE_REC_MAX];
#define rec_at()    rec_aside
/* Each page's state after its last recorded transition (see the top). */
#define MC_PAGES 64
static struct {
    const sa_page_t *page;
    size_t bytes;
    unsigned char snap[TRACE_SNAP_MAX];
} committed[MC_PAGES];
#else
#define rec_at()    (buf + buf_len)
#endif

/* ---- snapshots: the abstract state read off the real lists ------------------ */

/* Walk one list from its head, appending block indices at idx; stop at the
 * first link that is not a made block of this page, not at a block start, or
 * already seen. Returns the number of blocks appended. */
static uint32_t walk(const sa_page_t *page, const sa_block_t *b, uint32_t *idx, uint32_t room,
                     uint8_t *bad)
{
    uintptr_t start = (uintptr_t)page->start;
    uintptr_t made = (uintptr_t)__atomic_load_n(&page->capacity, __ATOMIC_RELAXED) * page->block_size;
    uint32_t n = 0;
    for (; b != NULL; b = b->next) {
        uintptr_t off = (uintptr_t)b - start;
        if (page->block_size == 0 || (uintptr_t)b < start || off >= made) {
            *bad |= SA_TRACE_BAD_OUTSIDE;
            break;
        }
        /* a real division, not the code's multiply-and-shift under test */
        if (off % page->block_size != 0) {
            *bad |= SA_TRACE_BAD_BOUNDARY;
            break;
        }
        uint32_t i = (uint32_t)(off / page->block_size);
        if (i >= SA_MAX_BLOCKS_PER_PAGE || (seen[i / 64] >> (i % 64)) & 1) {
            *bad |= SA_TRACE_BAD_TWICE;
            break;
        }
        if (n == room) {
            *bad |= SA_TRACE_BAD_LONG;
            break;
        }
        seen[i / 64] |= (uint64_t)1 << (i % 64);
        idx[n++] = i;
    }
    return n;
}

/* Write the page's state at out, read off the page now; returns the bytes
 * written. */
static size_t snapshot_live(const sa_page_t *page, unsigned char *out)
{
    sa_trace_snap_t s;
    memset(&s, 0, sizeof s);
    s.reserved = page->reserved;
    s.capacity = __atomic_load_n(&page->capacity, __ATOMIC_RELAXED);
    s.used = page->used;
    s.block_size = page->block_size;
    sa_segment_t *seg = _sa_segment_of_ptr(page);
    s.area = (uint32_t)_sa_page_block_area(seg, page);
    s.in_full = page->in_full;
    uintptr_t tf = atomic_load_explicit(&((sa_page_t *)page)->thread_free, memory_order_acquire);
    s.notify = (uint8_t)(tf & SA_NOTIFY_MASK);
    s.owned = atomic_load_explicit(&((sa_page_t *)page)->heap, memory_order_relaxed) != NULL;
    uint32_t *idx = (uint32_t *)(out + sizeof s);
    /* a block appears at most once over the three lists: capacity in all */
    uint32_t room = s.capacity <= SA_MAX_BLOCKS_PER_PAGE ? s.capacity : SA_MAX_BLOCKS_PER_PAGE;
    uint32_t total = 0;
    int fl = inflight_find(page);
    const sa_block_t *heads[4] = { page->free, page->local_free,
                                   _sa_tf_block(tf),
                                   fl >= 0 ? inflight[fl].taken : NULL };
    for (int l = 0; l < 4; l++) {
        s.n[l] = walk(page, heads[l], idx + total, room - total, &s.bad);
        total += s.n[l];
    }
    for (uint32_t k = 0; k < total; k++)
        seen[idx[k] / 64] = 0;
    memcpy(out, &s, sizeof s);
    return sizeof s + (size_t)total * sizeof(uint32_t);
}

#ifdef SA_MODEL_CHECK
static int committed_find(const sa_page_t *page)
{
    for (int i = 0; i < MC_PAGES; i++)
        if (committed[i].page == page)
            return i;
    return -1;
}

/* After a transition: the page's state from now on, for other snapshots. */
static void commit(const sa_page_t *page, const unsigned char *snap, size_t bytes)
{
    int i = committed_find(page);
    if (i < 0 && (i = committed_find(NULL)) < 0)
        _sa_trace_die("more pages than MC_PAGES in one model-checking run");
    committed[i].page = page;
    committed[i].bytes = bytes;
    memcpy(committed[i].snap, snap, bytes);
}

/* The page's committed state with its thread_free word read live. */
static size_t snapshot(const sa_page_t *page, unsigned char *out)
{
    int c = committed_find(page);
    if (c < 0) {
        size_t bytes = snapshot_live(page, out);
        commit(page, out, bytes);   /* first sight: nothing is half done */
        return bytes;
    }
    sa_trace_snap_t s;
    memcpy(&s, committed[c].snap, sizeof s);
    const uint32_t *cidx = (const uint32_t *)(committed[c].snap + sizeof s);
    /* committed lists: free, local_free | thread_free | taken */
    uint32_t owned = s.n[0] + s.n[1], old_tf = s.n[2], taken = s.n[3];
    const uint32_t *ctaken = cidx + owned + old_tf;
    uint32_t *idx = (uint32_t *)(out + sizeof s);
    memcpy(idx, cidx, owned * sizeof(uint32_t));
    for (uint32_t k = 0; k < owned; k++)
        seen[cidx[k] / 64] |= (uint64_t)1 << (cidx[k] % 64);
    for (uint32_t k = 0; k < taken; k++)
        seen[ctaken[k] / 64] |= (uint64_t)1 << (ctaken[k] % 64);
    uintptr_t tf = atomic_load_explicit(&((sa_page_t *)page)->thread_free, memory_order_acquire);
    s.notify = (uint8_t)(tf & SA_NOTIFY_MASK);
    uint32_t room = s.capacity <= SA_MAX_BLOCKS_PER_PAGE ? s.capacity : SA_MAX_BLOCKS_PER_PAGE;
    room = room > owned + taken ? room - owned - taken : 0;
    s.n[2] = walk(page, _sa_tf_block(tf), idx + owned, room, &s.bad);
    memcpy(idx + owned + s.n[2], ctaken, taken * sizeof(uint32_t));
    uint32_t total = owned + s.n[2] + taken;
    for (uint32_t k = 0; k < total; k++)
        seen[idx[k] / 64] = 0;
    memcpy(out, &s, sizeof s);
    return sizeof s + (size_t)total * sizeof(uint32_t);
}
#define mc_commit(page, snap, bytes)  commit((page), (snap), (bytes))

/* The transitions that linearize at an atomic operation inside them (a
 * point of atomic_points.h between BEFORE and AFTER). The others are one
 * step of the scheduler's, which begins at a point here: a step that reads
 * and writes the page's state (named by the address past the page's first
 * byte). Inside the former, every point is such a step too (the one that
 * ends the transition records it), and their beginning is not one: what
 * the owner does before the linearization point is seen by nobody. */
static const bool linearizes_inside[SA_T__COUNT] = {
    [SA_T_PAGE_INIT] = true, [SA_T_FREE_REMOTE] = true, [SA_T_COLLECT_TAKE] = true,
    [SA_T_TO_FULL] = true, [SA_T_UNFULL] = true, [SA_T_ABANDON] = true, [SA_T_RECLAIM] = true,
};
static __thread bool resumed_inside;    /* a point came between BEFORE and now */

static void mc_begin(sa_transition_t t, const sa_page_t *page)
{
    if (!linearizes_inside[t])
        SA_MC_POINT(SA_MC_STORE, (const char *)page + 1, "begin transition");
    resumed_inside = false;
}

/* At AFTER: a transition said to linearize inside must have had its point. */
static void mc_end(sa_transition_t t)
{
    if (linearizes_inside[t] && !resumed_inside && _sa_mc_scheduling())
        _sa_trace_die("a transition listed in linearizes_inside ended without a point inside it");
}

/* The state after a transition: read off the page, but for a remote free,
 * which changes only the thread_free word and may end while the owner is
 * inside a transition of its own (whose changes are not done). */
static size_t snapshot_after(sa_transition_t t, const sa_page_t *page, unsigned char *out)
{
    return t == SA_T_FREE_REMOTE ? snapshot(page, out) : snapshot_live(page, out);
}

/* The model checker resumes this thread at a point: if it is inside a
 * transition, the state before is taken again (see the top). */
void _sa_trace_mc_resume(void)
{
    resumed_inside |= holding;
    if (holding && !cur_skip)
        cur_len = sizeof(sa_trace_rec_t) + snapshot(cur_page, rec_at() + sizeof(sa_trace_rec_t));
}

/* The page whose transition the calling thread is inside, or NULL. */
const void *_sa_trace_mc_page(void)
{
    return holding ? cur_page : NULL;
}
#else
#define snapshot snapshot_live
#define snapshot_after(t, page, out)  snapshot_live((page), (out))
#define mc_begin(t, page)   ((void)0)
#define mc_end(t)           ((void)0)
#define mc_commit(page, snap, bytes)  ((void)0)
#endif

/* The page's state now, as a snapshot records it (tests; no transition may
 * be in progress on it). Returns the bytes written at out (at most
 * sa_trace_snap_max()). */
size_t _sa_trace_snapshot(const struct sa_page_s *page, unsigned char *out)
{
    return snapshot_live(page, out);
}

size_t _sa_trace_snap_max(void)
{
    return TRACE_SNAP_MAX;
}

/* ---- the hooks ------------------------------------------------------------------ */

/* The record in progress is complete (cur_len bytes at rec_at()): it joins
 * the buffer, numbered in the order of the transitions' ends. */
static void record_append(void)
{
    uint32_t size = (uint32_t)cur_len;
    uint64_t seq = rec_seq;
    memcpy(rec_at() + offsetof(sa_trace_rec_t, size), &size, sizeof size);
    memcpy(rec_at() + offsetof(sa_trace_rec_t, seq), &seq, sizeof seq);
#ifdef SA_MODEL_CHECK
    if (buf_full || buf_cap - buf_len < cur_len) {
        buf_full = true;
        return;
    }
    memcpy(buf + buf_len, rec_aside, cur_len);
#endif
    buf_len += cur_len;
    rec_seq++;
}

void _sa_trace_before(sa_transition_t t, const struct sa_page_s *page)
{
    if (holding)
        _sa_trace_die("SA_TRACE_BEFORE inside a traced transition (hooks must not nest)");
    mc_begin(t, page);
    transition_lock();
    holding = true;
    if (thread_no == 0)
        thread_no = atomic_fetch_add_explicit(&thread_count, 1, memory_order_relaxed) + 1;
    cur_page = page;
    cur_t = t;
    if (!buffer_ready())
        _sa_trace_die("cannot map the trace buffer");
    cur_skip = buf_full || buf_cap - buf_len < TRACE_REC_MAX;
    if (cur_skip) {
        buf_full = true;
        return;
    }
    sa_trace_rec_t r = { .transition = (uint16_t)t, .thread = (uint16_t)thread_no,
                         .seq = rec_seq, .page = (uintptr_t)page };
    memcpy(rec_at(), &r, sizeof r);
    cur_len = sizeof r + snapshot(page, rec_at() + sizeof r);
}

void _sa_trace_after(sa_transition_t t, const struct sa_page_s *page)
{
    if (!holding || page != cur_page || t != cur_t)
        _sa_trace_die("SA_TRACE_AFTER without its SA_TRACE_BEFORE (same transition, same page)");
    mc_end(t);
    if (t == SA_T_COLLECT_FINISH) {
        /* Only the second half of a collect: a collect_finish with no
         * collect_take before it (local_free spliced alone, as the remote
         * cache's dry path once did) refills `free` where no proof says
         * it may (spec/bounds.smt2 cadence). */
        int fl = inflight_find(page);
        if (fl < 0)
            _sa_trace_die("collect_finish without its collect_take");
        inflight[fl].page = NULL;   /* the taken blocks are on free now */
        inflight[fl].taken = NULL;
    }
    if (!cur_skip) {
        size_t after = snapshot_after(t, page, rec_at() + cur_len);
        mc_commit(page, rec_at() + cur_len, after);
        cur_len += after;
        record_append();
    }
    cur_page = NULL;
    holding = false;
    transition_unlock();
}

/* The exchange of _sa_page_collect took `list`: the collect_take step ends
 * here with those blocks TAKEN; remote frees may come before collect_finish. */
void _sa_trace_taken(const struct sa_page_s *page, const void *list)
{
    if (!holding || page != cur_page || cur_t != SA_T_COLLECT_TAKE)
        _sa_trace_die("SA_TRACE_TAKEN outside a collect_take step");
    int fl = inflight_find(NULL);
    if (fl < 0 || inflight_find(page) >= 0)
        _sa_trace_die("too many collects in flight, or two on one page");
    inflight[fl].page = page;
    inflight[fl].taken = list;
    _sa_trace_after(SA_T_COLLECT_TAKE, page);
}

/* ---- step counters ------------------------------------------------------------- */

static void raise_max(_Atomic uint64_t *m, uint64_t v)
{
    uint64_t max = atomic_load_explicit(m, memory_order_relaxed);
    while (v > max && !atomic_compare_exchange_weak_explicit(m, &max, v, memory_order_relaxed,
                                                              memory_order_relaxed))
        ;
}

void _sa_trace_op_begin(sa_op_t op)
{
    if (depth < TRACE_MAX_DEPTH) {
        op_stack[depth] = (uint8_t)op;
        step_stack[depth] = 0;
        retry_stack[depth] = 0;
        phase_stack[depth] = SA_PHASE_HEARTBEAT;
        memset(phase_steps[depth], 0, sizeof phase_steps[depth]);
        memset(loop_runs[depth], 0, sizeof loop_runs[depth]);
        memset(loop_best[depth], 0, sizeof loop_best[depth]);
    }
    depth++;
}

void _sa_trace_op_end(sa_op_t op)
{
    if (depth == 0)
        _sa_trace_die("SA_TRACE_OP_END without SA_TRACE_OP_BEGIN");
    depth--;
    if (depth >= TRACE_MAX_DEPTH)
        return;
    if (op_stack[depth] != op)
        _sa_trace_die("SA_TRACE_OP_END of another operation than the open one");
    uint64_t steps = step_stack[depth];
    if (map == NULL) {
        pthread_mutex_lock(&trace_lock);
        if (!buffer_ready())
            _sa_trace_die("cannot map the trace buffer");
        pthread_mutex_unlock(&trace_lock);
    }
    atomic_fetch_add_explicit(&head->ops[op], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&head->total[op], steps, memory_order_relaxed);
    uint64_t retries = retry_stack[depth];
    raise_max(&head->max[op], steps);
    raise_max(&head->retries[op], retries);
    raise_max(&head->bounded[op], steps - retries);
    if (op == SA_OP_MALLOC_GENERIC)
        for (int p = 0; p < SA_PHASE__COUNT; p++)
            raise_max(&head->phase_max[p], phase_steps[depth][p]);
    for (int l = 0; l < SA_LOOP__COUNT; l++)
        raise_max(&head->loop_max[l], loop_best[depth][l]);
}

void _sa_trace_phase(sa_phase_t phase)
{
    if (depth > 0 && depth <= TRACE_MAX_DEPTH)
        phase_stack[depth - 1] = (uint8_t)phase;
}

void _sa_trace_loop(sa_loop_t loop)
{
    if (depth > 0 && depth <= TRACE_MAX_DEPTH)
        loop_runs[depth - 1][loop] = 0;
}

/* A step outside any operation (sa_collect, thread exit) is not bounded by
 * the proofs and not counted; inside, it belongs to the innermost one (the
 * hook's own frees are operations of their own: the hook call is 1 step). */
void _sa_trace_step(sa_loop_t loop)
{
    if (depth == 0 || depth > TRACE_MAX_DEPTH)
        return;
    int d = depth - 1;
    step_stack[d]++;
    phase_steps[d][phase_stack[d]]++;
    uint64_t n = ++loop_runs[d][loop];
    if (n > loop_best[d][loop] && loop != SA_LOOP_CAS && loop != SA_LOOP_NONE)
        loop_best[d][loop] = n;
}

/* A retried CAS: its step is paid by the k of the bound, not by a phase. */
void _sa_trace_retry(void)
{
    if (depth > 0 && depth <= TRACE_MAX_DEPTH) {
        int d = depth - 1;
        retry_stack[d]++;
        phase_steps[d][phase_stack[d]]--;
    }
}

/* ---- reading ------------------------------------------------------------------- */

const unsigned char *_sa_trace_data(size_t *len, bool *overflowed)
{
    pthread_mutex_lock(&trace_lock);
    if (!buffer_ready())
        _sa_trace_die("cannot map the trace buffer");
    *len = buf_len;
    *overflowed = buf_full;
    pthread_mutex_unlock(&trace_lock);
    return buf;
}

void _sa_trace_clear(void)
{
    pthread_mutex_lock(&trace_lock);
    if (map != NULL) {
        /* give the written pages back (shared memory: MADV_REMOVE); the
         * reservation stays */
        if (buf_len > 0)
            (void)madvise(buf, buf_len, MADV_REMOVE);
        buf_len = 0;
        buf_full = false;
    }
    pthread_mutex_unlock(&trace_lock);
}

void _sa_trace_rewind(size_t len)
{
    pthread_mutex_lock(&trace_lock);
    if (map != NULL && len <= buf_len) {
        buf_len = len;
        buf_full = false;
    }
    pthread_mutex_unlock(&trace_lock);
}

void _sa_trace_stats(sa_trace_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (map == NULL)
        return;
    for (int op = 0; op < SA_OP__COUNT; op++) {
        out->ops[op] = atomic_load_explicit(&head->ops[op], memory_order_relaxed);
        out->steps_max[op] = atomic_load_explicit(&head->max[op], memory_order_relaxed);
        out->steps_total[op] = atomic_load_explicit(&head->total[op], memory_order_relaxed);
        out->retries_max[op] = atomic_load_explicit(&head->retries[op], memory_order_relaxed);
        out->bounded_max[op] = atomic_load_explicit(&head->bounded[op], memory_order_relaxed);
    }
    for (int p = 0; p < SA_PHASE__COUNT; p++)
        out->phase_max[p] = atomic_load_explicit(&head->phase_max[p], memory_order_relaxed);
    for (int l = 0; l < SA_LOOP__COUNT; l++)
        out->loop_max[l] = atomic_load_explicit(&head->loop_max[l], memory_order_relaxed);
}

void _sa_trace_stats_clear(void)
{
    if (map == NULL)
        return;
    for (int op = 0; op < SA_OP__COUNT; op++) {
        atomic_store_explicit(&head->ops[op], 0, memory_order_relaxed);
        atomic_store_explicit(&head->max[op], 0, memory_order_relaxed);
        atomic_store_explicit(&head->total[op], 0, memory_order_relaxed);
        atomic_store_explicit(&head->retries[op], 0, memory_order_relaxed);
        atomic_store_explicit(&head->bounded[op], 0, memory_order_relaxed);
    }
    for (int p = 0; p < SA_PHASE__COUNT; p++)
        atomic_store_explicit(&head->phase_max[p], 0, memory_order_relaxed);
    for (int l = 0; l < SA_LOOP__COUNT; l++)
        atomic_store_explicit(&head->loop_max[l], 0, memory_order_relaxed);
}
