/* tests/proofs/driver_test.c -- the proof driver itself: that a false
 * obligation fails with a counterexample naming the right blocks, a true one
 * passes, a vacuous one is flagged, a mutant that changes nothing survives,
 * and the pieces (constants, unrolling) do what the proofs rely on.
 * Runs from the repository root (make test-proofs), reading spec/. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <z3.h>
#include "driver.h"
#include "config.h"
#include "size_class.h"

static pf_driver_t driver(void)
{
    return (pf_driver_t){ .spec_dir = "spec", .timeout_ms = 20000, .out = stdout, .quiet_cex = true };
}

static const pf_obligation_t *find(const char *name)
{
    for (size_t i = 0; i < pf_obligation_count; i++)
        if (strcmp(pf_obligations[i].name, name) == 0)
            return &pf_obligations[i];
    return NULL;
}

/* The value printed for `name=` in a counterexample, or -1. */
static long shown(const char *detail, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "    %s=", name);
    const char *p = detail ? strstr(detail, key) : NULL;
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

#define PAGE_DECLS "(declare-const s Page) (declare-const t Page) (declare-const b Int)"

Test(driver, false_obligation_fails_with_the_freed_block_on_local_free)
{
    /* Claim (false): after free_local the block is still LIVE. */
    const pf_obligation_t ob = {
        .name = "false_free_local", .covers = "test", .models = "page", .decls = PAGE_DECLS,
        .hyp = "(and (inv s) (free_local s t b))", .goal = "(= (loc_of t b) LIVE)",
        .finite = 4, .finite_hyp = "(<= (reserved s) 4)", .show = "page:s page:t int:b",
    };
    pf_driver_t d = driver();
    d.timeout_ms = 3000;    /* the quantified query runs out, the finite one answers */
    pf_result_t r = { 0 };
    pf_prove(&d, &ob, &r);
    cr_assert_eq(r.verdict, PF_FAILS, "verdict %d: %s", r.verdict, r.detail.s);
    long b = shown(r.detail.s, "b");
    cr_assert_geq(b, 0, "no block in: %s", r.detail.s);
    /* before: b is LIVE; after: b is the head of local_free */
    char live[32], local[32];
    snprintf(live, sizeof live, " %ld:LIVE", b);
    snprintf(local, sizeof local, "LOCAL[%ld", b);
    const char *t = strstr(r.detail.s, "    t:");
    cr_assert_not_null(t, "%s", r.detail.s);
    const char *s_loc = strstr(r.detail.s, "loc:");
    cr_assert(s_loc && s_loc < t && strstr(s_loc, live) && strstr(s_loc, live) < t,
              "block %ld not LIVE before in:\n%s", b, r.detail.s);
    cr_assert(strstr(t, local), "block %ld not at the head of local_free after in:\n%s", b, r.detail.s);
    pf_result_free(&r);
}

Test(driver, false_arithmetic_claim_gives_a_real_counterexample)
{
    /* Claim (false): no block wastes 8 bytes or more. The size shown must
     * really waste that much in the C map. */
    const pf_obligation_t ob = {
        .name = "false_waste", .covers = "test", .models = "size_class", .bv = true,
        .decls = "(declare-const size (_ BitVec 64))", .hyp = "(small_request size)",
        .goal = "(bvult (bvsub (block_of size) size) (_ bv8 64))", .show = "int:size",
    };
    pf_driver_t d = driver();
    pf_result_t r = { 0 };
    pf_prove(&d, &ob, &r);
    cr_assert_eq(r.verdict, PF_FAILS, "verdict %d: %s", r.verdict, r.detail.s);
    long size = shown(r.detail.s, "size");
    cr_assert(size >= 1 && (size_t)size <= SA_LARGE_OBJ_SIZE_MAX, "%s", r.detail.s);
    cr_assert_geq(_sa_bin_size(_sa_bin((size_t)size)) - (size_t)size, 8, "size %ld", size);
    pf_result_free(&r);
}

Test(driver, true_obligation_is_proved)
{
    pf_driver_t d = driver();
    const char *names[] = { "inv_alloc_pop", "inv_collect", "size_class_map", "bound_malloc" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const pf_obligation_t *ob = find(names[i]);
        cr_assert_not_null(ob, "%s missing", names[i]);
        pf_result_t r = { 0 };
        pf_prove(&d, ob, &r);
        cr_assert_eq(r.verdict, PF_HOLDS, "%s: %d %s", names[i], r.verdict, r.detail.s);
        pf_result_free(&r);
    }
}

Test(driver, vacuous_obligation_is_flagged)
{
    /* alloc_pop needs a non-empty free list: with an empty one the proof
     * "holds" only because nothing satisfies the hypotheses. */
    const pf_obligation_t ob = {
        .name = "vacuous", .covers = "test", .models = "page", .decls = PAGE_DECLS,
        .hyp = "(and (inv s) (alloc_pop s t b) (= (n s FREE) 0))", .goal = "(= (used t) 12345)",
        .finite = 4, .finite_hyp = "(<= (reserved s) 4)",
    };
    pf_driver_t d = driver();
    pf_result_t p = { 0 }, v = { 0 };
    pf_prove(&d, &ob, &p);
    cr_assert_eq(p.verdict, PF_HOLDS, "an unsatisfiable hypothesis proves anything");
    pf_check_vacuity(&d, &ob, &v);
    cr_assert_eq(v.verdict, PF_FAILS);
    cr_assert(v.detail.s && strstr(v.detail.s, "vacuous"), "%s", v.detail.s);
    cr_assert_not(pf_run_obligation(&(pf_driver_t){ .spec_dir = "spec", .timeout_ms = 20000,
                                                     .out = fopen("/dev/null", "w") }, &ob));
    pf_result_free(&p);
    pf_result_free(&v);
}

Test(driver, mutant_that_changes_nothing_survives_and_fails_the_run)
{
    static const pf_mutant_t same[] = {
        { .name = "same_guard", .what = "the alloc_pop guard written the other way round",
          .find = "(> (n s FREE) 0)", .replace = "(< 0 (n s FREE))" },
        { 0 }
    };
    pf_obligation_t ob = *find("inv_alloc_pop");
    ob.mutants = same;
    pf_driver_t d = driver();
    pf_result_t r = { 0 };
    pf_check_mutant(&d, &ob, &same[0], &r);
    cr_assert_eq(r.verdict, PF_FAILS, "%d %s", r.verdict, r.detail.s);
    cr_assert(strstr(r.detail.s, "survived"), "%s", r.detail.s);
    d.out = fopen("/dev/null", "w");
    cr_assert_not(pf_run_obligation(&d, &ob));
    pf_result_free(&r);
}

Test(driver, real_mutant_is_refuted_with_a_counterexample)
{
    const pf_obligation_t *ob = find("inv_alloc_pop");
    cr_assert_not_null(ob);
    pf_driver_t d = driver();
    pf_result_t r = { 0 };
    pf_check_mutant(&d, ob, &ob->mutants[0], &r);
    cr_assert_eq(r.verdict, PF_HOLDS, "%d %s", r.verdict, r.detail.s);
    cr_assert(strstr(r.detail.s, "    s:") && strstr(r.detail.s, "    t:"), "%s", r.detail.s);
    pf_result_free(&r);
}

Test(driver, mutant_whose_text_is_gone_is_broken_not_caught)
{
    static const pf_mutant_t gone = { .name = "gone", .what = "text not in the model",
                                      .find = "(this is not in any model)", .replace = "x" };
    static const pf_mutant_t no_const = { .name = "no_const", .what = "a constant config.h lacks",
                                          .konst = "SA_NO_SUCH_CONSTANT", .delta = 1 };
    pf_driver_t d = driver();
    pf_result_t r = { 0 };
    pf_check_mutant(&d, find("inv_alloc_pop"), &gone, &r);
    cr_assert_eq(r.verdict, PF_BROKEN, "verdict %d: %s", r.verdict, r.detail.s);
    cr_assert(strstr(r.detail.s, "nowhere"), "%s", r.detail.s);
    pf_result_free(&r);
    pf_check_mutant(&d, find("inv_alloc_pop"), &no_const, &r);
    cr_assert_eq(r.verdict, PF_BROKEN, "verdict %d: %s", r.verdict, r.detail.s);
    pf_result_free(&r);
}

/* A per-bin obligation whose workers die (here: killed in the gen step,
 * which only workers run with jobs > 1) is an error, not a proof. */
static pid_t parent_pid;
static void gen_die_in_worker(pf_buf_t *out)
{
    (void)out;
    if (getpid() != parent_pid)
        raise(SIGKILL);
}

Test(driver, dead_worker_process_is_an_error_not_a_proof)
{
    parent_pid = getpid();
    const pf_obligation_t ob = {
        .name = "dying_workers", .covers = "test", .models = "size_class", .bv = true, .per_bin = 1,
        .decls = "", .gen = gen_die_in_worker, .hyp = "true", .goal = "true",
    };
    pf_driver_t d = driver();
    d.jobs = 2;
    pf_result_t r = { 0 };
    pf_prove(&d, &ob, &r);
    cr_assert_eq(r.verdict, PF_ERROR, "verdict %d: %s", r.verdict, r.detail.s);
    cr_assert(strstr(r.detail.s, "killed by signal"), "%s", r.detail.s);
    pf_result_free(&r);
}

Test(driver, bound_counterexample_names_the_phase)
{
    /* Claim (false): a generic malloc never reaches the search. */
    const pf_obligation_t ob = {
        .name = "false_phase", .covers = "test", .models = "page bounds",
        .decls = "(declare-const r Run) (declare-const r2 Run) (declare-const p Page) (declare-const d Int)",
        .hyp = "(and (within r B_MALLOC) (malloc_step r r2 p d))", .goal = "(not (= (pc r2) SEARCH))",
        .show = "phase:(pc r2)",
    };
    pf_driver_t d = driver();
    pf_result_t r = { 0 };
    pf_prove(&d, &ob, &r);
    cr_assert_eq(r.verdict, PF_FAILS, "verdict %d: %s", r.verdict, r.detail.s);
    cr_assert(strstr(r.detail.s, "(pc r2)=SEARCH"), "%s", r.detail.s);
    pf_result_free(&r);
}

Test(driver, constants_come_from_config_h)
{
    pf_buf_t b = { 0 };
    pf_constants_text(&b, false, NULL, 0);
    char line[128];
    snprintf(line, sizeof line, "(define-fun SA_MAX_EXTEND_SIZE () Int %llu)",
             (unsigned long long)SA_MAX_EXTEND_SIZE);
    cr_assert(strstr(b.s, line), "%s", b.s);
    snprintf(line, sizeof line, "(define-fun SA_BIN_LARGE_MAX () Int %zu)", (size_t)SA_BIN_LARGE_MAX);
    cr_assert(strstr(b.s, line), "%s", b.s);
    pf_buf_free(&b);
    pf_constants_text(&b, true, "SA_PAGE_SEARCH_MAX", 1);
    snprintf(line, sizeof line, "(define-fun SA_PAGE_SEARCH_MAX () (_ BitVec 64) (_ bv%d 64))",
             SA_PAGE_SEARCH_MAX + 1);
    cr_assert(strstr(b.s, line), "%s", b.s);
    pf_buf_free(&b);
}

Test(driver, unrolling_expands_int_and_loc_quantifiers)
{
    pf_buf_t out = { 0 }, err = { 0 };
    cr_assert(pf_unroll_foralls("(assert (forall ((b Int)) (p b))) ; comment\n", 3, &out, &err), "%s", err.s);
    cr_assert_str_eq(out.s, "(assert (and true (p 0) (p 1) (p 2)))\n");
    pf_buf_free(&out);
    cr_assert(pf_unroll_foralls("(forall ((l Loc) (i Int)) (q l i))", 1, &out, &err));
    cr_assert_str_eq(out.s, "(and true (and true (q FREE 0)) (and true (q LOCAL 0)) (and true (q THREAD 0))"
                            " (and true (q LIVE 0)) (and true (q UNMADE 0)) (and true (q TAKEN 0)))\n");
    pf_buf_free(&out);
    cr_assert_not(pf_unroll_foralls("(forall ((x Real)) (r x))", 2, &out, &err));
    pf_buf_free(&out);
    pf_buf_free(&err);
}

Test(driver, every_obligation_is_named_documented_and_has_a_mutant)
{
    for (size_t i = 0; i < pf_obligation_count; i++) {
        const pf_obligation_t *ob = &pf_obligations[i];
        cr_assert(ob->name && ob->covers && *ob->covers, "obligation %zu", i);
        cr_assert(ob->mutants && ob->mutants[0].name, "%s has no mutant", ob->name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(ob->name, pf_obligations[j].name);
    }
}

/* The interface the trace replay uses: concrete pages, a transition, and
 * page_equiv against the recorded after-state. Block 1 heads free (1 -> 0),
 * 2 is on local_free, 3 is live; seq lists are read from the tail. */
#define REPLAY_BEFORE                                                                      \
    "(define-fun before () Page (mk_page 4 4 1 16"                                         \
    "  (store (store (store (store ((as const (Array Int Loc)) UNMADE) 0 FREE) 1 FREE) 2 LOCAL) 3 LIVE)" \
    "  (store (store (store (store ((as const (Array Int Int)) 0) 0 0) 1 1) 2 0) 3 0)"     \
    "  (store (store (store ((as const (Array Loc (Array Int Int))) ((as const (Array Int Int)) 0))" \
    "      FREE (store (store ((as const (Array Int Int)) 0) 0 0) 1 1))"                   \
    "      LOCAL (store ((as const (Array Int Int)) 0) 0 2))"                              \
    "      LIVE (store ((as const (Array Int Int)) 0) 0 3))"                               \
    "  (store (store (store ((as const (Array Loc Int)) 0) FREE 2) LOCAL 1) LIVE 1)"       \
    "  false NOTIFY_NONE true))\n"
/* After collect, as a walk of the real lists finds it: free = 2 -> 1 -> 0. */
#define REPLAY_AFTER                                                                       \
    "(define-fun after () Page (mk_page 4 4 1 16"                                          \
    "  (store (store (store (store ((as const (Array Int Loc)) UNMADE) 0 FREE) 1 FREE) 2 FREE) 3 LIVE)" \
    "  ((as const (Array Int Int)) 0)"                                                     \
    "  (store ((as const (Array Loc (Array Int Int))) ((as const (Array Int Int)) 0))"     \
    "      FREE (store (store (store ((as const (Array Int Int)) 0) 0 0) 1 1) 2 2))"       \
    "  (store (store ((as const (Array Loc Int)) 0) FREE 3) LIVE 1)"                       \
    "  false NOTIFY_NONE true))\n(declare-const m Page)\n"

static const char *replay(const char *step)
{
    pf_buf_t text = { 0 }, err = { 0 };
    cr_assert(pf_model_text("spec", "page", 4, &text, &err), "%s", err.s);
    pf_buf_add(&text, REPLAY_BEFORE REPLAY_AFTER);
    pf_buf_addf(&text, "(assert %s) (assert (page_equiv m after))", step);
    Z3_context c = Z3_mk_context(Z3_mk_config());
    Z3_eval_smtlib2_string(c, text.s);
    cr_assert_eq(Z3_get_error_code(c), Z3_OK, "%s", text.s);
    const char *a = strdup(Z3_eval_smtlib2_string(c, "(check-sat)"));
    Z3_del_context(c);
    pf_buf_free(&text);
    return a;
}

Test(driver, replay_accepts_the_recorded_collect_and_rejects_other_steps)
{
    cr_assert_str_eq(replay("(collect before m)"), "sat\n");
    cr_assert_str_eq(replay("(alloc_pop before m 1)"), "unsat\n");
    cr_assert_str_eq(replay("(abandon before m)"), "unsat\n");  /* owner lost */
}
