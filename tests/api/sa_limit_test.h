/* tests/api/sa_limit_test.h -- for the suites that run out of memory on
 * purpose: a body run in a forked child under an address-space limit
 * (RLIMIT_AS), so the limit cannot hurt the test runner. */
#ifndef SA_LIMIT_TEST_H
#define SA_LIMIT_TEST_H

#include "sa_test.h"
#include "sa_vm_size.h"
#include <sys/resource.h>

/* Runs body(size, slots, max_slots) in a forked child under RLIMIT_AS =
 * current size + headroom, so the limit cannot hurt the test runner (threads
 * the body starts count their stacks against it); returns its exit code. */
static int in_limited_child(size_t headroom, int (*body)(size_t, void **, size_t), size_t size,
                            void **slots, size_t max_slots)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        alarm(60);
        struct rlimit rl = { vm_size() + headroom, vm_size() + headroom };
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(20);
        _exit(body(size, slots, max_slots));
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "size %zu, %zu MiB: child died of signal %d", size, headroom >> 20,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/* Raises the memory pressure (SA_OOM_PRESSURE_MS) as a real shortage does:
 * with SHARDALLOC_LIMIT below what is mapped, a request that what shardalloc
 * maps could hold is refused. (A request larger than all of it, which
 * nothing given back could serve, raises none.) */
static inline void sat_raise_memory_pressure(void)
{
    void *keep = sa_malloc(100);    /* a segment mapped, at least */
    cr_assert_not_null(keep);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 1), 0);
    errno = 0;
    cr_assert_null(sa_malloc(SA_LARGE_OBJ_SIZE_MAX / 2), "a mapping past SHARDALLOC_LIMIT was granted");
    cr_assert_eq(errno, ENOMEM);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 0), 0);
    sa_free(keep);
}

#endif /* SA_LIMIT_TEST_H */
