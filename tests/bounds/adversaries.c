/* tests/bounds/adversaries.c -- workloads built to drive each term of B_MALLOC
 * (spec/bounds.smt2) and each loop on the malloc path to its limit, through
 * the sa_* entry points only. Each ends with the one generic malloc it was
 * built for (the last operation of the run), and tests/bounds reads the most
 * steps per phase and iterations per loop the tracing build saw.
 *
 * They rely on how the allocator lays memory out (a page of a size class is
 * full after SA_SMALL_PAGE_SIZE / size blocks, a segment holds
 * SA_MAX_PAGES_PER_SEGMENT small pages, threads that exit abandon their
 * pages, exited threads' empty segments wait in the global cache), read off
 * the addresses they are handed where that matters, not assumed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shardalloc.h"
#include "config.h"
#include "adversaries.h"
#include "internal.h"     /* _sa_heap_give_up: RECLAIM's exits */

#define SMALL   64                              /* the size class under attack */
#define FILLER  (SA_SMALL_OBJ_SIZE_MAX / 2)     /* fills segments, a few per page */
#define AGER    (SA_MEDIUM_OBJ_SIZE_MAX)        /* generic calls in segments of their own */

typedef struct blocks_s {
    void **p;
    size_t n, cap;
} blocks_t;

static void blocks_add(blocks_t *b, void *p)
{
    if (p == NULL) {
        fprintf(stderr, "adversary: malloc failed\n");
        exit(2);
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->p = realloc(b->p, b->cap * sizeof *b->p);
        if (b->p == NULL)
            exit(2);
    }
    b->p[b->n++] = p;
}

static void blocks_free(blocks_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        sa_free(b->p[i]);
    free(b->p);
    *b = (blocks_t){ 0 };
}

static uintptr_t page_of(const void *p)
{
    return (uintptr_t)p >> SA_SMALL_PAGE_SHIFT;
}

static uintptr_t segment_of(const void *p)
{
    return (uintptr_t)p >> SA_SEGMENT_SHIFT;
}

/* Allocate `size` blocks until one lands on a page other than `page`: the
 * page is then full. The block on the next page is kept in *spill. */
static void fill_page(blocks_t *b, size_t size, uintptr_t page, void **spill)
{
    for (;;) {
        void *p = sa_malloc(size);
        if (p == NULL || page_of(p) != page) {
            *spill = p;
            return;
        }
        blocks_add(b, p);
    }
}

/* At least `calls` generic mallocs of a medium size class, whose pages live
 * in segments of their own: every AGER block that starts a new medium page
 * came from the generic path. The heap's clock (its generic-call count) so
 * moves past the retire delay of pages emptied before. Blocks stay live. */
static void age(blocks_t *keep, size_t calls)
{
    uintptr_t page = 0;
    for (size_t n = 0; n < calls;) {
        void *p = sa_malloc(AGER);
        blocks_add(keep, p);
        if ((uintptr_t)p >> SA_MEDIUM_PAGE_SHIFT != page) {
            page = (uintptr_t)p >> SA_MEDIUM_PAGE_SHIFT;
            n++;
        }
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The owner's frees go onto `free` itself (free.c free_lifo) until its heap
 * has made SA_LIFO_FREES_MAX of them since its last generic call, and onto
 * local_free after that. The adversaries that want their frees on
 * local_free (for the search to collect) start them from that state: any
 * thread reaches it by freeing a block and mallocing it back that many
 * times, which would put a page of its own into the layouts below; set here
 * instead, as the count would stand then. Its next generic call restores
 * the budget. */
static void lifo_budget_spent(void)
{
    _sa_heap_tls->lifo_left = -1;
}

/* ---- SEARCH: candidates that each have to be collected and retired ---------------- */

/* Exactly one page of SMALL blocks, on a page that is not the first of its
 * segment (that one is shorter: the segment header sits there), so that the
 * class's next malloc starts a new page. Exits if the layout is not that. */
static void one_full_page(blocks_t *b)
{
    enum { PER_PAGE = SA_SMALL_PAGE_SIZE / SMALL };
    size_t first = b->n;
    for (size_t i = 0; i < PER_PAGE; i++)
        blocks_add(b, sa_malloc(SMALL));
    if (page_of(b->p[first]) != page_of(b->p[b->n - 1])) {
        fprintf(stderr, "adversary: %d blocks of %d bytes are not one page\n", PER_PAGE, SMALL);
        exit(3);
    }
}

/* 2 S pages of SMALL blocks, each the only page in use of its own segment
 * (the rest of the segment filled with FILLER blocks, freed and retired),
 * then every SMALL block freed: 2 S empty pages in the size class's queue,
 * each of whose retirement empties a segment (released: a walk of its
 * SA_MAX_PAGES_PER_SEGMENT pages, and unmapped when the caches are full).
 * Aged past the retire delay (by generic calls of a medium class, whose
 * pages live in segments of their own), the next malloc of SMALL finds the
 * head page with `free` empty and searches: each candidate is collected and
 * retired, SA_PAGE_SEARCH_MAX of them. */
static void search_retires(void)
{
    enum { PAGES = 2 * SA_PAGE_SEARCH_MAX };
    blocks_t small = { 0 }, filler = { 0 }, keep = { 0 };
    blocks_add(&filler, sa_malloc(FILLER));     /* the first page of the first segment */
    for (size_t i = 0; i < PAGES; i++) {
        one_full_page(&small);
        uintptr_t seg = segment_of(small.p[small.n - 1]);
        /* FILLER blocks until one spills into the next segment, whose first
         * page it then holds */
        void *f;
        do {
            f = sa_malloc(FILLER);
            blocks_add(&filler, f);
        } while (segment_of(f) == seg);
    }
    blocks_free(&filler);
    age(&keep, 2 * SA_RETIRE_DELAY);
    sa_collect(false);      /* the aged filler pages retire */
    lifo_budget_spent();    /* the frees onto local_free: each candidate needs its collect */
    blocks_free(&small);
    age(&keep, 2 * SA_RETIRE_DELAY);
    void *p = sa_malloc(SMALL);     /* the search */
    sa_free(p);
    blocks_free(&keep);
}

/* 2 S full pages of SMALL blocks (in the full queue), then one block freed on
 * each: each goes back to the class's queue, behind the head page, with one
 * local free, fewer than enough (SA_REUSE_MIN_SHIFT). The head page used up,
 * the next malloc searches: it moves the head to the full queue and passes
 * over each page after it (to the back, uncollected) until the last one it
 * may look at, the SA_PAGE_SEARCH_MAX-th, which it uses. */
static void search_passes_over(void)
{
    enum { PAGES = 2 * SA_PAGE_SEARCH_MAX };
    blocks_t small = { 0 };
    void *one_of[PAGES + 1];
    size_t pages = 0;
    uintptr_t page = 0;
    while (pages < PAGES + 1) {     /* PAGES full pages, and a head page */
        void *p = sa_malloc(SMALL);
        blocks_add(&small, p);
        if (page_of(p) != page) {
            page = page_of(p);
            one_of[pages++] = p;
        }
    }
    for (size_t i = 0; i < PAGES; i++)
        sa_free(one_of[i]);
    uintptr_t head = page;
    void *p;
    do {
        p = sa_malloc(SMALL);   /* the last one: the search */
        blocks_add(&small, p);
    } while (page_of(p) == head);
    for (size_t i = 0; i + 1 < small.n; i++)      /* the last may be one of them again */
        for (size_t k = 0; k < PAGES; k++)
            if (small.p[i] == one_of[k])
                small.p[i] = NULL;  /* freed above */
    for (size_t i = 0; i < small.n; i++)
        if (small.p[i] != NULL)
            sa_free(small.p[i]);
    free(small.p);
}

/* ---- REMOTE: more reported pages than one call takes back ------------------------- */

typedef struct handoff_s {
    void **blocks;
    size_t n;
} handoff_t;

static void *free_all(void *arg)
{
    handoff_t *h = arg;
    for (size_t i = 0; i < h->n; i++)
        sa_free(h->blocks[i]);
    return NULL;
}

/* 3 R pages of SMALL blocks filled and moved to the full queue (watched);
 * another thread frees one block of each: each free reports its page on our
 * remote_pages. The next generic malloc takes back SA_REMOTE_PAGES_MAX. */
static void no_deferred_frees(bool force, unsigned long long beat, void *arg)
{
    (void)force;
    (void)beat;
    (void)arg;
}

static void remote_reports(void)
{
    enum { PAGES = 3 * SA_REMOTE_PAGES_MAX };
    blocks_t small = { 0 };
    void *firsts[PAGES];
    void *spill = sa_malloc(SMALL);
    for (size_t i = 0; i < PAGES; i++) {
        firsts[i] = spill;
        fill_page(&small, SMALL, page_of(spill), &spill);
    }
    /* the malloc that made `spill` found the last page full: it is watched
     * like the others */
    handoff_t h = { firsts, PAGES };
    pthread_t t;
    pthread_create(&t, NULL, free_all, &h);
    pthread_join(t, NULL);
    /* spill's page is the head: empty it of its free blocks first */
    blocks_t rest = { 0 };
    blocks_add(&rest, spill);
    sa_register_deferred_free(no_deferred_frees, NULL);    /* the heartbeat's step */
    fill_page(&rest, SMALL, page_of(spill), &spill);
    blocks_add(&rest, spill);
    sa_register_deferred_free(NULL, NULL);
    blocks_free(&rest);
    blocks_free(&small);
}

/* ---- RECLAIM: abandoned segments with every page in use --------------------------- */

static void *leave_full_segment(void *arg)
{
    (void)arg;
    /* SMALL blocks until a whole segment is in use; the thread exits with
     * them live: its segments are abandoned */
    void *p = sa_malloc(SMALL);
    uintptr_t seg = segment_of(p);
    while (p != NULL && segment_of(p) == seg)
        p = sa_malloc(SMALL);
    /* The exit as when SA_HEAP_STOCK_MAX heaps are stocked already (the
     * exit hook's give-up path): abandoned, not stocked for the next thread,
     * which would then own the segments instead of adopting them. */
    _sa_heap_give_up(_sa_heap_tls);
    _sa_thread_register(NULL);
    return NULL;
}

static void *first_malloc(void *arg)
{
    (void)arg;
    void *p = sa_malloc(SMALL);     /* a new heap: adopts abandoned segments */
    sa_free(p);
    return NULL;
}

/* 2 T threads each leave a segment whose every page holds live blocks;
 * then a new thread's first malloc has no segment of its own and adopts. */
static void reclaim_full(void)
{
    for (size_t i = 0; i < 2 * SA_RECLAIM_TRIES; i++) {
        pthread_t t;
        pthread_create(&t, NULL, leave_full_segment, NULL);
        pthread_join(t, NULL);
    }
    pthread_t t;
    pthread_create(&t, NULL, first_malloc, NULL);
    pthread_join(t, NULL);
}

/* ---- FRESH: a page from a cached segment of another kind -------------------------- */

static void *medium_and_exit(void *arg)
{
    (void)arg;
    blocks_t b = { 0 };
    for (size_t i = 0; i < 16; i++)
        blocks_add(&b, sa_malloc(SA_MEDIUM_OBJ_SIZE_MAX / 2));
    blocks_free(&b);
    return NULL;    /* its empty segment goes to the global cache */
}

static void *fresh_small(void *arg)
{
    (void)arg;
    void *p = sa_malloc(SA_MIN_ALIGN);  /* extends SA_MAX_EXTEND_SIZE / 16 blocks */
    sa_free(p);
    return NULL;
}

/* A thread leaves an empty segment of medium pages in the global cache; a new
 * thread's first malloc of the smallest class takes it, re-carves it into
 * small pages, queues its pages for purging, and extends a fresh page. */
static void fresh_recarve(void)
{
    pthread_t t;
    pthread_create(&t, NULL, medium_and_exit, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, fresh_small, NULL);
    pthread_join(t, NULL);
}

/* ---- HOUSEKEEPING: full caches and a full purge batch ----------------------------- */

/* FILLER blocks over SA_SEGMENT_CACHE_MAX + SA_SEGMENT_CACHE_GLOBAL_MAX + 1
 * whole small segments and 2 SA_PURGE_BATCH_MAX pages of one more, all freed
 * but the last block. Aged and collected, their pages retire: the whole
 * segments are released (the heap's cache filled, then the global cache,
 * the last one unmapped), the pages of the last segment wait on the heap's
 * purge list. Past the purge delay, one generic malloc's housekeeping purges
 * a full batch of pages and a full batch of cached segments (a walk of each
 * one's pages and an OS call), walking both caches. */
static void housekeeping_full(void)
{
    enum { WHOLE = SA_SEGMENT_CACHE_MAX + SA_SEGMENT_CACHE_GLOBAL_MAX + 1,
           EXTRA_PAGES = 2 * SA_PURGE_BATCH_MAX };
    blocks_t b = { 0 }, keep = { 0 };
    void *p = sa_malloc(FILLER);
    blocks_add(&b, p);
    uintptr_t seg = segment_of(p), page = page_of(p);
    size_t segments = 1, pages = 0;
    while (segments <= WHOLE || pages < EXTRA_PAGES) {
        p = sa_malloc(FILLER);
        blocks_add(&b, p);
        if (segment_of(p) != seg) {
            seg = segment_of(p);
            segments++;
        }
        if (segments > WHOLE && page_of(p) != page)
            pages++;
        page = page_of(p);
    }
    b.n--;                  /* the last block stays: its segment stays in use */
    blocks_free(&b);
    age(&keep, 2 * SA_RETIRE_DELAY);
    sa_collect(false);      /* the aged pages retire, the segments are released */
    sleep_ms(3 * ADVERSARY_PURGE_DELAY_MS);
    void *q = sa_malloc(SMALL + SA_MIN_ALIGN);  /* a class of its own: a generic call */
    sa_free(q);
    blocks_free(&keep);
}

/* ---- HOUSEKEEPING: more emptied size classes than one sweep visits -------------- */

/* 2 RS size classes of their own (above SMALL and FILLER's, below
 * AGER's), one block each, freed: each class's only page empties, all
 * expiring at the same generic call. Aged past the delay, the generic
 * call at which they expire runs the retire sweep with 2 RS classes
 * marked: it visits SA_RETIRE_SCAN_MAX of them. */
static void sweep_classes(void)
{
    enum { CLASSES = 2 * SA_RETIRE_SCAN_MAX };
    void *p[CLASSES];
    blocks_t keep = { 0 };
    for (size_t i = 0; i < CLASSES; i++) {
        p[i] = sa_malloc(FILLER + 1024 * (i + 1));
        if (p[i] == NULL)
            exit(2);
    }
    for (size_t i = 0; i < CLASSES; i++)
        sa_free(p[i]);
    age(&keep, 2 * SA_RETIRE_DELAY);
    void *q = sa_malloc(SMALL + 2 * SA_MIN_ALIGN);  /* a class of its own: a generic call */
    sa_free(q);
    blocks_free(&keep);
}

/* ---- FRESH: a large page's retires of the heap's emptied large pages ------------- */

#define LARGEST SA_LARGE_OBJ_SIZE_MAX   /* one a segment: two do not fit */

/* n blocks of LARGEST, each alone in a segment, onto b. */
static void add_largest(blocks_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        blocks_add(b, sa_malloc(LARGEST));
}

static void *fill_global_cache(void *arg)
{
    (void)arg;
    blocks_t b = { 0 };
    add_largest(&b, SA_SEGMENT_CACHE_GLOBAL_MAX + SA_SEGMENT_CACHE_MAX);
    blocks_free(&b);
    return NULL;    /* its empty segments fill the global cache */
}

/* SA_LARGE_EMPTIED_MAX + 1 blocks of the largest large class, each alone in
 * a segment, are freed when both segment caches are full: free only notes
 * their pages, the first pushed out by the last. Then a malloc of the class
 * below (its queue has no page: the search finds none) retires them all
 * before it looks for a span, each retire releasing its segment past the
 * full caches (the release's walk of its units and the unmap's, and an OS
 * call), and takes a segment from the heap's cache, re-carved. The heap's
 * cache is filled by as many pages of the class, freed, aged and collected
 * (and one more: the agers' medium segment may take one); the global cache
 * by a thread's segments left at its exit. */
static void large_retires(void)
{
    blocks_t emptied = { 0 }, fill = { 0 }, keep = { 0 };
    add_largest(&emptied, SA_LARGE_EMPTIED_MAX + 1);
    add_largest(&fill, SA_SEGMENT_CACHE_MAX + 1);   /* one for the agers */
    blocks_free(&fill);
    age(&keep, SA_RETIRE_DELAY_LARGE + SA_SEGMENT_CACHE_MAX);
    sa_collect(false);      /* the aged pages retire, their segments fill the heap's cache */
    pthread_t t;
    pthread_create(&t, NULL, fill_global_cache, NULL);
    pthread_join(t, NULL);
    if (_sa_heap_tls->cache.count != SA_SEGMENT_CACHE_MAX ||
        _sa_global_cache_count != SA_SEGMENT_CACHE_GLOBAL_MAX) {
        fprintf(stderr, "adversary: segment caches hold %zu and %zu, not full\n",
                (size_t)_sa_heap_tls->cache.count, (size_t)_sa_global_cache_count);
        exit(3);
    }
    blocks_free(&emptied);
    void *last = sa_malloc(_sa_bin_size(_sa_bin(LARGEST) - 1));
    if (last == NULL)
        exit(2);
    sa_free(last);
    blocks_free(&keep);
}

/* ---- B_FREE_LOCAL_PRESSURE: an owner's free that retires a page and unmaps -------- */

/* Blocks of FILLER in two segments of small pages, the second holding one
 * block. A request the OS refuses raises the memory pressure; then every
 * block of the first segment is freed (each page retires at once, the
 * emptied segment goes to the heap's cache, which keeps one under
 * pressure), and the last block: its free retires its page, walks the
 * segment's pages to release it and again to unmap it (the cache is full),
 * and calls the OS. */
static void free_under_pressure(void)
{
    blocks_t first = { 0 };
    void *p = sa_malloc(FILLER);
    if (p == NULL)
        exit(2);
    uintptr_t seg = segment_of(p);
    while (segment_of(p) == seg) {
        blocks_add(&first, p);
        p = sa_malloc(FILLER);
        if (p == NULL)
            exit(2);
    }
    /* Refused as in a real shortage (SHARDALLOC_LIMIT below what is mapped,
     * a request what is mapped could hold): the pressure. */
    if (sa_option_set(SA_OPTION_LIMIT, 1) != 0 || sa_malloc(SA_LARGE_OBJ_SIZE_MAX / 2) != NULL ||
        sa_option_set(SA_OPTION_LIMIT, 0) != 0)
        exit(3);
    blocks_free(&first);
    sa_free(p);
}

/* ---- SEARCH: free_order's pass over a page of SA_ORDER_BLOCKS_MAX blocks ---------- */

/* A page of `size` blocks, full and not the head of its queue, has all its
 * blocks but the lowest freed by the owner, in an order that leaves
 * local_free (the last freed first) in address order but for its last
 * three blocks, which make two breaks; then malloc until a block comes
 * from it: the generic call that collects it, finds it half free (and
 * more), and orders its `free`: free_order_walk walks all capacity - 1
 * blocks to find the second break, then the pass (capacity + capacity - 1
 * steps). 16-byte blocks (4096 a page) are past SA_ORDER_BLOCKS_MAX: not
 * ordered, unless the cap is gone (tests/bounds/mutants/order_uncapped.patch). */
static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static void order_page(size_t size)
{
    size_t per_page = SA_SMALL_PAGE_SIZE / size;
    blocks_t b = { 0 };
    for (size_t i = 0; i < 3 * per_page; i++)
        blocks_add(&b, sa_malloc(size));
    /* a page all of whose blocks are ours, not the last one's (the head) */
    uintptr_t page = 0;
    for (size_t i = 0, run = 0; i < b.n && page == 0; i++) {
        run = i > 0 && page_of(b.p[i]) == page_of(b.p[i - 1]) ? run + 1 : 1;
        if (run == per_page && page_of(b.p[i]) != page_of(b.p[b.n - 1]))
            page = page_of(b.p[i]);
    }
    if (page == 0) {
        fprintf(stderr, "adversary: no full page of %zu-byte blocks\n", size);
        exit(3);
    }
    blocks_t mine = { 0 };
    for (size_t i = 0; i < b.n; i++)
        if (page_of(b.p[i]) == page)
            blocks_add(&mine, b.p[i]);
    qsort(mine.p, mine.n, sizeof *mine.p, by_address);
    /* local_free then runs 4, 5, .. n - 1, 2, 3, 1: mine.p[0] stays (used != 0) */
    lifo_budget_spent();
    sa_free(mine.p[1]);
    sa_free(mine.p[3]);
    sa_free(mine.p[2]);
    for (size_t i = mine.n - 1; i >= 4; i--)
        sa_free(mine.p[i]);
    for (size_t i = 0;; i++) {
        void *p = sa_malloc(size);
        blocks_add(&b, p);
        if (page_of(p) == page)
            break;
        if (i > per_page) {
            fprintf(stderr, "adversary: the page of %zu-byte blocks was not used again\n", size);
            exit(3);
        }
    }
}

static void order_pass(void)
{
    order_page(SA_MIN_ALIGN);
    order_page(SA_SMALL_PAGE_SIZE / SA_ORDER_BLOCKS_MAX);
}

const adversary_t adversaries[] = {
    { "search_retires", "2S empty pages, each alone in a segment, aged: the search retires S", search_retires },
    { "search_passes_over", "2S pages with one local free each behind a used-up head: the search passes "
      "over S - 1", search_passes_over },
    { "remote_reports", "3R watched pages reported by another thread's frees", remote_reports },
    { "reclaim_full", "2T abandoned segments with every page in use, adopted by a new thread", reclaim_full },
    { "fresh_recarve", "a new thread's first page from a cached segment of another kind", fresh_recarve },
    { "large_retires", "the heap's emptied large pages, each alone in a segment, retired by a large malloc",
      large_retires },
    { "housekeeping_full", "both segment caches full and a page batch, purged at once", housekeeping_full },
    { "sweep_classes", "2RS size classes emptied together, aged: the sweep visits RS", sweep_classes },
    { "free_under_pressure", "under memory pressure, the last block of a segment freed with the cache full",
      free_under_pressure },
    { "order_pass", "a page of SA_ORDER_BLOCKS_MAX blocks all but one freed: the search's collect orders it",
      order_pass },
};
const size_t adversary_count = sizeof adversaries / sizeof *adversaries;
