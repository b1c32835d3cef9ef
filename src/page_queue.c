/* src/page_queue.c -- the heap's page queues and the search over them (as
 * mimalloc's page-queue.c): one queue per size class, whose head is the page
 * the fast path pops from (heap->page_direct), the full queue, and the generic
 * path's steps 4 (search) and 5 (fresh page) of spec/bounds.smt2. The page
 * transitions themselves (collect, extend, to_full, retire) are page.c's. */
#include <errno.h>
#include "internal.h"

/* page_direct[bin] is the remote cache of the class while it holds a block
 * (types.h), else the head of queue `bin`, or the empty page: the fast
 * path's one load. The full queue has no direct entry. */
static void direct_update(sa_heap_t *heap, sa_page_queue_t *q)
{
    if (q >= heap->queues && q < heap->queues + SA_BIN_COUNT) {
        size_t bin = (size_t)(q - heap->queues);
        if (heap->rcache[bin].free != NULL)
            heap->page_direct[bin] = &heap->rcache[bin];
        else
            heap->page_direct[bin] = q->first != NULL ? q->first : &_sa_page_empty;
    }
}

/* page_direct[bin] set by the rule above (after the remote cache ran dry
 * or was given back), and returned. */
sa_page_t *_sa_page_queue_direct(sa_heap_t *heap, size_t bin)
{
    direct_update(heap, &heap->queues[bin]);
    return heap->page_direct[bin];
}

void _sa_page_queue_push_front(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page)
{
    page->prev = NULL;
    page->next = q->first;
    if (q->first != NULL) q->first->prev = page; else q->last = page;
    q->first = page;
    direct_update(heap, q);
}

void _sa_page_queue_push_back(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page)
{
    page->next = NULL;
    page->prev = q->last;
    if (q->last != NULL) q->last->next = page; else q->first = page;
    q->last = page;
    direct_update(heap, q);
}

void _sa_page_queue_remove(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page)
{
    if (page->prev != NULL) page->prev->next = page->next; else q->first = page->next;
    if (page->next != NULL) page->next->prev = page->prev; else q->last = page->prev;
    page->next = page->prev = NULL;
    direct_update(heap, q);
}

/* Make `page` the head of its queue, where the fast path (and the retire
 * sweep) look first. */
void _sa_page_queue_to_front(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page)
{
    if (q->first != page) {
        _sa_page_queue_remove(heap, q, page);
        _sa_page_queue_push_front(heap, q, page);
    }
}

/* Make `page` the last of its queue, where it waits longest before a search
 * meets it again (the search's pass over a page with only a few free
 * blocks). */
void _sa_page_queue_to_back(sa_heap_t *heap, sa_page_queue_t *q, sa_page_t *page)
{
    if (q->last != page) {
        _sa_page_queue_remove(heap, q, page);
        _sa_page_queue_push_back(heap, q, page);
    }
}

/* The page leaves its size class's queue for the back of the full queue
 * (to_full's queue half). */
void _sa_page_queue_to_full(sa_heap_t *heap, sa_page_t *page)
{
    _sa_page_queue_remove(heap, &heap->queues[page->bin], page);
    page->in_full = 1;
    _sa_page_queue_push_back(heap, &heap->full, page);
}

/* The page leaves the full queue for the back of its size class's queue
 * (unfull's queue half). Not the front: it has room for one block (or the
 * few remote frees that told), and a search that met it first would use it
 * for that block and be back at the next malloc; at the back it gathers the
 * frees that land on it while the pages in front are used (mimalloc does
 * the same). At the front, a large live set sends about a third of its
 * mallocs through the generic path. */
void _sa_page_queue_from_full(sa_heap_t *heap, sa_page_t *page)
{
    _sa_page_queue_remove(heap, &heap->full, page);
    page->in_full = 0;
    _sa_page_queue_push_back(heap, &heap->queues[page->bin], page);
}

/* Ask for the three lines of the search's next candidate (types.h: the
 * line of its layout, the owner's, the other threads') while the current
 * one is worked on: the search reads all three of each candidate it looks
 * at, and a page the heap has not touched for a while is out of the cache
 * (bench/latency's malloc_local, 50,000 blocks live: its p99 616 -> 552
 * cycles, medians of 5 interleaved runs). */
static inline void prefetch_page(const sa_page_t *page)
{
    for (size_t line = 0; line < sizeof *page; line += SA_CACHE_LINE)
        __builtin_prefetch((const char *)page + line);
}

/* Step 4, search (spec: bounds.smt2 phase 4): a page of `bin` with a free
 * block, at the head of its queue. At most SA_PAGE_SEARCH_MAX candidates are
 * looked at (the last one extended at once if it can be and few of its blocks
 * wait on local_free; else each is collected, then retired if empty, expired
 * and not the last candidate, used if it has enough free blocks (or is the
 * last candidate), extended if it can be, else moved to the full queue); then
 * the first candidate that had a few free blocks. NULL if none: then step 5.
 * A candidate passed over for having only a few free blocks goes to the back
 * of the queue, as an unfulled page does (_sa_page_queue_from_full): there
 * it gathers the frees that land on it while the pages in front are used.
 * Left where it was, it was looked at again by every search that followed
 * and taken with a trickle at last (docs/design.md, "The page search"). One
 * whose few free blocks are all on local_free goes there uncollected, so
 * they join the ones it gathers in one collect when its turn comes (its
 * `free` ran dry twice per turn when the trickle was collected first).
 * The generic path tries the head page alone first (alloc.c search_head),
 * and calls this only when local frees alone do not make it usable. */
sa_page_t *_sa_page_queue_find(sa_heap_t *heap, size_t bin)
{
    sa_page_queue_t *q = &heap->queues[bin];
    sa_page_t *page = q->first;
    sa_page_t *sparse = NULL;   /* first candidate with only a few free blocks */
    SA_TRACE_LOOP(SA_LOOP_SEARCH);     /* spec: bounds.smt2 SEARCH */
    /* Ends early at a page passed over in this search (at the back now:
     * the queue was gone round). */
    for (size_t n = 0; page != NULL && page != sparse && n < SA_PAGE_SEARCH_MAX; n++) {
        SA_TRACE_STEP(SA_LOOP_SEARCH);
        sa_page_t *next = page->next;
        if (next != NULL)
            prefetch_page(next);
        bool last = next == NULL || next == sparse || n + 1 == SA_PAGE_SEARCH_MAX;
        if (next == NULL && page->free == NULL && page->capacity < page->reserved &&
            !_sa_page_enough_free(page)) {
            /* The last candidate, with few blocks freed since (capacity -
             * used = |local_free| when free is empty): make fresh ones first,
             * reuse those later. (With more candidates, one with more free
             * blocks is looked for instead, below.) */
            SA_TRACE_PHASE(SA_PHASE_FRESH);     /* paid from B_FRESH: no fresh page */
            _sa_page_extend(page);
            _sa_page_queue_to_front(heap, q, page);
            return page;
        }
        if (!last && page->free == NULL && page->local_free != NULL && !_sa_page_enough_free(page) &&
            _sa_tf_block(sa_point_load("load thread_free", &page->thread_free, memory_order_relaxed)) == NULL) {
            /* Only a few free blocks, all on local_free (capacity - used
             * counts them; none on thread_free, which used still counts):
             * passed over uncollected, to the back. */
            if (sparse == NULL)
                sparse = page;
            _sa_page_queue_to_back(heap, q, page);
            page = next;
            continue;
        }
        /* Only a page with `free` empty is collected: its collect walks
         * nothing (a page that has free blocks is used as it is). */
        if (page->free == NULL)
            _sa_page_collect(page);
        if (page->used == 0 && page->retire_at != 0 && heap->generic_count >= page->retire_at &&
            next != NULL && _sa_page_can_retire(page)) {
            _sa_page_retire(heap, page);
        } else if (page->free != NULL) {
            if (page->used != 0)
                page->retire_at = 0;
            /* After collect, capacity - used is the length of `free`. A page
             * with only a few is passed over while other candidates remain:
             * using it would bring the next malloc straight back here. */
            if (_sa_page_enough_free(page) || last) {
                _sa_page_queue_to_front(heap, q, page);
                return page;
            }
            if (sparse == NULL)
                sparse = page;
            _sa_page_queue_to_back(heap, q, page);
        } else if (page->capacity < page->reserved) {
            SA_TRACE_PHASE(SA_PHASE_FRESH);     /* paid from B_FRESH: no fresh page */
            _sa_page_extend(page);
            _sa_page_queue_to_front(heap, q, page);
            return page;
        } else {
            /* A failed to_full (a remote free arrived) leaves the page where
             * it is: the next generic call collects it first. */
            _sa_page_to_full(heap, page);
        }
        page = next;
    }
    if (sparse != NULL) {
        /* Passed over uncollected: collected now (the collect of its
         * candidate step; local_free holds a block, so `free` will). */
        if (sparse->free == NULL)
            _sa_page_collect(sparse);
        _sa_page_queue_to_front(heap, q, sparse);
    }
    return sparse;
}

/* Step 5, fresh page (spec: bounds.smt2 phase 5): a page of `bin` from a
 * segment, initialised, extended and put at the head of its queue; NULL if
 * out of memory even after giving back what can be. */
sa_page_t *_sa_page_queue_fresh(sa_heap_t *heap, size_t bin)
{
    int saved_errno = errno;
    sa_page_t *page = _sa_segment_page_alloc(heap, bin);
    if (sa_unlikely(page == NULL)) {
        /* Out of memory: give back every empty page and cached mapping at
         * once (the retire delay is a speed trade, not worth failing for),
         * then try once more. */
        _sa_out_of_memory_collect(heap, SA_SEGMENT_SIZE);
        page = _sa_segment_page_alloc(heap, bin);
        if (page == NULL)
            return NULL;
        errno = saved_errno;    /* a malloc that succeeds leaves errno alone */
    }
    _sa_page_init(heap, page, bin);
    _sa_page_extend(page);
    _sa_page_queue_push_front(heap, &heap->queues[bin], page);
    return page;
}
