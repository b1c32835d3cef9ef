/* src/huge.c -- blocks above SA_LARGE_OBJ_SIZE_MAX: each gets a mapping of
 * its own, SA_SEGMENT_SIZE-aligned with a segment header at its start, so
 * free's mask finds the header like any segment's. Freed mappings go to a
 * small cache (SA_HUGE_CACHE_ENTRIES, SA_HUGE_CACHE_MAX_BYTES) so a loop of
 * big malloc/touch/free does not map and fault its pages in again each time.
 * realloc grows or shrinks in place with mremap where the kernel can. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <string.h>
#include "internal.h"

_Atomic size_t _sa_huge_allocated;

static pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER;
static sa_segment_t *cache[SA_HUGE_CACHE_ENTRIES];   /* most recent last */
static size_t cache_count;
static size_t cache_bytes;
/* Blocks aligned to SA_SEGMENT_SIZE or more: the mask of such a block is the
 * block itself, so its header cannot be found by the mask. The header sits
 * `alignment` bytes before it, and the block is found on this list (under
 * huge_lock), which only the slow path of a pointer the segment map does not
 * know consults. Rare (only such alignments), so a list is enough. */
static sa_segment_list_t far_list;

/* The header fields free's fast path reads of any segment: a huge one has a
 * single "page" spanning it (SA_PAGE_LARGE's fixed layout), page 0, never
 * initialised (start NULL, capacity 0), so _sa_page_of_block finds page 0
 * and rejects every pointer (its offset from NULL is past SA_SEGMENT_SIZE)
 * without testing the segment's kind. */
static void huge_header(sa_segment_t *seg)
{
    seg->kind = SA_SEGMENT_HUGE;
    for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++)     /* constant: off the bounded paths */
        _sa_segment_unit_set(seg, u, SA_PAGE_LARGE);
}

/* A fresh huge mapping becomes live: its bit set in the segment map (or, if
 * the map cannot grow, the mapping given back: NULL with ENOMEM) and its
 * header written. */
static sa_segment_t *huge_register(sa_segment_t *seg, size_t map_size)
{
    if (!_sa_segmap_set((uintptr_t)seg, true)) {
        _sa_os_unmap(seg, map_size, map_size);
        errno = ENOMEM;
        return NULL;
    }
    huge_header(seg);
    seg->map_size = map_size;
    return seg;
}

static void huge_unmap(sa_segment_t *seg)
{
    _sa_segmap_set((uintptr_t)seg, false);
    _sa_os_unmap(seg, seg->map_size, seg->map_size);
}

/* Offset of the block in its mapping: past the header, aligned as asked, and
 * inside the first segment unit so the mask of the block finds the header. */
static bool block_offset(size_t alignment, size_t *offset)
{
    size_t off = _sa_align_up(SA_SEGMENT_INFO_SIZE, alignment < SA_MIN_ALIGN ? SA_MIN_ALIGN : alignment);
    if (off >= SA_SEGMENT_SIZE)
        return false;
    *offset = off;
    return true;
}

/* A cached mapping for `map_size` bytes: the smallest one that is large
 * enough, or else the largest one (the caller grows it). NULL if none, or if
 * another thread holds the lock (a malloc does not wait: it maps afresh). */
static sa_segment_t *cache_take(size_t map_size)
{
    if (pthread_mutex_trylock(&huge_lock) != 0)
        return NULL;
    size_t fit = cache_count, largest = cache_count;
    /* bound: SA_HUGE_CACHE_ENTRIES. Huge allocation is outside the proven
     * bounds (spec/bounds.smt2 covers the generic path of sizes up to
     * SA_LARGE_OBJ_SIZE_MAX), so this loop is not traced. */
    for (size_t i = 0; i < cache_count; i++) {
        size_t s = cache[i]->map_size;
        if (s >= map_size && (fit == cache_count || s < cache[fit]->map_size))
            fit = i;
        if (largest == cache_count || s > cache[largest]->map_size)
            largest = i;
    }
    size_t pick = fit < cache_count ? fit : largest;
    sa_segment_t *seg = NULL;
    if (pick < cache_count) {
        seg = cache[pick];
        memmove(&cache[pick], &cache[pick + 1], (cache_count - pick - 1) * sizeof cache[0]);
        cache_count--;
        cache_bytes -= seg->map_size;
    }
    pthread_mutex_unlock(&huge_lock);
    return seg;
}

/* Make a cached mapping fit `map_size` bytes, keeping its pages: one at
 * most 2^SA_HUGE_REUSE_SHIFT times as long is used whole (its tail, already
 * faulted in, is likely wanted again); a longer one gives its tail back; a
 * shorter one grows in place if it can, else its pages move (mremap: page
 * tables, no copying, no faults) to the start of a fresh aligned mapping of
 * the full size. NULL if the kernel refuses (the old mapping is unmapped). */
static sa_segment_t *cache_resize(sa_segment_t *seg, size_t map_size)
{
    if (seg->map_size >= map_size && (seg->map_size >> SA_HUGE_REUSE_SHIFT) <= map_size)
        return seg;     /* not much longer: use it whole, no mremap, no faults later */
    if (_sa_os_remap_in_place(seg, seg->map_size, map_size)) {
        seg->map_size = map_size;
        return seg;
    }
    uint8_t *fresh = _sa_os_map_aligned(map_size, SA_SEGMENT_SIZE, map_size);
    if (fresh == NULL || !_sa_segmap_set((uintptr_t)fresh, true)) {
        if (fresh != NULL)
            _sa_os_unmap(fresh, map_size, map_size);
        huge_unmap(seg);
        return NULL;
    }
    size_t old_size = seg->map_size;
    _sa_segmap_set((uintptr_t)seg, false);
    int saved = errno;
    void *moved = _sa_os_fault() ? MAP_FAILED
                : mremap(seg, old_size, old_size, MREMAP_MAYMOVE | MREMAP_FIXED, fresh);
    errno = saved;
    if (moved == MAP_FAILED) {
        _sa_os_unmap(seg, old_size, old_size);
        seg = (sa_segment_t *)fresh;     /* fresh and zero: start over in it */
        huge_header(seg);
        seg->huge_zero = 1;
    } else {
        /* The old range is gone; its pages now back the start of `fresh`. */
        atomic_fetch_sub_explicit(&_sa_os_stats.mapped, old_size, memory_order_relaxed);
        atomic_fetch_sub_explicit(&_sa_os_stats.committed, old_size, memory_order_relaxed);
        seg = (sa_segment_t *)fresh;
        huge_header(seg);       /* its unit table still points into the old range */
    }
    seg->map_size = map_size;
    return seg;
}


static void *huge_alloc_far(size_t size, size_t alignment)
{
    if (size > PTRDIFF_MAX - alignment - SA_OS_PAGE_SIZE || alignment > PTRDIFF_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    /* size 0 counts as 1 byte: the block must not be the end of its mapping
     * (the first byte of whatever the kernel maps next) */
    size_t map_size = _sa_align_up(alignment + (size != 0 ? size : 1), SA_OS_PAGE_SIZE);
    sa_segment_t *seg = _sa_os_map_aligned(map_size, alignment, map_size);
    if (seg == NULL)
        return NULL;
    if (huge_register(seg, map_size) == NULL)
        return NULL;
    seg->huge_block = (uint8_t *)seg + alignment;
    seg->huge_usable = map_size - alignment;
    seg->huge_far = 1;
    pthread_mutex_lock(&huge_lock);
    _sa_segment_list_push(&far_list, seg);
    pthread_mutex_unlock(&huge_lock);
    _sa_stat_huge(seg->huge_usable, true);
    return seg->huge_block;
}

/* The live far block p, or NULL. */
sa_segment_t *_sa_huge_far_find(const void *p)
{
    if (((uintptr_t)p & SA_SEGMENT_MASK) != 0)
        return NULL;
    pthread_mutex_lock(&huge_lock);
    sa_segment_t *seg = far_list.first;
    while (seg != NULL && seg->huge_block != (const uint8_t *)p)
        seg = seg->next;
    pthread_mutex_unlock(&huge_lock);
    return seg;
}

void *_sa_huge_alloc(size_t size, size_t alignment, bool zero)
{
    size_t offset, map_size;
    if (alignment >= SA_SEGMENT_SIZE)
        return huge_alloc_far(size, alignment);     /* fresh: already zero */
    if (!block_offset(alignment, &offset) || size > PTRDIFF_MAX - offset - SA_OS_PAGE_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    map_size = _sa_align_up(offset + size, SA_OS_PAGE_SIZE);
    sa_segment_t *seg = cache_take(map_size);
    if (seg != NULL) {
        seg->huge_zero = 0;
        seg = cache_resize(seg, map_size);
    }
    if (seg == NULL) {
        int saved_errno = errno;
        seg = _sa_os_map_aligned(map_size, SA_SEGMENT_SIZE, map_size);
        if (seg == NULL) {
            _sa_out_of_memory_collect(_sa_heap_tls, map_size);     /* then once more */
            seg = _sa_os_map_aligned(map_size, SA_SEGMENT_SIZE, map_size);
            if (seg == NULL)
                return NULL;
            errno = saved_errno;
        }
        if (huge_register(seg, map_size) == NULL)
            return NULL;
        seg->huge_zero = 1;
    }
    seg->huge_block = (uint8_t *)seg + offset;
    seg->huge_usable = seg->map_size - offset;
    seg->huge_free = 0;
    if (zero && !seg->huge_zero)
        memset(seg->huge_block, 0, size);
    _sa_stat_huge(seg->huge_usable, true);
    return seg->huge_block;
}

/* p is seg's block (validated). Into the cache if it fits, else unmapped. */
void _sa_huge_free(sa_segment_t *seg, void *p)
{
    (void)p;
    if (seg->heap != NULL)
        _sa_user_heap_huge_unlink(seg);     /* a first-class heap's */
    seg->huge_free = 1;
    _sa_stat_huge(seg->huge_usable, false);
    sa_segment_t *evict = NULL;
    if (seg->huge_far) {
        pthread_mutex_lock(&huge_lock);
        _sa_segment_list_remove(&far_list, seg);
        pthread_mutex_unlock(&huge_lock);
    } else if (seg->map_size <= SA_HUGE_CACHE_MAX_BYTES &&
               pthread_mutex_trylock(&huge_lock) == 0) {
        /* (lock busy: a free does not wait, the mapping is unmapped) */
        if (cache_count == SA_HUGE_CACHE_ENTRIES ||
            cache_bytes + seg->map_size > SA_HUGE_CACHE_MAX_BYTES) {
            /* Make room by dropping the oldest, if that is enough. */
            if (cache_count > 0 && cache_bytes - cache[0]->map_size + seg->map_size <=
                                       SA_HUGE_CACHE_MAX_BYTES) {
                evict = cache[0];
                memmove(&cache[0], &cache[1], (cache_count - 1) * sizeof cache[0]);
                cache_count--;
                cache_bytes -= evict->map_size;
            }
        }
        if (cache_count < SA_HUGE_CACHE_ENTRIES &&
            cache_bytes + seg->map_size <= SA_HUGE_CACHE_MAX_BYTES) {
            cache[cache_count++] = seg;
            cache_bytes += seg->map_size;
            seg = NULL;
        }
        pthread_mutex_unlock(&huge_lock);
    }
    if (evict != NULL)
        huge_unmap(evict);
    if (seg != NULL)
        huge_unmap(seg);
}

/* realloc of seg's block p to `size` bytes in place: kept if it fits and at
 * least half of the mapping stays used, else grown or shrunk by mremap
 * where the kernel can. false: the caller moves it (sa_realloc). */
bool _sa_huge_resize(sa_segment_t *seg, void *p, size_t size)
{
    size_t offset = (size_t)((uint8_t *)p - (uint8_t *)seg);
    if (size <= SA_LARGE_OBJ_SIZE_MAX || size > PTRDIFF_MAX - offset - SA_OS_PAGE_SIZE)
        return false;
    size_t map_size = _sa_align_up(offset + size, SA_OS_PAGE_SIZE);
    bool fits = map_size <= seg->map_size && map_size >= seg->map_size / 2;
    if (fits)
        return true;
    if (!_sa_os_remap_in_place(seg, seg->map_size, map_size))
        return false;
    size_t old_usable = seg->huge_usable;
    seg->map_size = map_size;
    seg->huge_usable = map_size - offset;
    _sa_stat_huge_resize(old_usable, seg->huge_usable);
    return true;
}

/* sa_collect: with force, every cached mapping goes back to the OS. */
void _sa_huge_cache_release(bool force)
{
    if (!force)
        return;
    sa_segment_t *drop[SA_HUGE_CACHE_ENTRIES];
    pthread_mutex_lock(&huge_lock);
    size_t n = cache_count;
    memcpy(drop, cache, n * sizeof cache[0]);
    cache_count = 0;
    cache_bytes = 0;
    pthread_mutex_unlock(&huge_lock);
    for (size_t i = 0; i < n; i++)
        huge_unmap(drop[i]);
}

void _sa_huge_lock(void)
{
    pthread_mutex_lock(&huge_lock);
}

void _sa_huge_unlock(bool child)
{
    _sa_fork_unlock(&huge_lock, child);
}
