/* src/os.c -- everything that talks to the kernel about memory: aligned
 * mappings, unmapping, purging (MADV_DONTNEED or MADV_FREE, by option), growing
 * a mapping in place, and the coarse clock the purge delay is measured with.
 * SHARDALLOC_LIMIT caps the bytes mapped here (ENOMEM past it).
 * Each call here counts as one step in the proven bounds. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <time.h>
#include "internal.h"

sa_os_stats_t _sa_os_stats;

#ifdef SA_FAULT_INJECT
/* Test builds only (tests/faults, mk/faults.mk): the kernel calls that can
 * fail (mmap, madvise, mremap; munmap's failure the allocator could do nothing
 * about) are numbered from 1, and the one numbered _sa_fault_at fails as the
 * kernel would refuse it; with _sa_fault_sticky every later one too. */
atomic_ulong _sa_fault_calls;
atomic_ulong _sa_fault_at;
atomic_bool _sa_fault_sticky;

bool _sa_os_fault(void)
{
    unsigned long n = atomic_fetch_add_explicit(&_sa_fault_calls, 1, memory_order_relaxed) + 1;
    unsigned long at = atomic_load_explicit(&_sa_fault_at, memory_order_relaxed);
    return at != 0 && (n == at || (n > at && atomic_load_explicit(&_sa_fault_sticky, memory_order_relaxed)));
}
#endif

/* Every kernel call below counts as one step of the operation it serves
 * (docs/state-machine.md); map_aligned's trimming counts with its mmap. */
static void *os_mmap(size_t size)
{
    atomic_fetch_add_explicit(&_sa_os_stats.mmap_calls, 1, memory_order_relaxed);
    /* No MAP_NORESERVE: under heuristic overcommit the kernel refuses a mapping
     * beyond RAM + swap, as it does for glibc's malloc. */
    if (_sa_os_fault())
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Count `size` more bytes mapped, unless that passes SHARDALLOC_LIMIT: then
 * nothing is counted and the caller fails with ENOMEM. Counted before the
 * mapping is made, so threads racing for the last bytes cannot both pass. */
static bool mapped_add(size_t size)
{
    size_t before = atomic_fetch_add_explicit(&_sa_os_stats.mapped, size, memory_order_relaxed);
    long long limit = _sa_option(SA_OPTION_LIMIT);
    if (sa_unlikely(limit > 0 && before + size > (unsigned long long)limit)) {
        atomic_fetch_sub_explicit(&_sa_os_stats.mapped, size, memory_order_relaxed);
        return false;
    }
    _sa_stat_peak(&_sa_gstats.mapped_peak, before + size);
    return true;
}

/* A fresh zeroed mapping of `size` bytes aligned to `alignment` (a power of
 * two >= the OS page): map size + alignment, trim both ends. errno = ENOMEM
 * and NULL when the kernel says no. `touched` bytes of it (the caller writes
 * them, or hands them out whole) count as committed now; the caller counts
 * the rest when it hands it out (segment.c). */
void *_sa_os_map_aligned(size_t size, size_t alignment, size_t touched)
{
    size = _sa_align_up(size, SA_OS_PAGE_SIZE);
    if (size == 0 || size + alignment < size) {
        errno = ENOMEM;
        return NULL;
    }
    SA_TRACE_STEP(SA_LOOP_NONE);
    if (!mapped_add(size)) {
        errno = ENOMEM;
        return NULL;
    }
    int saved = errno;
    /* Often the kernel hands out an aligned address already: try the exact size. */
    uint8_t *p = os_mmap(size);
    if (p != NULL && ((uintptr_t)p & (alignment - 1)) != 0) {
        munmap(p, size);
        p = os_mmap(size + alignment);
        if (p != NULL) {
            uint8_t *aligned = (uint8_t *)_sa_align_up((uintptr_t)p, alignment);
            size_t pre = (size_t)(aligned - p);
            size_t post = alignment - pre;
            if (pre > 0)
                munmap(p, pre);
            if (post > 0)
                munmap(aligned + size, post);
            p = aligned;
        }
    }
    if (p == NULL) {
        atomic_fetch_sub_explicit(&_sa_os_stats.mapped, size, memory_order_relaxed);
        errno = ENOMEM;
        return NULL;
    }
    errno = saved;
    _sa_stat_add_peak(&_sa_os_stats.committed, &_sa_gstats.committed_peak,
                      _sa_align_up(touched, SA_OS_PAGE_SIZE));
    return p;
}

/* Unmap [p, p + size), of which `committed` bytes were counted committed
 * (_sa_os_map_aligned's `touched`, and what the caller counted since). */
void _sa_os_unmap(void *p, size_t size, size_t committed)
{
    size = _sa_align_up(size, SA_OS_PAGE_SIZE);
    SA_TRACE_STEP(SA_LOOP_NONE);
    munmap(p, size);
    atomic_fetch_sub_explicit(&_sa_os_stats.mapped, size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&_sa_os_stats.committed, _sa_align_up(committed, SA_OS_PAGE_SIZE),
                              memory_order_relaxed);
}

/* Tell the kernel the contents of [p, p + size) are no longer needed. The
 * caller accounts `committed` (it knows whether the range was committed). */
void _sa_os_purge(void *p, size_t size)
{
    uintptr_t start = _sa_align_up((uintptr_t)p, SA_OS_PAGE_SIZE);
    uintptr_t end = ((uintptr_t)p + size) & ~(SA_OS_PAGE_SIZE - 1);
    if (end <= start)
        return;
    SA_TRACE_STEP(SA_LOOP_NONE);
    int saved = errno;
    int advice = _sa_option(SA_OPTION_PURGE) == SA_PURGE_FREE ? MADV_FREE : MADV_DONTNEED;
    bool refused = _sa_os_fault();     /* then the pages keep their contents */
    if (!refused && madvise((void *)start, end - start, advice) != 0 && advice == MADV_FREE)
        madvise((void *)start, end - start, MADV_DONTNEED);   /* kernel without MADV_FREE */
    errno = saved;
    atomic_fetch_add_explicit(&_sa_os_stats.purged, end - start, memory_order_relaxed);
}

/* Grow or shrink a mapping without moving it (its alignment is its identity). */
bool _sa_os_remap_in_place(void *p, size_t old_size, size_t new_size)
{
    old_size = _sa_align_up(old_size, SA_OS_PAGE_SIZE);
    new_size = _sa_align_up(new_size, SA_OS_PAGE_SIZE);
    if (new_size == old_size)
        return true;
    SA_TRACE_STEP(SA_LOOP_NONE);
    if (new_size > old_size && !mapped_add(new_size - old_size))
        return false;
    int saved = errno;
    void *q = _sa_os_fault() ? MAP_FAILED : mremap(p, old_size, new_size, 0);
    errno = saved;
    if (q == MAP_FAILED) {
        if (new_size > old_size)
            atomic_fetch_sub_explicit(&_sa_os_stats.mapped, new_size - old_size, memory_order_relaxed);
        return false;
    }
    if (new_size > old_size) {
        _sa_stat_add_peak(&_sa_os_stats.committed, &_sa_gstats.committed_peak, new_size - old_size);
    } else {
        atomic_fetch_sub_explicit(&_sa_os_stats.mapped, old_size - new_size, memory_order_relaxed);
        atomic_fetch_sub_explicit(&_sa_os_stats.committed, old_size - new_size, memory_order_relaxed);
    }
    return true;
}

/* Milliseconds on a coarse monotonic clock (vDSO: no system call). */
uint64_t _sa_os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
