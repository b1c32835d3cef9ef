/* src/size_class.h -- the size-class map: request size -> bin -> block size.
 *
 * Header-only so that the allocator and the proof driver (proofs/) compile
 * the very same functions; spec/size_class.smt2 models them in bit vectors
 * and proofs/obligations.c checks the model against these functions.
 *
 *   bins 1..8     block = 16 * bin                 (16, 32, ..., 128)
 *   bins 9..      8 classes per power of two: for a size in (2^b, 2^(b+1)],
 *                 block = (9 + i) << (b - 3), i = ((size - 1) >> (b - 3)) & 7
 *
 * Constant time: one count-leading-zeros, shifts and adds; no loop, no
 * division. Sizes up to SA_BIN_TABLE_MAX read the same map from a table
 * (built at compile time by the same formula; the driver checks _sa_bin,
 * table included, against the model for every size). Bin 0 is never used
 * (size 0 is served as size 1).
 * spec: size_class.smt2 bin_of, bin_size
 */
#ifndef SA_SIZE_CLASS_H
#define SA_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define SA_CLASS_STEPS          ((size_t)1 << SA_CLASS_STEPS_SHIFT)
#define SA_LINEAR_BINS          (SA_LINEAR_CLASS_MAX >> SA_MIN_ALIGN_SHIFT)

/* The formula of _sa_bin below as a constant expression, for the table:
 * floor(log2) by comparisons (the table's sizes are below 2^16). */
#define SA_LOG2_CONST(w) ((w) >= 1u << 15 ? 15 : (w) >= 1u << 14 ? 14 : (w) >= 1u << 13 ? 13 : \
                          (w) >= 1u << 12 ? 12 : (w) >= 1u << 11 ? 11 : (w) >= 1u << 10 ? 10 : \
                          (w) >= 1u << 9 ? 9 : (w) >= 1u << 8 ? 8 : 7)
#define SA_BIN_CONST(size) \
    ((size) <= SA_LINEAR_CLASS_MAX ? ((size) + SA_MIN_ALIGN - 1 + ((size) == 0)) >> SA_MIN_ALIGN_SHIFT \
     : SA_LINEAR_BINS + 1 + ((SA_LOG2_CONST((size) - 1) - SA_LINEAR_CLASS_MAX_SHIFT) << SA_CLASS_STEPS_SHIFT) \
       + ((((size) - 1) >> (SA_LOG2_CONST((size) - 1) - SA_CLASS_STEPS_SHIFT)) & (SA_CLASS_STEPS - 1)))
#define SA_BIN_T1(size)   SA_BIN_CONST(size),
#define SA_BIN_T4(size)   SA_BIN_T1(size) SA_BIN_T1((size) + 1) SA_BIN_T1((size) + 2) SA_BIN_T1((size) + 3)
#define SA_BIN_T16(size)  SA_BIN_T4(size) SA_BIN_T4((size) + 4) SA_BIN_T4((size) + 8) SA_BIN_T4((size) + 12)
#define SA_BIN_T64(size)  SA_BIN_T16(size) SA_BIN_T16((size) + 16) SA_BIN_T16((size) + 32) SA_BIN_T16((size) + 48)
#define SA_BIN_T256(size) SA_BIN_T64(size) SA_BIN_T64((size) + 64) SA_BIN_T64((size) + 128) SA_BIN_T64((size) + 192)
_Static_assert(SA_BIN_TABLE_MAX == 1024 && SA_LINEAR_CLASS_MAX < SA_BIN_TABLE_MAX,
               "the table below is spelled out for the sizes 0 to 1024, past the linear classes");

/* The bin of every size from 0 to SA_BIN_TABLE_MAX, indexed by the size
 * itself: malloc's fast path then looks it up with no instruction to round
 * the size to SA_MIN_ALIGN units first (a table of the units, 65 bytes,
 * took an add and a shift: two of malloc's 18). 1025 bytes, as many as
 * mimalloc's table of pages by word size takes. Every heap holds a copy too
 * (src/types.h bin_table), initialised from SA_BIN_TABLE_INIT like this
 * one. */
#define SA_BIN_TABLE_SIZE  (SA_BIN_TABLE_MAX + 1)
#define SA_BIN_TABLE_INIT  { SA_BIN_T256(0) SA_BIN_T256(256) SA_BIN_T256(512) SA_BIN_T256(768) SA_BIN_T1(1024) }
static const uint8_t _sa_bin_table[SA_BIN_TABLE_SIZE] = SA_BIN_TABLE_INIT;

/* _sa_bin of a size <= SA_BIN_TABLE_MAX (malloc's fast path tests that
 * bound itself, first), looked up in `table`, a copy of _sa_bin_table. */
static inline size_t _sa_bin_small_in(const uint8_t table[SA_BIN_TABLE_SIZE], size_t size)
{
    return table[size];
}

static inline size_t _sa_bin_small(size_t size)
{
    return _sa_bin_small_in(_sa_bin_table, size);
}

/* The bin of a size, for 1 <= size <= SA_LARGE_OBJ_SIZE_MAX.
 * spec: size_class.smt2 bin_of */
static inline size_t _sa_bin(size_t size)
{
    if (size <= SA_BIN_TABLE_MAX)
        return _sa_bin_small(size);
    size_t w = size - 1;
    size_t b = (size_t)(63 - __builtin_clzll((unsigned long long)w)); /* floor(log2 w) */
    return SA_LINEAR_BINS + 1
         + ((b - SA_LINEAR_CLASS_MAX_SHIFT) << SA_CLASS_STEPS_SHIFT)
         + ((w >> (b - SA_CLASS_STEPS_SHIFT)) & (SA_CLASS_STEPS - 1));
}

/* The block size of a bin, for 1 <= bin <= SA_BIN_LARGE_MAX.
 * spec: size_class.smt2 bin_size */
static inline size_t _sa_bin_size(size_t bin)
{
    if (bin <= SA_LINEAR_BINS)
        return bin << SA_MIN_ALIGN_SHIFT;
    size_t k = bin - SA_LINEAR_BINS - 1;
    size_t b = SA_LINEAR_CLASS_MAX_SHIFT + (k >> SA_CLASS_STEPS_SHIFT);
    size_t i = k & (SA_CLASS_STEPS - 1);
    return (SA_CLASS_STEPS + 1 + i) << (b - SA_CLASS_STEPS_SHIFT);
}

/* The last bin served from pages; larger requests are huge (own mapping). */
#define SA_BIN_LARGE_MAX        (_sa_bin(SA_LARGE_OBJ_SIZE_MAX))
#define SA_BIN_HUGE             (SA_BIN_LARGE_MAX + 1)
/* Constant-expression bin count (array sizes): derived from the same formula
 * for SA_LARGE_OBJ_SIZE_MAX, a power of two, whose bin is the last step. */
#define SA_BIN_COUNT            (SA_LINEAR_BINS + 1 \
        + (((size_t)SA_SEGMENT_SHIFT - 1 - SA_LINEAR_CLASS_MAX_SHIFT) << SA_CLASS_STEPS_SHIFT) \
        + 1)

#endif /* SA_SIZE_CLASS_H */
