/* src/stats.c -- process-wide statistics: OS-level counters kept by os.c,
 * segment.c and huge.c (atomics, slow paths only), bytes handed out summed
 * over every heap's owner-written counters (read racily: best effort). */
#include <fcntl.h>
#include <unistd.h>
#include "internal.h"

sa_public void sa_stats_get(sa_stats_t *out)
{
    if (out == NULL)
        return;
    size_t allocated;
    _sa_heaps_stats(&allocated);
    out->mapped = atomic_load_explicit(&_sa_os_stats.mapped, memory_order_relaxed);
    out->committed = atomic_load_explicit(&_sa_os_stats.committed, memory_order_relaxed);
    out->allocated = allocated + atomic_load_explicit(&_sa_huge_allocated, memory_order_relaxed);
    out->segments = atomic_load_explicit(&_sa_os_stats.segments, memory_order_relaxed);
    out->huge_blocks = atomic_load_explicit(&_sa_os_stats.huge_blocks, memory_order_relaxed);
    out->purged = atomic_load_explicit(&_sa_os_stats.purged, memory_order_relaxed);
    out->mmap_calls = atomic_load_explicit(&_sa_os_stats.mmap_calls, memory_order_relaxed);
    out->purge_delay_ms = (size_t)_sa_purge_delay_ms();
}

/* One line per counter, "shardalloc[<pid>]: stats: <name> <value>", written
 * to fd without allocating. */
static void stats_write(int fd)
{
    sa_stats_t s;
    sa_stats_get(&s);
    const struct { const char *name; size_t value; } rows[] = {
        { "mapped", s.mapped },         { "committed", s.committed },
        { "allocated", s.allocated },   { "segments", s.segments },
        { "huge_blocks", s.huge_blocks }, { "purged", s.purged },
        { "mmap_calls", s.mmap_calls },
        { "purge_delay_ms", s.purge_delay_ms },
    };
    char buf[1024];
    size_t n = 0, cap = sizeof buf;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        n = _sa_fmt_pid_prefix(buf, n, cap);
        n = _sa_fmt_str(buf, n, cap, "stats: ");
        n = _sa_fmt_str(buf, n, cap, rows[i].name);
        n = _sa_fmt_str(buf, n, cap, " ");
        n = _sa_fmt_u64(buf, n, cap, rows[i].value, false);
        n = _sa_fmt_str(buf, n, cap, "\n");
    }
    _sa_write_fd(fd, buf, n);
}

sa_public void sa_stats_print(void)
{
    stats_write(STDERR_FILENO);
}

/* SHARDALLOC_SHOW_STATS=1: at exit, to SHARDALLOC_STATS_FILE (appended:
 * several processes may share it) or else stderr. */
void _sa_stats_at_exit(void)
{
    const char *path = _sa_option_stats_file();
    int fd = path != NULL ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (path != NULL && fd < 0)
        _sa_error_text(SA_ERROR_BAD_OPTION, "options", "cannot open SHARDALLOC_STATS_FILE", path, path);
    stats_write(fd >= 0 ? fd : STDERR_FILENO);
    if (fd >= 0)
        close(fd);
}
