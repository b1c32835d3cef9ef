/* tests/conformance/replay.c -- each recorded page transition checked against
 * the transition relation of spec/page.smt2 with the Z3 C API (replay.h).
 *
 * The model text is the one `make verify` proves: proofs/'s generated config.h
 * constants (pf_constants_text) followed by spec/page.smt2, parsed once per Z3
 * context together with one assertion per question, over free constants s
 * (before), t (the model's after), a (the code's after), b, popped, bsize,
 * area. A step substitutes ground Page terms for s and a (and t, for a
 * witness) and decides the question by simplification, instantiation and,
 * for what is left, the solver (holds()).
 *
 * Ground pages are constant arrays plus stores, and each state's term is its
 * predecessor's plus stores for what changed (build()), in the order the
 * model's define-funs store, so that the model's successor and the code's
 * after-state share their subterms and usually compare equal on sight. The
 * model's LIVE sequence is bookkeeping the code has no counterpart of
 * (page_equiv ignores it): build() keeps some valid order.
 *
 * The context is not reference counted (terms live until it is deleted), so
 * it is rebuilt every REBUILD_STEPS steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <z3.h>
#include "replay.h"
#include "driver.h"
#include "config.h"

#define REBUILD_STEPS   20000
/* A page's term is built afresh once it carries this many stores (or its
 * capacity, if more) of history: a long-lived page otherwise drags every
 * alloc and free it ever had through each simplification. */
#define STALE_STORES    256
#define TIMEOUT_MS      "20000"
/* Blocks of a list printed in a report before eliding. */
#define SHOW_MAX        24

static const char *const names[RP_REPLAY__NAMES] = {
    [SA_T_PAGE_INIT] = "page_init", [SA_T_ALLOC_POP] = "alloc_pop", [SA_T_EXTEND] = "extend",
    [SA_T_FREE_LOCAL] = "free_local", [SA_T_FREE_REMOTE] = "free_remote",
    [SA_T_COLLECT] = "collect", [SA_T_TO_FULL] = "to_full", [SA_T_UNFULL] = "unfull",
    [SA_T_RETIRE] = "retire", [SA_T_ABANDON] = "abandon", [SA_T_RECLAIM] = "reclaim",
    [SA_T_COLLECT_TAKE] = "collect_take", [SA_T_COLLECT_FINISH] = "collect_finish",
    [SA_T_ORDER_FREE] = "order_free", [SA_T_FREE_LIFO] = "free_lifo",
};

/* The questions, one assertion each, in this order. */
enum { Q_INIT, Q_POP, Q_EXTEND, Q_FREE_LOCAL, Q_FREE_LIFO, Q_FREE_REMOTE, Q_COLLECT, Q_TAKE, Q_FINISH, Q_ORDER,
       Q_TO_FULL, Q_UNFULL, Q_RETIRE, Q_ABANDON, Q_RECLAIM, Q_DIFFERS, Q_NOT_INV,
       Q_S, Q_T, Q_A, Q_B, Q_POPPED, Q_BSIZE, Q_AREA, Q__COUNT };
static const char *const questions[Q__COUNT] = {
    [Q_INIT] = "(page_init t bsize area)",
    [Q_POP] = "(alloc_pop s t b)",
    [Q_EXTEND] = "(extend s t)",
    [Q_FREE_LOCAL] = "(free_local s t b)",
    [Q_FREE_LIFO] = "(free_lifo s t b)",
    [Q_FREE_REMOTE] = "(free_remote s t b)",
    [Q_COLLECT] = "(collect s t)",
    [Q_TAKE] = "(collect_take s t)",
    [Q_FINISH] = "(collect_finish s t)",
    [Q_ORDER] = "(order_free s t)",
    [Q_TO_FULL] = "(to_full s t)",
    [Q_UNFULL] = "(unfull s t popped)",
    [Q_RETIRE] = "(retire s t)",
    [Q_ABANDON] = "(abandon s t)",
    [Q_RECLAIM] = "(reclaim s t)",
    [Q_DIFFERS] = "(not (page_equiv t a))",
    [Q_NOT_INV] = "(not (inv s))",
    /* the free constants themselves, to find their terms after parsing */
    [Q_S] = "(= s s)", [Q_T] = "(= t t)", [Q_A] = "(= a a)",
    [Q_B] = "(= b b)", [Q_POPPED] = "(= popped popped)", [Q_BSIZE] = "(= bsize bsize)",
    [Q_AREA] = "(= area area)",
};
static const int question_of[SA_T__COUNT] = {
    [SA_T_PAGE_INIT] = Q_INIT, [SA_T_ALLOC_POP] = Q_POP, [SA_T_EXTEND] = Q_EXTEND,
    [SA_T_FREE_LOCAL] = Q_FREE_LOCAL, [SA_T_FREE_REMOTE] = Q_FREE_REMOTE,
    [SA_T_COLLECT] = Q_COLLECT, [SA_T_TO_FULL] = Q_TO_FULL, [SA_T_UNFULL] = Q_UNFULL,
    [SA_T_RETIRE] = Q_RETIRE, [SA_T_ABANDON] = Q_ABANDON, [SA_T_RECLAIM] = Q_RECLAIM,
    [SA_T_COLLECT_TAKE] = Q_TAKE, [SA_T_COLLECT_FINISH] = Q_FINISH,
    [SA_T_ORDER_FREE] = Q_ORDER, [SA_T_FREE_LIFO] = Q_FREE_LIFO,
};

/* Locations as the snapshot decoder numbers them; looked up by name in the
 * model's Loc datatype. */
enum { L_FREE, L_LOCAL, L_THREAD, L_LIVE, L_UNMADE, L_TAKEN, L__COUNT };
/* The location of the snapshot's lists: free, local_free, thread_free, taken. */
static const int list_loc[4] = { L_FREE, L_LOCAL, L_THREAD, L_TAKEN };
static const char *const loc_names[L__COUNT] = { "FREE", "LOCAL", "THREAD", "LIVE", "UNMADE", "TAKEN" };
static const char *const notify_names[3] = { "NOTIFY_NONE", "NOTIFY_WATCH", "NOTIFY_QUEUED" };
static const char *const field_names[] = { "reserved", "capacity", "used", "block_size", "loc",
                                           "pos", "seq", "cnt", "in_full", "notify", "owned" };
#define FIELDS (sizeof field_names / sizeof *field_names)

/* A decoded snapshot. */
typedef struct snap_s {
    sa_trace_snap_t h;
    const uint32_t *idx;        /* free, then local_free, then thread_free, heads first */
    size_t bytes;               /* of the encoded snapshot */
    const unsigned char *raw;
} snap_t;

/* The picture of one ground Page term in C: each of its arrays mirrored
 * on [0, SA_MAX_BLOCKS_PER_PAGE), so the term of a successor state is the
 * predecessor's term plus stores for what differs (Z3 then sees shared
 * subterms, not two independent chains of thousands of stores). */
typedef struct layout_s {
    uint8_t loc[SA_MAX_BLOCKS_PER_PAGE];
    int32_t pos[SA_MAX_BLOCKS_PER_PAGE];
    uint32_t slot[L__COUNT][SA_MAX_BLOCKS_PER_PAGE];    /* seq; UNMADE's unused */
    uint32_t cnt[L__COUNT];
    /* built directly on the empty page: no stale slot beyond a count */
    bool fresh;
    /* stores its term has beyond its own state (history the simplifier
     * walks again at every step): past STALE_STORES it is built afresh */
    uint32_t history;
} layout_t;

typedef struct term_s {
    Z3_ast page, loc, pos, seq, cnt;
    Z3_ast inner[L__COUNT];         /* seq's array of each location */
} term_t;

/* What the replay remembers of a page between its steps. */
typedef struct page_s {
    uintptr_t addr;
    unsigned char *last;        /* encoded after-state of its last step */
    size_t last_bytes;
    uint64_t last_seq;
    term_t term;                /* the after-state's term, valid in context `epoch` */
    unsigned char *take;        /* the state before its last collect_take */
    size_t take_bytes;
    uint64_t take_seq;
    layout_t *lay;
    unsigned epoch;
} page_t;

struct rp_replay_s {
    char *model;                /* constants + page.smt2 + questions */
    int unroll;                 /* > 0: the model's quantifiers unrolled on [0, unroll) */
    bool witness[Q__COUNT];     /* the question had a quantifier in page.smt2 */
    Z3_context c;
    Z3_solver solver;
    Z3_params simp;
    bool debug;
    unsigned epoch, since_rebuild;
    Z3_ast q[Q__COUNT];
    bool quantified[Q__COUNT];
    Z3_ast equiv;               /* (page_equiv t a): Q_DIFFERS without its not */  /* the question has a quantifier: checked on a witness */
    Z3_sort int_sort, loc_sort, page_sort;
    Z3_func_decl mk_page;
    int field_pos[FIELDS];      /* mk_page argument of each field name */
    Z3_ast loc[L__COUNT], notify[3];
    Z3_ast zero_ints;           /* (as const (Array Int Int)) 0 */
    page_t *pages;
    size_t npages, cap_pages;
    uint64_t count[RP_REPLAY__NAMES], declined, steps;
    uint64_t solved;            /* questions simplification left to the solver */
    uint64_t interleaved;       /* collects with steps between take and finish */
    double name_seconds[SA_T__COUNT];
    double seconds;
    pf_buf_t err;
    /* scratch: per block location of before and after; layouts */
    uint8_t lb[SA_MAX_BLOCKS_PER_PAGE], la[SA_MAX_BLOCKS_PER_PAGE];
    layout_t *empty, *ls, *lm, *la_, *lx;
    term_t empty_term;
};

/* ---- the Z3 context ---------------------------------------------------------------- */

static void z3_error(Z3_context c, Z3_error_code e)
{
    fprintf(stderr, "replay: z3 error: %s\n", Z3_get_error_msg(c, e));
}

static const char *decl_name(Z3_context c, Z3_func_decl d)
{
    return Z3_get_symbol_string(c, Z3_get_decl_name(c, d));
}

/* The constructor of a nullary datatype value by name. */
static bool enum_value(Z3_context c, Z3_sort sort, const char *name, Z3_ast *out)
{
    unsigned n = Z3_get_datatype_sort_num_constructors(c, sort);
    for (unsigned i = 0; i < n; i++) {
        Z3_func_decl d = Z3_get_datatype_sort_constructor(c, sort, i);
        if (strcmp(decl_name(c, d), name) == 0) {
            *out = Z3_mk_app(c, d, 0, NULL);
            return true;
        }
    }
    return false;
}

static void context_free(rp_replay_t *r)
{
    if (!r->c)
        return;
    Z3_solver_dec_ref(r->c, r->solver);
    Z3_params_dec_ref(r->c, r->simp);
    Z3_del_context(r->c);
    r->c = NULL;
}

/* A fresh context with the model parsed and the datatypes looked up. */
static bool has_quantifier(Z3_context c, Z3_ast e, unsigned char *seen, size_t nseen);
static void empty_page(rp_replay_t *r);

static bool context_new(rp_replay_t *r)
{
    context_free(r);
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    r->c = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_context c = r->c;
    Z3_set_error_handler(c, z3_error);
    Z3_ast_vector v = Z3_parse_smtlib2_string(c, r->model, 0, NULL, NULL, 0, NULL, NULL);
    /* vectors are reference counted even here: keep the parsed terms alive */
    if (v)
        Z3_ast_vector_inc_ref(c, v);
    if (Z3_get_error_code(c) != Z3_OK || Z3_ast_vector_size(c, v) < Q__COUNT) {
        pf_buf_addf(&r->err, "replay: the model did not parse (%u assertions)\n",
                    Z3_get_error_code(c) == Z3_OK ? Z3_ast_vector_size(c, v) : 0);
        return false;
    }
    /* the questions are the last Q__COUNT assertions (page.smt2 asserts none today) */
    unsigned base = Z3_ast_vector_size(c, v) - Q__COUNT;
    for (int i = 0; i < Q__COUNT; i++)
        r->q[i] = Z3_ast_vector_get(c, v, base + (unsigned)i);
    for (int i = Q_S; i < Q__COUNT; i++) {
        /* (= x x): its first argument is the constant x */
        if (Z3_get_ast_kind(c, r->q[i]) != Z3_APP_AST ||
            Z3_get_app_num_args(c, Z3_to_app(c, r->q[i])) != 2) {
            pf_buf_addf(&r->err, "replay: cannot find the constant of %s\n", questions[i]);
            return false;
        }
        r->q[i] = Z3_get_app_arg(c, Z3_to_app(c, r->q[i]), 0);
    }
    size_t nseen = 1u << 22;
    unsigned char *seen = calloc(nseen, 1);
    for (int i = 0; i < Q_S; i++) {
        memset(seen, 0, nseen);
        r->quantified[i] = has_quantifier(c, r->q[i], seen, nseen);
        /* unrolled, the questions that had quantifiers are still asked of a
         * witness (they constrain the state after block by block) */
        if (r->unroll > 0)
            r->quantified[i] = r->witness[i];
        else
            r->witness[i] = r->quantified[i];
    }
    free(seen);
    r->equiv = Z3_get_app_arg(c, Z3_to_app(c, r->q[Q_DIFFERS]), 0);
    r->int_sort = Z3_mk_int_sort(c);
    r->page_sort = Z3_get_sort(c, r->q[Q_S]);
    r->mk_page = Z3_get_datatype_sort_constructor(c, r->page_sort, 0);
    unsigned arity = Z3_get_domain_size(c, r->mk_page);
    for (size_t f = 0; f < FIELDS; f++) {
        r->field_pos[f] = -1;
        for (unsigned i = 0; i < arity; i++) {
            Z3_func_decl acc = Z3_get_datatype_sort_constructor_accessor(c, r->page_sort, 0, i);
            if (strcmp(decl_name(c, acc), field_names[f]) == 0)
                r->field_pos[f] = (int)i;
        }
        if (r->field_pos[f] < 0 || arity != FIELDS) {
            pf_buf_addf(&r->err, "replay: Page has no field %s (or not %zu fields)\n",
                        field_names[f], FIELDS);
            return false;
        }
    }
    r->loc_sort = Z3_get_array_sort_range(c, Z3_get_domain(c, r->mk_page, (unsigned)r->field_pos[4]));
    Z3_sort notify_sort = Z3_get_domain(c, r->mk_page, (unsigned)r->field_pos[9]);
    for (int l = 0; l < L__COUNT; l++)
        if (!enum_value(c, r->loc_sort, loc_names[l], &r->loc[l])) {
            pf_buf_addf(&r->err, "replay: Loc has no value %s\n", loc_names[l]);
            return false;
        }
    for (int k = 0; k < 3; k++)
        if (!enum_value(c, notify_sort, notify_names[k], &r->notify[k])) {
            pf_buf_addf(&r->err, "replay: Notify has no value %s\n", notify_names[k]);
            return false;
        }
    r->zero_ints = Z3_mk_const_array(c, r->int_sort, Z3_mk_int(c, 0, r->int_sort));
    empty_page(r);
    r->simp = Z3_mk_params(c);
    Z3_params_inc_ref(c, r->simp);
    if (r->unroll > 0) {
        /* small pages: ordering stores costs little there, and lets the
         * simplifier compare the arrays of two ground states */
        Z3_params_set_bool(c, r->simp, Z3_mk_string_symbol(c, "sort_store"), true);
        Z3_params_set_bool(c, r->simp, Z3_mk_string_symbol(c, "expand_store_eq"), true);
    }
    r->solver = Z3_mk_solver(c);
    Z3_solver_inc_ref(c, r->solver);
    Z3_params p = Z3_mk_params(c);
    Z3_params_inc_ref(c, p);
    Z3_params_set_uint(c, p, Z3_mk_string_symbol(c, "timeout"), (unsigned)atoi(TIMEOUT_MS));
    Z3_solver_set_params(c, r->solver, p);
    Z3_params_dec_ref(c, p);
    r->epoch++;
    r->since_rebuild = 0;
    return true;
}

/* The model text: the constants and page.smt2, its quantifiers unrolled on
 * [0, unroll) if unroll > 0 (pf_model_text). */
static bool model_text(const char *spec_dir, int unroll, pf_buf_t *m)
{
    pf_buf_t err = { 0 };
    bool ok = pf_model_text(spec_dir, "page", unroll, m, &err);
    if (!ok)
        fprintf(stderr, "replay: %s\n", err.s ? err.s : "cannot read the model");
    pf_buf_free(&err);
    return ok;
}

rp_replay_t *rp_replay_new(const char *spec_dir)
{
    return rp_replay_new_unrolled(spec_dir, 0);
}

rp_replay_t *rp_replay_new_unrolled(const char *spec_dir, int unroll)
{
    rp_replay_t *r = calloc(1, sizeof *r);
    if (unroll > 0) {
        /* which questions have quantifiers: from the model as written */
        rp_replay_t *q = rp_replay_new_unrolled(spec_dir, 0);
        if (!q) {
            free(r);
            return NULL;
        }
        memcpy(r->witness, q->witness, sizeof r->witness);
        rp_replay_free(q);
        r->unroll = unroll;
    }
    pf_buf_t m = { 0 };
    if (!model_text(spec_dir, unroll, &m)) {
        pf_buf_free(&m);
        free(r);
        return NULL;
    }
    pf_buf_add(&m, "\n; ---- the replay's questions (tests/conformance/replay.c)\n"
                   "(declare-const s Page) (declare-const t Page) (declare-const a Page)\n"
                   "(declare-const b Int) (declare-const popped Bool)\n"
                   "(declare-const bsize Int) (declare-const area Int)\n");
    for (int i = 0; i < Q__COUNT; i++)
        pf_buf_addf(&m, "(assert %s)\n", questions[i]);
    r->model = m.s;
    r->debug = getenv("SA_REPLAY_DEBUG") != NULL;
    layout_t **lays[] = { &r->empty, &r->ls, &r->lm, &r->la_, &r->lx };
    for (size_t i = 0; i < sizeof lays / sizeof *lays; i++)
        *lays[i] = calloc(1, sizeof(layout_t));
    memset(r->empty->loc, L_UNMADE, sizeof r->empty->loc);
    r->empty->fresh = true;
    if (!context_new(r)) {
        fprintf(stderr, "%s", r->err.s);
        rp_replay_free(r);
        return NULL;
    }
    return r;
}

void rp_replay_free(rp_replay_t *r)
{
    if (!r)
        return;
    context_free(r);
    for (size_t i = 0; i < r->npages; i++) {
        free(r->pages[i].last);
        free(r->pages[i].lay);
        free(r->pages[i].take);
    }
    free(r->pages);
    free(r->model);
    free(r->empty);
    free(r->ls);
    free(r->lm);
    free(r->la_);
    free(r->lx);
    pf_buf_free(&r->err);
    free(r);
}

void rp_replay_forget(rp_replay_t *r)
{
    for (size_t i = 0; i < r->npages; i++) {
        free(r->pages[i].last);
        free(r->pages[i].lay);
        free(r->pages[i].take);
    }
    r->npages = 0;
}

const char *rp_replay_error(const rp_replay_t *r)
{
    return r->err.s ? r->err.s : "";
}
uint64_t rp_replay_count(const rp_replay_t *r, int name) { return r->count[name]; }
double rp_replay_name_seconds(const rp_replay_t *r, int name)
{
    return name < SA_T__COUNT ? r->name_seconds[name] : 0;
}
uint64_t rp_replay_solved(const rp_replay_t *r) { return r->solved; }
uint64_t rp_replay_interleaved(const rp_replay_t *r) { return r->interleaved; }
uint64_t rp_replay_declined(const rp_replay_t *r) { return r->declined; }
uint64_t rp_replay_steps(const rp_replay_t *r) { return r->steps; }
double rp_replay_seconds(const rp_replay_t *r) { return r->seconds; }
const char *rp_replay_name(int name) { return names[name] ? names[name] : "?"; }

/* ---- snapshots -------------------------------------------------------------------- */

static bool decode(const unsigned char *p, size_t room, snap_t *s)
{
    if (room < sizeof s->h)
        return false;
    memcpy(&s->h, p, sizeof s->h);
    size_t n = (size_t)s->h.n[0] + s->h.n[1] + s->h.n[2] + s->h.n[3];
    s->bytes = sizeof s->h + n * sizeof(uint32_t);
    if (s->bytes > room)
        return false;
    s->idx = (const uint32_t *)(p + sizeof s->h);
    s->raw = p;
    return true;
}

/* Location of every block below max(capacity, reserved) (LIVE unless listed). */
static void locations(const snap_t *s, uint8_t *loc, size_t len)
{
    for (size_t b = 0; b < len; b++)
        loc[b] = b < s->h.capacity ? L_LIVE : L_UNMADE;
    const uint32_t *x = s->idx;
    for (int l = 0; l < 4; l++)
        for (uint32_t k = 0; k < s->h.n[l]; k++, x++)
            if (*x < len)
                loc[*x] = (uint8_t)list_loc[l];
}

static Z3_ast boolean(Z3_context c, bool v)
{
    return v ? Z3_mk_true(c) : Z3_mk_false(c);
}

static Z3_ast num(rp_replay_t *r, int64_t v)
{
    return Z3_mk_int64(r->c, v, r->int_sort);
}

/* The empty page: every block UNMADE, every array its default. */
static void empty_page(rp_replay_t *r)
{
    Z3_context c = r->c;
    term_t *e = &r->empty_term;
    e->loc = Z3_mk_const_array(c, r->int_sort, r->loc[L_UNMADE]);
    e->pos = r->zero_ints;
    e->seq = Z3_mk_const_array(c, r->loc_sort, r->zero_ints);
    e->cnt = Z3_mk_const_array(c, r->loc_sort, num(r, 0));
    for (int l = 0; l < L__COUNT; l++)
        e->inner[l] = r->zero_ints;
    Z3_ast zero = num(r, 0);
    Z3_ast field[FIELDS] = { zero, zero, zero, zero, e->loc, e->pos, e->seq, e->cnt,
                             Z3_mk_false(c), r->notify[0], Z3_mk_false(c) };
    Z3_ast args[FIELDS];
    for (size_t f = 0; f < FIELDS; f++)
        args[r->field_pos[f]] = field[f];
    e->page = Z3_mk_app(c, r->mk_page, FIELDS, args);
}

/* The term of snapshot s built on the term (base, bl): bl is copied to out
 * and changed to picture s, and every array of base gets a store where out
 * differs from bl. The LIVE blocks (on no list of the code) keep their
 * slots, a block leaving LIVE gives its slot to the last one, new ones are
 * appended in address order: some valid picture, which is all the model
 * asks of bookkeeping the code does not have (page_equiv ignores it).
 * An emptied list keeps base's stale slots, as the model leaves them. */
static term_t build(rp_replay_t *r, const term_t *base, const layout_t *bl, const snap_t *s,
                    layout_t *out)
{
    Z3_context c = r->c;
    memcpy(out, bl, sizeof *out);
    out->fresh = bl == r->empty;
    uint32_t made = s->h.capacity;
    uint8_t *nl = r->la;
    locations(s, nl, SA_MAX_BLOCKS_PER_PAGE);
    /* LIVE */
    uint32_t *live = out->slot[L_LIVE], nlive = out->cnt[L_LIVE];
    for (uint32_t i = 0; i < nlive;) {
        if (nl[live[i]] != L_LIVE)
            live[i] = live[--nlive];
        else
            i++;
    }
    for (uint32_t b = 0; b < made; b++)
        if (nl[b] == L_LIVE && bl->loc[b] != L_LIVE)
            live[nlive++] = b;
    out->cnt[L_LIVE] = nlive;
    /* the lists, read from their tails */
    const uint32_t *x = s->idx;
    for (int l = 0; l < 4; l++) {
        int as = list_loc[l];
        uint32_t n = s->h.n[l];
        for (uint32_t k = 0; k < n; k++, x++)
            out->slot[as][n - 1 - k] = *x;
        out->cnt[as] = n;
    }
    memcpy(out->loc, nl, SA_MAX_BLOCKS_PER_PAGE);
    for (int l = 0; l < L__COUNT; l++)
        if (l != L_UNMADE)
            for (uint32_t i = 0; i < out->cnt[l]; i++)
                out->pos[out->slot[l][i]] = (int32_t)i;
    /* the term: base plus stores */
    term_t t = *base;
    uint32_t stores = 0;
    for (uint32_t b = 0; b < SA_MAX_BLOCKS_PER_PAGE; b++) {
        if (out->loc[b] != bl->loc[b]) {
            t.loc = Z3_mk_store(c, t.loc, num(r, b), r->loc[out->loc[b]]);
            stores++;
        }
        if (out->pos[b] != bl->pos[b]) {
            t.pos = Z3_mk_store(c, t.pos, num(r, b), num(r, out->pos[b]));
            stores++;
        }
    }
    /* The same cells stored in the same order give the same term, which the
     * simplifier then compares at once: the sequences as the model's free_to
     * stores them (LIVE first), the counts as collect_take, collect_finish,
     * collect and abandon do (TAKEN, THREAD, LOCAL, then FREE). */
    static const int order[] = { L_LIVE, L_FREE, L_LOCAL, L_THREAD, L_TAKEN };
    static const int cnt_order[] = { L_LIVE, L_TAKEN, L_THREAD, L_LOCAL, L_FREE };
    for (size_t o = 0; o < sizeof cnt_order / sizeof *cnt_order; o++) {
        int l = cnt_order[o];
        if (out->cnt[l] != bl->cnt[l]) {
            t.cnt = Z3_mk_store(c, t.cnt, r->loc[l], num(r, out->cnt[l]));
            stores++;
        }
    }
    for (size_t o = 0; o < sizeof order / sizeof *order; o++) {
        int l = order[o];
        bool changed = false;
        for (uint32_t i = 0; i < out->cnt[l]; i++)
            if (out->slot[l][i] != bl->slot[l][i]) {
                t.inner[l] = Z3_mk_store(c, t.inner[l], num(r, i), num(r, out->slot[l][i]));
                changed = true;
                stores++;
            }
        if (changed) {
            t.seq = Z3_mk_store(c, t.seq, r->loc[l], t.inner[l]);
            stores++;
        }
    }
    out->history = out->fresh ? 0 : bl->history + stores;
    Z3_ast field[FIELDS] = {
        num(r, s->h.reserved), num(r, s->h.capacity), num(r, s->h.used), num(r, s->h.block_size),
        t.loc, t.pos, t.seq, t.cnt, boolean(c, s->h.in_full != 0),
        r->notify[s->h.notify < 3 ? s->h.notify : 0], boolean(c, s->h.owned != 0),
    };
    Z3_ast args[FIELDS];
    for (size_t f = 0; f < FIELDS; f++)
        args[r->field_pos[f]] = field[f];
    t.page = Z3_mk_app(c, r->mk_page, FIELDS, args);
    return t;
}

/* Does a term contain a quantifier? (ids seen are marked in `seen`) */
static bool has_quantifier(Z3_context c, Z3_ast e, unsigned char *seen, size_t nseen)
{
    unsigned id = Z3_get_ast_id(c, e);
    if (id < nseen) {
        if (seen[id])
            return false;
        seen[id] = 1;
    }
    switch (Z3_get_ast_kind(c, e)) {
    case Z3_QUANTIFIER_AST:
        return true;
    case Z3_APP_AST: {
        Z3_app a = Z3_to_app(c, e);
        for (unsigned i = 0; i < Z3_get_app_num_args(c, a); i++)
            if (has_quantifier(c, Z3_get_app_arg(c, a, i), seen, nseen))
                return true;
        return false;
    }
    default:
        return false;
    }
}

/* ---- reports ------------------------------------------------------------------------ */

static void show_list(pf_buf_t *out, const char *name, const uint32_t *x, uint32_t n)
{
    pf_buf_addf(out, " %s[", name);
    for (uint32_t k = 0; k < n && k < SHOW_MAX; k++)
        pf_buf_addf(out, "%s%u", k ? " " : "", x[k]);
    if (n > SHOW_MAX)
        pf_buf_addf(out, " ... (%u in all)", n);
    pf_buf_add(out, "]");
}

static void show_state(pf_buf_t *out, const char *label, const snap_t *s)
{
    static const char *const notify[4] = { "NONE", "WATCH", "QUEUED", "?" };
    pf_buf_addf(out, "    %s: reserved=%u capacity=%u used=%u block_size=%u in_full=%u notify=%s owned=%u",
                label, s->h.reserved, s->h.capacity, s->h.used, s->h.block_size, s->h.in_full,
                notify[s->h.notify < 3 ? s->h.notify : 3], s->h.owned);
    if (s->h.bad)
        pf_buf_addf(out, " WALK-FAILED(%s%s%s%s)", s->h.bad & SA_TRACE_BAD_OUTSIDE ? " outside" : "",
                    s->h.bad & SA_TRACE_BAD_BOUNDARY ? " off-boundary" : "",
                    s->h.bad & SA_TRACE_BAD_TWICE ? " twice" : "",
                    s->h.bad & SA_TRACE_BAD_LONG ? " too-long" : "");
    pf_buf_add(out, "\n      lists (head first):");
    show_list(out, "free", s->idx, s->h.n[0]);
    show_list(out, "local_free", s->idx + s->h.n[0], s->h.n[1]);
    show_list(out, "thread_free", s->idx + s->h.n[0] + s->h.n[1], s->h.n[2]);
    if (s->h.n[3])
        show_list(out, "taken", s->idx + s->h.n[0] + s->h.n[1] + s->h.n[2], s->h.n[3]);
    /* LIVE: made blocks on no list */
    size_t len = s->h.capacity;
    uint8_t *loc = calloc(len ? len : 1, 1);
    locations(s, loc, len);
    pf_buf_add(out, " live{");
    uint32_t shown = 0, live = 0;
    for (size_t b = 0; b < len; b++)
        if (loc[b] == L_LIVE) {
            if (shown < SHOW_MAX)
                pf_buf_addf(out, "%s%zu", shown++ ? " " : "", b);
            live++;
        }
    if (live > SHOW_MAX)
        pf_buf_addf(out, " ... (%u in all)", live);
    pf_buf_add(out, "}\n");
    free(loc);
}

static bool fail(rp_replay_t *r, const sa_trace_rec_t *h, const snap_t *before, const snap_t *after,
                 const char *why)
{
    pf_buf_addf(&r->err, "replay: step %llu (thread %u): %s on page %#lx is not allowed by "
                "spec/page.smt2: %s\n", (unsigned long long)h->seq, h->thread,
                h->transition < SA_T__COUNT ? names[h->transition] : "?", (unsigned long)h->page, why);
    if (before)
        show_state(&r->err, "before", before);
    if (after)
        show_state(&r->err, "after ", after);
    return false;
}

/* ---- one step ----------------------------------------------------------------------- */

static page_t *page_of(rp_replay_t *r, uintptr_t addr)
{
    for (size_t i = 0; i < r->npages; i++)
        if (r->pages[i].addr == addr)
            return &r->pages[i];
    if (r->npages == r->cap_pages) {
        r->cap_pages = r->cap_pages ? 2 * r->cap_pages : 64;
        r->pages = realloc(r->pages, r->cap_pages * sizeof *r->pages);
    }
    page_t *p = &r->pages[r->npages++];
    memset(p, 0, sizeof *p);
    p->addr = addr;
    return p;
}

/* The solver's answer; SA_REPLAY_DEBUG=1 prints each question it gets. */
static Z3_lbool solve(rp_replay_t *r, int q, const snap_t *after)
{
    double t0 = pf_now_seconds();
    Z3_lbool v = Z3_solver_check(r->c, r->solver);
    if (r->debug)
        fprintf(stderr, "replay: solver %.1f ms on %s (capacity %u): %s\n", (pf_now_seconds() - t0) * 1e3,
                questions[q], after ? after->h.capacity : 0, v == Z3_L_TRUE ? "sat" : v == Z3_L_FALSE ? "unsat" : "unknown");
    return v;
}

/* Z3's simplifier. (Its sort_store option would order nested stores, but
 * costs 10x on pages of thousands of blocks: build() stores in the model's
 * order instead.) */
static Z3_ast simplify(rp_replay_t *r, Z3_ast e)
{
    return Z3_simplify_ex(r->c, e, r->simp);
}

/* Is the formula phi over ground pages valid? Simplification decides most
 * of it: what is left are quantifiers. Each (forall binders body) has its
 * Loc binders instantiated with every constructor and its Int binder with a
 * fresh constant k; an instance that simplifies to true holds for every k.
 * One that does not is instantiated at k = 0 .. span-1 (every block and slot
 * index of the two states; each such instance simplifies on ground terms),
 * and the solver is asked only about k outside that range and whatever still
 * did not simplify (Z3 answers quantified `sat` unreliably, and
 * unsimplified queries about pages of thousands of blocks take seconds).
 * Returns NULL if phi holds, else why not. */
static const char *holds(rp_replay_t *r, int q, Z3_ast phi, int64_t span, const char *no)
{
    Z3_context c = r->c;
    static char why[256];
    phi = simplify(r, phi);
    if (Z3_is_eq_ast(c, phi, Z3_mk_true(c)))
        return NULL;
    if (Z3_is_eq_ast(c, phi, Z3_mk_false(c)))
        return no;
    enum { MAXC = 256 };
    Z3_ast conj[MAXC], open[MAXC];
    unsigned nconj = 0, nopen = 0;
    Z3_app top = Z3_get_ast_kind(c, phi) == Z3_APP_AST ? Z3_to_app(c, phi) : NULL;
    if (top && Z3_get_decl_kind(c, Z3_get_app_decl(c, top)) == Z3_OP_AND &&
        Z3_get_app_num_args(c, top) <= MAXC) {
        for (unsigned i = 0; i < Z3_get_app_num_args(c, top); i++)
            conj[nconj++] = Z3_get_app_arg(c, top, i);
    } else {
        conj[nconj++] = phi;
    }
    Z3_ast ctor[16];
    unsigned nctor = Z3_get_datatype_sort_num_constructors(c, r->loc_sort);
    if (nctor > 16)
        return "the replay could not decide the step (Loc has too many values)";
    for (unsigned i = 0; i < nctor; i++)
        ctor[i] = Z3_mk_app(c, Z3_get_datatype_sort_constructor(c, r->loc_sort, i), 0, NULL);
    /* never skip a conjunct or an instance: out of room is a failure */
    const char *full = "the replay could not decide the step (too many open instances)";
    for (unsigned k = 0; k < nconj; k++) {
        if (nopen >= MAXC - 2)
            return full;
        Z3_ast e = conj[k];
        if (Z3_is_eq_ast(c, e, Z3_mk_false(c)))
            return no;
        unsigned nb = Z3_get_ast_kind(c, e) == Z3_QUANTIFIER_AST && Z3_is_quantifier_forall(c, e)
                          ? Z3_get_quantifier_num_bound(c, e) : 0;
        /* binders: Loc ones enumerated, at most one Int one */
        int int_binder = -1, loc_binders = 0;
        bool ok = nb > 0 && nb <= 3;
        for (unsigned i = 0; ok && i < nb; i++) {
            Z3_sort so = Z3_get_quantifier_bound_sort(c, e, i);
            if (Z3_get_sort_kind(c, so) == Z3_INT_SORT && int_binder < 0)
                int_binder = (int)i;
            else if (Z3_is_eq_sort(c, so, r->loc_sort))
                loc_binders++;
            else
                ok = false;
        }
        if (!ok) {
            open[nopen++] = Z3_mk_not(c, e);
            continue;
        }
        Z3_ast body = Z3_get_quantifier_body(c, e);
        Z3_ast kvar = Z3_mk_fresh_const(c, "k", r->int_sort);
        unsigned combos = 1;
        for (int i = 0; i < loc_binders; i++)
            combos *= nctor;
        for (unsigned combo = 0; combo < combos; combo++) {
            if (nopen >= MAXC - 2)
                return full;
            /* de Bruijn: the last binder is variable 0 */
            Z3_ast to[3];
            unsigned rest = combo;
            for (unsigned i = 0; i < nb; i++) {
                Z3_ast *slot = &to[nb - 1 - i];
                if ((int)i == int_binder) {
                    *slot = kvar;
                } else {
                    *slot = ctor[rest % nctor];
                    rest /= nctor;
                }
            }
            Z3_ast inst = simplify(r, Z3_substitute_vars(c, body, nb, to));
            if (Z3_is_eq_ast(c, inst, Z3_mk_true(c)))
                continue;
            if (Z3_is_eq_ast(c, inst, Z3_mk_false(c)) || int_binder < 0) {
                if (!Z3_is_eq_ast(c, inst, Z3_mk_false(c))) {
                    open[nopen++] = Z3_mk_not(c, inst);
                    continue;
                }
                return no;
            }
            for (int64_t v = 0; v < span; v++) {
                Z3_ast at = num(r, v);
                Z3_ast one = simplify(r, Z3_substitute(c, inst, 1, &kvar, &at));
                if (Z3_is_eq_ast(c, one, Z3_mk_true(c)))
                    continue;
                if (Z3_is_eq_ast(c, one, Z3_mk_false(c))) {
                    snprintf(why, sizeof why, "%s (at block or slot %lld)", no, (long long)v);
                    return why;
                }
                if (nopen >= MAXC - 2)
                    return full;
                open[nopen++] = Z3_mk_not(c, one);
            }
            /* the indices outside [0, span) */
            Z3_ast outside[2] = { Z3_mk_lt(c, kvar, num(r, 0)), Z3_mk_ge(c, kvar, num(r, span)) };
            Z3_ast parts[2] = { Z3_mk_or(c, 2, outside), Z3_mk_not(c, inst) };
            open[nopen++] = Z3_mk_and(c, 2, parts);
        }
    }
    if (nopen == 0)
        return NULL;
    r->solved++;
    Z3_solver fresh = Z3_mk_simple_solver(c);
    Z3_solver_inc_ref(c, fresh);
    Z3_solver_assert(c, fresh, nopen == 1 ? open[0] : Z3_mk_or(c, nopen, open));
    double t0 = pf_now_seconds();
    Z3_lbool v = Z3_solver_check(c, fresh);
    if (r->debug)
        fprintf(stderr, "replay: solver %.1f ms on %s (residual, %u open)\n", (pf_now_seconds() - t0) * 1e3,
                questions[q], nopen);
    Z3_solver_dec_ref(c, fresh);
    if (v == Z3_L_TRUE) {
        snprintf(why, sizeof why, "%s (the solver found where)", no);
        return why;
    }
    if (v == Z3_L_UNDEF)
        return "z3 could not decide the step (unknown)";
    return NULL;
}

/* Is (before, after) allowed by question q with these arguments? Returns
 * NULL if so, else why not.
 *
 * A quantifier-free question (the transition gives the after-state as one
 * mk_page term) is asked with the model's after-state t free: (1) some t
 * exists (the guard holds) and (2) no t differs from the code's (page_equiv).
 * A question with quantifiers (the transition constrains t block by block)
 * is asked on the witness x (and m), built from the code's after-state: it
 * must be valid that (T s x) and (page_equiv x a) -- negated, the
 * quantifiers become existential and the query is quantifier-free again
 * (Z3 answers `sat` on quantified queries unreliably, e.g. extend: unknown
 * after 20 s). Either way the step is allowed iff some model successor of s
 * is the code's after-state. */
static const char *allowed(rp_replay_t *r, int q, const term_t *s, const term_t *a,
                           const rp_replay_args_t *args, const snap_t *after, const term_t *x,
                           int64_t span)
{
    Z3_context c = r->c;
    Z3_ast from[] = { r->q[Q_S], r->q[Q_A], r->q[Q_B], r->q[Q_POPPED], r->q[Q_BSIZE],
                      r->q[Q_AREA], r->q[Q_T] };
    Z3_ast to[] = { s->page, a->page, num(r, args->b), boolean(c, args->popped), num(r, args->bsize),
                    num(r, args->area), x ? x->page : NULL };
    unsigned n = x ? 7 : 6;
    Z3_ast step = simplify(r, Z3_substitute(c, r->q[q], n, from, to));
    if (x) {
        /* valid: (T s x) and (page_equiv x a) */
        Z3_ast both[2] = { step, Z3_substitute(c, r->equiv, n, from, to) };
        return holds(r, q, Z3_mk_and(c, 2, both), span,
                     "the state after is not a state the model reaches (or its guard fails)");
    }
    /* ground s and arguments: the step simplifies to false (guard fails) or
     * to t = X with X ground, and then (page_equiv X a) must hold */
    if (Z3_is_eq_ast(c, step, Z3_mk_false(c)))
        return "the model has no such step from the state before (its guard fails)";
    Z3_ast t_is = NULL;
    if (Z3_get_ast_kind(c, step) == Z3_APP_AST &&
        Z3_get_decl_kind(c, Z3_get_app_decl(c, Z3_to_app(c, step))) == Z3_OP_EQ) {
        Z3_app eq = Z3_to_app(c, step);
        for (unsigned i = 0; i < 2; i++)
            if (Z3_is_eq_ast(c, Z3_get_app_arg(c, eq, i), r->q[Q_T]))
                t_is = Z3_get_app_arg(c, eq, 1 - i);
    }
    if (t_is) {
        to[6] = t_is;
        return holds(r, q, Z3_substitute(c, r->equiv, 7, from, to), span,
                     "the state after differs from the state the model reaches");
    }
    /* anything else: the solver, with t free */
    const char *why = NULL;
    r->solved++;
    Z3_solver_push(c, r->solver);
    Z3_solver_assert(c, r->solver, step);
    Z3_lbool v = solve(r, q, after);
    if (v == Z3_L_FALSE) {
        why = "the model has no such step from the state before (its guard fails)";
    } else if (v == Z3_L_UNDEF) {
        why = "z3 could not decide whether the model has such a step (unknown)";
    } else {
        Z3_solver_assert(c, r->solver, Z3_substitute(c, r->q[Q_DIFFERS], n, from, to));
        v = solve(r, q, after);
        if (v == Z3_L_TRUE)
            why = "the state after differs from the state the model reaches";
        else if (v == Z3_L_UNDEF)
            why = "z3 could not decide whether the state after is the model's (unknown)";
    }
    Z3_solver_pop(c, r->solver, 1);
    return why;
}

static bool not_inv(rp_replay_t *r, Z3_ast s)
{
    Z3_ast from[] = { r->q[Q_S] }, to[] = { s };
    Z3_ast phi = simplify(r, Z3_substitute(r->c, r->q[Q_NOT_INV], 1, from, to));
    /* a ground page and an unrolled model: the simplifier decides */
    if (Z3_is_eq_ast(r->c, phi, Z3_mk_false(r->c)))
        return false;
    if (Z3_is_eq_ast(r->c, phi, Z3_mk_true(r->c)))
        return true;
    Z3_solver_push(r->c, r->solver);
    Z3_solver_assert(r->c, r->solver, phi);
    Z3_lbool v = Z3_solver_check(r->c, r->solver);
    Z3_solver_pop(r->c, r->solver, 1);
    return v != Z3_L_FALSE;
}

static bool same_snap(const snap_t *s, const unsigned char *raw, size_t bytes)
{
    return s->bytes == bytes && memcmp(s->raw, raw, bytes) == 0;
}

/* The question q on this step. A quantifier-free one is asked of the code's
 * after-state built on s; one with quantifiers of the witness built on a
 * fresh s (its stale slots must be the model's: none), via m for collect's
 * two halves. Returns NULL if allowed; *next is then the after-state. */
static const char *ask(rp_replay_t *r, int q, page_t *pg, bool cached, const snap_t *before,
                       const snap_t *after, const rp_replay_args_t *args, term_t *next)
{
    bool witness = r->quantified[q];
    /* every made block and every list slot of either state is below span
     * (the blocks from capacity to reserved are UNMADE in both: the solver
     * checks them with the indices outside) */
    int64_t span = 1;
    const uint32_t sizes[] = { before->h.capacity, after->h.capacity };
    for (size_t i = 0; i < 2; i++)
        if ((int64_t)sizes[i] + 1 > span)
            span = (int64_t)sizes[i] + 1;
    term_t s = r->empty_term;
    const layout_t *sl = r->empty;
    if (q == Q_INIT) {
        /* a new life: page_init's after-state is built on the empty page */
    } else if (cached && (witness ? pg->lay->fresh
                                  : pg->lay->history < STALE_STORES + after->h.capacity)) {
        s = pg->term;
        sl = pg->lay;
    } else {
        s = build(r, &r->empty_term, r->empty, before, r->ls);
        sl = r->ls;
    }
    if (!witness) {
        /* a page left with no made block (retire): its after-state is the
         * empty page's term plus scalars, as the model writes it */
        if (after->h.capacity == 0)
            *next = build(r, &r->empty_term, r->empty, after, r->la_);
        else
            *next = build(r, &s, sl, after, r->la_);
        return allowed(r, q, &s, next, args, after, NULL, 0);
    }
    *next = build(r, &s, sl, after, r->lx);
    return allowed(r, q, &s, next, args, after, next, span);
}

static bool step(rp_replay_t *r, const sa_trace_rec_t *h, const snap_t *before, const snap_t *after)
{
    if (h->transition >= SA_T__COUNT || names[h->transition] == NULL)
        return fail(r, h, NULL, NULL, "a transition of src/trace.h the replay has no question for");
    sa_transition_t t = (sa_transition_t)h->transition;
    if (before->h.bad && t != SA_T_PAGE_INIT)
        return fail(r, h, before, after, "walking the real lists before the step failed");
    if (after->h.bad)
        return fail(r, h, before, after, "walking the real lists after the step failed");
    if (before->h.capacity > SA_MAX_BLOCKS_PER_PAGE || after->h.capacity > SA_MAX_BLOCKS_PER_PAGE)
        return fail(r, h, before, after, "capacity beyond SA_MAX_BLOCKS_PER_PAGE");
    page_t *pg = page_of(r, h->page);
    /* nothing may change a page between two of its traced steps (page_init
     * starts a new life: a retired page is reset by its segment) */
    if (t != SA_T_PAGE_INIT && pg->last && !same_snap(before, pg->last, pg->last_bytes)) {
        snap_t last;
        decode(pg->last, pg->last_bytes, &last);
        pf_buf_addf(&r->err, "replay: page %#lx changed outside a traced transition between "
                    "step %llu and step %llu (%s)\n", (unsigned long)h->page,
                    (unsigned long long)pg->last_seq, (unsigned long long)h->seq, names[t]);
        show_state(&r->err, "after step ", &last);
        show_state(&r->err, "before next", before);
        return false;
    }
    if (r->since_rebuild++ >= REBUILD_STEPS && !context_new(r))
        return false;
    bool cached = pg->last && pg->epoch == r->epoch && t != SA_T_PAGE_INIT;
    if (!pg->last && t != SA_T_PAGE_INIT &&
        not_inv(r, build(r, &r->empty_term, r->empty, before, r->ls).page))
        return fail(r, h, before, NULL, "a page first met in the trace violates the invariant (inv)");
    /* the block the step moved: the first whose location changed */
    locations(before, r->lb, SA_MAX_BLOCKS_PER_PAGE);
    locations(after, r->la, SA_MAX_BLOCKS_PER_PAGE);
    int64_t b = -1;
    for (size_t k = 0; k < SA_MAX_BLOCKS_PER_PAGE && b < 0; k++)
        if (r->lb[k] != r->la[k])
            b = (int64_t)k;
    const char *why = NULL;
    term_t next = { 0 };
    layout_t *next_lay = NULL;
    if (t == SA_T_TO_FULL && same_snap(before, after->raw, after->bytes)) {
        /* _sa_page_to_full's CAS lost to a remote free: no transition */
        r->declined++;
        if (cached) {
            next = pg->term;
            next_lay = pg->lay;
        }
    } else {
        double t0 = pf_now_seconds();
        int q = question_of[t];
        /* page_init's arguments as the snapshot says: the replay has no others */
        rp_replay_args_t args = { .b = b, .popped = false, .bsize = after->h.block_size,
                                  .area = after->h.area };
        why = ask(r, q, pg, cached, before, after, &args, &next);
        if (why && t == SA_T_UNFULL) {
            /* the trace does not record popped: either value (tests/refine
             * checks unfull with the one its caller passes) */
            args.popped = true;
            why = ask(r, q, pg, cached, before, after, &args, &next);
        }
        next_lay = r->quantified[q] ? r->lx : r->la_;
        r->count[t]++;
        r->name_seconds[t] += pf_now_seconds() - t0;
        if (t == SA_T_COLLECT_FINISH && pg->take && pg->take_seq != pg->last_seq)
            r->interleaved++;
        if (!why && t == SA_T_COLLECT_FINISH && pg->take && pg->take_seq == pg->last_seq) {
            /* nothing came between the two halves: together they must be
             * the model's atomic collect, from the state before the take */
            t0 = pf_now_seconds();
            snap_t tb;
            decode(pg->take, pg->take_bytes, &tb);
            term_t whole;
            rp_replay_args_t whole_args = { .b = b, .bsize = after->h.block_size, .area = after->h.area };
            why = ask(r, Q_COLLECT, pg, false, &tb, after, &whole_args, &whole);
            if (why)
                why = "collect_take then collect_finish, with nothing between, are not collect";
            else
                next = whole;
            r->count[SA_T_COLLECT]++;
            r->name_seconds[SA_T_COLLECT] += pf_now_seconds() - t0;
        }
    }
    if (why) {
        fail(r, h, before, after, why);
        if (b >= 0)
            pf_buf_addf(&r->err, "    the block that moved: %lld\n", (long long)b);
        else
            pf_buf_add(&r->err, "    no block changed its location\n");
        return false;
    }
    if (t == SA_T_COLLECT_FINISH) {
        /* the take is finished (the tracing build refuses a finish
         * without a take: src/trace.c) */
        free(pg->take);
        pg->take = NULL;
    }
    if (t == SA_T_COLLECT_TAKE) {
        free(pg->take);
        pg->take = malloc(before->bytes);
        memcpy(pg->take, before->raw, before->bytes);
        pg->take_bytes = before->bytes;
        pg->take_seq = h->seq;
    }
    free(pg->last);
    pg->last = malloc(after->bytes);
    memcpy(pg->last, after->raw, after->bytes);
    pg->last_bytes = after->bytes;
    pg->last_seq = h->seq;
    if (next_lay != NULL) {
        if (!pg->lay)
            pg->lay = malloc(sizeof *pg->lay);
        if (next_lay != pg->lay)
            memcpy(pg->lay, next_lay, sizeof *pg->lay);
        pg->term = next;
        pg->epoch = r->epoch;
    } else {
        pg->epoch = 0;      /* no term to reuse */
    }
    r->steps++;
    return true;
}

const char *rp_replay_inv(rp_replay_t *r, const unsigned char *snap, size_t bytes)
{
    snap_t s;
    if (!decode(snap, bytes, &s))
        return "a malformed snapshot";
    if (s.h.bad)
        return "walking the real lists failed (a link outside the page or off a block start, "
               "a block met twice, or a list longer than capacity)";
    if (s.h.capacity > SA_MAX_BLOCKS_PER_PAGE)
        return "capacity beyond SA_MAX_BLOCKS_PER_PAGE";
    if (not_inv(r, build(r, &r->empty_term, r->empty, &s, r->ls).page))
        return "the page's state violates the invariant (inv)";
    return NULL;
}

bool rp_replay_run(rp_replay_t *r, const unsigned char *data, size_t len, bool overflowed)
{
    double t0 = pf_now_seconds();
    bool ok = true;
    size_t off = 0;
    while (ok && off < len) {
        sa_trace_rec_t h;
        snap_t before, after;
        if (len - off < sizeof h) {
            pf_buf_add(&r->err, "replay: truncated record header\n");
            ok = false;
            break;
        }
        memcpy(&h, data + off, sizeof h);
        if (h.size < sizeof h || h.size > len - off ||
            !decode(data + off + sizeof h, h.size - sizeof h, &before) ||
            !decode(data + off + sizeof h + before.bytes, h.size - sizeof h - before.bytes, &after)) {
            pf_buf_addf(&r->err, "replay: malformed record at byte %zu\n", off);
            ok = false;
            break;
        }
        ok = step(r, &h, &before, &after);
        off += h.size;
    }
    if (ok && overflowed) {
        pf_buf_add(&r->err, "replay: the trace buffer overflowed: the trace is cut "
                            "(raise SHARDALLOC_TRACE_MB)\n");
        ok = false;
    }
    r->seconds += pf_now_seconds() - t0;
    return ok;
}

/* ---- one step with its arguments given (tests/refine) ------------------------------ */

static bool decode_whole(const unsigned char *p, size_t len, snap_t *s)
{
    return decode(p, len, s) && s->bytes == len;
}

const char *rp_replay_check(rp_replay_t *r, sa_transition_t t, const unsigned char *before,
                            size_t before_len, const unsigned char *after, size_t after_len,
                            const rp_replay_args_t *args)
{
    snap_t sb, sa;
    if (t >= SA_T__COUNT || names[t] == NULL)
        return "a transition the replay has no question for";
    if (!decode_whole(before, before_len, &sb) || !decode_whole(after, after_len, &sa))
        return "a malformed snapshot";
    if ((sb.h.bad && t != SA_T_PAGE_INIT) || sa.h.bad)
        return "walking the real lists failed";
    if (sb.h.capacity > SA_MAX_BLOCKS_PER_PAGE || sa.h.capacity > SA_MAX_BLOCKS_PER_PAGE)
        return "capacity beyond SA_MAX_BLOCKS_PER_PAGE";
    if (r->since_rebuild++ >= REBUILD_STEPS && !context_new(r))
        return "the Z3 context could not be rebuilt";
    term_t next;
    r->count[t]++;
    return ask(r, question_of[t], NULL, false, &sb, &sa, args, &next);
}

int rp_replay_guard(rp_replay_t *r, sa_transition_t t, const unsigned char *before,
                    size_t before_len, const rp_replay_args_t *args)
{
    snap_t sb;
    if (t >= SA_T__COUNT || names[t] == NULL || !decode_whole(before, before_len, &sb) || sb.h.bad)
        return -1;
    int q = question_of[t];
    if (r->quantified[q])
        return -1;
    if (r->since_rebuild++ >= REBUILD_STEPS && !context_new(r))
        return -1;
    Z3_context c = r->c;
    term_t s = build(r, &r->empty_term, r->empty, &sb, r->ls);
    Z3_ast from[] = { r->q[Q_S], r->q[Q_B], r->q[Q_POPPED], r->q[Q_BSIZE], r->q[Q_AREA] };
    Z3_ast to[] = { s.page, num(r, args->b), boolean(c, args->popped), num(r, args->bsize),
                    num(r, args->area) };
    Z3_ast step = simplify(r, Z3_substitute(c, r->q[q], 5, from, to));
    if (Z3_is_eq_ast(c, step, Z3_mk_false(c)))
        return 0;
    /* t = X for a ground X: a successor exists */
    if (Z3_get_ast_kind(c, step) == Z3_APP_AST &&
        Z3_get_decl_kind(c, Z3_get_app_decl(c, Z3_to_app(c, step))) == Z3_OP_EQ)
        return 1;
    return -1;
}

void rp_replay_show(pf_buf_t *out, const char *label, const unsigned char *snap, size_t len)
{
    snap_t s;
    if (!decode_whole(snap, len, &s)) {
        pf_buf_addf(out, "    %s: (malformed snapshot)\n", label);
        return;
    }
    show_state(out, label, &s);
}
