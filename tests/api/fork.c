/* tests/api/fork.c -- a child forked while other threads of the parent were
 * allocating can allocate and free (the allocator's locks are not left held),
 * including blocks it inherited, from its main thread and from new threads. */
#include "sa_thread_test.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

enum { BUSY_THREADS = 3, FORKS = 40, CHILD_OPS = 20000, CHILD_DEADLINE_S = 20 };

static atomic_bool g_stop;
/* Workers that have made and freed a block: the forks wait for all of them.
 * Forked before, the child would find a thread still starting, not
 * allocating; under AddressSanitizer it then hangs in libasan's allocator,
 * which a starting thread uses (pthread_getattr_np) and which keeps no lock
 * across fork (seen twice in a few runs of make test-asan-fork, both times
 * "fork 0: child hung", the child's new thread waiting on libasan's mutex). */
static atomic_uint g_started;

/* Parent threads: allocate and free constantly, including huge blocks (the OS
 * path) and blocks handed between them, so a fork lands in every path. */
static sat_block_t *_Atomic g_shared;

static void *busy_worker(void *arg)
{
    uint64_t rng = 0xABC + (uintptr_t)arg;
    uint64_t i = 0;
    bool started = false;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        size_t n = (i % 500 == 0) ? SA_LARGE_OBJ_SIZE_MAX + sat_rand(&rng) % SA_SEGMENT_SIZE
                                  : sat_pick_size(&rng);
        sat_block_t *b = sat_block_new(n, i++);
        if (b == NULL)
            break;
        b = atomic_exchange(&g_shared, b);      /* free someone else's block */
        if (b != NULL)
            sat_block_free(b);
        if (!started) {
            started = true;
            atomic_fetch_add(&g_started, 1);
        }
    }
    if (!started)       /* failed at once (sat_block_new reported it): the forks need not wait */
        atomic_fetch_add(&g_started, 1);
    return NULL;
}

static void *child_thread(void *arg)
{
    uint64_t rng = (uintptr_t)arg;
    for (int i = 0; i < 1000; i++)
        sat_block_free(sat_block_new(sat_pick_size(&rng), (uint64_t)i));
    return NULL;
}

/* In the child: exit status 0 if everything worked, 1 otherwise. A deadlock
 * is caught by alarm() (the child then dies of SIGALRM). */
static int child_main(sat_block_t *inherited, unsigned k)
{
    alarm(CHILD_DEADLINE_S);
    uint64_t rng = 0xC0FFEE + k;
    static sat_block_t *keep[64];
    for (int i = 0; i < CHILD_OPS; i++) {
        size_t n = (i % 1000 == 0) ? SA_LARGE_OBJ_SIZE_MAX + 1 : sat_pick_size(&rng);
        sat_block_t *b = sat_block_new(n, (uint64_t)i);
        if (b == NULL)
            return 1;
        size_t s = (size_t)(sat_rand(&rng) % 64);
        if (keep[s] != NULL)
            sat_block_free(keep[s]);
        keep[s] = b;
    }
    for (int s = 0; s < 64; s++)
        if (keep[s] != NULL)
            sat_block_free(keep[s]);
    sat_block_free(inherited);      /* allocated by the parent before fork */
    pthread_t th;
    if (pthread_create(&th, NULL, child_thread, (void *)(uintptr_t)(k + 1)) != 0)
        return 1;
    pthread_join(th, NULL);
    return atomic_load(&sat_failures) == 0 ? 0 : 1;
}

static void wait_for_child(pid_t pid, unsigned k)
{
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
              "fork %u: child hung for %ds (a lock held across fork?)", k, CHILD_DEADLINE_S);
    cr_assert(WIFEXITED(status), "fork %u: child died of signal %d", k,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 0, "fork %u: child's allocations failed", k);
}

Test(fork, child_allocates_while_parent_threads_were_allocating)
{
    pthread_t th[BUSY_THREADS];
    for (uintptr_t t = 0; t < BUSY_THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, busy_worker, (void *)t), 0);
    while (atomic_load(&g_started) < BUSY_THREADS)
        sched_yield();
    for (unsigned k = 0; k < FORKS; k++) {
        sat_block_t *inherited = sat_block_new(100 + k, k);
        cr_assert_not_null(inherited);
        usleep(1000 * (k % 5));     /* let the threads be somewhere else each time */
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0)
            _exit(child_main(inherited, k));
        wait_for_child(pid, k);
        sat_block_free(inherited);  /* the parent's copy is its own */
    }
    atomic_store(&g_stop, true);
    for (size_t t = 0; t < BUSY_THREADS; t++)
        pthread_join(th[t], NULL);
    sat_block_t *b = atomic_exchange(&g_shared, NULL);
    if (b != NULL)
        sat_block_free(b);
    sat_assert_no_thread_failures();
}

Test(fork, child_of_a_child_still_allocates)
{
    sat_block_t *inherited = sat_block_new(5000, 1);
    cr_assert_not_null(inherited);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        sat_block_t *again = sat_block_new(70000, 2);
        pid_t grandchild = fork();
        if (grandchild == 0)
            _exit(child_main(again, 99));
        int status = 0;
        if (waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status))
            _exit(1);
        _exit(WEXITSTATUS(status) != 0 ? 1 : child_main(inherited, 98));
    }
    wait_for_child(pid, 0);
    sat_block_free(inherited);
    sat_assert_no_thread_failures();
}
