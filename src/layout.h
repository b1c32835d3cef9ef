/* src/layout.h -- the address arithmetic of segments, pages and blocks.
 *
 * Header-only so that the allocator and the proof driver compile the same
 * functions; spec/layout.smt2 models them and proofs/ proves, for every input:
 * pages of a segment are disjoint, inside the segment and clear of its
 * metadata; pointer -> page finds the page holding the pointer; the block index
 * by multiply-and-shift equals offset / block_size, the block-start test
 * equals offset % block_size == 0, and free's made-start test equals both
 * that and index < blocks made; aligned allocation lands inside its block.
 *
 *   segment  [seg, seg + SA_SEGMENT_SIZE), SA_SEGMENT_SIZE-aligned
 *   [seg, seg + SA_SEGMENT_INFO_SIZE)      segment header + page table
 *   page i   [seg + (i << shift), seg + ((i + 1) << shift)), except that
 *            page 0's block area starts at SA_SEGMENT_INFO_SIZE
 */
#ifndef SA_LAYOUT_H
#define SA_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

typedef enum sa_page_kind_e {
    SA_PAGE_SMALL,      /* SA_SMALL_PAGE_SIZE pages, blocks <= SA_SMALL_OBJ_SIZE_MAX  */
    SA_PAGE_MEDIUM,     /* SA_MEDIUM_PAGE_SIZE pages, blocks <= SA_MEDIUM_OBJ_SIZE_MAX */
    SA_PAGE_LARGE,      /* a span of units per block, blocks <= SA_LARGE_OBJ_SIZE_MAX */
    SA_PAGE_KIND_COUNT
} sa_page_kind_t;

/* The page kind that serves blocks of this size (size <= SA_LARGE_OBJ_SIZE_MAX). */
static inline sa_page_kind_t _sa_page_kind_for(size_t block_size)
{
    if (block_size <= SA_SMALL_OBJ_SIZE_MAX)  return SA_PAGE_SMALL;
    if (block_size <= SA_MEDIUM_OBJ_SIZE_MAX) return SA_PAGE_MEDIUM;
    return SA_PAGE_LARGE;
}

static inline unsigned _sa_page_shift(sa_page_kind_t kind)
{
    return kind == SA_PAGE_SMALL  ? SA_SMALL_PAGE_SHIFT
         : kind == SA_PAGE_MEDIUM ? SA_MEDIUM_PAGE_SHIFT
         :                          SA_LARGE_PAGE_SHIFT;
}

static inline size_t _sa_pages_per_segment(sa_page_kind_t kind)
{
    return SA_SEGMENT_SIZE >> _sa_page_shift(kind);
}

/* Offset (from the segment start) where page `index`'s block area begins.
 * spec: layout.smt2 page_start */
static inline uintptr_t _sa_page_area_start(sa_page_kind_t kind, size_t index)
{
    return index == 0 ? SA_SEGMENT_INFO_SIZE : (uintptr_t)index << _sa_page_shift(kind);
}

/* Bytes in page `index`'s block area. spec: layout.smt2 page_area_size */
static inline size_t _sa_page_area_size(sa_page_kind_t kind, size_t index)
{
    return ((uintptr_t)(index + 1) << _sa_page_shift(kind)) - _sa_page_area_start(kind, index);
}

/* The fixed layout a segment of `kind` is carved into: its page table's
 * entries, their committed and purged state, its unit table before any
 * page is made. A large segment's entries are its units, a small page's
 * layout: a large page is a span of units as long as its block
 * (_sa_span_*, src/segment.c), so blocks of every large class share the
 * segment. spec: layout.smt2 layout_kind */
static inline sa_page_kind_t _sa_layout_kind(sa_page_kind_t kind)
{
    return kind == SA_PAGE_LARGE ? SA_PAGE_SMALL : kind;
}

/* Units a large page starting at unit u takes for one block of block_size:
 * unit 0 is shortened by the segment's info. spec: layout.smt2 span_units */
static inline size_t _sa_span_units(size_t block_size, size_t u)
{
    uintptr_t bytes = block_size + (u == 0 ? SA_SEGMENT_INFO_SIZE : 0);
    return (size_t)((bytes + SA_SMALL_PAGE_SIZE - 1) >> SA_SMALL_PAGE_SHIFT);
}

/* Bytes of the block area of a span of `units` units from unit u.
 * spec: layout.smt2 span_area_size */
static inline size_t _sa_span_area_size(size_t u, size_t units)
{
    return ((uintptr_t)(u + units) << SA_SMALL_PAGE_SHIFT) - _sa_page_area_start(SA_PAGE_SMALL, u);
}

/* x &= x >> s, s = min(have, units - have): runs of `have` free units
 * become runs of have + s (a run from u and one from u + s, s <= have,
 * cover u .. u + have + s - 1). */
static inline uint64_t _sa_span_grow(uint64_t x, size_t units, size_t *have)
{
    size_t s = units - *have < *have ? units - *have : *have;
    *have += s;
    return x & (x >> s);
}

/* The units where a run of `units` free units begins, 1 <= units <= 64: bit
 * u of the result is set iff bits u .. u + units - 1 of `free` all are
 * (the shifts bring in zeros, so no run passes bit 63). Six doublings
 * reach 64: no loop, a constant number of steps.
 * spec: layout.smt2 span_starts (obligation span_fit) */
static inline uint64_t _sa_span_starts(uint64_t free, size_t units)
{
    size_t have = 1;
    uint64_t x = free;
    x = _sa_span_grow(x, units, &have);     /* runs of up to 2 */
    x = _sa_span_grow(x, units, &have);     /* 4 */
    x = _sa_span_grow(x, units, &have);     /* 8 */
    x = _sa_span_grow(x, units, &have);     /* 16 */
    x = _sa_span_grow(x, units, &have);     /* 32 */
    x = _sa_span_grow(x, units, &have);     /* 64 */
    return x;
}

/* The units [u, u + units) as bits of span_free (units < 64: a span is at
 * most 33). spec: layout.smt2 span_mask */
static inline uint64_t _sa_span_mask(size_t u, size_t units)
{
    return (((uint64_t)1 << units) - 1) << u;
}

/* The units where a large page for one block of block_size can begin in a
 * segment whose free units are `free` (unit 0 asks for more: the info).
 * spec: layout.smt2 span_fits */
static inline uint64_t _sa_span_fits(uint64_t free, size_t block_size)
{
    return (_sa_span_starts(free, _sa_span_units(block_size, 1)) & ~(uint64_t)1) |
           (_sa_span_starts(free, _sa_span_units(block_size, 0)) & 1);
}

/* pointer -> segment: a mask. spec: layout.smt2 segment_of */
static inline uintptr_t _sa_segment_of(uintptr_t p)
{
    return p & ~SA_SEGMENT_MASK;
}

/* pointer -> page index inside its segment: a shift. spec: layout.smt2 page_index_of */
static inline size_t _sa_page_index_of(uintptr_t p, sa_page_kind_t kind)
{
    return (size_t)((p & SA_SEGMENT_MASK) >> _sa_page_shift(kind));
}

/* The multiplier for division-free block indexing: floor(2^SHIFT / block_size)
 * + 1 (the ceiling, but for a power of two one more: so magic * block_size
 * exceeds 2^SHIFT for every size, _sa_block_made_key needs that), kept
 * shifted to the top of the word (<< (64 - SHIFT)) so that the fraction bits
 * of offset * magic are the whole low word: free's block test is then one
 * multiply and one compare, no mask. Computed once per page at page_init
 * (the only division). spec: layout.smt2 magic */
static inline uint64_t _sa_block_magic(size_t block_size)
{
    return ((((uint64_t)1 << SA_BLOCK_INDEX_SHIFT) / block_size) + 1) << (64 - SA_BLOCK_INDEX_SHIFT);
}

/* offset / block_size for an offset inside the page area (slow paths only).
 * spec: layout.smt2 block_index */
static inline size_t _sa_block_index(uintptr_t offset, uint64_t magic)
{
    return (size_t)(((uint64_t)offset * (magic >> (64 - SA_BLOCK_INDEX_SHIFT))) >> SA_BLOCK_INDEX_SHIFT);
}

/* offset % block_size == 0 for an offset inside the page area: the fraction
 * part of offset * magic (the low word, magic being scaled to the top) is
 * below magic exactly at block starts. spec: layout.smt2 block_is_start */
static inline bool _sa_block_is_start(uintptr_t offset, uint64_t magic)
{
    return (uint64_t)offset * magic < magic;
}

/* The made key of a page with `blocks` blocks made: blocks * (magic *
 * block_size), the products wrapping. magic * block_size wraps to what
 * magic exceeds 2^64 / block_size by, times block_size (0 < it, by the + 1
 * of _sa_block_magic): so block q's start times magic wraps to q times it,
 * below the key exactly for q < blocks. spec: layout.smt2 made_key */
static inline uint64_t _sa_block_made_key(size_t blocks, size_t block_size, uint64_t magic)
{
    return (uint64_t)blocks * (magic * (uint64_t)block_size);
}

/* offset is the start of one of the first `blocks` blocks, for made_key =
 * _sa_block_made_key(blocks, ..): the block-start test and the made bound
 * in one compare. Exact for every offset of the page (below its page
 * size) and up to SA_SEGMENT_INFO_SIZE before its start (page 0's header):
 * the offset of any pointer of the page's segment that finds the page. A
 * non-start times magic wraps to at least magic, far above any key.
 * spec: layout.smt2 block_made_start */
static inline bool _sa_block_is_made_start(uintptr_t offset, uint64_t magic, uint64_t made_key)
{
    return (uint64_t)offset * magic < made_key;
}

/* Round p up to a power-of-two alignment. spec: layout.smt2 align_up */
static inline uintptr_t _sa_align_up(uintptr_t p, uintptr_t alignment)
{
    return (p + alignment - 1) & ~(alignment - 1);
}

/* Bytes to allocate so that a block start (SA_MIN_ALIGN-aligned) rounded up to
 * `alignment` still leaves max(size, 1) bytes inside the block: aligning up
 * skips at most alignment - SA_MIN_ALIGN bytes. A request of 0 counts as 1 so
 * the aligned pointer is strictly inside the block, never the first byte of
 * the next one. spec: layout.smt2 aligned_request */
static inline size_t _sa_aligned_request(size_t size, size_t alignment)
{
    return (size != 0 ? size : 1) + alignment - SA_MIN_ALIGN;
}

#endif /* SA_LAYOUT_H */
