/* src/options.c -- SHARDALLOC_* environment options, read once at process
 * init with getenv (which does not allocate):
 *   SHARDALLOC_PURGE=dontneed|free   how retired memory is given back
 *                                    (default dontneed: RSS drops visibly)
 *   SHARDALLOC_PURGE_DELAY=<ms>      delay before purging (SA_PURGE_DELAY_MS),
 *                                    adapted by src/purge_delay.c
 *   SHARDALLOC_VERBOSE=1             print statistics at exit */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

sa_options_t _sa_options = {
    .purge_dontneed = true,
    .purge_delay_ms = SA_PURGE_DELAY_MS,
    .verbose = false,
};

/* A decimal number, or `fallback` if s is not one. */
static uint64_t parse_u64(const char *s, uint64_t fallback)
{
    if (s == NULL || *s == '\0')
        return fallback;
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return fallback;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v;
}

void _sa_options_init(void)
{
    const char *purge = getenv("SHARDALLOC_PURGE");
    if (purge != NULL)
        _sa_options.purge_dontneed = strcmp(purge, "free") != 0;
    _sa_options.purge_delay_ms = parse_u64(getenv("SHARDALLOC_PURGE_DELAY"), SA_PURGE_DELAY_MS);
    const char *verbose = getenv("SHARDALLOC_VERBOSE");
    _sa_options.verbose = verbose != NULL && verbose[0] != '\0' && verbose[0] != '0';
}
