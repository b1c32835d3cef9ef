/* proofs/unroll.c -- finite instances: unroll every quantifier of a model.
 *
 * Z3 proves the page obligations with quantifiers (for every block count),
 * but answers `sat` on quantified queries unreliably. Counterexample searches
 * (vacuity and mutant checks) therefore run on a finite page: every
 * (forall ((x Int)) body) becomes (and body[x:=0] ... body[x:=n-1]) and every
 * (forall ((l Loc)) body) a conjunction over Loc's values. The models guard
 * each quantified fact by the page's range, so with reserved <= n the
 * unrolled formula says the same thing on that page (docs/verification.md).
 */
#include <stdlib.h>
#include <string.h>
#include "driver.h"

typedef struct node_s {
    char           *atom;   /* NULL for a list */
    struct node_s **kid;
    int             n, cap;
} node_t;

static const char *const loc_values[] = { "FREE", "LOCAL", "THREAD", "LIVE", "UNMADE", "TAKEN" };

static node_t *node_new(void)
{
    return calloc(1, sizeof(node_t));
}

static void node_push(node_t *l, node_t *k)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4;
        l->kid = realloc(l->kid, (size_t)l->cap * sizeof *l->kid);
    }
    l->kid[l->n++] = k;
}

static void node_free(node_t *x)
{
    if (!x)
        return;
    for (int i = 0; i < x->n; i++)
        node_free(x->kid[i]);
    free(x->kid);
    free(x->atom);
    free(x);
}

static void skip_space(const char **p)
{
    for (;;) {
        while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
            (*p)++;
        if (**p != ';')
            return;
        while (**p && **p != '\n')
            (*p)++;
    }
}

/* Parses one expression at *p; NULL at end of text or on an error. */
static node_t *parse(const char **p, pf_buf_t *err)
{
    skip_space(p);
    if (!**p)
        return NULL;
    if (**p == ')') {
        pf_buf_add(err, "unbalanced ')'");
        return NULL;
    }
    node_t *x = node_new();
    if (**p == '(') {
        (*p)++;
        for (;;) {
            skip_space(p);
            if (**p == ')') {
                (*p)++;
                return x;
            }
            if (!**p) {
                pf_buf_add(err, "unbalanced '('");
                node_free(x);
                return NULL;
            }
            node_t *k = parse(p, err);
            if (!k) {
                node_free(x);
                return NULL;
            }
            node_push(x, k);
        }
    }
    const char *s = *p;
    if (**p == '"' || **p == '|') {
        char q = **p;
        (*p)++;
        while (**p && **p != q)
            (*p)++;
        if (**p)
            (*p)++;
    } else {
        while (**p && !strchr(" \t\r\n();", **p))
            (*p)++;
    }
    x->atom = strndup(s, (size_t)(*p - s));
    return x;
}

typedef struct subst_s {
    const char *var, *val;
    const struct subst_s *next;
} subst_t;

static bool print(const node_t *x, const subst_t *sub, int n, pf_buf_t *out, pf_buf_t *err);

/* (forall ((x S) ...) body): one conjunct per assignment of the binders. */
static bool expand(const node_t *binders, int bi, const node_t *body, const subst_t *sub,
                   int n, pf_buf_t *out, pf_buf_t *err)
{
    if (bi == binders->n)
        return print(body, sub, n, out, err);
    const node_t *bd = binders->kid[bi];
    if (bd->atom || bd->n != 2 || !bd->kid[0]->atom || !bd->kid[1]->atom) {
        pf_buf_add(err, "forall: malformed binder");
        return false;
    }
    const char *sort = bd->kid[1]->atom;
    bool is_int = strcmp(sort, "Int") == 0, is_loc = strcmp(sort, "Loc") == 0;
    if (!is_int && !is_loc) {
        pf_buf_addf(err, "forall over sort %s cannot be unrolled", sort);
        return false;
    }
    int count = is_int ? n : (int)(sizeof loc_values / sizeof *loc_values);
    pf_buf_add(out, "(and true");
    for (int v = 0; v < count; v++) {
        char num[32];
        snprintf(num, sizeof num, "%d", v);
        subst_t s1 = { bd->kid[0]->atom, is_int ? num : loc_values[v], sub };
        pf_buf_add(out, " ");
        if (!expand(binders, bi + 1, body, &s1, n, out, err))
            return false;
    }
    pf_buf_add(out, ")");
    return true;
}

static bool print(const node_t *x, const subst_t *sub, int n, pf_buf_t *out, pf_buf_t *err)
{
    if (x->atom) {
        for (const subst_t *s = sub; s; s = s->next)
            if (strcmp(s->var, x->atom) == 0) {
                pf_buf_add(out, s->val);
                return true;
            }
        pf_buf_add(out, x->atom);
        return true;
    }
    if (x->n == 3 && x->kid[0]->atom && strcmp(x->kid[0]->atom, "forall") == 0) {
        const node_t *body = x->kid[2];
        /* drop (! body :pattern ...) annotations: patterns mean nothing unrolled */
        if (!body->atom && body->n > 0 && body->kid[0]->atom && strcmp(body->kid[0]->atom, "!") == 0)
            body = body->kid[1];
        if (x->kid[1]->atom) {
            pf_buf_add(err, "forall: malformed binder list");
            return false;
        }
        return expand(x->kid[1], 0, body, sub, n, out, err);
    }
    if (x->n > 0 && x->kid[0]->atom && strcmp(x->kid[0]->atom, "exists") == 0) {
        pf_buf_add(err, "exists cannot be unrolled");
        return false;
    }
    pf_buf_add(out, "(");
    for (int i = 0; i < x->n; i++) {
        if (i)
            pf_buf_add(out, " ");
        if (!print(x->kid[i], sub, n, out, err))
            return false;
    }
    pf_buf_add(out, ")");
    return true;
}

bool pf_unroll_foralls(const char *text, int n, pf_buf_t *out, pf_buf_t *err)
{
    const char *p = text;
    for (;;) {
        node_t *x = parse(&p, err);
        if (!x)
            return err->len == 0;
        bool ok = print(x, NULL, n, out, err);
        pf_buf_add(out, "\n");
        node_free(x);
        if (!ok)
            return false;
    }
}
