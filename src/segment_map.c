/* src/segment_map.c -- is this address inside a live shardalloc segment?
 *
 * One bit per SA_SEGMENT_SIZE unit of the SA_ADDRESS_BITS address space
 * (2^25 bits = 4 MiB of bitmap, mapped lazily with MAP_NORESERVE so only the
 * words actually used get committed). A bit is set while a segment or a huge
 * mapping starts at that unit. free/realloc/usable_size test it before they
 * trust any header: a foreign pointer never makes us read foreign memory. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include "internal.h"

#define SEGMAP_BITS     SA_SEGMAP_BITS
#define SEGMAP_WORDS    (SEGMAP_BITS / 64)

_Atomic(_Atomic uint64_t *) _sa_segmap;

static _Atomic uint64_t *segmap_get(bool create)
{
    _Atomic uint64_t *map = atomic_load_explicit(&_sa_segmap, memory_order_acquire);
    if (sa_likely(map != NULL) || !create)
        return map;
    void *fresh = mmap(NULL, SEGMAP_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fresh == MAP_FAILED)
        return NULL;
    _Atomic uint64_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&_sa_segmap, &expected, (_Atomic uint64_t *)fresh)) {
        munmap(fresh, SEGMAP_WORDS * sizeof(uint64_t));   /* another thread won */
        return expected;
    }
    return (_Atomic uint64_t *)fresh;
}

/* Called before a segment's first block is handed out (live) and before it is
 * unmapped (not live). The map is created by the first segment; false if it
 * cannot be (or the address is out of range): the caller then gives the
 * mapping back and reports out of memory, so no block is ever unrecognised. */
bool _sa_segmap_set(uintptr_t segment, bool live)
{
    uintptr_t unit = segment >> SA_SEGMENT_SHIFT;
    _Atomic uint64_t *map = segmap_get(live);
    if (map == NULL || unit >= SEGMAP_BITS)
        return false;
    uint64_t bit = (uint64_t)1 << (unit % 64);
    if (live)
        atomic_fetch_or_explicit(&map[unit / 64], bit, memory_order_release);
    else
        atomic_fetch_and_explicit(&map[unit / 64], ~bit, memory_order_release);
    return true;
}
