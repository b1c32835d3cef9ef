/* tests/stress/churn.c -- the thread-churn pattern (docs/design.md, "How
 * abandoned memory is bounded") through the standard malloc/free (run it
 * under LD_PRELOAD to pick the allocator).
 *
 * Rounds of T short-lived threads. Thread i of round r first frees the blocks
 * thread (i + 1) % T of round r - 1 left (remote frees into pages of a heap
 * whose thread has exited), then allocates 64 blocks (the first up to 100
 * KB, the rest up to 2 KB), frees every other one and exits leaving the rest
 * alive. Every `every` rounds it prints the round, the resident set and the
 * mapped address space (/proc/self/statm) in MiB and the seconds so far;
 * at the end, the resident set's peak (VmHWM).
 *
 *   churn ROUNDS THREADS EVERY [MAX_RSS_MIB MAX_VM_MIB]
 *
 * With limits it fails (exit 1) as soon as a report exceeds either one, and
 * checks every block's contents before freeing it (exit 2 on a mismatch). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BLOCKS = 64, BIG_MAX = 100 * 1024, SMALL_MAX = 2 * 1024 };

typedef struct block_s {
    struct block_s *next;
    size_t size;
    uint64_t tag;
} block_t;

typedef struct job_s {
    uint64_t seed;
    block_t *reap;      /* the previous round's survivors to free */
    block_t *keep;      /* this round's survivors */
} job_t;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void block_check_free(block_t *b)
{
    const uint8_t *bytes = (const uint8_t *)(b + 1);
    size_t n = b->size - sizeof *b;
    for (size_t k = 0; k < n; k += 97)
        if (bytes[k] != (uint8_t)(b->tag + k)) {
            fprintf(stderr, "churn: block %p of %zu bytes overwritten\n", (void *)b, b->size);
            exit(2);
        }
    free(b);
}

static void *job(void *arg)
{
    job_t *j = arg;
    while (j->reap != NULL) {
        block_t *next = j->reap->next;
        block_check_free(j->reap);
        j->reap = next;
    }
    j->keep = NULL;
    for (size_t i = 0; i < BLOCKS; i++) {
        size_t max = i == 0 ? BIG_MAX : SMALL_MAX;
        size_t size = sizeof(block_t) + rng_next(&j->seed) % max;
        block_t *b = malloc(size);
        if (b == NULL) {
            fprintf(stderr, "churn: malloc(%zu) failed\n", size);
            exit(3);
        }
        b->size = size;
        b->tag = j->seed;
        uint8_t *bytes = (uint8_t *)(b + 1);
        for (size_t k = 0; k < size - sizeof *b; k += 97)
            bytes[k] = (uint8_t)(b->tag + k);
        if (i & 1) {
            block_check_free(b);
        } else {
            b->next = j->keep;
            j->keep = b;
        }
    }
    return NULL;
}

static double mib_of_pages(unsigned long pages)
{
    return (double)pages * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static void statm(double *vm, double *rss)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2) {
        fprintf(stderr, "churn: cannot read /proc/self/statm\n");
        exit(4);
    }
    fclose(f);
    *vm = mib_of_pages(size);
    *rss = mib_of_pages(resident);
}

/* The resident set's high-water mark (VmHWM), in MiB. */
static double peak_rss_mib(void)
{
    char line[256];
    double kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %lf", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (kib < 0) {
        fprintf(stderr, "churn: no VmHWM in /proc/self/status\n");
        exit(4);
    }
    return kib / 1024.0;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s ROUNDS THREADS EVERY [MAX_RSS_MIB MAX_VM_MIB]\n", argv[0]);
        return 64;
    }
    size_t rounds = strtoul(argv[1], NULL, 10), threads = strtoul(argv[2], NULL, 10);
    size_t every = strtoul(argv[3], NULL, 10);
    double max_rss = argc == 6 ? strtod(argv[4], NULL) : 0;
    double max_vm = argc == 6 ? strtod(argv[5], NULL) : 0;
    job_t *jobs = calloc(threads, sizeof *jobs);
    job_t *next = calloc(threads, sizeof *next);
    pthread_t *tid = calloc(threads, sizeof *tid);
    if (jobs == NULL || next == NULL || tid == NULL || every == 0)
        return 64;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("%6s %10s %10s %8s\n", "round", "rss_mib", "vm_mib", "seconds");
    for (size_t r = 1; r <= rounds; r++) {
        for (size_t i = 0; i < threads; i++) {
            next[i] = (job_t){ .seed = r * 1000003u + i * 7919u + 1,
                               .reap = jobs[(i + 1) % threads].keep };
            if (pthread_create(&tid[i], NULL, job, &next[i]) != 0) {
                fprintf(stderr, "churn: pthread_create failed in round %zu\n", r);
                return 5;
            }
        }
        for (size_t i = 0; i < threads; i++)
            pthread_join(tid[i], NULL);
        job_t *t = jobs; jobs = next; next = t;
        if (r % every == 0 || r == rounds) {
            double vm, rss;
            statm(&vm, &rss);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
            printf("%6zu %10.1f %10.1f %8.2f\n", r, rss, vm, s);
            fflush(stdout);
            if (max_rss > 0 && (rss > max_rss || vm > max_vm)) {
                fprintf(stderr, "churn: round %zu: rss %.1f MiB (limit %.1f), mapped %.1f MiB "
                        "(limit %.1f)\n", r, rss, max_rss, vm, max_vm);
                return 1;
            }
        }
    }
    printf("peak_rss_mib %.1f\n", peak_rss_mib());
    return 0;
}
