/* tests/api/sa_vm_size.h -- the current virtual size of this process, which
 * an address-space limit (RLIMIT_AS) is set above: for the suites that run
 * out of memory on purpose (sa_limit_test.h) and tests/stress/oom_fit.c,
 * which runs under any malloc (no Criterion here). */
#ifndef SA_VM_SIZE_H
#define SA_VM_SIZE_H

#include <stdio.h>
#include <unistd.h>

/* Current virtual size of this process, from /proc/self/statm (pages). */
static inline size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    size_t pages = 0;
    if (f == NULL || fscanf(f, "%zu", &pages) != 1)
        pages = 0;
    if (f != NULL)
        fclose(f);
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

#endif /* SA_VM_SIZE_H */
