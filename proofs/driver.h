/* proofs/driver.h -- the Z3 C-API proof driver: obligations, mutants, checks.
 *
 * An obligation is "hypotheses imply goal" over the models in spec/. The
 * driver proves it by showing hyp /\ not goal is unsat in a fresh Z3 context
 * with a timeout, shows it is not vacuous (hyp alone is sat), and shows each
 * of its mutants (a deliberately broken model or constant) is refuted (sat,
 * with a counterexample). See docs/verification.md.
 */
#ifndef SA_PROOFS_DRIVER_H
#define SA_PROOFS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A growable string. */
typedef struct sa_buf_s {
    char  *s;
    size_t len, cap;
} sa_buf_t;
void sa_buf_add(sa_buf_t *b, const char *s);
void sa_buf_addf(sa_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sa_buf_free(sa_buf_t *b);

/* The whole of a text file (malloc'd, "" if empty), or NULL if it cannot be
 * read; and a monotonic clock in seconds. Shared with tests/conformance. */
char  *sa_read_file(const char *path);
double sa_now_seconds(void);

/* A broken variant of the model an obligation must catch: either a text
 * replacement in the model files (`find` must occur exactly once, so a
 * mutant never silently stops mutating), or a constant from config.h moved
 * by `delta`. */
typedef struct sa_mutant_s {
    const char *name;
    const char *what;
    const char *find, *replace;
    const char *find2, *replace2;   /* a second edit, when one is not enough */
    const char *konst;
    long long   delta;
} sa_mutant_t;

/* Extra text an obligation generates at run time (e.g. a table computed by
 * the C functions of src/size_class.h for the model to agree with). */
typedef void sa_gen_fn(sa_buf_t *out);

typedef struct sa_obligation_s {
    const char *name;
    const char *covers;     /* the C functions it is about (docs/verification.md) */
    const char *models;     /* spec files, space separated, without .smt2 */
    bool        bv;         /* bit-vector model: QF_BV, constants as (_ BitVec 64) */
    const char *decls;      /* declarations of the free variables */
    const char *hyp;        /* hypotheses (one formula) */
    const char *goal;       /* what they must imply */
    sa_gen_fn  *gen;        /* if set: appended to decls (may define GOAL_EXTRA etc.) */
    /* Counterexample search (vacuity and mutant checks) on a finite page:
     * every quantifier over Int is unrolled on [0, finite), over Loc on its
     * values; finite_hyp keeps the page within that range. 0: not needed. */
    int         finite;
    const char *finite_hyp;
    const char *show;       /* what to print in a counterexample: "page:s int:b
                               phase:(pc r)" (page: as lists; phase: the name
                               spec/bounds.smt2 gives the value; int: the value) */
    const char *report;     /* constants to print the values of after the proof */
    int         per_bin;    /* >0: check once per size-class bin 1..SA_BIN_LARGE_MAX,
                               with the constant BIN defined (bit-vector) */
    const sa_mutant_t *mutants; /* terminated by a NULL name */
} sa_obligation_t;

/* What one check found. */
typedef enum sa_verdict_e {
    SA_HOLDS,       /* proof: unsat; vacuity: sat; mutant: sat (refuted) */
    SA_FAILS,       /* the opposite answer */
    SA_UNKNOWN,     /* timeout or unknown */
    SA_ERROR,       /* the text did not parse, Z3 failed, a worker process died, ... */
    SA_BROKEN       /* a mutant whose text is not in the model (once) or whose
                       constant does not exist: it tests nothing, and says so */
} sa_verdict_t;

typedef struct sa_result_s {
    sa_verdict_t verdict;
    double       seconds;
    sa_buf_t     detail;    /* counterexample or error text */
} sa_result_t;

/* Options of a run. */
typedef struct sa_driver_s {
    const char *spec_dir;   /* where the .smt2 files are */
    unsigned    timeout_ms; /* per check */
    FILE       *out;        /* table and counterexamples */
    bool        quiet_cex;  /* mutants: print no counterexample unless they survive */
    FILE       *dump;       /* if set: every query is written here (--dump) */
    int         jobs;       /* per-bin obligations: processes to spread bins over */
} sa_driver_t;

/* The three kinds of check on one obligation. */
void sa_prove(const sa_driver_t *d, const sa_obligation_t *ob, sa_result_t *r);
void sa_check_vacuity(const sa_driver_t *d, const sa_obligation_t *ob, sa_result_t *r);
void sa_check_mutant(const sa_driver_t *d, const sa_obligation_t *ob,
                     const sa_mutant_t *m, sa_result_t *r);
void sa_result_free(sa_result_t *r);

/* Proves an obligation, its non-vacuity and every mutant, printing one table
 * row per check. Returns true if all hold. */
bool sa_run_obligation(const sa_driver_t *d, const sa_obligation_t *ob);
void sa_print_table_header(FILE *out);

/* The SMT text of the config.h constants (as Int, or as 64-bit vectors),
 * with `konst` moved by `delta` when konst is not NULL. */
void sa_constants_text(sa_buf_t *out, bool bv, const char *konst, long long delta);
bool sa_constant_known(const char *name);

/* Rewrites every (forall ...) in text over Int binders as a conjunction over
 * [0, n) and over Loc binders as a conjunction over its values.
 * Returns false (with a message in err) on text it cannot handle. */
bool sa_unroll_foralls(const char *text, int n, sa_buf_t *out, sa_buf_t *err);

/* For the trace replay (tests/conformance): the SMT text of the config.h
 * constants (as Int) and the named models ("page"), with every quantifier
 * unrolled on [0, unroll) when unroll > 0 (use the page's reserved: then
 * `sat` answers are reliable). Feed it to Z3_eval_smtlib2_string, then
 * assert (T before after_model args) and (page_equiv after_model after)
 * for concrete pages; see docs/verification.md. */
bool sa_model_text(const char *spec_dir, const char *models, int unroll, sa_buf_t *out, sa_buf_t *err);

/* The table of obligations (proofs/obligations.c). */
extern const sa_obligation_t sa_obligations[];
extern const size_t sa_obligation_count;

#endif /* SA_PROOFS_DRIVER_H */
