/* proofs/driver.c -- discharging obligations with the Z3 C API.
 *
 * Every check runs in a fresh Z3 context (measured: bit-vector queries run
 * 2-10x slower under push/pop) with an explicit logic and a timeout. The
 * query is SMT-LIB text: generated constants, the model files, the
 * obligation's declarations and assertions, fed to Z3_eval_smtlib2_string;
 * values for counterexamples are read back with (eval ...).
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <z3.h>
#include "driver.h"
#include "config.h"
#include "size_class.h"

/* ---- strings ------------------------------------------------------------- */

void pf_buf_add(pf_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        if (!b->s)
            abort();
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

void pf_buf_addf(pf_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof small) {
        pf_buf_add(b, small);
        return;
    }
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pf_buf_add(b, big);
    free(big);
}

void pf_buf_free(pf_buf_t *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void pf_result_free(pf_result_t *r)
{
    pf_buf_free(&r->detail);
}

double pf_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *pf_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    pf_buf_t b = { 0 };
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
        chunk[n] = 0;
        pf_buf_add(&b, chunk);
    }
    fclose(f);
    if (!b.s)
        pf_buf_add(&b, "");
    return b.s;
}

/* ---- building a query ------------------------------------------------------ */

typedef enum mode_e { PROVE, VACUITY, MUTANT } mode_t_;

/* Replaces find by replace in b; find must occur exactly once. */
static bool replace_once(pf_buf_t *b, const char *mutant, const char *find, const char *replace,
                         pf_buf_t *err)
{
    char *hit = strstr(b->s, find);
    if (!hit || strstr(hit + 1, find)) {
        pf_buf_addf(err, "mutant %s: its text occurs %s in the model: `%s`",
                    mutant, hit ? "more than once" : "nowhere", find);
        return false;
    }
    pf_buf_t r = { 0 };
    *hit = 0;
    pf_buf_add(&r, b->s);
    pf_buf_add(&r, replace);
    pf_buf_add(&r, hit + strlen(find));
    pf_buf_free(b);
    *b = r;
    return true;
}

/* The model files of an obligation, mutated by m (when not NULL). */
static bool load_models(const pf_driver_t *d, const pf_obligation_t *ob,
                        const pf_mutant_t *m, pf_buf_t *out, pf_buf_t *err)
{
    pf_buf_t all = { 0 };
    char names[256];
    snprintf(names, sizeof names, "%s", ob->models);
    for (char *save = NULL, *f = strtok_r(names, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.smt2", d->spec_dir, f);
        char *text = pf_read_file(path);
        if (!text) {
            pf_buf_addf(err, "cannot read %s", path);
            pf_buf_free(&all);
            return false;
        }
        pf_buf_add(&all, text);
        pf_buf_add(&all, "\n");
        free(text);
    }
    bool ok = true;
    if (m && m->find)
        ok = replace_once(&all, m->name, m->find, m->replace, err);
    if (ok && m && m->find2)
        ok = replace_once(&all, m->name, m->find2, m->replace2, err);
    if (ok)
        pf_buf_add(out, all.s);
    pf_buf_free(&all);
    return ok;
}


/* The part of a query shared by every bin: logic, timeout, constants, models. */
static bool build_prefix(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                         pf_buf_t *q, pf_buf_t *err)
{
    if (m && m->konst && !pf_constant_known(m->konst)) {
        pf_buf_addf(err, "mutant %s: no constant %s", m->name, m->konst);
        return false;
    }
    pf_constants_text(q, ob->bv, m ? m->konst : NULL, m ? m->delta : 0);
    return load_models(d, ob, m, q, err);
}

/* The obligation itself: the bin, declarations, hypotheses, negated goal. */
static void build_body(const pf_obligation_t *ob, mode_t_ mode, int bin, pf_buf_t *q)
{
    pf_buf_addf(q, "; ---- obligation %s\n", ob->name);
    if (bin > 0)
        pf_buf_addf(q, "(define-fun BIN () (_ BitVec 64) (_ bv%d 64))\n", bin);
    pf_buf_add(q, ob->decls);
    pf_buf_add(q, "\n");
    if (ob->gen)
        ob->gen(q);
    pf_buf_addf(q, "(assert %s)\n", ob->hyp);
    if (mode != VACUITY)
        pf_buf_addf(q, "(assert (not %s))\n", ob->goal);
    if (mode != PROVE && ob->finite > 0 && ob->finite_hyp)
        pf_buf_addf(q, "(assert %s)\n", ob->finite_hyp);
}

static void build_header(const pf_driver_t *d, const pf_obligation_t *ob, pf_buf_t *q)
{
    pf_buf_addf(q, "(set-option :timeout %u)\n", d->timeout_ms);
    pf_buf_add(q, ob->bv ? "(set-logic QF_BV)\n" : "(set-logic ALL)\n");
}

/* A whole query (unrolled on a finite page for counterexample searches). */
static bool build_query(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                        mode_t_ mode, int bin, pf_buf_t *q, pf_buf_t *err)
{
    pf_buf_t text = { 0 };
    bool ok = build_prefix(d, ob, m, &text, err);
    if (ok) {
        build_body(ob, mode, bin, &text);
        build_header(d, ob, q);
        if (mode != PROVE && ob->finite > 0)
            ok = pf_unroll_foralls(text.s, ob->finite, q, err);
        else
            pf_buf_add(q, text.s);
    }
    pf_buf_free(&text);
    return ok;
}

bool pf_model_text(const char *spec_dir, const char *models, int unroll, pf_buf_t *out, pf_buf_t *err)
{
    const pf_driver_t d = { .spec_dir = spec_dir };
    const pf_obligation_t ob = { .name = "model", .models = models };
    pf_buf_t text = { 0 };
    bool ok = build_prefix(&d, &ob, NULL, &text, err);
    if (ok && unroll > 0)
        ok = pf_unroll_foralls(text.s, unroll, out, err);
    else if (ok)
        pf_buf_add(out, text.s);
    pf_buf_free(&text);
    return ok;
}

/* ---- running Z3 -------------------------------------------------------------- */

static void ignore_error(Z3_context c, Z3_error_code e)
{
    (void)c;
    (void)e;
}

static Z3_context fresh_context(unsigned timeout_ms)
{
    Z3_config cfg = Z3_mk_config();
    char ms[32];
    snprintf(ms, sizeof ms, "%u", timeout_ms);
    Z3_set_param_value(cfg, "timeout", ms);
    Z3_set_param_value(cfg, "model", "true");
    Z3_context c = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_set_error_handler(c, ignore_error);
    return c;
}

/* Sends text; returns a malloc'ed copy of Z3's answer, or NULL on an error
 * (with Z3's message in err). */
static char *send(Z3_context c, const char *text, pf_buf_t *err)
{
    Z3_string r = Z3_eval_smtlib2_string(c, text);
    if (Z3_get_error_code(c) != Z3_OK || (r && strstr(r, "(error"))) {
        pf_buf_addf(err, "z3: %s", r && *r ? r : Z3_get_error_msg(c, Z3_get_error_code(c)));
        return NULL;
    }
    char *s = strdup(r ? r : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = 0;
    return s;
}

/* The value of a term in the current model, as text ("?" if unavailable);
 * bit-vector numerals are shown in decimal. */
static void value(Z3_context c, const char *term, char *out, size_t size)
{
    pf_buf_t cmd = { 0 }, err = { 0 };
    pf_buf_addf(&cmd, "(eval %s :completion true)", term);
    char *v = send(c, cmd.s, &err);
    pf_buf_free(&cmd);
    pf_buf_free(&err);
    if (!v) {
        snprintf(out, size, "?");
        return;
    }
    if (v[0] == '#' && v[1] == 'x')
        snprintf(out, size, "%llu", strtoull(v + 2, NULL, 16));
    else if (v[0] == '#' && v[1] == 'b')
        snprintf(out, size, "%llu", strtoull(v + 2, NULL, 2));
    else if (strncmp(v, "(- ", 3) == 0)
        snprintf(out, size, "-%.*s", (int)strcspn(v + 3, ")"), v + 3);
    else
        snprintf(out, size, "%s", v);
    free(v);
}

static long ivalue(Z3_context c, const char *term, bool *ok)
{
    char v[128];
    value(c, term, v, sizeof v);
    char *end;
    long x = strtol(v, &end, 10);
    *ok = end != v && *end == 0;
    return x;
}

/* A page as lists of block indices, heads first: what a reader of the C
 * expects to see. Lists longer than this are elided. */
#define SHOW_MAX 16

static void show_list(Z3_context c, const char *var, const char *loc, pf_buf_t *out)
{
    char term[256];
    bool ok;
    snprintf(term, sizeof term, "(n %s %s)", var, loc);
    long n = ivalue(c, term, &ok);
    pf_buf_addf(out, " %s", loc);
    if (!ok || n < 0 || n > SHOW_MAX) {
        pf_buf_addf(out, "(n=%ld)", n);
        return;
    }
    pf_buf_add(out, "[");
    for (long i = n - 1; i >= 0; i--) {
        char v[64];
        snprintf(term, sizeof term, "(at %s %s %ld)", var, loc, i);
        value(c, term, v, sizeof v);
        pf_buf_addf(out, "%s%s", v, i ? " " : "");
    }
    pf_buf_add(out, "]");
}

static void show_page(Z3_context c, const char *var, pf_buf_t *out)
{
    static const char *const fields[] = { "reserved", "capacity", "used", "block_size",
                                          "in_full", "notify", "owned" };
    char term[256], v[128];
    pf_buf_addf(out, "    %s:", var);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        snprintf(term, sizeof term, "(%s %s)", fields[i], var);
        value(c, term, v, sizeof v);
        pf_buf_addf(out, " %s=%s", fields[i], v);
    }
    pf_buf_add(out, "\n      lists (head first):");
    static const char *const lists[] = { "FREE", "LOCAL", "THREAD", "LIVE", "TAKEN" };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        show_list(c, var, lists[i], out);
    bool ok;
    snprintf(term, sizeof term, "(reserved %s)", var);
    long r = ivalue(c, term, &ok);
    pf_buf_add(out, "\n      loc:");
    for (long b = 0; ok && b < r && b < SHOW_MAX; b++) {
        snprintf(term, sizeof term, "(loc_of %s %ld)", var, b);
        value(c, term, v, sizeof v);
        pf_buf_addf(out, " %ld:%s", b, v);
    }
    pf_buf_add(out, "\n");
}

/* The next word of a show/report list: a name, or a parenthesized term
 * (which may hold spaces). Returns false at the end. */
static bool next_word(const char **p, char *word, size_t size)
{
    while (**p == ' ')
        (*p)++;
    if (!**p)
        return false;
    const char *s = *p;
    int depth = 0;
    while (**p && (depth > 0 || **p != ' ')) {
        depth += **p == '(' ? 1 : **p == ')' ? -1 : 0;
        (*p)++;
    }
    snprintf(word, size, "%.*s", (int)(*p - s), s);
    return true;
}

/* The name spec/bounds.smt2 gives a program counter value: its phases are
 * `(define-fun NAME () Int N)` between the Run datatype and the first rem_.
 * Writes "?" if there is none. */
static void phase_name(const char *spec_dir, long value, char *out, size_t size)
{
    snprintf(out, size, "?");
    char path[1024];
    snprintf(path, sizeof path, "%s/bounds.smt2", spec_dir ? spec_dir : "spec");
    char *text = pf_read_file(path);
    if (!text)
        return;
    const char *p = strstr(text, "(declare-datatypes ((Run 0))");
    const char *end = p ? strstr(p, "(define-fun rem_") : NULL;
    while (p && end && (p = strstr(p, "(define-fun ")) != NULL && p < end) {
        char name[64];
        long v;
        if (sscanf(p, "(define-fun %63s () Int %ld)", name, &v) == 2 && v == value) {
            snprintf(out, size, "%s", name);
            break;
        }
        p++;
    }
    free(text);
}

/* Prints the terms listed in ob->show from the current model. */
static void show_model(Z3_context c, const pf_driver_t *d, const pf_obligation_t *ob, int bin,
                       pf_buf_t *out)
{
    if (bin > 0)
        pf_buf_addf(out, "    bin=%d (block size %zu)\n", bin, _sa_bin_size((size_t)bin));
    if (!ob->show)
        return;
    char w[256];
    for (const char *p = ob->show; next_word(&p, w, sizeof w);) {
        char *colon = strchr(w, ':');
        if (!colon)
            continue;
        *colon = 0;
        const char *term = colon + 1;
        if (strcmp(w, "page") == 0) {
            show_page(c, term, out);
        } else if (strcmp(w, "phase") == 0) {
            bool ok;
            long v = ivalue(c, term, &ok);
            char name[64] = "?";
            if (ok)
                phase_name(d->spec_dir, v, name, sizeof name);
            pf_buf_addf(out, "    %s=%s (%ld)\n", term, name, v);
        } else {
            char v[128];
            value(c, term, v, sizeof v);
            pf_buf_addf(out, "    %s=%s\n", term, v);
        }
    }
}

/* One query: returns Z3's answer "sat"/"unsat"/"unknown", or NULL on an error.
 * On sat the counterexample is added to r->detail. */
/* The counterexample or the reason for unknown, after a check-sat. */
static void explain(Z3_context c, const pf_driver_t *d, const pf_obligation_t *ob, mode_t_ mode,
                    int bin, const char *answer, pf_result_t *r)
{
    if (answer && strcmp(answer, "sat") == 0 && mode != VACUITY)
        show_model(c, d, ob, bin, &r->detail);
    if (answer && strcmp(answer, "unknown") == 0) {
        char *why = send(c, "(get-info :reason-unknown)", &r->detail);
        if (why)
            pf_buf_addf(&r->detail, "    z3: %s\n", why);
        free(why);
    }
}

static void dump(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                 mode_t_ mode, const char *text)
{
    if (!d->dump)
        return;
    fprintf(d->dump, "; ==== %s%s%s (%s)\n%s(check-sat)\n", ob->name, m ? " mutant " : "",
            m ? m->name : "", mode == PROVE ? "proof" : mode == VACUITY ? "vacuity" : "mutant", text);
    fflush(d->dump);
}

/* One query: returns Z3's answer "sat"/"unsat"/"unknown", or NULL on an error.
 * On sat the counterexample is added to r->detail. With `shared` (a context
 * holding the prefix of a per-bin obligation) the body runs between push and
 * pop there; else in a fresh context. */
static char *check(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                   mode_t_ mode, int bin, pf_result_t *r, Z3_context shared)
{
    pf_buf_t q = { 0 };
    char *answer = NULL, *setup = NULL;
    if (shared) {
        pf_buf_add(&q, "(push)\n");
        build_body(ob, mode, bin, &q);
        dump(d, ob, m, mode, q.s);
        setup = send(shared, q.s, &r->detail);
        if (setup) {
            answer = send(shared, "(check-sat)", &r->detail);
            explain(shared, d, ob, mode, bin, answer, r);
        }
        free(send(shared, "(pop)", &r->detail));
    } else if (build_query(d, ob, m, mode, bin, &q, &r->detail)) {
        dump(d, ob, m, mode, q.s);
        Z3_context c = fresh_context(d->timeout_ms);
        setup = send(c, q.s, &r->detail);
        if (setup) {
            answer = send(c, "(check-sat)", &r->detail);
            explain(c, d, ob, mode, bin, answer, r);
        }
        Z3_del_context(c);
    }
    free(setup);
    pf_buf_free(&q);
    return answer;
}

/* The values of the constants named in ob->report, one line. */
static void report_values(const pf_driver_t *d, const pf_obligation_t *ob, pf_buf_t *out)
{
    pf_buf_t q = { 0 }, err = { 0 };
    pf_constants_text(&q, ob->bv, NULL, 0);
    if (!load_models(d, ob, NULL, &q, &err)) {
        pf_buf_free(&q);
        pf_buf_free(&err);
        return;
    }
    Z3_context c = fresh_context(d->timeout_ms);
    char *setup = send(c, q.s, &err), *sat = setup ? send(c, "(check-sat)", &err) : NULL;
    if (sat && strcmp(sat, "sat") == 0) {
        char w[128], v[128];
        pf_buf_add(out, "   ");
        for (const char *p = ob->report; next_word(&p, w, sizeof w);) {
            value(c, w, v, sizeof v);
            pf_buf_addf(out, " %s=%s", w, v);
        }
        pf_buf_add(out, "\n");
    }
    free(setup);
    free(sat);
    Z3_del_context(c);
    pf_buf_free(&q);
    pf_buf_free(&err);
}

static pf_verdict_t verdict(const char *answer, const char *wanted)
{
    if (!answer)
        return PF_ERROR;
    if (strcmp(answer, wanted) == 0)
        return PF_HOLDS;
    if (strcmp(answer, "sat") == 0 || strcmp(answer, "unsat") == 0)
        return PF_FAILS;
    return PF_UNKNOWN;
}

static int bins(const pf_obligation_t *ob)
{
    return ob->per_bin ? (int)SA_BIN_LARGE_MAX : 0;
}

/* Does this answer end a scan over the bins? A proof or vacuity check stops
 * at the first bin that does not give the wanted answer, a mutant check at
 * the first counterexample. */
static bool decisive(mode_t_ mode, const char *answer)
{
    if (!answer)
        return true;
    return mode == MUTANT ? strcmp(answer, "sat") == 0
         : strcmp(answer, mode == PROVE ? "unsat" : "sat") != 0;
}

/* Scans bins first, first + step, ... (just bin 0 when the obligation has
 * none). Returns the first decisive bin (answer, NULL on an error, in
 * *answer and the detail in r), -1 if the one query of an obligation
 * without bins (or the setup) was decisive, 0 if nothing was. */
static int scan(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                mode_t_ mode, int first, int step, char **answer, pf_result_t *r)
{
    int last = bins(ob), found = 0;
    *answer = NULL;
    /* One context per obligation: the prefix is parsed once, each bin runs
     * between push and pop (measured: 1.9x less CPU than a context per bin). */
    Z3_context c = NULL;
    if (last) {
        pf_buf_t q = { 0 };
        build_header(d, ob, &q);
        if (!build_prefix(d, ob, m, &q, &r->detail)) {
            pf_buf_free(&q);
            return -1;
        }
        dump(d, ob, m, mode, q.s);
        c = fresh_context(d->timeout_ms);
        char *setup = send(c, q.s, &r->detail);
        pf_buf_free(&q);
        if (!setup) {
            Z3_del_context(c);
            return -1;
        }
        free(setup);
    }
    for (int bin = last ? first : 0; bin <= last; bin += last ? step : 1) {
        pf_result_t one = { 0 };
        char *a = check(d, ob, m, mode, bin, &one, c);
        if (decisive(mode, a)) {
            *answer = a;
            pf_buf_add(&r->detail, one.detail.s ? one.detail.s : "");
            pf_result_free(&one);
            found = bin ? bin : -1;
            break;
        }
        free(a);
        pf_result_free(&one);
    }
    if (c)
        Z3_del_context(c);
    return found;
}

/* The same scan split over d->jobs processes (bins are independent): each
 * child scans every jobs-th bin and writes "bin answer\n" and the detail of
 * its first decisive bin to a pipe; the first decisive report ends the
 * others. */
static int scan_parallel(const pf_driver_t *d, const pf_obligation_t *ob, const pf_mutant_t *m,
                         mode_t_ mode, char **answer, pf_result_t *r)
{
    int jobs = d->jobs;
    if (!bins(ob) || jobs < 2)
        return scan(d, ob, m, mode, 1, 1, answer, r);
    if (jobs > 8)
        jobs = 8;
    pid_t pid[8];
    int fd[8];
    bool killed[8] = { false };
    pf_buf_t got[8] = { { 0 } };
    fflush(NULL);
    for (int w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) != 0)
            abort();
        pid[w] = fork();
        if (pid[w] == 0) {
            close(p[0]);
            pf_result_t cr = { 0 };
            char *a;
            int bin = scan(d, ob, m, mode, 1 + w, jobs, &a, &cr);
            FILE *f = fdopen(p[1], "w");
            fprintf(f, "%d %s\n%s", bin, a ? a : "-", cr.detail.s ? cr.detail.s : "");
            _exit(fclose(f) == 0 ? 0 : 1);
        }
        close(p[1]);
        fd[w] = p[0];
    }
    int found = 0, open_pipes = jobs;
    *answer = NULL;
    while (open_pipes > 0) {
        struct pollfd pf[8];
        for (int w = 0; w < jobs; w++)
            pf[w] = (struct pollfd){ .fd = fd[w], .events = fd[w] >= 0 ? POLLIN : 0 };
        if (poll(pf, (nfds_t)jobs, -1) < 0)
            continue;
        for (int w = 0; w < jobs; w++) {
            if (fd[w] < 0 || !(pf[w].revents & (POLLIN | POLLHUP)))
                continue;
            char chunk[4096];
            ssize_t n = read(fd[w], chunk, sizeof chunk - 1);
            if (n > 0) {
                chunk[n] = 0;
                pf_buf_add(&got[w], chunk);
                continue;
            }
            close(fd[w]);
            fd[w] = -1;
            open_pipes--;
            int bin = 0;
            char a[32] = "-";
            if (!got[w].s || sscanf(got[w].s, "%d %31s", &bin, a) != 2)
                continue;   /* no report: the exit status below says why */
            if (bin != 0 && !found) {
                found = bin;
                /* "-": the worker's query failed (no answer): an error */
                *answer = strcmp(a, "-") == 0 ? NULL : strdup(a);
                const char *nl = strchr(got[w].s, '\n');
                pf_buf_add(&r->detail, nl ? nl + 1 : "");
                for (int o = 0; o < jobs; o++)
                    if (fd[o] >= 0) {
                        kill(pid[o], SIGKILL);
                        killed[o] = true;
                    }
            }
        }
    }
    /* Fail closed: a worker we did not stop that died, or exited without a
     * whole report, leaves its bins unchecked: an error, never "nothing
     * decisive" (which a proof would count as proved). */
    bool died = false;
    for (int w = 0; w < jobs; w++) {
        int status = 0;
        int bin = 0;
        char a[32];
        bool reported = got[w].s && sscanf(got[w].s, "%d %31s", &bin, a) == 2;
        if (waitpid(pid[w], &status, 0) == pid[w] && !killed[w] &&
            (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !reported)) {
            if (WIFSIGNALED(status))
                pf_buf_addf(&r->detail, "    worker %d (bins %d, %d, ...) killed by signal %d\n",
                            w, 1 + w, 1 + w + jobs, WTERMSIG(status));
            else
                pf_buf_addf(&r->detail, "    worker %d (bins %d, %d, ...) exited with status %d%s\n",
                            w, 1 + w, 1 + w + jobs, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                            reported ? "" : " and no report");
            died = true;
        }
        pf_buf_free(&got[w]);
    }
    if (died && found == 0) {
        free(*answer);
        *answer = NULL;
        found = -1;
    }
    return found;
}

void pf_prove(const pf_driver_t *d, const pf_obligation_t *ob, pf_result_t *r)
{
    double t0 = pf_now_seconds();
    char *a;
    int bin = scan_parallel(d, ob, NULL, PROVE, &a, r);
    r->verdict = bin ? verdict(a, "unsat") : PF_HOLDS;
    if (r->verdict != PF_HOLDS && bin > 0 && !strstr(r->detail.s ? r->detail.s : "", "bin="))
        pf_buf_addf(&r->detail, "    bin=%d\n", bin);
    free(a);
    /* Z3 rarely answers sat with quantifiers: look for a counterexample on
     * a finite page, where the answer is reliable. */
    if (r->verdict == PF_UNKNOWN && ob->finite > 0) {
        pf_result_t f = { 0 };
        char *fa = check(d, ob, NULL, MUTANT, 0, &f, NULL);
        if (fa && strcmp(fa, "sat") == 0) {
            r->verdict = PF_FAILS;
            pf_buf_addf(&r->detail, "    counterexample on a page of at most %d blocks:\n%s",
                        ob->finite, f.detail.s ? f.detail.s : "");
        }
        free(fa);
        pf_result_free(&f);
    }
    r->seconds = pf_now_seconds() - t0;
}

/* Hypotheses alone are satisfiable (for bins: for every bin). */
void pf_check_vacuity(const pf_driver_t *d, const pf_obligation_t *ob, pf_result_t *r)
{
    double t0 = pf_now_seconds();
    char *a;
    int bin = scan_parallel(d, ob, NULL, VACUITY, &a, r);
    r->verdict = bin ? verdict(a, "sat") : PF_HOLDS;
    if (r->verdict == PF_FAILS)
        pf_buf_addf(&r->detail, "    the hypotheses are unsatisfiable%s: the proof is vacuous\n",
                    bin > 0 ? " for this bin" : "");
    free(a);
    r->seconds = pf_now_seconds() - t0;
}

/* The mutant is refuted if some bin (or the one query) yields a counterexample. */
void pf_check_mutant(const pf_driver_t *d, const pf_obligation_t *ob,
                     const pf_mutant_t *m, pf_result_t *r)
{
    double t0 = pf_now_seconds();
    /* a mutant that does not apply tests nothing: broken, not "caught" */
    pf_buf_t text = { 0 };
    bool applies = build_prefix(d, ob, m, &text, &r->detail);
    pf_buf_free(&text);
    if (!applies) {
        r->verdict = PF_BROKEN;
        pf_buf_add(&r->detail, "\n    broken mutant: fix its text (or constant) to match the model\n");
        r->seconds = pf_now_seconds() - t0;
        return;
    }
    char *a;
    int bin = scan_parallel(d, ob, m, MUTANT, &a, r);
    r->verdict = !bin ? PF_FAILS : !a ? PF_ERROR : strcmp(a, "sat") == 0 ? PF_HOLDS : PF_UNKNOWN;
    if (r->verdict == PF_FAILS)
        pf_buf_addf(&r->detail, "    mutant survived: %s is not caught\n", m->what);
    free(a);
    r->seconds = pf_now_seconds() - t0;
}

/* ---- the table ------------------------------------------------------------------ */

void pf_print_table_header(FILE *out)
{
    fprintf(out, "%-52s | %-9s | %s\n", "obligation", "result", "time");
    fprintf(out, "%.52s-+-%.9s-+-%s\n",
            "----------------------------------------------------",
            "---------", "-------");
}

static void row(FILE *out, const char *name, const char *result, const pf_result_t *r, bool show)
{
    fprintf(out, "%-52s | %-9s | %6.3fs\n", name, result, r->seconds);
    if (show && r->detail.len)
        fprintf(out, "%s%s", r->detail.s, r->detail.s[r->detail.len - 1] == '\n' ? "" : "\n");
}

bool pf_run_obligation(const pf_driver_t *d, const pf_obligation_t *ob)
{
    static const char *const proof_word[] = { "proved", "FAILS", "UNKNOWN", "ERROR", "BROKEN" };
    static const char *const vac_word[] = { "sat", "VACUOUS", "UNKNOWN", "ERROR", "BROKEN" };
    static const char *const mut_word[] = { "refuted", "SURVIVED", "UNKNOWN", "ERROR", "BROKEN" };
    bool all = true;
    char name[256];

    pf_result_t r = { 0 };
    pf_prove(d, ob, &r);
    if (r.verdict == PF_HOLDS && ob->report)
        report_values(d, ob, &r.detail);
    row(d->out, ob->name, proof_word[r.verdict], &r, true);
    all &= r.verdict == PF_HOLDS;
    pf_result_free(&r);

    pf_result_t v = { 0 };
    pf_check_vacuity(d, ob, &v);
    snprintf(name, sizeof name, "  %s: hypotheses satisfiable", ob->name);
    row(d->out, name, vac_word[v.verdict], &v, true);
    all &= v.verdict == PF_HOLDS;
    pf_result_free(&v);

    for (const pf_mutant_t *m = ob->mutants; m && m->name; m++) {
        pf_result_t mr = { 0 };
        pf_check_mutant(d, ob, m, &mr);
        snprintf(name, sizeof name, "  mutant %s", m->name);
        row(d->out, name, mut_word[mr.verdict], &mr, mr.verdict != PF_HOLDS || !d->quiet_cex);
        all &= mr.verdict == PF_HOLDS;
        pf_result_free(&mr);
    }
    fflush(d->out);
    return all;
}
