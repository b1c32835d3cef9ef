/* src/user_heap.c -- first-class heaps: sa_heap_new, allocation from a given
 * heap, sa_heap_destroy (every block freed at once), sa_heap_delete (live
 * blocks handed to the calling thread's heap), sa_heap_visit_blocks.
 *
 * A first-class heap is a heap like a thread's (heap.c), made by
 * sa_heap_new instead of a thread's first malloc, and never in any thread's
 * TLS: only the thread that made it (`owner`) allocates from it, reallocates
 * in it, visits, destroys or deletes it; every call checks that and reports
 * any other thread as a misuse. Any thread may free its blocks with sa_free:
 * the owner's frees take the remote path (the page's owner heap is not the
 * thread's TLS heap), collected by the heap's next generic malloc.
 *
 * Nothing here adds a page transition. Destroying a page frees each of its
 * live blocks with the owner's free (spec: page.smt2 collect, free_local or
 * free_lifo, by the heap's budget),
 * then retires it (retire); a delete abandons each page and has the thread's
 * heap reclaim it (abandon, reclaim). Blocks above SA_LARGE_OBJ_SIZE_MAX are
 * mappings of their own (huge.c): the heap keeps them on a list of its own,
 * under its huge_lock, so destroy and visit find them and a free by any
 * thread takes them off.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

/* Is the calling thread the heap's owner? Else report the misuse for `call`. */
static bool owned_by_caller(const sa_heap_t *heap, const char *call)
{
    if (heap == NULL || !heap->first_class) {
        _sa_error_ptr(SA_ERROR_FOREIGN_POINTER, call, "not a heap made by sa_heap_new", heap);
        return false;
    }
    if (!pthread_equal(heap->owner, pthread_self())) {
        _sa_error_ptr(SA_ERROR_WRONG_THREAD, call, "heap used by a thread other than its owner", heap);
        return false;
    }
    return true;
}

sa_public sa_heap_t *sa_heap_new(void)
{
    _sa_process_init();
    sa_heap_t *heap = _sa_heap_make(true);     /* never a stocked heap */
    if (heap == NULL)
        return NULL;
    heap->owner = pthread_self();
    heap->huge_first = NULL;
    pthread_mutex_init(&heap->huge_lock, NULL);
    return heap;
}

/* ---- huge blocks of a heap ---------------------------------------------------------- */

static void huge_link(sa_heap_t *heap, sa_segment_t *seg)
{
    pthread_mutex_lock(&heap->huge_lock);
    seg->heap = heap;
    seg->heap_prev = NULL;
    seg->heap_next = heap->huge_first;
    if (heap->huge_first != NULL)
        heap->huge_first->heap_prev = seg;
    heap->huge_first = seg;
    pthread_mutex_unlock(&heap->huge_lock);
}

/* A huge block of a first-class heap is freed (by any thread): off its list. */
void _sa_user_heap_huge_unlink(sa_segment_t *seg)
{
    sa_heap_t *heap = seg->heap;
    pthread_mutex_lock(&heap->huge_lock);
    if (seg->heap_prev != NULL) seg->heap_prev->heap_next = seg->heap_next;
    else heap->huge_first = seg->heap_next;
    if (seg->heap_next != NULL) seg->heap_next->heap_prev = seg->heap_prev;
    seg->heap = NULL;
    pthread_mutex_unlock(&heap->huge_lock);
}

/* A block from `heap`: huge ones on its list. */
static void *heap_alloc(sa_heap_t *heap, size_t alignment, size_t size, bool zero)
{
    void *p = _sa_malloc_aligned(heap, alignment, size, zero);
    if (p != NULL && (size > SA_LARGE_OBJ_SIZE_MAX || alignment > SA_MIN_ALIGN)) {
        sa_segment_t *seg;      /* (validate: a far block is not at its mask) */
        sa_page_t *page;
        if (_sa_validate(p, NULL, SA_ERROR_USE_AFTER_FREE, &seg, &page) != NULL && seg->kind == SA_SEGMENT_HUGE)
            huge_link(heap, seg);
    }
    return p;
}

/* ---- allocation ------------------------------------------------------------------------ */

sa_public void *sa_heap_malloc(sa_heap_t *heap, size_t size)
{
    if (!owned_by_caller(heap, "heap_malloc")) {
        errno = EINVAL;
        return NULL;
    }
    if (size <= SA_LARGE_OBJ_SIZE_MAX)
        return _sa_heap_malloc(heap, size);
    return heap_alloc(heap, SA_MIN_ALIGN, size, false);
}

sa_public void *sa_heap_calloc(sa_heap_t *heap, size_t count, size_t size)
{
    size_t total;
    if (!owned_by_caller(heap, "heap_calloc")) {
        errno = EINVAL;
        return NULL;
    }
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return heap_alloc(heap, SA_MIN_ALIGN, total, true);
}

sa_public void *sa_heap_aligned_alloc(sa_heap_t *heap, size_t alignment, size_t size)
{
    if (!owned_by_caller(heap, "heap_aligned_alloc")) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return heap_alloc(heap, alignment, size, false);
}

/* The usable size of p if it is a live block of `heap`, else 0. */
sa_public size_t sa_heap_usable_size(const sa_heap_t *heap, const void *p)
{
    if (p == NULL || !owned_by_caller(heap, "heap_usable_size"))
        return 0;
    sa_segment_t *seg;
    sa_page_t *page;
    if (_sa_validate(p, "heap_usable_size", SA_ERROR_USE_AFTER_FREE, &seg, &page) == NULL)
        return 0;
    if (seg->kind == SA_SEGMENT_HUGE ? seg->heap != heap
                                     : atomic_load_explicit(&page->heap, memory_order_relaxed) != heap)
        return 0;
    return sa_usable_size(p);
}

/* As sa_realloc, the new block from `heap` (p may be any live block). */
sa_public void *sa_heap_realloc(sa_heap_t *heap, void *p, size_t size)
{
    if (!owned_by_caller(heap, "heap_realloc")) {
        errno = EINVAL;
        return NULL;
    }
    if (p == NULL)
        return sa_heap_malloc(heap, size);
    if (size == 0) {
        _sa_free_checked(p, "heap_realloc", SA_ERROR_USE_AFTER_FREE);
        return NULL;
    }
    size_t usable = _sa_usable_size_of(p, "heap_realloc");
    if (usable == 0)
        return NULL;    /* reported */
    if (size <= usable && size >= usable / 2)
        return p;
    void *q = sa_heap_malloc(heap, size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < usable ? size : usable);
    sa_free(p);
    return q;
}

/* ---- visiting, destroying ---------------------------------------------------------------- */

typedef bool (block_fn)(sa_heap_t *heap, sa_page_t *page, void *block, void *arg);

/* fn on every live block of a page of heap's (the owner's view: its
 * thread_free collected first), in address order, until fn returns false. */
static bool page_live_blocks(sa_heap_t *heap, sa_page_t *page, block_fn *fn, void *arg)
{
    uint64_t on_list[SA_MAX_BLOCKS_PER_PAGE / 64] = { 0 };
    SA_REFILL_SCOPE_BEGIN();    /* no malloc: no cadence to keep */
    _sa_page_collect(page);     /* spec: page.smt2 collect */
    SA_REFILL_SCOPE_END();
    sa_block_t *lists[2] = { page->free, page->local_free };
    for (int l = 0; l < 2; l++)
        for (sa_block_t *b = lists[l]; b != NULL; b = b->next) {
            size_t i = _sa_block_index((uintptr_t)((uint8_t *)b - page->start), page->magic);
            on_list[i / 64] |= (uint64_t)1 << (i % 64);
        }
    uint32_t capacity = page->capacity;
    for (size_t i = 0; i < capacity; i++)
        if (!(on_list[i / 64] >> (i % 64) & 1) && !fn(heap, page, page->start + i * page->block_size, arg))
            return false;
    return true;
}

typedef struct visit_s {
    sa_block_visit_fn *fn;
    void *arg;
    block_fn *each;
} visit_t;

static bool visit_block(sa_heap_t *heap, sa_page_t *page, void *block, void *arg)
{
    visit_t *v = arg;
    return v->fn(heap, block, page->block_size, v->arg);
}

static bool visit_page(sa_page_t *page, void *arg)
{
    visit_t *v = arg;
    return page_live_blocks(atomic_load_explicit(&page->heap, memory_order_relaxed), page, v->each, v);
}

/* fn on every live huge block of the heap; it may free the block it is
 * given. Returns whether every call returned true. */
static bool visit_huge(sa_heap_t *heap, sa_block_visit_fn *fn, void *arg)
{
    pthread_mutex_lock(&heap->huge_lock);
    sa_segment_t *seg = heap->huge_first;
    while (seg != NULL) {
        sa_segment_t *next = seg->heap_next;
        void *block = seg->huge_block;
        size_t size = seg->huge_usable;
        pthread_mutex_unlock(&heap->huge_lock);
        if (!fn(heap, block, size, arg))
            return false;
        pthread_mutex_lock(&heap->huge_lock);
        seg = next;
    }
    pthread_mutex_unlock(&heap->huge_lock);
    return true;
}

sa_public bool sa_heap_visit_blocks(sa_heap_t *heap, sa_block_visit_fn *fn, void *arg)
{
    if (fn == NULL || !owned_by_caller(heap, "heap_visit_blocks"))
        return false;
    visit_t v = { fn, arg, visit_block };
    return _sa_segments_each_page(heap, visit_page, &v) && visit_huge(heap, fn, arg);
}

static bool free_block(sa_heap_t *heap, sa_page_t *page, void *block, void *arg)
{
    (void)arg;
    _sa_free_local(heap, page, block);  /* spec: page.smt2 free_local or free_lifo */
    return true;
}

static bool free_page(sa_page_t *page, void *arg)
{
    return page_live_blocks(arg, page, free_block, NULL);
}

/* Free every block of the heap at once, and give the heap up. A free of one
 * of its blocks afterwards is a use after free (reported when detected). */
sa_public void sa_heap_destroy(sa_heap_t *heap)
{
    if (!owned_by_caller(heap, "heap_destroy"))
        return;
    _sa_heap_take_remote_pages(heap, SIZE_MAX);
    _sa_segments_each_page(heap, free_page, heap);
    for (;;) {
        pthread_mutex_lock(&heap->huge_lock);
        sa_segment_t *seg = heap->huge_first;
        if (seg != NULL) {
            heap->huge_first = seg->heap_next;
            if (heap->huge_first != NULL)
                heap->huge_first->heap_prev = NULL;
            seg->heap = NULL;
        }
        pthread_mutex_unlock(&heap->huge_lock);
        if (seg == NULL)
            break;
        _sa_huge_free(seg, seg->huge_block);
    }
    heap->first_class = false;
    _sa_heap_release(heap, NULL);   /* every page empty: all retired */
}

/* Give the heap up; its live blocks stay valid and pass to the calling
 * thread's own heap (their huge blocks to no heap: freed by sa_free). */
sa_public void sa_heap_delete(sa_heap_t *heap)
{
    if (!owned_by_caller(heap, "heap_delete"))
        return;
    sa_heap_t *heir = _sa_heap_get_or_init();
    _sa_heap_take_remote_pages(heap, SIZE_MAX);
    pthread_mutex_lock(&heap->huge_lock);
    for (sa_segment_t *seg = heap->huge_first; seg != NULL; seg = seg->heap_next)
        seg->heap = NULL;
    heap->huge_first = NULL;
    pthread_mutex_unlock(&heap->huge_lock);
    heap->first_class = false;
    /* No heap of its own (out of memory): abandoned, as at a thread's exit. */
    _sa_heap_release(heap, heir);
}
