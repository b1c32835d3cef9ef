/* src/init.c -- process setup, done once by whichever comes first: the
 * library constructor or the first generic malloc of any thread (which may
 * run before main, or inside another library's constructor). Options, the
 * per-process cookie, the pthread key whose destructor tells us a thread
 * exits, and the fork handlers that let a child allocate. */
#define _GNU_SOURCE
#include <sys/auxv.h>
#include <string.h>
#include "internal.h"

uintptr_t _sa_cookie;

static pthread_key_t heap_key;
static _Atomic int init_state;      /* 0 not started, 1 running, 2 done */

static void thread_done(void *value)
{
    _sa_heap_done((sa_heap_t *)value);
}

/* Fork: hold every allocator lock across fork so the child never inherits one
 * held by a thread that does not exist there; the child re-creates them. */
static void fork_prepare(void)
{
    _sa_abandon_lock();
    _sa_heap_lock_all();
    _sa_huge_lock();
    _sa_options_lock();
}

static void fork_parent(void)
{
    _sa_options_unlock(false);
    _sa_huge_unlock(false);
    _sa_heap_unlock_all(false);
    _sa_abandon_unlock(false);
}

static void fork_child(void)
{
    _sa_options_unlock(true);
    _sa_huge_unlock(true);
    _sa_heap_unlock_all(true);
    _sa_abandon_unlock(true);
}

static uintptr_t make_cookie(void)
{
    uintptr_t c = (uintptr_t)&heap_key;
    const void *r = (const void *)getauxval(AT_RANDOM);     /* 16 random bytes from the kernel */
    if (r != NULL) {
        uintptr_t k;
        memcpy(&k, r, sizeof k);
        c ^= k;
    }
    return c | 1;   /* a canary never equals a block address */
}

void _sa_process_init(void)
{
    int expected = 0;
    if (sa_likely(atomic_load_explicit(&init_state, memory_order_acquire) != 0) ||
        !atomic_compare_exchange_strong(&init_state, &expected, 1))
        return;
    _sa_cookie = make_cookie();
    _sa_options_init();
    pthread_key_create(&heap_key, thread_done);
    atomic_store_explicit(&init_state, 2, memory_order_release);
    /* May allocate (glibc keeps the handlers in a growing array): done last. */
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void _sa_thread_register(sa_heap_t *heap)
{
    if (atomic_load_explicit(&init_state, memory_order_acquire) == 2)
        pthread_setspecific(heap_key, heap);
}

__attribute__((constructor)) static void sa_constructor(void)
{
    _sa_process_init();
}

__attribute__((destructor)) static void sa_destructor(void)
{
    if (_sa_option(SA_OPTION_SHOW_STATS))
        _sa_stats_at_exit();
}
