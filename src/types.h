/* src/types.h -- the allocator's data structures, with their invariants
 * written beside the fields they govern. A page's invariant is `inv` of
 * spec/page.smt2, asserted conjunct by conjunct by _sa_page_check in debug
 * builds; the vocabulary is docs/state-machine.md.
 *
 *   segment  SA_SEGMENT_SIZE-aligned mapping; header + page table in its first
 *            SA_SEGMENT_INFO_SIZE bytes; pages of one kind after it.
 *   page     blocks of one size; lists free / local_free / thread_free.
 *   heap     per thread: a page queue per size class, a full queue, the stack
 *            of pages remote frees reported, its segments. Type-stable: heaps
 *            are never unmapped, only recycled, so a late remote free that
 *            reports a page to a dead heap touches valid memory.
 */
#ifndef SA_TYPES_H
#define SA_TYPES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "layout.h"
#include "size_class.h"

/* A free block: its first word links the list it is on, its second word holds
 * the block's canary (see _sa_block_canary) while it is on a list, so that a
 * second free of a free block is recognised without walking any list. */
typedef struct sa_block_s {
    struct sa_block_s *next;
    uintptr_t canary;
} sa_block_t;

/* The low bits of page->thread_free: the `notify` state (docs/state-machine.md).
 * Blocks are SA_MIN_ALIGN-aligned, so the low bits of a block address are free. */
typedef enum sa_notify_e {
    SA_NOTIFY_NONE   = 0,   /* nobody needs telling                              */
    SA_NOTIFY_WATCH  = 1,   /* page in owner's full queue: next remote free tells */
    SA_NOTIFY_QUEUED = 2,   /* a remote free told: page on (its way to) remote_pages */
} sa_notify_t;
#define SA_NOTIFY_MASK  ((uintptr_t)3)

/* page->thread_free packs three things, changed together by one CAS or
 * exchange: the notify state (bits 0-1), the head of the list (a block
 * address: SA_MIN_ALIGN-aligned, below 2^SA_ADDRESS_BITS) and, from bit
 * SA_THREAD_FREE_COUNT_SHIFT up, the length of the list. Invariant: the
 * count is the number of blocks on the list (each push adds one). */
#define SA_TF_COUNT_ONE  ((uintptr_t)1 << SA_THREAD_FREE_COUNT_SHIFT)
#define SA_TF_COUNT_MASK (~(SA_TF_COUNT_ONE - 1))
#define SA_TF_BLOCK_MASK ((SA_TF_COUNT_ONE - 1) & ~SA_NOTIFY_MASK)
_Static_assert(SA_ADDRESS_BITS <= SA_THREAD_FREE_COUNT_SHIFT,
               "thread_free's count must sit above every block address");
_Static_assert(SA_MAX_BLOCKS_PER_PAGE < ((uintptr_t)1 << (64 - SA_THREAD_FREE_COUNT_SHIFT)),
               "thread_free's count must hold every block of a page");
_Static_assert(SA_MIN_ALIGN > SA_NOTIFY_MASK, "notify bits must be free in a block address");

static inline sa_block_t *_sa_tf_block(uintptr_t tf)
{
    return (sa_block_t *)(tf & SA_TF_BLOCK_MASK);
}

static inline uint32_t _sa_tf_count(uintptr_t tf)
{
    return (uint32_t)(tf >> SA_THREAD_FREE_COUNT_SHIFT);
}

/* The word of a list headed by b, with notify state nt and count c.
 * spec: layout.smt2 tf_word */
static inline uintptr_t _sa_tf_word(const sa_block_t *b, uintptr_t nt, uintptr_t c)
{
    return (uintptr_t)b | nt | (c << SA_THREAD_FREE_COUNT_SHIFT);
}

/* The word after pushing `block` on the list of word `tf`, with notify state
 * `notify`: the new head, the new notify, the count plus one.
 * spec: layout.smt2 tf_push */
static inline uintptr_t _sa_tf_push(uintptr_t tf, const sa_block_t *block, uintptr_t notify)
{
    return (uintptr_t)block | notify | ((tf & SA_TF_COUNT_MASK) + SA_TF_COUNT_ONE);
}

/* page->local_empty while local_free is NULL: the sign bit of used_word. */
#define SA_LOCAL_EMPTY  ((uint8_t)0x80)

struct sa_heap_s;
struct sa_segment_s;

/* Three cache lines, by who touches them, so that threads freeing blocks of
 * a page (which only read line 1) and pushing on thread_free (line 3) do not
 * take line 2 away from the owner, whose every malloc and free writes it:
 *   1. read by every free: validation and the owner check; the owner
 *      writes it rarely (page_init, extend, to_full/unfull, abandon)
 *   2. the owner's: its lists, counts and queue links
 *   3. other threads' thread_free pushes (and, while the page is retired
 *      and nobody frees into it, its purge times) */
typedef struct sa_page_s {
    /* ---- line 1: read by every free ---- */
    /* The owning heap, or NULL once abandoned. Changes only at page_init,
     * abandon and reclaim (the latter two under the abandon lock). */
    _Alignas(SA_CACHE_LINE) _Atomic(struct sa_heap_s *) heap;
    /* First byte of block 0. */
    uint8_t *start;
    /* _sa_block_magic(block_size): block index and block-start test
     * without division (layout.h). */
    uint64_t magic;
    /* _sa_block_made_key(capacity, block_size, magic), kept beside capacity
     * (set with it, relaxed): free's offset times magic is below it exactly
     * at the start of a made block (layout.h _sa_block_is_made_start). */
    uint64_t made_key;
    /* Blocks made so far: blocks [0, capacity) are on a list or LIVE, blocks
     * [capacity, reserved) are UNMADE. capacity <= reserved. */
    uint32_t capacity;
    /* Blocks that fit: page area / block_size, fixed by page_init. */
    uint32_t reserved;
    /* Bytes per block (a size-class size, or 0 while the page is unused). */
    uint32_t block_size;
    uint16_t bin;           /* size class of its blocks (0 while unused) */
    uint16_t index;         /* in its segment's page table */
    uint8_t in_use;         /* page_init'ed and not retired */
    /* In the full queue. The flags' invariant is spec/page.smt2's inv_flags
     * (full_notifies, watch_full_quiet, unowned_not_full). */
    uint8_t in_full;
    /* An aligned allocation handed out an interior pointer. Set by the owner,
     * read by any thread's free: relaxed atomics (the pointer itself reaches
     * the other thread through the program's synchronisation, which orders
     * the store of 1 before that free; page_init's store of 0 precedes every
     * block of the page being handed out). */
    _Atomic uint8_t has_aligned;
    /* A thread freeing one of its blocks may keep it in its remote cache
     * (src/free.c): set by page_init and reclaim for a thread's heap, clear
     * for a first-class heap's page (sa_heap_destroy frees its pages whole,
     * cached blocks and all). Written by the owner (or the reclaimer),
     * read by any thread's free: relaxed atomics. */
    _Atomic uint8_t cacheable;
    /* Its memory is not counted committed: purged since it last held blocks,
     * or never touched (a fresh segment's, segment.c segment_carve). */
    uint8_t purged;
    uint8_t in_purge_list;  /* retired, waiting on its heap's purge list */
    /* A large segment's entries are its units (segment.c, spans): a large
     * page is the entry of its span's first unit, span_units long; the
     * entries of its other units are span_covered (not in use, their memory
     * the page's: never purged nor handed out while covered). 0 elsewhere. */
    uint8_t span_units;
    uint8_t span_covered;

    /* ---- line 2: the owner's ---- */
    /* FREE: blocks ready to hand out; malloc pops the head. Owner only. */
    _Alignas(SA_CACHE_LINE) sa_block_t *free;
    /* LOCAL: blocks the owner freed; back to `free` at collect. Owner only.
     * Its last node is local_tail (meaningful while local_free != NULL),
     * set by the free that finds local_free empty, so collect joins the
     * list to another in O(1). */
    sa_block_t *local_free;
    sa_block_t *local_tail;
    union {
        struct {
            /* LIVE + THREAD: used = |LIVE| + |THREAD| (a remote free does not
             * touch it; collect subtracts what it takes). used <= capacity.
             * Owner only. */
            uint32_t used;
            uint8_t used_pad[3];
            /* SA_LOCAL_EMPTY while local_free is NULL, else 0 (set and
             * cleared wherever local_free empties or gets its first block;
             * _sa_page_check asserts it). Owner only. */
            uint8_t local_empty;
        };
        /* used and local_empty as one word, the top byte last (x86-64 is
         * little-endian): free's fast path tests used_word > 1, that is
         * local_free non-empty (so the page is not full, spec/page.smt2
         * full_no_local, and local_tail is set) and used >= 2 (not the last
         * block), with one compare. */
        int64_t used_word;
    };
    /* 1: no page of a segment but a heap's remote cache of one class
     * (sa_heap_t rcache), which malloc's miss path tells from a page when
     * the fast path finds it empty (alloc.c remote_cache_dry); 0 on every
     * page. */
    uint8_t remote_cache;
    /* Queue links: a page in use is in exactly one queue of its owner (its
     * size class's, or the full queue iff in_full); a retired page waiting to
     * be purged is on its heap's purge list. */
    struct sa_page_s *next;
    struct sa_page_s *prev;
    /* Emptied page (used = 0): the heap's generic_count after which it
     * retires, a count of calls, not a time (0: not pending; the retire
     * sweep and the search test it). */
    uint64_t retire_at;

    /* ---- line 3: other threads' ---- */
    /* THREAD: blocks other threads freed (a Treiber stack), with the notify
     * state in the low 2 bits and the count in the top bits; list, count and
     * notify change together, by one CAS (see SA_TF_BLOCK_MASK). */
    _Alignas(SA_CACHE_LINE) _Atomic uintptr_t thread_free;
    /* Link on a heap's remote_pages stack; used only while notify = QUEUED. */
    struct sa_page_s *remote_next;
    /* A retired page's (not in use: no other thread touches this line then),
     * in ms of _sa_os_now_ms (src/purge_delay.c). */
    uint64_t purge_at;      /* on its heap's purge list: the time it gets purged */
    uint64_t purged_at;     /* purged: the time it was, so a reuse soon after is seen; 0: never touched */
} sa_page_t;

_Static_assert(sizeof(sa_page_t) == 3 * SA_CACHE_LINE, "sa_page_t: three cache lines");
_Static_assert(offsetof(sa_page_t, local_empty) == offsetof(sa_page_t, used_word) + 7 &&
               __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "local_empty is the top byte of used_word: its SA_LOCAL_EMPTY is the sign bit");

typedef enum sa_segment_kind_e {
    SA_SEGMENT_PAGES,       /* carved into pages of one sa_page_kind_t */
    SA_SEGMENT_HUGE,        /* one huge block, mapping of its own */
} sa_segment_kind_t;

typedef struct sa_segment_s {
    sa_segment_kind_t kind;
    sa_page_kind_t page_kind;       /* huge: SA_PAGE_LARGE's layout, pages[0] all zero (huge.c) */
    uint32_t page_count;            /* page table entries (by page_kind's layout)   */
    uint32_t used_pages;            /* pages in use: 0 <= used_pages <= page_count  */
    /* Large: bit u set while unit u is in no page's span, and while its
     * memory is committed (its entry not purged): segment.c spans. */
    uint64_t span_free;
    uint64_t span_committed;
    struct sa_heap_s *heap;         /* owner of every page in use here, or NULL;
                                       huge: the first-class heap it is from, or NULL */
    struct sa_segment_s *next;      /* on one sa_segment_list_t: heap's avail[kind],  */
    struct sa_segment_s *prev;      /*   full or cache, the global cache, abandoned;
                                       huge: far blocks (huge.c), or on none */
    uint64_t purge_at;              /* cached: time (ms) its pages are purged       */
    /* huge only: the mapping's length, the block and its usable size */
    size_t map_size;
    uint8_t *huge_block;
    size_t huge_usable;
    uint8_t huge_free;              /* freed and kept in the huge cache */
    uint8_t huge_zero;              /* fresh from the OS: reads as zero */
    uint8_t huge_far;               /* aligned >= SA_SEGMENT_SIZE: block not at the mask (huge.c) */
    /* huge, of a first-class heap (seg->heap): on its list (user_heap.c) */
    struct sa_segment_s *heap_next;
    struct sa_segment_s *heap_prev;
    /* The page holding each SA_SMALL_PAGE_SIZE unit of the segment, by
     * page_kind's layout (_sa_segment_unit_set): free finds a pointer's page
     * with one load, where a shift by the kind's page shift and a multiply
     * by sizeof(sa_page_t) (192, no power of two) took six instructions.
     * Written when the layout is (segment_carve, huge_header, and again when
     * a huge mapping moves: the entries are addresses), read by every free:
     * lines no other field shares. */
    _Alignas(SA_CACHE_LINE) struct sa_page_s *unit_page[SA_SMALL_PAGES_PER_SEGMENT];
    sa_page_t pages[SA_MAX_PAGES_PER_SEGMENT];
} sa_segment_t;

_Static_assert(sizeof(sa_segment_t) <= SA_SEGMENT_INFO_SIZE,
               "segment header and page table must fit SA_SEGMENT_INFO_SIZE");

typedef struct sa_page_queue_s {
    sa_page_t *first;
    sa_page_t *last;
} sa_page_queue_t;

/* A doubly linked list of segments through seg->next/prev (segment.c). */
typedef struct sa_segment_list_s {
    sa_segment_t *first;
    sa_segment_t *last;
    size_t count;
} sa_segment_list_t;

typedef struct sa_heap_s {
    /* The fast path's table: page_direct[bin] is queues[bin].first, or the
     * static empty page (free == NULL) so malloc needs no NULL test. */
    sa_page_t *page_direct[SA_BIN_COUNT];
    /* malloc's size -> bin table for small sizes (_sa_bin_table), a copy in
     * every heap: read at an offset from the heap the fast path holds
     * already, where the global table's address takes an instruction of its
     * own to form (position-independent code). Never written after the
     * heap is made. */
    uint8_t bin_table[SA_BIN_TABLE_SIZE];
    sa_page_queue_t queues[SA_BIN_COUNT];
    sa_page_queue_t full;           /* pages with in_full set */
    /* Pages remote frees reported no longer full (notify QUEUED): a lock-free
     * stack pushed by other threads, taken whole by the owner into
     * remote_local, which is drained SA_REMOTE_PAGES_MAX at a time. */
    _Atomic(sa_page_t *) remote_pages;
    sa_page_t *remote_local;
    /* The remote cache (src/free.c): per size class, blocks of other heaps'
     * pages this thread freed (canary set, LIVE to their pages), given back
     * at thread exit and sa_collect. Each class's is a page to the fast path
     * (no page of any segment): `free` lists the kept blocks, `capacity` is
     * how many fit in SA_REMOTE_CACHE_BYTES, and used = capacity - |free|,
     * as on a page, so page_pop hands them out unchanged. While it holds a
     * block, page_direct[bin] points at it (remote_cache_keep, and
     * page_queue.c's direct_update): the kept blocks go out first, with no
     * instruction added to the fast path. Only its `free`, `used` and
     * `capacity` mean anything. */
    sa_page_t rcache[SA_BIN_COUNT];
    uint32_t rcache_keeps;          /* blocks the cache could keep so far (free.c) */
    uint32_t rcache_keeps_generic;  /* rcache_keeps at the last generic call */
    /* The owner's frees this heap may still push straight onto `free` before
     * its next generic call, which sets it to SA_LIFO_FREES_MAX (free.c
     * free_lifo; every local free that could counts it down, so it goes
     * below 0: signed, 64 bits). */
    int64_t lifo_left;
    sa_segment_list_t avail[SA_PAGE_KIND_COUNT];  /* segments with a free page */
    sa_segment_list_t full_segments;              /* segments with every page in use */
    sa_segment_list_t cache;                      /* empty segments, <= SA_SEGMENT_CACHE_MAX */
    /* Guards `cache`: the owner's, but a thread out of memory may take it
     * (_sa_segment_cache_steal). Both only try it; thread exit waits. */
    _Atomic bool cache_busy;
    sa_page_queue_t purge;          /* retired pages waiting to be purged, oldest first */
    uint64_t generic_count;         /* generic malloc calls so far (the heartbeat) */
    size_t retire_cursor;           /* next bin the retire sweep looks at */
    /* Bit b: the head page of queue b was emptied (retire_at set) and the
     * sweep has not yet seen it used again or retired: the sweep visits
     * these bins only (a set bit may be stale; a pending head always has its
     * bit). 128 bits: SA_BIN_COUNT fits (static_assert'ed in heap.c). */
    unsigned __int128 retire_bins;
    uint64_t retire_due;            /* generic count when an emptied page may retire
                                     * (UINT64_MAX: none) */
    uint64_t retire_next_due;       /* earliest pending expiry seen in the current round
                                     * (UINT64_MAX: none) */
    /* The large pages this heap's owner emptied last (a thread's heap, not a
     * first-class one), a ring: its next large malloc retires those still
     * empty before it looks for a span (segment.c span_alloc). A page leaves
     * it when it retires (page.c _sa_page_retire), NULL an empty slot. */
    sa_page_t *large_emptied[SA_LARGE_EMPTIED_MAX];
    uint8_t large_emptied_next;     /* the slot the next one takes */
    uint64_t purge_checked_ms;      /* clock reading of the last purge check */
    uint64_t purge_check_at;        /* generic count from which housekeeping looks
                                     * for something to purge (0: at the next call) */
    /* statistics, written by the owner only (plain adds), read racily by
     * sa_stats_get: per size class, blocks this heap's thread got from
     * malloc, freed of its own pages, and freed of other heaps' pages
     * (remote). Blocks in use = the sum over every heap of malloc - free -
     * remote_free (one heap's frees may be another's mallocs). */
    size_t stat_malloc[SA_BIN_COUNT];
    size_t stat_free[SA_BIN_COUNT];
    size_t stat_remote_free[SA_BIN_COUNT];
    uint64_t stat_steps_max;        /* most steps one generic malloc took */
    bool alive;                     /* a thread owns it */
    /* Made by sa_heap_new (src/user_heap.c): only `owner` allocates from it;
     * not any thread's heap in TLS. */
    bool first_class;
    pthread_t owner;
    struct sa_segment_s *huge_first;    /* its huge blocks, under huge_lock */
    pthread_mutex_t huge_lock;
    bool in_hook;                   /* running the deferred-free hook */
    struct sa_heap_s *next_all;     /* registry of every heap ever made */
    /* A thread owns the heap or is taking it over: a thread start claims a
     * heap of an exited thread with one CAS false -> true (never waits). */
    _Atomic bool claimed;
    /* Stocked (src/heap.c heap_stock): its thread exited and left it whole,
     * pages, queues and caches as they were, for the next thread to start:
     * a live heap whose thread sleeps. The clock (_sa_os_now_ms) when it
     * was stocked, plus one; 0: not stocked. Written only by whoever holds
     * `claimed`; read racily by the registry's walkers. */
    _Atomic uint64_t stocked_at;
} sa_heap_t;

#endif /* SA_TYPES_H */
