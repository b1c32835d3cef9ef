/* src/trace.h -- hooks through which a tracing build (-DSA_TRACE, `make trace`)
 * records every page transition and the steps each operation took, for the
 * conformance replay in tests/ (the code is checked against spec/page.smt2).
 *
 * In the normal build every hook is an empty macro (zero cost), but for
 * SA_TRACE_STEP and SA_TRACE_RETRY, which only add one to a thread-local
 * count (_sa_steps, _sa_retries: sa_thread_steps() reads them).
 *
 * Contract for src/: every function that changes a page's lists or counters
 * wraps the change in SA_TRACE_BEFORE(t, page) ... SA_TRACE_AFTER(t, page),
 * where t names the spec transition it performs, and every loop on a malloc or
 * free path starts with SA_TRACE_LOOP(l) and calls SA_TRACE_STEP(l) once per
 * iteration, l naming the loop's limit (sa_loop_t; OS calls and the user's
 * deferred-free hook count as one step each); the generic malloc path marks
 * its phases with SA_TRACE_PHASE (sa_phase_t); a CAS loop also calls
 * SA_TRACE_RETRY() for each step that retries a failed CAS (another thread's
 * CAS succeeded: the `k` of the bounds' B + k; under the trace lock only the
 * page stack's push can fail, but the normal build has no such lock).
 * Operations are bracketed by SA_TRACE_OP_BEGIN(op) ... SA_TRACE_OP_END(op). In the tracing build a global
 * lock is held from BEFORE to AFTER, so a snapshot never sees a half-done move.
 * SA_TRACE_TAKEN(page, list) ends a collect_take step: `list` (what the
 * exchange took) is shown as TAKEN in snapshots until the collect_finish step
 * after it, and the lock is let go in between.
 */
#ifndef SA_TRACE_H
#define SA_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The spec's page transitions, by their names in spec/page.smt2. */
typedef enum sa_transition_e {
    SA_T_PAGE_INIT,     /* page_init:   a fresh page gets its block size        */
    SA_T_ALLOC_POP,     /* alloc_pop:   malloc pops the head of `free`          */
    SA_T_EXTEND,        /* extend:      unmade blocks threaded onto `free`       */
    SA_T_FREE_LOCAL,    /* free_local:  owner pushes onto `local_free`           */
    SA_T_FREE_REMOTE,   /* free_remote: another thread pushes onto `thread_free` */
    SA_T_COLLECT,       /* collect:     thread_free and local_free back to free
                           (not traced itself: the replay checks each
                           collect_take + collect_finish pair with nothing
                           between them against it) */
    SA_T_TO_FULL,       /* to_full:     exhausted page moves to the full queue   */
    SA_T_UNFULL,        /* unfull:      page back from the full queue            */
    SA_T_RETIRE,        /* retire:      empty page returned to its segment       */
    SA_T_ABANDON,       /* abandon:     owner thread exits, page has no owner    */
    SA_T_RECLAIM,       /* reclaim:     another heap adopts an abandoned page    */
    /* collect in its two halves, as _sa_page_collect runs it: the exchange
     * takes thread_free (its blocks are TAKEN: SA_TRACE_TAKEN), remote frees
     * may land meanwhile, then the taken blocks and local_free join free */
    SA_T_COLLECT_TAKE,  /* collect_take:   the atomic exchange of thread_free   */
    SA_T_COLLECT_FINISH,/* collect_finish: taken and local blocks onto free     */
    SA_T_ORDER_FREE,    /* order_free:  collect relinks free in address order    */
    SA_T_FREE_LIFO,     /* free_lifo:   owner pushes onto `free` (within budget)  */
    SA_T__COUNT
} sa_transition_t;

/* The operations whose steps are bounded by the proofs (spec/bounds.smt2). */
typedef enum sa_op_e {
    SA_OP_MALLOC_GENERIC,   /* malloc when the page's `free` is empty */
    SA_OP_FREE_LOCAL,
    SA_OP_FREE_REMOTE,
    SA_OP__COUNT
} sa_op_t;

/* The phases of the generic malloc path, each a term of B_MALLOC in
 * spec/bounds.smt2 (named there B_<phase>): the tracing build charges every
 * step of an operation to the phase it is in, and keeps the most steps any
 * one operation spent in each, so each term is checked, not only the sum.
 * SA_TRACE_PHASE(p) enters phase p; an operation starts in HEARTBEAT. The
 * free paths have one phase each (their whole bound). */
typedef enum sa_phase_e {
    SA_PHASE_HEARTBEAT,     /* B_HEARTBEAT:    the deferred-free hook          */
    SA_PHASE_REMOTE,        /* B_REMOTE:       pages remote frees reported      */
    SA_PHASE_RECLAIM,       /* B_RECLAIM:      abandoned segments adopted       */
    SA_PHASE_SEARCH,        /* B_SEARCH:       candidate pages of the size class */
    SA_PHASE_FRESH,         /* B_FRESH:        a fresh page from a segment      */
    SA_PHASE_HOUSEKEEPING,  /* B_HOUSEKEEPING: retire sweep and purge           */
    SA_PHASE__COUNT
} sa_phase_t;

/* The loops on the malloc and free paths, by the constant of config.h that
 * limits their iterations in spec/bounds.smt2. SA_TRACE_LOOP(l) starts a run
 * of loop l; each SA_TRACE_STEP(l) inside it counts one iteration, and the
 * tracing build keeps the most iterations one run of each loop took, which
 * tests/bounds checks against the limit: a loop whose limit is removed from
 * src/ is caught there by a workload that meets more than the limit. */
typedef enum sa_loop_e {
    SA_LOOP_REMOTE,         /* SA_REMOTE_PAGES_MAX: pages taken back or forwarded */
    SA_LOOP_RECLAIM,        /* SA_RECLAIM_TRIES: abandoned segments tried        */
    SA_LOOP_SEARCH,         /* SA_PAGE_SEARCH_MAX: candidates looked at          */
    SA_LOOP_PAGES,          /* SA_MAX_PAGES_PER_SEGMENT: one walk of a segment's pages */
    SA_LOOP_EXTEND,         /* SA_MAX_EXTEND_SIZE / SA_MIN_ALIGN: blocks threaded */
    SA_LOOP_SWEEP,          /* SA_RETIRE_SCAN_MAX: bins the retire sweep looks at */
    SA_LOOP_LARGE_EMPTIED,  /* SA_LARGE_EMPTIED_MAX: emptied large pages a large
                               page's fresh path looks at (segment.c)          */
    SA_LOOP_PURGE,          /* SA_PURGE_BATCH_MAX: retired pages purged          */
    SA_LOOP_CACHE,          /* SA_SEGMENT_CACHE_MAX + SA_SEGMENT_CACHE_GLOBAL_MAX:
                               cached segments walked                            */
    SA_LOOP_JOIN,           /* SA_MAX_BLOCKS_PER_PAGE: a taken thread_free list
                               walked to its tail (sa_collect and abandon only:
                               the malloc path never joins)                     */
    SA_LOOP_ORDER,          /* 3 SA_ORDER_BLOCKS_MAX: free_order's walk of free,
                               then its pass, made blocks then free ones
                               (collect, on the search's page)                  */
    SA_LOOP_CAS,            /* no limit: a CAS retried only when another thread's
                               CAS succeeded (SA_TRACE_RETRY, the k of B + k)   */
    SA_LOOP_NONE,           /* not a loop: one step on its own (an OS call, the
                               deferred-free hook)                              */
    SA_LOOP__COUNT
} sa_loop_t;

/* ---- the record format (src/trace.c writes it, tests/conformance reads it) ----
 *
 * One record per traced transition, in the global order of the trace lock:
 * sa_trace_rec_t, then the page's state before (sa_trace_snap_t followed by
 * its block indices), then after. A snapshot's lists are walked on the real
 * links, heads first: n[0] indices of `free`, n[1] of `local_free`, n[2] of
 * `thread_free`, n[3] of the list a collect took and has not finished with.
 * Blocks below `capacity` on no list are LIVE, the rest UNMADE.
 * A walk that leaves the page, lands off a block boundary, meets a block
 * twice (a cycle, or a block on two lists) or runs past `capacity` stops
 * there and sets a bit in `bad` (SA_TRACE_BAD_*): a violation by itself. */
#define SA_TRACE_BAD_OUTSIDE   1u   /* a link outside the page's made blocks */
#define SA_TRACE_BAD_BOUNDARY  2u   /* a link not at a block start */
#define SA_TRACE_BAD_TWICE     4u   /* a block met twice: cycle, or on two lists */
#define SA_TRACE_BAD_LONG      8u   /* more links than capacity */

typedef struct sa_trace_snap_s {
    uint32_t reserved, capacity, used, block_size;
    uint32_t area;          /* bytes of the page's block area (page_init's argument) */
    uint8_t  in_full, notify, owned, bad;
    uint32_t n[4];          /* lengths of free, local_free, thread_free and the list
                               an unfinished collect took (TAKEN), as walked */
} sa_trace_snap_t;          /* followed by n[0] + ... + n[3] uint32_t block indices */

typedef struct sa_trace_rec_s {
    uint32_t  size;         /* bytes of the whole record, snapshots included */
    uint16_t  transition;   /* sa_transition_t */
    uint16_t  thread;       /* small number of the recording thread, from 1 */
    uint64_t  seq;          /* position in the global order */
    uintptr_t page;         /* the page's address: its identity in the replay */
} sa_trace_rec_t;           /* followed by two snapshots, before and after */

/* Every build counts the calling thread's steps (SA_TRACE_STEP) in _sa_steps,
 * for the statistics' largest step count of a generic malloc (src/stats.c),
 * and how many of them were CAS retries (SA_TRACE_RETRY) in _sa_retries: a
 * program reads both through sa_thread_steps() (bench/latency.c checks each
 * call's steps less its retries against the proven bound). */
extern __thread uint64_t _sa_steps __attribute__((tls_model("initial-exec")));
extern __thread uint64_t _sa_retries __attribute__((tls_model("initial-exec")));

#ifdef SA_TRACE
/* Reading the trace (tests only; call while no thread allocates). */
typedef struct sa_trace_stats_s {
    uint64_t phase_max[SA_PHASE__COUNT];  /* most steps one generic malloc spent in each phase */
    uint64_t loop_max[SA_LOOP__COUNT];    /* most iterations one run of each loop took */
    uint64_t ops[SA_OP__COUNT];         /* operations recorded per kind */
    uint64_t steps_max[SA_OP__COUNT];   /* most steps one operation took */
    uint64_t steps_total[SA_OP__COUNT];
    uint64_t retries_max[SA_OP__COUNT]; /* most CAS retries (k) one operation had */
    uint64_t bounded_max[SA_OP__COUNT]; /* most steps - retries: what B bounds */
} sa_trace_stats_t;
const unsigned char *_sa_trace_data(size_t *len, bool *overflowed);
void _sa_trace_clear(void);             /* drop the records (stats are kept) */
void _sa_trace_stats(sa_trace_stats_t *out);
void _sa_trace_stats_clear(void);

struct sa_page_s;
void _sa_trace_before(sa_transition_t t, const struct sa_page_s *page);
void _sa_trace_after(sa_transition_t t, const struct sa_page_s *page);
void _sa_trace_op_begin(sa_op_t op);
void _sa_trace_op_end(sa_op_t op);
void _sa_trace_phase(sa_phase_t phase);
void _sa_trace_loop(sa_loop_t loop);
void _sa_trace_step(sa_loop_t loop);
void _sa_trace_retry(void);
void _sa_trace_taken(const struct sa_page_s *page, const void *list);
/* Writes "shardalloc: trace: <what>" to stderr and aborts. */
__attribute__((noreturn)) void _sa_trace_die(const char *what);
/* A page's state as a snapshot records it (tests/interleave's final check),
 * at most _sa_trace_snap_max() bytes; and dropping the records past `len`. */
size_t _sa_trace_snapshot(const struct sa_page_s *page, unsigned char *out);
size_t _sa_trace_snap_max(void);
void _sa_trace_rewind(size_t len);
#ifdef SA_MODEL_CHECK
/* For the model checker's scheduler (src/trace.c tells why). */
void _sa_trace_mc_resume(void);
const void *_sa_trace_mc_page(void);
#endif
#define SA_TRACE_BEFORE(t, page)  _sa_trace_before((t), (page))
#define SA_TRACE_AFTER(t, page)   _sa_trace_after((t), (page))
#define SA_TRACE_OP_BEGIN(op)     _sa_trace_op_begin(op)
#define SA_TRACE_OP_END(op)       _sa_trace_op_end(op)
#define SA_TRACE_PHASE(phase)     _sa_trace_phase(phase)
#define SA_TRACE_LOOP(loop)       _sa_trace_loop(loop)
#define SA_TRACE_STEP(loop)       (_sa_steps++, _sa_trace_step(loop))
/* k steps of a loop at once, counted after it (each still traced) */
#define SA_TRACE_STEPS(loop, k)   do { for (uint64_t sa_k_ = (k); sa_k_ > 0; sa_k_--) SA_TRACE_STEP(loop); } while (0)
#define SA_TRACE_RETRY()          (_sa_retries++, _sa_trace_retry())
#define SA_TRACE_TAKEN(page, list) _sa_trace_taken((page), (list))
#else
#define SA_TRACE_BEFORE(t, page)  ((void)0)
#define SA_TRACE_AFTER(t, page)   ((void)0)
#define SA_TRACE_OP_BEGIN(op)     ((void)0)
#define SA_TRACE_OP_END(op)       ((void)0)
#define SA_TRACE_PHASE(phase)     ((void)0)
#define SA_TRACE_LOOP(loop)       ((void)0)
#define SA_TRACE_STEP(loop)       ((void)_sa_steps++)
#define SA_TRACE_STEPS(loop, k)   ((void)(_sa_steps += (k)))
#define SA_TRACE_RETRY()          ((void)_sa_retries++)
#define SA_TRACE_TAKEN(page, list) ((void)(list))
#endif

#endif /* SA_TRACE_H */
