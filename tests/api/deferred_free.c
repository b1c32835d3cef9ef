/* tests/api/deferred_free.c -- the deferred-free hook (the heartbeat): called
 * from the generic allocation path with its argument and a growing heartbeat
 * count, may free memory itself, and stops being called once unregistered. */
#include "sa_test.h"

typedef struct hook_state_s {
    unsigned long long calls;
    unsigned long long last_beat;
    bool monotone;
    void *deferred[64];     /* blocks the program asks the hook to free later */
    size_t n_deferred;
} hook_state_t;

static void hook(bool force, unsigned long long heartbeat, void *arg)
{
    (void)force;
    hook_state_t *s = arg;
    if (s->calls > 0 && heartbeat < s->last_beat)
        s->monotone = false;
    s->last_beat = heartbeat;
    s->calls++;
    /* a bounded amount of deferred work per call */
    if (s->n_deferred > 0)
        sa_free(s->deferred[--s->n_deferred]);
}

Test(deferred_free, hook_runs_from_the_generic_path_until_unregistered)
{
    static hook_state_t s = { .monotone = true };
    for (size_t i = 0; i < 64; i++) {
        s.deferred[i] = sa_malloc(1000);
        cr_assert_not_null(s.deferred[i]);
    }
    s.n_deferred = 64;
    sa_register_deferred_free(hook, &s);

    /* Enough allocations of one size to exhaust many free lists. */
    enum { N = 100000 };
    void **p = sat_map(N * sizeof *p);
    for (size_t i = 0; i < N; i++) {
        p[i] = sa_malloc(64);
        cr_assert_not_null(p[i]);
    }
    cr_assert_gt(s.calls, 0, "the hook never ran in %d allocations", N);
    cr_assert(s.monotone, "heartbeat went backwards");
    cr_assert_eq(s.n_deferred, 0, "the hook's own frees did not all happen (%zu left)", s.n_deferred);

    sa_register_deferred_free(NULL, NULL);
    unsigned long long calls = s.calls;
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    for (size_t i = 0; i < N; i++) {
        p[i] = sa_malloc(64);
        cr_assert_not_null(p[i]);
    }
    cr_assert_eq(s.calls, calls, "the hook ran after it was unregistered");
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sat_unmap(p, N * sizeof *p);
}
