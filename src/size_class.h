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
 * division, no table. Bin 0 is never used (size 0 is served as size 1).
 * spec: size_class.smt2 bin_of, bin_size
 */
#ifndef SA_SIZE_CLASS_H
#define SA_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define SA_CLASS_STEPS          ((size_t)1 << SA_CLASS_STEPS_SHIFT)
#define SA_LINEAR_BINS          (SA_LINEAR_CLASS_MAX >> SA_MIN_ALIGN_SHIFT)

/* The bin of a size, for 1 <= size <= SA_LARGE_OBJ_SIZE_MAX.
 * spec: size_class.smt2 bin_of */
static inline size_t _sa_bin(size_t size)
{
    if (size <= SA_LINEAR_CLASS_MAX)
        return (size + SA_MIN_ALIGN - 1 + (size == 0)) >> SA_MIN_ALIGN_SHIFT;
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
