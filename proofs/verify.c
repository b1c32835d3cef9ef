/* proofs/verify.c -- `make verify`: discharge every obligation of spec/.
 *
 *   build/verify                  every obligation, its non-vacuity, its mutants
 *   build/verify --only NAME      one obligation (and its mutants)
 *   build/verify --list           the obligations and the C functions they cover
 *   options: --spec DIR (default spec), --timeout MS (per check), -v (print
 *            the counterexample of every refuted mutant, not only failures),
 *            --dump FILE (write every query sent to Z3 there, to replay by hand),
 *            --jobs N (processes for the per-bin obligations; default: the
 *            number of cores if they are idle, else 1)
 *
 * Exit status 0 only if every obligation is proved, none is vacuous and
 * every mutant is refuted. The obligations are in proofs/obligations.c, the
 * checking in proofs/driver.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "driver.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: verify [--list] [--only NAME] [--spec DIR] [--timeout MS] [--jobs N] [--dump FILE] [-v]\n");
}

int main(int argc, char **argv)
{
    pf_driver_t d = { .spec_dir = "spec", .timeout_ms = 20000, .out = stdout, .quiet_cex = true };
    /* Per-bin obligations spread over the idle cores: on a busy machine
     * (measured: other builds running) extra processes only add overhead. */
    double load = 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(&load, 1) == 1 && load + 1 < (double)cpus)
        d.jobs = (int)cpus;
    else
        d.jobs = 1;
    const char *only = NULL;
    bool list = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0)
            list = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
            d.spec_dir = argv[++i];
        else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            d.jobs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            d.timeout_ms = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            d.dump = fopen(argv[++i], "w");
            if (!d.dump) {
                perror(argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-v") == 0)
            d.quiet_cex = false;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (list) {
        for (size_t i = 0; i < pf_obligation_count; i++) {
            const pf_obligation_t *ob = &pf_obligations[i];
            int mutants = 0;
            for (const pf_mutant_t *m = ob->mutants; m && m->name; m++)
                mutants++;
            printf("%-26s %-14s %d mutant%s  covers %s\n", ob->name, ob->models, mutants,
                   mutants == 1 ? " " : "s", ob->covers);
        }
        return 0;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pf_print_table_header(d.out);
    size_t ran = 0, failed = 0;
    for (size_t i = 0; i < pf_obligation_count; i++) {
        if (only && strcmp(only, pf_obligations[i].name) != 0)
            continue;
        ran++;
        if (!pf_run_obligation(&d, &pf_obligations[i]))
            failed++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (ran == 0) {
        fprintf(stderr, "verify: no obligation named %s (try --list)\n", only);
        return 2;
    }
    printf("%zu obligation%s, %zu failed, %.2fs\n", ran, ran == 1 ? "" : "s", failed, secs);
    return failed ? 1 : 0;
}
