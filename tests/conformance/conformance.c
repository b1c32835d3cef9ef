/* tests/conformance/conformance.c -- the model and the code agree.
 *
 * The workloads run on the tracing build (src/trace.c) and every recorded page
 * transition is replayed through spec/page.smt2 with Z3 (replay.c): no step
 * may be disallowed, every transition the spec defines must occur, and no
 * malloc or free may take more steps than spec/bounds.smt2 proves. Then the
 * same replay must reject a hand-forged step and catch every planted bug
 * (tests/conformance/mutants/<name>.patch, one runner binary each).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "check.h"
#include "config.h"

#ifndef RP_CONFORMANCE_DIR
#define RP_CONFORMANCE_DIR "build/conformance"
#endif
#ifndef RP_SPEC_DIR
#define RP_SPEC_DIR "spec"
#endif

/* ---- the workloads ------------------------------------------------------------------ */

/* What each workload is there to exercise (its test fails if one of these
 * never occurs); together they must cover every transition of the spec. */
static const struct {
    const char *workload;
    const char *transitions;
} designed[] = {
    { "single_mix", "page_init alloc_pop extend free_local free_lifo collect collect_take collect_finish retire" },
    { "remote_frees", "free_remote collect collect_take collect_finish order_free" },
    { "full_pages", "to_full unfull free_remote" },
    { "abandon", "abandon reclaim free_remote" },
    { "retire", "retire" },
    { "heaps", "free_remote collect free_local abandon reclaim retire" },
    { "swap_table", "alloc_pop free_local free_lifo free_remote collect_take collect_finish" },
};
#define DESIGNED (sizeof designed / sizeof *designed)

static bool names_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}

/* Runs one workload on the tracing build and replays it: no disallowed
 * step, its designed transitions occur, every operation within its bound. */
static void replay_workload(const char *workload)
{
    static rp_check_t c;
    memset(&c, 0, sizeof c);
    c.spec_dir = RP_SPEC_DIR;
    c.scale = 1;
    c.only = workload;
    c.log = stderr;
    cr_assert(rp_check_run(&c), "the replay could not be set up (see above)");
    cr_log_info("%s: replayed %llu steps in %.1fs (%llu questions to the solver, %llu collects "
                "with remote frees inside), workload ran %.2fs", workload,
                (unsigned long long)c.steps, c.replay_seconds, (unsigned long long)c.solved,
                (unsigned long long)c.interleaved, c.run_seconds);
    cr_assert(!c.disallowed, "a step the model does not allow:\n%s", c.error);
    cr_assert(!c.crashed, "workload %s crashed on the tracing build", workload);
    cr_assert(c.steps > 0, "nothing was recorded: are the trace hooks compiled in?");

    const char *mine = NULL;
    for (size_t w = 0; w < DESIGNED; w++)
        if (strcmp(designed[w].workload, workload) == 0)
            mine = designed[w].transitions;
    cr_assert(mine != NULL, "workload %s has no designed transitions", workload);
    for (size_t i = 0; i < c.nnames; i++) {
        if (c.seen[i])
            cr_log_info("%s: transition %-15s replayed %6llu times (%.2fs)", workload, c.names[i],
                        (unsigned long long)c.seen[i], c.seconds[i]);
        if (names_has(mine, c.names[i]))
            cr_expect(c.seen[i] > 0, "transition %s never occurred in workload %s, which is there "
                      "to exercise it", c.names[i], workload);
    }

    /* step maxima within the bounds the proofs established: B + k, k the
     * CAS retries another thread's success caused (SA_TRACE_RETRY) */
    for (int op = 0; op < SA_OP__COUNT; op++) {
        if (c.stats.ops[op] == 0)
            continue;
        cr_log_info("%s: steps of %-24s max %4llu <= %s = %llu (+ k = %llu retries; %llu operations, "
                    "%.2f steps on average)", workload, rp_op_names[op],
                    (unsigned long long)c.stats.bounded_max[op], rp_op_bounds[op],
                    (unsigned long long)c.bound[op], (unsigned long long)c.stats.retries_max[op],
                    (unsigned long long)c.stats.ops[op],
                    (double)c.stats.steps_total[op] / (double)c.stats.ops[op]);
        cr_expect(c.stats.bounded_max[op] <= c.bound[op], "%s took %llu steps (besides CAS retries), "
                  "above %s = %llu", rp_op_names[op], (unsigned long long)c.stats.bounded_max[op],
                  rp_op_bounds[op], (unsigned long long)c.bound[op]);
    }
}

Test(conformance, single_mix_follows_the_model) { replay_workload("single_mix"); }
Test(conformance, remote_frees_follow_the_model) { replay_workload("remote_frees"); }
Test(conformance, full_pages_follow_the_model) { replay_workload("full_pages"); }
Test(conformance, abandon_and_reclaim_follow_the_model) { replay_workload("abandon"); }
Test(conformance, retire_follows_the_model) { replay_workload("retire"); }
Test(conformance, first_class_heaps_follow_the_model) { replay_workload("heaps"); }
Test(conformance, swapped_blocks_and_the_remote_cache_follow_the_model) { replay_workload("swap_table"); }

/* Every transition spec/page.smt2 defines is some workload's job (and the
 * spec does define the ones the code traces). */
Test(conformance, every_spec_transition_is_exercised_by_a_workload)
{
    char names[RP_CHECK_MAX_NAMES][40];
    size_t n = rp_spec_transitions(RP_SPEC_DIR, names, RP_CHECK_MAX_NAMES);
    cr_assert(n > 0, "no transition found in %s/page.smt2", RP_SPEC_DIR);
    for (size_t i = 0; i < n; i++) {
        bool claimed = false;
        for (size_t w = 0; w < DESIGNED; w++)
            claimed |= names_has(designed[w].transitions, names[i]);
        cr_expect(claimed, "transition %s of spec/page.smt2 is exercised by no workload", names[i]);
    }
    for (int t = 0; t < RP_REPLAY__NAMES; t++) {
        bool defined = false;
        for (size_t i = 0; i < n; i++)
            defined |= strcmp(names[i], rp_replay_name(t)) == 0;
        cr_expect(defined, "the code traces %s, which spec/page.smt2 does not define as a transition",
                  rp_replay_name(t));
    }
}

/* ---- the replay itself can fail ------------------------------------------------------ */

/* A record of one step on a page of 4 blocks of 16 bytes: lists given as
 * index arrays (heads first), -1 terminated. */
typedef struct page_state_s {
    uint32_t capacity, used;
    int free[5], local[5], thread[5];
} page_state_t;

static size_t put_list(uint32_t *out, const int *list)
{
    size_t n = 0;
    while (list[n] >= 0)
        out[n] = (uint32_t)list[n], n++;
    return n;
}

static size_t put_snap(unsigned char *out, const page_state_t *p)
{
    sa_trace_snap_t s = { .reserved = 4, .capacity = p->capacity, .used = p->used,
                          .block_size = 16, .area = 64, .owned = 1 };
    uint32_t *idx = (uint32_t *)(out + sizeof s);
    s.n[0] = (uint32_t)put_list(idx, p->free);
    s.n[1] = (uint32_t)put_list(idx + s.n[0], p->local);
    s.n[2] = (uint32_t)put_list(idx + s.n[0] + s.n[1], p->thread);
    memcpy(out, &s, sizeof s);
    return sizeof s + (s.n[0] + s.n[1] + s.n[2]) * sizeof(uint32_t);
}

static size_t put_rec(unsigned char *out, sa_transition_t t, uint64_t seq, const page_state_t *before,
                      const page_state_t *after)
{
    sa_trace_rec_t r = { .transition = (uint16_t)t, .thread = 1, .seq = seq, .page = 0x1000 };
    size_t n = sizeof r;
    n += put_snap(out + n, before);
    n += put_snap(out + n, after);
    r.size = (uint32_t)n;
    memcpy(out, &r, sizeof r);
    return n;
}

#define L(...) { __VA_ARGS__, -1 }
static const page_state_t fresh    = { 0, 0, L(-1), L(-1), L(-1) };
static const page_state_t extended = { 4, 0, L(0, 1, 2, 3), L(-1), L(-1) };
static const page_state_t popped   = { 4, 1, L(1, 2, 3), L(-1), L(-1) };     /* block 0 live */
static const page_state_t wrong    = { 4, 1, L(0, 2, 3), L(-1), L(-1) };     /* block 1 popped */
static const page_state_t freed    = { 4, 0, L(1, 2, 3), L(0), L(-1) };
static const page_state_t lost     = { 4, 0, L(1, 2, 3), L(-1), L(-1) };     /* used--, on no list */

typedef struct step_s {
    sa_transition_t t;
    const page_state_t *before, *after;
} step_t;

/* Replays the steps (one page); false and the report in why if rejected. */
static bool replay_steps(const step_t *steps, size_t nsteps, char *why, size_t why_size)
{
    unsigned char buf[4096];
    size_t n = 0;
    for (size_t i = 0; i < nsteps; i++)
        n += put_rec(buf + n, steps[i].t, i, steps[i].before, steps[i].after);
    rp_replay_t *r = rp_replay_new(RP_SPEC_DIR);
    cr_assert(r != NULL, "the replay could not be set up");
    bool ok = rp_replay_run(r, buf, n, false);
    snprintf(why, why_size, "%s", rp_replay_error(r));
    rp_replay_free(r);
    return ok;
}

Test(replay, accepts_true_steps_and_rejects_a_forged_pop)
{
    char why[4096];
    step_t good[] = { { SA_T_PAGE_INIT, &fresh, &fresh }, { SA_T_EXTEND, &fresh, &extended },
                      { SA_T_ALLOC_POP, &extended, &popped }, { SA_T_FREE_LOCAL, &popped, &freed } };
    cr_assert(replay_steps(good, 4, why, sizeof why), "true steps were rejected:\n%s", why);
    step_t forged[] = { { SA_T_PAGE_INIT, &fresh, &fresh }, { SA_T_EXTEND, &fresh, &extended },
                        { SA_T_ALLOC_POP, &extended, &wrong } };
    cr_assert(!replay_steps(forged, 3, why, sizeof why),
              "a pop of a block that is not the head of free was accepted");
    cr_log_info("forged pop: %s", why);
    cr_assert(strstr(why, "alloc_pop") != NULL && strstr(why, "free[0 2 3]") != NULL,
              "the report names neither the step nor the state after:\n%s", why);
}

Test(replay, rejects_a_free_that_loses_the_block)
{
    char why[4096];
    step_t steps[] = { { SA_T_PAGE_INIT, &fresh, &fresh }, { SA_T_EXTEND, &fresh, &extended },
                       { SA_T_ALLOC_POP, &extended, &popped }, { SA_T_FREE_LOCAL, &popped, &lost } };
    cr_assert(!replay_steps(steps, 4, why, sizeof why),
              "a free that put the block on no list was accepted");
    cr_assert(strstr(why, "free_local") != NULL, "%s", why);
}

Test(replay, rejects_a_page_changed_between_steps)
{
    char why[4096];
    /* the third step starts from a state the second did not leave */
    step_t steps[] = { { SA_T_PAGE_INIT, &fresh, &fresh }, { SA_T_EXTEND, &fresh, &extended },
                       { SA_T_FREE_LOCAL, &popped, &freed } };
    cr_assert(!replay_steps(steps, 3, why, sizeof why), "an untraced change of the page was accepted");
    cr_assert(strstr(why, "outside a traced transition") != NULL, "%s", why);
}

/* ---- every planted bug is caught ----------------------------------------------------- */

/* Runs the runner linked with the planted bug on the workload that exercises
 * it: its output (the caller frees it) and, in *status, how it ended. All
 * of the output, read to its end: a runner whose workload reports one
 * overwritten block after another writes far more than a fixed buffer
 * holds, and closing the pipe on it kills it with SIGPIPE before its
 * replay reports. */
static char *run_mutant(const char *mutant, const char *workload, int *status)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/mutant-%s/conformance-run --spec %s --only %s 2>&1",
             RP_CONFORMANCE_DIR, mutant, RP_SPEC_DIR, workload);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL, "cannot run %s", cmd);
    size_t cap = 16384, n = 0, got;
    char *out = malloc(cap);
    cr_assert(out != NULL);
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0) {
        n += got;
        if (cap - 1 - n == 0) {
            out = realloc(out, cap *= 2);
            cr_assert(out != NULL);
        }
    }
    out[n] = 0;
    *status = pclose(p);
    return out;
}

/* The planted bug must be reported as a disallowed step: exit 1 with the
 * replay's report. */
static void expect_caught(const char *mutant, const char *workload)
{
    int status;
    char *out = run_mutant(mutant, workload, &status);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *finding = strstr(out, "replay:");
    cr_log_info("mutant %s caught on %s: %.400s", mutant, workload, finding ? finding : out);
    cr_assert(code == 1 && finding != NULL,
              "the planted bug %s was not caught by the replay (exit %d):\n%.8000s", mutant, code, out);
    free(out);
}

Test(mutant, collect_drops_block_is_caught)
{
    expect_caught("collect_drops_block", "remote_frees");
}

Test(mutant, free_skips_local_is_caught)
{
    expect_caught("free_skips_local", "single_mix");
}

Test(mutant, extend_overlaps_is_caught)
{
    expect_caught("extend_overlaps", "single_mix");
}

Test(mutant, free_remote_never_queues_is_caught)
{
    expect_caught("free_remote_never_queues", "full_pages");
}

Test(mutant, order_drops_block_is_caught)
{
    expect_caught("order_drops_block", "remote_frees");
}

Test(mutant, splice_keeps_local_flag_is_caught)
{
    expect_caught("splice_keeps_local_flag", "single_mix");
}

/* A refill of `free` outside the generic path is no step the replay can
 * refuse (a collect is allowed there); the tracing build's refill check
 * (internal.h sa_assert_refill_scope) aborts the run instead. */
static void expect_refill_refused(const char *mutant, const char *workload)
{
    int status;
    char *out = run_mutant(mutant, workload, &status);
    cr_assert(status != 0 && strstr(out, "bounds.smt2 cadence") != NULL,
              "the planted bug %s was not refused (status %d):\n%.8000s", mutant, status, out);
    free(out);
}

Test(mutant, dry_collects_local_is_refused)
{
    expect_refill_refused("dry_collects_local", "swap_table");
}
