/* tests/bounds/adversaries.h -- workloads that drive the step bounds of
 * spec/bounds.smt2 to their limits (tests/bounds/adversaries.c). */
#ifndef SA_BOUNDS_ADVERSARIES_H
#define SA_BOUNDS_ADVERSARIES_H

#include <stddef.h>

/* The purge delay (ms) the adversaries run with: tests/bounds sets
 * SHARDALLOC_PURGE_DELAY to it; housekeeping_full sleeps past it. */
#define ADVERSARY_PURGE_DELAY_MS 100

typedef struct adversary_s {
    const char *name;
    const char *what;
    void (*run)(void);
} adversary_t;

extern const adversary_t adversaries[];
extern const size_t adversary_count;

#endif /* SA_BOUNDS_ADVERSARIES_H */
