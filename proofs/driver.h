/* proofs/driver.h -- the Z3 C-API proof driver: obligations, mutants, checks.
 *
 * An obligation is "hypotheses imply goal" over the models in spec/. The
 * driver proves it by showing hyp /\ not goal is unsat in a fresh Z3 context
 * with a timeout, shows it is not vacuous (hyp alone is sat), and shows each
 * of its mutants (a deliberately broken model or constant) is refuted (sat,
 * with a counterexample). See docs/verification.md.
 */
#ifndef PF_DRIVER_H
#define PF_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A growable string. */
typedef struct pf_buf_s {
    char  *s;
    size_t len, cap;
} pf_buf_t;
void pf_buf_add(pf_buf_t *b, const char *s);
void pf_buf_addf(pf_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pf_buf_free(pf_buf_t *b);

/* The whole of a text file (malloc'd, "" if empty), or NULL if it cannot be
 * read; and a monotonic clock in seconds. Shared with tests/conformance. */
char  *pf_read_file(const char *path);
double pf_now_seconds(void);

/* A broken variant of the model an obligation must catch: either a text
 * replacement in the model files (`find` must occur exactly once, so a
 * mutant never silently stops mutating), or a constant from config.h moved
 * by `delta`. */
typedef struct pf_mutant_s {
    const char *name;
    const char *what;
    const char *find, *replace;
    const char *find2, *replace2;   /* a second edit, when one is not enough */
    const char *konst;
    long long   delta;
} pf_mutant_t;

/* Extra text an obligation generates at run time (e.g. a table computed by
 * the C functions of src/size_class.h for the model to agree with). */
typedef void pf_gen_fn(pf_buf_t *out);

typedef struct pf_obligation_s {
    const char *name;
    const char *covers;     /* the C functions it is about (docs/verification.md) */
    const char *models;     /* spec files, space separated, without .smt2 */
    bool        bv;         /* bit-vector model: QF_BV, constants as (_ BitVec 64) */
    const char *decls;      /* declarations of the free variables */
    const char *hyp;        /* hypotheses (one formula) */
    const char *goal;       /* what they must imply */
    pf_gen_fn  *gen;        /* if set: appended to decls (may define GOAL_EXTRA etc.) */
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
    const pf_mutant_t *mutants; /* terminated by a NULL name */
} pf_obligation_t;

/* What one check found. */
typedef enum pf_verdict_e {
    PF_HOLDS,       /* proof: unsat; vacuity: sat; mutant: sat (refuted) */
    PF_FAILS,       /* the opposite answer */
    PF_UNKNOWN,     /* timeout or unknown */
    PF_ERROR,       /* the text did not parse, Z3 failed, a worker process died, ... */
    PF_BROKEN       /* a mutant whose text is not in the model (once) or whose
                       constant does not exist: it tests nothing, and says so */
} pf_verdict_t;

typedef struct pf_result_s {
    pf_verdict_t verdict;
    double       seconds;
    pf_buf_t     detail;    /* counterexample or error text */
} pf_result_t;

/* Options of a run. */
typedef struct pf_driver_s {
    const char *spec_dir;   /* where the .smt2 files are */
    unsigned    timeout_ms; /* per check */
    FILE       *out;        /* table and counterexamples */
    bool        quiet_cex;  /* mutants: print no counterexample unless they survive */
    FILE       *dump;       /* if set: every query is written here (--dump) */
    int         jobs;       /* per-bin obligations: processes to spread bins over */
} pf_driver_t;

/* The three kinds of check on one obligation. */
void pf_prove(const pf_driver_t *d, const pf_obligation_t *ob, pf_result_t *r);
void pf_check_vacuity(const pf_driver_t *d, const pf_obligation_t *ob, pf_result_t *r);
void pf_check_mutant(const pf_driver_t *d, const pf_obligation_t *ob,
                     const pf_mutant_t *m, pf_result_t *r);
void pf_result_free(pf_result_t *r);

/* Proves an obligation, its non-vacuity and every mutant, printing one table
 * row per check. Returns true if all hold. */
bool pf_run_obligation(const pf_driver_t *d, const pf_obligation_t *ob);
void pf_print_table_header(FILE *out);

/* The SMT text of the config.h constants (as Int, or as 64-bit vectors),
 * with `konst` moved by `delta` when konst is not NULL. */
void pf_constants_text(pf_buf_t *out, bool bv, const char *konst, long long delta);
bool pf_constant_known(const char *name);

/* Rewrites every (forall ...) in text over Int binders as a conjunction over
 * [0, n) and over Loc binders as a conjunction over its values.
 * Returns false (with a message in err) on text it cannot handle. */
bool pf_unroll_foralls(const char *text, int n, pf_buf_t *out, pf_buf_t *err);

/* For the trace replay (tests/conformance): the SMT text of the config.h
 * constants (as Int) and the named models ("page"), with every quantifier
 * unrolled on [0, unroll) when unroll > 0 (use the page's reserved: then
 * `sat` answers are reliable). Feed it to Z3_eval_smtlib2_string, then
 * assert (T before after_model args) and (page_equiv after_model after)
 * for concrete pages; see docs/verification.md. */
bool pf_model_text(const char *spec_dir, const char *models, int unroll, pf_buf_t *out, pf_buf_t *err);

/* The table of obligations (proofs/obligations.c). */
extern const pf_obligation_t pf_obligations[];
extern const size_t pf_obligation_count;

#endif /* PF_DRIVER_H */
