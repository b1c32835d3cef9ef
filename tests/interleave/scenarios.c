/* tests/interleave/scenarios.c -- small scenarios on the real allocator
 * whose every interleaving the model checker explores (sched.h).
 *
 * Every scenario starts from one full page P of SIZE-byte blocks, all of them
 * handed out to thread 0 (its owner): SIZE is the largest small size class,
 * so P holds a handful of blocks and each extend makes one. Threads then free
 * and allocate through the public entry points (sa_malloc, sa_free) and exit
 * through the allocator's own thread-exit path (_sa_heap_done, what its
 * pthread key destructor calls).
 *
 * After every complete run, once every thread is done, the notifications in
 * flight are delivered (drain: pages reported to dead heaps or waiting to be
 * forwarded go to their owners, thread 0 takes its remote_pages); then
 * (check_blocks):
 *   - no page is still QUEUED: no notification was dropped, so no full page
 *     with remote frees is forgotten;
 *   - no pointer is held twice: no block was handed out twice;
 *   - no held block is on a page no longer in use (retired: freed under
 *     the program);
 *   - every live thread's remote cache (src/free.c remote_cache_keep)
 *     lists as many blocks as its count says, each carrying its canary;
 *   - on every page the run touched, the lists walk cleanly (inside the
 *     page, on block starts, acyclic, no block on two lists), and every
 *     made block is in exactly one place: on a list of its page, held by
 *     the program, or kept in the remote cache of a thread that has not
 *     exited (a block it freed, LIVE to its page: handed out again by that
 *     thread's malloc or given back by its exit) -- unless the scenario
 *     lets a block leak, or be in two places after a double free;
 * and the explorer (main.c) checks each page's final state against the
 * spec's `inv` and the run's transitions against the spec's transitions.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "scenarios.h"
#include "internal.h"

#define SIZE    SA_SMALL_OBJ_SIZE_MAX
#define HELD_MAX 64

/* ---- what the program holds ---------------------------------------------------------- */

static void *held[HELD_MAX];        /* pointers handed out and not freed */
static unsigned nheld;
static void *block0[SA_MAX_BLOCKS_PER_PAGE];   /* P's blocks, by index */
static unsigned reserved;
static sa_page_t *page_p;
static bool reused0;                /* block0[0] was handed out again in the run */
static unsigned reports[SA_ERROR_BAD_OPTION + 1];  /* the run's reports, by kind */

static void count_report(sa_error_kind_t kind, const char *call, const void *p, void *arg)
{
    (void)call, (void)p, (void)arg;
    if ((unsigned)kind <= SA_ERROR_BAD_OPTION)
        reports[kind]++;
}
static mc_scenario_t *current;

static void hold(void *p)
{
    if (p != NULL && nheld < HELD_MAX)
        held[nheld++] = p;
}

static void drop(void *p)
{
    for (unsigned i = 0; i < nheld; i++)
        if (held[i] == p) {
            held[i] = held[--nheld];
            return;
        }
}

static sa_page_t *page_of(const void *p)
{
    return _sa_page_of(_sa_segment_of_ptr(p), p);
}

/* Free p as the program does: it is no longer held once free is called.
 * sa_free begins by reading the block's canary (a plain field: the one
 * access by which two racing frees of one block meet before their atomic
 * operations), so that read is a point of its own here. */
static void program_free(void *p)
{
    drop(p);
    _sa_mc_point(SA_MC_LOAD, &((sa_block_t *)p)->canary, "sa_free", "read canary");
    sa_free(p);
}

static void *program_malloc(void)
{
    void *p = sa_malloc(SIZE);
    hold(p);
    if (p == block0[0])
        reused0 = true;
    return p;
}

/* Thread 0 (P's owner) fills P: every block of it handed out. */
static void fill_page(void)
{
    nheld = 0;
    void *first = sa_malloc(SIZE);
    page_p = page_of(first);
    reserved = page_p->reserved;
    block0[0] = first;
    hold(first);
    for (unsigned i = 1; i < reserved; i++) {
        block0[i] = program_malloc();
        if (page_of(block0[i]) != page_p) {
            fprintf(stderr, "interleave: setup: block %u is not on the first page\n", i);
            abort();
        }
    }
    reused0 = false;
    sa_register_error(count_report, NULL);
}

/* The thread exits as when SA_HEAP_STOCK_MAX heaps are stocked already (the
 * exit hook's give-up path, run in the scenario): its heap collected, what
 * is empty retired, the rest abandoned. */
static void thread_exit(void)
{
    _sa_heap_give_up(_sa_heap_tls);
    _sa_thread_register(NULL);
}

/* The thread exits through the exit hook itself (src/heap.c _sa_heap_done):
 * with room in the stock, its heap is stocked whole for the next thread. */
static sa_heap_t *stocked_heap;     /* the heap it left, or NULL */

static void thread_exit_stocking(void)
{
    stocked_heap = _sa_heap_tls;
    _sa_heap_done(_sa_heap_tls);
    _sa_thread_register(NULL);
}

/* ---- the checks after a run ---------------------------------------------------------- */

static bool listed_on(const sa_trace_snap_t *s, const uint32_t *idx, uint32_t b)
{
    uint32_t total = s->n[0] + s->n[1] + s->n[2] + s->n[3];
    for (uint32_t k = 0; k < total; k++)
        if (idx[k] == b)
            return true;
    return false;
}

static unsigned count_in(void *const *set, unsigned n, const void *p)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        k += set[i] == p;
    return k;
}

/* ---- what the live threads' remote caches keep ------------------------------------- */

static void *cached[HELD_MAX];      /* blocks kept in remote caches, after a run */
static unsigned cached_by[HELD_MAX];    /* the thread whose cache keeps each */
static unsigned ncached;

/* Gathers the blocks kept in the remote cache of every thread that has not
 * exited (an exited thread's heap is no longer its _sa_heap_tls, and its
 * cache was given back: the blocks it kept are on their pages' lists by
 * now, or lost). Each class's cache lists capacity - used blocks (its count,
 * as a page's), each with its canary set (it was claimed). */
static const char *gather_cached(void)
{
    static char why[256];
    ncached = 0;
    for (unsigned t = 0; t < current->threads; t++) {
        sa_heap_t *heap = mc_thread_heap[t];
        if (heap == NULL || heap == &_sa_heap_empty || !heap->alive)
            continue;
        for (size_t bin = 0; bin < SA_BIN_COUNT; bin++) {
            const sa_page_t *cache = &heap->rcache[bin];
            uint32_t n = 0;
            for (sa_block_t *b = cache->free; b != NULL; b = b->next) {
                if (++n > cache->capacity || ncached == HELD_MAX) {
                    snprintf(why, sizeof why, "thread %u's remote cache of bin %zu lists more "
                             "blocks than it has room for (a cycle?)", t, bin);
                    return why;
                }
                if (b->canary != _sa_block_canary(b)) {
                    snprintf(why, sizeof why, "block %p is kept in thread %u's remote cache "
                             "without its canary: a second free would not be seen", (void *)b, t);
                    return why;
                }
                cached_by[ncached] = t;
                cached[ncached++] = b;
            }
            if (n != cache->capacity - cache->used) {
                snprintf(why, sizeof why, "thread %u's remote cache of bin %zu lists %u blocks, "
                         "its count says %u", t, bin, n, cache->capacity - cache->used);
                return why;
            }
        }
    }
    return NULL;
}

/* The thread whose remote cache keeps p (after gather_cached). */
static unsigned cached_where(const void *p)
{
    for (unsigned i = 0; i < ncached; i++)
        if (cached[i] == p)
            return cached_by[i];
    return 0;
}

/* Every block in exactly one place (on a list, held, or kept in a live
 * thread's remote cache), but `exempt` (NULL: none), which may be nowhere
 * (counted in *leaked_out: a caller's double free dropped by collect), or,
 * if exempt_twice, in two places: it was handed out again before the second
 * free took effect, which then freed the new holder's block, so the program
 * still holds it while it is on a list, kept, or handed out once more.
 * Fills current->pages. */
static const char *check_blocks(const void *exempt, bool exempt_twice, unsigned *leaked_out)
{
    static char why[512];
    const char *caches = gather_cached();
    if (caches)
        return caches;
    for (unsigned i = 0; i < nheld; i++) {
        unsigned n = count_in(held, nheld, held[i]);
        if (n > 1 && !(exempt_twice && held[i] == exempt && n == 2)) {
            snprintf(why, sizeof why, "block %p handed out twice", held[i]);
            return why;
        }
    }
    for (unsigned i = 0; i < nheld; i++)
        if (held[i] != exempt && !page_of(held[i])->in_use) {
            snprintf(why, sizeof why, "block %p is held by the program on a page no longer in "
                     "use: it was freed under the program", held[i]);
            return why;
        }
    for (unsigned i = 0; i < ncached; i++)
        if (count_in(cached, ncached, cached[i]) > 1) {
            snprintf(why, sizeof why, "block %p kept twice in remote caches", cached[i]);
            return why;
        }
    /* the pages: P and every page a held or kept block is on */
    sa_page_t *pages[MC_PAGES_MAX];
    unsigned np = 0;
    pages[np++] = page_p;
    for (unsigned i = 0; i < nheld + ncached; i++) {
        sa_page_t *pg = page_of(i < nheld ? held[i] : cached[i - nheld]);
        bool known = false;
        for (unsigned k = 0; k < np; k++)
            known |= pages[k] == pg;
        if (!known && np < MC_PAGES_MAX)
            pages[np++] = pg;
    }
    current->npages = 0;
    unsigned leaked = 0;
    static unsigned char snap[sizeof(sa_trace_snap_t) + (SA_MAX_BLOCKS_PER_PAGE + 1) * 4];
    for (unsigned k = 0; k < np; k++) {
        sa_page_t *pg = pages[k];
        if (!pg->in_use || pg->block_size == 0)
            continue;
        current->pages[current->npages++] = pg;
        _sa_trace_snapshot(pg, snap);
        sa_trace_snap_t s;
        memcpy(&s, snap, sizeof s);
        const uint32_t *idx = (const uint32_t *)(snap + sizeof s);
        if (s.bad) {
            snprintf(why, sizeof why, "page %p: walking its lists failed (bad %#x)", (void *)pg,
                     s.bad);
            return why;
        }
        if (s.notify == SA_NOTIFY_QUEUED) {
            snprintf(why, sizeof why, "page %p is QUEUED after every notification in flight was "
                     "delivered: a notification was dropped (its remote frees wait forever)",
                     (void *)pg);
            return why;
        }
        for (uint32_t b = 0; b < s.capacity; b++) {
            void *p = pg->start + (size_t)b * pg->block_size;
            bool on_list = listed_on(&s, idx, b);
            unsigned program = count_in(held, nheld, p), kept = count_in(cached, ncached, p);
            unsigned places = on_list + program + kept;
            if (places <= (p == exempt ? 1u + exempt_twice : 1u)) {
                if (places == 0) {
                    if (p != exempt) {
                        snprintf(why, sizeof why, "block %p (index %u of page %p) is on no "
                                 "list, held by nobody and kept in no remote cache: lost",
                                 p, b, (void *)pg);
                        return why;
                    }
                    leaked++;
                }
                continue;
            }
            if (on_list && program)
                snprintf(why, sizeof why, "block %p is held by the program and on a list of "
                         "its page: it would be handed out twice", p);
            else if (on_list)
                snprintf(why, sizeof why, "block %p is kept in thread %u's remote cache and on "
                         "a list of its page: it would be handed out twice", p, cached_where(p));
            else
                snprintf(why, sizeof why, "block %p is held by the program and kept in thread "
                         "%u's remote cache: it would be handed out twice", p, cached_where(p));
            return why;
        }
    }
    if (leaked_out)
        *leaked_out = leaked;
    return NULL;
}

/* Deliver what is in flight (single-threaded, after the run): every live
 * heap takes its remote_pages (a page not its own goes on the pending
 * stack), then pages reported to dead heaps or pending go to their owners
 * (pushed on a live owner's stack, or QUEUED cleared if abandoned), and
 * again, for what that pushed. */
static void drain(void)
{
    for (int round = 0;; round++) {
        for (unsigned t = 0; t < current->threads; t++) {
            sa_heap_t *heap = mc_thread_heap[t];
            if (heap != NULL && heap != &_sa_heap_empty && heap->alive)
                _sa_heap_take_remote_pages(heap, SIZE_MAX);
        }
        /* A heap still stocked is a live heap whose thread sleeps: its
         * stack is its heir's to take, as here. */
        if (stocked_heap != NULL && atomic_load(&stocked_heap->stocked_at) != 0)
            _sa_heap_take_remote_pages(stocked_heap, SIZE_MAX);
        if (round == 2)
            break;
        _sa_segments_forward_dead();
    }
}

/* Where P ended, for the tally of outcomes. */
static void outcome_of_p(void)
{
    static char label[64];
    sa_heap_t *owner = atomic_load_explicit(&page_p->heap, memory_order_relaxed);
    if (!page_p->in_use) {
        mc_outcome("P retired");
        return;
    }
    if (owner == NULL) {
        mc_outcome("P abandoned");
        return;
    }
    for (unsigned t = 0; t < current->threads; t++)
        if (mc_thread_heap[t] == owner) {
            snprintf(label, sizeof label, "P owned by thread %u%s", t,
                     page_p->in_full ? ", in its full queue" : "");
            mc_outcome(label);
            return;
        }
    mc_outcome("P owned by a heap no thread of the run holds");
}

/* Before the drain: every page on a live heap's remote_pages stack (or the
 * part of it the owner took, remote_local) is QUEUED, and on it once: a
 * page with notify NONE or WATCH may be pushed again, which would link it
 * into the stack twice. (The pending-forward stack is not looked at here.) */
static const char *check_stacks(void)
{
    static char why[256];
    for (unsigned t = 0; t < current->threads; t++) {
        sa_heap_t *heap = mc_thread_heap[t];
        if (heap == NULL || heap == &_sa_heap_empty || !heap->alive)
            continue;
        sa_page_t *lists[2] = { heap->remote_local,
                                atomic_load_explicit(&heap->remote_pages, memory_order_relaxed) };
        unsigned n = 0;
        for (int l = 0; l < 2; l++)
            for (sa_page_t *pg = lists[l]; pg != NULL; pg = pg->remote_next) {
                if (++n > 64) {
                    snprintf(why, sizeof why, "thread %u's remote_pages stack loops: a page "
                             "was pushed while already on it", t);
                    return why;
                }
                if (_sa_page_notify(pg) != SA_NOTIFY_QUEUED) {
                    snprintf(why, sizeof why, "page %p is on thread %u's remote_pages stack "
                             "but not QUEUED: a second push would link it in twice", (void *)pg, t);
                    return why;
                }
            }
    }
    return NULL;
}

/* The stacks, then what is in flight delivered, then every block. */
static const char *check_delivered(void)
{
    const char *stacks = check_stacks();
    if (stacks)
        return stacks;
    drain();
    return check_blocks(NULL, false, NULL);
}

static const char *check_plain(void)
{
    const char *why = check_delivered();
    if (why == NULL)
        outcome_of_p();
    return why;
}

/* ---- remote frees while the owner collects P and moves it to full ------------- */

static void setup_full(void)
{
    fill_page();
}
static void owner_malloc(void)
{
    program_malloc();               /* collect P, or P to full and a fresh page */
}
static void owner_malloc_twice_free(void)
{
    void *p = program_malloc();     /* collect P, or P to full and a fresh page */
    program_malloc();               /* takes P back if a remote free queued it */
    program_free(p);
}
static void free0(void) { program_free(block0[0]); }
static void free1(void) { program_free(block0[1]); }

/* ---- a remote free racing unfull ------------------------------------------------------- */

static void setup_watch(void)
{
    fill_page();
    program_malloc();               /* P to the full queue (WATCH), a fresh page */
}
/* As setup_watch, and the fresh page Q exhausted too. An unfull puts P at
 * the back of its queue, behind Q: the owner's next malloc then moves Q to
 * full and collects P (racing the remote free), as it would not if Q still
 * had room. */
static void setup_watch_next_full(void)
{
    setup_watch();
    sa_page_t *q = page_of(held[nheld - 1]);
    while (q->capacity < q->reserved || q->free != NULL)
        program_malloc();
}
static void owner_free_local_malloc(void)
{
    program_free(block0[1]);        /* local free of a full page: unfull(popped = false) */
    program_malloc();               /* take_remote_pages: unfull(popped = true); Q to full, collect P */
}

/* ---- abandon on exit, reclaim by another thread ---------------------------------------- */

static void owner_exit(void)
{
    thread_exit();                  /* collect, abandon P (WATCH withdrawn) */
}
static void free0_reclaim(void)
{
    program_free(block0[0]);        /* remote, maybe QUEUED, maybe forwarded */
    program_malloc();               /* a fresh heap: reclaims the abandoned segment */
}
static void free0_reclaim_free2(void)
{
    program_free(block0[0]);        /* remote, maybe QUEUED, maybe forwarded */
    program_malloc();               /* a fresh heap: reclaims the abandoned segment */
    program_free(block0[2]);        /* local if we own P now; else remote: kept in our
                                       remote cache if P still has an owner (abandon to
                                       come), pushed if abandoned */
}

/* ---- a thread with a heap keeps what it frees of P, gives it back at exit ---------- */

static bool kept0;                  /* block 0 was kept by the thread that freed it */

static void malloc_free0_exit(void)
{
    program_malloc();               /* a heap of its own (a fresh page) */
    program_free(block0[0]);        /* kept in its remote cache: P unchanged */
    kept0 = _sa_heap_tls->rcache[page_p->bin].free == block0[0];
    thread_exit();                  /* the cache given back: free_remote of block 0 */
}
static bool reused_kept0;           /* ... and handed out again by its next malloc */

static void malloc_free0_reuse_exit(void)
{
    program_malloc();               /* a heap of its own (a fresh page with free blocks) */
    program_free(block0[0]);        /* kept: its cache is now the class's fast-path page */
    reused_kept0 = program_malloc() == block0[0];  /* the kept block first: LIVE all along */
    program_free(block0[0]);        /* kept again */
    thread_exit();                  /* the cache given back: free_remote of block 0 */
}
static void malloc_free0_exit_again(void)
{
    program_malloc();               /* a heap of its own (a fresh page) */
    program_free(block0[0]);        /* kept, or reported if the other thread claimed it first */
    thread_exit();
}
/* Kept blocks outlive a collect of the thread that keeps them: sa_collect
 * gives the cache back (free_remote of block 0) and the thread, alive still,
 * keeps the next block it frees (block 1, in its cache at the end). */
static void malloc_free0_collect_free1(void)
{
    program_malloc();               /* a heap of its own (a fresh page) */
    program_free(block0[0]);        /* kept in its remote cache: P unchanged */
    kept0 = _sa_heap_tls->rcache[page_p->bin].free == block0[0];
    sa_collect(false);              /* the cache given back: free_remote of block 0 */
    program_free(block0[1]);        /* kept, and still kept when the run ends */
    if (_sa_heap_tls->rcache[page_p->bin].free != block0[1])
        kept0 = false;
}
static const char *check_kept(void)
{
    if (!kept0)
        return "block 0 was not kept in the remote cache of the thread that freed it";
    kept0 = false;
    return check_plain();
}

static const char *check_kept_reused(void)
{
    if (!reused_kept0)
        return "the next malloc of the thread that kept block 0 did not hand it out again";
    reused_kept0 = false;
    return check_plain();
}

/* ---- retire or abandon: the last block freed remotely as the owner exits ------------ */

static void setup_one_live(void)
{
    fill_page();
    for (unsigned i = 1; i < reserved; i++)
        program_free(block0[i]);    /* local: only block 0 stays handed out */
}

/* ---- a stocked heap: its thread exits, the next one takes it whole ------------------ */

static void owner_stock_exit(void)
{
    thread_exit_stocking();         /* collect, stock (nothing abandoned) */
}
static void start_malloc_free1(void)
{
    program_malloc();               /* a thread start: the stocked heap if it is stocked by now */
    program_free(block0[1]);        /* local if it took the stocked heap, else remote */
}
/* A thread whose first call is a free of P's block (remote: it has no
 * heap), then a malloc: that thread start takes the heap it freed into if
 * it is stocked by then (heap.c heap_claim, _sa_heap_hint), else another
 * heap, as any thread start. */
static void start_free2_malloc(void)
{
    program_free(block0[2]);
    program_malloc();
}
/* A first-class heap made, used and destroyed while the owner exits: its
 * destroy frees every block of its pages, so it must not be the stocked
 * heap (P's blocks, held by the program, would be freed with it). */
static void heap_new_destroy(void)
{
    sa_heap_t *heap = sa_heap_new();
    if (heap != NULL) {
        sa_heap_malloc(heap, SIZE);
        sa_heap_destroy(heap);
    }
}
static const char *check_stocked(void)
{
    const char *why = check_delivered();
    if (why)
        return why;
    bool stocked = stocked_heap != NULL && atomic_load(&stocked_heap->stocked_at) != 0;
    bool taken = false;
    for (unsigned t = 1; t < current->threads; t++)
        taken |= mc_thread_heap[t] == stocked_heap;
    if (stocked && taken)
        return "a thread owns the heap the owner stocked, still marked stocked";
    if (atomic_load_explicit(&page_p->heap, memory_order_relaxed) == NULL)
        return "P was abandoned: the owner's exit stocks its heap";
    mc_outcome(taken ? "the stocked heap taken by the starting thread" :
               stocked ? "the heap still stocked" :
               "the heap given up");
    return NULL;
}

/* ---- two frees of the same block (a caller's bug) -------------------------------------- */

/* What the code guarantees when two threads free one block b at once:
 * the second free is reported (by the canary, by the claim of
 * _sa_free_remote, or by collect's count), or b is leaked; every other block
 * stays in exactly one place, and no pointer is handed out twice. One
 * exception no allocator can tell from a correct program: if b was handed
 * out again between the two frees, the second one frees the new owner's
 * block (the program's bug), so b is in two places: held by the program
 * and on a list, or kept, or handed out once more (double_free_4: the
 * owner's second malloc). "Between" in the allocator's order: a free whose
 * call began before the malloc that handed b out again (its canary read
 * then saw b LIVE) takes effect at its claim of b, which may come after
 * that malloc (b LIVE again, its canary cleared) -- as if called after it. */
static const char *check_double_free(void)
{
    unsigned leaked = 0;
    drain();
    const char *why = check_blocks(block0[0], reused0, &leaked);
    if (why)
        return why;
    unsigned reported = reports[SA_ERROR_DOUBLE_FREE] + reports[SA_ERROR_CORRUPTION];
    if (!reported && leaked == 0 && !reused0)
        return "a block freed twice by two threads was neither reported nor leaked";
    mc_outcome(reused0 ? (count_in(held, nheld, block0[0]) == 2 ?
                          "handed out again before the second free, and after it" :
                          "handed out again before the second free") :
               leaked ? "reported by collect, the block leaked" :
               reports[SA_ERROR_CORRUPTION] ? "reported by collect" : "reported by free");
    return NULL;
}
static void owner_malloc_twice(void)
{
    program_malloc();
    program_malloc();
}

/* ---- the table ------------------------------------------------------------------------- */

mc_scenario_t mc_scenarios[] = {
    { .name = "remote_free_to_full", .threads = 3, .spec = true,
      .what = "two remote frees while the owner collects P or moves it to full",
      .setup = setup_full, .body = { owner_malloc, free0, free1 }, .check = check_plain },
    { .name = "remote_free_unfull", .threads = 2, .spec = true,
      .what = "a remote free (WATCH -> QUEUED) racing the owner's unfull",
      .setup = setup_watch_next_full, .body = { owner_free_local_malloc, free0 },
      .check = check_plain },
    { .name = "abandon_reclaim", .threads = 2, .spec = true,
      .what = "the owner exits (abandon) while another thread frees into P and reclaims it",
      .setup = setup_watch, .body = { owner_exit, free0_reclaim }, .check = check_plain },
    { .name = "abandon_reclaim_free", .threads = 2, .spec = true,
      .what = "the owner exits while another thread frees, reclaims P, frees into P again",
      .setup = setup_watch, .body = { owner_exit, free0_reclaim_free2 }, .check = check_plain },
    { .name = "retire_or_abandon", .threads = 2, .spec = true,
      .what = "P's last block freed remotely while its owner exits: P retired or abandoned, "
              "then reclaimed",
      .setup = setup_one_live, .body = { owner_exit, free0_reclaim }, .check = check_plain },
    { .name = "remote_cache_exit", .threads = 2, .spec = true,
      .what = "a thread keeps a block of P it frees and gives it back at its exit, while the "
              "owner collects P or moves it to full",
      .setup = setup_full, .body = { owner_malloc, malloc_free0_exit }, .check = check_kept },
    { .name = "remote_cache_reuse", .threads = 2, .spec = true,
      .what = "a thread keeps a block of P it frees, hands it out again with its next malloc, "
              "keeps it again and gives it back at its exit, while the owner collects P or "
              "moves it to full",
      .setup = setup_full, .body = { owner_malloc, malloc_free0_reuse_exit },
      .check = check_kept_reused },
    { .name = "remote_cache_collect", .threads = 2, .spec = true,
      .what = "a thread keeps a block of P, gives it back by sa_collect and keeps another, "
              "still kept when it ends, while the owner collects P or moves it to full",
      .setup = setup_full, .body = { owner_malloc, malloc_free0_collect_free1 },
      .check = check_kept },
    { .name = "stock_claim", .threads = 3, .spec = true,
      .what = "the owner exits and stocks its heap while another thread frees into P and a "
              "starting thread takes the stocked heap, mallocs and frees into P",
      .setup = setup_watch, .body = { owner_stock_exit, free0, start_malloc_free1 },
      .check = check_stocked },
    { .name = "stock_hinted_by_free", .threads = 3, .spec = true,
      .what = "the owner exits and stocks its heap while a starting thread frees into P and "
              "then mallocs (taking the heap it freed into first), racing a thread start that "
              "mallocs and frees into P",
      .setup = setup_watch, .body = { owner_stock_exit, start_free2_malloc, start_malloc_free1 },
      .check = check_stocked },
    { .name = "stock_first_class", .threads = 2, .spec = true,
      .what = "the owner exits and stocks its heap while another thread makes, uses and "
              "destroys a first-class heap (which must not take the stocked one)",
      .setup = setup_watch, .body = { owner_stock_exit, heap_new_destroy },
      .check = check_stocked },
    { .name = "double_free", .threads = 3, .spec = false,
      .what = "two threads free the same block while the owner allocates",
      .setup = setup_full, .body = { owner_malloc, free0, free0 }, .check = check_double_free },
    /* the longer variants (make interleave-long) */
    { .name = "remote_free_to_full_back", .threads = 3, .spec = true, .long_only = true,
      .what = "two remote frees while the owner moves P to full and takes it back",
      .setup = setup_full, .body = { owner_malloc_twice_free, free0, free1 },
      .check = check_plain },
    { .name = "abandon_reclaim_3", .threads = 3, .spec = true, .long_only = true,
      .what = "the owner exits while two threads free, one of them reclaiming P",
      .setup = setup_watch, .body = { owner_exit, free0_reclaim_free2, free1 },
      .check = check_plain },
    { .name = "double_free_kept", .threads = 3, .spec = false, .long_only = true,
      .what = "two threads with heaps free the same block (each would keep it) and exit, "
              "while the owner allocates",
      .setup = setup_full, .body = { owner_malloc, malloc_free0_exit_again, malloc_free0_exit_again },
      .check = check_double_free },
    { .name = "double_free_4", .threads = 4, .spec = false, .long_only = true,
      .what = "two threads free one block, a third another, the owner allocates twice",
      .setup = setup_full, .body = { owner_malloc_twice, free0, free0, free1 },
      .check = check_double_free },
};
const size_t mc_scenario_count = sizeof mc_scenarios / sizeof mc_scenarios[0];

void mc_scenario_begin(mc_scenario_t *sc)
{
    current = sc;
}
