/* src/trace.h -- hooks through which a tracing build (-DSA_TRACE, `make trace`)
 * records every page transition and the steps each operation took, for the
 * conformance replay in tests/ (the code is checked against spec/page.smt2).
 *
 * In the normal build every hook is an empty macro: zero cost.
 *
 * Contract for src/: every function that changes a page's lists or counters
 * wraps the change in SA_TRACE_BEFORE(t, page) ... SA_TRACE_AFTER(t, page),
 * where t names the spec transition it performs, and every loop on a malloc or
 * free path calls SA_TRACE_STEP() once per iteration (OS calls and the user's
 * deferred-free hook count as one step each). Operations are bracketed by
 * SA_TRACE_OP_BEGIN(op) ... SA_TRACE_OP_END(op). In the tracing build a global
 * lock is held from BEFORE to AFTER, so a snapshot never sees a half-done move.
 */
#ifndef SA_TRACE_H
#define SA_TRACE_H

/* The spec's page transitions, by their names in spec/page.smt2. */
typedef enum sa_transition_e {
    SA_T_PAGE_INIT,     /* page_init:   a fresh page gets its block size        */
    SA_T_ALLOC_POP,     /* alloc_pop:   malloc pops the head of `free`          */
    SA_T_EXTEND,        /* extend:      unmade blocks threaded onto `free`       */
    SA_T_FREE_LOCAL,    /* free_local:  owner pushes onto `local_free`           */
    SA_T_FREE_REMOTE,   /* free_remote: another thread pushes onto `thread_free` */
    SA_T_COLLECT,       /* collect:     thread_free and local_free back to free  */
    SA_T_TO_FULL,       /* to_full:     exhausted page moves to the full queue   */
    SA_T_UNFULL,        /* unfull:      page back from the full queue            */
    SA_T_RETIRE,        /* retire:      empty page returned to its segment       */
    SA_T_ABANDON,       /* abandon:     owner thread exits, page has no owner    */
    SA_T_RECLAIM,       /* reclaim:     another heap adopts an abandoned page    */
    SA_T__COUNT
} sa_transition_t;

/* The operations whose steps are bounded by the proofs (spec/bounds.smt2). */
typedef enum sa_op_e {
    SA_OP_MALLOC_GENERIC,   /* malloc when the page's `free` is empty */
    SA_OP_FREE_LOCAL,
    SA_OP_FREE_REMOTE,
    SA_OP__COUNT
} sa_op_t;

#ifdef SA_TRACE
struct sa_page_s;
void _sa_trace_before(sa_transition_t t, const struct sa_page_s *page);
void _sa_trace_after(sa_transition_t t, const struct sa_page_s *page);
void _sa_trace_op_begin(sa_op_t op);
void _sa_trace_op_end(sa_op_t op);
void _sa_trace_step(void);
#define SA_TRACE_BEFORE(t, page)  _sa_trace_before((t), (page))
#define SA_TRACE_AFTER(t, page)   _sa_trace_after((t), (page))
#define SA_TRACE_OP_BEGIN(op)     _sa_trace_op_begin(op)
#define SA_TRACE_OP_END(op)       _sa_trace_op_end(op)
#define SA_TRACE_STEP()           _sa_trace_step()
#else
#define SA_TRACE_BEFORE(t, page)  ((void)0)
#define SA_TRACE_AFTER(t, page)   ((void)0)
#define SA_TRACE_OP_BEGIN(op)     ((void)0)
#define SA_TRACE_OP_END(op)       ((void)0)
#define SA_TRACE_STEP()           ((void)0)
#endif

#endif /* SA_TRACE_H */
