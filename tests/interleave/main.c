/* tests/interleave/main.c -- `make test-interleave`: every interleaving of
 * the lock-free steps of each scenario (scenarios.c) explored on the real
 * allocator built with -DSA_MODEL_CHECK (sched.h), each run's transitions
 * replayed through spec/page.smt2 and each page's final state checked
 * against its `inv` (tests/conformance/replay.c, the conformance check's
 * abstraction and Z3 questions).
 *
 *   interleave [--spec DIR] [--only SCENARIO] [--long]
 *
 * --long adds the longer variants (make interleave-long).
 *
 * One line per scenario: interleavings explored, runs the sleep sets cut
 * short, distinct transition sequences replayed, the longest run in
 * scheduling points, and the time. On a failure, the failing interleaving.
 * Exit status 0 only if every scenario was explored to the end with every
 * check holding (a crash, hang or setup error is a failure).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "driver.h"
#include "replay.h"
#include "scenarios.h"
#include "internal.h"

static const char *replay_run(const unsigned char *trace, size_t len, const unsigned char *snaps,
                              const size_t *snap_len, unsigned nsnaps, void *arg)
{
    rp_replay_t *r = arg;
    if (trace != NULL) {
        rp_replay_forget(r);
        if (!rp_replay_run(r, trace, len, false))
            return rp_replay_error(r);
    }
    for (unsigned i = 0; i < nsnaps; i++) {
        const char *why = rp_replay_inv(r, snaps + i * _sa_trace_snap_max(), snap_len[i]);
        if (why)
            return why;
    }
    return NULL;
}

/* One scenario, in a process of its own (the allocator starts afresh). */
static int scenario_process(mc_scenario_t *sc, const char *spec_dir)
{
    size_t len;
    bool overflowed;
    (void)_sa_trace_data(&len, &overflowed);   /* the shared buffer, before any fork */
    mc_scenario_begin(sc);
    sc->setup();
    rp_replay_t *r = rp_replay_new(spec_dir);
    if (r == NULL) {
        printf("  %s: cannot load the spec from %s\n", sc->name, spec_dir);
        return 1;
    }
    /* the setup's own transitions, once */
    const unsigned char *trace = _sa_trace_data(&len, &overflowed);
    if (overflowed || !rp_replay_run(r, trace, len, false)) {
        printf("  %s: the setup's transitions: %s\n", sc->name, rp_replay_error(r));
        return 1;
    }
    mc_result_t res = mc_explore(sc, replay_run, r, stdout);
    rp_replay_free(r);
    if (res.failed)
        return 1;
    printf("  %-21s %6llu interleavings (+%llu cut by sleep sets), %llu transition sequences "
           "replayed, <= %llu points a run, %.1fs (Z3 %.1fs)\n",
           sc->name, (unsigned long long)res.runs, (unsigned long long)res.blocked,
           (unsigned long long)res.distinct, (unsigned long long)res.steps_max, res.seconds,
           res.replay_seconds);
    for (unsigned k = 0; k < res.noutcomes; k++)
        printf("  %-21s %6llu of them %s\n", "", (unsigned long long)res.outcome_runs[k],
               res.outcome[k]);
    return res.runs > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *spec_dir = "spec", *only = NULL;
    bool with_long = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc) {
            spec_dir = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--long") == 0) {
            with_long = true;
        } else {
            fprintf(stderr, "usage: %s [--spec DIR] [--only SCENARIO] [--long]\n", argv[0]);
            return 2;
        }
    }
    int failed = 0, ran = 0;
    for (size_t k = 0; k < mc_scenario_count; k++) {
        mc_scenario_t *sc = &mc_scenarios[k];
        if (only ? strcmp(only, sc->name) != 0 : sc->long_only && !with_long)
            continue;
        ran++;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int st = scenario_process(sc, spec_dir);
            fflush(stdout);
            _exit(st);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (!WIFEXITED(status))
                printf("  %s: the explorer crashed (signal %d)\n", sc->name, WTERMSIG(status));
            failed++;
        }
    }
    if (ran == 0) {
        fprintf(stderr, "interleave: no scenario named %s\n", only ? only : "(none)");
        return 2;
    }
    return failed ? 1 : 0;
}
