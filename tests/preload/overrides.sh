#!/bin/sh
# tests/preload/overrides.sh -- the standard names libshardalloc.so exports
# (malloc, calloc, realloc, reallocarray, free, aligned_alloc, memalign,
# posix_memalign, valloc, pvalloc, malloc_usable_size, malloc_trim) route to
# shardalloc under LD_PRELOAD, with the C/POSIX results and errno, and so do
# glibc's own internal allocations (strdup, getline, asprintf, open_memstream,
# fopen), which the program then frees; threads and fork work.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/overrides.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static bool (*owns)(const void *);

static void *worker(void *arg)
{
    void **slot = arg;
    for (int i = 0; i < 100000; i++) {
        void *p = malloc(16 + i % 1000);
        if (p == NULL)
            return NULL;
        memset(p, i, 16);
        void *old = __atomic_exchange_n(slot, p, __ATOMIC_ACQ_REL);
        free(old);          /* another thread's block, often */
    }
    return NULL;
}

int main(void)
{
    owns = (bool (*)(const void *))dlsym(RTLD_DEFAULT, "sa_owns");
    CHECK(owns != NULL);            /* libshardalloc.so is in the process */
    if (owns == NULL)
        return 1;

    void *p = malloc(100);
    CHECK(p != NULL && owns(p) && ((uintptr_t)p & 15) == 0);
    CHECK(malloc_usable_size(p) >= 100);
    p = realloc(p, 100000);
    CHECK(p != NULL && owns(p));
    free(p);
    void *z = malloc(0), *z2 = malloc(0);
    CHECK(z != NULL && z2 != NULL && z != z2 && owns(z));
    free(z); free(z2);
    free(NULL);

    unsigned char *c = calloc(1000, 10);
    CHECK(c != NULL && owns(c));
    bool zero = true;
    for (int i = 0; c != NULL && i < 10000; i++)
        zero &= c[i] == 0;
    CHECK(zero);
    free(c);
    errno = 0;
    CHECK(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(SIZE_MAX) == NULL && errno == ENOMEM);
    void *ra = reallocarray(NULL, 10, 10);
    CHECK(ra != NULL && owns(ra));
    errno = 0;
    CHECK(reallocarray(ra, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    free(ra);

    void *a = aligned_alloc(4096, 8192);
    CHECK(a != NULL && owns(a) && ((uintptr_t)a & 4095) == 0);
    free(a);
    a = memalign(1 << 16, 10);
    CHECK(a != NULL && ((uintptr_t)a & 0xFFFF) == 0);
    free(a);
    errno = 0;
    CHECK(memalign(24, 10) == NULL && errno == EINVAL);
    void *out = &out;
    CHECK(posix_memalign(&out, 256, 1000) == 0 && ((uintptr_t)out & 255) == 0);
    free(out);
    out = &out;
    CHECK(posix_memalign(&out, 4, 10) == EINVAL && out == &out);
    a = valloc(10);
    CHECK(a != NULL && ((uintptr_t)a & 4095) == 0);
    free(a);
    a = pvalloc(4097);
    CHECK(a != NULL && ((uintptr_t)a & 4095) == 0 && malloc_usable_size(a) >= 8192);
    free(a);
    CHECK(malloc_trim(0) == 1 || malloc_trim(0) == 0);

    /* glibc's own allocations come from shardalloc and are freed by us. */
    char *s = strdup("preloaded");
    CHECK(s != NULL && owns(s) && strcmp(s, "preloaded") == 0);
    free(s);
    char *as = NULL;
    CHECK(asprintf(&as, "%d-%s", 42, "x") == 4 && owns(as));
    free(as);
    char *buf = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    bool mapped = false;
    while (f != NULL && getline(&buf, &cap, f) > 0)
        mapped |= strstr(buf, "libshardalloc") != NULL;
    CHECK(mapped && owns(buf));
    free(buf);
    if (f) fclose(f);
    char *ms = NULL;
    size_t ms_len = 0;
    FILE *m = open_memstream(&ms, &ms_len);
    for (int i = 0; m != NULL && i < 10000; i++)
        fprintf(m, "%d,", i);
    if (m) fclose(m);
    CHECK(ms != NULL && owns(ms) && ms_len > 40000);
    free(ms);

    /* A bad free is reported, not fatal (glibc would abort). */
    int local;
    free(&local);

    /* Threads handing blocks to each other, then fork and allocate in the child. */
    void *slot = NULL;
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, &slot);
    pid_t pid = fork();
    if (pid == 0) {
        void *q = malloc(12345);
        _exit(q != NULL && owns(q) ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    free(slot);

    printf("%s (%d failures)\n", failures ? "FAILED" : "passed", failures);
    return failures != 0;
}
C
gcc -O0 -fno-builtin -Wall -Wno-unused-result -Wno-alloc-size-larger-than -Wno-free-nonheap-object -Wno-use-after-free -o "$TMP/overrides" "$TMP/overrides.c" -ldl -pthread
out=$(preloaded "$TMP/overrides") || true
[ "$out" = "passed (0 failures)" ] || fail "overrides program: $out"
grep -q "^shardalloc: free(): .* 0x" "$SA_STATS" || fail "free(&local) was not reported: $(head -n 3 "$SA_STATS")"
assert_served 1
assert_stats 1
# Without SHARDALLOC_SHOW_STATS, a program that makes no mistakes hears nothing.
LD_PRELOAD="$SA_SO" ls -la / >/dev/null 2>"$TMP/quiet" || fail "ls failed under LD_PRELOAD"
[ ! -s "$TMP/quiet" ] || fail "shardalloc wrote to stderr unasked: $(head -n 3 "$TMP/quiet")"
echo "ok: every standard allocation name and glibc's own allocations served by shardalloc, threads and fork"
