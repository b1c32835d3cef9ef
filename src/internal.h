/* src/internal.h -- what the allocator's files share: branch hints, debug
 * assertions, the thread's heap, and the internal functions by file.
 * Names: `_sa_` shared internal, `sa_` public, static helpers file-local. */
#ifndef SA_INTERNAL_H
#define SA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include "config.h"
#include "layout.h"
#include "size_class.h"
#include "trace.h"
#include "types.h"
#include "atomic_points.h"
#include "shardalloc.h"

/* Everything declared below is internal to the library (-fvisibility=hidden
 * makes the definitions so): saying it here as well lets the compiler address
 * a global directly rather than through the GOT (the cookie and the segment
 * map, which free reads on every call). */
#pragma GCC visibility push(hidden)

#define sa_likely(x)    __builtin_expect(!!(x), 1)
#define sa_unlikely(x)  __builtin_expect(!!(x), 0)
#define sa_noinline     __attribute__((noinline))
#define sa_always_inline inline __attribute__((always_inline))
#define sa_public       __attribute__((visibility("default")))

/* Debug levels: -DSA_DEBUG (=1) cheap asserts and the page check at every
 * generic call; SA_DEBUG >= 2 also checks every page on every transition. */
/* sa_assert_spec(fact, e): e is the C reading of `fact`, a definition of
 * spec/page.smt2 (a conjunct of inv, a transition's guard), named so that a
 * failure says which fact of the model the code broke. */
#ifdef SA_DEBUG
void _sa_assert_fail(const char *expr, const char *file, int line);
#define sa_assert(e)  ((e) ? (void)0 : _sa_assert_fail(#e, __FILE__, __LINE__))
#define sa_assert_spec(fact, e) \
    ((e) ? (void)0 : _sa_assert_fail("spec: page.smt2 " fact ": " #e, __FILE__, __LINE__))
#define sa_debug_check_page(page)  _sa_page_check(page)
#else
#define sa_assert(e)  ((void)0)
#define sa_assert_spec(fact, e)  ((void)0)
#define sa_debug_check_page(page)  ((void)0)
#endif
/* sa_assume(e): e holds, by an invariant the code keeps; debug builds assert
 * it, release builds let the compiler drop the tests it makes redundant. */
#ifdef SA_DEBUG
#define sa_assume(e)  sa_assert(e)
#else
#define sa_assume(e)  ((e) ? (void)0 : __builtin_unreachable())
#endif
#if defined(SA_DEBUG) && SA_DEBUG >= 2
#define sa_debug_check_page_full(page)  _sa_page_check(page)
#else
#define sa_debug_check_page_full(page)  ((void)0)
#endif
/* The premise of spec/bounds.smt2's `cadence`: between two generic calls a
 * page's `free` only shrinks (alloc_pop) but for the owner's frees onto it
 * (free_lifo, at most SA_LIFO_FREES_MAX of the heap's: free.c counts
 * them), so the heartbeat comes within `capacity` + SA_LIFO_FREES_MAX
 * pops. Collect and extend put blocks onto `free` only inside a refill
 * scope: the generic path, and the calls that are no malloc at all
 * (a heap's collect: sa_collect, thread exit, out of memory; visiting a
 * first-class heap). Debug and tracing builds count the open scopes per
 * thread and check one is open at every collect and extend; a collect or
 * extend anywhere else (the fast path, remote_cache_dry, a free) aborts. */
#if defined(SA_DEBUG) || defined(SA_TRACE)
extern __thread unsigned _sa_refill_scopes;
void _sa_refill_outside_scope(const char *file, int line);     /* page.c: aborts */
#define SA_REFILL_SCOPE_BEGIN()  (_sa_refill_scopes++)
#define SA_REFILL_SCOPE_END()    (_sa_refill_scopes--)
#define sa_assert_refill_scope() \
    (_sa_refill_scopes > 0 ? (void)0 : _sa_refill_outside_scope(__FILE__, __LINE__))
#else
#define SA_REFILL_SCOPE_BEGIN()  ((void)0)
#define SA_REFILL_SCOPE_END()    ((void)0)
#define sa_assert_refill_scope() ((void)0)
#endif

/* ---- the thread's heap (heap.c) -------------------------------------------- */

/* Initial-exec TLS: one instruction to reach, no allocation on first touch.
 * Points at the static empty heap until the thread's first generic malloc. */
extern __thread sa_heap_t *_sa_heap_tls __attribute__((tls_model("initial-exec")));
/* The owner of the page a thread without a heap last freed into: its first
 * malloc takes that heap if it is stocked (heap.c heap_claim). */
extern __thread sa_heap_t *_sa_heap_hint __attribute__((tls_model("initial-exec")));
/* The heap of a thread that has none yet: every class's page is the empty
 * page (malloc's fast path falls to the generic one, which makes the
 * thread's heap), its remote caches have no room (a free keeps nothing).
 * Only ever read: const, so read-only once relocated (a write faults), and
 * the remote caches' zeros, most of it, are clean file pages no process
 * copies. _sa_heap_tls holds it as SA_HEAP_EMPTY. */
extern const sa_heap_t _sa_heap_empty;
#define SA_HEAP_EMPTY ((sa_heap_t *)&_sa_heap_empty)
extern sa_page_t _sa_page_empty;

sa_heap_t *_sa_heap_get_or_init(void);          /* NULL only if out of memory */
sa_heap_t *_sa_heap_make(bool first_class);
void _sa_heap_release(sa_heap_t *heap, sa_heap_t *heir);
void _sa_heap_give_up(sa_heap_t *heap);
size_t _sa_heap_take_remote_pages(sa_heap_t *heap, size_t max);
/* Pages reported by remote frees wait to be taken (the generic path tests
 * this inline: most calls find nothing and need no call). */
static inline bool _sa_heap_remote_pending(sa_heap_t *heap)
{
    return heap->remote_local != NULL ||
           sa_point_load("load page stack", &heap->remote_pages, memory_order_relaxed) != NULL;
}
void _sa_heap_remote_push(sa_heap_t *owner, sa_page_t *page);
void _sa_heap_done(sa_heap_t *heap);
void _sa_heap_collect(sa_heap_t *heap, bool force, bool force_purge);
/* The program's deferred-free hook (src/heap.c): the generic path's
 * heartbeat and sa_collect call it through _sa_heap_deferred_free. */
extern sa_deferred_free_fn *_Atomic _sa_deferred_fn;
extern void *_Atomic _sa_deferred_arg;
/* Run the hook once (one step; force: the program is asked to free all it
 * can), unless there is none or this heap is running it already (the hook
 * allocated or collected itself). Inline: the generic path's common case is
 * one load and a branch. */
static inline void _sa_heap_deferred_free(sa_heap_t *heap, bool force)
{
    sa_deferred_free_fn *fn = atomic_load_explicit(&_sa_deferred_fn, memory_order_acquire);
    if (fn == NULL || heap->in_hook)
        return;
    heap->in_hook = true;
    SA_TRACE_STEP(SA_LOOP_NONE);
    fn(force, heap->generic_count, atomic_load_explicit(&_sa_deferred_arg, memory_order_relaxed));
    heap->in_hook = false;
}
/* The OS refused a mapping of `refused` bytes: give back what can be found
 * anywhere (bounded), and raise the memory pressure for SA_OOM_PRESSURE_MS
 * if what shardalloc maps could make room for it. */
void _sa_out_of_memory_collect(sa_heap_t *heap, size_t refused);
extern _Atomic uint64_t _sa_oom_pressure_until;
bool _sa_oom_pressure_check(void);
/* A pressure window was recorded (it may have ended since: only
 * _sa_oom_pressure_check, which reads the clock, tells): one load. */
static inline bool _sa_oom_pressure_recorded(void)
{
    return sa_unlikely(atomic_load_explicit(&_sa_oom_pressure_until, memory_order_relaxed) != 0);
}
/* Under memory pressure (the OS refused memory less than SA_OOM_PRESSURE_MS
 * ago), an owner retires a page it empties at once and unmaps an emptied
 * segment. Tested only where a page empties: one load when there is none. */
static inline bool _sa_oom_pressure(void)
{
    return _sa_oom_pressure_recorded() && _sa_oom_pressure_check();
}
void _sa_heap_retire_sweep(sa_heap_t *heap, size_t max_bins);
void _sa_heap_purge_tick(sa_heap_t *heap, bool force);
/* The head page of queue `bin` was emptied: the retire sweep looks there. */
static inline void _sa_heap_retire_mark(sa_heap_t *heap, size_t bin)
{
    heap->retire_bins |= (unsigned __int128)1 << bin;
}
/* An emptied page may be due to retire: mark_empty recorded the earliest
 * expiry (retire_due), and the sweep runs only once it has come. */
static inline bool _sa_heap_retire_pending(const sa_heap_t *heap)
{
    return heap->generic_count >= heap->retire_due;
}
/* The global segment cache is not empty (segment.c; asked on every generic
 * call, so inline: one load). */
extern _Atomic size_t _sa_global_cache_count;
static inline bool _sa_segment_global_cached(void)
{
    return sa_point_load("load global cache count", &_sa_global_cache_count, memory_order_relaxed) != 0;
}
/* Something waits to be purged: retired pages, this heap's cached segments,
 * the global cache. */
static inline bool _sa_heap_purge_pending(const sa_heap_t *heap)
{
    return heap->purge.first != NULL || __atomic_load_n(&heap->cache.first, __ATOMIC_RELAXED) != NULL ||
           _sa_segment_global_cached();
}
/* Phase 7 of the generic path, housekeeping (spec: bounds.smt2): the retire
 * sweep, then the purge tick, each bounded, each only when due and tested
 * inline first: most calls have neither to do. The sweep is due once an
 * emptied page may have expired; the purge tick once every
 * SA_PURGE_CHECK_CALLS generic calls, and at the call after a retire
 * (_sa_page_retire), which is what fills the purge list and the heap's
 * cache (what other threads put in the global cache waits for the period). */
static inline void _sa_heap_housekeeping(sa_heap_t *heap)
{
    if (_sa_heap_retire_pending(heap))
        _sa_heap_retire_sweep(heap, SA_RETIRE_SCAN_MAX);
    if (heap->generic_count >= heap->purge_check_at) {
        heap->purge_check_at = heap->generic_count + SA_PURGE_CHECK_CALLS;
        if (_sa_heap_purge_pending(heap))
            _sa_heap_purge_tick(heap, false);
    }
}
void _sa_heaps_stats(sa_stats_t *totals, sa_class_stats_t *classes);
/* After fork, a lock held across it: the parent unlocks it; the child, whose
 * only thread is the one that forked, starts it afresh. */
static inline void _sa_fork_unlock(pthread_mutex_t *lock, bool child)
{
    if (child)
        pthread_mutex_init(lock, NULL);
    else
        pthread_mutex_unlock(lock);
}

void _sa_heap_lock_all(void);                   /* fork */
void _sa_heap_unlock_all(bool child);

/* ---- page queues and the search over them (page_queue.c) ----------------------- */

void _sa_page_queue_push_front(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page);
sa_page_t *_sa_page_queue_direct(sa_heap_t *heap, size_t bin);
void _sa_page_queue_push_back(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page);
void _sa_page_queue_remove(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page);
void _sa_page_queue_to_front(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page);
void _sa_page_queue_to_back(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page);
void _sa_page_queue_to_full(sa_heap_t *heap, sa_page_t *page);
void _sa_page_queue_from_full(sa_heap_t *heap, sa_page_t *page);
sa_page_t *_sa_page_queue_find(sa_heap_t *heap, size_t bin);   /* NULL: none, take a fresh one */
/* The page has enough free blocks to be used by the search: capacity - used
 * is what free and local_free hold together (the blocks on thread_free are
 * still counted in used), at least capacity >> SA_REUSE_MIN_SHIFT of them. */
static inline bool _sa_page_enough_free(const sa_page_t *page)
{
    return page->capacity - page->used >= (page->capacity >> SA_REUSE_MIN_SHIFT);
}
sa_page_t *_sa_page_queue_fresh(sa_heap_t *heap, size_t bin);  /* NULL only if out of memory */

/* ---- pages (page.c) ----------------------------------------------------------- */

static inline uintptr_t _sa_block_canary(const void *block);
void _sa_page_init(sa_heap_t *heap, sa_page_t *page, size_t bin);
void _sa_page_extend(sa_page_t *page);
void _sa_page_collect(sa_page_t *page);
void _sa_page_collect_unordered(sa_page_t *page);
bool _sa_page_to_full(sa_heap_t *heap, sa_page_t *page);
void _sa_page_unfull(sa_heap_t *heap, sa_page_t *page, bool popped);
bool _sa_page_can_retire(const sa_page_t *page);
void _sa_page_retire(sa_heap_t *heap, sa_page_t *page);
void _sa_page_abandon(sa_page_t *page);
void _sa_page_reclaim(sa_heap_t *heap, sa_page_t *page);
void _sa_page_mark_empty(sa_heap_t *heap, sa_page_t *page);
void _sa_page_check(const sa_page_t *page);
/* capacity as another thread sees it (the owner grows it meanwhile; any
 * value it had since the block was handed out covers that block). */
static inline uint32_t _sa_page_capacity(const sa_page_t *page)
{
    return __atomic_load_n(&page->capacity, __ATOMIC_RELAXED);
}

/* The C reading of two facts of spec/page.smt2 about a pointer b into the
 * page, for the debug asserts: in_page (b is block 0 .. reserved-1: inside
 * the page's block area, on a block boundary) and made (its index is below
 * capacity, so it is not UNMADE; inv_block). */
static inline bool _sa_page_in_page(const sa_page_t *page, const void *b)
{
    uintptr_t off = (uintptr_t)b - (uintptr_t)page->start;
    return off < (uintptr_t)page->reserved * page->block_size && _sa_block_is_start(off, page->magic);
}
static inline bool _sa_page_made(const sa_page_t *page, const void *b)
{
    return (uintptr_t)b - (uintptr_t)page->start < (uintptr_t)_sa_page_capacity(page) * page->block_size;
}

static inline sa_notify_t _sa_page_notify(const sa_page_t *page);

/* ---- segments (segment.c) ----------------------------------------------------- */

static inline sa_segment_t *_sa_segment_of_ptr(const void *p);
static inline sa_page_t *_sa_page_of(const sa_segment_t *seg, const void *p);
void _sa_segment_list_push(sa_segment_list_t *l, sa_segment_t *seg);     /* at the front */
void _sa_segment_list_append(sa_segment_list_t *l, sa_segment_t *seg);   /* at the back */
void _sa_segment_list_remove(sa_segment_list_t *l, sa_segment_t *seg);
sa_page_t *_sa_segment_page_alloc(sa_heap_t *heap, size_t bin);
void _sa_segment_page_free(sa_heap_t *heap, sa_page_t *page);
void _sa_segment_cache_purge(sa_heap_t *heap, uint64_t now, bool force, bool global);
void _sa_segments_abandon(sa_heap_t *heap);
void _sa_segments_hand_over(sa_heap_t *from, sa_heap_t *to);
bool _sa_segments_each_page(sa_heap_t *heap, bool (*fn)(sa_page_t *page, void *arg), void *arg);
void _sa_segment_purge_now(sa_heap_t *heap);
bool _sa_segments_reclaim(sa_heap_t *heap, size_t tries, size_t forwards, bool wait);
size_t _sa_heap_segment_count(const sa_heap_t *heap);
size_t _sa_segment_cache_steal(sa_heap_t *heap);
void _sa_segment_global_cache_release(void);
void _sa_segment_forward_queued(sa_page_t *page);
void _sa_segments_forward_dead(void);
sa_page_t *_sa_heaps_take_dead_remote(void);
void _sa_abandon_lock(void);
void _sa_abandon_unlock(bool child);
extern _Atomic size_t _sa_abandoned_segments;
extern _Atomic size_t _sa_forward_count;
static inline size_t _sa_abandoned_count(void)
{
    return sa_point_load("load abandoned count", &_sa_abandoned_segments, memory_order_relaxed);
}
/* Work for _sa_segments_reclaim: abandoned segments or pages to forward. */
static inline bool _sa_segments_pending(void)
{
    return _sa_abandoned_count() != 0 ||
           sa_point_load("load forward count", &_sa_forward_count, memory_order_relaxed) != 0;
}

/* ---- the segment map (segment_map.c) ------------------------------------------ */

/* One byte per SA_SEGMENT_SIZE unit of the address space (segment_map.c).
 * Inline: free asks it on every call, and a byte is one load and compare
 * (a bit would take a shift for the word, a load and a bit test). */
#define SA_SEGMAP_UNITS ((uintptr_t)1 << (SA_ADDRESS_BITS - SA_SEGMENT_SHIFT))
extern _Atomic uint8_t _sa_segmap[SA_SEGMAP_UNITS];

/* p's unit: the SA_SMALL_PAGE_SIZE slice of the address space it is in.
 * Its high bits are the segment map's index (_sa_segmap_unit), its low bits
 * its entry in the unit table of its segment (_sa_page_of): free shifts p
 * once for both (_sa_page_of_block_start). */
static inline uintptr_t _sa_unit_of(const void *p)
{
    return (uintptr_t)p >> SA_SMALL_PAGE_SHIFT;
}

/* The map's index for a unit: its segment's (SA_SEGMENT_SIZE) unit. */
static inline uintptr_t _sa_segmap_unit_of(uintptr_t unit)
{
    return unit >> (SA_SEGMENT_SHIFT - SA_SMALL_PAGE_SHIFT);
}

/* The map's index for p: its segment's unit. spec: layout.smt2 segmap_unit */
static inline uintptr_t _sa_segmap_unit(const void *p)
{
    return _sa_segmap_unit_of(_sa_unit_of(p));
}

/* Is the segment of a unit live (`unit`: _sa_unit_of(p))? Then its
 * headers may be read for p (_sa_segment_of_unit). A p with bits set above
 * SA_ADDRESS_BITS (no segment's) is refused by a compare before the map is
 * read: the made-start test of free (_sa_page_of_block_start) is exact only
 * for pointers of the page's own segment (obligations segmap_high_pointer,
 * made_start). spec: layout.smt2 segmap_in_range */
static inline bool _sa_segmap_live_unit(uintptr_t unit)
{
    uintptr_t entry = _sa_segmap_unit_of(unit);
    if (sa_unlikely(entry >= SA_SEGMAP_UNITS))
        return false;
    /* The byte read by the compare itself (GCC loads an atomic byte and
     * tests it: two instructions where this is one). A plain x86-64 load
     * has acquire order, and the caller's reads of the segment's headers
     * depend on the branch this feeds, so no compiler moves them above
     * it. */
    bool live;
    __asm__("cmpb $0, %[entry]" : "=@ccne"(live) : [entry] "m"(_sa_segmap[entry]));
    return live;
}

/* The segment a unit is in. spec: layout.smt2 segmap_segment */
static inline sa_segment_t *_sa_segment_of_unit(uintptr_t unit)
{
    return (sa_segment_t *)(_sa_segmap_unit_of(unit) << SA_SEGMENT_SHIFT);
}

/* Is the segment of p live? If so, *seg is it, the segment p is in. */
static inline bool _sa_segmap_find(const void *p, sa_segment_t **seg)
{
    uintptr_t unit = _sa_unit_of(p);
    if (!_sa_segmap_live_unit(unit))
        return false;
    *seg = _sa_segment_of_unit(unit);
    return true;
}
bool _sa_segmap_set(uintptr_t segment, bool live);

/* ---- huge blocks (huge.c) ------------------------------------------------------ */

void *_sa_huge_alloc(size_t size, size_t alignment, bool zero);
void _sa_huge_free(sa_segment_t *seg, void *p);
sa_segment_t *_sa_huge_far_find(const void *p);
bool _sa_huge_resize(sa_segment_t *seg, void *p, size_t size);
void _sa_huge_cache_release(bool force);
void _sa_huge_lock(void);
void _sa_huge_unlock(bool child);

/* ---- the OS (os.c) -------------------------------------------------------------- */

void *_sa_os_map_aligned(size_t size, size_t alignment, size_t touched);
void _sa_os_unmap(void *p, size_t size, size_t committed);
void _sa_os_purge(void *p, size_t size);
bool _sa_os_remap_in_place(void *p, size_t old_size, size_t new_size);
uint64_t _sa_os_now_ms(void);
/* Should this kernel call fail? Only the fault-injection build of the tests
 * asks (-DSA_FAULT_INJECT, os.c); elsewhere it is false at compile time. */
#ifdef SA_FAULT_INJECT
bool _sa_os_fault(void);
#else
static inline bool _sa_os_fault(void) { return false; }
#endif

/* ---- when to purge (purge_delay.c) ----------------------------------------------- */

/* The time (ms) a page retired at `now` gets purged: now + the current delay. */
uint64_t _sa_purge_deadline(uint64_t now);
/* The time (ms) an empty segment cached at `now` gets purged: the option's
 * delay, not lengthened. */
uint64_t _sa_purge_deadline_segment(uint64_t now);
/* Purged memory (purged at `purged_ms`) is handed out again: if that is
 * within the current delay, the delay doubles. */
void _sa_purge_note_reuse(uint64_t purged_ms);
/* The current delay (ms), for sa_stats_get. */
uint64_t _sa_purge_delay_ms(void);

/* ---- malloc paths (alloc.c) and free (free.c) ------------------------------------ */

void *_sa_malloc_generic(sa_heap_t *heap, size_t size);
void *_sa_malloc_aligned(sa_heap_t *heap, size_t alignment, size_t size, bool zero);
void *_sa_heap_malloc(sa_heap_t *heap, size_t size);
/* operator new (the full libraries only): malloc that never returns NULL
 * (alloc.c), and the standard's loop after a failed try, which returns
 * NULL only for nothrow (override_new.c; alignment 0: sa_malloc's). */
void *_sa_new(size_t size);
void *_sa_new_failed(size_t size, size_t alignment, bool nothrow);
void _sa_user_heap_huge_unlink(sa_segment_t *seg);
void _sa_free_local(sa_heap_t *heap, sa_page_t *page, sa_block_t *block);
void _sa_free_remote(sa_page_t *page, sa_block_t *block);
void _sa_remote_cache_init(sa_heap_t *heap);
void _sa_remote_cache_flush(sa_heap_t *heap);
/* The block start of a pointer shardalloc handed out, or NULL (and a report
 * naming `call`, unless call is NULL) if it did not; a block already free is
 * reported as `freed` (SA_ERROR_DOUBLE_FREE or SA_ERROR_USE_AFTER_FREE). */
void *_sa_validate(const void *p, const char *call, sa_error_kind_t freed, sa_segment_t **seg_out,
                   sa_page_t **page_out);
size_t _sa_usable_size_of(const void *p, const char *call);
void _sa_free_checked(void *p, const char *call, sa_error_kind_t freed);

/* ---- options (options.c), statistics (stats.c), errors (error.c) ----------------- */

/* Option values by sa_option_t (defaults: config.h), read on slow paths only. */
extern _Atomic long long _sa_option_values[SA_OPTION__COUNT];
static inline long long _sa_option(sa_option_t option)
{
    return atomic_load_explicit(&_sa_option_values[option], memory_order_relaxed);
}
void _sa_options_init(void);
bool _sa_option_stats_file(char *path, size_t size);   /* copies STATS_FILE; false: stderr */
void _sa_options_lock(void);                /* fork: the STATS_FILE lock */
void _sa_options_unlock(bool child);

/* Counters of the slow paths (stats.c): relaxed atomics, any thread. Peaks
 * are high-water marks raised where the value grows. "active" = bytes of
 * blocks made (extended) in pages in use, plus huge blocks: what the program
 * can hold without a page being initialised or extended. */
typedef struct sa_global_stats_s {
    _Atomic size_t active, active_peak, mapped_peak, committed_peak;
    _Atomic size_t huge_mallocs, huge_frees, remote_frees_no_heap;
    _Atomic size_t pages_made, pages_retired, pages_abandoned, pages_reclaimed;
    _Atomic size_t segments_made, segments_abandoned, segments_reclaimed;
    _Atomic size_t class_active[SA_BIN_COUNT], class_active_peak[SA_BIN_COUNT];
    _Atomic size_t class_remote_no_heap[SA_BIN_COUNT];
} sa_global_stats_t;
extern sa_global_stats_t _sa_gstats;
static inline void _sa_stat_inc(_Atomic size_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}
/* *peak = max(*peak, value); and *counter += n with its peak raised. */
void _sa_stat_peak(_Atomic size_t *peak, size_t value);
void _sa_stat_add_peak(_Atomic size_t *counter, _Atomic size_t *peak, size_t n);
void _sa_stat_active(size_t bin, size_t bytes, bool add);   /* page extend / retire */
void _sa_stat_huge(size_t usable, bool add);                 /* huge alloc / free */
void _sa_stat_huge_resize(size_t old_usable, size_t new_usable);

typedef struct sa_os_stats_s {
    _Atomic size_t mapped, committed, segments, huge_blocks, purged, mmap_calls;
} sa_os_stats_t;
extern sa_os_stats_t _sa_os_stats;
extern _Atomic size_t _sa_huge_allocated;

size_t _sa_fmt_str(char *buf, size_t n, size_t cap, const char *s);
size_t _sa_fmt_u64(char *buf, size_t n, size_t cap, uint64_t v, bool hex);
void _sa_write_stderr(const char *buf, size_t n);
void _sa_write_fd(int fd, const char *buf, size_t n);     /* all of it, errno kept */
void _sa_stats_at_exit(void);                               /* SHARDALLOC_SHOW_STATS */
/* The one reporter (error.c): "shardalloc: <call>(): <what> <p>" on stderr,
 * without allocating; then the sa_register_error callback; then abort() if
 * SHARDALLOC_ABORT_ON_ERROR. _text writes `text` in place of the pointer. */
void _sa_error_ptr(sa_error_kind_t kind, const char *call, const char *what, const void *p);
void _sa_error_text(sa_error_kind_t kind, const char *call, const char *what, const char *text,
                    const void *p);
/* "shardalloc[<pid>]: ", the start of every line of a report made on request. */
size_t _sa_fmt_pid_prefix(char *buf, size_t n, size_t cap);

/* ---- process setup (init.c) ---------------------------------------------------- */

void _sa_process_init(void);
void _sa_thread_register(sa_heap_t *heap);      /* arm the exit destructor */
extern uintptr_t _sa_cookie;                     /* random per process */

/* ---- inline helpers ---------------------------------------------------------------- */

/* The value a block's second word holds while the block is on a list. */
static inline uintptr_t _sa_block_canary(const void *block)
{
    return (uintptr_t)block ^ _sa_cookie;
}

/* What an over-allocated aligned block holds in its first word (in the gap
 * before the pointer handed out): the one interior pointer free accepts. */
static inline uintptr_t _sa_aligned_tag(const void *aligned)
{
    return ~((uintptr_t)aligned ^ _sa_cookie);
}

/* ---- the protocol's atomic steps, each named once -------------------------------- */

static inline sa_notify_t _sa_page_notify(const sa_page_t *page)
{
    return (sa_notify_t)(sa_point_load("load notify", &((sa_page_t *)page)->thread_free,
                                       memory_order_relaxed) & SA_NOTIFY_MASK);
}

/* A set of notify states, for _sa_page_notify_clear. */
#define SA_NOTIFY_BIT(n)  (1u << (n))

/* notify -> NONE if it is one of the states in `from` (a set of
 * SA_NOTIFY_BIT), keeping the list and its count: unfull (WATCH, and QUEUED
 * once popped), abandon (WATCH), forwarding to nobody (QUEUED). The CAS
 * retries only when a remote free pushed meanwhile: lock-free. `also_writes`
 * (or NULL): a store the caller folds into this step for the model checker
 * (atomic_points.h). spec: page.smt2 unfull (the notify half) */
static inline void _sa_page_notify_clear(sa_page_t *page, unsigned from, const volatile void *also_writes)
{
    if (also_writes != NULL)
        SA_MC_ALSO_WRITES(also_writes);
    uintptr_t tf = sa_point_load("load thread_free", &page->thread_free, memory_order_relaxed);
    while ((from >> (tf & SA_NOTIFY_MASK)) & 1) {     /* spec: bounds.smt2 FREE_UNFULL */
        if (also_writes != NULL)
            SA_MC_ALSO_WRITES(also_writes);
        if (sa_point_cas_weak("cas thread_free", &page->thread_free, &tf, tf & ~SA_NOTIFY_MASK,
                              memory_order_acq_rel, memory_order_relaxed))
            break;
        SA_TRACE_STEP(SA_LOOP_CAS);
        SA_TRACE_RETRY();
    }
}

/* A lock-free stack of QUEUED pages linked through remote_next: a heap's
 * remote_pages, segment.c's pending forwards. Any thread pushes; only its one
 * consumer (the owner; the abandon lock's holder; a thread exit's sweep of
 * unclaimed heaps) takes, and takes it whole, so there is no ABA. A failed
 * CAS means another push or the take got in (the k of spec/bounds.smt2's
 * B + k). */
static inline void _sa_page_stack_push(_Atomic(sa_page_t *) *stack, sa_page_t *page)
{
    sa_page_t *head = sa_point_load("load page stack", stack, memory_order_relaxed);
    for (;;) {      /* spec: bounds.smt2 FREE_NOTIFY */
        SA_TRACE_STEP(SA_LOOP_CAS);
        page->remote_next = head;
        if (sa_point_cas_weak("cas page stack", stack, &head, page,
                              memory_order_release, memory_order_relaxed))
            break;
        SA_TRACE_RETRY();
    }
}

/* The whole stack, as a list linked by remote_next (NULL if empty: also when
 * another consumer took it between the load and the exchange). */
static inline sa_page_t *_sa_page_stack_take(_Atomic(sa_page_t *) *stack)
{
    if (sa_point_load("load page stack", stack, memory_order_relaxed) == NULL)
        return NULL;
    return sa_point_exchange("exchange page stack", stack, NULL, memory_order_acquire);
}

/* The consumer's next page: the head of `local` (what it took before), else
 * of the stack taken whole into `local`; NULL if both are empty. */
static inline sa_page_t *_sa_page_stack_next(_Atomic(sa_page_t *) *stack, sa_page_t **local)
{
    if (*local == NULL && (*local = _sa_page_stack_take(stack)) == NULL)
        return NULL;
    sa_page_t *page = *local;
    *local = page->remote_next;
    page->remote_next = NULL;
    return page;
}

static inline sa_segment_t *_sa_segment_of_ptr(const void *p)
{
    return (sa_segment_t *)_sa_segment_of((uintptr_t)p);
}

/* The page of unit `unit` (_sa_unit_of of a pointer in seg) in seg: the
 * unit table's entry (one load). */
static inline sa_page_t *_sa_page_of_unit(const sa_segment_t *seg, uintptr_t unit)
{
    return seg->unit_page[unit & (SA_SMALL_PAGES_PER_SEGMENT - 1)];
}

/* The page of p in its segment. */
static inline sa_page_t *_sa_page_of(const sa_segment_t *seg, const void *p)
{
    return _sa_page_of_unit(seg, _sa_unit_of(p));
}

/* Where page's block area begins (offset in its segment) and its bytes: a
 * large page's is its span (layout.h _sa_span_area_size). */
static inline uintptr_t _sa_page_block_offset(const sa_segment_t *seg, const sa_page_t *page)
{
    return _sa_page_area_start(_sa_layout_kind(seg->page_kind), page->index);
}
static inline size_t _sa_page_block_area(const sa_segment_t *seg, const sa_page_t *page)
{
    if (seg->page_kind == SA_PAGE_LARGE)
        return _sa_span_area_size(page->index, page->span_units);
    return _sa_page_area_size(seg->page_kind, page->index);
}

/* Entry u of seg's unit table for pages of `kind`: the page holding the
 * unit's bytes, _sa_page_index_of of its first byte (every byte of a unit is
 * in the same page: a page is one or more whole units). The proof driver
 * checks _sa_page_of through this table against the model's page_index_of
 * at both ends of every unit of every kind (obligation page_of_agrees). */
static inline void _sa_segment_unit_set(sa_segment_t *seg, size_t u, sa_page_kind_t kind)
{
    seg->unit_page[u] = &seg->pages[_sa_page_index_of((uintptr_t)u << SA_SMALL_PAGE_SHIFT, kind)];
}

/* Entry v of a large segment's unit table while unit v is in the span that
 * begins at unit u: the page of the span, entry u (segment.c span_cut;
 * back to _sa_segment_unit_set's when the span is free). The
 * proof driver checks _sa_page_of through it at both ends of every unit of
 * spans at every edge (obligation page_of_agrees). */
static inline void _sa_segment_span_unit_set(sa_segment_t *seg, size_t v, size_t u)
{
    seg->unit_page[v] = &seg->pages[u];
}

static inline sa_page_kind_t _sa_page_kind_of_bin(size_t bin)
{
    return _sa_page_kind_for(_sa_bin_size(bin));
}

/* Generic calls an emptied page of `bin` waits in its queue before it retires. */
static inline uint64_t _sa_retire_delay(size_t bin)
{
    return _sa_page_kind_of_bin(bin) == SA_PAGE_LARGE ? SA_RETIRE_DELAY_LARGE : SA_RETIRE_DELAY;
}

/* offset * magic < *key (_sa_block_is_made_start), with magic and *key
 * read by the multiply and the compare themselves: an aligned word load is
 * a relaxed atomic load on x86-64, and GCC never folds an atomic load into
 * an operation (a load each where this takes both from memory: two
 * instructions fewer on every free). */
static inline bool _sa_made_start_relaxed(uintptr_t off, const uint64_t *magic, const uint64_t *key)
{
    bool below;
    __asm__("imul %[magic], %[off]\n\tcmp %[key], %[off]"
            : [off] "+r"(off), "=@ccb"(below)
            : [magic] "m"(*magic), [key] "m"(*key));
    return below;
}

/* The page of p if p is a block start, made, in a page in use: the common
 * case of free, realloc and usable_size, checked without a division (the
 * offset times magic compared with the made key: one multiply, one compare,
 * layout.h _sa_block_is_made_start) and without trusting any header of a
 * foreign mapping (the segment map first). Whether the block is free (its
 * canary) is the caller's test: _sa_page_of_block, or sa_free's own, which
 * keeps the canary for its push. NULL otherwise: the caller then takes the
 * slow path, which validates fully and reports. */
static inline sa_page_t *_sa_page_of_block_start(const void *p)
{
    /* p shifted once for the map and the unit table; the barrier keeps GCC
     * from shifting p again for each (two more copies of p: bench/fastpath
     * under callgrind, free 40.1 -> 39.1 instructions). */
    uintptr_t unit = _sa_unit_of(p);
    __asm__("" : "+r"(unit));
    /* No test of the segment's kind: a huge segment's page 0 rejects p
     * (huge.c). */
    if (sa_unlikely(!_sa_segmap_live_unit(unit)))
        return NULL;
    sa_page_t *page = _sa_page_of_unit(_sa_segment_of_unit(unit), unit);
    /* One register for the page, every field at a displacement from it:
     * without this GCC re-derives field addresses from the segment and the
     * index (several instructions per field on free's fast path). */
    __asm__("" : "+r"(page));
    /* p is in page's segment (the map's compare), so its offset from start
     * is below the page size, or up to SA_SEGMENT_INFO_SIZE below 0 (page
     * 0's header, wrapped): where the test is exact (obligations
     * segmap_high_pointer, made_start). */
    uintptr_t off = (uintptr_t)p - (uintptr_t)page->start;
    if (sa_likely(_sa_made_start_relaxed(off, &page->magic, &page->made_key)))
        return page;
    return NULL;
}

/* The same, and p not free (a block on a list carries its canary). */
static inline sa_page_t *_sa_page_of_block(const void *p)
{
    sa_page_t *page = _sa_page_of_block_start(p);
    if (sa_likely(page != NULL && ((const sa_block_t *)p)->canary != _sa_block_canary(p)))
        return page;
    return NULL;
}

/* Statistics on the fast paths: one add to memory each, per size class, by
 * the heap's own thread (sa_stats_get sums every heap's and weighs by block
 * size). Counts, not bytes: the malloc path knows its bin. Plain, not
 * atomic, adds by the owner: an aligned word is written whole on x86-64, and
 * the reader (relaxed atomic loads) only wants a recent value, as
 * mimalloc's statistics do. */
static inline void _sa_stat_malloc(sa_heap_t *heap, size_t bin)
{
    if (SA_FAST_PATH_STATS)
        heap->stat_malloc[bin]++;
}

static inline void _sa_stat_free(sa_heap_t *heap, size_t bin)
{
    if (SA_FAST_PATH_STATS)
        heap->stat_free[bin]++;
}

/* A free by a thread that does not own the page: counted in the freeing
 * thread's heap (its own plain counter), or, for a thread that never
 * allocated (no heap of its own), in a shared atomic. */
static inline void _sa_stat_remote_free(size_t bin)
{
    sa_heap_t *heap = _sa_heap_tls;
    if (sa_likely(heap != &_sa_heap_empty))
        heap->stat_remote_free[bin]++;
    else
        _sa_stat_inc(&_sa_gstats.class_remote_no_heap[bin]);
}

#pragma GCC visibility pop

#endif /* SA_INTERNAL_H */
