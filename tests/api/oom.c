/* tests/api/oom.c -- running out of memory: huge requests fail with ENOMEM and
 * leave the allocator working; under an address-space limit, allocating until
 * NULL gives ENOMEM, and after freeing, allocation works again. */
#include "sa_test.h"
#include <sys/resource.h>
#include <sys/wait.h>

Test(oom, huge_requests_fail_with_enomem_and_malloc_keeps_working)
{
    const size_t sizes[] = { (size_t)1 << 46, SIZE_MAX / 2, SIZE_MAX / 2 + 1, SIZE_MAX - SA_OS_PAGE_SIZE };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        void *p = sa_malloc(sizes[i]);
        cr_assert_null(p, "malloc(%#zx) succeeded", sizes[i]);
        cr_assert_eq(errno, ENOMEM, "malloc(%#zx): errno %d", sizes[i], errno);
        errno = 0;
        cr_assert_null(sa_calloc(1, sizes[i]));
        cr_assert_eq(errno, ENOMEM);
        errno = 0;
        cr_assert_null(sa_aligned_alloc(SA_SEGMENT_SIZE, sizes[i] & ~(SA_SEGMENT_SIZE - 1)));
        cr_assert_eq(errno, ENOMEM);
        void *q = sa_malloc(100);
        cr_assert_not_null(q);
        sat_fill(q, 100, i);
        cr_assert(sat_check(q, 100, i));
        sa_free(q);
    }
}

/* Current virtual size of this process, from /proc/self/statm (pages). */
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    size_t pages = 0;
    if (f == NULL || fscanf(f, "%zu", &pages) != 1)
        pages = 0;
    if (f != NULL)
        fclose(f);
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Fill the limited address space with blocks of `size`, check ENOMEM, free
 * them all, and fill again. Returns a child exit code (0 ok). */
static int exhaust_and_recover(size_t size, void **slots, size_t max_slots)
{
    size_t first = 0;
    errno = 0;
    while (first < max_slots && (slots[first] = sa_malloc(size)) != NULL) {
        memset(slots[first], 0x11, size < 64 ? size : 64);
        first++;
    }
    if (first == max_slots || first == 0)
        return 10;              /* the limit was never reached, or nothing fit */
    if (errno != ENOMEM)
        return 11;
    for (size_t i = 0; i < first; i++)
        sa_free(slots[i]);
    sa_collect(true);
    /* Everything was freed: (nearly) the same amount must fit again. Not
     * exactly: segments are mapped with alignment slack, so where the last
     * one fits in the limited address space can vary by one segment. */
    size_t second = 0;
    while (second < first && (slots[second] = sa_malloc(size)) != NULL)
        second++;
    if (getenv("SAT_DEBUG") != NULL)
        fprintf(stderr, "size %zu: %zu blocks fit, then %zu\n", size, first, second);
    if (second + SA_SEGMENT_SIZE / size + 1 < first)
        return 12;
    for (size_t i = 0; i < second; i++)
        sa_free(slots[i]);
    void *small = sa_malloc(32);
    if (small == NULL)
        return 13;
    sa_free(small);
    return 0;
}

/* Runs exhaust_and_recover in a forked child under RLIMIT_AS = current size
 * + headroom, so the limit cannot hurt the test runner. */
static void run_limited(size_t size, size_t headroom)
{
    /* Room for more blocks than the headroom holds: memory the heap already
     * had mapped before the limit is usable too. */
    size_t max_slots = 4 * headroom / (size < SA_MIN_ALIGN ? SA_MIN_ALIGN : size) + 1;
    void **slots = sat_map(max_slots * sizeof *slots);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        alarm(60);
        struct rlimit rl = { vm_size() + headroom, vm_size() + headroom };
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(20);
        _exit(exhaust_and_recover(size, slots, max_slots));
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "size %zu: child died of signal %d", size,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    static const char *why[] = { [10] = "the limit was never reached or nothing fit",
                                 [11] = "malloc returned NULL without errno == ENOMEM",
                                 [12] = "after freeing everything, fewer blocks fit again",
                                 [13] = "a small malloc failed after recovery",
                                 [20] = "setrlimit failed" };
    int code = WEXITSTATUS(status);
    cr_assert_eq(code, 0, "size %zu: %s (exit %d)", size,
                 code < (int)(sizeof why / sizeof why[0]) && why[code] ? why[code] : "?", code);
    sat_unmap(slots, max_slots * sizeof *slots);
}

Test(oom, small_blocks_until_the_address_space_limit)
{
    run_limited(48, (size_t)64 << 20);
}

Test(oom, medium_blocks_until_the_address_space_limit)
{
    run_limited(SA_SMALL_OBJ_SIZE_MAX + 1000, (size_t)256 << 20);
}

Test(oom, large_blocks_until_the_address_space_limit)
{
    run_limited(SA_MEDIUM_OBJ_SIZE_MAX + 1000, (size_t)256 << 20);
}

Test(oom, huge_blocks_until_the_address_space_limit)
{
    run_limited(SA_LARGE_OBJ_SIZE_MAX + SA_OS_PAGE_SIZE, (size_t)512 << 20);
}
