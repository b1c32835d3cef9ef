/* src/segment.c -- segments: SA_SEGMENT_SIZE-aligned mappings carved into
 * pages of one kind. A heap keeps the segments it owns on lists (with a free
 * page, full, or cached empty); a retired page returns here and is purged
 * after the purge delay; an empty segment goes to the heap's cache, else to
 * the global cache (both purged after the delay), else back to the OS. When
 * a thread exits its segments with live blocks are abandoned onto the back of
 * one global FIFO list, from whose front every thread exit adopts more than it
 * adds (spec: bounds.smt2 exit_visit) and a generic malloc of any thread whose
 * heap has no segment with a free page of the kind it needs reclaims a bounded
 * number per call.
 * The abandon lock (a mutex, never held while waiting for anything else but
 * the heaps lock) guards that list and the owner of every page that has one
 * no longer or not yet: abandon and reclaim change page->heap under it.
 * (page_init sets the owner of a page no other thread can reach yet, without
 * it.) The global cache has a lock of its own, held only to push, pop or
 * purge a few segments: a thread exit holds the abandon lock while it adopts
 * and abandons a dozen segments, and a starting thread that found the cache
 * busy behind it mapped (and faulted in) a fresh segment instead. The malloc
 * and free paths only ever try either lock (pthread_mutex_trylock): if it is
 * busy they skip the step (reclaim, a cached segment) until a later generic
 * call, or hand the work over through a lock-free stack (forwarding a QUEUED
 * page), so no malloc or free waits behind another thread. Thread exit,
 * sa_collect, the fork handlers and the out-of-memory fallback wait. No
 * thread holds both locks at once. */
#include <errno.h>
#include <sched.h>
#include "internal.h"

static pthread_mutex_t abandon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t global_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Take a lock of this file: wait for it (thread exit, sa_collect, the
 * out-of-memory fallback), or only try it (the malloc and free paths).
 * Returns whether it is held. The sites name the lock for the model checker. */
static bool lock_take(pthread_mutex_t *m, bool wait, const char *lock_site, const char *try_site)
{
    (void)lock_site;    /* read by the model-checking build only */
    (void)try_site;
    if (wait) {
        sa_point_lock(lock_site, m);
        return true;
    }
    return sa_point_trylock(try_site, m) == 0;
}

static bool abandon_lock_take(bool wait)
{
    return lock_take(&abandon_lock, wait, "lock abandon", "trylock abandon");
}

static void abandon_lock_drop(void)
{
    sa_point_unlock("unlock abandon", &abandon_lock);
}

static bool global_cache_lock_take(bool wait)
{
    return lock_take(&global_cache_lock, wait, "lock global cache", "trylock global cache");
}

static void global_cache_lock_drop(void)
{
    sa_point_unlock("unlock global cache", &global_cache_lock);
}

/* Empty segments of exited threads (and overflow of the per-heap caches),
 * at most SA_SEGMENT_CACHE_GLOBAL_MAX, purged after the delay like a heap's
 * cache: a thread started after another one ended reuses its segments
 * without new mappings or page faults. Guarded by global_cache_lock. */
static sa_segment_list_t global_cache;
_Atomic size_t _sa_global_cache_count;     /* global_cache.count, for the lock-free test */
static void forward_dead_locked(void);
static void forward_queued_locked(sa_page_t *page);
static void adopt_segment(sa_heap_t *heap, sa_segment_t *seg);
static size_t forward_pending_locked(size_t max);
/* Abandoned segments, oldest first: a thread exit appends, reclaim takes
 * from the front, so the segments visited first are those whose blocks have
 * had the longest to be freed. Guarded by the abandon lock. */
static sa_segment_list_t abandoned;
_Atomic size_t _sa_abandoned_segments;     /* abandoned.count, for the lock-free test */
/* QUEUED pages whose owner a remote free or a heap could not reach (they were
 * abandoned meanwhile): a lock-free stack through remote_next, pushed without
 * the lock, taken whole into forward_local under the lock and forwarded from
 * there by reclaim (a few per generic call), thread exit and sa_collect. */
static _Atomic(sa_page_t *) forward_pending;
static sa_page_t *forward_local;           /* abandon lock */
_Atomic size_t _sa_forward_count;          /* pages on both, for the lock-free test */

/* ---- segment lists ------------------------------------------------------------- */

/* Every list of segments (a heap's avail, full and cache lists, the global
 * cache, the abandoned list, huge.c's far blocks) is an sa_segment_list_t
 * through seg->next/prev: a segment is on at most one. */
void _sa_segment_list_push(sa_segment_list_t *l, sa_segment_t *seg)
{
    seg->prev = NULL;
    seg->next = l->first;
    if (l->first != NULL) l->first->prev = seg; else l->last = seg;
    l->first = seg;
    l->count++;
}

void _sa_segment_list_append(sa_segment_list_t *l, sa_segment_t *seg)
{
    seg->next = NULL;
    seg->prev = l->last;
    if (l->last != NULL) l->last->next = seg; else l->first = seg;
    l->last = seg;
    l->count++;
}

void _sa_segment_list_remove(sa_segment_list_t *l, sa_segment_t *seg)
{
    if (seg->prev != NULL) seg->prev->next = seg->next; else l->first = seg->next;
    if (seg->next != NULL) seg->next->prev = seg->prev; else l->last = seg->prev;
    seg->next = seg->prev = NULL;
    l->count--;
}

/* The whole list, emptied (its segments still linked by next). */
static sa_segment_t *list_take_all(sa_segment_list_t *l)
{
    sa_segment_t *all = l->first;
    /* a heap's cache.first is read unlocked by its owner's
     * _sa_heap_purge_pending: atomic */
    __atomic_store_n(&l->first, NULL, __ATOMIC_RELAXED);
    l->last = NULL;
    l->count = 0;
    return all;
}

/* Bytes of entry i of the segment's layout (a large segment's: unit i). */
static size_t page_area(const sa_segment_t *seg, size_t i)
{
    return _sa_page_area_size(_sa_layout_kind(seg->page_kind), i);
}

/* No page can be made here: every entry in use, or, in a large segment,
 * every unit in a span. */
static bool segment_full(const sa_segment_t *seg)
{
    if (seg->page_kind == SA_PAGE_LARGE)
        return seg->span_free == 0;
    return seg->used_pages == seg->page_count;
}

static bool segment_all_purged(const sa_segment_t *seg)
{
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 B_RETIRE */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        if (!seg->pages[i].purged)
            return false;
    }
    return true;
}

_Static_assert(SA_MAX_PAGES_PER_SEGMENT == SA_SMALL_PAGES_PER_SEGMENT,
              "segment_carve sets one unit_page entry per page slot");
_Static_assert(SA_SMALL_PAGES_PER_SEGMENT <= 64, "page_units: a segment's units fit one word");

/* span_free of a large segment with no page made: every unit. */
#define SA_SPAN_ALL_FREE \
    (SA_SMALL_PAGES_PER_SEGMENT == 64 ? UINT64_MAX : ((uint64_t)1 << SA_SMALL_PAGES_PER_SEGMENT) - 1)

_Static_assert(SA_MEDIUM_PAGE_SIZE / SA_SMALL_PAGE_SIZE < 64,
               "page_units: a layout's page is fewer than 64 units (_sa_span_mask)");

/* The SA_SMALL_PAGE_SIZE units of the segment (bit u: unit u) that page
 * `index` of a `kind` segment's layout spans (a large segment's layout is
 * units, _sa_layout_kind: no page of a layout spans the whole segment). */
static uint64_t page_units(sa_page_kind_t kind, size_t index)
{
    size_t per_page = (size_t)1 << (_sa_page_shift(_sa_layout_kind(kind)) - SA_SMALL_PAGE_SHIFT);
    return _sa_span_mask(index * per_page, per_page);
}

/* Lay out a segment's page table for a page kind. `committed` counts only
 * memory the allocator may have touched: a fresh segment's pages never were
 * (demand-zero, as purged ones), so they start purged, are counted when
 * handed out and are never purged before that. Re-carved for another kind, a
 * page of the new layout is committed if it overlaps one of the old layout
 * that was (counted whole: an over-estimate the next purge corrects, never
 * below what is really committed), else purged. */
static void segment_carve(sa_segment_t *seg, sa_page_kind_t kind, bool fresh)
{
    if (!fresh && seg->page_kind == kind) {
        return;     /* same layout: pages keep their purged state */
    }
    uint64_t committed_units = 0;
    if (!fresh) {
        SA_TRACE_LOOP(SA_LOOP_PAGES);  /* spec: bounds.smt2 B_SEGMENT */
        for (size_t i = 0; i < seg->page_count; i++) {
            SA_TRACE_STEP(SA_LOOP_PAGES);
            if (!seg->pages[i].purged) {
                committed_units |= page_units(seg->page_kind, i);
                atomic_fetch_sub_explicit(&_sa_os_stats.committed, page_area(seg, i),
                                          memory_order_relaxed);
            }
        }
    }
    seg->page_kind = kind;
    seg->page_count = (uint32_t)_sa_pages_per_segment(_sa_layout_kind(kind));
    seg->span_free = kind == SA_PAGE_LARGE ? SA_SPAN_ALL_FREE : 0;
    seg->span_committed = kind == SA_PAGE_LARGE ? committed_units : 0;
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 CARVE */
    for (size_t i = 0; i < SA_MAX_PAGES_PER_SEGMENT; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        bool committed = i < seg->page_count && (committed_units & page_units(kind, i)) != 0;
        sa_page_t *page = &seg->pages[i];
        *page = (sa_page_t){ .index = (uint16_t)i, .purged = !committed };
        if (committed)
            _sa_stat_add_peak(&_sa_os_stats.committed, &_sa_gstats.committed_peak,
                              page_area(seg, i));
        _sa_segment_unit_set(seg, i, _sa_layout_kind(kind));    /* a unit is a small page's span */
    }
}

/* A segment from the global cache, or NULL if it is empty or its lock busy
 * (the caller then maps a fresh one: never waits on the malloc path). */
static sa_segment_t *global_cache_take(void)
{
    if (sa_point_load("load global cache count", &_sa_global_cache_count, memory_order_relaxed) == 0)
        return NULL;
    if (!global_cache_lock_take(false))
        return NULL;
    sa_segment_t *seg = global_cache.first;
    if (seg != NULL) {
        _sa_segment_list_remove(&global_cache, seg);
        sa_point_store("store global cache count", &_sa_global_cache_count, global_cache.count,
                       memory_order_relaxed);
    }
    global_cache_lock_drop();
    return seg;
}

/* Keep an empty segment in the global cache if there is room. Only a thread
 * exit (wait) waits for the lock; a generic malloc retiring a page finds it
 * busy and unmaps the segment instead. */
static bool global_cache_put(sa_segment_t *seg, bool wait)
{
    bool kept = false;
    if (!global_cache_lock_take(wait))
        return false;
    if (global_cache.count + 1 <= SA_SEGMENT_CACHE_GLOBAL_MAX) {    /* (compiles at 0 too) */
        seg->heap = NULL;
        if (seg->purge_at == 0 && !segment_all_purged(seg))
            seg->purge_at = _sa_purge_deadline_segment(_sa_os_now_ms());
        _sa_segment_list_push(&global_cache, seg);
        sa_point_store("store global cache count", &_sa_global_cache_count, global_cache.count,
                       memory_order_relaxed);
        kept = true;
    }
    global_cache_lock_drop();
    return kept;
}

/* A retired page waits on its heap's purge list until `when` (ms).
 * Invariant: a page is only ever on the purge list of the heap that owns its
 * segment, and a segment is abandoned or cached only once none of its pages
 * is on any purge list (a reclaimer would otherwise link them into its own). */
static void purge_list_append(sa_heap_t *heap, sa_page_t *page, uint64_t when)
{
    sa_assert(!page->in_purge_list);
    sa_assert(_sa_segment_of_ptr(page)->heap == heap);
    page->purge_at = when;
    page->in_purge_list = 1;
    _sa_page_queue_push_back(heap, &heap->purge, page);
}

/* ---- the heap's cache: its owner's, but taken by a thread out of memory ---- */

static bool cache_try_lock(sa_heap_t *heap)
{
    return !sa_point_exchange("exchange cache_busy", &heap->cache_busy, true, memory_order_acquire);
}

static void cache_unlock(sa_heap_t *heap)
{
    sa_point_store("store cache_busy", &heap->cache_busy, false, memory_order_release);
}

/* Thread exit only: a taker holds the flag for a few instructions. */
static void cache_lock(sa_heap_t *heap)
{
    while (!cache_try_lock(heap))
        sched_yield();
}

/* Take the heap's whole cache (NULL if empty, or if the flag is busy). */
static sa_segment_t *cache_detach(sa_heap_t *heap)
{
    if (!cache_try_lock(heap))
        return NULL;
    sa_segment_t *all = list_take_all(&heap->cache);
    cache_unlock(heap);
    return all;
}

/* A segment for `kind`: from the heap's cache, the global cache, or the OS. */
static sa_segment_t *segment_new(sa_heap_t *heap, sa_page_kind_t kind)
{
    sa_segment_t *seg = NULL;
    if (cache_try_lock(heap)) {
        seg = heap->cache.first;
        if (seg != NULL)
            _sa_segment_list_remove(&heap->cache, seg);
        cache_unlock(heap);
    }
    if (seg == NULL)
        seg = global_cache_take();
    bool reused = seg != NULL;      /* from a cache: its pages may be resident */
    if (reused) {
        segment_carve(seg, kind, false);
    } else {
        /* committed: the header and page table only, written at once */
        seg = _sa_os_map_aligned(SA_SEGMENT_SIZE, SA_SEGMENT_SIZE, SA_SEGMENT_INFO_SIZE);
        if (seg == NULL)
            return NULL;
        if (!_sa_segmap_set((uintptr_t)seg, true)) {
            _sa_os_unmap(seg, SA_SEGMENT_SIZE, SA_SEGMENT_INFO_SIZE);
            errno = ENOMEM;
            return NULL;
        }
        seg->kind = SA_SEGMENT_PAGES;
        segment_carve(seg, kind, true);
        atomic_fetch_add_explicit(&_sa_os_stats.segments, 1, memory_order_relaxed);
        _sa_stat_inc(&_sa_gstats.segments_made);
    }
    seg->used_pages = 0;
    seg->heap = heap;
    seg->purge_at = 0;
    _sa_segment_list_push(&heap->avail[kind], seg);
    if (reused) {
        /* From a cache before its purge: its pages may still be resident.
         * Those not handed out soon are purged like retired pages. */
        uint64_t when = _sa_purge_deadline(_sa_os_now_ms());
        SA_TRACE_LOOP(SA_LOOP_PAGES);  /* spec: bounds.smt2 B_SEGMENT */
        for (size_t i = 0; i < seg->page_count; i++) {
            SA_TRACE_STEP(SA_LOOP_PAGES);
            if (!seg->pages[i].purged)
                purge_list_append(heap, &seg->pages[i], when);
        }
    }
    return seg;
}

static void segment_unmap(sa_segment_t *seg)
{
    size_t committed = SA_SEGMENT_INFO_SIZE;
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 B_RETIRE */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        if (!seg->pages[i].purged)
            committed += page_area(seg, i);
    }
    _sa_segmap_set((uintptr_t)seg, false);
    atomic_fetch_sub_explicit(&_sa_os_stats.segments, 1, memory_order_relaxed);
    _sa_os_unmap(seg, SA_SEGMENT_SIZE, committed);
}

/* Out of memory: another heap's cached segments back to the OS (unless its
 * owner is using its cache this instant). At most SA_SEGMENT_CACHE_MAX
 * segments. Returns how many. */
size_t _sa_segment_cache_steal(sa_heap_t *heap)
{
    size_t n = 0;
    for (sa_segment_t *seg = cache_detach(heap); seg != NULL; n++) {
        sa_segment_t *next = seg->next;
        segment_unmap(seg);
        seg = next;
    }
    return n;
}

/* ---- pages from segments ---------------------------------------------------------- */

static void purge_list_remove(sa_heap_t *heap, sa_page_t *page)
{
    if (!page->in_purge_list)
        return;
    _sa_page_queue_remove(heap, &heap->purge, page);
    page->in_purge_list = 0;
}

/* Entry `page` of seg, not in use and its memory made committed, taken
 * out of its heap's purge list first (a retired page waiting to be purged,
 * or a large segment's unit). */
static void entry_take(sa_heap_t *heap, sa_segment_t *seg, sa_page_t *page)
{
    purge_list_remove(heap, page);
    if (page->purged) {
        if (page->purged_at != 0)       /* 0: never touched, not purged */
            _sa_purge_note_reuse(page->purged_at);
        page->purged = 0;
        if (seg->page_kind == SA_PAGE_LARGE)
            seg->span_committed |= (uint64_t)1 << page->index;
        _sa_stat_add_peak(&_sa_os_stats.committed, &_sa_gstats.committed_peak,
                                  page_area(seg, page->index));
    }
}

/* A page made in use in seg: counted, and seg to the full list if no other
 * page can be made there. */
static void page_take(sa_heap_t *heap, sa_segment_t *seg, sa_page_t *page)
{
    page->in_use = 1;   /* page_init fills in the rest */
    seg->used_pages++;
    if (segment_full(seg)) {
        _sa_segment_list_remove(&heap->avail[seg->page_kind], seg);
        _sa_segment_list_push(&heap->full_segments, seg);
    }
}

/* ---- spans: a large page as long as its block ----------------------------------
 *
 * A large segment's entries are its units (_sa_layout_kind). A large page is
 * the entry of the first unit of a span of free units (span_free) long
 * enough for one block of its class (_sa_span_units), the first that fits
 * (_sa_span_fits, no loop); the other units' entries are span_covered and
 * the unit table sends each unit of the span to the page. Retired, the
 * span's units are free again, each its own entry, committed, on the purge
 * list as a retired page is. So a freed buffer's memory goes to the next
 * large block of any class, as in mimalloc, where a large page of a
 * class's own (4 MiB, up to 14 blocks) kept what its class once held
 * (docs/design.md, "Buffers"). */

/* The longest span: the largest large block from unit 0 (layout.h
 * _sa_span_units, as a constant expression). */
#define SA_SPAN_UNITS_MAX \
    ((SA_LARGE_OBJ_SIZE_MAX + SA_SEGMENT_INFO_SIZE + SA_SMALL_PAGE_SIZE - 1) / SA_SMALL_PAGE_SIZE)
_Static_assert(SA_SPAN_UNITS_MAX <= SA_SMALL_PAGES_PER_SEGMENT,
               "a fresh large segment holds a span for the largest large block");
_Static_assert(SA_SPAN_TRIES + SA_SPAN_UNITS_MAX <= SA_MAX_PAGES_PER_SEGMENT,
               "the segments tried and the units cut stay within bounds.smt2's SCAN of P steps");

static sa_page_t *span_cut(sa_heap_t *heap, sa_segment_t *seg, size_t u, size_t block_size);

/* Unit v of a large segment in no span again: its own entry, as carved. */
static void unit_uncover(sa_segment_t *seg, size_t v)
{
    seg->pages[v].span_covered = 0;
    _sa_segment_unit_set(seg, v, _sa_layout_kind(SA_PAGE_LARGE));
}

/* The heap's last emptied large pages (types.h large_emptied) that are still
 * empty and may retire: retired, so that their spans serve the block the
 * caller wants, whatever its class. The others, used again or waited on by
 * another thread, leave the ring: they retire after their delay, if they
 * empty. spec: bounds.smt2 B_LARGE_RETIRES (at most SA_LARGE_EMPTIED_MAX
 * retires) */
static void large_emptied_retire(sa_heap_t *heap)
{
    SA_TRACE_LOOP(SA_LOOP_LARGE_EMPTIED);  /* spec: bounds.smt2 B_LARGE_RETIRES */
    for (size_t i = 0; i < SA_LARGE_EMPTIED_MAX; i++) {
        sa_page_t *page = heap->large_emptied[i];
        heap->large_emptied[i] = NULL;
        if (page == NULL)
            continue;
        SA_TRACE_STEP(SA_LOOP_LARGE_EMPTIED);
        sa_assert(page->in_use && page->span_units != 0);   /* a retire takes it out */
        if (_sa_page_can_retire(page))
            _sa_page_retire(heap, page);
    }
}

/* A large page for one block of block_size: the first span that fits (the
 * first of those whose units are all committed, if any) in the fullest of
 * the first SA_SPAN_TRIES segments of avail with room for it (one with no
 * room goes to the back of the list, so the next try looks at another), or
 * in a segment made for it. The fullest, so that the emptier segments
 * drain and go back: config.h SA_SPAN_TRIES. First the heap's emptied
 * large pages are retired, their spans free for this one. spec:
 * bounds.smt2 FRESH (the retires) and SCAN (the tries and the units: at
 * most P steps, static_assert'ed above) */
static sa_page_t *span_alloc(sa_heap_t *heap, size_t block_size)
{
    large_emptied_retire(heap);
    sa_segment_list_t *avail = &heap->avail[SA_PAGE_LARGE];
    sa_segment_t *seg = NULL;
    uint64_t fits = 0;
    int least_free = SA_MAX_PAGES_PER_SEGMENT + 1;
    sa_segment_t *candidate = avail->first;
    SA_TRACE_LOOP(SA_LOOP_PAGES);
    for (size_t t = 0; t < SA_SPAN_TRIES && candidate != NULL; t++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        sa_segment_t *next = candidate->next;
        uint64_t candidate_fits = _sa_span_fits(candidate->span_free, block_size);
        int free_units = __builtin_popcountll(candidate->span_free);
        if (candidate_fits == 0) {
            _sa_segment_list_remove(avail, candidate);
            _sa_segment_list_append(avail, candidate);
        } else if (free_units < least_free) {
            least_free = free_units;
            seg = candidate;
            fits = candidate_fits;
        }
        candidate = next;
    }
    if (seg == NULL) {
        seg = segment_new(heap, SA_PAGE_LARGE);
        if (seg == NULL)
            return NULL;
        fits = _sa_span_fits(seg->span_free, block_size);
        sa_assert(fits & 1);    /* a fresh segment: from unit 0 */
    }
    /* A run still committed if there is one: no faults, and most likely
     * memory the program touched lately. */
    uint64_t warm = _sa_span_fits(seg->span_free & seg->span_committed, block_size);
    size_t u = (size_t)__builtin_ctzll(warm != 0 ? warm : fits);
    return span_cut(heap, seg, u, block_size);
}

/* The large page for a block of block_size from unit u of seg, where
 * _sa_span_fits says one begins: its units leave the purge list and are
 * committed, the unit table sends them to the page. */
static sa_page_t *span_cut(sa_heap_t *heap, sa_segment_t *seg, size_t u, size_t block_size)
{
    sa_assert(_sa_span_fits(seg->span_free, block_size) & ((uint64_t)1 << u));
    size_t units = _sa_span_units(block_size, u);
    sa_page_t *page = &seg->pages[u];
    SA_TRACE_LOOP(SA_LOOP_PAGES);
    for (size_t v = u; v < u + units; v++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        sa_page_t *unit = &seg->pages[v];
        sa_assert(!unit->in_use && !unit->span_covered);
        entry_take(heap, seg, unit);
        unit->span_covered = v != u;
        _sa_segment_span_unit_set(seg, v, u);
    }
    seg->span_free &= ~_sa_span_mask(u, units);
    page->span_units = (uint8_t)units;
    page_take(heap, seg, page);
    return page;
}

/* A retired large page's units are free again, each its own entry (the
 * unit table back to the carved layout), waiting on the purge list. Not
 * for the segment's last page: segment_release resets the segment whole. */
static void span_retire(sa_heap_t *heap, sa_segment_t *seg, sa_page_t *page, uint64_t purge_at)
{
    size_t u = page->index;
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 B_RETIRE (a span: at most P units) */
    for (size_t v = u; v < u + page->span_units; v++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        unit_uncover(seg, v);
        purge_list_append(heap, &seg->pages[v], purge_at);
    }
    page->span_units = 0;
}

/* A free page for a block of `bin` for the heap: a large one cut to the
 * block's length (span_alloc), or any free page of the first segment of its
 * kind (at most SA_MAX_PAGES_PER_SEGMENT looked at), or of one made
 * (1 OS call). */
sa_page_t *_sa_segment_page_alloc(sa_heap_t *heap, size_t bin)
{
    sa_page_kind_t kind = _sa_page_kind_of_bin(bin);
    if (kind == SA_PAGE_LARGE)
        return span_alloc(heap, _sa_bin_size(bin));
    sa_segment_t *seg = heap->avail[kind].first;
    if (seg == NULL) {
        seg = segment_new(heap, kind);
        if (seg == NULL)
            return NULL;
    }
    /* Prefer a page whose memory is still committed (retired, not purged
     * yet): reusing it costs no page faults. Else the first free one: a
     * fresh segment's pages go out in address order. (Taking the last
     * free one, as this loop did, handed a fresh segment out from the top
     * down once its pages counted as purged: bench/tchurn 1 on one CPU
     * made 13.7k page faults, against 11.1k now, medians of 20 runs.) */
    sa_page_t *page = NULL;
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 SCAN */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        sa_page_t *candidate = &seg->pages[i];
        if (candidate->in_use)
            continue;
        if (!candidate->purged) {
            page = candidate;
            break;
        }
        if (page == NULL)
            page = candidate;
    }
    sa_assert(page != NULL);
    if (page == NULL)
        return NULL;
    entry_take(heap, seg, page);
    page_take(heap, seg, page);
    return page;
}

static void page_purge(sa_segment_t *seg, sa_page_t *page)
{
    size_t area = page_area(seg, page->index);
    _sa_os_purge((uint8_t *)seg + _sa_page_area_start(_sa_layout_kind(seg->page_kind), page->index), area);
    page->purged = 1;
    if (seg->page_kind == SA_PAGE_LARGE)
        seg->span_committed &= ~((uint64_t)1 << page->index);
    page->purged_at = _sa_os_now_ms();  /* see _sa_purge_note_reuse */
    atomic_fetch_sub_explicit(&_sa_os_stats.committed, area, memory_order_relaxed);
}

/* Purge a whole empty segment's block area with one OS call. */
static void segment_purge(sa_segment_t *seg)
{
    size_t committed = 0;
    uint64_t now = _sa_os_now_ms();
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 B_PURGE_SEGMENTS */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        if (!seg->pages[i].purged) {
            committed += page_area(seg, i);
            seg->pages[i].purged = 1;
            seg->pages[i].purged_at = now;
        }
    }
    seg->span_committed = 0;
    if (committed > 0) {
        _sa_os_purge((uint8_t *)seg + SA_SEGMENT_INFO_SIZE, SA_SEGMENT_SIZE - SA_SEGMENT_INFO_SIZE);
        atomic_fetch_sub_explicit(&_sa_os_stats.committed, committed, memory_order_relaxed);
    }
    seg->purge_at = 0;
}

/* An empty segment leaves its heap: into the cache, or back to the OS. */
static void segment_release(sa_heap_t *heap, sa_segment_t *seg)
{
    _sa_segment_list_remove(&heap->avail[seg->page_kind], seg);
    sa_assert(seg->page_kind != SA_PAGE_LARGE || seg->span_free == SA_SPAN_ALL_FREE);
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 B_RETIRE */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        sa_page_t *page = &seg->pages[i];
        purge_list_remove(heap, page);
        if (seg->page_kind == SA_PAGE_LARGE) {
            /* its last page's span, as carved again (span_retire) */
            page->span_units = 0;
            unit_uncover(seg, i);
        }
    }
    uint64_t now = _sa_os_now_ms();
    /* A large segment empties and fills again as a program's buffers come
     * and go: it waits the lengthened delay of retired pages (design.md). */
    seg->purge_at = seg->page_kind == SA_PAGE_LARGE ? _sa_purge_deadline(now)
                                                    : _sa_purge_deadline_segment(now);
    /* Under memory pressure the heap keeps one emptied segment (the next
     * page its thread needs, if it goes on allocating; another thread out of
     * memory may take it) and gives the others straight back to the OS. */
    bool pressure = _sa_oom_pressure();
    bool kept = false;
    if (heap->alive && cache_try_lock(heap)) {
        if (heap->cache.count < (pressure ? 1 : SA_SEGMENT_CACHE_MAX)) {
            _sa_segment_list_push(&heap->cache, seg);
            kept = true;
        }
        cache_unlock(heap);
    }
    if (!kept && (pressure || !global_cache_put(seg, !heap->alive)))
        segment_unmap(seg);
}

/* A retired page returns to its segment. */
void _sa_segment_page_free(sa_heap_t *heap, sa_page_t *page)
{
    sa_segment_t *seg = _sa_segment_of_ptr(page);
    if (segment_full(seg)) {
        _sa_segment_list_remove(&heap->full_segments, seg);
        _sa_segment_list_push(&heap->avail[seg->page_kind], seg);
    }
    if (seg->page_kind == SA_PAGE_LARGE)
        seg->span_free |= _sa_span_mask(page->index, page->span_units);
    seg->used_pages--;
    if (seg->used_pages == 0) {
        segment_release(heap, seg);
        return;
    }
    uint64_t purge_at = _sa_purge_deadline(_sa_os_now_ms());
    if (seg->page_kind == SA_PAGE_LARGE)
        span_retire(heap, seg, page, purge_at);
    else if (!page->purged)
        purge_list_append(heap, page, purge_at);
}

/* Purge the expired segments of a cache, or unmap them all if force; at
 * most SA_PURGE_BATCH_MAX segments purged in all (counting `done`). */
static size_t cache_purge(sa_segment_list_t *cache, uint64_t now, bool force, size_t done)
{
    sa_segment_t *seg = cache->first;
    while (seg != NULL && (force || done < SA_PURGE_BATCH_MAX)) {
        SA_TRACE_STEP(SA_LOOP_CACHE);   /* spec: bounds.smt2 PURGE_SEGS (the caches' lengths) */
        sa_segment_t *next = seg->next;
        if (force) {
            _sa_segment_list_remove(cache, seg);
            segment_unmap(seg);
        } else if (seg->purge_at != 0 && seg->purge_at <= now) {
            segment_purge(seg);
            done++;
        }
        seg = next;
    }
    return done;
}

/* Take every page off the heap's purge list in one walk, purging each if
 * `purge`. Each link is read once, so the loop ends even if a page's flag
 * was cleared behind our back (removing "the head until empty" would then
 * spin forever). */
static void purge_list_drain(sa_heap_t *heap, bool purge)
{
    sa_page_t *page = heap->purge.first;
    heap->purge.first = heap->purge.last = NULL;
    while (page != NULL) {  /* bound: the heap's pages, on slow paths only */
        sa_page_t *next = page->next;
        sa_assert(page->in_purge_list);
        page->next = page->prev = NULL;
        page->in_purge_list = 0;
        if (purge)
            page_purge(_sa_segment_of_ptr(page), page);
        page = next;
    }
}

/* The global cache: purged by whoever passes when nobody holds the lock
 * (never waits on the malloc path, at most SA_PURGE_BATCH_MAX segments in
 * all counting `done`); force (sa_collect(true), out of memory) waits for
 * the lock and unmaps them all. */
static void global_cache_purge(uint64_t now, bool force, size_t done)
{
    if (sa_point_load("load global cache count", &_sa_global_cache_count, memory_order_relaxed) == 0)
        return;
    if (!global_cache_lock_take(force))
        return;
    cache_purge(&global_cache, now, force, done);
    sa_point_store("store global cache count", &_sa_global_cache_count, global_cache.count,
                   memory_order_relaxed);
    global_cache_lock_drop();
}

/* Purge retired pages and cached segments whose delay has passed (all of them
 * if force), at most SA_PURGE_BATCH_MAX of each unless force; force also
 * gives cached segments back to the OS. */
void _sa_segment_cache_purge(sa_heap_t *heap, uint64_t now, bool force, bool global)
{
    size_t n = 0;
    SA_TRACE_LOOP(SA_LOOP_PURGE);      /* spec: bounds.smt2 PURGE */
    while (heap->purge.first != NULL && (force || n < SA_PURGE_BATCH_MAX)) {
        sa_page_t *page = heap->purge.first;
        if (!force && page->purge_at > now)
            break;
        SA_TRACE_STEP(SA_LOOP_PURGE);
        purge_list_remove(heap, page);
        page_purge(_sa_segment_of_ptr(page), page);
        n++;
    }
    /* one walk: the heap's cache, then the global one (cache_purge) */
    SA_TRACE_LOOP(SA_LOOP_CACHE);      /* spec: bounds.smt2 PURGE_SEGS */
    if (cache_try_lock(heap)) {
        n = cache_purge(&heap->cache, now, force, 0);
        cache_unlock(heap);
    }
    if (global)
        global_cache_purge(now, force, n);
}

/* Out of memory before a heap exists: the global cache back to the OS. */
void _sa_segment_global_cache_release(void)
{
    global_cache_purge(_sa_os_now_ms(), true, 0);
}

/* A thread exits: purge its retired pages and cached segments now (keeping
 * the segments mapped for the global cache): nobody would purge them later
 * on time, and memory of exited threads is the first a user expects back.
 * Left for an adopter to purge when due, they saved the next threads page
 * faults but raised peak RSS: a reused retired page keeps its whole old
 * extent resident (docs/design.md, "Returning memory"). */
void _sa_segment_purge_now(sa_heap_t *heap)
{
    purge_list_drain(heap, true);
    cache_lock(heap);
    for (sa_segment_t *seg = heap->cache.first; seg != NULL; seg = seg->next)
        segment_purge(seg);
    cache_unlock(heap);
}

/* ---- abandon and reclaim ------------------------------------------------------------ */

/* Fork: the abandon lock and the global cache's (no thread holds both, so
 * taking them in this order cannot deadlock). */
void _sa_abandon_lock(void)
{
    pthread_mutex_lock(&abandon_lock);
    pthread_mutex_lock(&global_cache_lock);
}

void _sa_abandon_unlock(bool child)
{
    _sa_fork_unlock(&global_cache_lock, child);
    _sa_fork_unlock(&abandon_lock, child);
}


static void abandon_segment(sa_segment_t *seg)
{
    for (size_t i = 0; i < seg->page_count; i++)
        if (seg->pages[i].in_use)
            _sa_page_abandon(&seg->pages[i]);
    seg->heap = NULL;
    _sa_segment_list_append(&abandoned, seg);
    sa_point_fetch_add("add abandoned count", &_sa_abandoned_segments, 1, memory_order_relaxed);
    _sa_stat_inc(&_sa_gstats.segments_abandoned);
}

/* The segments of `heap` with pages in use, one at a time, off its lists
 * (abandon lock held by the caller). */
static sa_segment_t *take_segment(sa_heap_t *heap)
{
    for (size_t k = 0; k < SA_PAGE_KIND_COUNT; k++)
        if (heap->avail[k].first != NULL) {
            sa_segment_t *seg = heap->avail[k].first;
            _sa_segment_list_remove(&heap->avail[k], seg);
            return seg;
        }
    sa_segment_t *seg = heap->full_segments.first;
    if (seg != NULL)
        _sa_segment_list_remove(&heap->full_segments, seg);
    return seg;
}

/* The heap's empty cached segments go to the global cache, or to the OS. */
static void cache_give_up(sa_heap_t *heap)
{
    cache_lock(heap);
    sa_segment_t *seg = list_take_all(&heap->cache);
    cache_unlock(heap);
    while (seg != NULL) {
        sa_segment_t *next = seg->next;
        if (!global_cache_put(seg, true))
            segment_unmap(seg);
        seg = next;
    }
}

/* sa_heap_delete: every segment of `from` with pages in use passes to `to`,
 * each page abandoned by `from` and reclaimed by `to` at once (spec:
 * page.smt2 abandon, then reclaim: no transition of its own); its cache goes
 * as a thread's does at exit. */
void _sa_segments_hand_over(sa_heap_t *from, sa_heap_t *to)
{
    purge_list_drain(from, false);  /* `to` queues them again, as a reclaim does */
    abandon_lock_take(true);
    sa_segment_t *seg;
    while ((seg = take_segment(from)) != NULL) {
        for (size_t i = 0; i < seg->page_count; i++)
            if (seg->pages[i].in_use)
                _sa_page_abandon(&seg->pages[i]);
        adopt_segment(to, seg);
    }
    abandon_lock_drop();
    cache_give_up(from);
}

/* Calls fn on every page in use of the segments `heap` owns, until it
 * returns false. fn may change the pages but not which segments the heap
 * owns (no page retired or made). Returns whether every call returned true. */
bool _sa_segments_each_page(sa_heap_t *heap, bool (*fn)(sa_page_t *page, void *arg), void *arg)
{
    sa_segment_list_t *lists[SA_PAGE_KIND_COUNT + 1];
    for (size_t k = 0; k < SA_PAGE_KIND_COUNT; k++)
        lists[k] = &heap->avail[k];
    lists[SA_PAGE_KIND_COUNT] = &heap->full_segments;
    for (size_t l = 0; l <= SA_PAGE_KIND_COUNT; l++)
        for (sa_segment_t *seg = lists[l]->first; seg != NULL; seg = seg->next)
            for (size_t i = 0; i < seg->page_count; i++)
                if (seg->pages[i].in_use && !fn(&seg->pages[i], arg))
                    return false;
    return true;
}

/* The heap's thread exits: its segments with live blocks go to the global
 * abandoned list, its cache back to the OS. The caller has already collected
 * and retired what it could and purged the retired pages. */
void _sa_segments_abandon(sa_heap_t *heap)
{
    /* Retired pages of the segments abandoned below stay as they are (not
     * purged): whoever reclaims a segment puts them on its own purge list.
     * Off ours first: once abandoned, a segment may be reclaimed at once. */
    purge_list_drain(heap, false);
    abandon_lock_take(true);
    sa_segment_t *seg;
    while ((seg = take_segment(heap)) != NULL)
        abandon_segment(seg);
    abandon_lock_drop();
    cache_give_up(heap);
}

/* Segments the heap owns with pages in use (what its exit may abandon). */
size_t _sa_heap_segment_count(const sa_heap_t *heap)
{
    size_t n = heap->full_segments.count;
    for (size_t k = 0; k < SA_PAGE_KIND_COUNT; k++)
        n += heap->avail[k].count;
    return n;
}

/* Forward at most `max` pages of the pending stack (forward_local first,
 * then the stack taken whole: no ABA, only lock holders pop). Abandon lock
 * held. Returns how many were forwarded. */
static size_t forward_pending_locked(size_t max)
{
    size_t n = 0;
    SA_TRACE_LOOP(SA_LOOP_REMOTE);  /* spec: bounds.smt2 REMOTE (out of its budget) */
    for (; n < max; n++) {
        sa_page_t *page = _sa_page_stack_next(&forward_pending, &forward_local);
        if (page == NULL)
            break;
        SA_TRACE_STEP(SA_LOOP_REMOTE);
        sa_point_fetch_sub("sub forward count", &_sa_forward_count, 1, memory_order_relaxed);
        forward_queued_locked(page);
    }
    return n;
}

/* `heap` takes over `seg` (no owner, off every list; abandon lock held):
 * every page in use reclaimed, the retired ones not yet purged onto the
 * heap's purge list, the segment into the heap's lists. */
static void adopt_segment(sa_heap_t *heap, sa_segment_t *seg)
{
    seg->heap = heap;
    uint64_t purge_at = _sa_purge_deadline(_sa_os_now_ms());
    SA_TRACE_LOOP(SA_LOOP_PAGES);      /* spec: bounds.smt2 ADOPT */
    for (size_t i = 0; i < seg->page_count; i++) {
        SA_TRACE_STEP(SA_LOOP_PAGES);
        sa_page_t *page = &seg->pages[i];
        if (page->in_use)
            _sa_page_reclaim(heap, page);
        else if (!page->purged && !page->span_covered)
            purge_list_append(heap, page, purge_at);
    }
    if (segment_full(seg))
        _sa_segment_list_push(&heap->full_segments, seg);
    else
        _sa_segment_list_push(&heap->avail[seg->page_kind], seg);
}

/* Forward at most `forwards` pending pages, then adopt at most `tries`
 * abandoned segments with all their pages (each page reclaimed, at most
 * SA_MAX_PAGES_PER_SEGMENT per segment, no collect). With !wait (the malloc
 * path) nothing is done if the abandon lock is busy: a later generic call
 * tries again. Returns whether a segment was adopted.
 *
 * A first-class heap adopts nothing: sa_heap_destroy frees every block of
 * its pages, and an adopted page holds live blocks of an exited thread,
 * which the program still uses (tests/api/heaps.c
 * destroy_never_frees_blocks_of_an_exited_thread). */
bool _sa_segments_reclaim(sa_heap_t *heap, size_t tries, size_t forwards, bool wait)
{
    if (heap->first_class)
        tries = 0;
    if (!_sa_segments_pending())
        return false;
    if (!abandon_lock_take(wait))
        return false;
    forward_pending_locked(forwards);
    SA_TRACE_PHASE(SA_PHASE_RECLAIM);
    bool any = false;
    SA_TRACE_LOOP(SA_LOOP_RECLAIM);    /* spec: bounds.smt2 RECLAIM */
    for (size_t t = 0; t < tries && abandoned.first != NULL; t++) {
        SA_TRACE_STEP(SA_LOOP_RECLAIM);
        sa_segment_t *seg = abandoned.first;
        _sa_segment_list_remove(&abandoned, seg);
        sa_point_fetch_sub("sub abandoned count", &_sa_abandoned_segments, 1, memory_order_relaxed);
        _sa_stat_inc(&_sa_gstats.segments_reclaimed);
        adopt_segment(heap, seg);
        any = true;
    }
    abandon_lock_drop();
    return any;
}

/* Pages reported to heaps whose thread has exited (a remote free read the
 * owner just before the owner abandoned the page) are forwarded to their
 * current owner. Abandon lock held. Bounded by the pages on those stacks. */
static void forward_dead_locked(void)
{
    sa_page_t *page = _sa_heaps_take_dead_remote();
    while (page != NULL) {
        sa_page_t *next = page->remote_next;
        page->remote_next = NULL;
        forward_queued_locked(page);
        page = next;
    }
}

/* Thread exit and sa_collect(true): every page waiting to be forwarded. */
void _sa_segments_forward_dead(void)
{
    abandon_lock_take(true);
    forward_dead_locked();
    forward_pending_locked(SIZE_MAX);
    abandon_lock_drop();
}

/* A QUEUED page reached a heap that does not own it (it was abandoned, and
 * maybe reclaimed, between the remote free's CAS and its push). Only under
 * the abandon lock is its owner stable, and a free or malloc must not wait
 * for that lock: the page goes on the pending stack (one CAS push, lock-free;
 * the page is QUEUED, so on no other stack), and the next holder of the lock
 * pushes it on its owner's stack or, if it has none, clears QUEUED (an
 * abandoned page has nobody to tell). */
void _sa_segment_forward_queued(sa_page_t *page)
{
    sa_point_fetch_add("add forward count", &_sa_forward_count, 1, memory_order_relaxed);
    _sa_page_stack_push(&forward_pending, page);
}

/* Abandoned and QUEUED: notify QUEUED -> NONE, the notify half of unfull
 * for a page nobody owns. spec: page.smt2 unfull */
static void forward_queued_locked(sa_page_t *page)
{
    sa_heap_t *owner = atomic_load_explicit(&page->heap, memory_order_relaxed);
    if (owner != NULL) {
        _sa_heap_remote_push(owner, page);
    } else {
        SA_TRACE_BEFORE(SA_T_UNFULL, page);
        _sa_page_notify_clear(page, SA_NOTIFY_BIT(SA_NOTIFY_QUEUED), NULL);
        SA_TRACE_AFTER(SA_T_UNFULL, page);
    }
}
