/* src/page.c -- one page's state machine: page_init, extend, collect,
 * to_full, unfull, retire, abandon, reclaim (docs/state-machine.md; each
 * function names the transition of spec/page.smt2 it performs), and
 * _sa_page_check, spec/page.smt2's inv asserted on the real lists in debug
 * builds.
 * alloc_pop lives in alloc.c, free_local and free_remote in free.c. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"

#if defined(SA_DEBUG) || defined(SA_TRACE)
__thread unsigned _sa_refill_scopes __attribute__((tls_model("initial-exec")));

void _sa_refill_outside_scope(const char *file, int line)
{
    static const char what[] = "spec: bounds.smt2 cadence: collect and extend refill free only "
                               "in the generic path or a heap's collect";
#ifdef SA_DEBUG
    _sa_assert_fail(what, file, line);
    abort();
#else
    (void)file;
    (void)line;
    _sa_trace_die(what);
#endif
}
#endif

/* spec: page.smt2 page_init */
void _sa_page_init(sa_heap_t *heap, sa_page_t *page, size_t bin)
{
    sa_segment_t *seg = _sa_segment_of_ptr(page);
    size_t block_size = _sa_bin_size(bin);
    SA_TRACE_BEFORE(SA_T_PAGE_INIT, page);
    page->start = (uint8_t *)seg + _sa_page_block_offset(seg, page);
    page->block_size = (uint32_t)block_size;
    page->bin = (uint16_t)bin;
    page->magic = _sa_block_magic(block_size);
    page->reserved = (uint32_t)(_sa_page_block_area(seg, page) / block_size);
    page->capacity = 0;
    __atomic_store_n(&page->made_key, 0, __ATOMIC_RELAXED);
    page->used = 0;
    page->free = NULL;
    page->local_free = NULL;
    page->local_empty = SA_LOCAL_EMPTY;
    sa_point_store("store thread_free", &page->thread_free, SA_NOTIFY_NONE, memory_order_relaxed);
    atomic_store_explicit(&page->heap, heap, memory_order_release);
    page->next = page->prev = page->remote_next = NULL;
    page->retire_at = 0;
    page->in_full = 0;
    atomic_store_explicit(&page->has_aligned, 0, memory_order_relaxed);
    atomic_store_explicit(&page->cacheable, !heap->first_class, memory_order_relaxed);
    page->in_use = 1;
    SA_TRACE_AFTER(SA_T_PAGE_INIT, page);
    _sa_stat_inc(&_sa_gstats.pages_made);
    sa_debug_check_page_full(page);
}

/* Thread the next unmade blocks onto `free`: at most SA_MAX_EXTEND_SIZE bytes'
 * worth (at least one block), so no call touches more than one OS page's worth
 * of fresh blocks. Guard: free is empty, capacity < reserved.
 * spec: page.smt2 extend */
void _sa_page_extend(sa_page_t *page)
{
    sa_assert_spec("extend (guard)", page->free == NULL && page->capacity < page->reserved);
    sa_assert_refill_scope();
    size_t block_size = page->block_size;
    size_t n = SA_MAX_EXTEND_SIZE / block_size;
    if (n == 0)
        n = 1;
    if (n > page->reserved - page->capacity)
        n = page->reserved - page->capacity;
    SA_TRACE_BEFORE(SA_T_EXTEND, page);
    uint8_t *first = page->start + (size_t)page->capacity * block_size;
    sa_block_t *tail = page->free;
    /* Built back to front so the list runs in address order. Bound: n <=
     * SA_MAX_EXTEND_SIZE / SA_MIN_ALIGN iterations. */
    SA_TRACE_LOOP(SA_LOOP_EXTEND);     /* spec: bounds.smt2 EXTEND */
    for (size_t i = n; i-- > 0;) {
        SA_TRACE_STEP(SA_LOOP_EXTEND);
        sa_block_t *b = (sa_block_t *)(first + i * block_size);
        b->next = tail;
        b->canary = _sa_block_canary(b);
        tail = b;
    }
    page->free = tail;
    /* relaxed atomic: another thread's free reads it to validate a pointer */
    __atomic_store_n(&page->capacity, page->capacity + (uint32_t)n, __ATOMIC_RELAXED);
    __atomic_store_n(&page->made_key, _sa_block_made_key(page->capacity, block_size, page->magic),
                     __ATOMIC_RELAXED);
    SA_TRACE_AFTER(SA_T_EXTEND, page);
    _sa_stat_active(page->bin, n * block_size, true);
    sa_debug_check_page_full(page);
}

/* local_free goes in front of `free`, in O(1) (local_tail is its last node):
 * the LOCAL half of collect, and abandon's. */
static inline void local_free_splice(sa_page_t *page)
{
    if (page->local_free != NULL) {
        page->local_tail->next = page->free;
        page->free = page->local_free;
        page->local_free = NULL;
        page->local_empty = SA_LOCAL_EMPTY;
    }
}

/* free_order's pass: marks[] the made blocks whose second word holds their
 * canary; returns how many. It reads LIVE blocks too, which their holders
 * (the program, a thread's remote cache) may write meanwhile: only the
 * count and the marks of FREE blocks are used, and those nobody else
 * writes. ThreadSanitizer is told so (not in other builds: they inline it). */
#ifdef __SANITIZE_THREAD__
__attribute__((no_sanitize_thread, noinline))
#endif
static size_t canary_marks(const sa_page_t *page, uint64_t *marks)
{
    size_t cap = page->capacity, bs = page->block_size, words = (cap + 63) / 64, found = 0;
    uint8_t *p = page->start;
    /* spec: bounds.smt2 ORDER: the steps go on from free_order_walk's */
    for (size_t w = 0; w < words; w++) {
        uint64_t x = 0;
        size_t lim = cap - w * 64 < 64 ? cap - w * 64 : 64;
        for (size_t k = 0; k < lim; k++, p += bs) {
            SA_TRACE_STEP(SA_LOOP_ORDER);
            sa_block_t *b = (sa_block_t *)p;
            x |= (uint64_t)(__atomic_load_n(&b->canary, __ATOMIC_RELAXED) == _sa_block_canary(b)) << k;
        }
        marks[w] = x;
        found += (size_t)__builtin_popcountll(x);
    }
    return found;
}

/* free_order's pass and relinking (below), n = capacity - used the FREE
 * count. */
static sa_noinline void free_order_relink(sa_page_t *page, size_t n)
{
    size_t cap = page->capacity, bs = page->block_size;
    uint64_t marks[SA_ORDER_BLOCKS_MAX / 64];
    size_t words = (cap + 63) / 64, found = canary_marks(page, marks);
    if (found != n)
        return;
    SA_TRACE_BEFORE(SA_T_ORDER_FREE, page);
    sa_block_t *head = NULL, **tail = &head;
    for (size_t w = 0; w < words; w++)
        for (uint64_t x = marks[w]; x != 0; x &= x - 1) {
            SA_TRACE_STEP(SA_LOOP_ORDER);
            sa_block_t *b = (sa_block_t *)(page->start + (w * 64 + (size_t)__builtin_ctzll(x)) * bs);
            *tail = b;
            tail = &b->next;
        }
    *tail = NULL;
    page->free = head;
    SA_TRACE_AFTER(SA_T_ORDER_FREE, page);
}

/* free_order's first look: one walk of `free` (at most n = capacity - used
 * blocks, each one step) that cuts it into runs, each in address order or
 * in reverse, and reverses the latter in place: `free` is then a chain of
 * runs in address order, in the runs' order. If the chain goes down
 * between runs at most SA_ORDER_BREAKS_MAX times, that is the order kept,
 * and the pass is not run. A program that frees its blocks in the order
 * malloc handed them out (or in reverse) leaves such a list on local_free,
 * and collect just made it `free`; a list of random order breaks within a
 * few blocks, and the walk stops there. The runs walked are relinked, the
 * rest follows unwalked, so `free` holds every block it held, once, at
 * every return (spec: page.smt2 order_free, a permutation of FREE). False:
 * too many breaks, or a list longer than n (not FREE alone): the pass
 * decides. Only the owner touches `free`, and its blocks are the ones
 * malloc pops next. */
static bool free_order_walk(sa_page_t *page, size_t n)
{
    sa_block_t **link = &page->free, *b = page->free;
    uintptr_t high = 0;     /* the last block of the runs relinked */
    size_t left = n, breaks = 0;
    bool ordered = true;
    SA_TRACE_LOOP(SA_LOOP_ORDER);      /* spec: bounds.smt2 ORDER */
    SA_TRACE_BEFORE(SA_T_ORDER_FREE, page);
    /* Each step takes one from `left`: the steps are counted once, at the
     * end (n - left), not in the loops, where GCC kept the count in a
     * register of its own (two instructions a block). */
    while (b != NULL && left != 0) {
        left--;
        sa_block_t *first = b, *next = b->next, *low, *last;
        if (next == NULL || next > b) {
            /* in address order: its links stay (NULL is below every block:
             * next > b ends the run there too) */
            while (next > b && left != 0) {
                left--;
                b = next;
                next = b->next;
            }
            low = first;
            last = b;
        } else {
            /* in reverse: each block goes in front of the ones before */
            first->next = NULL;
            low = first;
            while (next != NULL && next < low && left != 0) {
                left--;
                sa_block_t *after = next->next;
                next->next = low;
                low = next;
                next = after;
            }
            last = first;
            first->next = next;
        }
        *link = low;
        link = &last->next;     /* the rest of the list, unwalked */
        if ((uintptr_t)low < high && ++breaks > SA_ORDER_BREAKS_MAX) {
            ordered = false;
            break;
        }
        high = (uintptr_t)last;
        b = next;
    }
    SA_TRACE_STEPS(SA_LOOP_ORDER, n - left);
    if (b != NULL)
        ordered = false;
    SA_TRACE_AFTER(SA_T_ORDER_FREE, page);
    return ordered;
}

/* free_order's work, n = capacity - used the FREE count: the walk, then
 * the pass unless the walk found the list in runs. Out of line, so that
 * the collect calling free_order only to find the page not worth ordering
 * (most of the generic path's calls) needs neither its stack frame nor its
 * registers. */
static sa_noinline void free_order_rebuild(sa_page_t *page, size_t n)
{
    if (!free_order_walk(page, n))
        free_order_relink(page, n);
}

/* Rebuild `free` in address order (spec: page.smt2 order_free): malloc then
 * hands out neighbours one after the other, which the hardware prefetchers
 * follow. Only on a page of at most SA_ORDER_BLOCKS_MAX blocks (the walk and
 * the pass are at most capacity + 2 |free| steps: spec: bounds.smt2 ORDER),
 * not empty (used != 0: so the search never retires a page it ordered, and
 * orders at most the one page it returns), with half its blocks free (so it
 * is enough_free: used) and at least SA_ORDER_MIN_BYTES of them (config.h
 * says why).
 * First free_order_walk: a list in runs (config.h SA_ORDER_BREAKS_MAX)
 * costs that walk and no pass.
 * Else one pass over the made blocks marks those whose second word holds their
 * canary. Every FREE block carries it (extend and every free set it, only
 * the owner's pop clears it), so they are exactly FREE if there are as many
 * as FREE holds, capacity - used (local_free was just spliced in). A LIVE
 * block that carries it too (its data by chance, one a remote free is
 * pushing, one kept in a thread's remote cache) makes one too many: then
 * the list stays as it is. The loads are relaxed atomics (remote freers
 * write canaries meanwhile), and the list is relinked from the marks, never
 * by reading the canaries again: a block a remote free marks after the pass
 * was LIVE at its read and must not be linked. */
static sa_always_inline void free_order(sa_page_t *page)
{
    size_t cap = page->capacity, bs = page->block_size, n = cap - page->used;
    if (page->free == NULL || page->used == 0 || cap > SA_ORDER_BLOCKS_MAX ||
        2 * n < cap || n * bs < SA_ORDER_MIN_BYTES)
        return;
    free_order_rebuild(page, n);
}

/* The rest of collect_lists when thread_free held blocks at its read `tf`
 * (the take's CAS, the join, the finish): out of line, so that the
 * generic path's common collect (local frees only) is a short function
 * without this part's registers and stack. */
static sa_noinline void collect_taken(sa_page_t *page, uintptr_t tf)
{
    while (_sa_tf_block(tf) != NULL &&
           !sa_point_cas_weak("cas thread_free", &page->thread_free, &tf,
                              _sa_tf_word(NULL, tf & SA_NOTIFY_MASK, 0),
                              memory_order_acquire, memory_order_relaxed)) {
        SA_TRACE_STEP(SA_LOOP_CAS);
        SA_TRACE_RETRY();
    }
    sa_block_t *head = _sa_tf_block(tf);
    uint32_t count = _sa_tf_count(tf);
    SA_TRACE_TAKEN(page, head);
    /* With `free` non-empty (sa_collect, abandon; never the generic path)
     * the taken list's tail is needed: at most count - 1 links. */
    bool join = head != NULL && page->free != NULL;
    sa_block_t *tail = head;
    SA_TRACE_LOOP(SA_LOOP_JOIN);
    if (join)
        for (uint32_t i = 1; i < count && tail->next != NULL; i++) {
            SA_TRACE_STEP(SA_LOOP_JOIN);
            tail = tail->next;
        }
    if (sa_unlikely(count > page->used || (head == NULL) != (count == 0) ||
                    (join && tail->next != NULL))) {
        /* More remote frees than blocks in use, or a list longer than its
         * count: one block freed twice by threads racing past its canary
         * check (the list may loop). The taken blocks stay off every list
         * (leaked, never handed out twice). */
        _sa_error_ptr(SA_ERROR_CORRUPTION, "free", "double free (racing threads) or corrupted thread_free list at", head);
        head = NULL;
        count = 0;
    }
    SA_TRACE_BEFORE(SA_T_COLLECT_FINISH, page);
    if (head != NULL) {
        if (join)
            tail->next = page->free;
        page->free = head;
        page->used -= count;    /* the statistics counted them as they were freed */
    }
    local_free_splice(page);
    SA_TRACE_AFTER(SA_T_COLLECT_FINISH, page);
    sa_debug_check_page_full(page);
}

/* Take the whole thread_free list (notify bits kept) and the local_free list
 * back onto `free`: head first, local_free, then the taken list, then what
 * `free` held. The exchange hands over the taken list's length with it, and
 * local_free's last node is kept in local_tail, so when `free` is empty (the
 * generic path collects only such pages) nothing is walked: O(1). A non-empty
 * `free` (sa_collect, abandon) costs a walk of the taken list to its tail.
 * Remote frees were checked when they were freed (block start, canary).
 * spec: page.smt2 collect */
static sa_always_inline void collect_lists(sa_page_t *page)
{
    /* Nothing to collect: return without a transition (local_free first:
     * the owner's own field, and non-empty on the generic path's call). */
    if (page->local_free == NULL &&
        _sa_tf_block(sa_point_load("load thread_free", &page->thread_free, memory_order_relaxed)) == NULL)
        return;
    sa_assert_refill_scope();
    /* spec: page.smt2 collect_take, then collect_finish (remote frees may
     * land on the fresh thread_free in between; the tracing build lets them) */
    SA_TRACE_BEFORE(SA_T_COLLECT_TAKE, page);
    /* Read here, inside the transition: the take linearizes at this load (if
     * the list is empty) or at the CAS. Reusing the test's read above would
     * let a remote free that landed in between stay behind while the tracing
     * build's snapshot, taken after it, shows it on the list. A failed CAS
     * means a remote free pushed: lock-free. spec: bounds.smt2 malloc_step
     * (a CAS retry: k) */
    uintptr_t tf = sa_point_load("load thread_free", &page->thread_free, memory_order_relaxed);
    if ((tf & ~(uintptr_t)SA_NOTIFY_MASK) == 0) {
        /* Nothing on thread_free (the generic path's common case): the take
         * is empty, only local_free joins `free`. */
        SA_TRACE_TAKEN(page, NULL);
        SA_TRACE_BEFORE(SA_T_COLLECT_FINISH, page);
        local_free_splice(page);
        SA_TRACE_AFTER(SA_T_COLLECT_FINISH, page);
        sa_debug_check_page_full(page);
        return;
    }
    collect_taken(page, tf);
}

/* spec: page.smt2 collect, then order_free: the generic path's collect of
 * a page it is about to hand blocks out from. */
void _sa_page_collect(sa_page_t *page)
{
    collect_lists(page);
    free_order(page);
}

/* spec: page.smt2 collect alone, for a page no malloc is about to use
 * (_sa_heap_collect: a thread's exit, sa_collect, out of memory). Ordering
 * there read the second word of every block of every page the exit
 * collected, those of the segments it adopts included, for pages mostly
 * abandoned or retired next (bench/leakgrow: 12-22% of its CPU time in
 * free_order's pass, perf). */
void _sa_page_collect_unordered(sa_page_t *page)
{
    collect_lists(page);
}

/* Move an exhausted page to the full queue, so the generic path does not look
 * at it again until a free makes room. Guard: free empty, capacity = reserved,
 * thread_free empty with notify NONE -- checked by the one CAS NONE -> WATCH;
 * if a remote free got in first, the page stays in its queue (no retry).
 * spec: page.smt2 to_full */
bool _sa_page_to_full(sa_heap_t *heap, sa_page_t *page)
{
    sa_assert_spec("to_full (guard)", page->free == NULL && page->capacity == page->reserved && !page->in_full);
    uintptr_t expected = SA_NOTIFY_NONE;
    if (page->local_free != NULL ||
        sa_point_load("load thread_free", &page->thread_free, memory_order_relaxed) != expected)
        return false;   /* guard false: no transition (the CAS below re-checks) */
    SA_TRACE_BEFORE(SA_T_TO_FULL, page);
    bool ok = sa_point_cas_strong("cas thread_free", &page->thread_free, &expected, SA_NOTIFY_WATCH,
                                  memory_order_acq_rel, memory_order_relaxed);
    if (ok)
        _sa_page_queue_to_full(heap, page);
    SA_TRACE_AFTER(SA_T_TO_FULL, page);
    return ok;
}

/* Take a page back from the full queue into its size class's queue (at its
 * back: page_queue.c says why) and clear notify. `popped` says the caller took the
 * page off the remote_pages stack: only then may QUEUED be cleared, because a
 * QUEUED page is on the stack and must not be pushed again until popped.
 * spec: page.smt2 unfull */
void _sa_page_unfull(sa_heap_t *heap, sa_page_t *page, bool popped)
{
    SA_TRACE_BEFORE(SA_T_UNFULL, page);
    if (page->in_full)
        _sa_page_queue_from_full(heap, page);
    _sa_page_notify_clear(page, SA_NOTIFY_BIT(SA_NOTIFY_WATCH) |
                                (popped ? SA_NOTIFY_BIT(SA_NOTIFY_QUEUED) : 0), NULL);
    SA_TRACE_AFTER(SA_T_UNFULL, page);
    sa_debug_check_page_full(page);
}

/* The owner freed the last block: the page retires after SA_RETIRE_DELAY more
 * generic calls (SA_RETIRE_DELAY_LARGE for a large page) unless it is used
 * again. It moves to the front of its queue, where both the next malloc of
 * its size and the retire sweep look first. A large page is also noted in
 * the heap's ring of emptied large pages, which the heap's next large
 * malloc retires (segment.c large_emptied_retire): free stays a constant
 * step, and the span serves any class soon.
 * Under memory pressure it retires at once (spec: bounds.smt2 FREE_EMPTIED):
 * another thread may be out of memory, and nobody else can retire it. Not a
 * first-class heap's page: sa_heap_destroy frees its blocks while walking
 * its segments, which a retire would change under it. */
void _sa_page_mark_empty(sa_heap_t *heap, sa_page_t *page)
{
    if (page->in_full)
        return;
    if (_sa_oom_pressure() && !heap->first_class && _sa_page_can_retire(page)) {
        _sa_page_retire(heap, page);
        return;
    }
    if (page->span_units != 0 && !heap->first_class) {
        /* its span may serve the next large block of any class at once; a
         * page this pushes out waits its retire delay as the others do */
        size_t last = (heap->large_emptied_next + SA_LARGE_EMPTIED_MAX - 1) % SA_LARGE_EMPTIED_MAX;
        if (heap->large_emptied[last] != page) {    /* emptied again: once is enough */
            heap->large_emptied[heap->large_emptied_next] = page;
            heap->large_emptied_next = (uint8_t)((heap->large_emptied_next + 1) % SA_LARGE_EMPTIED_MAX);
        }
    }
    sa_page_queue_t *q = &heap->queues[page->bin];
    /* Emptied again with no generic call since the last time (alloc/free
     * ping-pong on one block): expiry, retire_due and the queue position set
     * then still hold, only generic calls change them. */
    uint64_t retire_at = heap->generic_count + _sa_retire_delay(page->bin);
    if (page->retire_at == retire_at && q->first == page)
        return;
    page->retire_at = retire_at;
    if (page->retire_at < heap->retire_due)
        heap->retire_due = page->retire_at;
    if (q->first != page)   /* mostly it is the head already: no call */
        _sa_page_queue_to_front(heap, q, page);
    _sa_heap_retire_mark(heap, page->bin);
}

/* Is an empty page ready to retire (guard of retire)? */
bool _sa_page_can_retire(const sa_page_t *page)
{
    return page->used == 0 && !page->in_full && _sa_page_notify(page) == SA_NOTIFY_NONE;
}

/* Give an empty page back to its segment (which later purges its memory).
 * Guard: owner, used = 0, not in_full, notify = NONE.
 * spec: page.smt2 retire */
void _sa_page_retire(sa_heap_t *heap, sa_page_t *page)
{
    sa_assert_spec("retire (guard)", _sa_page_can_retire(page));
    SA_TRACE_BEFORE(SA_T_RETIRE, page);
    _sa_stat_active(page->bin, (size_t)page->capacity * page->block_size, false);
    _sa_stat_inc(&_sa_gstats.pages_retired);
    _sa_page_queue_remove(heap, &heap->queues[page->bin], page);
    if (page->span_units != 0)  /* a fixed SA_LARGE_EMPTIED_MAX compares, unrolled */
        for (size_t i = 0; i < SA_LARGE_EMPTIED_MAX; i++)
            if (heap->large_emptied[i] == page)
                heap->large_emptied[i] = NULL;
    page->free = NULL;
    page->local_free = NULL;
    page->local_empty = SA_LOCAL_EMPTY;
    page->capacity = 0;
    __atomic_store_n(&page->made_key, 0, __ATOMIC_RELAXED);
    page->retire_at = 0;
    page->in_use = 0;
    SA_TRACE_AFTER(SA_T_RETIRE, page);
    page->block_size = 0;
    page->bin = 0;
    _sa_segment_page_free(heap, page);
    heap->purge_check_at = 0;   /* the page (or its segment) waits to be purged */
}

/* The owner thread exits with blocks of this page still live: local frees
 * go back to `free`, the page loses its owner, leaves the full queue and
 * stops asking to be told about remote frees (WATCH -> NONE; a QUEUED page is
 * on its way to the old heap's stack and is forwarded from there).
 * Called with the abandon lock held. spec: page.smt2 abandon */
void _sa_page_abandon(sa_page_t *page)
{
    SA_TRACE_BEFORE(SA_T_ABANDON, page);
    local_free_splice(page);
    page->in_full = 0;
    page->next = page->prev = NULL;
    page->retire_at = 0;
    /* The owner store ends the step of the last thread_free operation (it
     * commutes with every other thread's step in between: a remote free
     * reads the owner only after turning WATCH into QUEUED, which no step
     * after this load or CAS can do). */
    _sa_page_notify_clear(page, SA_NOTIFY_BIT(SA_NOTIFY_WATCH), &page->heap);
    atomic_store_explicit(&page->heap, NULL, memory_order_release);
    SA_TRACE_AFTER(SA_T_ABANDON, page);
    _sa_stat_inc(&_sa_gstats.pages_abandoned);
}

/* Adopt an abandoned page: a QUEUED one waits in the full queue for its
 * notification (delivered to us once forwarded), any other joins its size
 * class's queue. No collect here (bounded adoption). Abandon lock held.
 * spec: page.smt2 reclaim */
void _sa_page_reclaim(sa_heap_t *heap, sa_page_t *page)
{
    SA_TRACE_BEFORE(SA_T_RECLAIM, page);
    atomic_store_explicit(&page->cacheable, !heap->first_class, memory_order_relaxed);
    sa_point_store("store owner", &page->heap, heap, memory_order_release);
    if (_sa_page_notify(page) == SA_NOTIFY_QUEUED) {
        page->in_full = 1;
        _sa_page_queue_push_back(heap, &heap->full, page);
    } else {
        page->in_full = 0;
        _sa_page_queue_push_back(heap, &heap->queues[page->bin], page);
    }
    SA_TRACE_AFTER(SA_T_RECLAIM, page);
    _sa_stat_inc(&_sa_gstats.pages_reclaimed);
}

#ifdef SA_DEBUG
void _sa_assert_fail(const char *expr, const char *file, int line)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "shardalloc: assertion failed: %s (%s:%d)\n", expr, file, line);
    if (n > 0)
        (void)!write(STDERR_FILENO, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    abort();
}
#endif

/* Walk one list from its head: the C reading of inv_slot and inv_block for
 * the slots of its sequence. Every link is in_page and made, and is met once
 * over all the lists (`seen`): seq and pos are inverse bijections, so no list
 * is cyclic and no block is on two. Stops after capacity + 1 links (a cycle
 * repeats a block before that). Returns the list's length. */
static size_t check_list(const sa_page_t *page, const sa_block_t *list, uint64_t *seen)
{
    size_t n = 0;
    for (const sa_block_t *b = list; b != NULL && n <= page->capacity; b = b->next) {
        sa_assert_spec("inv_slot (in_page)", _sa_page_in_page(page, b));
        sa_assert_spec("inv_block (a listed block is made)", _sa_page_made(page, b));
        size_t i = _sa_block_index((uintptr_t)b - (uintptr_t)page->start, page->magic);
        sa_assert_spec("inv_slot (pos: one slot per block)", (seen[i / 64] & ((uint64_t)1 << (i % 64))) == 0);
        seen[i / 64] |= (uint64_t)1 << (i % 64);
        n++;
    }
    return n;
}

/* Debug builds: inv of spec/page.smt2 on the real page, conjunct by
 * conjunct, each assert named after its define-fun there. Called by the
 * owner between transitions: free, local_free and the thread_free list (from
 * one load of its word: a remote free pushes above the head it read, and
 * only the owner takes) are walked; LIVE is what they leave of capacity.
 * nothing_taken holds by construction: TAKEN is a local of _sa_page_collect,
 * which calls this only after its append. */
void _sa_page_check(const sa_page_t *page)
{
    if (!page->in_use || page == &_sa_page_empty)
        return;
    uint64_t seen[SA_MAX_BLOCKS_PER_PAGE / 64] = { 0 };
    uintptr_t tf = atomic_load_explicit(&((sa_page_t *)page)->thread_free, memory_order_acquire);
    sa_notify_t notify = (sa_notify_t)(tf & SA_NOTIFY_MASK);
    bool owned = atomic_load_explicit(&((sa_page_t *)page)->heap, memory_order_relaxed) != NULL;
    sa_assert_spec("block_size_positive", page->block_size > 0);
    sa_assert_spec("capacity_within_reserved", page->capacity <= page->reserved);
    size_t nfree = check_list(page, page->free, seen);
    size_t nlocal = check_list(page, page->local_free, seen);
    size_t nthread = check_list(page, _sa_tf_block(tf), seen);
    /* cnt[THREAD] is the count the word carries (spec: layout.smt2 tf_count) */
    sa_assert_spec("inv_slot (cnt THREAD)", nthread == _sa_tf_count(tf));
    sa_assert_spec("made_add_up (LIVE = the rest of capacity, >= 0)",
                   nfree + nlocal + nthread <= page->capacity);
    sa_assert_spec("used_live_thread", page->used == page->capacity - nfree - nlocal);
    sa_assert_spec("full_notifies", !page->in_full || notify != SA_NOTIFY_NONE);
    sa_assert_spec("watch_full_quiet", notify != SA_NOTIFY_WATCH || (page->in_full && nthread == 0));
    sa_assert_spec("unowned_not_full", owned || !page->in_full);
    sa_assert(page->local_empty == (page->local_free == NULL ? SA_LOCAL_EMPTY : 0));
    (void)nfree;
    (void)nlocal;
    (void)nthread;
    (void)notify;
    (void)owned;
}
