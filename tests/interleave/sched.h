/* tests/interleave/sched.h -- a stateless model checker for the allocator's
 * lock-free steps, in the manner of CHESS and
 * CDSChecker: the real C code of src/, built with -DSA_MODEL_CHECK, yields to
 * this scheduler before every atomic operation of src/atomic_points.h (and
 * before every traced page transition); the scheduler runs one thread at a
 * time and so decides the interleaving. Each run of a scenario is a fresh
 * fork of the process that set the scenario up; the explorer replays a
 * prefix of choices, lets the run continue, and searches every interleaving
 * depth first (dynamic partial-order reduction with sleep sets, see sched.c).
 */
#ifndef SA_INTERLEAVE_SCHED_H
#define SA_INTERLEAVE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "atomic_points.h"

#define MC_THREADS      4       /* threads of a scenario, at most */
#define MC_STEPS_MAX    4096    /* scheduling points of one run, at most */
#define MC_PAGES_MAX    8       /* pages a scenario checks at the end */
#define MC_RUN_SECONDS  10      /* a run taking longer is a failure (a hang) */

/* Ops beyond sa_mc_op_t's: a thread's first step, and none (finished). */
#define MC_OP_START 100
#define MC_OP_NONE  101

/* What a thread does at its next step, as the dependence test sees it: the
 * operation on addr, and writes to `also` and to `region` (the abstract
 * state of the page whose traced transition the step may complete). */
typedef struct mc_op_s {
    uint8_t op;
    const void *addr, *also, *region;
    const char *func, *site;
} mc_op_t;

/* One scheduling decision of a run. */
typedef struct mc_step_s {
    uint8_t enabled;            /* threads that could run (bit per thread) */
    uint8_t chosen;             /* the one that did */
    mc_op_t next[MC_THREADS];   /* each live thread's next step */
} mc_step_t;

typedef struct mc_scenario_s {
    const char *name;
    const char *what;           /* one line: what races */
    unsigned threads;
    /* in the scenario's process, before any run: single-threaded, as
     * thread 0 (the runs are forks of it, thread 0 their main thread) */
    void (*setup)(void);
    void (*body[MC_THREADS])(void);
    /* after a complete run, single-threaded: NULL if every check holds,
     * else what failed; may read mc_stderr() (the reports of the run) */
    const char *(*check)(void);
    /* the pages whose final state must satisfy inv (filled by setup or
     * by the run); their count */
    const void *pages[MC_PAGES_MAX];
    unsigned npages;
    /* false: the run's transitions are not replayed through the spec (a
     * caller's bug is the scenario: the spec's guard forbids the call) */
    bool spec;
    bool long_only;             /* only in `make interleave-long` (--long) */
} mc_scenario_t;

/* The result of exploring one scenario. */
typedef struct mc_result_s {
    uint64_t runs;              /* complete interleavings checked */
    uint64_t blocked;           /* runs cut short by the sleep sets (redundant) */
    uint64_t distinct;          /* distinct transition sequences replayed */
    uint64_t steps_max;         /* most scheduling points in one run */
    double seconds, replay_seconds;
    bool failed;
    /* how the complete runs ended, as their checks named it (mc_outcome) */
    unsigned noutcomes;
    char outcome[8][64];
    uint64_t outcome_runs[8];
} mc_result_t;

/* Hooks for the explorer: the spec replay of one run's trace and of the
 * final page states (main.c). NULL if allowed, else why not. */
typedef const char *mc_replay_fn(const unsigned char *trace, size_t len,
                                 const unsigned char *snaps, const size_t *snap_len,
                                 unsigned nsnaps, void *arg);

/* Explore every interleaving of the scenario; failures (with the
 * interleaving) are printed on `out`. */
mc_result_t mc_explore(mc_scenario_t *sc, mc_replay_fn *replay, void *arg, FILE *out);

/* After a run: each thread's heap when its body ended. */
extern struct sa_heap_s *mc_thread_heap[MC_THREADS];

/* In a run: what the allocator reported on stderr so far. */
const char *mc_stderr(void);
/* In a scenario's check: name how this run ended (tallied over the runs). */
void mc_outcome(const char *label);

#endif /* SA_INTERLEAVE_SCHED_H */
