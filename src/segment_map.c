/* src/segment_map.c -- is this address inside a live shardalloc segment?
 *
 * One byte per SA_SEGMENT_SIZE unit of the SA_ADDRESS_BITS address space
 * (2^25 bytes = 32 MiB of map). A byte is 1 while a segment or a huge mapping
 * starts at that unit. free/realloc/usable_size test it before they trust
 * any header: a foreign pointer never makes us read foreign memory. Bytes,
 * not bits: free's test is then one load and compare, and setting one is a
 * plain store (no read-modify-write shared with the neighbours' bits).
 *
 * The map is a zero-initialised static array: it costs address space only.
 * Reading an untouched part reads the kernel's shared zero page; only the
 * few OS pages holding bytes of live segments are ever written (one OS page
 * of map covers 16 GiB of address space). Being static, it exists before
 * the first malloc, so free needs no "is there a map yet" test. */
#include "internal.h"

_Atomic uint8_t _sa_segmap[SA_SEGMAP_UNITS];

/* Called before a segment's first block is handed out (live) and before it is
 * unmapped (not live). False if the address is beyond SA_ADDRESS_BITS: the
 * caller then gives the mapping back and reports out of memory, so no block
 * is ever unrecognised. */
bool _sa_segmap_set(uintptr_t segment, bool live)
{
    uintptr_t unit = segment >> SA_SEGMENT_SHIFT;
    if (unit >= SA_SEGMAP_UNITS)
        return false;
    atomic_store_explicit(&_sa_segmap[unit], live, memory_order_release);
    return true;
}
