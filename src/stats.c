/* src/stats.c -- statistics: the counters of the slow paths (relaxed
 * atomics, any thread), the fast paths' per-heap counters summed over every
 * heap (internal.h _sa_stat_malloc / _sa_stat_free, heap.c _sa_heaps_stats),
 * and their reports: sa_stats_get, per size class, text (sa_stats_print,
 * SHARDALLOC_SHOW_STATS at exit), JSON and malloc_info's XML. Every report
 * is formatted on the stack and needs no allocation.
 *
 * What costs what: malloc and free add one to a per-heap, per-class counter
 * (no atomics); a remote free adds one to the freeing thread's heap; the
 * rest (active bytes and their peaks, pages and segments made, abandoned,
 * reclaimed, huge blocks) is counted where those slow paths run. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

sa_global_stats_t _sa_gstats;
__thread uint64_t _sa_steps __attribute__((tls_model("initial-exec")));
__thread uint64_t _sa_retries __attribute__((tls_model("initial-exec")));

/* ---- counting ---------------------------------------------------------------- */

void _sa_stat_peak(_Atomic size_t *peak, size_t value)
{
    size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (value > seen &&
           !atomic_compare_exchange_weak_explicit(peak, &seen, value, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;   /* retries only while other threads raise it: each retry sees a higher peak */
}

void _sa_stat_add_peak(_Atomic size_t *counter, _Atomic size_t *peak, size_t n)
{
    _sa_stat_peak(peak, atomic_fetch_add_explicit(counter, n, memory_order_relaxed) + n);
}

static void active_change(size_t bytes, bool add)
{
    if (add)
        _sa_stat_add_peak(&_sa_gstats.active, &_sa_gstats.active_peak, bytes);
    else
        atomic_fetch_sub_explicit(&_sa_gstats.active, bytes, memory_order_relaxed);
}

/* A page of `bin` made `bytes` of blocks (extend), or gave them back (retire). */
void _sa_stat_active(size_t bin, size_t bytes, bool add)
{
    if (add)
        _sa_stat_add_peak(&_sa_gstats.class_active[bin], &_sa_gstats.class_active_peak[bin], bytes);
    else
        atomic_fetch_sub_explicit(&_sa_gstats.class_active[bin], bytes, memory_order_relaxed);
    active_change(bytes, add);
}

void _sa_stat_huge(size_t usable, bool add)
{
    if (add) {
        atomic_fetch_add_explicit(&_sa_os_stats.huge_blocks, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&_sa_huge_allocated, usable, memory_order_relaxed);
        _sa_stat_inc(&_sa_gstats.huge_mallocs);
    } else {
        atomic_fetch_sub_explicit(&_sa_os_stats.huge_blocks, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&_sa_huge_allocated, usable, memory_order_relaxed);
        _sa_stat_inc(&_sa_gstats.huge_frees);
    }
    active_change(usable, add);
}

void _sa_stat_huge_resize(size_t old_usable, size_t new_usable)
{
    atomic_fetch_add_explicit(&_sa_huge_allocated, new_usable, memory_order_relaxed);
    atomic_fetch_sub_explicit(&_sa_huge_allocated, old_usable, memory_order_relaxed);
    active_change(old_usable, false);
    active_change(new_usable, true);
}

/* ---- reading -------------------------------------------------------------------- */

static size_t load(_Atomic size_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Everything at once: totals, and classes[bin] for 1 <= bin <= SA_BIN_LARGE_MAX. */
static void stats_collect(sa_stats_t *s, sa_class_stats_t classes[SA_BIN_COUNT])
{
    memset(s, 0, sizeof *s);
    memset(classes, 0, SA_BIN_COUNT * sizeof *classes);
    _sa_heaps_stats(s, classes);
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        sa_class_stats_t *c = &classes[bin];
        c->remote_frees += load(&_sa_gstats.class_remote_no_heap[bin]);
        c->block_size = _sa_bin_size(bin);
        /* modulo 2^64 over heaps; a racy read can see a free before its malloc */
        size_t live = c->mallocs - c->frees - c->remote_frees;
        c->allocated = (ptrdiff_t)live > 0 ? live * c->block_size : 0;
        c->active = load(&_sa_gstats.class_active[bin]);
        c->active_peak = load(&_sa_gstats.class_active_peak[bin]);
        s->mallocs += c->mallocs;
        s->frees += c->frees + c->remote_frees;
        s->remote_frees += c->remote_frees;
        s->allocated += c->allocated;
    }
    s->mallocs += load(&_sa_gstats.huge_mallocs);
    s->frees += load(&_sa_gstats.huge_frees);
    s->allocated += load(&_sa_huge_allocated);
    s->active = load(&_sa_gstats.active);
    s->active_peak = load(&_sa_gstats.active_peak);
    s->mapped = load(&_sa_os_stats.mapped);
    s->mapped_peak = load(&_sa_gstats.mapped_peak);
    s->committed = load(&_sa_os_stats.committed);
    s->committed_peak = load(&_sa_gstats.committed_peak);
    s->segments = load(&_sa_os_stats.segments);
    s->segments_made = load(&_sa_gstats.segments_made);
    s->segments_abandoned = load(&_sa_gstats.segments_abandoned);
    s->segments_reclaimed = load(&_sa_gstats.segments_reclaimed);
    s->pages_made = load(&_sa_gstats.pages_made);
    s->pages_retired = load(&_sa_gstats.pages_retired);
    s->pages_abandoned = load(&_sa_gstats.pages_abandoned);
    s->pages_reclaimed = load(&_sa_gstats.pages_reclaimed);
    s->huge_blocks = load(&_sa_os_stats.huge_blocks);
    s->purged = load(&_sa_os_stats.purged);
    s->mmap_calls = load(&_sa_os_stats.mmap_calls);
    s->purge_delay_ms = (size_t)_sa_purge_delay_ms();
}

sa_public void sa_stats_get(sa_stats_t *out)
{
    sa_class_stats_t classes[SA_BIN_COUNT];
    if (out != NULL)
        stats_collect(out, classes);
}

sa_public bool sa_stats_class_get(size_t index, sa_class_stats_t *out)
{
    if (out == NULL || index >= SA_BIN_LARGE_MAX)
        return false;
    sa_stats_t s;
    sa_class_stats_t classes[SA_BIN_COUNT];
    stats_collect(&s, classes);
    *out = classes[index + 1];
    return true;
}

/* The calling thread's counts of SA_TRACE_STEP and SA_TRACE_RETRY (src/trace.h). */
sa_public size_t sa_thread_steps(size_t *retries)
{
    if (retries != NULL)
        *retries = (size_t)_sa_retries;
    return (size_t)_sa_steps;
}

/* ---- reports ---------------------------------------------------------------------- */

/* The fields of the reports, named once for text, JSON and XML. */
#define TOTAL(f) { #f, offsetof(sa_stats_t, f) }
static const struct field_s { const char *name; size_t offset; } total_fields[] = {
    TOTAL(allocated), TOTAL(active), TOTAL(active_peak), TOTAL(mallocs), TOTAL(frees),
    TOTAL(remote_frees), TOTAL(mapped), TOTAL(mapped_peak), TOTAL(committed),
    TOTAL(committed_peak), TOTAL(purged), TOTAL(mmap_calls), TOTAL(segments),
    TOTAL(segments_made), TOTAL(segments_abandoned), TOTAL(segments_reclaimed),
    TOTAL(pages_made), TOTAL(pages_retired), TOTAL(pages_abandoned), TOTAL(pages_reclaimed),
    TOTAL(huge_blocks), TOTAL(generic_calls), TOTAL(steps_max), TOTAL(purge_delay_ms),
};
#define CLASS(f) { #f, offsetof(sa_class_stats_t, f) }
static const struct field_s class_fields[] = {
    CLASS(mallocs), CLASS(frees), CLASS(remote_frees), CLASS(allocated), CLASS(active),
    CLASS(active_peak),
};
#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static size_t field(const void *record, const struct field_s *f)
{
    size_t v;
    memcpy(&v, (const char *)record + f->offset, sizeof v);
    return v;
}

/* Text produced a chunk at a time into a stack buffer, then to an fd, a
 * FILE, or a caller's buffer (cut to its length, the whole length counted). */
typedef struct out_s {
    char buf[512];
    size_t n;               /* bytes in buf */
    size_t total;           /* bytes produced */
    int fd;                 /* >= 0: write(2) here */
    FILE *fp;               /* else, if set: fwrite here */
    char *dst;              /* else: copy into dst[0 .. cap - 1) */
    size_t cap;
} out_t;

static void out_flush(out_t *o)
{
    if (o->fd >= 0) {
        _sa_write_fd(o->fd, o->buf, o->n);
    } else if (o->fp != NULL) {
        fwrite(o->buf, 1, o->n, o->fp);
    } else if (o->cap > 0) {
        size_t at = o->total - o->n;        /* where buf starts in the whole text */
        if (at < o->cap - 1) {
            size_t k = o->n < o->cap - 1 - at ? o->n : o->cap - 1 - at;
            memcpy(o->dst + at, o->buf, k);
        }
    }
    o->n = 0;
}

static void out_str(out_t *o, const char *s)
{
    for (; *s != '\0'; s++) {
        if (o->n == sizeof o->buf)
            out_flush(o);
        o->buf[o->n++] = *s;
        o->total++;
    }
}

static void out_u64(out_t *o, uint64_t v)
{
    char digits[24];
    size_t n = _sa_fmt_u64(digits, 0, sizeof digits - 1, v, false);
    digits[n] = '\0';
    out_str(o, digits);
}

static void out_prefix(out_t *o)
{
    char prefix[48];
    size_t n = _sa_fmt_pid_prefix(prefix, 0, sizeof prefix - 1);
    prefix[n] = '\0';
    out_str(o, prefix);
    out_str(o, "stats: ");
}

static void stats_text(out_t *o)
{
    sa_stats_t s;
    sa_class_stats_t classes[SA_BIN_COUNT];
    stats_collect(&s, classes);
    for (size_t i = 0; i < COUNT(total_fields); i++) {
        out_prefix(o);
        out_str(o, total_fields[i].name);
        out_str(o, " ");
        out_u64(o, field(&s, &total_fields[i]));
        out_str(o, "\n");
    }
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        if (classes[bin].mallocs == 0 && classes[bin].active == 0)
            continue;
        out_prefix(o);
        out_str(o, "class ");
        out_u64(o, classes[bin].block_size);
        out_str(o, ":");
        for (size_t i = 0; i < COUNT(class_fields); i++) {
            out_str(o, " ");
            out_str(o, class_fields[i].name);
            out_str(o, " ");
            out_u64(o, field(&classes[bin], &class_fields[i]));
        }
        out_str(o, "\n");
    }
    out_flush(o);
}

sa_public void sa_stats_print(FILE *fp)
{
    out_t o = { .fd = fp == NULL ? STDERR_FILENO : -1, .fp = fp };
    stats_text(&o);
    if (fp != NULL)
        fflush(fp);
}

/* SHARDALLOC_SHOW_STATS=1: at exit, to SHARDALLOC_STATS_FILE (appended:
 * several processes may share it) or else stderr. */
void _sa_stats_at_exit(void)
{
    char path[SA_STATS_FILE_MAX];
    bool to_file = _sa_option_stats_file(path, sizeof path);
    int fd = to_file ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (to_file && fd < 0)
        _sa_error_text(SA_ERROR_BAD_OPTION, "options", "cannot open SHARDALLOC_STATS_FILE", path, path);
    out_t o = { .fd = fd >= 0 ? fd : STDERR_FILENO };
    stats_text(&o);
    if (fd >= 0)
        close(fd);
}

static void json_fields(out_t *o, const void *record, const struct field_s *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out_str(o, i == 0 ? "\"" : ",\"");
        out_str(o, fields[i].name);
        out_str(o, "\":");
        out_u64(o, field(record, &fields[i]));
    }
}

sa_public size_t sa_stats_json(char *buf, size_t len)
{
    out_t o = { .fd = -1, .dst = buf, .cap = buf != NULL ? len : 0 };
    sa_stats_t s;
    sa_class_stats_t classes[SA_BIN_COUNT];
    stats_collect(&s, classes);
    out_str(&o, "{\"pid\":");
    out_u64(&o, (uint64_t)getpid());
    out_str(&o, ",");
    json_fields(&o, &s, total_fields, COUNT(total_fields));
    out_str(&o, ",\"classes\":[");
    bool first = true;
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        if (classes[bin].mallocs == 0 && classes[bin].active == 0)
            continue;
        out_str(&o, first ? "{\"block_size\":" : ",{\"block_size\":");
        out_u64(&o, classes[bin].block_size);
        out_str(&o, ",");
        json_fields(&o, &classes[bin], class_fields, COUNT(class_fields));
        out_str(&o, "}");
        first = false;
    }
    out_str(&o, "]}");
    out_flush(&o);
    if (o.cap > 0)
        buf[o.total < o.cap ? o.total : o.cap - 1] = '\0';
    return o.total;
}

static void xml_attr(out_t *o, const char *name, size_t value)
{
    out_str(o, " ");
    out_str(o, name);
    out_str(o, "=\"");
    out_u64(o, value);
    out_str(o, "\"");
}

/* glibc's malloc_info shape (one <heap>: shardalloc's are per thread but its
 * statistics are process-wide): <sizes> lists the blocks in use per size
 * class (glibc lists free chunks there), <system> is mapped memory, <aspace>
 * committed; every counter of sa_stats_t follows as <stat>. */
sa_public int sa_malloc_info(int options, FILE *fp)
{
    if (options != 0 || fp == NULL) {
        errno = EINVAL;
        return -1;
    }
    sa_stats_t s;
    sa_class_stats_t classes[SA_BIN_COUNT];
    stats_collect(&s, classes);
    out_t o = { .fd = -1, .fp = fp };
    out_str(&o, "<malloc version=\"1\" allocator=\"shardalloc\">\n<heap nr=\"0\">\n<sizes>\n");
    size_t from = 1;
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        sa_class_stats_t *c = &classes[bin];
        if (c->allocated != 0) {
            out_str(&o, "<size");
            xml_attr(&o, "from", from);
            xml_attr(&o, "to", c->block_size);
            xml_attr(&o, "total", c->allocated);
            xml_attr(&o, "count", c->allocated / c->block_size);
            out_str(&o, "/>\n");
        }
        from = c->block_size + 1;
    }
    out_str(&o, "</sizes>\n<total type=\"mmap\"");
    xml_attr(&o, "count", s.huge_blocks);
    xml_attr(&o, "size", load(&_sa_huge_allocated));
    out_str(&o, "/>\n<system type=\"current\"");
    xml_attr(&o, "size", s.mapped);
    out_str(&o, "/>\n<system type=\"max\"");
    xml_attr(&o, "size", s.mapped_peak);
    out_str(&o, "/>\n<aspace type=\"total\"");
    xml_attr(&o, "size", s.committed);
    out_str(&o, "/>\n<aspace type=\"mprotect\"");
    xml_attr(&o, "size", s.committed);
    out_str(&o, "/>\n</heap>\n");
    for (size_t i = 0; i < COUNT(total_fields); i++) {
        out_str(&o, "<stat name=\"");
        out_str(&o, total_fields[i].name);
        out_str(&o, "\"");
        xml_attr(&o, "value", field(&s, &total_fields[i]));
        out_str(&o, "/>\n");
    }
    out_str(&o, "</malloc>\n");
    out_flush(&o);
    fflush(fp);
    return 0;
}
