/* proofs/obligations.c -- the named obligations, each with its mutants.
 *
 * Every entry is listed in docs/verification.md with the spec definitions
 * and C functions it covers. An obligation says: hyp implies goal. Each has
 * at least one mutant: a broken model or constant that the same obligation
 * must refute with a counterexample, so a proof that cannot fail shows up
 * as a surviving mutant.
 */
#include <string.h>
#include "driver.h"
#include "config.h"
#include "size_class.h"
#include "layout.h"
#include "internal.h"

/* ---- page: obligations 1-3 (spec/page.smt2) -------------------------------- */

#define PAGE_DECLS "(declare-const s Page) (declare-const t Page) (declare-const b Int)" \
    " (declare-const popped Bool)"
/* Counterexamples are searched on pages of at most this many blocks. */
#define PAGE_FINITE 4
#define PAGE_SMALL "(<= (reserved s) 4)"
#define PAGE_SHOW  "page:s page:t int:b"

/* An invariant-preservation obligation for one transition. */
#define PRESERVES(name_, call_, covers_, mutants_)                                    \
    { .name = name_, .covers = covers_, .models = "page", .decls = PAGE_DECLS,       \
      .hyp = "(and (inv s) " call_ ")", .goal = "(inv t)", .finite = PAGE_FINITE,     \
      .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = mutants_ }

static const pf_mutant_t m_init[] = {
    { .name = "init_capacity_one", .what = "page_init starts with capacity 1",
      .find = "(mk_page (div area bsize) 0 0 bsize", .replace = "(mk_page (div area bsize) 1 0 bsize" },
    { .name = "init_watching", .what = "page_init leaves notify = WATCH",
      .find = "false NOTIFY_NONE true))))", .replace = "false NOTIFY_WATCH true))))" },
    { 0 }
};
static const pf_mutant_t m_alloc_pop[] = {
    { .name = "alloc_pop_unguarded", .what = "alloc_pop without its guard `free` non-empty",
      .find = "(and (owned s) (> (n s FREE) 0)", .replace = "(and (owned s)" },
    { .name = "alloc_pop_used_unchanged", .what = "alloc_pop forgets used += 1",
      .find = "(+ (used s) 1)", .replace = "(used s)" },
    { 0 }
};
static const pf_mutant_t m_extend[] = {
    { .name = "extend_past_reserved", .what = "extend not capped by reserved - capacity",
      .find = "(min_int (- (reserved s) (capacity s)) (at_least_one (div SA_MAX_EXTEND_SIZE (block_size s))))",
      .replace = "(at_least_one (div SA_MAX_EXTEND_SIZE (block_size s)))" },
    { .name = "extend_free_nonempty", .what = "extend without its guard `free` empty",
      .find = "(and (owned s) (= (n s FREE) 0) (< (capacity s) (reserved s))\n",
      .replace = "(and (owned s) (< (capacity s) (reserved s))\n" },
    { 0 }
};
static const pf_mutant_t m_full_no_local[] = {
    { .name = "free_local_into_full", .what = "free_local without its guard `not in_full`: a full page gets a local free",
      .find = "(and (owned s) (not (in_full s))\n", .replace = "(and (owned s)\n" },
    { .name = "to_full_ignores_local", .what = "to_full without its guard `local_free empty`",
      .find = "(not (in_full s)) (= (n s FREE) 0) (= (n s LOCAL) 0)", .replace = "(not (in_full s)) (= (n s FREE) 0)" },
    { 0 }
};
static const pf_mutant_t m_free_local[] = {
    { .name = "free_not_live", .what = "a free without its guard `block is LIVE` (double free)",
      .find = "(and (in_page s b) (= (loc_of s b) LIVE)", .replace = "(and (in_page s b)" },
    { .name = "free_local_used_unchanged", .what = "free_local forgets used -= 1",
      .find = "(free_to s t b LOCAL (- (used s) 1)", .replace = "(free_to s t b LOCAL (used s)" },
    { 0 }
};
static const pf_mutant_t m_free_lifo[] = {
    { .name = "free_lifo_not_live", .what = "a free without its guard `block is LIVE` (double free), onto `free`",
      .find = "(and (in_page s b) (= (loc_of s b) LIVE)", .replace = "(and (in_page s b)" },
    { .name = "free_lifo_used_unchanged", .what = "free_lifo forgets used -= 1",
      .find = "(free_to s t b FREE (- (used s) 1)", .replace = "(free_to s t b FREE (used s)" },
    { 0 }
};
static const pf_mutant_t m_free_remote[] = {
    { .name = "free_remote_decrements_used", .what = "free_remote touches used",
      .find = "(free_to s t b THREAD (used s)", .replace = "(free_to s t b THREAD (- (used s) 1)" },
    { .name = "free_remote_never_queues", .what = "a remote free to a WATCHed page does not tell the owner",
      .find = "(ite (= (notify s) NOTIFY_WATCH) NOTIFY_QUEUED (notify s))", .replace = "(notify s)" },
    { 0 }
};
static const pf_mutant_t m_collect[] = {
    { .name = "collect_keeps_local_count", .what = "collect leaves local_free's count",
      .find = "(store (store (store (cnt s) a 0) c 0)", .replace = "(store (store (cnt s) a 0)" },
    { .name = "collect_used_unchanged", .what = "collect does not subtract what it took",
      .find = "(gather s t THREAD LOCAL (- (used s) (n s THREAD)))", .replace = "(gather s t THREAD LOCAL (used s))" },
    { 0 }
};
static const pf_mutant_t m_order_free[] = {
    { .name = "order_drops_a_block", .what = "order_free relinks one block fewer than `free` held",
      .find = "(= (cnt t) (cnt s))", .replace = "(= (cnt t) (store (cnt s) FREE (- (n s FREE) 1)))" },
    /* both edits: either one alone still pins a bijection */
    { .name = "order_duplicates_a_block", .what = "order_free lists one FREE block twice and drops another",
      .find = "(= (at t FREE (pos_of t b)) b)", .replace = "true",
      .find2 = "(= (pos_of t (at t FREE i)) i)", .replace2 = "true" },
    { 0 }
};
static const pf_mutant_t m_to_full[] = {
    { .name = "to_full_with_remote_frees", .what = "to_full while thread_free is non-empty",
      .find = "(= (n s THREAD) 0) (= (notify s) NOTIFY_NONE)", .replace = "(= (notify s) NOTIFY_NONE)" },
    { 0 }
};
static const pf_mutant_t m_unfull[] = {
    { .name = "unfull_keeps_notify", .what = "unfull leaves notify as it was (WATCH outside the full queue)",
      .find = "(ite (and (= (notify s) NOTIFY_QUEUED) (not popped)) NOTIFY_QUEUED NOTIFY_NONE)",
      .replace = "(notify s)" },
    { 0 }
};
static const pf_mutant_t m_retire[] = {
    { .name = "retire_keeps_capacity", .what = "retire unmakes the blocks but keeps capacity",
      .find = "(mk_page (reserved s) 0 0 (block_size s)", .replace = "(mk_page (reserved s) (capacity s) 0 (block_size s)" },
    { 0 }
};
static const pf_mutant_t m_abandon[] = {
    { .name = "abandon_keeps_watch", .what = "abandon leaves notify = WATCH",
      .find = "(ite (= (notify s) NOTIFY_WATCH) NOTIFY_NONE (notify s))", .replace = "(notify s)" },
    { 0 }
};
static const pf_mutant_t m_reclaim[] = {
    { .name = "reclaim_owned_page", .what = "reclaim of a page that still has an owner",
      .find = "(and (not (owned s))", .replace = "(and true" },
    { 0 }
};
static const pf_mutant_t m_take[] = {
    { .name = "take_copies_thread_free", .what = "the exchange copies thread_free but leaves it",
      .find = "(store (store (cnt s) TAKEN (n s THREAD)) THREAD 0)", .replace = "(store (cnt s) TAKEN (n s THREAD))" },
    { 0 }
};
static const pf_mutant_t m_finish[] = {
    { .name = "finish_subtracts_fresh_count", .what = "collect subtracts the fresh thread_free count, not the taken one",
      .find = "(gather s t TAKEN LOCAL (- (used s) (n s TAKEN)))", .replace = "(gather s t TAKEN LOCAL (- (used s) (n s THREAD)))" },
    { 0 }
};
static const pf_mutant_t m_linear[] = {
    { .name = "finish_rereads_thread_free", .what = "collect appends the live thread_free instead of what it exchanged",
      .find = "(gather s t TAKEN LOCAL", .replace = "(gather s t THREAD LOCAL" },
    { 0 }
};
static const pf_mutant_t m_alloc_fresh[] = {
    { .name = "alloc_pop_off_by_one", .what = "alloc_pop reads one slot past the head",
      .find = "(= b (head s FREE))", .replace = "(= b (at s FREE (n s FREE)))" },
    /* a FREE block made LIVE, all else kept: only "it was the head" fails */
    { .name = "alloc_pop_takes_tail", .what = "alloc_pop hands out the last node of `free`, not its head",
      .find = "(= b (head s FREE))", .replace = "(= b (at s FREE 0))" },
    { 0 }
};
static const pf_mutant_t m_live_no_list[] = {
    /* both edits: with the exact count the slot check is implied */
    { .name = "slots_untied", .what = "an invariant that ties neither list slots to locations nor counts to capacity",
      .find = "(= (loc_of s (at s l i)) l)", .replace = "true",
      .find2 = "(n s TAKEN)) (capacity s))", .replace2 = "(n s TAKEN)) (+ (capacity s) 1))" },
    { 0 }
};
static const pf_mutant_t m_collect_keeps[] = {
    { .name = "collect_keeps_local_blocks", .what = "collect leaves the local_free blocks where they were",
      .find = "(or (= (loc_of s b) a) (= (loc_of s b) c))", .replace = "(= (loc_of s b) a)" },
    { .name = "collect_used_unchanged", .what = "collect does not subtract what it took",
      .find = "(gather s t THREAD LOCAL (- (used s) (n s THREAD)))", .replace = "(gather s t THREAD LOCAL (used s))" },
    { 0 }
};
static const pf_mutant_t m_cadence_generic[] = {
    { .name = "collect_counts_one_more", .what = "collect counts one block more on `free` than it gathered",
      .find = "FREE (+ (n s FREE) (n s a) (n s c))", .replace = "FREE (+ (n s FREE) (n s a) (n s c) 1)" },
    { .name = "extend_capacity_one_short", .what = "extend raises capacity by one less than the blocks it made",
      .find = "(= (capacity t) (+ (capacity s) k))", .replace = "(= (capacity t) (+ (capacity s) k -1))" },
    { 0 }
};
static const pf_mutant_t m_retire_empty[] = {
    { .name = "retire_with_used_blocks", .what = "retire without its guard `used = 0`",
      .find = "(and (owned s) (= (used s) 0) (not (in_full s))", .replace = "(and (owned s) (not (in_full s))" },
    { 0 }
};

/* Page-level safety goals (obligation 3). alloc_fresh: the block handed out
 * was the head of `free` (what page_pop reads), was FREE and is now LIVE;
 * `free` is what it was without its head, in the same order; no other
 * block moved. */
#define ALLOC_FRESH_GOAL                                                       \
    "(and (in_page s b) (= b (head s FREE)) (= (loc_of s b) FREE) (= (loc_of t b) LIVE)" \
    "     (= (n t FREE) (- (n s FREE) 1))"                                        \
    "     (forall ((i Int)) (=> (and (<= 0 i) (< i (n t FREE))) (= (at t FREE i) (at s FREE i))))" \
    "     (forall ((c Int)) (=> (and (in_page s c) (not (= c b)))"               \
    "                           (= (loc_of t c) (loc_of s c)))))"
/* no_block_twice: no block is in two slots of the sequences (so no list is
 * cyclic, and no block is on two lists or on a list and LIVE): what
 * _sa_page_check's walk asserts, derived from the pos/seq bijection. */
#define NO_BLOCK_TWICE_GOAL                                                    \
    "(=> (and (listed l) (listed l2) (<= 0 i) (< i (n s l)) (<= 0 j) (< j (n s l2))" \
    "         (= (at s l i) (at s l2 j)))"                                         \
    "    (and (= l l2) (= i j)))"
/* collect_frees_all_but_live: after a collect every made block not LIVE is
 * on `free`, so |free| = capacity - used (page_find relies on it), the
 * LIVE blocks are those before, and local_free and thread_free are empty. */
#define COLLECT_FREES_GOAL                                                     \
    "(and (= (n t FREE) (- (capacity t) (used t))) (= (n t LOCAL) 0) (= (n t THREAD) 0)" \
    "     (forall ((c Int)) (=> (in_page t c)"                                    \
    "        (and (= (= (loc_of t c) LIVE) (= (loc_of s c) LIVE))"               \
    "             (not (= (loc_of t c) LOCAL)) (not (= (loc_of t c) THREAD))))))"
#define RETIRE_EMPTY_GOAL                                                      \
    "(forall ((c Int)) (=> (in_page s c)"                                       \
    "   (or (= (loc_of s c) FREE) (= (loc_of s c) LOCAL) (= (loc_of s c) UNMADE))))"

/* ---- bounds: obligations 4 and 5 (spec/bounds.smt2) ----------------------------- */

#define RUN_DECLS "(declare-const r Run) (declare-const r2 Run) (declare-const p Page)" \
    " (declare-const d Int) (declare-const watched Bool)"
#define RUN_SHOW "phase:(pc r) int:(i r) int:(j r) int:(lim r) int:(steps r) int:(k r) int:(rem r)" \
    " phase:(pc r2) int:(i r2) int:(j r2) int:(lim r2) int:(steps r2) int:(k r2) int:(rem r2) int:d"
#define WITHIN_AFTER(B) "(and (within r2 " B ") (=> (= (pc r2) DONE) (<= (steps r2) (+ " B " (k r2)))))"

static const pf_mutant_t m_bound_start[] = {
    { .name = "bound_without_heartbeat", .what = "B_MALLOC forgets the heartbeat's step",
      .find = "(define-fun B_HEARTBEAT () Int 1)", .replace = "(define-fun B_HEARTBEAT () Int 0)" },
    { .name = "bound_free_remote_one", .what = "B_FREE_REMOTE = 1: the page push forgotten",
      .find = "(define-fun B_FREE_REMOTE () Int 2)", .replace = "(define-fun B_FREE_REMOTE () Int 1)" },
    { .name = "pressure_retire_uncounted", .what = "B_FREE_LOCAL_PRESSURE forgets the retire of the emptied page",
      .find = "(define-fun B_FREE_LOCAL_PRESSURE () Int (+ B_FREE_LOCAL B_RETIRE))",
      .replace = "(define-fun B_FREE_LOCAL_PRESSURE () Int B_FREE_LOCAL)" },
    { 0 }
};
static const pf_mutant_t m_bound_malloc[] = {
    { .name = "search_off_by_one", .what = "the search looks at SA_PAGE_SEARCH_MAX + 1 candidates",
      .find = "(and (= pc SEARCH) (< i SA_PAGE_SEARCH_MAX)", .replace = "(and (= pc SEARCH) (<= i SA_PAGE_SEARCH_MAX)" },
    { .name = "collect_walks_its_lists", .what = "the search's collect walks thread_free and local_free to count them",
      .find = "(go r r2 LOOKED i 0 0 1)", .replace = "(go r r2 LOOKED i 0 0 (+ 1 (n p THREAD) (n p LOCAL)))" },
    { .name = "order_uncapped", .what = "free_order runs on pages of any size (SA_ORDER_BLOCKS_MAX not checked)",
      .find = "(<= (capacity p) SA_ORDER_BLOCKS_MAX)", .replace = "true" },
    { .name = "order_walk_uncounted", .what = "B_ORDER forgets free_order_walk's steps (the pass's 2 O alone)",
      .find = "(define-fun B_ORDER () Int (* 3 SA_ORDER_BLOCKS_MAX))",
      .replace = "(define-fun B_ORDER () Int (* 2 SA_ORDER_BLOCKS_MAX))" },
    { .name = "order_each_candidate", .what = "the search goes on after ordering a page (ordering every candidate)",
      .find = "(and (= pc ORDER) (= j lim) (go r r2 SWEEP 0 0 0 0))",
      .replace = "(and (= pc ORDER) (= j lim) (go r r2 SEARCH (+ i 1) 0 0 0))" },
    { .name = "extend_below_min_align", .what = "blocks smaller than SA_MIN_ALIGN (extend threads more than E)",
      .find = "(>= (block_size p) SA_MIN_ALIGN)", .replace = "(>= (block_size p) 1)" },
    { .name = "large_retires_uncounted", .what = "B_FRESH forgets the retires of the heap's emptied large pages",
      .find = "(+ B_LARGE_RETIRES B_SEGMENT SA_MAX_PAGES_PER_SEGMENT", .replace = "(+ B_SEGMENT SA_MAX_PAGES_PER_SEGMENT" },
    { .name = "large_retires_one_more", .what = "a large page's fresh path retires SA_LARGE_EMPTIED_MAX + 1 pages",
      .find = "(<= d (+ B_LARGE_RETIRES B_SEGMENT))", .replace = "(<= d (+ B_LARGE_RETIRES B_RETIRE B_SEGMENT))" },
    { 0 }
};
static const pf_mutant_t m_bound_free_remote[] = {
    { .name = "notify_push_twice", .what = "the page is pushed on remote_pages twice",
      .find = "(and (= pc FREE_NOTIFY) (go r r2 DONE 0 0 0 1))", .replace = "(and (= pc FREE_NOTIFY) (go r r2 FREE_NOTIFY 0 0 0 1))" },
    { 0 }
};
static const pf_mutant_t m_bound_free_local[] = {
    { .name = "unfull_costs_a_step", .what = "unfull's successful CAS counted as a step beyond B_FREE_LOCAL",
      .find = "(and (= pc FREE_UNFULL) (go r r2 FREE_EMPTIED 0 0 lim 0))",
      .replace = "(and (= pc FREE_UNFULL) (go r r2 FREE_EMPTIED 0 0 lim 1))" },
    { .name = "pressure_retire_unbounded", .what = "mark empty under memory pressure takes a step more than a retire",
      .find = "(<= d lim) (go r r2 DONE 0 0 0 d)", .replace = "(<= d (+ lim 1)) (go r r2 DONE 0 0 0 d)" },
    { 0 }
};
static const pf_mutant_t m_cadence[] = {
    { .name = "free_local_onto_free", .what = "free_local pushes on `free` instead of local_free (uncounted)",
      .find = "(free_to s t b LOCAL", .replace = "(free_to s t b FREE" },
    { .name = "lifo_without_budget", .what = "the owner's frees onto `free` however many since the generic call",
      .find = "(and (free_lifo s t b) (< lifo SA_LIFO_FREES_MAX)", .replace = "(and (free_lifo s t b) true" },
    { .name = "lifo_uncounted", .what = "a free onto `free` not counted against the budget",
      .find = "(= fast2 fast) (= lifo2 (+ lifo 1)))\n      (and (lifo_other",
      .replace = "(= fast2 fast) (= lifo2 lifo))\n      (and (lifo_other" },
    { .name = "collect_on_fast_path", .what = "the fast path may collect a page",
      .find = "(and (to_full s t) (= fast2 fast)", .replace = "(and (collect s t) (= fast2 fast)" },
    { 0 }
};

/* The remote cache's cadence (spec/bounds.smt2 cache_*). */
#define CACHE_DECLS "(declare-const c Cache) (declare-const d Cache) (declare-const l0 Int)"
#define CACHE_SHOW "int:l0 int:(level c) int:(kept c) int:(pops c) int:(level d) int:(kept d) int:(pops d)"
static const pf_mutant_t m_cache_generic[] = {
    { .name = "generic_keeps_pop_count", .what = "the generic call does not restart the count of pops",
      .find = "(mk_cache level0 0 0)", .replace = "(mk_cache level0 0 1)" },
    { 0 }
};
static const pf_mutant_t m_cache_cadence[] = {
    { .name = "keep_without_limit", .what = "the cache keeps however many the heap kept since the generic call",
      .find = "(< (kept c) SA_REMOTE_CACHE_KEEPS_MAX)", .replace = "true" },
    { .name = "pop_empty_cache", .what = "a pop from an empty cache",
      .find = "(> (level c) 0)", .replace = "true" },
    { 0 }
};

/* Abandoned segments (spec/bounds.smt2 exit_step, other_step). */
#define QUEUE_DECLS "(declare-const q Queue) (declare-const q2 Queue) (declare-const h Int)" \
    " (declare-const rel Int) (declare-const a Int) (declare-const t Int) (declare-const app Int)" \
    " (declare-const visited Bool)"
#define QUEUE_SHOW "int:(qn q) int:(qp q) int:(qn q2) int:(qp q2) int:h int:rel int:a int:t int:app"
static const pf_mutant_t m_exit_visit[] = {
    { .name = "exit_visits_only_its_own", .what = "an exit adopts only as many as it owns (SA_EXIT_RECLAIM forgotten)",
      .find = "(define-fun exit_visits ((h Int)) Int (+ SA_EXIT_RECLAIM h))",
      .replace = "(define-fun exit_visits ((h Int)) Int h)" },
    { .name = "exit_appends_in_front", .what = "what an exit abandons goes in front (a LIFO list)",
      .find = "(=> (not visited) (= (qp q2) (- (qp q) v)))",
      .replace = "(=> (not visited) (= (qp q2) (+ (- (qp q) v) (- v rel) a)))" },
    { 0 }
};
static const pf_mutant_t m_abandon_fifo[] = {
    { .name = "other_appends_in_front", .what = "another exit's segments go in front of the ones waiting (LIFO)",
      .find = "(=> (not visited) (= (qp q2) (- (qp q) t)))",
      .replace = "(=> (not visited) (= (qp q2) (+ (- (qp q) t) app)))" },
    { 0 }
};

#define CADENCE_DECLS PAGE_DECLS " (declare-const fast Int) (declare-const fast2 Int)" \
    " (declare-const lifo Int) (declare-const lifo2 Int)"

/* ---- arithmetic: obligations 6-8 (spec/size_class.smt2, spec/layout.smt2) ---------- */

/* The C map of src/size_class.h as SMT tables, computed here by calling the
 * C functions on every size: c_bin(size) piecewise over the runs of equal
 * _sa_bin, and c_sizes_agree: bin_size equals _sa_bin_size on every bin. */
static void gen_size_class_table(pf_buf_t *out)
{
    pf_buf_add(out, "(define-fun c_bin ((size (_ BitVec 64))) (_ BitVec 64)\n");
    size_t runs = 0;
    for (size_t size = 1; size <= SA_LARGE_OBJ_SIZE_MAX; size++) {
        size_t bin = _sa_bin(size);
        if (size == SA_LARGE_OBJ_SIZE_MAX || _sa_bin(size + 1) != bin) {
            pf_buf_addf(out, " (ite (bvule size (_ bv%zu 64)) (_ bv%zu 64)\n", size, bin);
            runs++;
        }
    }
    pf_buf_add(out, " (_ bv0 64)");
    for (size_t i = 0; i <= runs; i++)
        pf_buf_add(out, ")");
    pf_buf_add(out, "\n(define-fun c_sizes_agree () Bool (and true\n");
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++)
        pf_buf_addf(out, " (= (bin_size (_ bv%zu 64)) (_ bv%zu 64))\n", bin, _sa_bin_size(bin));
    pf_buf_add(out, "))\n");
}

#define BV(name) "(declare-const " name " (_ BitVec 64))"

static const pf_mutant_t m_size_map[] = {
    { .name = "class_one_step_small", .what = "a size-class map with every geometric class one step too small",
      .find = "(bvadd SA_CLASS_STEPS one i)", .replace = "(bvadd SA_CLASS_STEPS i)" },
    { .name = "linear_class_short", .what = "linear classes one byte short (not 16-byte multiples)",
      .find = "(bvshl bin SA_MIN_ALIGN_SHIFT)", .replace = "(bvsub (bvshl bin SA_MIN_ALIGN_SHIFT) one)" },
    { 0 }
};
static const pf_mutant_t m_size_monotone[] = {
    { .name = "four_bins_per_power", .what = "bin_of advancing 4 bins per power of two for 8 classes",
      .find = "(bvshl (bvsub b SA_LINEAR_CLASS_MAX_SHIFT) SA_CLASS_STEPS_SHIFT)",
      .replace = "(bvshl (bvsub b SA_LINEAR_CLASS_MAX_SHIFT) (_ bv2 64))" },
    { 0 }
};
static const pf_mutant_t m_size_agree[] = {
    { .name = "model_rounds_down", .what = "a model of _sa_bin that rounds linear sizes down",
      .find = "(bvadd size (bvsub SA_MIN_ALIGN one)", .replace = "(bvadd size (_ bv0 64)" },
    { .name = "align_shift_wrong", .what = "SA_MIN_ALIGN_SHIFT one too big in the model",
      .konst = "SA_MIN_ALIGN_SHIFT", .delta = 1 },
    { 0 }
};
static const pf_mutant_t m_block_index[] = {
    { .name = "magic_floor", .what = "a wrong magic: floor(2^48 / size), without the + 1",
      .find = "(bvadd (bvudiv (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) block_size) (_ bv1 64))",
      .replace = "(bvudiv (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) block_size)" },
    { .name = "index_shift_28", .what = "SA_BLOCK_INDEX_SHIFT 20 bits too small (magic too coarse)",
      .konst = "SA_BLOCK_INDEX_SHIFT", .delta = -20 },
    { 0 }
};
static const pf_mutant_t m_made_start[] = {
    { .name = "magic_ceiling", .what = "magic the ceiling of 2^48 / size: times a power of two it wraps to 0",
      .find = "(bvadd (bvudiv (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) block_size) (_ bv1 64))",
      .replace = "(bvudiv (bvadd (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) (bvsub block_size (_ bv1 64))) block_size)" },
    { .name = "key_one_block_more", .what = "a made key one block past capacity (an unmade block passes)",
      .find = "(bvmul blocks (bvmul m bs))", .replace = "(bvmul (bvadd blocks (_ bv1 64)) (bvmul m bs))" },
    { .name = "made_test_inclusive", .what = "the made-start test with <= the key",
      .find = "(bvult (bvmul offset m) key)", .replace = "(bvule (bvmul offset m) key)" },
    { .name = "index_shift_32", .what = "SA_BLOCK_INDEX_SHIFT 16 bits smaller (a coarser magic)",
      .konst = "SA_BLOCK_INDEX_SHIFT", .delta = -16 },
    { 0 }
};
static const pf_mutant_t m_reserved[] = {
    { .name = "max_blocks_one_less", .what = "SA_MAX_BLOCKS_PER_PAGE one too small",
      .konst = "SA_MAX_BLOCKS_PER_PAGE", .delta = -1 },
    { 0 }
};
static const pf_mutant_t m_inside[] = {
    { .name = "page0_over_metadata", .what = "page 0's block area starting at the segment start",
      .find = "(ite (= index (_ bv0 64)) SA_SEGMENT_INFO_SIZE", .replace = "(ite (= index (_ bv0 64)) (_ bv0 64)" },
    { 0 }
};
static const pf_mutant_t m_disjoint[] = {
    { .name = "page_area_one_more", .what = "a page area one byte too long",
      .find = "(bvsub (bvshl (bvadd index (_ bv1 64)) (page_shift kind)) (page_start kind index))",
      .replace = "(bvadd (_ bv1 64) (bvsub (bvshl (bvadd index (_ bv1 64)) (page_shift kind)) (page_start kind index)))" },
    { 0 }
};
static const pf_mutant_t m_page_of[] = {
    { .name = "index_small_shift", .what = "pointer -> page with the small-page shift for every kind",
      .find = "(bvlshr (bvand p SA_SEGMENT_MASK) (page_shift kind))",
      .replace = "(bvlshr (bvand p SA_SEGMENT_MASK) SA_SMALL_PAGE_SHIFT)" },
    { 0 }
};
static const pf_mutant_t m_segmap_high[] = {
    { .name = "range_one_unit_more", .what = "the map's range compare passing the unit just past the map",
      .find = "(bvult (segmap_unit p) segmap_units)", .replace = "(bvule (segmap_unit p) segmap_units)" },
    { .name = "unit_half_size", .what = "the map's unit a bit shorter than a segment",
      .find = "(bvlshr p SA_SEGMENT_SHIFT))", .replace = "(bvlshr p (bvsub SA_SEGMENT_SHIFT one)))" },
    { 0 }
};
static const pf_mutant_t m_span_fit[] = {
    { .name = "span_five_doublings", .what = "the run search with five doublings (runs of at most 32 units)",
      .find = "    (span_grow x5 (span_step h6 n))))))))", .replace = "    x5))))))" },
    { .name = "span_grow_by_run", .what = "a doubling that shifts by the whole run found so far, past n",
      .find = "(ite (bvult (bvsub n h) h) (bvsub n h) h))", .replace = "h)" },
    { 0 }
};
static const pf_mutant_t m_span_fits[] = {
    { .name = "span_fits_unit0_as_others", .what = "a span from unit 0 sought as long as from any other unit",
      .find = "(bvand (span_starts free (span_units bs (_ bv0 64))) one)",
      .replace = "(bvand (span_starts free (span_units bs one)) one)" },
    { 0 }
};
static const pf_mutant_t m_span_page[] = {
    { .name = "span_unit0_without_info", .what = "a span from unit 0 as long as from any other (the info forgotten)",
      .find = "(ite (= u (_ bv0 64)) SA_SEGMENT_INFO_SIZE (_ bv0 64))", .replace = "(_ bv0 64)" },
    { .name = "span_units_round_down", .what = "span_units rounding the block's bytes down to whole units",
      .find = "(bvsub SA_SMALL_PAGE_SIZE one))\n          SA_SMALL_PAGE_SHIFT))",
      .replace = "(_ bv0 64))\n          SA_SMALL_PAGE_SHIFT))" },
    { .name = "span_tries_past_scan", .what = "SA_SPAN_TRIES so many that the tries and a span's units pass SCAN's P steps",
      .konst = "SA_SPAN_TRIES", .delta = 32 },
    { 0 }
};
static const pf_mutant_t m_segmap_span[] = {
    { .name = "span_head_above", .what = "a unit table entry that may be a span's first unit after p's unit",
      .find = "(bvule u (unit_of p)))\n", .replace = "(bvule u (bvadd (unit_of p) one)))\n" },
    { 0 }
};
static const pf_mutant_t m_thread_free_word[] = {
    { .name = "count_overlaps_addresses", .what = "the count starts two bits lower, inside the address bits",
      .konst = "SA_THREAD_FREE_COUNT_SHIFT", .delta = -2 },
    { .name = "push_keeps_count", .what = "the push forgets to add one to the count",
      .find = "(bvadd (bvand w (bvnot (bvsub tf_count_one one))) tf_count_one)",
      .replace = "(bvand w (bvnot (bvsub tf_count_one one)))" },
    { 0 }
};
static const pf_mutant_t m_aligned[] = {
    { .name = "align_down", .what = "align_up that rounds down",
      .find = "(bvand (bvadd p (bvsub alignment (_ bv1 64)))", .replace = "(bvand (bvadd p (_ bv0 64))" },
    { .name = "align_mask_off_by_one", .what = "align_up masking with ~alignment",
      .find = "(bvnot (bvsub alignment (_ bv1 64)))))", .replace = "(bvnot alignment)))" },
    { .name = "request_one_byte_short", .what = "aligned_request one byte smaller than proven enough",
      .find = "(bvsub (bvadd (at_least_one size) a) SA_MIN_ALIGN))",
      .replace = "(bvsub (bvsub (bvadd (at_least_one size) a) SA_MIN_ALIGN) (_ bv1 64)))" },
    { .name = "request_size_zero_is_zero", .what = "aligned_request taking size 0 as 0 bytes",
      .find = "(bvsub (bvadd (at_least_one size) a) SA_MIN_ALIGN))",
      .replace = "(bvsub (bvadd size a) SA_MIN_ALIGN))" },
    { 0 }
};

#define SIZE_MAP_GOAL                                                              \
    "(and (page_bin (bin_of size)) (bvuge (block_of size) size)"                    \
    "     (= (bvand (block_of size) (bvsub SA_MIN_ALIGN one)) (_ bv0 64))"           \
    "     (waste_ok size (block_of size))"                                          \
    "     (=> (bvugt (bin_of size) one) (bvugt size (bin_size (bvsub (bin_of size) one)))))"
#define ALIGNED_HYP                                                                \
    "(and (power_of_two a) (bvugt a SA_MIN_ALIGN) (bvule size SA_LARGE_OBJ_SIZE_MAX)"   \
    "     (bvule a SA_LARGE_OBJ_SIZE_MAX)"                                            \
    "     (= (bvand p (bvsub SA_MIN_ALIGN one)) (_ bv0 64))"                          \
    "     (bvule bsize SA_LARGE_OBJ_SIZE_MAX) (bvult p (bvshl one SA_ADDRESS_BITS))"          \
    "     (bvule (bvadd p bsize) (bvshl one SA_ADDRESS_BITS))"                              \
    "     (bvuge bsize (aligned_request size a)))"
/* The pointer handed out lies inside its own block, with max(size, 1) bytes
 * of it (a size-0 request too: its pointer is not the next block's start),
 * aligned, and with room for the tag before it when it is not the start. */
#define ALIGNED_GOAL                                                               \
    "(let ((q (align_up p a)))"                                                    \
    "  (and (= (bvand q (bvsub a one)) (_ bv0 64)) (bvule p q) (bvult q (bvadd p bsize))" \
    "       (bvule (bvadd q (at_least_one size)) (bvadd p bsize))"                  \
    "       (=> (not (= q p)) (bvuge (bvsub q p) SA_MIN_ALIGN))))"

/* The C functions of src/layout.h as SMT tables, for layout_agrees: at every
 * page of every kind (its start, its size, the page index found for its
 * first and last byte, the segment of its last byte, in a segment at
 * SAMPLE_SEGMENT), at every bin (magic, page kind), and _sa_align_up at
 * every alignment 2^0 .. 2^SA_SEGMENT_SHIFT for pointers around a boundary. */
#define SAMPLE_SEGMENT ((uintptr_t)5 << SA_SEGMENT_SHIFT)

static const uintptr_t align_samples[] = { 0, 1, SA_MIN_ALIGN - 1, SA_MIN_ALIGN, SA_MIN_ALIGN + 1,
                                           SA_OS_PAGE_SIZE - 1, SA_OS_PAGE_SIZE + SA_MIN_ALIGN,
                                           SA_SEGMENT_SIZE - SA_MIN_ALIGN };
#define ALIGN_SAMPLES (sizeof align_samples / sizeof *align_samples)

/* (define-fun NAME ((kind BV) (i BV)) BV (ite ... )) over every page of every kind. */
static void page_table(pf_buf_t *out, const char *name, uintptr_t (*f)(sa_page_kind_t, size_t))
{
    pf_buf_addf(out, "(define-fun %s ((kind (_ BitVec 64)) (i (_ BitVec 64))) (_ BitVec 64)\n", name);
    size_t n = 0;
    for (int k = 0; k < SA_PAGE_KIND_COUNT; k++)
        for (size_t i = 0; i < _sa_pages_per_segment((sa_page_kind_t)k); i++, n++)
            pf_buf_addf(out, " (ite (and (= kind (_ bv%d 64)) (= i (_ bv%zu 64))) (_ bv%llu 64)\n",
                        k, i, (unsigned long long)f((sa_page_kind_t)k, i));
    pf_buf_add(out, " (_ bv0 64)");
    for (size_t i = 0; i <= n; i++)
        pf_buf_add(out, ")");
    pf_buf_add(out, "\n");
}

static uintptr_t first_byte(sa_page_kind_t k, size_t i)
{
    return SAMPLE_SEGMENT + _sa_page_area_start(k, i);
}
static uintptr_t last_byte(sa_page_kind_t k, size_t i)
{
    return first_byte(k, i) + _sa_page_area_size(k, i) - 1;
}
static uintptr_t c_start(sa_page_kind_t k, size_t i) { return _sa_page_area_start(k, i); }
static uintptr_t c_size(sa_page_kind_t k, size_t i) { return _sa_page_area_size(k, i); }
static uintptr_t c_index_first(sa_page_kind_t k, size_t i) { return _sa_page_index_of(first_byte(k, i), k); }
static uintptr_t c_index_last(sa_page_kind_t k, size_t i) { return _sa_page_index_of(last_byte(k, i), k); }
static uintptr_t c_segment_last(sa_page_kind_t k, size_t i) { return _sa_segment_of(last_byte(k, i)); }

static void gen_layout_table(pf_buf_t *out)
{
    pf_buf_addf(out, "(define-fun SAMPLE_SEGMENT () (_ BitVec 64) (_ bv%llu 64))\n",
                (unsigned long long)SAMPLE_SEGMENT);
    page_table(out, "c_page_start", c_start);
    page_table(out, "c_page_area_size", c_size);
    page_table(out, "c_index_first", c_index_first);
    page_table(out, "c_index_last", c_index_last);
    page_table(out, "c_segment_last", c_segment_last);
    /* magic per bin as ground terms (a symbolic bin would make Z3 divide
     * symbolically: 5x slower); c_magic_bad names the first bin that differs */
    pf_buf_add(out, "(define-fun c_magic_bad () (_ BitVec 64)\n");
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++)
        pf_buf_addf(out, " (ite (not (= (magic (bin_size (_ bv%zu 64))) (_ bv%llu 64))) (_ bv%zu 64)\n",
                    bin, (unsigned long long)_sa_block_magic(_sa_bin_size(bin)), bin);
    pf_buf_add(out, " (_ bv0 64)");
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX + 1; bin++)
        pf_buf_add(out, ")");
    pf_buf_add(out, "\n(define-fun c_kind_for ((bin (_ BitVec 64))) (_ BitVec 64)\n");
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++)
        pf_buf_addf(out, " (ite (= bin (_ bv%zu 64)) (_ bv%d 64)\n", bin, (int)_sa_page_kind_for(_sa_bin_size(bin)));
    pf_buf_add(out, " (_ bv99 64)");
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX + 1; bin++)
        pf_buf_add(out, ")");
    /* align_up: (e, x) -> _sa_align_up(SAMPLE_SEGMENT + sample x, 2^e) */
    pf_buf_add(out, "\n(define-fun c_align_up ((e (_ BitVec 64)) (x (_ BitVec 64))) (_ BitVec 64)\n");
    size_t n = 0;
    for (unsigned e = 0; e <= SA_SEGMENT_SHIFT; e++)
        for (size_t x = 0; x < ALIGN_SAMPLES; x++, n++)
            pf_buf_addf(out, " (ite (and (= e (_ bv%u 64)) (= x (_ bv%zu 64))) (_ bv%llu 64)\n", e, x,
                        (unsigned long long)_sa_align_up(SAMPLE_SEGMENT + align_samples[x], (uintptr_t)1 << e));
    pf_buf_add(out, " (_ bv0 64)");
    for (size_t i = 0; i <= n; i++)
        pf_buf_add(out, ")");
    pf_buf_add(out, "\n(define-fun align_sample ((x (_ BitVec 64))) (_ BitVec 64)\n");
    for (size_t x = 0; x < ALIGN_SAMPLES; x++)
        pf_buf_addf(out, " (ite (= x (_ bv%zu 64)) (_ bv%llu 64)\n", x,
                    (unsigned long long)(SAMPLE_SEGMENT + align_samples[x]));
    pf_buf_add(out, " (_ bv0 64)");
    for (size_t x = 0; x <= ALIGN_SAMPLES; x++)
        pf_buf_add(out, ")");
    pf_buf_addf(out, "\n(define-fun ALIGN_SAMPLES () (_ BitVec 64) (_ bv%zu 64))\n", ALIGN_SAMPLES);
}

/* ---- agreement tables: the C computes it, a proof is about the model ---------------
 *
 * Each table is a ground conjunction NAME_ok, one equation per row (rows
 * are numbered from 1 in the order generated; a counterexample shows which
 * differ, as NAME_bad). The rows are the C functions of src/ evaluated here on sample inputs
 * chosen at every boundary the arithmetic has. */
typedef struct table_s {
    pf_buf_t *out;
    const char *name;
    pf_buf_t rows_text;     /* the rows, one equation each */
    size_t rows;
} table_t;

static table_t table_begin(pf_buf_t *out, const char *name)
{
    return (table_t){ .out = out, .name = name };
}

/* One row: the model's term `model` equals the C's value. */
static void table_row(table_t *t, const char *model, unsigned long long c_value)
{
    pf_buf_addf(&t->rows_text, "(= %s (_ bv%llu 64))\n", model, c_value);
    t->rows++;
}

/* One row of a predicate: the model's Bool term equals the C's bool. */
static void table_row_bool(table_t *t, const char *model, bool c_value)
{
    pf_buf_addf(&t->rows_text, "(= %s %s)\n", model, c_value ? "true" : "false");
    t->rows++;
}

/* NAME_ok: every row holds (the goal); NAME_bad: the sum of the numbers of
 * the rows that do not (the row's number when one row is wrong), for the
 * counterexample. A flat sum: Z3 4.8.12 rewrites a nested ite ("the first
 * bad row") in time quadratic in its depth (measured: 1,600 rows, 47 s;
 * the sum, 0.4 s). */
static void table_end(table_t *t)
{
    pf_buf_addf(t->out, "(define-fun %s_ok () Bool (and true\n%s))\n", t->name, t->rows_text.s);
    pf_buf_addf(t->out, "(define-fun %s_bad () (_ BitVec 64) (bvadd (_ bv0 64)\n", t->name);
    const char *row = t->rows_text.s;
    for (size_t i = 1; i <= t->rows; i++) {
        const char *nl = strchr(row, '\n');
        pf_buf_addf(t->out, " (ite %.*s (_ bv0 64) (_ bv%zu 64))\n", (int)(nl - row), row, i);
        row = nl + 1;
    }
    pf_buf_add(t->out, "))\n");
    pf_buf_free(&t->rows_text);
}

/* The thread_free word of src/types.h: its masks, _sa_tf_block, _sa_tf_count
 * and _sa_tf_push (the word _sa_free_remote's CAS writes) against the model's
 * tf_* on words at every edge of each field. */
static void gen_thread_free_table(pf_buf_t *out)
{
    table_t t = table_begin(out, "c_tf");
    char term[256];
    table_row(&t, "(bvsub tf_count_one one)", SA_TF_COUNT_ONE - 1);
    table_row(&t, "tf_count_one", SA_TF_COUNT_ONE);
    table_row(&t, "(bvnot (bvsub tf_count_one one))", SA_TF_COUNT_MASK);
    table_row(&t, "tf_block_mask", SA_TF_BLOCK_MASK);
    table_row(&t, "tf_notify_mask", SA_NOTIFY_MASK);
    const uintptr_t blocks[] = { 0, SA_MIN_ALIGN, (uintptr_t)5 << SA_SEGMENT_SHIFT,
                                 ((uintptr_t)1 << SA_ADDRESS_BITS) - SA_MIN_ALIGN };
    const uintptr_t counts[] = { 0, 1, SA_MAX_BLOCKS_PER_PAGE - 1, SA_MAX_BLOCKS_PER_PAGE };
    for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++)
        for (uintptr_t nt = SA_NOTIFY_NONE; nt <= SA_NOTIFY_QUEUED; nt++)
            for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
                uintptr_t w = blocks[bi] | nt | (counts[ci] << SA_THREAD_FREE_COUNT_SHIFT);
                snprintf(term, sizeof term, "(tf_word (_ bv%llu 64) (_ bv%llu 64) (_ bv%llu 64))",
                         (unsigned long long)blocks[bi], (unsigned long long)nt,
                         (unsigned long long)counts[ci]);
                table_row(&t, term, w);
                snprintf(term, sizeof term, "(tf_block (_ bv%llu 64))", (unsigned long long)w);
                table_row(&t, term, (uintptr_t)_sa_tf_block(w));
                snprintf(term, sizeof term, "(tf_count (_ bv%llu 64))", (unsigned long long)w);
                table_row(&t, term, _sa_tf_count(w));
                snprintf(term, sizeof term, "(tf_notify (_ bv%llu 64))", (unsigned long long)w);
                table_row(&t, term, w & SA_NOTIFY_MASK);
                if (counts[ci] == SA_MAX_BLOCKS_PER_PAGE)
                    continue;
                /* a push of another block with every notify the CAS may write */
                for (uintptr_t nt2 = SA_NOTIFY_NONE; nt2 <= SA_NOTIFY_QUEUED; nt2++) {
                    const sa_block_t *b2 = (const sa_block_t *)blocks[(bi + 1) % 4];
                    snprintf(term, sizeof term, "(tf_push (_ bv%llu 64) (_ bv%llu 64) (_ bv%llu 64))",
                             (unsigned long long)w, (unsigned long long)(uintptr_t)b2,
                             (unsigned long long)nt2);
                    table_row(&t, term, _sa_tf_push(w, b2, nt2));
                }
            }
    table_end(&t);
}

/* _sa_block_index, _sa_block_is_start, _sa_block_made_key and
 * _sa_block_is_made_start (the multiply and compare free does on every call)
 * against the model's block_index, block_is_start, made_key and
 * block_made_start, for every bin, at the offsets around the first, second
 * and last block start and the page's last byte (and as far before the
 * start, for the made-start test), with the magic the C computes
 * (layout_agrees ties it to the model's). */
static void gen_block_index_table(pf_buf_t *out)
{
    table_t t = table_begin(out, "c_index");
    char term[256];
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t bs = _sa_bin_size(bin);
        uint64_t magic = _sa_block_magic(bs);
        size_t page = (size_t)1 << _sa_page_shift(_sa_page_kind_for(bs));
        size_t last = (page / bs) * bs;
        const size_t offs[] = { 0, 1, bs - 1, bs, bs + 1, 2 * bs - 1, last - bs, last - 1, last,
                                last + 1 < page ? last + 1 : last, page - 1 };
        for (size_t k = 0; k < sizeof offs / sizeof *offs; k++) {
            snprintf(term, sizeof term, "(block_index (_ bv%zu 64) (_ bv%llu 64))", offs[k],
                     (unsigned long long)magic);
            table_row(&t, term, _sa_block_index(offs[k], magic));
            snprintf(term, sizeof term, "(block_is_start (_ bv%zu 64) (_ bv%llu 64))", offs[k],
                     (unsigned long long)magic);
            table_row_bool(&t, term, _sa_block_is_start(offs[k], magic));
        }
        /* the made key of no block, one, and the page's worth; the made-start
         * test at those offsets and as far before the start */
        const size_t made[] = { 0, 1, page / bs };
        for (size_t c = 0; c < sizeof made / sizeof *made; c++) {
            uint64_t key = _sa_block_made_key(made[c], bs, magic);
            snprintf(term, sizeof term, "(made_key (_ bv%zu 64) (_ bv%zu 64) (_ bv%llu 64))", made[c], bs,
                     (unsigned long long)magic);
            table_row(&t, term, key);
            for (size_t k = 0; k < sizeof offs / sizeof *offs; k++)
                for (int sign = 0; sign < 2; sign++) {
                    uintptr_t off = sign ? -(uintptr_t)offs[k] : offs[k];
                    snprintf(term, sizeof term, "(block_made_start (_ bv%llu 64) (_ bv%llu 64) (_ bv%llu 64))",
                             (unsigned long long)off, (unsigned long long)magic, (unsigned long long)key);
                    table_row_bool(&t, term, _sa_block_is_made_start(off, magic, key));
                }
        }
    }
    table_end(&t);
}

/* _sa_aligned_request against aligned_request: every alignment above
 * SA_MIN_ALIGN up to SA_LARGE_OBJ_SIZE_MAX, sizes 0, 1 and around the
 * alignment and the largest small request. */
static void gen_aligned_table(pf_buf_t *out)
{
    table_t t = table_begin(out, "c_request");
    char term[256];
    for (size_t a = 2 * SA_MIN_ALIGN; a <= SA_LARGE_OBJ_SIZE_MAX; a *= 2) {
        const size_t sizes[] = { 0, 1, SA_MIN_ALIGN - 1, SA_MIN_ALIGN, a - 1, a, a + 1,
                                 SA_LARGE_OBJ_SIZE_MAX - a };
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            snprintf(term, sizeof term, "(aligned_request (_ bv%zu 64) (_ bv%zu 64))", sizes[k], a);
            table_row(&t, term, _sa_aligned_request(sizes[k], a));
        }
    }
    table_end(&t);
}

/* _sa_page_of(seg, p), the page lookup free really does (through the
 * segment's unit table, filled as segment.c and huge.c fill it, by
 * _sa_segment_unit_set), against page_index_of, at the first and last byte
 * of every unit of every kind; and _sa_segmap_unit, the segment map's
 * index, against segmap_unit below, at and above 2^SA_ADDRESS_BITS. */
/* Rows of page_of_agrees: _sa_page_of through seg's unit table against
 * page_index_of with kind_term, at the first and last byte of every unit. */
static void page_of_rows(table_t *t, const sa_segment_t *seg, const char *kind_term)
{
    char term[256];
    for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++) {
        const uintptr_t first = SAMPLE_SEGMENT + ((uintptr_t)u << SA_SMALL_PAGE_SHIFT);
        const uintptr_t ps[] = { first, first + SA_SMALL_PAGE_SIZE - 1 };
        for (size_t x = 0; x < 2; x++) {
            snprintf(term, sizeof term, "(page_index_of (_ bv%llu 64) %s)", (unsigned long long)ps[x], kind_term);
            table_row(t, term, (size_t)(_sa_page_of(seg, (const void *)ps[x]) - seg->pages));
        }
    }
}

/* Spans cut in a large segment for page_of_agrees: (first unit, units),
 * { 0, 0 } ends a layout. At both ends of the segment, next to each other,
 * one unit long, the longest, with free units between. */
static const struct { size_t u, n; } span_layouts[][4] = {
    { { 0, 33 }, { 33, 31 }, { 0, 0 } },
    { { 1, 1 }, { 2, 5 }, { 40, 24 }, { 0, 0 } },
    { { 0, 1 }, { 63, 1 }, { 0, 0 } },
    { { 10, 17 }, { 28, 33 }, { 0, 0 } },
};

/* _sa_page_of(seg, p), the page lookup free really does (through the
 * segment's unit table: _sa_page_of_unit of p's unit, as free's
 * _sa_page_of_block_start), against the model at the first and last byte of
 * every unit: filled as segment_carve fills it for each kind (its
 * layout_kind's pages), as huge_header does (one page, entry 0), and as
 * span_alloc does for the spans above in a large segment
 * (_sa_segment_span_unit_set: span_page_of); and _sa_segmap_unit, the
 * segment map's index, and _sa_segment_of_unit, the segment free reads,
 * against segmap_unit and segmap_segment below, at and above
 * 2^SA_ADDRESS_BITS. */
static void gen_page_of_table(pf_buf_t *out)
{
    static sa_segment_t seg;
    table_t t = table_begin(out, "c_page_of");
    char term[256];
    for (int k = 0; k < SA_PAGE_KIND_COUNT; k++) {
        for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++)
            _sa_segment_unit_set(&seg, u, _sa_layout_kind((sa_page_kind_t)k));
        snprintf(term, sizeof term, "(layout_kind (_ bv%d 64))", k);
        page_of_rows(&t, &seg, term);
    }
    for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++)
        _sa_segment_unit_set(&seg, u, SA_PAGE_LARGE);
    page_of_rows(&t, &seg, "SA_PAGE_LARGE");
    for (size_t l = 0; l < sizeof span_layouts / sizeof *span_layouts; l++) {
        for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++)
            _sa_segment_unit_set(&seg, u, _sa_layout_kind(SA_PAGE_LARGE));
        for (size_t i = 0; span_layouts[l][i].n != 0; i++)
            for (size_t v = span_layouts[l][i].u; v < span_layouts[l][i].u + span_layouts[l][i].n; v++)
                _sa_segment_span_unit_set(&seg, v, span_layouts[l][i].u);
        for (size_t u = 0; u < SA_SMALL_PAGES_PER_SEGMENT; u++) {
            /* the last span from u or below (the model says whether it
             * holds u: the unit after a span is asked about that span) */
            size_t su = 0, sn = 0;
            for (size_t i = 0; span_layouts[l][i].n != 0; i++)
                if (span_layouts[l][i].u <= u) {
                    su = span_layouts[l][i].u;
                    sn = span_layouts[l][i].n;
                }
            const uintptr_t first = SAMPLE_SEGMENT + ((uintptr_t)u << SA_SMALL_PAGE_SHIFT);
            const uintptr_t ps[] = { first, first + SA_SMALL_PAGE_SIZE - 1 };
            for (size_t x = 0; x < 2; x++) {
                snprintf(term, sizeof term, "(span_page_of (_ bv%llu 64) (_ bv%zu 64) (_ bv%zu 64))",
                         (unsigned long long)ps[x], su, sn);
                table_row(&t, term, (size_t)(_sa_page_of(&seg, (const void *)ps[x]) - seg.pages));
            }
        }
    }
    const uintptr_t top = (uintptr_t)1 << SA_ADDRESS_BITS;
    const uintptr_t ptrs[] = { 0, SA_SEGMENT_SIZE - 1, SAMPLE_SEGMENT, top - 1, top, top + SAMPLE_SEGMENT,
                               top << 1, UINTPTR_MAX };
    for (size_t x = 0; x < sizeof ptrs / sizeof *ptrs; x++) {
        snprintf(term, sizeof term, "(segmap_unit (_ bv%llu 64))", (unsigned long long)ptrs[x]);
        table_row(&t, term, _sa_segmap_unit((const void *)ptrs[x]));
        /* the segment free reads once the map says the unit is live */
        snprintf(term, sizeof term, "(segmap_segment (_ bv%llu 64))", (unsigned long long)ptrs[x]);
        table_row(&t, term, (uintptr_t)_sa_segment_of_unit(_sa_unit_of((const void *)ptrs[x])));
    }
    table_end(&t);
}

/* The span functions of src/layout.h (the run search and the shape of a
 * large page) against the model's: _sa_span_starts for run lengths at the
 * edges of each doubling on masks of every pattern (none free, all, alternate units, runs at both
 * ends, irregular); for every large bin, _sa_span_units and
 * _sa_span_area_size from units 0, 1 and the last, and _sa_span_fits on
 * half those masks; _sa_span_mask at both ends. */
static void gen_span_table(pf_buf_t *out)
{
    static const uint64_t frees[] = { 0, UINT64_MAX, 1, (uint64_t)1 << 63, 0x5555555555555555ull,
                                      0xf0f0f0f0f0f0f0f0ull, 0x00000000ffffffffull, 0xffffffff00000000ull,
                                      0x0123456789abcdefull, 0xfedcba9876543210ull, 0x7ffffffffffffffeull,
                                      0x000ffff0000fff00ull };
    const size_t nfree = sizeof frees / sizeof *frees;
    table_t t = table_begin(out, "c_span");
    char term[256];
    /* run lengths at each doubling's edges (span_fit proves every length) */
    static const size_t lengths[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64 };
    for (size_t f = 0; f < nfree; f++)
        for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++) {
            snprintf(term, sizeof term, "(span_starts (_ bv%llu 64) (_ bv%zu 64))", (unsigned long long)frees[f],
                     lengths[k]);
            table_row(&t, term, _sa_span_starts(frees[f], lengths[k]));
        }
    for (size_t bin = 1; bin <= SA_BIN_LARGE_MAX; bin++) {
        size_t bs = _sa_bin_size(bin);
        if (_sa_page_kind_for(bs) != SA_PAGE_LARGE)
            continue;
        const size_t us[] = { 0, 1, SA_SMALL_PAGES_PER_SEGMENT - 1 };
        for (size_t k = 0; k < sizeof us / sizeof *us; k++) {
            size_t units = _sa_span_units(bs, us[k]);
            snprintf(term, sizeof term, "(span_units (_ bv%zu 64) (_ bv%zu 64))", bs, us[k]);
            table_row(&t, term, units);
            snprintf(term, sizeof term, "(span_area_size (_ bv%zu 64) (_ bv%zu 64))", us[k], units);
            table_row(&t, term, _sa_span_area_size(us[k], units));
        }
        for (size_t f = 0; f < nfree; f += 2) {     /* every other mask: span_fits proves the rest */
            snprintf(term, sizeof term, "(span_fits (_ bv%llu 64) (_ bv%zu 64))", (unsigned long long)frees[f], bs);
            table_row(&t, term, _sa_span_fits(frees[f], bs));
        }
    }
    const size_t mask_at[][2] = { { 0, 1 }, { 0, 33 }, { 5, 7 }, { 31, 33 }, { 63, 1 } };
    for (size_t k = 0; k < sizeof mask_at / sizeof *mask_at; k++) {
        snprintf(term, sizeof term, "(span_mask (_ bv%zu 64) (_ bv%zu 64))", mask_at[k][0], mask_at[k][1]);
        table_row(&t, term, _sa_span_mask(mask_at[k][0], mask_at[k][1]));
    }
    table_end(&t);
}

/* One agreement obligation: no free variable, the table's NAME_bad is 0. */
#define AGREES(name_, covers_, gen_, table_, mutants_)                                \
    { .name = name_, .covers = covers_, .models = "size_class layout", .bv = true,   \
      .decls = "", .gen = gen_, .hyp = "true", .goal = table_ "_ok",                  \
      .show = "int:" table_ "_bad", .mutants = mutants_ }

static const pf_mutant_t m_tf_agree[] = {
    { .name = "model_count_shift_low", .what = "a model whose count field starts one bit lower than types.h's",
      .konst = "SA_THREAD_FREE_COUNT_SHIFT", .delta = -1 },
    { .name = "model_block_mask_keeps_notify", .what = "a model block mask that keeps the notify bits",
      .find = "(bvand (bvsub tf_count_one one) (bvnot tf_notify_mask))", .replace = "(bvsub tf_count_one one)" },
    { 0 }
};
static const pf_mutant_t m_index_agree[] = {
    { .name = "model_index_rounds_up", .what = "a model block_index that rounds the product up",
      .find = "(bvlshr (bvmul offset (bvlshr m (bvsub (_ bv64 64) SA_BLOCK_INDEX_SHIFT))) SA_BLOCK_INDEX_SHIFT))",
      .replace = "(bvlshr (bvadd (bvmul offset (bvlshr m (bvsub (_ bv64 64) SA_BLOCK_INDEX_SHIFT)))"
                 " (bvsub (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) (_ bv1 64))) SA_BLOCK_INDEX_SHIFT))" },
    { .name = "model_start_test_inclusive", .what = "a model block_is_start with <= magic",
      .find = "(bvult (bvmul offset m) m)", .replace = "(bvule (bvmul offset m) m)" },
    { .name = "model_made_key_unwrapped", .what = "a model made key of capacity * block_size (the bytes made)",
      .find = "(bvmul blocks (bvmul m bs))", .replace = "(bvmul blocks bs)" },
    { 0 }
};
static const pf_mutant_t m_request_agree[] = {
    { .name = "model_request_no_byte", .what = "the model's aligned_request without max(size, 1)",
      .find = "(bvadd (at_least_one size) a)", .replace = "(bvadd size a)" },
    { 0 }
};
static const pf_mutant_t m_page_of_agree[] = {
    { .name = "model_page_of_medium_shift", .what = "the model's page_index_of with the medium shift for every kind",
      .find = "(bvlshr (bvand p SA_SEGMENT_MASK) (page_shift kind))",
      .replace = "(bvlshr (bvand p SA_SEGMENT_MASK) SA_MEDIUM_PAGE_SHIFT)" },
    { .name = "model_segmap_unit_masked", .what = "the model's segmap_unit masked to the map",
      .find = "(bvlshr p SA_SEGMENT_SHIFT))",
      .replace = "(bvand (bvlshr p SA_SEGMENT_SHIFT) (bvsub segmap_units one)))" },
    { .name = "model_span_one_unit_longer", .what = "the model's span_page_of taking the unit after a span for it",
      .find = "(bvult (unit_of p) (bvadd u n))", .replace = "(bvule (unit_of p) (bvadd u n))" },
    { .name = "model_large_layout_one_page", .what = "the model's layout_kind keeping a large segment one page",
      .find = "(ite (= kind SA_PAGE_LARGE) SA_PAGE_SMALL kind))", .replace = "kind)" },
    { 0 }
};

static const pf_mutant_t m_span_agree[] = {
    { .name = "model_span_mask_one_short", .what = "the model's span_mask one unit short",
      .find = "(bvshl (bvsub (bvshl one n) one) u))", .replace = "(bvshl (bvsub (bvshl one (bvsub n one)) one) u))" },
    { .name = "model_span_area_from_unit_end", .what = "the model's span_area_size counting from the end of unit u",
      .find = "(bvsub (bvshl (bvadd u n) SA_SMALL_PAGE_SHIFT) (page_start SA_PAGE_SMALL u)))",
      .replace = "(bvsub (bvshl (bvadd u n) SA_SMALL_PAGE_SHIFT) (bvshl (bvadd u one) SA_SMALL_PAGE_SHIFT)))" },
    { 0 }
};

static const pf_mutant_t m_layout_agree[] = {
    { .name = "kind_for_strict", .what = "page_kind_for sends blocks of exactly SA_SMALL_OBJ_SIZE_MAX to medium pages",
      .find = "(bvule block_size SA_SMALL_OBJ_SIZE_MAX)", .replace = "(bvult block_size SA_SMALL_OBJ_SIZE_MAX)" },
    { .name = "info_size_wrong", .what = "SA_SEGMENT_INFO_SIZE doubled in the model",
      .konst = "SA_SEGMENT_INFO_SIZE", .delta = SA_SEGMENT_INFO_SIZE },
    { .name = "magic_off_by_one", .what = "a model magic one too big",
      .find = "SA_BLOCK_INDEX_SHIFT) block_size) (_ bv1 64))", .replace = "SA_BLOCK_INDEX_SHIFT) block_size) (_ bv2 64))" },
    { 0 }
};

#define LAYOUT_AGREE_HYP                                                           \
    "(and (page_kind kind) (bvult i (pages_per_segment kind)) (page_bin bin)"       \
    "     (bvule e SA_SEGMENT_SHIFT) (bvult x ALIGN_SAMPLES))"
#define LAYOUT_AGREE_GOAL                                                          \
    "(and (= (page_start kind i) (c_page_start kind i))"                           \
    "     (= (page_area_size kind i) (c_page_area_size kind i))"                    \
    "     (= (page_index_of (bvadd SAMPLE_SEGMENT (c_page_start kind i)) kind) (c_index_first kind i))" \
    "     (= (page_index_of (bvadd SAMPLE_SEGMENT (c_page_start kind i) (c_page_area_size kind i)"      \
    "                              (bvneg one)) kind) (c_index_last kind i))"                            \
    "     (= (segment_of (bvadd SAMPLE_SEGMENT (c_page_start kind i) (c_page_area_size kind i)"         \
    "                          (bvneg one))) (c_segment_last kind i))"                                   \
    "     (= c_magic_bad (_ bv0 64))"                                                   \
    "     (= (page_kind_for (bin_size bin)) (c_kind_for bin))"                          \
    "     (= (align_up (align_sample x) (bvshl one e)) (c_align_up e x)))"

/* A large page for one block of bs from unit u: clear of the info, in the
 * segment, holding the block with less than a unit to spare, no longer than
 * made_start's proven offsets reach (a large kind's page shift), not more
 * blocks than SA_MAX_BLOCKS_PER_PAGE; a fresh segment holds one from unit
 * 0, and span_alloc's tries and its units stay within bounds.smt2's SCAN. */
#define SPAN_PAGE_GOAL                                                             \
    "(let ((bs (bin_size bin)))"                                                    \
    " (let ((start (page_start SA_PAGE_SMALL u)) (area (span_area_size u (span_units bs u))))" \
    "  (and (bvuge start SA_SEGMENT_INFO_SIZE) (bvule (bvadd start area) SA_SEGMENT_SIZE)" \
    "       (bvuge area bs) (bvult (bvsub area bs) SA_SMALL_PAGE_SIZE)"                \
    "       (bvule area (bvshl one (page_shift SA_PAGE_LARGE)))"                       \
    "       (bvult area (bvmul (bvadd SA_MAX_BLOCKS_PER_PAGE one) bs))"                \
    "       (bvule (span_units bs (_ bv0 64)) SA_SMALL_PAGES_PER_SEGMENT)"             \
    "       (bvule (bvadd SA_SPAN_TRIES (span_units bs (_ bv0 64))) SA_MAX_PAGES_PER_SEGMENT))))"

#define RACE_HYP                                                                \
    "(and (inv s) (collect_take s m1) (free_remote m1 m2 b) (collect_finish m2 t)" \
    "     (collect s u) (free_remote u v b))"
#define RACE_DECLS PAGE_DECLS \
    " (declare-const m1 Page) (declare-const m2 Page) (declare-const u Page) (declare-const v Page)" \
    " (declare-const c Int) (declare-const i Int)"

const pf_obligation_t pf_obligations[] = {
    /* 1: the initial state */
    { .name = "init_inv", .covers = "_sa_page_init", .models = "page",
      .decls = "(declare-const t Page) (declare-const bsize Int) (declare-const area Int)",
      .hyp = "(page_init t bsize area)", .goal = "(inv t)",
      .finite = PAGE_FINITE, .finite_hyp = "(<= (reserved t) 4)", .show = "page:t int:bsize int:area",
      .mutants = m_init },
    /* 2: every transition preserves the invariant */
    PRESERVES("inv_alloc_pop", "(alloc_pop s t b)", "sa_malloc fast path: page_pop (alloc.c)", m_alloc_pop),
    PRESERVES("inv_extend", "(extend s t)", "_sa_page_extend", m_extend),
    PRESERVES("inv_free_local", "(free_local s t b)", "_sa_free_local", m_free_local),
    PRESERVES("inv_free_lifo", "(free_lifo s t b)", "sa_free fast path, _sa_free_local: free_lifo_push (free.c)",
              m_free_lifo),
    PRESERVES("inv_free_remote", "(free_remote s t b)", "_sa_free_remote", m_free_remote),
    PRESERVES("inv_collect", "(collect s t)", "_sa_page_collect", m_collect),
    PRESERVES("inv_order_free", "(order_free s t)", "_sa_page_collect (free_order)", m_order_free),
    PRESERVES("inv_to_full", "(to_full s t)", "_sa_page_to_full", m_to_full),
    PRESERVES("inv_unfull", "(unfull s t popped)", "_sa_page_unfull", m_unfull),
    PRESERVES("inv_retire", "(retire s t)", "_sa_page_retire", m_retire),
    PRESERVES("inv_abandon", "(abandon s t)", "_sa_page_abandon", m_abandon),
    PRESERVES("inv_reclaim", "(reclaim s t)", "_sa_page_reclaim", m_reclaim),
    { .name = "full_no_local", .covers = "sa_free fast path (local_free non-empty: not full), free_local_slow",
      .models = "page", .decls = PAGE_DECLS " (declare-const bsize Int) (declare-const area Int)",
      .hyp = "(or (page_init t bsize area) (and (full_no_local s) (page_step s t b popped)))",
      .goal = "(full_no_local t)", .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL,
      .show = PAGE_SHOW, .mutants = m_full_no_local },
    /* 2: remote free racing with collect, the exchange as linearization point */
    { .name = "race_collect_take", .covers = "_sa_page_collect (atomic exchange)", .models = "page",
      .decls = PAGE_DECLS, .hyp = "(and (inv s) (collect_take s t))", .goal = "(inv_core t)",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_take },
    { .name = "race_free_remote", .covers = "_sa_free_remote during _sa_page_collect", .models = "page",
      .decls = PAGE_DECLS, .hyp = "(and (inv_core s) (free_remote s t b))", .goal = "(inv_core t)",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_free_remote },
    { .name = "race_collect_finish", .covers = "_sa_page_collect (append, used -= taken)", .models = "page",
      .decls = PAGE_DECLS, .hyp = "(and (inv_core s) (collect_finish s t))", .goal = "(inv t)",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_finish },
    /* collect_take; free_remote; collect_finish == collect; free_remote, split
     * in two goals (counters and locations; list order): Z3 is 5x faster on
     * the parts. The quantifiers of page_equiv appear as free constants c, i:
     * the negated goal is existential anyway. */
    { .name = "race_linearizes", .covers = "_sa_page_collect || _sa_free_remote", .models = "page",
      .decls = RACE_DECLS, .hyp = RACE_HYP,
      .goal = "(and (page_equiv_scalars t v) (page_equiv_block t v c))",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = "page:s page:t page:v int:b int:c",
      .mutants = m_linear },
    { .name = "race_linearizes_lists", .covers = "_sa_page_collect || _sa_free_remote", .models = "page",
      .decls = RACE_DECLS, .hyp = RACE_HYP,
      .goal = "(and (page_equiv_slot t v FREE i) (page_equiv_slot t v LOCAL i)"
              "     (page_equiv_slot t v THREAD i))",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = "page:s page:t page:v int:b int:i",
      .mutants = m_linear },
    /* 3: no double hand-out, nothing lost */
    { .name = "alloc_fresh", .covers = "sa_malloc fast path: page_pop (alloc.c)", .models = "page",
      .decls = PAGE_DECLS, .hyp = "(and (inv s) (alloc_pop s t b))", .goal = ALLOC_FRESH_GOAL,
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_alloc_fresh },
    { .name = "no_block_twice", .covers = "_sa_page_check (lists acyclic, disjoint), sa_malloc", .models = "page",
      .decls = PAGE_DECLS " (declare-const l Loc) (declare-const l2 Loc) (declare-const i Int)"
               " (declare-const j Int)",
      .hyp = "(inv s)", .goal = NO_BLOCK_TWICE_GOAL,
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = "page:s int:l int:i int:l2 int:j",
      .mutants = m_live_no_list },
    { .name = "collect_frees_all_but_live", .covers = "_sa_page_collect (page_find: |free| = capacity - used)",
      .models = "page", .decls = PAGE_DECLS, .hyp = "(and (inv s) (collect s t))", .goal = COLLECT_FREES_GOAL,
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_collect_keeps },
    { .name = "retire_only_empty", .covers = "_sa_page_retire", .models = "page",
      .decls = PAGE_DECLS, .hyp = "(and (inv s) (retire s t))", .goal = RETIRE_EMPTY_GOAL,
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW, .mutants = m_retire_empty },
    /* 4: bounded steps */
    { .name = "bound_starts", .covers = "_sa_malloc_generic, _sa_free_remote, _sa_free_local",
      .models = "page bounds",
      .decls = RUN_DECLS " (declare-const r3 Run) (declare-const r4 Run) (declare-const r5 Run)",
      .hyp = "(and (malloc_start r) (free_remote_start r3) (free_local_start r4 false) (free_local_start r5 true))",
      .goal = "(and (within r B_MALLOC) (within r3 B_FREE_REMOTE) (within r4 B_FREE_LOCAL)"
              " (within r5 B_FREE_LOCAL_PRESSURE))",
      .show = "int:(rem r) int:(rem r3) int:(rem r4) int:(rem r5) int:B_MALLOC int:B_FREE_REMOTE",
      .report = "B_MALLOC B_HEARTBEAT B_REMOTE B_RECLAIM B_SEARCH B_FRESH B_HOUSEKEEPING "
                "B_FREE_REMOTE B_FREE_LOCAL B_FREE_LOCAL_PRESSURE B_RETIRE B_CANDIDATE B_ORDER",
      .mutants = m_bound_start },
    { .name = "bound_malloc", .covers = "_sa_malloc_generic, _sa_page_queue_find, _sa_page_queue_fresh, _sa_page_collect, _sa_page_extend, "
      "_sa_heap_take_remote_pages, _sa_segments_reclaim, _sa_segment_page_alloc, _sa_heap_housekeeping, _sa_heap_retire_sweep, "
      "_sa_segment_cache_purge", .models = "page bounds", .decls = RUN_DECLS,
      .hyp = "(and (within r B_MALLOC) (malloc_step r r2 p d))", .goal = WITHIN_AFTER("B_MALLOC"),
      .show = RUN_SHOW, .mutants = m_bound_malloc },
    { .name = "bound_free_remote", .covers = "_sa_free_remote, _sa_heap_remote_push",
      .models = "page bounds", .decls = RUN_DECLS,
      .hyp = "(and (within r B_FREE_REMOTE) (free_step r r2 watched d))", .goal = WITHIN_AFTER("B_FREE_REMOTE"),
      .show = RUN_SHOW, .mutants = m_bound_free_remote },
    /* under memory pressure or not: lim, the retire's allowance, is the
     * pressure's (and stays so until DONE) */
    { .name = "bound_free_local", .covers = "_sa_free_local, _sa_page_unfull, _sa_page_mark_empty",
      .models = "page bounds", .decls = RUN_DECLS " (declare-const pressure Bool)",
      .hyp = "(and (within r (free_local_bound pressure)) (free_step r r2 watched d)"
             " (not (= (pc r) FREE_PUSH)) (not (= (pc r) FREE_NOTIFY))"
             " (= (lim r) (free_local_lim pressure)))",
      .goal = "(and " WITHIN_AFTER("(free_local_bound pressure)")
              " (=> (not (= (pc r2) DONE)) (= (lim r2) (free_local_lim pressure))))",
      .show = RUN_SHOW " bool:pressure", .mutants = m_bound_free_local },
    /* 5: the fast path's cadence */
    /* what the generic path hands the fast path (a collected or extended
     * page) starts a cadence: at most capacity pops before the next call */
    { .name = "cadence_after_generic", .covers = "_sa_malloc_generic: _sa_page_collect, _sa_page_extend",
      .models = "page bounds", .decls = CADENCE_DECLS,
      .hyp = "(and (inv s) (or (collect s t) (extend s t) (order_free s t)))", .goal = "(cadence t 0 0)",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL, .show = PAGE_SHOW,
      .mutants = m_cadence_generic },
    { .name = "cadence", .covers = "sa_malloc fast path, sa_free fast path (free_lifo's budget), _sa_free_local, _sa_free_remote",
      .models = "page bounds", .decls = CADENCE_DECLS,
      .hyp = "(and (inv s) (cadence s fast lifo) (fast_step s t b popped fast fast2 lifo lifo2))",
      .goal = "(and (cadence t fast2 lifo2) (<= fast2 (+ (capacity t) SA_LIFO_FREES_MAX)))",
      .finite = PAGE_FINITE, .finite_hyp = PAGE_SMALL,
      .show = PAGE_SHOW " int:fast int:fast2 int:lifo int:lifo2", .report = "SA_LIFO_FREES_MAX",
      .mutants = m_cadence },
    /* 5a: the remote cache's pops between generic calls */
    { .name = "cache_cadence_after_generic", .covers = "_sa_malloc_generic (rcache_keeps_generic)",
      .models = "page bounds", .decls = CACHE_DECLS,
      .hyp = "(and (<= 0 l0) (<= l0 CACHE_CAP))", .goal = "(cache_cadence (cache_generic l0) l0)",
      .show = CACHE_SHOW, .mutants = m_cache_generic },
    { .name = "cache_cadence",
      .covers = "_sa_free_remote (remote_cache_may_keep, remote_cache_keep), sa_malloc fast path "
                "(the cache's pops), _sa_remote_cache_flush",
      .models = "page bounds", .decls = CACHE_DECLS,
      .hyp = "(and (cache_cadence c l0) (cache_step c d))",
      .goal = "(and (cache_cadence d l0) (<= (pops d) (+ CACHE_CAP SA_REMOTE_CACHE_KEEPS_MAX)))",
      .show = CACHE_SHOW, .report = "SA_REMOTE_CACHE_KEEPS_MAX", .mutants = m_cache_cadence },
    /* 5b: abandoned segments are visited within a bounded number of exits */
    { .name = "exit_visit", .covers = "_sa_heap_done, _sa_segments_reclaim, _sa_segments_abandon",
      .models = "page bounds", .decls = QUEUE_DECLS,
      .hyp = "(and (queued q) (exit_step q q2 h rel a visited))",
      .goal = "(or visited (and (queued q2) (<= (exits_left (qp q2)) (- (exits_left (qp q)) 1))))",
      .show = QUEUE_SHOW, .report = "SA_EXIT_RECLAIM", .mutants = m_exit_visit },
    { .name = "abandon_fifo", .covers = "_sa_segments_reclaim (malloc path, sa_collect), _sa_segments_abandon",
      .models = "page bounds", .decls = QUEUE_DECLS,
      .hyp = "(and (queued q) (other_step q q2 t app visited))",
      .goal = "(or visited (and (queued q2) (<= (qp q2) (qp q))))",
      .show = QUEUE_SHOW, .mutants = m_abandon_fifo },
    /* 6: division-free block index, every bin, every offset */
    { .name = "block_index", .covers = "_sa_block_magic, _sa_block_index, _sa_block_is_start",
      .models = "size_class layout", .bv = true, .per_bin = 1, .decls = BV("q") BV("r"),
      .hyp = "(page_offset q r (bin_size BIN))",
      .goal = "(index_exact q r (bin_size BIN))",
      .show = "int:(offset_of q r (bin_size BIN)) int:q int:r int:(magic (bin_size BIN))"
              " int:(block_index (offset_of q r (bin_size BIN)) (magic (bin_size BIN)))"
              " int:(block_is_start (offset_of q r (bin_size BIN)) (magic (bin_size BIN)))"
              " int:(index_right q r (bin_size BIN)) int:(start_right q r (bin_size BIN))",
      .mutants = m_block_index },
    { .name = "made_start", .covers = "_sa_block_made_key, _sa_block_is_made_start, _sa_page_of_block_start",
      .models = "size_class layout", .bv = true, .per_bin = 1, .decls = BV("q") BV("r") BV("c"),
      .hyp = "(let ((bs (bin_size BIN))) (let ((n (bvudiv (bvshl one (page_shift (page_kind_for bs))) bs)))"
             "  (and (bvult r bs) (bvule q n) (bvule c n))))",
      .goal = "(made_start_exact q r c (bin_size BIN))",
      .show = "int:(offset_of q r (bin_size BIN)) int:q int:r int:c int:(magic (bin_size BIN))"
              " int:(made_key c (bin_size BIN) (magic (bin_size BIN)))"
              " int:(made_start_forward q r c (bin_size BIN)) int:(made_start_backward q r c (bin_size BIN))",
      .mutants = m_made_start },
    { .name = "reserved_bound", .covers = "_sa_page_init (reserved: small and medium pages; a large page's, span_page), "
      "SA_MAX_BLOCKS_PER_PAGE",
      .models = "size_class layout", .bv = true, .decls = BV("bin") BV("idx"),
      .hyp = "(and (page_bin bin) (not (= (page_kind_for (bin_size bin)) SA_PAGE_LARGE))"
             "     (bvult idx (pages_per_segment (page_kind_for (bin_size bin)))))",
      .goal = "(let ((bs (bin_size bin))) (let ((area (page_area_size (page_kind_for bs) idx)))"
              "  (and (bvuge bs SA_MIN_ALIGN) (bvuge area bs)"
              "       (bvult area (bvmul (bvadd SA_MAX_BLOCKS_PER_PAGE one) bs)))))",
      .show = "int:bin int:idx int:(bin_size bin)", .mutants = m_reserved },
    /* 7: the size-class map */
    { .name = "size_class_map", .covers = "_sa_bin, _sa_bin_size", .models = "size_class", .bv = true,
      .decls = BV("size"), .hyp = "(small_request size)", .goal = SIZE_MAP_GOAL,
      .show = "int:size int:(bin_of size) int:(block_of size)", .mutants = m_size_map },
    { .name = "size_class_monotone", .covers = "_sa_bin, _sa_bin_size", .models = "size_class", .bv = true,
      .decls = BV("s1") BV("s2") BV("b1") BV("b2"),
      .hyp = "(and (small_request s1) (small_request s2) (bvule s1 s2) (page_bin b1) (page_bin b2) (bvult b1 b2))",
      .goal = "(and (bvule (bin_of s1) (bin_of s2)) (bvult (bin_size b1) (bin_size b2)))",
      .show = "int:s1 int:s2 int:(bin_of s1) int:(bin_of s2) int:b1 int:b2", .mutants = m_size_monotone },
    { .name = "size_class_agrees", .covers = "_sa_bin, _sa_bin_size (C == model, every size)",
      .models = "size_class", .bv = true, .decls = BV("size"), .gen = gen_size_class_table,
      .hyp = "(small_request size)", .goal = "(and (= (bin_of size) (c_bin size)) c_sizes_agree)",
      .show = "int:size int:(bin_of size) int:(c_bin size) c_sizes_agree", .mutants = m_size_agree },
    /* 8: layout */
    { .name = "layout_pages_inside", .covers = "_sa_page_area_start, _sa_page_area_size",
      .models = "size_class layout", .bv = true, .decls = BV("kind") BV("i"),
      .hyp = "(and (page_kind kind) (bvult i (pages_per_segment kind)))",
      .goal = "(page_inside kind i)", .show = "int:kind int:i int:(page_start kind i) int:(page_area_size kind i)",
      .mutants = m_inside },
    { .name = "layout_pages_disjoint", .covers = "_sa_page_area_start, _sa_page_area_size",
      .models = "size_class layout", .bv = true, .decls = BV("kind") BV("i") BV("j"),
      .hyp = "(and (page_kind kind) (bvult i (pages_per_segment kind)) (bvult j (pages_per_segment kind))"
             "     (not (= i j)))",
      .goal = "(pages_apart kind i j)", .show = "int:kind int:i int:j", .mutants = m_disjoint },
    { .name = "layout_page_of_pointer", .covers = "_sa_segment_of, _sa_page_index_of",
      .models = "size_class layout", .bv = true, .decls = BV("p") BV("kind"),
      .hyp = "(and (page_kind kind) (bvult p (bvshl one SA_ADDRESS_BITS))"
             "     (bvuge (bvand p SA_SEGMENT_MASK) SA_SEGMENT_INFO_SIZE))",
      .goal = "(and (page_holds p kind (page_index_of p kind)) (bvule (segment_of p) p)"
              "     (bvult (bvsub p (segment_of p)) SA_SEGMENT_SIZE)"
              "     (= (bvand (segment_of p) SA_SEGMENT_MASK) (_ bv0 64)))",
      .show = "int:p int:kind int:(page_index_of p kind)", .mutants = m_page_of },
    /* free's test of a pointer: the map's range compare, the map at p's
     * unit, then the made-start test of the found page. Whatever p's high
     * bits, the map is read only inside it, and what passes the compare is
     * a p of the found segment, below 2^SA_ADDRESS_BITS, whose offset from
     * the found page's start lies where made_start proves the test exact
     * (below the page's size after it, within SA_SEGMENT_INFO_SIZE before
     * it): no
     * pointer is taken for a block of a segment it is not in. (_sa_validate's
     * bounds, capacity * block_size and a huge segment's block, pass no
     * more.) */
    { .name = "segmap_high_pointer", .covers = "_sa_segmap_unit, _sa_segmap_live_unit, _sa_segmap_find, "
      "_sa_page_of_block_start, _sa_validate",
      .models = "size_class layout", .bv = true, .decls = BV("p") BV("kind"),
      .hyp = "(and (page_kind kind) (segmap_in_range p))",
      .goal = "(and (= (segmap_segment p) (segment_of p)) (bvult p (bvshl one SA_ADDRESS_BITS))"
              "     (let ((off (bvsub p (found_page_start p kind))))"
              "       (or (bvult off (bvshl one (page_shift kind))) (bvuge off (bvneg SA_SEGMENT_INFO_SIZE)))))",
      .show = "int:p int:kind int:(segmap_unit p) int:(found_page_start p kind)",
      .mutants = m_segmap_high },
    /* a large segment's pages: spans of units (src/segment.c span_alloc) */
    { .name = "span_fit", .covers = "_sa_span_starts, _sa_span_grow, _sa_span_mask (span_alloc's run search)",
      .models = "size_class layout", .bv = true, .decls = BV("free") BV("n") BV("u"),
      .hyp = "(and (bvule one n) (bvule n SA_SMALL_PAGES_PER_SEGMENT) (bvult u SA_SMALL_PAGES_PER_SEGMENT)"
             "     (= (bvlshr free SA_SMALL_PAGES_PER_SEGMENT) (_ bv0 64)))",
      .goal = "(= (bit_set (span_starts free n) u) (run_free free u n))",
      .show = "int:free int:n int:u int:(span_starts free n)", .mutants = m_span_fit },
    { .name = "span_fits", .covers = "_sa_span_fits, _sa_span_units (where span_alloc may cut a large page)",
      .models = "size_class layout", .bv = true, .decls = BV("free") BV("bin") BV("u"),
      .hyp = "(and (page_bin bin) (= (page_kind_for (bin_size bin)) SA_PAGE_LARGE)"
             "     (bvult u SA_SMALL_PAGES_PER_SEGMENT) (= (bvlshr free SA_SMALL_PAGES_PER_SEGMENT) (_ bv0 64)))",
      .goal = "(= (bit_set (span_fits free (bin_size bin)) u) (run_free free u (span_units (bin_size bin) u)))",
      .show = "int:free int:(bin_size bin) int:u int:(span_units (bin_size bin) u)", .mutants = m_span_fits },
    { .name = "span_page", .covers = "_sa_span_units, _sa_span_area_size, _sa_page_block_area (a large page), "
      "SA_SPAN_TRIES (span_alloc's steps)",
      .models = "size_class layout", .bv = true, .decls = BV("bin") BV("u"),
      .hyp = "(and (page_bin bin) (= (page_kind_for (bin_size bin)) SA_PAGE_LARGE) (bvult u SA_SMALL_PAGES_PER_SEGMENT)"
             "     (bvule (bvadd u (span_units (bin_size bin) u)) SA_SMALL_PAGES_PER_SEGMENT))",
      .goal = SPAN_PAGE_GOAL,
      .show = "int:(bin_size bin) int:u int:(span_units (bin_size bin) u) int:(span_area_size u (span_units (bin_size bin) u))",
      .mutants = m_span_page },
    { .name = "segmap_span_pointer", .covers = "_sa_page_of_block_start, _sa_validate (a large segment's unit table: "
      "span_alloc, span_retire)",
      .models = "size_class layout", .bv = true, .decls = BV("p") BV("u"),
      .hyp = "(and (segmap_in_range p) (span_head_below p u))",
      .goal = "(let ((off (bvsub p (bvadd (segmap_segment p) (page_start SA_PAGE_SMALL u)))))"
              "  (or (bvult off (bvshl one (page_shift SA_PAGE_LARGE))) (bvuge off (bvneg SA_SEGMENT_INFO_SIZE))))",
      .show = "int:p int:u int:(unit_of p)", .mutants = m_segmap_span },
    { .name = "thread_free_word", .covers = "_sa_tf_block, _sa_tf_count, _sa_free_remote (the CAS's new word), "
      "_sa_page_collect (exchange), SA_THREAD_FREE_COUNT_SHIFT",
      .models = "size_class layout", .bv = true, .decls = BV("b") BV("nt") BV("c") BV("b2") BV("nt2"),
      .hyp = "(and (tf_parts b nt c) (tf_parts b2 nt2 (bvadd c one)))",
      .goal = "(and (= (tf_block (tf_word b nt c)) b) (= (tf_count (tf_word b nt c)) c)"
              "     (= (tf_notify (tf_word b nt c)) nt)"
              "     (= (tf_push (tf_word b nt c) b2 nt2) (tf_word b2 nt2 (bvadd c one))))",
      .show = "int:b int:nt int:c int:b2 int:nt2", .mutants = m_thread_free_word },
    { .name = "aligned_alloc", .covers = "_sa_malloc_aligned, _sa_aligned_request, _sa_align_up",
      .models = "size_class layout", .bv = true, .decls = BV("p") BV("a") BV("size") BV("bsize"),
      .hyp = ALIGNED_HYP, .goal = ALIGNED_GOAL,
      .show = "int:p int:a int:size int:bsize int:(align_up p a)", .mutants = m_aligned },
    { .name = "layout_agrees", .covers = "src/layout.h (C == model at every page, bin and boundary)",
      .models = "size_class layout", .bv = true, .gen = gen_layout_table,
      .decls = BV("kind") BV("i") BV("bin") BV("e") BV("x"),
      .hyp = LAYOUT_AGREE_HYP, .goal = LAYOUT_AGREE_GOAL,
      .show = "int:kind int:i int:bin int:e int:x int:(page_start kind i) int:(c_page_start kind i)"
              " int:c_magic_bad int:(page_kind_for (bin_size bin)) int:(c_kind_for bin)",
      .mutants = m_layout_agree },
    AGREES("thread_free_agrees", "SA_TF_* masks, _sa_tf_block, _sa_tf_count, _sa_tf_push (types.h; C == model)",
           gen_thread_free_table, "c_tf", m_tf_agree),
    AGREES("block_index_agrees", "_sa_block_index, _sa_block_is_start (C == model, every bin)",
           gen_block_index_table, "c_index", m_index_agree),
    AGREES("aligned_request_agrees", "_sa_aligned_request (C == model, every alignment)",
           gen_aligned_table, "c_request", m_request_agree),
    AGREES("span_agrees", "_sa_span_starts, _sa_span_fits, _sa_span_units, _sa_span_area_size, _sa_span_mask "
           "(C == model, every run length and large bin)", gen_span_table, "c_span", m_span_agree),
    AGREES("page_of_agrees", "_sa_page_of (_sa_page_of_unit) through the unit table, _sa_segmap_unit, "
           "_sa_segment_of_unit (C == model, every unit of every kind)",
           gen_page_of_table, "c_page_of", m_page_of_agree),
};

const size_t pf_obligation_count = sizeof pf_obligations / sizeof *pf_obligations;
