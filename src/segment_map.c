/* src/segment_map.c -- is this address inside a live shardalloc segment?
 *
 * One bit per SA_SEGMENT_SIZE unit of the SA_ADDRESS_BITS address space
 * (2^25 bits = 4 MiB of bitmap). A bit is set while a segment or a huge
 * mapping starts at that unit. free/realloc/usable_size test it before they
 * trust any header: a foreign pointer never makes us read foreign memory.
 *
 * The bitmap is a zero-initialised static array: it costs address space
 * only. Reading an untouched part reads the kernel's shared zero page; only
 * the few OS pages holding bits of live segments are ever written (one OS
 * page of bitmap covers 128 GiB of address space). Being static, it exists
 * before the first malloc, so free needs no "is there a map yet" test. */
#include "internal.h"

#define SEGMAP_WORDS    (SA_SEGMAP_BITS / 64)

_Atomic uint64_t _sa_segmap[SEGMAP_WORDS];

/* Called before a segment's first block is handed out (live) and before it is
 * unmapped (not live). False if the address is beyond SA_ADDRESS_BITS: the
 * caller then gives the mapping back and reports out of memory, so no block
 * is ever unrecognised. */
bool _sa_segmap_set(uintptr_t segment, bool live)
{
    uintptr_t unit = segment >> SA_SEGMENT_SHIFT;
    if (unit >= SA_SEGMAP_BITS)
        return false;
    uint64_t bit = (uint64_t)1 << (unit % 64);
    if (live)
        atomic_fetch_or_explicit(&_sa_segmap[unit / 64], bit, memory_order_release);
    else
        atomic_fetch_and_explicit(&_sa_segmap[unit / 64], ~bit, memory_order_release);
    return true;
}
