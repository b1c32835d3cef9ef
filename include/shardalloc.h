/* shardalloc.h -- the public API of shardalloc, a malloc with free list
 * sharding whose page state machine is proven by Z3 (see spec/ and docs/).
 *
 * Every function here behaves like its standard namesake (C11/POSIX/glibc):
 *   sa_malloc(0) returns a unique pointer; sa_free(NULL) does nothing;
 *   a size above PTRDIFF_MAX or an overflowing calloc/reallocarray product
 *   returns NULL with errno = ENOMEM; a bad alignment gives EINVAL
 *   (sa_posix_memalign returns it, the others return NULL with errno set);
 *   sa_realloc(p, 0) frees p and returns NULL, as glibc's realloc does.
 * A pointer shardalloc did not hand out (or already freed, where detectable)
 * is reported on stderr as "shardalloc: <call>(): <what> <pointer>" and
 * otherwise ignored: the heap is never corrupted by a caller's mistake
 * (see sa_register_error and SHARDALLOC_ABORT_ON_ERROR below).
 *
 * libshardalloc.so also exports malloc, free, calloc, realloc, ... so that
 * LD_PRELOAD=libshardalloc.so replaces the system allocator.
 */
#ifndef SHARDALLOC_H
#define SHARDALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The version of this header. The library's SONAME is libshardalloc.so.MAJOR:
 * MINOR grows with additions to this API, PATCH with fixes, MAJOR with any
 * change that could break a program built against an older header. */
#define SA_VERSION_MAJOR 0
#define SA_VERSION_MINOR 1
#define SA_VERSION_PATCH 0
#define SA_VERSION (SA_VERSION_MAJOR * 10000 + SA_VERSION_MINOR * 100 + SA_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library in use at run time, as SA_VERSION encodes it
 * (compare the two to catch a program run against another build). */
int    sa_version(void);

void  *sa_malloc(size_t size);
void  *sa_zalloc(size_t size);                     /* malloc, zero-filled */
void  *sa_calloc(size_t count, size_t size);
void  *sa_realloc(void *p, size_t size);
void  *sa_reallocarray(void *p, size_t count, size_t size);
void   sa_free(void *p);
size_t sa_usable_size(const void *p);              /* 0 for NULL or foreign */

void  *sa_aligned_alloc(size_t alignment, size_t size);
int    sa_posix_memalign(void **out, size_t alignment, size_t size);
void  *sa_memalign(size_t alignment, size_t size);
void  *sa_valloc(size_t size);
void  *sa_pvalloc(size_t size);

char  *sa_strdup(const char *s);
char  *sa_strndup(const char *s, size_t n);

/* The deferred-free hook (the paper's heartbeat): called from the generic
 * allocation path with the number of generic calls so far. It may free a
 * bounded amount of memory the program deferred; it counts as one step in
 * the proven malloc bound, so keep it short. NULL unregisters. */
typedef void (sa_deferred_free_fn)(bool force, unsigned long long heartbeat, void *arg);
void   sa_register_deferred_free(sa_deferred_free_fn *fn, void *arg);

/* Return what can be returned now: collect this thread's pages, retire empty
 * ones, purge retired memory and unmap empty segments (force: ignore delays). */
void   sa_collect(bool force);

/* Is p a block handed out by shardalloc and not yet freed (best effort: the
 * pointer is checked to be the start of a block in a live page)? */
bool   sa_owns(const void *p);

/* ---- first-class heaps -----------------------------------------------------
 * A heap of its own, apart from the thread's: only the thread that made it
 * allocates from it (sa_heap_malloc, _calloc, _realloc, _aligned_alloc),
 * asks sa_heap_usable_size, visits, destroys or deletes it; a call from any
 * other thread is reported as a misuse (SA_ERROR_WRONG_THREAD) and does
 * nothing (NULL, errno = EINVAL). Any thread may sa_free its blocks. */
typedef struct sa_heap_s sa_heap_t;
sa_heap_t *sa_heap_new(void);                      /* NULL, errno = ENOMEM */
void  *sa_heap_malloc(sa_heap_t *heap, size_t size);
void  *sa_heap_calloc(sa_heap_t *heap, size_t count, size_t size);
/* As sa_realloc: p (any live block) kept if it fits, else moved to a block of heap. */
void  *sa_heap_realloc(sa_heap_t *heap, void *p, size_t size);
void  *sa_heap_aligned_alloc(sa_heap_t *heap, size_t alignment, size_t size);
size_t sa_heap_usable_size(const sa_heap_t *heap, const void *p);  /* 0 unless p is heap's */
/* Frees every block of the heap at once, and the heap. */
void   sa_heap_destroy(sa_heap_t *heap);
/* Frees the heap; its live blocks stay valid, owned by the calling thread's
 * heap from then on. */
void   sa_heap_delete(sa_heap_t *heap);
/* Calls fn on every live block of the heap (its start and usable size),
 * until fn returns false; fn may free the block it is given, nothing else
 * of the heap. Returns whether every call returned true. */
typedef bool (sa_block_visit_fn)(const sa_heap_t *heap, void *block, size_t size, void *arg);
bool   sa_heap_visit_blocks(sa_heap_t *heap, sa_block_visit_fn *fn, void *arg);

/* ---- options -------------------------------------------------------------
 * Each option is read once at start from the environment variable
 * SHARDALLOC_<NAME> (an unknown SHARDALLOC_ variable or a malformed value is
 * reported on stderr, with the valid names) and may be changed from code. */
typedef enum sa_option_e {
    SA_OPTION_SHOW_STATS,       /* 1: print statistics at exit (default 0) */
    SA_OPTION_VERBOSE,          /* 1: print the options in effect at start (default 0) */
    SA_OPTION_PURGE,            /* SA_PURGE_DONTNEED (default) or SA_PURGE_FREE */
    SA_OPTION_PURGE_DELAY,      /* ms before unused memory is purged (default 10); -1: never */
    SA_OPTION_LIMIT,            /* most bytes mapped from the OS at once, 0: no limit (default);
                                   past it allocations fail with ENOMEM */
    SA_OPTION_ABORT_ON_ERROR,   /* 1: abort() after reporting a misuse (default 0: go on) */
    SA_OPTION__COUNT
} sa_option_t;
enum { SA_PURGE_DONTNEED = 0, SA_PURGE_FREE = 1 };  /* values of SA_OPTION_PURGE */
/* SHARDALLOC_STATS_FILE=<path> sends the statistics SHOW_STATS prints at
 * exit to <path> (appended) instead of stderr. */
long long sa_option_get(sa_option_t option);
int    sa_option_set(sa_option_t option, long long value);  /* 0, or EINVAL */
/* Any option by its name without SHARDALLOC_ and its value written as in
 * the environment: sa_option_set_text("STATS_FILE", "prog.stats"),
 * sa_option_set_text("PURGE_DELAY", "never"). 0, or EINVAL for an unknown
 * name or a malformed value (then nothing changes). sa_option_get_text
 * writes the value in effect as text (as VERBOSE prints it) into buf, cut
 * to size, and returns its whole length as snprintf does; -1 and errno =
 * EINVAL for an unknown name. */
int    sa_option_set_text(const char *name, const char *value);
int    sa_option_get_text(const char *name, char *buf, size_t size);

/* ---- errors ---------------------------------------------------------------
 * Every misuse shardalloc detects is reported on stderr as
 * "shardalloc: <call>(): <what> <pointer>"; then the registered callback runs
 * (inside the call that found the misuse: it must not free or allocate with
 * shardalloc); then, with SHARDALLOC_ABORT_ON_ERROR=1, the process aborts. */
typedef enum sa_error_kind_e {
    SA_ERROR_DOUBLE_FREE = 1,   /* free of a block already free */
    SA_ERROR_USE_AFTER_FREE,    /* realloc / usable_size of a block already free */
    SA_ERROR_FOREIGN_POINTER,   /* a pointer shardalloc did not hand out */
    SA_ERROR_CORRUPTION,        /* a free list found broken (racing double frees, stray writes) */
    SA_ERROR_BAD_OPTION,        /* an unknown SHARDALLOC_ variable or a malformed value
                                   (pointer: the environment entry, a string) */
    SA_ERROR_WRONG_THREAD,      /* a first-class heap used by a thread other than its owner */
} sa_error_kind_t;
typedef void (sa_error_fn)(sa_error_kind_t kind, const char *call, const void *p, void *arg);
void   sa_register_error(sa_error_fn *fn, void *arg);    /* NULL unregisters */

/* ---- statistics ------------------------------------------------------------ */

/* Statistics of the whole process, in bytes and counts. Counters are kept
 * per thread without atomics (the fast paths add one to memory) and summed
 * when read: exact once the threads that allocate are quiet, a recent
 * approximation while they run. "In use" counts blocks by their size class
 * (block size, not the size asked for). A peak is the highest value the
 * counter reached: mapped and committed are raised at each mapping or
 * commit; `active` (bytes of blocks made in pages in use, plus huge blocks)
 * is raised each time a page is extended, so active_peak bounds the peak of
 * `allocated` from above, to within the free blocks those pages held. */
typedef struct sa_stats_s {
    size_t mapped;          /* bytes currently mapped from the OS */
    size_t mapped_peak;
    size_t committed;       /* bytes the allocator may have touched, not given back: mapped,
                               neither purged nor never handed out */
    size_t committed_peak;
    size_t allocated;       /* bytes of blocks currently in use (handed out, not freed) */
    size_t active;          /* bytes of blocks made in pages in use, plus huge blocks */
    size_t active_peak;
    size_t mallocs;         /* blocks handed out so far (cumulative, huge included) */
    size_t frees;           /* blocks freed so far, remote frees included */
    size_t remote_frees;    /* ... of them, freed by a thread other than the page's owner */
    size_t segments;        /* live segments */
    size_t segments_made;   /* segments mapped so far (not reused from a cache) */
    size_t segments_abandoned;  /* segments left with live blocks by an exiting thread */
    size_t segments_reclaimed;  /* abandoned segments adopted by another thread */
    size_t pages_made;      /* pages initialised for a size class so far */
    size_t pages_retired;   /* emptied pages given back to their segment */
    size_t pages_abandoned;
    size_t pages_reclaimed;
    size_t huge_blocks;     /* live huge mappings */
    size_t purged;          /* bytes purged so far (cumulative) */
    size_t mmap_calls;      /* OS mapping calls so far (cumulative) */
    size_t generic_calls;   /* mallocs that took the generic path */
    size_t steps_max;       /* most steps one generic malloc took (the proven bound
                               B_MALLOC caps it; docs/verification.md) */
    size_t purge_delay_ms;  /* current purge delay: SHARDALLOC_PURGE_DELAY,
                               lengthened while purged memory is soon reused
                               (SIZE_MAX: never) */
} sa_stats_t;
void   sa_stats_get(sa_stats_t *out);

/* The calling thread's steps so far, in the unit of the proven bounds
 * (spec/bounds.smt2, docs/verification.md): loop iterations, OS calls and
 * deferred-free hook calls its malloc and free calls made (a fast-path call
 * makes none). A call's steps are the difference around it; *retries (NULL:
 * not asked) counts those of them that retried a CAS another thread's
 * successful CAS had made fail: the k of each bound's B + k. Counted in
 * every build, per thread, from its start. */
size_t sa_thread_steps(size_t *retries);

/* One size class: index 0 is the smallest; false past the last. */
typedef struct sa_class_stats_s {
    size_t block_size;
    size_t mallocs, frees, remote_frees;    /* as in sa_stats_t, this class only */
    size_t allocated, active, active_peak;  /* bytes */
} sa_class_stats_t;
bool   sa_stats_class_get(size_t index, sa_class_stats_t *out);

/* The statistics as text, one "shardalloc[<pid>]: stats: <name> <value>"
 * line per counter, then one line per size class used (NULL: stderr, written
 * without allocating). What SHARDALLOC_SHOW_STATS=1 prints at exit. */
void   sa_stats_print(FILE *out);
/* The same as one JSON object in buf (NUL-terminated, cut to len); returns
 * the length the whole text needs, as snprintf does. */
size_t sa_stats_json(char *buf, size_t len);
/* glibc's malloc_info: XML of shardalloc's statistics (options must be 0;
 * else EINVAL). libshardalloc.so exports it as malloc_info. */
int    sa_malloc_info(int options, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* SHARDALLOC_H */
