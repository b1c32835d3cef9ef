/* bench/fastpath.c -- the fast path's cost in instructions: N malloc/free
 * pairs of small random sizes (16..256 bytes) against a ring of 64 live
 * blocks, the pattern where nearly every call takes the allocator's fast
 * path. bench/run.py runs it under callgrind (valgrind) for every allocator
 * and reports instructions per pair, per malloc and per free: counts that do
 * not move with the load of the machine, unlike times.
 *
 *   fastpath N      (N pairs; default 1000000) */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define LIVE 64

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    bench_rng_t rng = { 1 };
    void *live[LIVE] = { 0 };
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = bench_rand(&rng);
        size_t size = 16 + (size_t)(r % 241);
        unsigned char *p = malloc(size);
        if (p == NULL) {
            perror("malloc");
            return 1;
        }
        p[0] = (unsigned char)i;
        size_t k = (size_t)(r >> 32) % LIVE;
        if (live[k] != NULL)
            sum += *(unsigned char *)live[k];
        free(live[k]);
        live[k] = p;
    }
    for (size_t k = 0; k < LIVE; k++) {
        if (live[k] != NULL)
            sum += *(unsigned char *)live[k];
        free(live[k]);
    }
    printf("allocator: %s\nchecksum: %016llx\n", bench_malloc_library(), (unsigned long long)sum);
    return 0;
}
