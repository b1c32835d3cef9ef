/* tests/conformance/check.c -- the workloads run on the tracing build, each in
 * a forked child, and replayed through spec/page.smt2 (check.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <z3.h>
#include "check.h"
#include "driver.h"
#include "workloads.h"

/* A workload child taking longer than this (per unit of scale) is killed. */
#define CHILD_SECONDS 60

const char *const rp_op_names[SA_OP__COUNT] = {
    [SA_OP_MALLOC_GENERIC] = "malloc (generic path)",
    [SA_OP_FREE_LOCAL] = "free by the owner",
    [SA_OP_FREE_REMOTE] = "free by another thread",
};
/* The bound of each operation in spec/bounds.smt2 (proven by bound_* in proofs/). */
const char *const rp_op_bounds[SA_OP__COUNT] = {
    [SA_OP_MALLOC_GENERIC] = "B_MALLOC",
    [SA_OP_FREE_LOCAL] = "B_FREE_LOCAL",
    [SA_OP_FREE_REMOTE] = "B_FREE_REMOTE",
};

static char *slurp(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return pf_read_file(path);
}

/* ---- what the spec says ---------------------------------------------------------- */

size_t rp_spec_transitions(const char *spec_dir, char names[][40], size_t max)
{
    char *text = slurp(spec_dir, "page.smt2");
    if (!text)
        return 0;
    char *start = strstr(text, "; ---- transitions");
    char *end = start ? strstr(start + 1, "; ----") : NULL;
    if (!start) {
        free(text);
        return 0;
    }
    if (end)
        *end = 0;
    /* comments out: they name transitions too */
    for (char *p = start; *p; p++)
        if (*p == ';')
            while (*p && *p != '\n')
                *p++ = ' ';
    size_t n = 0;
    for (char *p = start; (p = strstr(p, "(define-fun ")) != NULL && n < max; p++) {
        char name[40];
        if (sscanf(p, "(define-fun %39s", name) != 1)
            continue;
        /* the parameter list: up to the parenthesis that closes it */
        char *params = p + strlen("(define-fun ") + strlen(name);
        while (*params == ' ')
            params++;
        int depth = 0;
        char *q = params;
        do {
            depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
            q++;
        } while (*q && depth > 0);
        char saved = *q;
        *q = 0;
        bool after_state = strstr(params, "(t Page)") != NULL;
        *q = saved;
        if (!after_state || strncmp(q, " Bool", 5) != 0)
            continue;
        /* a helper is called by another definition: "(name " or "(name)" */
        char call[48], call2[48];
        snprintf(call, sizeof call, "(%s ", name);
        snprintf(call2, sizeof call2, "(%s)", name);
        if (strstr(start, call) || strstr(start, call2))
            continue;
        snprintf(names[n++], 40, "%s", name);
    }
    free(text);
    return n;
}

bool rp_spec_bound(const char *spec_dir, const char *name, uint64_t *out)
{
    char *page = slurp(spec_dir, "page.smt2"), *bounds = slurp(spec_dir, "bounds.smt2");
    bool ok = false;
    if (page && bounds) {
        pf_buf_t q = { 0 };
        pf_constants_text(&q, false, NULL, 0);
        pf_buf_add(&q, page);
        pf_buf_add(&q, "\n");
        pf_buf_add(&q, bounds);
        Z3_config cfg = Z3_mk_config();
        Z3_context c = Z3_mk_context(cfg);
        Z3_del_config(cfg);
        Z3_eval_smtlib2_string(c, q.s);
        if (Z3_get_error_code(c) == Z3_OK) {
            char cmd[128];
            snprintf(cmd, sizeof cmd, "(simplify %s)", name);
            Z3_string v = Z3_eval_smtlib2_string(c, cmd);
            char *end;
            unsigned long long x = v ? strtoull(v, &end, 10) : 0;
            ok = Z3_get_error_code(c) == Z3_OK && v && end != v && (*end == 0 || *end == '\n');
            *out = x;
        }
        Z3_del_context(c);
        pf_buf_free(&q);
    }
    free(page);
    free(bounds);
    return ok;
}

/* ---- the run ---------------------------------------------------------------------- */

bool rp_check_run(rp_check_t *c)
{
    FILE *log = c->log ? c->log : stderr;
    c->nnames = rp_spec_transitions(c->spec_dir, c->names, RP_CHECK_MAX_NAMES);
    if (c->nnames == 0) {
        fprintf(log, "conformance: no transitions found in %s/page.smt2\n", c->spec_dir);
        return false;
    }
    for (int op = 0; op < SA_OP__COUNT; op++)
        if (!rp_spec_bound(c->spec_dir, rp_op_bounds[op], &c->bound[op])) {
            fprintf(log, "conformance: cannot evaluate %s of %s/bounds.smt2\n", rp_op_bounds[op],
                    c->spec_dir);
            return false;
        }
    rp_replay_t *r = rp_replay_new(c->spec_dir);
    if (!r)
        return false;
    size_t len;
    bool overflowed;
    (void)_sa_trace_data(&len, &overflowed);   /* map the shared buffer before fork */
    _sa_trace_clear();
    _sa_trace_stats_clear();
    for (size_t w = 0; w < rp_workload_count; w++) {
        const rp_workload_t *wl = &rp_workloads[w];
        if (c->only && strcmp(c->only, wl->name) != 0)
            continue;
        fflush(log);
        double t0 = pf_now_seconds();
        pid_t pid = fork();
        if (pid == 0) {
            /* a planted bug may corrupt a list into a loop: what was recorded
             * before the alarm is still replayed */
            alarm(CHILD_SECONDS * (c->scale ? c->scale : 1));
            wl->run(c->scale ? c->scale : 1);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        double t1 = pf_now_seconds();
        c->run_seconds += t1 - t0;
        bool exited = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        const unsigned char *data = _sa_trace_data(&len, &overflowed);
        rp_replay_forget(r);
        bool ok = rp_replay_run(r, data, len, overflowed);
        double t2 = pf_now_seconds();
        uint64_t steps = rp_replay_steps(r) - c->steps;
        c->steps = rp_replay_steps(r);
        fprintf(log, "  %-13s %7llu steps (%.1f MB of trace) run %.2fs, replayed %.2fs%s%s\n",
                wl->name, (unsigned long long)steps, (double)len / (1 << 20), t1 - t0, t2 - t1,
                exited ? "" : " -- the workload CRASHED",
                ok ? "" : " -- a step is NOT ALLOWED");
        _sa_trace_clear();
        if (!exited) {
            c->crashed = true;
            if (WIFSIGNALED(status))
                fprintf(log, "  (workload %s killed by signal %d)\n", wl->name, WTERMSIG(status));
        }
        if (!ok) {
            c->disallowed = true;
            snprintf(c->error, sizeof c->error, "workload %s: %s", wl->name, rp_replay_error(r));
            fprintf(log, "%s", c->error);
            break;
        }
    }
    c->replay_seconds = rp_replay_seconds(r);
    for (size_t i = 0; i < c->nnames; i++)
        for (int k = 0; k < RP_REPLAY__NAMES; k++)
            if (strcmp(c->names[i], rp_replay_name(k)) == 0) {
                c->seen[i] = rp_replay_count(r, k);
                c->seconds[i] = rp_replay_name_seconds(r, k);
            }
    c->solved = rp_replay_solved(r);
    c->declined = rp_replay_declined(r);
    c->interleaved = rp_replay_interleaved(r);
    _sa_trace_stats(&c->stats);
    rp_replay_free(r);
    return true;
}
