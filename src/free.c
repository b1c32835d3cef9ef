/* src/free.c -- free: the segment of the pointer's unit, if the segment map
 * says it is live; the page from its unit table; check the pointer is a
 * block start of a page in use; then
 * the owner pushes `free` itself, to hand the block out next, up to
 * SA_LIFO_FREES_MAX times between two generic calls, else `local_free` (no
 * atomics either way), and any other thread claims the
 * block and keeps it in its remote cache (to hand out again itself) or
 * CAS-pushes `thread_free`. Pointers that fail a check are reported and
 * ignored; a block that still carries its canary is on a list (or in a remote
 * cache) already: a double free. */
#include <errno.h>
#include "internal.h"

/* The push of free_local (the transition itself). `canary` is the block's. */
static sa_always_inline void free_local_push(sa_heap_t *heap, sa_page_t *page, sa_block_t *block,
                                             uintptr_t canary)
{
    SA_TRACE_BEFORE(SA_T_FREE_LOCAL, page);
    /* Keeps GCC from loading local_free (below) ahead of free_local's test
     * of the heap's budget: the load is this path's alone, and hoisted it
     * cost every free onto `free` an instruction (bench/fastpath under
     * callgrind: 41.0 -> 40.1 a free). */
    __asm__ volatile("" : "+r"(page));
    /* Debug builds: the guard of free_local and what inv says of the block.
     * (made_key is no fact of the spec: the key free's validation reads,
     * kept beside capacity, which the owner sees as set.) */
    sa_assert_spec("free_local (owned)", atomic_load_explicit(&page->heap, memory_order_relaxed) == heap);
    sa_assert_spec("inv_slot (in_page)", _sa_page_in_page(page, block));
    sa_assert_spec("inv_block (a LIVE block is made)", _sa_page_made(page, block));
    sa_assert_spec("free_to (LIVE: not the head of local_free)", block != page->local_free);
    sa_assert_spec("used_live_thread (a LIVE block is used)", page->used > 0);
    sa_assert(page->made_key == _sa_block_made_key(page->capacity, page->block_size, page->magic));
    sa_block_t *local = page->local_free;   /* before the stores: the fast path's test of it stands */
    sa_assert(page->local_empty == (local == NULL ? SA_LOCAL_EMPTY : 0));
    block->canary = canary;
    block->next = local;
    page->local_free = block;
    if (local == NULL) {
        page->local_tail = block;
        page->local_empty = 0;
    }
    /* The barrier makes GCC read used again here rather than keep the
     * value free_local compared: a compare with memory there and a
     * decrement in memory here, two instructions where a load, a compare, a
     * subtract and a store were four (callgrind on bench/fastpath). */
    __asm__("" : "+r"(page));
    /* used -= 1 as a decrement of the whole used_word (used >= 1: no
     * borrow leaves it). The next free's test loads those 8 bytes; after a
     * 4-byte store to used that load cannot take its value from the store
     * buffer and waits for the store to reach the cache, on every free of a
     * run of frees (bench/p1-style loops of n mallocs then n frees: 10.7 ->
     * 8.4 ns a pair, mimalloc 8.4). */
    page->used_word--;
    SA_TRACE_AFTER(SA_T_FREE_LOCAL, page);
    sa_debug_check_page_full(page);
    _sa_stat_free(heap, page->bin);
}

/* The push of free_lifo (the transition itself): the block onto `free`, to
 * be the next malloc's of its class (it is in the cache now: the program
 * just used it, and free's canary test read it). Guard as free_local's, and
 * the heap's budget (free_local tests both). `canary` is the block's. */
static sa_always_inline void free_lifo_push(sa_heap_t *heap, sa_page_t *page, sa_block_t *block,
                                            uintptr_t canary)
{
    SA_TRACE_BEFORE(SA_T_FREE_LIFO, page);
    /* Debug builds: the guard of free_lifo and what inv says of the block
     * (bounds.smt2 cadence's guard, the budget, is free_local's test). */
    sa_assert_spec("free_lifo (owned)", atomic_load_explicit(&page->heap, memory_order_relaxed) == heap);
    sa_assert_spec("free_lifo (not in_full)", !page->in_full);
    sa_assert_spec("inv_slot (in_page)", _sa_page_in_page(page, block));
    sa_assert_spec("inv_block (a LIVE block is made)", _sa_page_made(page, block));
    sa_assert_spec("free_to (LIVE: not the head of free)", block != page->free);
    sa_assert_spec("used_live_thread (a LIVE block is used)", page->used > 0);
    block->canary = canary;
    block->next = page->free;
    page->free = block;
    __asm__("" : "+r"(page));   /* used_word in memory: free_local_push says why */
    page->used_word--;
    SA_TRACE_AFTER(SA_T_FREE_LIFO, page);
    sa_debug_check_page_full(page);
    _sa_stat_free(heap, page->bin);
}

/* free_local onto an empty local_free (a full page's is empty: spec/page.smt2
 * full_no_local), or of the page's last live block (or a double free that
 * got past the canary): out of line, so the common case stays a short leaf
 * function. A full page is taken back first, so that it never holds a local
 * free (the fast path relies on it). spec: page.smt2 unfull, free_local */
static sa_noinline void free_local_slow(sa_heap_t *heap, sa_page_t *page, sa_block_t *block)
{
    if (page->used == 0) {
        _sa_error_ptr(SA_ERROR_DOUBLE_FREE, "free", "double free", block);
        return;
    }
    SA_TRACE_OP_BEGIN(SA_OP_FREE_LOCAL);
    if (page->in_full)
        _sa_page_unfull(heap, page, false);
    free_local_push(heap, page, block, _sa_block_canary(block));
    sa_assert(!page->in_full);
    if (page->used == 0)
        _sa_page_mark_empty(heap, page);
    SA_TRACE_OP_END(SA_OP_FREE_LOCAL);
}

/* The owner frees a block: push `free` while the heap's budget lasts
 * (free_lifo), else local_free (free_local); used -= 1 either way; a full
 * page is taken back (unfull), an emptied one marked for retire. Guard:
 * block LIVE, caller owns the page; `canary` is the block's. Inline: not the
 * last live block, and local_free non-empty: so not a full page
 * (spec/page.smt2 full_no_local, proven inductive: a full page holds no
 * local frees), and no local_tail to set; both by one signed compare of
 * used_word (src/types.h); then the budget, one decrement in memory
 * (SA_LIFO_FREES_MAX since the last generic call: spec/bounds.smt2
 * cadence). Or local_free empty (after each collect) on a page that is not
 * full: the push that sets local_tail, inline too, off the first test; the
 * frees after it may go onto `free`. spec: page.smt2 free_lifo, free_local */
static sa_always_inline void free_local(sa_heap_t *heap, sa_page_t *page, sa_block_t *block,
                                        uintptr_t canary)
{
    if (sa_likely(page->used_word > 1)) {
        sa_assume(page->local_free != NULL);    /* local_empty is clear */
        if (sa_likely(--heap->lifo_left >= 0)) {
            SA_TRACE_OP_BEGIN(SA_OP_FREE_LOCAL);
            free_lifo_push(heap, page, block, canary);
            SA_TRACE_OP_END(SA_OP_FREE_LOCAL);
            return;
        }
    } else if (page->used <= 1 || page->in_full) {
        free_local_slow(heap, page, block);
        return;
    }
    SA_TRACE_OP_BEGIN(SA_OP_FREE_LOCAL);
    free_local_push(heap, page, block, canary);
    SA_TRACE_OP_END(SA_OP_FREE_LOCAL);
}

/* free_local for the paths that validated the block already (free's slow
 * path, sa_heap_destroy). */
void _sa_free_local(sa_heap_t *heap, sa_page_t *page, sa_block_t *block)
{
    free_local(heap, page, block, _sa_block_canary(block));
}

/* The push of free_remote (the transition itself): one CAS pushes the block
 * on thread_free; if the owner is watching (WATCH), the same CAS sets QUEUED
 * and the page is then pushed on the owner's remote_pages, once. Lock-free:
 * a failed CAS means another push succeeded. Once the block is on
 * thread_free, the owner may collect it and retire the page at any moment:
 * nothing of the page is read after the push but its owner. */
static void free_remote_push(sa_page_t *page, sa_block_t *block)
{
    SA_TRACE_BEFORE(SA_T_FREE_REMOTE, page);
    uintptr_t old = sa_point_load("load thread_free", &page->thread_free,
                                  memory_order_relaxed);
    uintptr_t notify;
    for (;;) {      /* spec: bounds.smt2 FREE_PUSH */
        SA_TRACE_STEP(SA_LOOP_CAS);
        notify = old & SA_NOTIFY_MASK;
        block->next = _sa_tf_block(old);
        uintptr_t new_notify = notify == SA_NOTIFY_WATCH ? SA_NOTIFY_QUEUED : notify;
        if (sa_point_cas_weak("cas thread_free", &page->thread_free, &old,
                              _sa_tf_push(old, block, new_notify),
                              memory_order_acq_rel, memory_order_relaxed))
            break;
        SA_TRACE_RETRY();
    }
    SA_TRACE_AFTER(SA_T_FREE_REMOTE, page);
    if (notify == SA_NOTIFY_WATCH) {
        /* We turned WATCH into QUEUED: we alone must deliver the page. */
        sa_heap_t *owner = sa_point_load("load owner", &page->heap,
                                         memory_order_acquire);
        if (sa_likely(owner != NULL))
            _sa_heap_remote_push(owner, page);
        else
            _sa_segment_forward_queued(page);   /* abandoned meanwhile: slow path */
    }
}

/* Keep a claimed block of another heap's page in this thread's remote cache
 * instead of pushing it: no page transition (the block stays LIVE to its
 * page, and `used` counts it), to be handed out again by this thread's
 * malloc or given back by _sa_remote_cache_flush. The cache of the class
 * becomes the fast path's page as it gets its first block (types.h says
 * how): a block this thread just read is in its own CPU cache, so its next
 * malloc of the class takes it before any block of its own pages (and the
 * cache makes room for the next remote free). Guard: remote_cache_may_keep,
 * and no memory pressure. */
static inline void remote_cache_keep(sa_heap_t *heap, sa_block_t *block, size_t bin)
{
    sa_page_t *cache = &heap->rcache[bin];
    /* spec: bounds.smt2 cache_keep's guard: fewer than the limit kept since
     * the generic call before this keep (remote_cache_may_keep; the count
     * includes this one) */
    sa_assert(heap->rcache_keeps - heap->rcache_keeps_generic <= SA_REMOTE_CACHE_KEEPS_MAX);
    if (cache->free == NULL)
        heap->page_direct[bin] = cache;
    block->next = cache->free;
    cache->free = block;
    cache->used--;
    sa_assert(cache->used < cache->capacity);
}

/* The blocks a thread keeps: only a thread with a heap's, of a page with an
 * owner (an abandoned page's blocks go home, so its segment can empty), not
 * of a first-class heap's (`cacheable`), within SA_REMOTE_CACHE_BYTES of its
 * size class (a full cache has used = capacity - |free| = 0), fewer than
 * SA_REMOTE_CACHE_KEEPS_MAX since the thread's last generic call (config.h
 * says why; rcache_keeps counts every block that got this far, so it bounds
 * the keeps: spec/bounds.smt2 cache_cadence); not a block
 * this thread's malloc handed out from this very cache (`mark`, the block's
 * second word as the claim found it, is the cache's address: alloc.c
 * page_pop), which goes home: kept again it would be handed out to this
 * thread again, and its next free would be remote again, a foreign block
 * circulating between one thread's cache and its own use for good (a table
 * handed from thread to thread, as Larson's and bench/relay's, stays remote
 * that way: docs/design.md); and not under memory pressure (the owner
 * should get its memory back), which _sa_free_remote tests apart: no
 * pressure recorded (_sa_oom_pressure_recorded), its common case, is one
 * load there. The mark is a hint: a program that wrote the block's second
 * word erased it, and the block is kept as any other. */
static inline bool remote_cache_may_keep(sa_heap_t *heap, sa_page_t *page, size_t bin,
                                         uintptr_t mark)
{
    sa_page_t *cache = &heap->rcache[bin];
    return cache->used != 0 &&      /* also a thread without a heap: the empty heap's have no room */
           mark != (uintptr_t)cache &&
           heap->rcache_keeps - heap->rcache_keeps_generic < SA_REMOTE_CACHE_KEEPS_MAX &&
           atomic_load_explicit(&page->cacheable, memory_order_relaxed) &&
           atomic_load_explicit(&page->heap, memory_order_relaxed) != NULL;
}

/* Every SA_REMOTE_CACHE_HOME_EVERY-th block the cache may keep goes home
 * instead (config.h says why): a block circulating between the cache and
 * the thread's own use then goes home after that many keeps on average,
 * mark or no mark. Only for a thread with a heap of its own
 * (remote_cache_may_keep was true): the empty heap is shared. */
static inline bool remote_cache_sends_home(sa_heap_t *heap)
{
    _Static_assert((SA_REMOTE_CACHE_HOME_EVERY & (SA_REMOTE_CACHE_HOME_EVERY - 1)) == 0,
                   "SA_REMOTE_CACHE_HOME_EVERY is a power of two");
    return (++heap->rcache_keeps & (SA_REMOTE_CACHE_HOME_EVERY - 1)) == 0;
}

/* A remote free that may keep its block while a memory-pressure window was
 * recorded: kept only if it has ended (_sa_oom_pressure_check, which needs
 * the clock), else pushed. Out of line: the call would cost every remote
 * free a stack frame. */
static sa_noinline void free_remote_pressure(sa_heap_t *heap, sa_page_t *page, sa_block_t *block,
                                             size_t bin)
{
    if (_sa_oom_pressure_check())
        free_remote_push(page, block);
    else
        remote_cache_keep(heap, block, bin);
}

/* Another thread (or any thread, for an abandoned page) frees a block: it
 * claims it, then keeps it in its remote cache or pushes it on thread_free;
 * a thread without a heap notes the page's owner for its first malloc
 * (_sa_heap_hint).
 * Guard: block LIVE, caller does not own the page. spec: page.smt2
 * free_remote (a kept block: no transition until it is pushed) */
void _sa_free_remote(sa_page_t *page, sa_block_t *block)
{
    SA_TRACE_OP_BEGIN(SA_OP_FREE_REMOTE);
    /* Read before the push (free_remote_push says why). */
    size_t bin = page->bin;
    /* Claim the block: its canary says "on a list" (or in a remote cache).
     * Two threads freeing it at once both passed free's canary test; the
     * exchange lets one through and reports the other. (Without it, a third
     * block pushed between their two pushes makes thread_free a cycle that
     * collect's count cannot tell from a list, and the block is handed out
     * twice: make interleave-long's double_free_4; or one thread keeps the
     * block while the other pushes it.) A relaxed exchange: only its
     * atomicity matters. */
    uintptr_t canary = _sa_block_canary(block);
    SA_MC_POINT(SA_MC_RMW, &block->canary, "claim block");
    uintptr_t mark = __atomic_exchange_n(&block->canary, canary, __ATOMIC_RELAXED);
    if (sa_unlikely(mark == canary)) {
        SA_TRACE_OP_END(SA_OP_FREE_REMOTE);
        _sa_error_ptr(SA_ERROR_DOUBLE_FREE, "free", "double free (racing threads)", block);
        return;
    }
    /* Debug builds: the guard of free_remote and what inv says of the block
     * (with a LIVE block the page is not retired, so its capacity only
     * grows). That the block is LIVE, not on thread_free already, is the
     * caller's promise: the canary claim above reports a broken one, and
     * collect's count check what got past it (a staged racing double free,
     * tests/api/errors.c), so it is not asserted here. */
    sa_assert_spec("free_remote (not owned by the caller)",
                   atomic_load_explicit(&page->heap, memory_order_relaxed) != _sa_heap_tls);
    sa_assert_spec("inv_slot (in_page)", _sa_page_in_page(page, block));
    sa_assert_spec("inv_block (a LIVE block is made)", _sa_page_made(page, block));
    _sa_stat_remote_free(bin);
    sa_heap_t *heap = _sa_heap_tls;
    if (sa_unlikely(heap == SA_HEAP_EMPTY))     /* no heap yet: which to take first */
        _sa_heap_hint = atomic_load_explicit(&page->heap, memory_order_relaxed);
    if (!remote_cache_may_keep(heap, page, bin, mark) || remote_cache_sends_home(heap))
        free_remote_push(page, block);
    else if (sa_likely(!_sa_oom_pressure_recorded()))
        remote_cache_keep(heap, block, bin);
    else
        free_remote_pressure(heap, page, block, bin);
    SA_TRACE_OP_END(SA_OP_FREE_REMOTE);
}

/* Each class's remote cache starts empty, with room for the blocks of the
 * class that fit in SA_REMOTE_CACHE_BYTES (none of a larger class). */
void _sa_remote_cache_init(sa_heap_t *heap)
{
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        sa_page_t *cache = &heap->rcache[bin];
        cache->free = NULL;
        cache->capacity = cache->used = (uint32_t)(SA_REMOTE_CACHE_BYTES / _sa_bin_size(bin));
        cache->remote_cache = 1;
    }
}

/* Give every block of the heap's remote cache back to its page: the
 * free_remote push of each (its canary is set already, its free counted).
 * Also if the page has become ours since (reclaim): any thread may push on
 * thread_free, and the owner's next collect takes it. At most
 * SA_REMOTE_CACHE_BYTES / SA_MIN_ALIGN blocks a class. The fast path's page
 * of the class is its queue's head again. The thread's exit and sa_collect
 * call it (_sa_heap_collect). */
void _sa_remote_cache_flush(sa_heap_t *heap)
{
    for (size_t bin = 0; bin < SA_BIN_COUNT; bin++) {
        sa_page_t *cache = &heap->rcache[bin];
        sa_block_t *block = cache->free;
        cache->free = NULL;
        cache->used = cache->capacity;
        if (heap->page_direct[bin] == cache)
            _sa_page_queue_direct(heap, bin);
        while (block != NULL) {
            sa_block_t *next = block->next;
            free_remote_push(_sa_page_of(_sa_segment_of_ptr(block), block), block);
            block = next;
        }
    }
}

/* p is a block already free: to `call` a double free or a use after free. */
static void report_freed(const char *call, sa_error_kind_t freed, const void *p)
{
    _sa_error_ptr(freed, call, freed == SA_ERROR_DOUBLE_FREE ? "double free" : "use after free", p);
}

/* Full validation, for every path but the fast free: the block start of p, or
 * NULL after a report naming `call` (none if call is NULL); a block already
 * free is reported as `freed`. */
void *_sa_validate(const void *p, const char *call, sa_error_kind_t freed, sa_segment_t **seg_out,
                   sa_page_t **page_out)
{
    sa_segment_t *seg;
    if (!_sa_segmap_find(p, &seg))
        goto foreign;
    if (seg->kind == SA_SEGMENT_HUGE) {
        if ((const uint8_t *)p != seg->huge_block)
            goto foreign;
        if (seg->huge_free) {
            if (call != NULL)
                report_freed(call, freed, p);
            return NULL;
        }
        *seg_out = seg;
        *page_out = NULL;
        return (void *)p;
    }
    sa_page_t *page = _sa_page_of(seg, p);
    if (!page->in_use || page->block_size == 0)
        goto foreign;
    uintptr_t off = (uintptr_t)p - (uintptr_t)page->start;
    if (off >= (uintptr_t)_sa_page_capacity(page) * page->block_size)
        goto foreign;
    sa_block_t *block = (sa_block_t *)p;
    if (!_sa_block_is_start(off, page->magic)) {
        if (!atomic_load_explicit(&page->has_aligned, memory_order_relaxed))
            goto foreign;
        block = (sa_block_t *)(page->start + _sa_block_index(off, page->magic) * page->block_size);
        if ((uintptr_t)block->next != _sa_aligned_tag(p) || block->canary == _sa_block_canary(block))
            goto foreign;   /* not the pointer memalign handed out (or freed) */
    }
    if (block->canary == _sa_block_canary(block)) {
        if (call != NULL)
            report_freed(call, freed, p);
        return NULL;
    }
    *seg_out = seg;
    *page_out = page;
    return block;
foreign:
    if ((seg = _sa_huge_far_find(p)) != NULL) {
        *seg_out = seg;
        *page_out = NULL;
        return (void *)p;
    }
    if (call != NULL)
        _sa_error_ptr(SA_ERROR_FOREIGN_POINTER, call, "pointer not allocated by shardalloc", p);
    return NULL;
}

static inline void free_block(sa_page_t *page, sa_block_t *block)
{
    sa_heap_t *heap = _sa_heap_tls;
    if (sa_likely(atomic_load_explicit(&page->heap, memory_order_relaxed) == heap))
        _sa_free_local(heap, page, block);
    else
        _sa_free_remote(page, block);
}

/* free by the slow path: validate (reporting as `call`, a block already free
 * as `freed`), then free. */
void _sa_free_checked(void *p, const char *call, sa_error_kind_t freed)
{
    sa_segment_t *seg;
    sa_page_t *page;
    void *block = _sa_validate(p, call, freed, &seg, &page);
    if (block == NULL)
        return;
    if (seg->kind == SA_SEGMENT_HUGE)
        _sa_huge_free(seg, p);
    else
        free_block(page, block);
}

/* The common case inline, a short leaf: a block start of a page in use
 * (segment map, made bound, block-start multiply: _sa_page_of_block_start)
 * that is not free (its canary), freed by its owner into a page that stays
 * neither empty nor full. The canary is computed once, for the double-free
 * test and for the push, after the page is found (computed before, it held
 * a register across the lookup and cost a move). Everything else (remote,
 * last block, full page, NULL, huge, foreign) out of line. */
sa_public void sa_free(void *p)
{
    sa_page_t *page = _sa_page_of_block_start(p);
    uintptr_t canary = _sa_block_canary(p);
    if (sa_likely(page != NULL && ((sa_block_t *)p)->canary != canary)) {
        /* The page's heap, used as the caller's once they are equal: the
         * thread's heap is then only compared with (one instruction fewer
         * than loading it). */
        sa_heap_t *heap = atomic_load_explicit(&page->heap, memory_order_relaxed);
        /* The owner's fields only after the owner check: read by another
         * thread they would race with the owner's writes (ThreadSanitizer
         * says so; the C memory model calls that undefined). */
        if (sa_likely(heap == _sa_heap_tls))
            free_local(heap, page, (sa_block_t *)p, canary);
        else
            _sa_free_remote(page, (sa_block_t *)p);
    } else if (p != NULL) {
        _sa_free_checked(p, "free", SA_ERROR_DOUBLE_FREE);
    }
}

#ifdef SA_OVERRIDE
/* The full libraries' free (mk/lib.mk compiles this file with SA_OVERRIDE
 * for them): sa_free itself under the standard names, not a jump to it.
 * The other standard names are src/override.c's. */
sa_public void free(void *p) __attribute__((alias("sa_free")));
sa_public void cfree(void *p) __attribute__((alias("sa_free")));
sa_public void __libc_free(void *p) __attribute__((alias("sa_free")));
sa_public void __libc_cfree(void *p) __attribute__((alias("sa_free")));
#endif

size_t _sa_usable_size_of(const void *p, const char *call)
{
    if (p == NULL)
        return 0;
    sa_page_t *fast = _sa_page_of_block(p);
    if (sa_likely(fast != NULL))
        return fast->block_size;
    sa_segment_t *seg;
    sa_page_t *page;
    uint8_t *block = _sa_validate(p, call, SA_ERROR_USE_AFTER_FREE, &seg, &page);
    if (block == NULL)
        return 0;
    if (seg->kind == SA_SEGMENT_HUGE)
        return seg->huge_usable;
    return (size_t)(block + page->block_size - (const uint8_t *)p);
}

sa_public size_t sa_usable_size(const void *p)
{
    return _sa_usable_size_of(p, "usable_size");
}

sa_public bool sa_owns(const void *p)
{
    if (p == NULL)
        return false;
    sa_segment_t *seg;
    sa_page_t *page;
    return _sa_validate(p, NULL, SA_ERROR_USE_AFTER_FREE, &seg, &page) != NULL;
}
