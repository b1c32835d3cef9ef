/* tests/bounds/bounds.c -- the step bounds of spec/bounds.smt2, reached by the
 * code itself (make test-bounds).
 *
 * The proofs show that a generic malloc takes at most B_MALLOC steps (plus
 * CAS retries), as the sum of one term per phase, and every loop at most its
 * limit. That is only a statement about the code if the code can come near
 * those numbers: a bound far above anything the code does means the model is
 * not the code. So each adversary of tests/bounds/adversaries.c runs, in a
 * forked child, on the tracing build (src/trace.c), which charges every step
 * of a generic malloc to its phase (SA_TRACE_PHASE) and counts the
 * iterations of every run of every loop (SA_TRACE_LOOP / SA_TRACE_STEP).
 * Then, for each term and loop:
 *   - the most observed is at most the proven value (a failure otherwise:
 *     the code does more than the proof says), on every operation;
 *   - the most observed over the adversaries is at least REACH_PERCENT of
 *     the proven value for the terms and exactly the limit for the loops
 *     (a failure otherwise: the adversaries, or the model, drifted).
 * The same for a free by the owner under memory pressure, which may retire
 * the page it empties (B_FREE_LOCAL_PRESSURE, reached by free_under_pressure).
 * The proven values are read from spec/bounds.smt2 by Z3 with the constants
 * of src/config.h, as the proofs use them. A loop whose limit is removed from
 * src/ goes past it here (mk/bounds.mk builds such mutants and expects this
 * program to fail on each).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "trace.h"
#include "check.h"
#include "adversaries.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define ADVERSARY_PURGE_DELAY STR(ADVERSARY_PURGE_DELAY_MS)

/* A term or loop limit counts as reached at this share of its proven value. */
#define REACH_PERCENT 50
/* An adversary taking longer than this (seconds; --timeout) is killed: a
 * loop without its limit may never end. A failure. */
#define CHILD_SECONDS 60

static const struct { const char *name; const char *term; } phases[SA_PHASE__COUNT] = {
    [SA_PHASE_HEARTBEAT] = { "heartbeat", "B_HEARTBEAT" },
    [SA_PHASE_REMOTE] = { "remote pages", "B_REMOTE" },
    [SA_PHASE_RECLAIM] = { "reclaim", "B_RECLAIM" },
    [SA_PHASE_SEARCH] = { "search", "B_SEARCH" },
    [SA_PHASE_FRESH] = { "fresh page", "B_FRESH" },
    [SA_PHASE_HOUSEKEEPING] = { "housekeeping", "B_HOUSEKEEPING" },
};

/* Each loop's limit as spec/bounds.smt2 writes it (NULL: not a limited
 * loop), and the share of it the adversaries must reach (REACH_PERCENT but
 * for one: the walk of the segment caches ends once SA_PURGE_BATCH_MAX
 * segments were purged, so walking all CM + CG needs the global cache full
 * of segments not yet due that are newer than due ones; no adversary builds
 * that yet, and the walk reaches CM + (PB - CM) = PB of CM + CG). */
static const struct { const char *name; const char *limit; unsigned reach; } loops[SA_LOOP__COUNT] = {
    [SA_LOOP_REMOTE] = { "remote pages taken", "SA_REMOTE_PAGES_MAX", REACH_PERCENT },
    [SA_LOOP_RECLAIM] = { "segments tried", "SA_RECLAIM_TRIES", REACH_PERCENT },
    [SA_LOOP_SEARCH] = { "candidates", "SA_PAGE_SEARCH_MAX", REACH_PERCENT },
    [SA_LOOP_PAGES] = { "pages of a segment", "SA_MAX_PAGES_PER_SEGMENT", REACH_PERCENT },
    [SA_LOOP_EXTEND] = { "blocks extended", "B_EXTEND", REACH_PERCENT },
    [SA_LOOP_SWEEP] = { "bins swept", "SA_RETIRE_SCAN_MAX", REACH_PERCENT },
    [SA_LOOP_LARGE_EMPTIED] = { "emptied large pages", "SA_LARGE_EMPTIED_MAX", REACH_PERCENT },
    [SA_LOOP_PURGE] = { "pages purged", "SA_PURGE_BATCH_MAX", REACH_PERCENT },
    [SA_LOOP_CACHE] = { "cached segments walked", "(+ SA_SEGMENT_CACHE_MAX SA_SEGMENT_CACHE_GLOBAL_MAX)", 40 },
    [SA_LOOP_JOIN] = { "taken blocks joined (never on the malloc path)", NULL },
    [SA_LOOP_ORDER] = { "free_order's walk and pass", "B_ORDER", REACH_PERCENT },
    [SA_LOOP_CAS] = { "CAS retries", NULL },
    [SA_LOOP_NONE] = { "single steps", NULL },
};

int main(int argc, char **argv)
{
    const char *spec = "spec", *only = NULL;
    unsigned timeout = CHILD_SECONDS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--spec DIR] [--only ADVERSARY] [--timeout SECONDS]\n", argv[0]);
            return 2;
        }
    }
    uint64_t term[SA_PHASE__COUNT], limit[SA_LOOP__COUNT] = { 0 }, b_malloc;
    for (int p = 0; p < SA_PHASE__COUNT; p++)
        if (!rp_spec_bound(spec, phases[p].term, &term[p])) {
            fprintf(stderr, "bounds: cannot evaluate %s of %s/bounds.smt2\n", phases[p].term, spec);
            return 2;
        }
    for (int l = 0; l < SA_LOOP__COUNT; l++)
        if (loops[l].limit && !rp_spec_bound(spec, loops[l].limit, &limit[l])) {
            fprintf(stderr, "bounds: cannot evaluate %s\n", loops[l].limit);
            return 2;
        }
    uint64_t b_free_local;
    if (!rp_spec_bound(spec, "B_MALLOC", &b_malloc) ||
        !rp_spec_bound(spec, "B_FREE_LOCAL_PRESSURE", &b_free_local))
        return 2;

    /* A purge delay long enough that nothing an adversary empties is purged
     * before it asks (housekeeping_full sleeps past it), on a loaded machine
     * too. The allocator reads it in its constructor, before main: so the
     * program starts itself again with it set. */
    const char *delay = getenv("SHARDALLOC_PURGE_DELAY");
    if (delay == NULL || strcmp(delay, ADVERSARY_PURGE_DELAY) != 0) {
        setenv("SHARDALLOC_PURGE_DELAY", ADVERSARY_PURGE_DELAY, 1);
        execv("/proc/self/exe", argv);
        perror("bounds: execv /proc/self/exe");
        return 2;
    }
    size_t len;
    bool overflowed;
    (void)_sa_trace_data(&len, &overflowed);    /* map the shared counters before fork */
    uint64_t phase_best[SA_PHASE__COUNT] = { 0 }, loop_best[SA_LOOP__COUNT] = { 0 };
    const char *phase_by[SA_PHASE__COUNT] = { 0 }, *loop_by[SA_LOOP__COUNT] = { 0 };
    uint64_t malloc_best = 0, free_best = 0;
    const char *free_by = NULL;
    int failures = 0;
    for (size_t a = 0; a < adversary_count; a++) {
        if (only && strcmp(only, adversaries[a].name) != 0)
            continue;
        _sa_trace_clear();
        _sa_trace_stats_clear();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(timeout);
            adversaries[a].run();
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("  FAIL      bounds: adversary %s did not finish (%s %d)\n", adversaries[a].name,
                   WIFSIGNALED(status) ? "signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            failures++;
            continue;
        }
        sa_trace_stats_t st;
        _sa_trace_stats(&st);
        for (int p = 0; p < SA_PHASE__COUNT; p++)
            if (st.phase_max[p] > phase_best[p]) {
                phase_best[p] = st.phase_max[p];
                phase_by[p] = adversaries[a].name;
            }
        for (int l = 0; l < SA_LOOP__COUNT; l++)
            if (st.loop_max[l] > loop_best[l]) {
                loop_best[l] = st.loop_max[l];
                loop_by[l] = adversaries[a].name;
            }
        if (st.bounded_max[SA_OP_MALLOC_GENERIC] > malloc_best)
            malloc_best = st.bounded_max[SA_OP_MALLOC_GENERIC];
        if (st.bounded_max[SA_OP_FREE_LOCAL] > free_best) {
            free_best = st.bounded_max[SA_OP_FREE_LOCAL];
            free_by = adversaries[a].name;
        }
    }

    printf("  %-26s %6s %7s %6s  %s\n", "term of B_MALLOC", "most", "proven", "share", "reached by");
    for (int p = 0; p < SA_PHASE__COUNT; p++) {
        bool over = phase_best[p] > term[p];
        bool short_ = !only && phase_best[p] * 100 < term[p] * REACH_PERCENT;
        printf("  %-14s %-11s %6llu %7llu %5llu%%  %s%s\n", phases[p].name, phases[p].term,
               (unsigned long long)phase_best[p], (unsigned long long)term[p],
               (unsigned long long)(term[p] ? phase_best[p] * 100 / term[p] : 0),
               phase_by[p] ? phase_by[p] : "-",
               over ? "  ABOVE THE PROVEN TERM" : short_ ? "  NOT REACHED" : "");
        failures += over || short_;
    }
    printf("  %-26s %6llu %7llu %5llu%%\n", "B_MALLOC (all phases)", (unsigned long long)malloc_best,
           (unsigned long long)b_malloc, (unsigned long long)(malloc_best * 100 / b_malloc));
    failures += malloc_best > b_malloc;
    bool free_over = free_best > b_free_local;
    bool free_short = !only && free_best * 100 < b_free_local * REACH_PERCENT;
    printf("  %-26s %6llu %7llu %5llu%%  %s%s\n", "owner free, under pressure", (unsigned long long)free_best,
           (unsigned long long)b_free_local, (unsigned long long)(free_best * 100 / b_free_local),
           free_by ? free_by : "-", free_over ? "  ABOVE THE PROVEN BOUND" : free_short ? "  NOT REACHED" : "");
    failures += free_over || free_short;
    printf("  %-26s %6s %7s\n", "loop (one run)", "most", "limit");
    for (int l = 0; l < SA_LOOP__COUNT; l++) {
        if (!loops[l].limit)
            continue;
        bool over = loop_best[l] > limit[l];
        bool short_ = !only && loop_best[l] * 100 < limit[l] * loops[l].reach;
        printf("  %-26s %6llu %7llu  %s%s\n", loops[l].name, (unsigned long long)loop_best[l],
               (unsigned long long)limit[l], loop_by[l] ? loop_by[l] : "-",
               over ? "  ABOVE ITS LIMIT" : short_ ? "  NOT REACHED" : "");
        failures += over || short_;
    }
    if (failures) {
        printf("  FAIL      bounds: %d finding(s)\n", failures);
        return 1;
    }
    printf("  TEST      bounds: every term and loop within its proven value, each reached to at least %d%%"
           " (the cache walk to 40%%)\n", REACH_PERCENT);
    return 0;
}
