/* src/alloc.c -- the malloc API: the fast path (pop the head page's `free`,
 * no atomics, no locks), the generic path as the sequence of the phases of
 * spec/bounds.smt2 (its search and fresh page in page_queue.c), and calloc,
 * realloc and the aligned allocations built on them; and, in the full
 * libraries, operator new's malloc (_sa_new: the fast path with no NULL
 * test after it). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "internal.h"

/* Pop the head of `free`. Guard: free non-empty. The canary is overwritten
 * so a block in use never carries it (free relies on that to spot double
 * frees), with the block's *hand-out mark*: the address of the page it was
 * popped from, never a canary (a page is 8-aligned, a canary odd: init.c
 * make_cookie). The page may be the class's remote cache (types.h: a block
 * of another heap's page, LIVE to it all along, handed out again: no
 * transition of its page, so neither traced nor checked against it); the
 * mark then tells this thread's later free of the block that it came from
 * its own cache (free.c remote_cache_may_keep). Storing the page costs what
 * storing 0 did: it is in a register.
 * spec: page.smt2 alloc_pop */
static inline void *page_pop(sa_heap_t *heap, sa_page_t *page, size_t bin)
{
    bool kept = page->remote_cache;     /* read by the trace and debug builds only */
    (void)kept;
    sa_block_t *block = page->free;
    SA_MC_ALSO_WRITES(&block->canary);
    if (!kept)
        SA_TRACE_BEFORE(SA_T_ALLOC_POP, page);
    sa_block_t *next = block->next;
    /* Debug builds: the guard of alloc_pop and what inv says of the head of
     * free and its successor. */
    sa_assert_spec("alloc_pop (owned)",
                   kept || atomic_load_explicit(&page->heap, memory_order_relaxed) == heap);
    sa_assert_spec("inv_slot (in_page)", kept || _sa_page_in_page(page, block));
    sa_assert_spec("inv_block (a listed block is made)", kept || _sa_page_made(page, block));
    sa_assert_spec("inv_slot (pos: free is not cyclic at its head)", next != block);
    sa_assert_spec("inv_slot (in_page)", kept || next == NULL || _sa_page_in_page(page, next));
    sa_assert_spec("made_add_up, used_live_thread (used < capacity while free holds a block)",
                   page->used < page->capacity);
    page->free = next;
    __builtin_prefetch(next, 1, 3);
    block->canary = (uintptr_t)page;
    /* used += 1 on the whole used_word (used < capacity: no carry leaves
     * it), for free's 8-byte load of it after (free_local_push says why) */
    page->used_word++;
    if (!kept)
        SA_TRACE_AFTER(SA_T_ALLOC_POP, page);
    _sa_stat_malloc(heap, bin);
    return block;
}

/* The generic path with the arguments the other way round: the fast path
 * then leaves `size` where its caller put it (the first argument) and moves
 * no register before the jump here, the rare case. */
static sa_noinline void *malloc_generic_for(size_t size, sa_heap_t *heap)
{
    return _sa_malloc_generic(heap, size);
}

/* The fast path's page was the remote cache of the class, and it ran dry:
 * the head page of the queue is the fast path's again (page_queue.c
 * direct_update), popped at once if its `free` has a block. No generic call
 * (no heartbeat, no housekeeping): the cache runs dry often, as each block
 * it keeps the next malloc of the class takes. So nothing goes onto `free`
 * here: the page's local frees wait for the generic path's collect, which
 * restarts the cadence (spec/bounds.smt2 cadence; splicing them in here
 * let a page's `free` be refilled between two generic calls without end,
 * and the heartbeat with it: docs/design.md, the remote cache). */
static sa_noinline void *remote_cache_dry(sa_heap_t *heap, size_t bin, size_t size)
{
    sa_page_t *page = _sa_page_queue_direct(heap, bin);
    if (page->free != NULL)
        return page_pop(heap, page, bin);
    return _sa_malloc_generic(heap, size);
}

#ifdef SA_OVERRIDE
static sa_noinline void *new_miss(size_t size);
#endif

/* malloc from `heap`: the size's bin (a small size's by the heap's table:
 * one compare and one load), the fast path's page of the class (the remote
 * cache while it holds a block, else the head page of its queue), pop; else
 * the generic path. for_new (a constant): operator new's, whose every miss
 * is new_miss. */
static sa_always_inline void *heap_malloc_for(sa_heap_t *heap, size_t size, bool for_new)
{
    (void)for_new;      /* always false in the libraries without the overrides */
    size_t bin;
    if (sa_likely(size <= SA_BIN_TABLE_MAX)) {
        bin = _sa_bin_small_in(heap->bin_table, size);
        sa_assert(bin == _sa_bin_small(size));      /* the heap's copy is the table */
    } else if (size <= SA_LARGE_OBJ_SIZE_MAX)
        bin = _sa_bin(size);
#ifdef SA_OVERRIDE
    else if (for_new)
        return new_miss(size);
#endif
    else
        return malloc_generic_for(size, heap);
    sa_page_t *page = heap->page_direct[bin];
    if (sa_likely(page->free != NULL)) {
        /* The barrier keeps GCC from forming &page_direct[bin] in a
         * register of its own (an lea) to share with the count's add:
         * heap + bin * 8 is an address mode of the add itself. */
        __asm__("" : "+r"(bin));
        void *block = page_pop(heap, page, bin);
        /* The block in rax, the return register, from its load on: with
         * `page` live on the miss path (remote_cache_dry's test) GCC gave
         * rax to the page and moved the block there before the ret (19
         * instructions to it, not 18). */
        __asm__("" : "+a"(block));
        return block;
    }
#ifdef SA_OVERRIDE
    if (for_new)
        return new_miss(size);
#endif
    if (sa_unlikely(page->remote_cache))
        return remote_cache_dry(heap, bin, size);
    return malloc_generic_for(size, heap);
}

static sa_always_inline void *heap_malloc(sa_heap_t *heap, size_t size)
{
    return heap_malloc_for(heap, size, false);
}

sa_public void *sa_malloc(size_t size)
{
    return heap_malloc(_sa_heap_tls, size);
}

#ifdef SA_OVERRIDE
/* The full libraries' malloc (mk/lib.mk compiles this file with SA_OVERRIDE
 * for them): sa_malloc itself, not a jump to it. The other standard names
 * are src/override.c's. */
sa_public void *malloc(size_t size) __attribute__((alias("sa_malloc")));
sa_public void *__libc_malloc(size_t size) __attribute__((alias("sa_malloc")));

/* Weak: a program linking libshardalloc.a calls _sa_new only through
 * override_new.c's operator new, which defines this; a C program, which
 * never calls it, must not pull that member (and dlopen) in by this name. */
extern void *_sa_new_failed(size_t size, size_t alignment, bool nothrow) __attribute__((weak));

/* operator new's miss (a large size, an empty page, a dry remote cache):
 * malloc whole, which tests the fast path again (a few instructions, no
 * step of the generic path's: spec/bounds.smt2 is malloc's) and takes the
 * same miss path; if that failed, the standard's new_handler loop
 * (src/override_new.c). */
static sa_noinline void *new_miss(size_t size)
{
    void *p = sa_malloc(size);
    if (sa_likely(p != NULL))
        return p;
    return _sa_new_failed(size, 0, false);
}

/* The throwing operator new and new[] of the full libraries
 * (src/override_new.c jumps here): malloc's fast path itself, not a call of
 * malloc and a test of its result. A block popped is never NULL, so only a
 * miss (new_miss) can fail. */
void *_sa_new(size_t size)
{
    return heap_malloc_for(_sa_heap_tls, size, true);
}
#endif

/* malloc from a first-class heap (src/user_heap.c; the caller checked it is
 * the heap's owner). */
void *_sa_heap_malloc(sa_heap_t *heap, size_t size)
{
    return heap_malloc(heap, size);
}

/* Phase 1: the user's deferred-free hook (one step). */
static void heartbeat(sa_heap_t *heap)
{
    if (heap->generic_count % SA_HEARTBEAT_PERIOD == 0)
        _sa_heap_deferred_free(heap, false);
}

/* Phase 4's first candidate, looked at before the search is called: the
 * head page of the queue, when the blocks freed on local_free alone make
 * enough (not its last block: used != 0), so the search would collect and
 * use it too (page_queue.c). Most generic calls are this one: the fast path
 * used up `free` while the program freed into local_free. NULL: the search
 * decides (nothing collected, no step taken). One step, as a candidate of
 * the search. A remote free that lands meanwhile is collected too, and may
 * leave the page empty; used anyway, it is as good a choice as retiring it. */
static inline sa_page_t *search_head(sa_heap_t *heap, size_t bin)
{
    /* the head, or the empty page, or a remote cache a deferred-free hook
     * emptied (types.h): the latter two have no local frees */
    sa_page_t *page = heap->page_direct[bin];
    if (page->local_free == NULL || page->used == 0 || !_sa_page_enough_free(page))
        return NULL;
    SA_TRACE_LOOP(SA_LOOP_SEARCH);     /* spec: bounds.smt2 SEARCH */
    SA_TRACE_STEP(SA_LOOP_SEARCH);
    _sa_page_collect(page);
    if (page->used != 0)
        page->retire_at = 0;
    return page;
}

/* malloc when the head page of the size class has no free block, or the
 * thread has no heap yet, or the size is huge. The steps are the phases of
 * spec/bounds.smt2, in its order, each bounded there. */
sa_noinline void *_sa_malloc_generic(sa_heap_t *heap, size_t size)
{
    if (sa_unlikely(size > SA_LARGE_OBJ_SIZE_MAX || heap == &_sa_heap_empty)) {
        if (size > PTRDIFF_MAX) {
            errno = ENOMEM;
            return NULL;
        }
        if (heap == &_sa_heap_empty) {
            heap = _sa_heap_get_or_init();
            if (heap == NULL) {
                errno = ENOMEM;
                return NULL;
            }
        }
        if (size > SA_LARGE_OBJ_SIZE_MAX)
            return _sa_huge_alloc(size, SA_MIN_ALIGN, false);
    }
    size_t bin = _sa_bin(size);

    SA_TRACE_OP_BEGIN(SA_OP_MALLOC_GENERIC);
    SA_REFILL_SCOPE_BEGIN();
    uint64_t steps_before = _sa_steps;
    heap->generic_count++;
    heap->rcache_keeps_generic = heap->rcache_keeps;   /* spec: bounds.smt2 cache_cadence */
    heap->lifo_left = SA_LIFO_FREES_MAX;                /* spec: bounds.smt2 cadence (lifo) */
    heartbeat(heap);                                    /* spec: bounds.smt2 phase 1 heartbeat */
    /* The hook may have allocated: the head page may have a block now (or
     * freed one of another heap: the remote cache may have one; a cache
     * the hook emptied is passed over by the search, and made no longer
     * the fast path's page by the next malloc's remote_cache_dry). */
    sa_page_t *page = heap->page_direct[bin];
    if (page->free == NULL) {
        /* spec: bounds.smt2 phase 2 remote pages. Their budget is shared
         * with the pages waiting to be forwarded (drained by reclaim). */
        SA_TRACE_PHASE(SA_PHASE_REMOTE);
        size_t taken = _sa_heap_remote_pending(heap) ?
                       _sa_heap_take_remote_pages(heap, SA_REMOTE_PAGES_MAX) : 0;
        /* spec: bounds.smt2 phase 3 reclaim: only tries the abandon lock
         * (never waits). Abandoned segments are adopted only once the heap
         * has no segment with a free page of this kind: adopting them eagerly
         * let the first of a batch of new threads take them all (their free
         * pages then purged unused) while the others faulted in cached or
         * new segments. */
        if (sa_unlikely(_sa_segments_pending())) {
            bool need = heap->avail[_sa_page_kind_of_bin(bin)].first == NULL;
            if (need ||
                sa_point_load("load forward count", &_sa_forward_count, memory_order_relaxed) != 0)
                _sa_segments_reclaim(heap, need ? SA_RECLAIM_TRIES : 0,
                                     SA_REMOTE_PAGES_MAX - taken, false);
        }
        SA_TRACE_PHASE(SA_PHASE_SEARCH);
        page = search_head(heap, bin);                  /* spec: bounds.smt2 phase 4 search */
        if (page == NULL)
            page = _sa_page_queue_find(heap, bin);      /* spec: bounds.smt2 phase 4 search */
        if (page == NULL) {
            SA_TRACE_PHASE(SA_PHASE_FRESH);
            page = _sa_page_queue_fresh(heap, bin);     /* spec: bounds.smt2 phase 5 fresh page */
        }
    }
    void *block = NULL;
    if (sa_likely(page != NULL))
        block = page_pop(heap, page, bin);              /* spec: bounds.smt2 phase 6 pop */
    SA_TRACE_PHASE(SA_PHASE_HOUSEKEEPING);
    _sa_heap_housekeeping(heap);                        /* spec: bounds.smt2 phase 7 housekeeping */
    if (page != NULL && !page->remote_cache)
        sa_debug_check_page(page);
    SA_REFILL_SCOPE_END();
    SA_TRACE_OP_END(SA_OP_MALLOC_GENERIC);
    if (_sa_steps - steps_before > heap->stat_steps_max)
        heap->stat_steps_max = _sa_steps - steps_before;
    if (sa_unlikely(block == NULL))
        errno = ENOMEM;
    return block;
}

/* A zeroed block from `heap` (a fresh huge mapping is zero already). */
static void *heap_zalloc(sa_heap_t *heap, size_t size)
{
    if (size > SA_LARGE_OBJ_SIZE_MAX) {
        if (size > PTRDIFF_MAX) {
            errno = ENOMEM;
            return NULL;
        }
        return _sa_huge_alloc(size, SA_MIN_ALIGN, true);
    }
    void *p = heap_malloc(heap, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

sa_public void *sa_zalloc(size_t size)
{
    return heap_zalloc(_sa_heap_tls, size);
}

sa_public void *sa_calloc(size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return sa_zalloc(total);
}

/* The size a moving realloc asks for: a block above SA_REALLOC_HEADROOM_MIN
 * that grows gets at least 1 + 2^-SA_REALLOC_GROW_SHIFT times its old usable
 * size, so a buffer grown in small steps (a python list grows by 1/8, one
 * size class) moves O(log n) times instead of once per class, and touches
 * far fewer pages of far fewer segments. */
static size_t realloc_target(size_t size, size_t usable)
{
    size_t grown = usable + (usable >> SA_REALLOC_GROW_SHIFT);
    if (size > usable && size > SA_REALLOC_HEADROOM_MIN && size < grown)
        return grown;
    return size;
}

/* realloc(p, 0) frees p and returns NULL, as glibc does (drop-in compatible);
 * a pointer shardalloc did not hand out is reported and NULL returned. A block
 * is kept in place if the new size fits and uses at least half of it. */
sa_public void *sa_realloc(void *p, size_t size)
{
    if (p == NULL)
        return sa_malloc(size);
    if (size == 0) {
        _sa_free_checked(p, "realloc", SA_ERROR_USE_AFTER_FREE);
        return NULL;
    }
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    sa_segment_t *seg;
    sa_page_t *page = _sa_page_of_block(p);
    void *block = p;
    if (sa_unlikely(page == NULL)) {
        block = _sa_validate(p, "realloc", SA_ERROR_USE_AFTER_FREE, &seg, &page);
        if (block == NULL)
            return NULL;
        if (seg->kind == SA_SEGMENT_HUGE) {
            if (_sa_huge_resize(seg, p, size))
                return p;
            void *q = sa_malloc(size);
            if (q == NULL)
                return NULL;
            memcpy(q, p, size < seg->huge_usable ? size : seg->huge_usable);
            _sa_huge_free(seg, p);
            return q;
        }
    }
    size_t usable = (size_t)((uint8_t *)block + page->block_size - (uint8_t *)p);
    if (size <= usable && size >= usable / 2)
        return p;
    size_t want = realloc_target(size, usable);
    void *q = sa_malloc(want);
    if (sa_unlikely(q == NULL) && want != size)
        q = sa_malloc(size);    /* the headroom is a speed trade, not worth failing for */
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < usable ? size : usable);
    if (block == p)
        sa_free(p);     /* the common case: a block start, free's fast path */
    else
        _sa_free_checked(p, "realloc", SA_ERROR_USE_AFTER_FREE);
    return q;
}

sa_public void *sa_reallocarray(void *p, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return sa_realloc(p, total);
}

/* An aligned block: a size-class block if it happens to be aligned (blocks of
 * a multiple of the alignment often are), else a block over-allocated by
 * alignment - SA_MIN_ALIGN and an interior pointer into it (the page is marked
 * has_aligned and the block tagged with that pointer, so free accepts it and
 * no other interior pointer), else a huge mapping placed aligned. */
void *_sa_malloc_aligned(sa_heap_t *heap, size_t alignment, size_t size, bool zero)
{
    if (alignment <= SA_MIN_ALIGN)
        return zero ? heap_zalloc(heap, size) : heap_malloc(heap, size);
    if (size > PTRDIFF_MAX || alignment > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    if (size <= SA_LARGE_OBJ_SIZE_MAX && (_sa_bin_size(_sa_bin(size)) & (alignment - 1)) == 0) {
        void *p = heap_malloc(heap, size);
        if (p == NULL)
            return NULL;
        if (((uintptr_t)p & (alignment - 1)) == 0) {
            if (zero)
                memset(p, 0, size);
            return p;
        }
        sa_free(p);
    }
    /* Enough, as obligation aligned_alloc proves (spec: layout.smt2
     * aligned_request, align_up; goal p <= q < p + bsize and
     * q + max(size, 1) <= p + bsize). */
    size_t total = _sa_aligned_request(size, alignment);
    if (total > SA_LARGE_OBJ_SIZE_MAX)
        return _sa_huge_alloc(size, alignment, zero);
    uint8_t *p = heap_malloc(heap, total);
    if (p == NULL)
        return NULL;
    uint8_t *aligned = (uint8_t *)_sa_align_up((uintptr_t)p, alignment);
    if (aligned != p) {
        /* The gap before `aligned` is at least SA_MIN_ALIGN bytes: room for
         * the tag that makes exactly this interior pointer freeable. */
        sa_page_t *page = _sa_page_of(_sa_segment_of_ptr(p), p);
        /* Written once per page: line 1 is read by every free. */
        if (!atomic_load_explicit(&page->has_aligned, memory_order_relaxed))
            atomic_store_explicit(&page->has_aligned, 1, memory_order_relaxed);
        ((sa_block_t *)p)->next = (sa_block_t *)_sa_aligned_tag(aligned);
    }
    if (zero)
        memset(aligned, 0, size);
    return aligned;
}

static bool alignment_ok(size_t alignment)
{
    return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

sa_public void *sa_aligned_alloc(size_t alignment, size_t size)
{
    if (!alignment_ok(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return _sa_malloc_aligned(_sa_heap_tls, alignment, size, false);
}

sa_public void *sa_memalign(size_t alignment, size_t size)
{
    return sa_aligned_alloc(alignment, size);
}

sa_public int sa_posix_memalign(void **out, size_t alignment, size_t size)
{
    if (out == NULL || !alignment_ok(alignment) || alignment % sizeof(void *) != 0)
        return EINVAL;
    int saved = errno;
    void *p = _sa_malloc_aligned(_sa_heap_tls, alignment, size, false);
    if (p == NULL)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

sa_public void *sa_valloc(size_t size)
{
    return _sa_malloc_aligned(_sa_heap_tls, SA_OS_PAGE_SIZE, size, false);
}

sa_public void *sa_pvalloc(size_t size)
{
    size_t rounded = _sa_align_up(size, SA_OS_PAGE_SIZE);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return _sa_malloc_aligned(_sa_heap_tls, SA_OS_PAGE_SIZE, rounded == 0 ? SA_OS_PAGE_SIZE : rounded, false);
}

sa_public char *sa_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sa_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

sa_public char *sa_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = sa_malloc(len + 1);
    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}
