/* src/purge_delay.c -- how long retired pages and cached segments wait before
 * they are purged.
 *
 * The wait starts at the option SHARDALLOC_PURGE_DELAY (SA_PURGE_DELAY_MS).
 * Memory that is purged and then handed out again less than one delay later
 * was purged too early: the program is cycling through it, and every purge
 * costs a system call now and a page fault per OS page later. Each such early
 * reuse doubles the delay, up to 2^SA_PURGE_BACKOFF_MAX_SHIFT times the
 * option; each SA_PURGE_CALM_DELAYS delays without one halve it again, so a
 * program that shrank for good still gets its memory back soon.
 *
 * Only retired pages wait the lengthened delay. A cached empty segment
 * waits the option's delay, never more: whole 4 MiB segments held longer
 * cost python 8 MiB of peak RSS (45 -> 53 MiB) for 2% of its time, while
 * the retired pages alone keep most of the gain (faults 30k -> 27k, 0.96 ->
 * 0.93 s; both, 20k and 0.91 s). But a large segment, emptied, waits as
 * retired pages do: its units are retired pages' spans, and it empties and
 * fills again as a program's buffers come and go (segment.c
 * segment_release; bench/buffers: 126k faults a run at the option's delay,
 * 64k so).
 *
 * SHARDALLOC_PURGE_DELAY=-1: never purged on a timer (every deadline is
 * UINT64_MAX); sa_collect(true), malloc_trim and a thread's exit still purge.
 *
 * One process-wide setting (relaxed atomics, read and written on slow paths
 * only): races between threads can lose a step up or down, never corrupt. */
#include "internal.h"

static _Atomic unsigned backoff_shift;
static _Atomic uint64_t backoff_changed_ms;    /* last step up or down */

/* The option's delay; UINT64_MAX for never. */
static uint64_t option_delay(void)
{
    long long ms = _sa_option(SA_OPTION_PURGE_DELAY);
    return ms < 0 ? UINT64_MAX : (uint64_t)ms;
}

static uint64_t delay_at_shift(unsigned shift)
{
    uint64_t delay = option_delay();
    return delay == UINT64_MAX ? delay : delay << shift;
}

/* now + delay, saturated: never purged when the delay is "never". */
static uint64_t deadline(uint64_t now, uint64_t delay)
{
    return delay > UINT64_MAX - now ? UINT64_MAX : now + delay;
}

uint64_t _sa_purge_deadline_segment(uint64_t now)
{
    return deadline(now, option_delay());
}

uint64_t _sa_purge_deadline(uint64_t now)
{
    unsigned shift = atomic_load_explicit(&backoff_shift, memory_order_relaxed);
    uint64_t delay = delay_at_shift(shift);
    uint64_t changed = atomic_load_explicit(&backoff_changed_ms, memory_order_relaxed);
    if (shift > 0 && delay != UINT64_MAX && now - changed > delay * SA_PURGE_CALM_DELAYS) {
        atomic_store_explicit(&backoff_shift, shift - 1, memory_order_relaxed);
        atomic_store_explicit(&backoff_changed_ms, now, memory_order_relaxed);
        delay = delay_at_shift(shift - 1);
    }
    return deadline(now, delay);
}

void _sa_purge_note_reuse(uint64_t purged_ms)
{
    uint64_t now = _sa_os_now_ms();
    unsigned shift = atomic_load_explicit(&backoff_shift, memory_order_relaxed);
    if (now - purged_ms >= delay_at_shift(shift))
        return;
    if (shift < SA_PURGE_BACKOFF_MAX_SHIFT)
        atomic_store_explicit(&backoff_shift, shift + 1, memory_order_relaxed);
    atomic_store_explicit(&backoff_changed_ms, now, memory_order_relaxed);
}

uint64_t _sa_purge_delay_ms(void)
{
    return delay_at_shift(atomic_load_explicit(&backoff_shift, memory_order_relaxed));
}
