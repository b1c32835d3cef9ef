/* src/heap.c -- per-thread heaps: the thread's heap in TLS, created lazily on
 * the first generic malloc of a thread; page queues; the stack of pages that
 * remote frees report as no longer full; collect / retire sweep / purge;
 * the program's deferred-free hook, sa_collect and the out-of-memory collect;
 * and the end of a thread (abandon). Heaps are mapped from the OS (never through
 * malloc), never unmapped, and taken over by later threads, so a remote free
 * that reports a page to a heap whose thread has exited touches valid memory. */
#include <errno.h>
#include <string.h>
#include "internal.h"

sa_page_t _sa_page_empty;   /* free == NULL: the fast path falls to the generic one */

const sa_heap_t _sa_heap_empty = {
    .page_direct = { [0 ... SA_BIN_COUNT - 1] = &_sa_page_empty },
    .bin_table = SA_BIN_TABLE_INIT,
    .retire_due = UINT64_MAX, .retire_next_due = UINT64_MAX,
};

__thread sa_heap_t *_sa_heap_tls __attribute__((tls_model("initial-exec"))) = SA_HEAP_EMPTY;
__thread sa_heap_t *_sa_heap_hint __attribute__((tls_model("initial-exec")));

/* Serializes the sweep of dead heaps' remote stacks (and the fork handlers
 * wait for a sweep in progress). A thread start never takes it. */
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
/* Every heap ever made: stats, and the heaps of exited threads (claimed
 * false) that a starting thread takes over. */
static _Atomic(sa_heap_t *) heaps_all;
/* Heaps stocked now (stocked_at set): at most SA_HEAP_STOCK_MAX. */
static _Atomic size_t heaps_stocked;

/* ---- remote pages ---------------------------------------------------------------- */

/* Push a QUEUED page on its owner's stack. Called once per WATCH -> QUEUED
 * change. */
void _sa_heap_remote_push(sa_heap_t *owner, sa_page_t *page)
{
    _sa_page_stack_push(&owner->remote_pages, page);
}

/* Take back at most `max` pages that remote frees reported (unfull each).
 * The stack is taken whole (no ABA: nobody pops single pages) into
 * remote_local. Another thread may take it whole too: a thread exit's sweep
 * of unclaimed heaps (_sa_heaps_take_dead_remote) that read `claimed` just
 * before our thread claimed this heap; it forwards the pages to their owner.
 * Returns how many were taken. */
size_t _sa_heap_take_remote_pages(sa_heap_t *heap, size_t max)
{
    size_t i = 0;
    SA_TRACE_LOOP(SA_LOOP_REMOTE);     /* spec: bounds.smt2 REMOTE */
    for (; i < max; i++) {
        sa_page_t *page = _sa_page_stack_next(&heap->remote_pages, &heap->remote_local);
        if (page == NULL)
            break;
        SA_TRACE_STEP(SA_LOOP_REMOTE);
        if (sa_point_load("load owner", &page->heap, memory_order_relaxed) == heap)
            _sa_page_unfull(heap, page, true);
        else
            _sa_segment_forward_queued(page);
    }
    return i;
}

/* ---- housekeeping ------------------------------------------------------------------ */

_Static_assert(SA_BIN_COUNT <= 128, "heap->retire_bins has a bit per bin");

/* The first bin at or after `from` whose bit is set in retire_bins, or
 * SA_BIN_COUNT if none: two words, no loop. */
static size_t retire_next_bin(const sa_heap_t *heap, size_t from)
{
    if (from >= SA_BIN_COUNT)
        return SA_BIN_COUNT;
    unsigned __int128 m = heap->retire_bins >> from;
    uint64_t lo = (uint64_t)m, hi = (uint64_t)(m >> 64);
    if (lo != 0)
        return from + (size_t)__builtin_ctzll(lo);
    if (hi != 0)
        return from + 64 + (size_t)__builtin_ctzll(hi);
    return SA_BIN_COUNT;
}

/* Retire expired empty pages at the head of at most max_bins size-class
 * queues, round robin over the bins mark_empty marked (retire_bins; a bin
 * whose head is no longer pending loses its mark). Runs only while a page may
 * be due: mark_empty records the earliest expiry (retire_due); a round that
 * finds nothing pending stops the sweep until the next page empties. */
void _sa_heap_retire_sweep(sa_heap_t *heap, size_t max_bins)
{
    if (!_sa_heap_retire_pending(heap))
        return;
    SA_TRACE_LOOP(SA_LOOP_SWEEP);      /* spec: bounds.smt2 SWEEP */
    for (size_t i = 0; i < max_bins; i++) {
        SA_TRACE_STEP(SA_LOOP_SWEEP);
        size_t bin = retire_next_bin(heap, heap->retire_cursor);
        if (bin == SA_BIN_COUNT) {          /* a round is complete */
            heap->retire_cursor = 0;
            heap->retire_due = heap->retire_next_due;
            heap->retire_next_due = UINT64_MAX;
            if (!_sa_heap_retire_pending(heap))
                return;     /* nothing due before retire_due (or nothing pending) */
            continue;
        }
        heap->retire_cursor = bin + 1;
        sa_page_t *page = heap->queues[bin].first;
        if (page != NULL && page->retire_at != 0) {
            if (page->used != 0)
                page->retire_at = 0;    /* used again: no longer pending */
            else if (heap->generic_count >= page->retire_at && _sa_page_can_retire(page))
                _sa_page_retire(heap, page);
            else if (page->retire_at < heap->retire_next_due)
                heap->retire_next_due = page->retire_at;
        }
        page = heap->queues[bin].first;     /* the next head, if it retired */
        if (page == NULL || page->retire_at == 0)
            heap->retire_bins &= ~((unsigned __int128)1 << bin);
    }
}

/* Purge what has waited long enough. The shared global cache is looked at
 * (under a trylock) at most once per clock tick per heap: the clock is
 * coarse and the delays are several ticks long. */
void _sa_heap_purge_tick(sa_heap_t *heap, bool force)
{
    if (!_sa_heap_purge_pending(heap))
        return;
    uint64_t now = _sa_os_now_ms();
    bool global = force || now != heap->purge_checked_ms;
    heap->purge_checked_ms = now;
    _sa_segment_cache_purge(heap, now, force, global);
}

/* Everything this thread can give back now (sa_collect): take all remote
 * pages, collect every page (not in address order: page.c
 * _sa_page_collect_unordered), move full pages with room back, retire empty
 * pages (force: ignoring the retire delay), purge (force_purge: ignoring the
 * purge delay, and unmapping cached segments). O(heap): never on the malloc
 * path. */
void _sa_heap_collect(sa_heap_t *heap, bool force, bool force_purge)
{
    SA_REFILL_SCOPE_BEGIN();
    _sa_remote_cache_flush(heap);
    _sa_heap_take_remote_pages(heap, SIZE_MAX);
    sa_page_t *page = heap->full.first;
    while (page != NULL) {
        sa_page_t *next = page->next;
        _sa_page_collect_unordered(page);
        if (page->free != NULL)
            _sa_page_unfull(heap, page, false);
        page = next;
    }
    for (size_t bin = 0; bin < SA_BIN_COUNT; bin++) {
        page = heap->queues[bin].first;
        while (page != NULL) {
            sa_page_t *next = page->next;
            _sa_page_collect_unordered(page);
            if (page->used == 0 && page->retire_at == 0) {
                page->retire_at = heap->generic_count + _sa_retire_delay(bin);
                _sa_heap_retire_mark(heap, bin);
            }
            if (page->used == 0 && (force || heap->generic_count >= page->retire_at) &&
                _sa_page_can_retire(page))
                _sa_page_retire(heap, page);
            page = next;
        }
    }
    _sa_heap_purge_tick(heap, force_purge);
    SA_REFILL_SCOPE_END();
}

/* ---- the program's deferred frees, sa_collect, out of memory ------------------------ */

/* The deferred-free hook sa_register_deferred_free installed (NULL: none),
 * called by _sa_heap_deferred_free (internal.h). */
sa_deferred_free_fn *_Atomic _sa_deferred_fn;
void *_Atomic _sa_deferred_arg;

sa_public void sa_register_deferred_free(sa_deferred_free_fn *fn, void *arg)
{
    atomic_store_explicit(&_sa_deferred_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&_sa_deferred_fn, fn, memory_order_release);
}

static void heaps_release_stocked(bool all);

sa_public void sa_collect(bool force)
{
    sa_heap_t *heap = _sa_heap_tls;
    /* force: adopt every abandoned segment too, so memory of exited threads
     * that was freed since is found and returned, and give back the global
     * segment cache (through a heap: a thread that only used first-class
     * heaps has none of its own yet). */
    if (force)
        heap = _sa_heap_get_or_init();
    bool own = heap != NULL && heap != &_sa_heap_empty;
    if (own) {
        /* The program's deferred frees first (force: all of them, if the
         * hook honours it), so what they free is returned below too; and
         * the blocks this thread keeps of other heaps' pages given back, so
         * a stocked heap given up below finds those pages empty. */
        _sa_heap_deferred_free(heap, force);
        _sa_remote_cache_flush(heap);
    }
    /* Heaps of exited threads that no thread took over within
     * SA_HEAP_STOCK_STALE_MS (force: every stocked heap) are given up as at
     * a thread exit. */
    heaps_release_stocked(force);
    if (own) {
        while (force && _sa_segments_reclaim(heap, SA_RECLAIM_TRIES, SIZE_MAX, true))
            ;   /* bounded by the abandoned segments present */
        if (force)
            _sa_segments_forward_dead();
        _sa_heap_collect(heap, force, force);
    }
    _sa_huge_cache_release(force);
}

static void heaps_release_caches(sa_heap_t *self);

/* Memory pressure: until this time (ms; 0 none) after the OS last refused
 * memory, owners give back what they empty at once (_sa_oom_pressure). */
_Atomic uint64_t _sa_oom_pressure_until;

/* The pressure is on (the inline test in internal.h found it set): still so
 * until its time passes, then cleared, so later tests cost one load. */
bool _sa_oom_pressure_check(void)
{
    uint64_t until = atomic_load_explicit(&_sa_oom_pressure_until, memory_order_relaxed);
    if (until == 0)
        return false;
    if (_sa_os_now_ms() < until)
        return true;
    atomic_compare_exchange_strong_explicit(&_sa_oom_pressure_until, &until, 0,
                                            memory_order_relaxed, memory_order_relaxed);
    return false;
}

/* The OS refused memory (heap: the caller's, or NULL when its heap could
 * not be made): before ENOMEM, find what is free anywhere. Give up every
 * stocked heap (what its exited thread left empty is purged, its cache
 * given back), adopt at most SA_OOM_RECLAIM abandoned segments (those whose
 * blocks were freed are returned by the collect), collect this heap
 * ignoring every delay (its and the global cache's segments unmapped),
 * unmap the other heaps' cached segments and the huge cache. Bounded:
 * SA_HEAP_STOCK_MAX heaps, SA_OOM_RECLAIM segments, this heap,
 * SA_SEGMENT_CACHE_MAX per heap, SA_HUGE_CACHE_ENTRIES. */
void _sa_out_of_memory_collect(sa_heap_t *heap, size_t refused)
{
    bool own = heap != NULL && heap != &_sa_heap_empty;
    /* Other live threads hold what they emptied and did not retire yet (only
     * an owner may retire its pages): from now on for SA_OOM_PRESSURE_MS
     * they give it back as they empty it, this thread too. Not for a request
     * larger than all shardalloc maps (malloc(1 TiB) probing what the
     * system grants): giving everything back could not make room for it,
     * and the pressure slows every thread's frees. */
    if (refused <= atomic_load_explicit(&_sa_os_stats.mapped, memory_order_relaxed))
        atomic_store_explicit(&_sa_oom_pressure_until, _sa_os_now_ms() + SA_OOM_PRESSURE_MS,
                              memory_order_relaxed);
    heaps_release_stocked(true);
    if (own) {
        _sa_segments_reclaim(heap, SA_OOM_RECLAIM, SA_OOM_RECLAIM, true);
        _sa_heap_collect(heap, true, true);     /* the global cache too */
    } else {
        _sa_segment_global_cache_release();
    }
    heaps_release_caches(own ? heap : NULL);
    _sa_huge_cache_release(true);
}

/* ---- heap life --------------------------------------------------------------------- */

static void heap_reset(sa_heap_t *heap)
{
    memcpy(heap->bin_table, _sa_bin_table, sizeof heap->bin_table);
    for (size_t bin = 0; bin < SA_BIN_COUNT; bin++) {
        heap->page_direct[bin] = &_sa_page_empty;
        heap->queues[bin].first = heap->queues[bin].last = NULL;
    }
    heap->full.first = heap->full.last = NULL;
    heap->purge.first = heap->purge.last = NULL;
    heap->retire_cursor = 0;
    heap->retire_due = heap->retire_next_due = UINT64_MAX;     /* none pending */
    heap->retire_bins = 0;
    for (size_t i = 0; i < SA_LARGE_EMPTIED_MAX; i++)
        heap->large_emptied[i] = NULL;
    heap->large_emptied_next = 0;
    heap->purge_check_at = 0;
    heap->in_hook = false;
}

/* Claim `h` by one CAS false -> true on `claimed`: whoever wins owns it
 * (acquire: it sees all its last owner wrote before letting it go). */
static bool heap_try_claim(sa_heap_t *h)
{
    bool expected = false;
    return !sa_point_load("load claimed", &h->claimed, memory_order_relaxed) &&
           sa_point_cas_strong("cas claimed", &h->claimed, &expected, true,
                               memory_order_acquire, memory_order_relaxed);
}

/* Let a claimed heap go again, untouched (it was not the kind wanted). */
static void heap_unclaim(sa_heap_t *h)
{
    sa_point_store("store claimed", &h->claimed, false, memory_order_release);
}

/* A claimed stocked heap is stocked no more: its claimer owns it whole. */
static void heap_unstock(sa_heap_t *h)
{
    sa_point_store("store stocked_at", &h->stocked_at, 0, memory_order_relaxed);
    sa_point_fetch_sub("sub stocked count", &heaps_stocked, 1, memory_order_relaxed);
}

/* A heap a thread start claimed: stocked, it is stocked no more (its
 * claimer owns it whole); else one given up, empty. Ours now: what it is
 * was settled before its claimed went false. */
static sa_heap_t *heap_claimed_for_thread(sa_heap_t *h)
{
    if (sa_point_load("load stocked_at", &h->stocked_at, memory_order_relaxed) != 0)
        heap_unstock(h);
    return h;
}

/* A heap of an exited thread, taken over by one CAS on `claimed` (lock-free:
 * a thread start never waits for an exiting thread), or NULL if every heap
 * is owned. A thread start (!first_class) takes a stocked heap first, its
 * pages and all; a first-class heap never takes one (sa_heap_destroy would
 * free the exited thread's live blocks: docs/design.md "First-class
 * heaps"), only heaps given up empty. A fresh heap is made only when none
 * is found, so the registry stays as long as the most threads that ever
 * held heaps at once plus the stocked heaps (SA_HEAP_STOCK_MAX, which a
 * first-class heap passes over) and the few that lost a race for the same
 * heap, and so does this walk (twice for a thread). A thread start tries
 * first the stocked heap it last freed into while it had no heap
 * (_sa_heap_hint, set by free.c _sa_free_remote): a worker that starts by
 * freeing the table an exited worker left takes that worker's heap, and
 * its later frees of the table are local (with any other stock, each would
 * be remote). */
static sa_heap_t *heap_claim(bool first_class)
{
    if (!first_class) {
        sa_heap_t *hint = _sa_heap_hint;
        _sa_heap_hint = NULL;
        if (hint != NULL &&
            sa_point_load("load stocked_at", &hint->stocked_at, memory_order_relaxed) != 0 &&
            heap_try_claim(hint))
            return heap_claimed_for_thread(hint);
    }
    for (int pass = first_class ? 1 : 0; pass < 2; pass++) {
        for (sa_heap_t *h = sa_point_load("load heaps_all", &heaps_all, memory_order_acquire);
             h != NULL; h = h->next_all) {
            bool stocked = sa_point_load("load stocked_at", &h->stocked_at,
                                         memory_order_relaxed) != 0;
            if ((pass == 0) != stocked || !heap_try_claim(h))
                continue;
            if (!first_class)
                return heap_claimed_for_thread(h);
            if (sa_point_load("load stocked_at", &h->stocked_at, memory_order_relaxed) != 0) {
                heap_unclaim(h);    /* stocked meanwhile: not for us */
                continue;
            }
            return h;
        }
    }
    return NULL;
}

/* The calling thread's heap, made (or recycled) on first use. */
sa_heap_t *_sa_heap_get_or_init(void)
{
    sa_heap_t *heap = _sa_heap_tls;
    if (sa_likely(heap != &_sa_heap_empty))
        return heap;
    _sa_process_init();     /* may allocate (pthread_atfork): re-check below */
    heap = _sa_heap_tls;
    if (heap != &_sa_heap_empty)
        return heap;
    heap = _sa_heap_make(false);
    if (heap == NULL)
        return NULL;
    _sa_heap_tls = heap;
    _sa_thread_register(heap);
    return heap;
}

/* A heap for the calling thread to own (first_class: for sa_heap_new): one
 * of an exited thread or a first-class heap given up, claimed (a stocked one,
 * whole, for a thread); else a fresh one, registered. NULL with errno =
 * ENOMEM if the OS has no memory for it. */
sa_heap_t *_sa_heap_make(bool first_class)
{
    sa_heap_t *heap = heap_claim(first_class);
    if (heap == NULL) {
        heap = _sa_os_map_aligned(sizeof(sa_heap_t), SA_OS_PAGE_SIZE, sizeof(sa_heap_t));
        if (heap == NULL) {
            /* Other threads' caches may hold the space (a thread started
             * when the others had filled it): once more after those. */
            _sa_out_of_memory_collect(NULL, sizeof(sa_heap_t));
            heap = _sa_os_map_aligned(sizeof(sa_heap_t), SA_OS_PAGE_SIZE, sizeof(sa_heap_t));
        }
        if (heap == NULL) {
            errno = ENOMEM;
            return NULL;
        }
        heap_reset(heap);
        _sa_remote_cache_init(heap);
        atomic_store_explicit(&heap->claimed, true, memory_order_relaxed);
        /* The registry only grows: a lock-free push. */
        sa_heap_t *first = sa_point_load("load heaps_all", &heaps_all, memory_order_relaxed);
        do
            heap->next_all = first;
        while (!sa_point_cas_weak("cas heaps_all", &heaps_all, &first, heap,
                                  memory_order_release, memory_order_relaxed));
    }
    heap->first_class = first_class;
    heap->alive = true;
    return heap;
}

/* A heap's thread is done with it (exit, or a stocked heap given up): adopt
 * the oldest abandoned segments, more than this heap may add (the collect
 * that follows, of the release or the stocking, returns those whose blocks
 * were all freed meanwhile, and the list cannot outgrow its visits).
 * spec: bounds.smt2 exit_visit */
static void heap_exit_reclaim(sa_heap_t *heap)
{
    _sa_segments_reclaim(heap, SA_EXIT_RECLAIM + _sa_heap_segment_count(heap), 0, true);
}

/* Give up a heap whose thread is done with it (the stock is full, or it is
 * a stocked heap given up): the exit's adoption of abandoned segments, then
 * what is empty retired and purged now (the empty segments stay mapped, in
 * the global cache, for the next thread), the rest abandoned. */
void _sa_heap_give_up(sa_heap_t *heap)
{
    heap_exit_reclaim(heap);
    _sa_heap_release(heap, NULL);
}

/* Stock the heap of an exiting thread, if fewer than SA_HEAP_STOCK_MAX are
 * and memory is not short: collect it as a give-up does (remote pages taken
 * back, the remote cache given back, empty pages retired and purged now,
 * its cached segments purged) but abandon nothing: its pages with live
 * blocks stay its own, in its queues, with their free blocks, for the next
 * thread to start, which takes the heap whole (heap_claim) and mallocs from
 * them at once, where an empty heap makes and faults fresh pages. Until
 * then it is a live heap whose thread sleeps: a remote free into one of its
 * pages pushes on the page's thread_free and reports the page on this
 * heap's remote_pages as for any owner (spec: page.smt2 unchanged; the
 * argument in docs/verification.md "Stocked heaps"). What it holds stays
 * resident until then: at most SA_HEAP_STOCK_MAX heaps of it, given back by
 * heaps_release_stocked. */
static bool heap_stock(sa_heap_t *heap)
{
    if (_sa_oom_pressure())
        return false;
    size_t n = sa_point_load("load stocked count", &heaps_stocked, memory_order_relaxed);
    do {
        if (n >= SA_HEAP_STOCK_MAX)
            return false;
    } while (!sa_point_cas_weak("cas stocked count", &heaps_stocked, &n, n + 1,
                                memory_order_relaxed, memory_order_relaxed));
    heap_exit_reclaim(heap);    /* as every exit: spec: bounds.smt2 exit_visit */
    _sa_heap_collect(heap, true, false);
    _sa_segment_purge_now(heap);
    sa_point_store("store stocked_at", &heap->stocked_at, _sa_os_now_ms() + 1,
                   memory_order_relaxed);
    if (_sa_heap_tls == heap)
        _sa_heap_tls = SA_HEAP_EMPTY;
    /* Everything above happens before the heir's first use. */
    heap_unclaim(heap);
    return true;
}

/* Give up stocked heaps (all, or the stale ones: stocked longer than
 * SA_HEAP_STOCK_STALE_MS; none on a timer if the purge delay is -1, never),
 * each claimed first by the CAS a thread start uses: O(heap) each, so only
 * at a thread exit, sa_collect and out of memory, never on the malloc or
 * free path. While no thread starts or exits and nobody calls sa_collect,
 * up to SA_HEAP_STOCK_MAX exited heaps' memory stays resident. (Not the
 * purge delay: a stock waits for the next thread start, which a loaded
 * machine delays by far more than 10 ms; config.h.) */
static void heaps_release_stocked(bool all)
{
    if (sa_point_load("load stocked count", &heaps_stocked, memory_order_relaxed) == 0)
        return;
    uint64_t now = _sa_os_now_ms();
    bool on_timer = _sa_purge_delay_ms() != UINT64_MAX;
    for (sa_heap_t *h = atomic_load_explicit(&heaps_all, memory_order_acquire); h != NULL;
         h = h->next_all) {
        uint64_t at = sa_point_load("load stocked_at", &h->stocked_at, memory_order_relaxed);
        if (at == 0 || (!all && (!on_timer || now - (at - 1) < SA_HEAP_STOCK_STALE_MS)))
            continue;
        if (!heap_try_claim(h))
            continue;
        if (sa_point_load("load stocked_at", &h->stocked_at, memory_order_relaxed) == 0) {
            heap_unclaim(h);    /* taken and given up empty meanwhile */
            continue;
        }
        heap_unstock(h);
        _sa_heap_give_up(h);
    }
}

/* The owning thread exits (pthread key destructor): first the stale stocked
 * heaps (no thread took them within SA_HEAP_STOCK_STALE_MS) are given up (an exit is the
 * slow path that makes them); then this heap is stocked for the next
 * thread, or given up: what is empty given back, the rest abandoned, the
 * heap left empty for the next thread to claim.
 * Pages still reported on our stack are ours: they are taken back first, so
 * afterwards only an in-flight remote free can push onto this dead heap's
 * stack; whoever recycles the heap forwards such pages to their new owner. */
void _sa_heap_done(sa_heap_t *heap)
{
    if (heap == NULL || heap == &_sa_heap_empty || !heap->alive)
        return;
    heaps_release_stocked(false);
    if (!heap_stock(heap))
        _sa_heap_give_up(heap);
}

/* The owner gives the heap up (thread exit, sa_heap_destroy, sa_heap_delete):
 * what is empty retired and purged now (the empty segments stay mapped, in
 * the global cache, for the next thread); the segments with live blocks
 * abandoned, or handed to `heir`; the heap left for a later thread to claim. */
void _sa_heap_release(sa_heap_t *heap, sa_heap_t *heir)
{
    _sa_heap_collect(heap, true, false);
    _sa_segment_purge_now(heap);
    heap->alive = false;
    if (heir != NULL)
        _sa_segments_hand_over(heap, heir);
    else
        _sa_segments_abandon(heap);
    heap_reset(heap);
    if (_sa_heap_tls == heap)
        _sa_heap_tls = SA_HEAP_EMPTY;
    /* Everything above happens before the next owner's first use. */
    sa_point_store("store claimed", &heap->claimed, false, memory_order_release);
    /* Pages that in-flight remote frees reported to dead heaps (this one or
     * earlier ones) go to their current owners now: thread exit is the slow
     * path that causes them, so it pays for them. */
    _sa_segments_forward_dead();
}

/* Take every dead heap's remote_pages stack whole (pages a remote free
 * reported to a heap whose thread exited meanwhile) as one list linked by
 * remote_next. Lock order: the abandon lock (held by the caller), then ours. */
sa_page_t *_sa_heaps_take_dead_remote(void)
{
    sa_page_t *all = NULL;
    sa_point_lock("lock heaps", &heaps_lock);
    for (sa_heap_t *h = sa_point_load("load heaps_all", &heaps_all, memory_order_acquire);
         h != NULL; h = h->next_all) {
        if (sa_point_load("load claimed", &h->claimed, memory_order_acquire))
            continue;   /* owned: its thread takes its stack (and forwards strays) */
        if (sa_point_load("load stocked_at", &h->stocked_at, memory_order_relaxed) != 0)
            continue;   /* stocked: a live heap whose thread sleeps; its heir takes it */
        sa_page_t *list = _sa_page_stack_take(&h->remote_pages);
        while (list != NULL) {
            sa_page_t *next = list->remote_next;
            list->remote_next = all;
            all = list;
            list = next;
        }
    }
    sa_point_unlock("unlock heaps", &heaps_lock);
    return all;
}

/* Out of memory: the segments other heaps keep cached go back to the OS
 * (a heap whose owner uses its cache this instant is passed over). At most
 * SA_SEGMENT_CACHE_MAX per heap, over the registry (the most threads that
 * were ever alive at once). */
static void heaps_release_caches(sa_heap_t *self)
{
    for (sa_heap_t *h = atomic_load_explicit(&heaps_all, memory_order_acquire); h != NULL;
         h = h->next_all)
        if (h != self)
            _sa_segment_cache_steal(h);
}

/* The heaps' counters summed over every heap ever made (read racily: best
 * effort): per size class (indexed by bin) mallocs, frees, remote frees;
 * in totals, generic calls and the largest step count. */
void _sa_heaps_stats(sa_stats_t *totals, sa_class_stats_t *classes)
{
    for (sa_heap_t *h = atomic_load_explicit(&heaps_all, memory_order_acquire); h != NULL;
         h = h->next_all) {
        for (size_t bin = 0; bin < SA_BIN_COUNT; bin++) {
            classes[bin].mallocs += __atomic_load_n(&h->stat_malloc[bin], __ATOMIC_RELAXED);
            classes[bin].frees += __atomic_load_n(&h->stat_free[bin], __ATOMIC_RELAXED);
            classes[bin].remote_frees += __atomic_load_n(&h->stat_remote_free[bin], __ATOMIC_RELAXED);
        }
        totals->generic_calls += __atomic_load_n(&h->generic_count, __ATOMIC_RELAXED);
        uint64_t steps = __atomic_load_n(&h->stat_steps_max, __ATOMIC_RELAXED);
        if (steps > totals->steps_max)
            totals->steps_max = steps;
    }
}

void _sa_heap_lock_all(void)
{
    pthread_mutex_lock(&heaps_lock);
}

void _sa_heap_unlock_all(bool child)
{
    _sa_fork_unlock(&heaps_lock, child);
}
