/* tests/api/oom.c -- running out of memory: huge requests fail with ENOMEM and
 * leave the allocator working; under an address-space limit, allocating until
 * NULL gives ENOMEM, and after freeing, allocation works again. */
#include "sa_limit_test.h"
#include <pthread.h>
#include <stdatomic.h>
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

/* src/heap.c: the end (ms) of the memory pressure an out-of-memory raises; 0 none. */
extern _Atomic uint64_t _sa_oom_pressure_until;

static bool under_pressure(void)
{
    return atomic_load(&_sa_oom_pressure_until) != 0;
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
    /* more than all shardalloc maps: giving back could not make room */
    cr_assert(!under_pressure(), "a refused malloc(%#zx) raised the memory pressure", size);
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
/* The memory pressure (every thread's frees give back what they empty, for
 * SA_OOM_PRESSURE_MS) is raised when the refused request could fit in what
 * shardalloc maps, not for a request larger than all of it. */
Test(oom, the_memory_pressure_rises_only_when_giving_back_could_make_room)
{
    enum { SLOTS = 1 << 16 };
    static void *blocks[SLOTS];
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 16 << 20), 0);
    errno = 0;
    cr_assert_null(sa_malloc(64 << 20));
    cr_assert_eq(errno, ENOMEM);
    cr_assert(!under_pressure(), "malloc(64 MiB) past a 16 MiB limit raised the pressure");
    size_t n = 0;
    while (n < SLOTS && (blocks[n] = sa_malloc(1000)) != NULL)
        n++;
    cr_assert(n > 0 && n < SLOTS, "%zu blocks of 1000 bytes under a 16 MiB limit", n);
    cr_assert(under_pressure(), "small blocks until NULL did not raise the pressure");
    release(blocks, n);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 0), 0);
    cr_assert_not_null(blocks[0] = sa_malloc(1000));
    sa_free(blocks[0]);
}

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

/* exhaust_and_recover for blocks of `size`. */
static void run_limited(size_t size, size_t headroom)
{
    /* Room for more blocks than the headroom holds: memory the heap already
     * had mapped before the limit is usable too. */
    size_t max_slots = 4 * headroom / (size < SA_MIN_ALIGN ? SA_MIN_ALIGN : size) + 1;
    void **slots = sat_map(max_slots * sizeof *slots);
    int code = in_limited_child(headroom, exhaust_and_recover, size, slots, max_slots);
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

/* ---- memory other threads left behind --------------------------------------------- */

/* Blocks of `size` (huge) until NULL (several NULLs in a row: the last mapping may fit
 * where an unaligned attempt does not), then all freed; how many fit. */
static size_t huge_fill(size_t size, void **slots, size_t max_slots)
{
    size_t n = 0, nulls = 0;
    while (n < max_slots && nulls < 4) {
        void *p = sa_malloc(size);
        if (p == NULL) {
            nulls++;
            continue;
        }
        memset(p, 0x3c, SA_OS_PAGE_SIZE);
        slots[n++] = p;
    }
    release(slots, n);
    return n;
}

enum { LB_THREADS = 4, LB_SLOTS = 1 << 16 };

static void *lb_blocks[LB_THREADS][LB_SLOTS];
static size_t lb_count[LB_THREADS];

/* Blocks of every page kind until NULL, kept live: the thread exits with them. */
static void *lb_fill_and_exit(void *arg)
{
    size_t t = (size_t)arg;
    uint64_t rng = t + 1;
    size_t n = 0;
    while (n < LB_SLOTS) {
        uint64_t r = sat_rand(&rng);
        size_t size = r % 4 == 0 ? SA_SMALL_OBJ_SIZE_MAX + (r >> 8) % SA_MEDIUM_OBJ_SIZE_MAX
                                 : 16 + (r >> 8) % SA_SMALL_OBJ_SIZE_MAX;
        void *p = sa_malloc(size);
        if (p == NULL)
            break;
        memset(p, 0x6b, size < 64 ? size : 64);
        lb_blocks[t][n++] = p;
    }
    lb_count[t] = n;
    return NULL;
}

/* Threads fill the limited space and exit with every block live (their
 * segments are abandoned); this thread frees all those blocks (remote frees
 * into abandoned pages), then its huge blocks must fit as they did before:
 * a malloc refused by the OS adopts abandoned segments, collects them and
 * gives the emptied ones back before ENOMEM. (Without that, the abandoned
 * segments keep the space and no huge block fits.) */
static int left_by_exited_threads(size_t size, void **slots, size_t max_slots)
{
    size_t first = huge_fill(size, slots, max_slots);
    if (first == 0 || first == max_slots)
        return 10;
    for (size_t t = 0; t < LB_THREADS; t++) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, lb_fill_and_exit, (void *)t) != 0 || pthread_join(tid, NULL) != 0)
            return 20;
    }
    for (size_t t = 0; t < LB_THREADS; t++)
        release(lb_blocks[t], lb_count[t]);
    size_t second = huge_fill(size, slots, max_slots);
    if (getenv("SAT_DEBUG") != NULL)
        fprintf(stderr, "huge blocks: %zu fit, then %zu after exited threads' blocks were freed\n",
                first, second);
    return second + 1 < first ? 16 : 0;
}

/* Another thread, alive, keeps one large block, fills the rest with medium
 * blocks until NULL, frees them, goes on with large ones and calls
 * sa_collect(false) (the emptied medium pages retire, their segments go to
 * its cache and the global cache), then waits. This thread's huge blocks must fit as
 * before but for the other heap's large segment: a malloc refused by the OS
 * unmaps the other heaps' cached segments before ENOMEM. (Without that, the
 * SA_SEGMENT_CACHE_MAX segments the other heap keeps cost 8 huge blocks.) */
static pthread_barrier_t kc_barrier;

static void *kc_fill_free_and_wait(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&kc_barrier);      /* the other thread's first fill is done */
    void *keep = sa_malloc(SA_MEDIUM_OBJ_SIZE_MAX + 1000);
    size_t n = 0;
    while (keep != NULL && n < LB_SLOTS &&
           (lb_blocks[0][n] = sa_malloc(SA_SMALL_OBJ_SIZE_MAX + 1000)) != NULL)
        n++;
    release(lb_blocks[0], n);
    /* More generic calls than the retire delay (a large block is never
     * served by the fast path twice in a row), then sa_collect(false): every
     * emptied page retires, their segments go to the caches (kept mapped). */
    for (size_t i = 0; keep != NULL && i < 2 * SA_RETIRE_DELAY; i++)
        sa_free(sa_malloc(SA_MEDIUM_OBJ_SIZE_MAX + 1000));
    sa_free(keep);
    sa_collect(false);
    pthread_barrier_wait(&kc_barrier);      /* done: the other thread goes */
    pthread_barrier_wait(&kc_barrier);      /* it is done: exit */
    return NULL;
}

static int kept_in_another_heaps_cache(size_t size, void **slots, size_t max_slots)
{
    pthread_t tid;
    if (pthread_barrier_init(&kc_barrier, NULL, 2) != 0 ||
        pthread_create(&tid, NULL, kc_fill_free_and_wait, NULL) != 0)
        return 20;
    size_t first = huge_fill(size, slots, max_slots);
    pthread_barrier_wait(&kc_barrier);
    pthread_barrier_wait(&kc_barrier);
    sa_stats_t st;
    sa_stats_get(&st);
    size_t second = huge_fill(size, slots, max_slots);
    pthread_barrier_wait(&kc_barrier);
    pthread_join(tid, NULL);
    if (getenv("SAT_DEBUG") != NULL)
        fprintf(stderr, "huge blocks: %zu fit, then %zu while another thread kept %zu segments\n",
                first, second, (size_t)st.segments);
    if (first == 0 || first == max_slots)
        return 10;
    /* the other heap's large segment (its page empty, not yet retired) stays */
    size_t per_segment = SA_SEGMENT_SIZE / SA_LARGE_OBJ_SIZE_MAX;
    return second + per_segment + 1 < first ? 16 : 0;
}

/* A body of huge blocks (slots for as many as the headroom holds); `what`
 * says what its exit code 16 means. */
static void run_limited_body(int (*body)(size_t, void **, size_t), size_t headroom, const char *what)
{
    size_t max_slots = headroom / SA_LARGE_OBJ_SIZE_MAX + 1;
    void **slots = sat_map(max_slots * sizeof *slots);
    int code = in_limited_child(headroom, body, SA_LARGE_OBJ_SIZE_MAX + SA_OS_PAGE_SIZE, slots, max_slots);
    cr_assert_eq(code, 0, "%zu MiB: %s (exit %d)", headroom >> 20,
                 code == 16 ? what : code == 10 ? "the limit was never reached" : "setup failed", code);
    sat_unmap(slots, max_slots * sizeof *slots);
}

Test(oom, memory_of_exited_threads_whose_blocks_were_freed_serves_again, .timeout = 60)
{
    run_limited_body(left_by_exited_threads, (size_t)96 << 20,
                     "fewer huge blocks fit after exited threads' blocks were freed");
}

Test(oom, segments_another_live_thread_caches_serve_again, .timeout = 60)
{
    run_limited_body(kept_in_another_heaps_cache, (size_t)96 << 20,
                     "fewer huge blocks fit while another thread cached its empty segments");
}

/* A thread whose first malloc comes when the other heaps' caches hold every
 * byte the limit leaves (the rest taken by plain mappings): its heap must be
 * made, and its blocks found, from those caches (the heap's own mapping
 * fails, and without them the thread's first malloc returns NULL). */
static pthread_barrier_t nh_barrier;
static void *nh_block;
static void *nh_maps[LB_SLOTS];

static void *nh_first_malloc(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&nh_barrier);      /* the space is all cached */
    nh_block = sa_malloc(100);
    sa_free(nh_block);
    return NULL;
}

static int new_thread_when_caches_hold_everything(size_t size, void **slots, size_t max_slots)
{
    (void)size;
    (void)slots;
    (void)max_slots;
    pthread_t tid;
    if (pthread_barrier_init(&nh_barrier, NULL, 2) != 0 ||
        pthread_create(&tid, NULL, nh_first_malloc, NULL) != 0)
        return 20;
    void *keep = sa_malloc(SA_MEDIUM_OBJ_SIZE_MAX + 1000);   /* its large page, kept */
    size_t n = 0;
    while (keep != NULL && n < LB_SLOTS && (lb_blocks[0][n] = sa_malloc(SA_SMALL_OBJ_SIZE_MAX + 1000)) != NULL)
        n++;
    /* what the allocator could not use, taken by plain mappings */
    size_t maps = 0;
    while (maps < LB_SLOTS && (nh_maps[maps] = mmap(NULL, SA_OS_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED)
        maps++;
    release(lb_blocks[0], n);
    for (size_t i = 0; keep != NULL && i < 2 * SA_RETIRE_DELAY; i++)
        sa_free(sa_malloc(SA_MEDIUM_OBJ_SIZE_MAX + 1000));
    sa_free(keep);
    sa_collect(false);      /* the emptied pages retire: their segments are cached */
    pthread_barrier_wait(&nh_barrier);
    pthread_join(tid, NULL);
    for (size_t i = 0; i < maps; i++)
        munmap(nh_maps[i], SA_OS_PAGE_SIZE);
    if (getenv("SAT_DEBUG") != NULL)
        fprintf(stderr, "%zu medium blocks, %zu plain pages; the new thread's malloc %s\n", n, maps,
                nh_block != NULL ? "succeeded" : "failed");
    if (n == 0 || maps == LB_SLOTS)
        return 10;
    return nh_block != NULL ? 0 : 16;
}

Test(oom, a_thread_starting_when_caches_hold_all_the_space_gets_its_heap_and_blocks, .timeout = 60)
{
    run_limited_body(new_thread_when_caches_hold_everything, (size_t)48 << 20,
                     "a new thread's first malloc failed while other heaps cached empty segments");
}
