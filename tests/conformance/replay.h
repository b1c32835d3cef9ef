/* tests/conformance/replay.h -- replaying a trace of the real allocator's page
 * transitions (src/trace.c) through the transition relation of spec/page.smt2.
 *
 * For each recorded step (transition T, page state before, page state after)
 * the replay builds both states as ground Page terms and asks Z3 (C API) two
 * questions about the very define-funs of spec/page.smt2:
 *   1. (T before t args) is satisfiable: the model allows T from `before`
 *      (its guard holds);
 *   2. (T before t args) and (not (page_equiv t after)) is unsatisfiable:
 *      every state the model reaches by T is the one the code reached.
 * Besides: each snapshot's list walk passed its checks (acyclic, inside the
 * page, on block boundaries, no block on two lists); consecutive snapshots
 * of a page agree (nothing changed a page outside a traced transition); a
 * page first met in the middle of its life satisfies (inv before); and each
 * collect_take + collect_finish pair with nothing between is a collect.
 */
#ifndef RP_REPLAY_H
#define RP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "trace.h"

/* The spec's transition names the replay checks: sa_transition_t's (collect
 * itself is checked on each collect_take + collect_finish pair with no other
 * step of the page between them). */
#define RP_REPLAY__NAMES SA_T__COUNT

typedef struct rp_replay_s rp_replay_t;

/* A replay against the spec in spec_dir (NULL on an error, printed). */
rp_replay_t *rp_replay_new(const char *spec_dir);
/* The same on the model with its quantifiers unrolled on [0, unroll): every
 * question about pages of at most `unroll` blocks (reserved <= unroll) is
 * then decided by simplification (tests/refine). Sound for such pages: each
 * quantified fact of page.smt2 is guarded by the page's range, or constrains
 * the state after index by index (docs/verification.md). */
rp_replay_t *rp_replay_new_unrolled(const char *spec_dir, int unroll);
void rp_replay_free(rp_replay_t *r);

/* Checks the records in data[0, len). Returns false at the first disallowed
 * step (or a cut trace); rp_replay_error() then says which and why, with the
 * operation, the page and both states. Pages are remembered across calls. */
bool rp_replay_run(rp_replay_t *r, const unsigned char *data, size_t len, bool overflowed);
const char *rp_replay_error(const rp_replay_t *r);
/* Does one snapshot (a page's state as src/trace.c records it) walk cleanly
 * and satisfy (inv s)? NULL if so, else why not. */
const char *rp_replay_inv(rp_replay_t *r, const unsigned char *snap, size_t bytes);
/* Forget the pages seen so far (the next trace comes from a fresh process). */
void rp_replay_forget(rp_replay_t *r);

/* Steps checked so far per name (index sa_transition_t or SA_REPLAY_*),
 * to_full steps that changed nothing (its CAS lost to a remote free: no
 * transition), and the time spent in Z3. */
uint64_t rp_replay_count(const rp_replay_t *r, int name);
uint64_t rp_replay_declined(const rp_replay_t *r);
double rp_replay_name_seconds(const rp_replay_t *r, int name);
uint64_t rp_replay_solved(const rp_replay_t *r);    /* questions that needed the solver */
/* collects with other steps of the page (remote frees) between their halves */
uint64_t rp_replay_interleaved(const rp_replay_t *r);
uint64_t rp_replay_steps(const rp_replay_t *r);
double rp_replay_seconds(const rp_replay_t *r);
const char *rp_replay_name(int name);

/* ---- single steps with their arguments given (tests/refine) ----
 * A snapshot is encoded as in a trace record (sa_trace_snap_t and its block
 * indices). The arguments are the ones the C function was called with, not
 * guessed from the snapshots: b (the block popped or freed, -1 if none),
 * popped (unfull), bsize and area (page_init). */
typedef struct rp_replay_args_s {
    int64_t b;
    bool popped;
    int64_t bsize, area;
} rp_replay_args_t;
/* NULL if spec/page.smt2's transition t relates (before, args, after), else why not. */
const char *rp_replay_check(rp_replay_t *r, sa_transition_t t, const unsigned char *before,
                            size_t before_len, const unsigned char *after, size_t after_len,
                            const rp_replay_args_t *args);
/* Does t have a successor from `before` with these arguments (its guard)?
 * 1 yes, 0 no, -1 undecided (a transition with quantifiers). */
int rp_replay_guard(rp_replay_t *r, sa_transition_t t, const unsigned char *before,
                    size_t before_len, const rp_replay_args_t *args);
/* A snapshot for a report (lists heads first, flags). */
struct pf_buf_s;
void rp_replay_show(struct pf_buf_s *out, const char *label, const unsigned char *snap, size_t len);

#endif /* RP_REPLAY_H */
