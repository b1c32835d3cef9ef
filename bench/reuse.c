/* bench/reuse.c -- libsareuse.so, preloaded in front of the allocator under
 * test (LD_PRELOAD="libsareuse.so <allocator>"): how soon the allocator
 * hands memory out again after the program freed it. A block the program
 * freed a few calls ago is most likely still in the CPU's caches (the
 * program read it before freeing it); one freed long ago has to come back
 * from memory when the program writes its new contents. Which of the two an
 * allocator hands out is a decision of its own, the same on every machine
 * and run (for one thread), unlike the time it costs, which the load of the
 * machine moves: this is what bench/run.py reports it for.
 *
 * Every call to malloc, calloc, realloc and free goes through here to the
 * next library's (the allocator's) and counts as one operation. A free
 * notes the operation number against the pointer; a later call that hands
 * out that same pointer counts the request's cache lines (its size / 64,
 * rounded up) as handed out again after (now - then) operations. At exit it
 * writes to the file named by SA_REUSE_OUT:
 *     allocator: <file of the library its calls went to>
 *     reuse_lines: <lines handed out in all>
 *     reuse_near_1k: <... of them freed at most 1024 operations before>
 *     reuse_near_64k: <... at most 65536 operations before>
 * The notes are a table of 2^22 entries indexed by a hash of the pointer; a
 * note that another pointer's overwrote counts its hand-out as memory not
 * freed before (at most a few percent on the workloads run: the table holds
 * far more entries than they leave freed and not yet handed out again).
 * Thread-safe (atomic counters), so threaded workloads run too; there the
 * interleaving of the threads, and so the figures, vary from run to run. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOTE_BITS   22
#define NEAR_SHORT  1024
#define NEAR_LONG   65536

typedef struct note_s {
    _Atomic uintptr_t ptr;      /* the pointer freed (0: none) */
    _Atomic uint64_t op;        /* the operation that freed it */
} note_t;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);

static note_t *notes;
static _Atomic uint64_t ops;
static _Atomic uint64_t lines_all, lines_near_short, lines_near_long;

/* dlsym may allocate (calloc) before the next library's functions are
 * known: served from here, never freed. */
static _Alignas(16) unsigned char early[4096];
static _Atomic size_t early_used;
static _Atomic int resolving;

static void *early_alloc(size_t n)
{
    size_t at = atomic_fetch_add(&early_used, (n + 15) & ~(size_t)15);
    return at + n <= sizeof early ? early + at : NULL;
}

static int is_early(const void *p)
{
    return (const unsigned char *)p >= early && (const unsigned char *)p < early + sizeof early;
}

static void resolve(void)
{
    if (next_free != NULL || atomic_exchange(&resolving, 1))
        return;
    next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    void *table = mmap(NULL, sizeof(note_t) << NOTE_BITS, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    notes = table == MAP_FAILED ? NULL : table;
    next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
}

static note_t *note_of(const void *p)
{
    return &notes[((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u >> (64 - NOTE_BITS)];
}

static void note_freed(void *p)
{
    if (p == NULL || notes == NULL)
        return;
    uint64_t now = atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed) + 1;
    note_t *n = note_of(p);
    atomic_store_explicit(&n->op, now, memory_order_relaxed);
    atomic_store_explicit(&n->ptr, (uintptr_t)p, memory_order_relaxed);
}

static void note_handed_out(void *p, size_t size)
{
    if (p == NULL || notes == NULL)
        return;
    uint64_t now = atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed) + 1;
    uint64_t lines = size == 0 ? 1 : (size + 63) / 64;
    note_t *n = note_of(p);
    atomic_fetch_add_explicit(&lines_all, lines, memory_order_relaxed);
    if (atomic_load_explicit(&n->ptr, memory_order_relaxed) != (uintptr_t)p)
        return;     /* not freed before (or its note overwritten) */
    uint64_t since = now - atomic_load_explicit(&n->op, memory_order_relaxed);
    atomic_store_explicit(&n->ptr, 0, memory_order_relaxed);
    if (since <= NEAR_LONG)
        atomic_fetch_add_explicit(&lines_near_long, lines, memory_order_relaxed);
    if (since <= NEAR_SHORT)
        atomic_fetch_add_explicit(&lines_near_short, lines, memory_order_relaxed);
}

void *malloc(size_t size)
{
    resolve();
    if (next_malloc == NULL)
        return early_alloc(size);
    void *p = next_malloc(size);
    note_handed_out(p, size);
    return p;
}

void *calloc(size_t count, size_t size)
{
    resolve();
    if (next_calloc == NULL)
        return early_alloc(count * size);   /* zero already: static storage */
    void *p = next_calloc(count, size);
    note_handed_out(p, count * size);
    return p;
}

void *realloc(void *old, size_t size)
{
    resolve();
    if (next_realloc == NULL || is_early(old))
        return NULL;    /* never asked for: dlsym only callocs */
    void *p = next_realloc(old, size);
    if (p != old) {
        if (old != NULL && (p != NULL || size == 0))
            note_freed(old);
        note_handed_out(p, size);
    }
    return p;
}

void free(void *p)
{
    if (p == NULL || is_early(p))
        return;
    resolve();
    if (next_free == NULL)
        return;     /* freed while another thread looks the allocator up: kept */
    note_freed(p);
    next_free(p);
}

/* "name: value\n" into buf at n (bounded), without the allocator. */
static size_t put(char *buf, size_t n, size_t cap, const char *name, const char *value)
{
    int w = snprintf(buf + n, cap - n, "%s: %s\n", name, value);
    return w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
}

__attribute__((destructor))
static void report(void)
{
    const char *path = getenv("SA_REUSE_OUT");
    if (path == NULL || next_malloc == NULL)
        return;
    Dl_info info;
    const char *lib = dladdr((void *)next_malloc, &info) != 0 && info.dli_fname != NULL ?
                      info.dli_fname : "?";
    static const struct { const char *name; _Atomic uint64_t *count; } counts[] = {
        { "reuse_lines", &lines_all },
        { "reuse_near_1k", &lines_near_short },
        { "reuse_near_64k", &lines_near_long },
    };
    char buf[1024], num[32];
    size_t n = put(buf, 0, sizeof buf, "allocator", lib);
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)atomic_load(counts[i].count));
        n = put(buf, n, sizeof buf, counts[i].name, num);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, buf, n);
    (void)w;
    close(fd);
}
