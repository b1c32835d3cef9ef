/* tests/conformance/runner.c -- the conformance check as a program: run the
 * workloads on the tracing build it is linked with, replay them through
 * spec/page.smt2, compare step maxima with the proven bounds.
 *
 *   conformance-run [--spec DIR] [--scale N] [--only WORKLOAD]
 *
 * Linked once with the tracing library (`make conformance-long` runs it at a
 * large scale) and once per planted mutant (tests/conformance/conformance.c
 * runs those and expects them to be caught).
 * Exit status: 0 every step allowed, every spec transition seen, every
 * bound kept; 1 a step not allowed; 2 a workload crashed (nothing disallowed
 * before); 3 a transition never seen or a bound exceeded; 4 setup error.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"

int main(int argc, char **argv)
{
    rp_check_t c = { .spec_dir = "spec", .scale = 1, .log = stdout };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
            c.spec_dir = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            c.scale = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            c.only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--spec DIR] [--scale N] [--only WORKLOAD]\n", argv[0]);
            return 4;
        }
    }
    if (!rp_check_run(&c))
        return 4;
    printf("replayed %llu steps in %.2fs (workloads ran %.2fs)\n",
           (unsigned long long)c.steps, c.replay_seconds, c.run_seconds);
    if (c.disallowed)
        return 1;
    if (c.crashed)
        return 2;
    printf("  %llu questions went to the solver (the rest simplified); %llu to_full declined; "
           "%llu collects had remote frees between take and finish\n",
           (unsigned long long)c.solved, (unsigned long long)c.declined,
           (unsigned long long)c.interleaved);
    int status = 0;
    for (size_t i = 0; i < c.nnames; i++) {
        printf("  transition %-15s %8llu  %6.2fs%s\n", c.names[i], (unsigned long long)c.seen[i],
               c.seconds[i], c.seen[i] ? "" : "  NEVER OCCURRED");
        if (!c.seen[i] && !c.only)
            status = 3;
    }
    for (int op = 0; op < SA_OP__COUNT; op++) {
        bool over = c.stats.bounded_max[op] > c.bound[op];
        printf("  steps of %-24s max %4llu <= %s = %llu%s (+ k = %llu CAS retries; %llu operations)\n",
               rp_op_names[op], (unsigned long long)c.stats.bounded_max[op], rp_op_bounds[op],
               (unsigned long long)c.bound[op], over ? "  EXCEEDED" : "",
               (unsigned long long)c.stats.retries_max[op], (unsigned long long)c.stats.ops[op]);
        if (over)
            status = 3;
    }
    return status;
}
