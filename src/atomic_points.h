/* src/atomic_points.h -- the atomic operations through which threads meet:
 * on a page's thread_free word (its list, count and notify bits), the owner
 * field a remote free reads to deliver a notification, a heap's remote_pages
 * stack, the pending-forward stack, and the locks guarding the abandoned
 * list, the global segment cache and the dead heaps. Each names what it does ("cas thread_free"); the
 * model checker prints that with the function's name.
 *
 * In a normal build every macro is the plain atomic (or pthread call). In
 * the model-checking build (-DSA_MODEL_CHECK, `make test-interleave`) each
 * first yields to the scheduler of tests/interleave, which decides which
 * thread performs its next such operation: the scheduler explores every
 * interleaving of these steps, the code between two of them running as one
 * atomic step. A weak CAS never fails spuriously there (x86-64's cmpxchg
 * does not either).
 */
#ifndef SA_ATOMIC_POINTS_H
#define SA_ATOMIC_POINTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#ifdef SA_MODEL_CHECK
/* What the next step does first, for the scheduler's dependence test:
 * two steps commute unless they touch the same address and one writes. */
typedef enum sa_mc_op_e {
    SA_MC_LOAD,
    SA_MC_STORE,
    SA_MC_RMW,          /* CAS (failed or not), exchange */
    SA_MC_LOCK,         /* enabled only while the mutex is free */
    SA_MC_TRYLOCK,
    SA_MC_UNLOCK,
} sa_mc_op_t;
/* Provided by the scheduler (tests/interleave/sched.c): park the calling
 * thread until the scheduler picks it to perform `op` on addr. */
void _sa_mc_point(sa_mc_op_t op, const volatile void *addr, const char *func, const char *site);
/* The next step of the calling thread also writes `addr` (a store folded
 * into it, not a point of its own: see its site). */
void _sa_mc_also_writes(const volatile void *addr);
/* Is the calling thread's next point a scheduling decision (a run is on)? */
bool _sa_mc_scheduling(void);
#define SA_MC_POINT(op, addr, site)   _sa_mc_point((op), (addr), __func__, (site))
#define SA_MC_ALSO_WRITES(addr)       _sa_mc_also_writes(addr)
#else
#define SA_MC_POINT(op, addr, site)   ((void)0)
#define SA_MC_ALSO_WRITES(addr)       ((void)0)
#endif

#define sa_point_load(site, obj, mo) \
    (SA_MC_POINT(SA_MC_LOAD, (obj), (site)), atomic_load_explicit((obj), (mo)))
#define sa_point_store(site, obj, v, mo) \
    (SA_MC_POINT(SA_MC_STORE, (obj), (site)), atomic_store_explicit((obj), (v), (mo)))
#define sa_point_exchange(site, obj, v, mo) \
    (SA_MC_POINT(SA_MC_RMW, (obj), (site)), atomic_exchange_explicit((obj), (v), (mo)))
#define sa_point_cas_weak(site, obj, expected, desired, mo_ok, mo_fail) \
    (SA_MC_POINT(SA_MC_RMW, (obj), (site)), \
     atomic_compare_exchange_weak_explicit((obj), (expected), (desired), (mo_ok), (mo_fail)))
#define sa_point_cas_strong(site, obj, expected, desired, mo_ok, mo_fail) \
    (SA_MC_POINT(SA_MC_RMW, (obj), (site)), \
     atomic_compare_exchange_strong_explicit((obj), (expected), (desired), (mo_ok), (mo_fail)))
#define sa_point_fetch_add(site, obj, v, mo) \
    (SA_MC_POINT(SA_MC_RMW, (obj), (site)), atomic_fetch_add_explicit((obj), (v), (mo)))
#define sa_point_fetch_sub(site, obj, v, mo) \
    (SA_MC_POINT(SA_MC_RMW, (obj), (site)), atomic_fetch_sub_explicit((obj), (v), (mo)))
#define sa_point_lock(site, m) \
    (SA_MC_POINT(SA_MC_LOCK, (m), (site)), pthread_mutex_lock(m))
#define sa_point_trylock(site, m) \
    (SA_MC_POINT(SA_MC_TRYLOCK, (m), (site)), pthread_mutex_trylock(m))
#define sa_point_unlock(site, m) \
    (SA_MC_POINT(SA_MC_UNLOCK, (m), (site)), pthread_mutex_unlock(m))

#endif /* SA_ATOMIC_POINTS_H */
