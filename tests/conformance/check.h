/* tests/conformance/check.h -- run the workloads on the tracing build and
 * replay them: the whole conformance check, shared by the Criterion suite
 * (tests/conformance/conformance.c) and the stand-alone runner
 * (tests/conformance/runner.c, linked once per planted mutant and for the
 * long replays).
 *
 * Each workload runs in a forked child writing the shared trace buffer
 * (src/trace.c), so a planted bug that crashes the allocator still leaves
 * the steps recorded before the crash to replay; the parent replays them
 * and stops at the first disallowed step.
 */
#ifndef RP_CHECK_H
#define RP_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "trace.h"
#include "replay.h"

#define RP_CHECK_MAX_NAMES 64

typedef struct rp_check_s {
    /* in */
    const char *spec_dir;
    unsigned scale;
    const char *only;               /* one workload by name, or NULL for all */
    FILE *log;                      /* progress and findings */
    /* out */
    bool disallowed;                /* the replay rejected a step (message in `error`) */
    bool crashed;                   /* a workload child did not exit 0 */
    char error[8192];
    uint64_t steps;
    double replay_seconds, run_seconds;
    /* the transitions spec/page.smt2 defines, and how often each was replayed */
    size_t nnames;
    char names[RP_CHECK_MAX_NAMES][40];
    uint64_t seen[RP_CHECK_MAX_NAMES];
    double seconds[RP_CHECK_MAX_NAMES];     /* replay time per transition */
    uint64_t solved, declined;      /* questions left to the solver; declined to_full */
    uint64_t interleaved;           /* collects with remote frees between take and finish */
    /* the step maxima observed and the proven bounds (spec/bounds.smt2) */
    sa_trace_stats_t stats;
    uint64_t bound[SA_OP__COUNT];
} rp_check_t;

/* Runs the workloads and the replay. False on a setup error (message on log). */
bool rp_check_run(rp_check_t *c);

/* The transition define-funs of spec/page.smt2: the Bool define-funs of its
 * transitions section with an after-state parameter (t Page) that no other
 * definition of the section calls (those are helpers). */
size_t rp_spec_transitions(const char *spec_dir, char names[][40], size_t max);

/* A bound of spec/bounds.smt2 (B_MALLOC, ...) as Z3 evaluates it with the
 * constants generated from config.h. */
bool rp_spec_bound(const char *spec_dir, const char *name, uint64_t *out);

extern const char *const rp_op_names[SA_OP__COUNT];
extern const char *const rp_op_bounds[SA_OP__COUNT];

#endif /* RP_CHECK_H */
