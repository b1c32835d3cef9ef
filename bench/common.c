/* bench/common.c -- the parts of bench.h that are not inline: argument,
 * clock, RSS, and the report that proves which allocator ran. */
#define _GNU_SOURCE
#include "bench.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

double bench_scale = 1.0;
static double bench_t0;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_start(int argc, char **argv)
{
    if (argc > 1) {
        bench_scale = strtod(argv[1], NULL);
        if (!(bench_scale > 0)) {
            fprintf(stderr, "%s: scale must be a positive number\n", argv[0]);
            exit(2);
        }
    }
    bench_t0 = bench_now();
}

size_t bench_arg_count(int argc, char **argv, size_t fallback, size_t max, const char *what)
{
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : fallback;
    if (n == 0 || n > max) {
        fprintf(stderr, "%s: 1..%zu %s\n", argv[0], max, what);
        exit(2);
    }
    return n;
}

size_t bench_scaled(size_t n)
{
    double v = (double)n * bench_scale;
    return v < 1 ? 1 : (size_t)v;
}

/* dlsym(RTLD_DEFAULT) finds the definition every call in the process binds
 * to (a preloaded library comes first), dladdr names the file it lives in. */
const char *bench_malloc_library(void)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
        return "unknown";
    return info.dli_fname;
}

long bench_rss_now_kib(void)
{
    long pages_total = 0, pages_res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages_total, &pages_res) != 2)
        pages_res = -1;
    fclose(f);
    return pages_res < 0 ? -1 : pages_res * (sysconf(_SC_PAGESIZE) / 1024);
}

void bench_finish(uint64_t checksum)
{
    printf("allocator: %s\n", bench_malloc_library());
    printf("checksum: %016llx\n", (unsigned long long)checksum);
    printf("elapsed: %.3f\n", bench_now() - bench_t0);
    fflush(stdout);
}
