/* tests/api/oom.c -- running out of memory: huge requests fail with ENOMEM and
 * leave the allocator working; under an address-space limit, allocating until
 * NULL gives ENOMEM, and after freeing, allocation works again. */
#include "sa_test.h"
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

/* A request the kernel refuses: twice this machine's RAM + swap, rounded up
 * to a power of two. Under the default heuristic overcommit (mode 0) the
 * kernel refuses any single mapping larger than RAM + swap -- it does so for
 * glibc's malloc -- unless the mapping opts out with MAP_NORESERVE. */
static size_t beyond_ram_and_swap(void)
{
    struct sysinfo si;
    cr_assert_eq(sysinfo(&si), 0);
    size_t total = ((size_t)si.totalram + (size_t)si.totalswap) * si.mem_unit;
    size_t n = SA_SEGMENT_SIZE;
    while (n < 2 * total)
        n <<= 1;
    return n;
}

static int overcommit_mode(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f != NULL) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    return mode;
}

static void assert_refused(size_t size)
{
    errno = 0;
    void *p = sa_malloc(size);
    cr_assert_null(p, "malloc(%#zx) succeeded", size);
    cr_assert_eq(errno, ENOMEM, "malloc(%#zx): errno %d", size, errno);
    errno = 0;
    cr_assert_null(sa_calloc(1, size), "calloc(1, %#zx) succeeded", size);
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_aligned_alloc(SA_OS_PAGE_SIZE, size & ~(SA_OS_PAGE_SIZE - 1)),
                   "aligned_alloc(%#zx) succeeded", size);
    cr_assert_eq(errno, ENOMEM);
    void *q = sa_malloc(100);
    cr_assert_not_null(q, "malloc(100) failed after a refused malloc(%#zx)", size);
    sat_fill(q, 100, size);
    cr_assert(sat_check(q, 100, size));
    sa_free(q);
}

Test(oom, impossible_requests_fail_with_enomem_and_malloc_keeps_working)
{
    /* Larger than the address space, or than PTRDIFF_MAX: always refused. */
    const size_t sizes[] = { (size_t)1 << SA_ADDRESS_BITS, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
                             SIZE_MAX - SA_OS_PAGE_SIZE };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        assert_refused(sizes[i]);
}

Test(oom, requests_beyond_ram_and_swap_fail_with_enomem_like_glibc)
{
    if (overcommit_mode() != 0) {
        cr_skip_test("vm.overcommit_memory is not 0 (heuristic): the kernel may grant it");
    }
    /* Four times each: nothing may be granted, not even the first. */
    for (int k = 0; k < 4; k++) {
        assert_refused(beyond_ram_and_swap());
        assert_refused((size_t)1 << (SA_ADDRESS_BITS - 1));     /* 64 TiB */
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

/* Fill the limited address space with blocks of `size` until NULL; returns how many fit. */
static size_t fill(size_t size, void **slots, size_t max_slots)
{
    size_t n = 0;
    while (n < max_slots && (slots[n] = sa_malloc(size)) != NULL) {
        memset(slots[n], 0x11, size < 64 ? size : 64);
        n++;
    }
    return n;
}

static void release(void **slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sa_free(slots[i]);
}

/* Run inside the limited child: exhaust, free, and check that the freed
 * memory serves again -- the same size, other sizes (without any call to
 * sa_collect: a program does not know about it), and after sa_collect.
 * Returns a child exit code (0 ok, else an index into k_oom_why). */
static const char *const k_oom_why[] = {
    [10] = "the limit was never reached, or nothing fit",
    [11] = "malloc returned NULL without errno == ENOMEM",
    [12] = "after freeing everything, fewer blocks of the same size fit again",
    [13] = "after freeing everything, a malloc of another size class failed (no sa_collect)",
    [14] = "after freeing everything and sa_collect(true), fewer blocks fit again",
    [15] = "a malloc that succeeded (after the OS refused a mapping) changed errno",
    [20] = "setrlimit failed",
};

static int exhaust_and_recover(size_t size, void **slots, size_t max_slots)
{
    errno = 0;
    size_t first = fill(size, slots, max_slots);
    if (first == max_slots || first == 0)
        return 10;
    if (errno != ENOMEM)
        return 11;
    /* Not exactly as many: segments are mapped with alignment slack, so
     * where the last one fits in the limited address space can vary by one. */
    size_t slack = SA_SEGMENT_SIZE / size + 1;
    release(slots, first);
    size_t second = fill(size, slots, first);
    if (getenv("SAT_DEBUG") != NULL)
        fprintf(stderr, "size %zu: %zu blocks fit, then %zu\n", size, first, second);
    release(slots, second);
    if (second + slack < first)
        return 12;
    const size_t others[] = { 32, SA_SMALL_OBJ_SIZE_MAX + 1, SA_MEDIUM_OBJ_SIZE_MAX + 1,
                              SA_LARGE_OBJ_SIZE_MAX + 1 };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        errno = 0;
        void *p = sa_malloc(others[i]);
        if (p != NULL && errno != 0) {
            if (getenv("SAT_DEBUG") != NULL)
                fprintf(stderr, "size %zu: then malloc(%zu) succeeded with errno %d\n", size, others[i], errno);
            return 15;
        }
        if (p == NULL) {
            if (getenv("SAT_DEBUG") != NULL)
                fprintf(stderr, "size %zu: then malloc(%zu) failed\n", size, others[i]);
            return 13;
        }
        sa_free(p);
    }
    sa_collect(true);
    size_t third = fill(size, slots, first);
    release(slots, third);
    if (third + slack < first)
        return 14;
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
    int code = WEXITSTATUS(status);
    const int known = (int)(sizeof k_oom_why / sizeof k_oom_why[0]);
    cr_assert_eq(code, 0, "size %zu: %s (exit %d)", size,
                 code < known && k_oom_why[code] != NULL ? k_oom_why[code] : "?", code);
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
