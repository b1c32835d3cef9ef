/* src/config.h -- every tunable constant of shardalloc, and nothing else.
 *
 * This header is the single source of truth shared by the allocator (src/) and
 * the proof driver (proofs/constants.c), which includes it and hands these
 * values to the SMT models in spec/. Change a number here and `make verify` re-proves
 * every obligation at the new value. No other file may write one of these numbers.
 *
 * Derived values are written as expressions of the base ones, never as literals.
 * Each base constant carries one line saying why it has that value.
 */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stdint.h>

/* ---- alignment ------------------------------------------------------------ */

/* x86-64's cache line: sa_page_t keeps the fields other threads read, the
 * owner's and other threads' writes on lines of their own (src/types.h). */
#define SA_CACHE_LINE           64

/* Every block is 16-byte aligned: max_align_t on x86-64, what glibc promises. */
#define SA_MIN_ALIGN_SHIFT      4
#define SA_MIN_ALIGN            ((uintptr_t)1 << SA_MIN_ALIGN_SHIFT)

/* The OS page size we assume for madvise/mmap rounding (x86-64 base pages). */
#define SA_OS_PAGE_SHIFT        12
#define SA_OS_PAGE_SIZE         ((uintptr_t)1 << SA_OS_PAGE_SHIFT)

/* ---- segments and pages ---------------------------------------------------- */

/* 4 MiB segments: big enough to amortise mmap, small enough to unmap often.
 * Segments are SA_SEGMENT_SIZE-aligned, so pointer -> segment is a mask. */
#define SA_SEGMENT_SHIFT        22
#define SA_SEGMENT_SIZE         ((uintptr_t)1 << SA_SEGMENT_SHIFT)
#define SA_SEGMENT_MASK         (SA_SEGMENT_SIZE - 1)

/* Segment metadata (header + page table: 64 pages of three cache lines
 * each) lives in the first 16 KiB of the segment, on OS pages of its own,
 * apart from block memory. Page 0's block area starts after it.
 * (static_assert'ed against the real structs.) */
#define SA_SEGMENT_INFO_SHIFT   14
#define SA_SEGMENT_INFO_SIZE    ((uintptr_t)1 << SA_SEGMENT_INFO_SHIFT)

/* Page kinds. A segment holds pages of one kind; free finds a pointer's
 * page in the segment's unit table (types.h), one entry per 64 KiB unit.
 *  small:  64 KiB pages, locality for the common tiny objects.
 *  medium: 512 KiB pages, blocks of 8-128 KiB.
 *  large:  a span of units as long as its one block, in a segment shared
 *          by every large class (segment.c spans); SA_LARGE_PAGE_SHIFT is
 *          the most one spans. */
#define SA_SMALL_PAGE_SHIFT     16
#define SA_MEDIUM_PAGE_SHIFT    19
#define SA_LARGE_PAGE_SHIFT     SA_SEGMENT_SHIFT
#define SA_SMALL_PAGE_SIZE      ((uintptr_t)1 << SA_SMALL_PAGE_SHIFT)
#define SA_MEDIUM_PAGE_SIZE     ((uintptr_t)1 << SA_MEDIUM_PAGE_SHIFT)
#define SA_LARGE_PAGE_SIZE      ((uintptr_t)1 << SA_LARGE_PAGE_SHIFT)
#define SA_SMALL_PAGES_PER_SEGMENT   (SA_SEGMENT_SIZE / SA_SMALL_PAGE_SIZE)
#define SA_MEDIUM_PAGES_PER_SEGMENT  (SA_SEGMENT_SIZE / SA_MEDIUM_PAGE_SIZE)
#define SA_MAX_PAGES_PER_SEGMENT     SA_SMALL_PAGES_PER_SEGMENT

/* Object size limits per page kind: at least 8 blocks fit a small page (so
 * a page is worth its metadata); a medium page holds blocks up to a quarter
 * of its size (128 KiB: four a page, three in a segment's first page, which
 * the segment's info shortens); large pages, a span of units per block,
 * hold blocks up to half a segment; anything bigger is huge and gets a
 * mapping of its own.
 * Medium only up to 128 KiB, as mimalloc's: a freed 128-256 KiB block's span
 * then serves the next large request of any class at once, where in a 512
 * KiB page of its class's own (two blocks a page, a few pages a class) it
 * waited for one of its size (bench/buffers, 5 interleaved runs with large
 * pages retired as they empty: peak RSS 123 -> 111 MiB, CPU 0.96x; growth,
 * python, gcc, z3, ruby, perl within 1%: docs/design.md, buffers). */
#define SA_SMALL_MIN_BLOCKS_SHIFT    3
#define SA_MEDIUM_MIN_BLOCKS_SHIFT   2
#define SA_SMALL_OBJ_SIZE_MAX   (SA_SMALL_PAGE_SIZE >> SA_SMALL_MIN_BLOCKS_SHIFT)
#define SA_MEDIUM_OBJ_SIZE_MAX  (SA_MEDIUM_PAGE_SIZE >> SA_MEDIUM_MIN_BLOCKS_SHIFT)
#define SA_LARGE_OBJ_SIZE_MAX   (SA_SEGMENT_SIZE >> 1)

/* The most blocks any page can hold: a small page of minimum-size blocks
 * (4096). Bounds every per-page walk (collect, list checks). */
#define SA_MAX_BLOCKS_PER_PAGE  (SA_SMALL_PAGE_SIZE >> SA_MIN_ALIGN_SHIFT)

/* ---- size classes (the map itself is src/size_class.h) ---------------------- */

/* Up to 128 bytes classes step by the 16-byte alignment (16, 32, ..., 128). */
#define SA_LINEAR_CLASS_MAX_SHIFT 7
#define SA_LINEAR_CLASS_MAX     ((uintptr_t)1 << SA_LINEAR_CLASS_MAX_SHIFT)

/* Above that, 2^3 = 8 classes per power of two: waste stays below 1/8 of the
 * block (12.5%), the bound the size-class obligation proves. */
#define SA_CLASS_STEPS_SHIFT    3

/* Sizes up to 1 KiB, most of what programs ask for, find their bin in a
 * table of 1 KiB + 1 bytes indexed by the size itself: one load on the fast
 * path instead of a count-leading-zeros and shifts (and no rounding to
 * 16-byte units first, as a table of 65 bytes needed: size_class.h). */
#define SA_BIN_TABLE_MAX        ((uintptr_t)1 << 10)

/* ---- the generic path's bounds (each is a term in the proven step bound) ----- */

/* A page's free list grows by at most 4 KiB of blocks per extend (at least one
 * block), so no malloc touches more than one OS page of fresh memory to thread
 * a list, and a fresh page is not faulted in all at once. */
#define SA_MAX_EXTEND_SIZE      ((uintptr_t)1 << SA_OS_PAGE_SHIFT)

/* A page with only a few free blocks (fewer than capacity >> this) is passed
 * over for another candidate, and a lone page with only a few frees waiting
 * on local_free is extended before they are reused: reusing one or two blocks
 * per generic call would send nearly every malloc of a temporaries-heavy
 * program through the generic path. 1/256: with unfulled
 * pages at the back of their queue the candidates met first have had time to
 * gather frees, and at 1/16 a large live set passed over so many of them
 * that the search ran twice as often (liveset 100000 blocks, callgrind: 146
 * against 78 generic calls per 1000 mallocs; peak RSS the same). */
#define SA_REUSE_MIN_SHIFT      8

/* A large page is cut from the fullest of the first this many segments of
 * the heap that have a run of free units long enough, else from a segment
 * made for it; a segment without one goes to the back of the list, so the
 * next large request looks at others. Fullest, not first: the emptier
 * segments drain and go back (bench/buffers, 4 interleaved runs: peak RSS
 * 146 -> 131 MiB with 16 tries, 138 with 4, CPU 0.93x and 0.97x; the first
 * that fits of 16 tries 136 MiB, 0.96x). With the longest span (33 units)
 * the tries stay within the P steps bounds.smt2's SCAN allows (segment.c
 * asserts it). */
#define SA_SPAN_TRIES           16

/* The generic path looks at most this many candidate pages of a size class
 * before taking a fresh page. Exhausted pages leave the queue for the full
 * list when looked at, so they are not looked at again. */
#define SA_PAGE_SEARCH_MAX      8

/* Collect rebuilds a page's `free` list in address order (page.c
 * free_order) when at least half its made blocks are free, they total at
 * least SA_ORDER_MIN_BYTES, and it has at most SA_ORDER_BLOCKS_MAX blocks:
 * blocks handed out next to each other let the hardware prefetchers help
 * (python: user time 1.52x -> 1.04x jemalloc's when it came; measured again
 * on 2026-12-04, python runs as fast without it, and what it buys is
 * bench/prodcons: 1.13x slower without, 1.06x capped at 256 blocks; its
 * pass is malloc_remote's p99.99 in the latency probe: docs/design.md).
 * BLOCKS_MAX bounds the pass (capacity + free blocks: spec/bounds.smt2
 * B_ORDER) at 2K steps where 4096-block pages would cost 8K; 1024 (blocks
 * of 64 bytes and up) gets most of it: bench-order near 51% against 61%
 * with 4096, python user time 0.92 s against 0.85 s (4 interleaved runs,
 * loaded machine). MIN_BYTES: below it
 * the pass costs more than the order gives (liveset 100 blocks: +17%
 * instructions, +30% time without it). */
#define SA_ORDER_BLOCKS_MAX     1024
#define SA_ORDER_MIN_BYTES      (16 * 1024)

/* Before that pass, collect walks `free` (page.c free_order_walk), turning
 * its runs that go down by address into runs going up: if the runs then go
 * down from one to the next at most this many times, the list is kept so,
 * and the pass is not run. A program freeing its blocks in the order it got
 * them (or in reverse) leaves such a list; 1: glibc's bench-malloc-simple
 * then needs the pass 2 times in 27,994 (callgrind), and a list of random
 * order still stops the walk within a few blocks (bench/liveset 100000:
 * about 170 instructions a walk). */
#define SA_ORDER_BREAKS_MAX     1

/* Pages reported (by remote frees) as no longer full, taken back into their
 * size-class queue per generic call; the rest wait for the next call. */
#define SA_REMOTE_PAGES_MAX     8

/* Bytes of other threads' blocks of one size class a thread may keep after
 * freeing them, to hand out again itself (its remote cache, src/free.c): a
 * block it just read is in its own CPU cache (its owner would fetch it from
 * ours), and a kept block costs no CAS on its page's thread_free. Kept
 * blocks stay LIVE to their page until handed out or given back (thread
 * exit, sa_collect), so up to this much per class and thread waits there.
 * 8 KiB: bench/xserver's CPU time, 2 threads 1.32x tcmalloc's against 1.45x
 * without, 8 threads 1.51x against 1.90x (4 and 16 KiB within the noise;
 * measured when kept blocks went out only after the head page's). */
#define SA_REMOTE_CACHE_BYTES   (8 * 1024)

/* Of the blocks a thread's remote cache may keep, every this-many-th goes
 * home instead (src/free.c remote_cache_sends_home): a foreign block the
 * thread hands out to itself and frees again circulates between its cache
 * and its own use for good once the program has erased its hand-out mark
 * (docs/design.md), each of its frees remote; this ends the circulation
 * after 32 keeps on average, at the cost of a push for 1 keep in 32.
 * Measured (scratch build, interleaved, medians): Larson with a 16-byte
 * header written, remote frees 56.6M -> 1.3M, relative time 32.0 -> 23.3
 * (5 runs); bench/xserver 2 and 8 threads, sparse, server, relay, churn,
 * tchurn, prodcons within their spread (5 runs), leakgrow CPU 1.88 -> 2.06
 * s (ranges 1.83-1.98, 1.91-2.33). Sooner costs: 1 in 8 and 1 in 2 (of the
 * blocks kept before, in a scratch build with a table of them) took
 * xserver-8's peak RSS 22.1 -> 27.4 and 33.8 MiB (one run each). A power
 * of two: the test is a mask. */
#define SA_REMOTE_CACHE_HOME_EVERY 32

/* Blocks a thread's remote caches may keep between two of its generic
 * calls; past that its remote frees go home until its next generic call.
 * The cache's pops are no page transition, so the fast path's cadence
 * (spec/bounds.smt2 `cadence`) does not count them: without this a thread
 * that frees as many of other threads' blocks as it allocates is served by
 * its cache alone and never runs the generic path (no heartbeat, no
 * housekeeping: what it emptied before is never retired or purged). With
 * it, between two generic calls a class's cache hands out at most
 * SA_REMOTE_CACHE_BYTES / SA_MIN_ALIGN + this many blocks
 * (spec/bounds.smt2 `cache_cadence`). Large enough that workloads which do
 * call the generic path never reach it (bench/xserver: some 80 keeps a
 * generic call); a pure consumer pays a push for each free from the 4097th
 * keep until its cache and head page run dry. */
#define SA_REMOTE_CACHE_KEEPS_MAX  4096

/* The owner's frees a heap pushes straight onto their page's `free`
 * between two of its generic calls (src/free.c free_lifo; spec/page.smt2
 * free_lifo): handed out next, last in first out, the block the program
 * just touched is still in its cache. Past that its frees wait on
 * local_free for the generic path's collect, as mimalloc's do, so the
 * generic path (the heartbeat, housekeeping, remote frees collected) still
 * runs: between two generic calls one page hands out at most its capacity
 * plus this many blocks (spec/bounds.smt2 `cadence`). Measured against
 * waiting always (scratch builds, 7-9 interleaved runs, medians):
 * bench/liveset 100 0.90, python 0.93, relay 0.88, newdelete and buffers
 * 0.97, the rest within their spread; 256 gave liveset 0.96 (the frees past
 * the budget come back cold), no limit 0.87. */
#define SA_LIFO_FREES_MAX          4096

/* Abandoned segments a heap tries to reclaim per generic call. */
#define SA_RECLAIM_TRIES        4

/* A thread exit adopts (and collects, returning what is free) this many of
 * the oldest abandoned segments more than the heap owns: each exit visits
 * more segments than it can abandon, so every abandoned segment is visited
 * within a bounded number of exits (spec: bounds.smt2 exit_visit). */
#define SA_EXIT_RECLAIM         4

/* Heaps of exited threads kept whole (stocked: their pages with live blocks
 * and free room) for the next threads to start (src/heap.c heap_stock): a
 * new thread takes one over and mallocs from its pages at once, where an
 * empty heap makes fresh pages and faults them in. At most this many sleep;
 * one unclaimed longer than SA_HEAP_STOCK_STALE_MS is given up at the next
 * thread exit or sa_collect. 4: 2 left tchurn's four threads a round 30k faults
 * (4: 11k) and doubled leakgrow's peak RSS; 8 measured the same as 4 with
 * twice the memory a quiet process may hold (docs/design.md "Stocked heaps"). */
#define SA_HEAP_STOCK_MAX       4

/* ... and one unclaimed this many milliseconds is stale (given up at the
 * next thread exit or sa_collect). A stocked heap waits for the program's
 * next thread start, which on a loaded machine comes tens of milliseconds
 * after an exit (the exiting round's other threads preempted, the thread
 * that starts the next one waiting for a CPU): at the purge delay (10-80
 * ms), four busy loops beside leakgrow gave up 20-50 stocks a run and
 * leakgrow's peak RSS went from 20 to 25-28 MiB. 1 s: a quiet spell that
 * long is no thread churn; the memory bound is the count above anyway
 * (docs/design.md "Stocked heaps"). */
#define SA_HEAP_STOCK_STALE_MS  1000

/* A malloc the OS refused memory for adopts (and collects) at most this many
 * abandoned segments before it tries again (src/heap.c): 64 segments are
 * 256 MiB, more than most address-space limits leave a thread. */
#define SA_OOM_RECLAIM          64

/* After the OS refused memory, for this many milliseconds every thread's
 * owner frees retire an emptied page at once (no retire delay), and a heap
 * keeps one emptied segment cached, unmapping the others: memory another
 * live thread just freed is what the failed thread needs next, and only its
 * owner can give it back. 1 s: a program unwinds and frees what it held well
 * within it (four threads freeing 96 MiB of small and medium blocks take
 * 2 ms, 2-33 ms in the debug build); the cost, a page made again per emptied
 * page, ends soon after. */
#define SA_OOM_PRESSURE_MS      1000

/* The user's deferred-free hook runs once every this many generic calls
 * (1: every time the generic path runs, the heartbeat of the paper). */
#define SA_HEARTBEAT_PERIOD     1

/* An emptied page stays in its queue for this many generic calls before it
 * is retired to its segment, so alloc/free ping-pong does not thrash pages.
 * 256: a loop against a small live set empties a page every few dozen
 * generic calls, and a rarely asked size class (bench/liveset 100: 1 in 64
 * sizes spread over 48 classes) is asked again only every ~130 of them; at
 * 64 such classes retired and re-made a page 3141 times per 10^6 mallocs
 * (a generic call cost 276 instructions on average, callgrind), at 256 140
 * times (146); peak RSS of the bench workloads within their run-to-run
 * noise. */
#define SA_RETIRE_DELAY         256

/* A large page (one block, src/segment.c spans) retires after this many:
 * its span is what any large class can be cut from, and a class waiting
 * 256 calls kept a span per block it once held (bench/buffers: 13 empty
 * pages of 983040 bytes at exit). Reusing it soon after costs no fault:
 * a retired span stays committed until its purge delay. Most retire
 * sooner: SA_LARGE_EMPTIED_MAX. */
#define SA_RETIRE_DELAY_LARGE   8

/* The heap's last this many emptied large pages are retired by its next
 * large malloc before it looks for a span (segment.c span_alloc), so the
 * memory of a buffer freed a moment ago serves the next buffer of any size
 * at once, and free itself stays a constant step (bounds.smt2
 * B_LARGE_RETIRES is what the malloc may pay for them). bench/buffers, 5
 * interleaved runs: peak RSS 118 MiB with 1 such page, 112 with 4, 111 with
 * each page retired in free itself (free would then walk a span); CPU
 * within 2% of each other (docs/design.md, buffers). */
#define SA_LARGE_EMPTIED_MAX    4

/* Housekeeping per generic call, after the pop: the queue heads of at most
 * this many size classes are checked for an expired empty page to retire, so
 * an emptied page is returned even if its size class is not asked for again. */
#define SA_RETIRE_SCAN_MAX      4

/* Housekeeping looks for something to purge (a clock read and a walk of the
 * purge list and the caches) at most once per this many generic calls, and
 * at the next call after a retire (src/internal.h _sa_heap_housekeeping).
 * The purge delays are milliseconds long on a coarse clock, while an
 * allocation-heavy loop makes a generic call every few microseconds: looking
 * at each call cost a small-block loop with a live set (bench/liveset 0.1
 * 100, callgrind) 108 instructions per generic call for nothing. */
#define SA_PURGE_CHECK_CALLS    64

/* ---- realloc ------------------------------------------------------------------- */

/* A realloc that grows a block of more than a small page's largest object
 * (8 KiB) and must move it asks for headroom (src/alloc.c realloc_target):
 * below that, copies are cheap and the waste bound matters more. */
#define SA_REALLOC_HEADROOM_MIN SA_SMALL_OBJ_SIZE_MAX

/* ... at least 1 + 2^-1 = 1.5 times the old usable size: a buffer grown by
 * 1/8 at a time (one size class) then moves every third or fourth step. */
#define SA_REALLOC_GROW_SHIFT   1

/* ---- returning memory -------------------------------------------------------- */

/* Retired pages or cached segments purged per generic call at most, so purging
 * a large freed heap is spread over calls (sa_collect purges all at once). */
#define SA_PURGE_BATCH_MAX      8

/* Retired pages and cached segments are purged (MADV_FREE/MADV_DONTNEED) after
 * this many milliseconds unused; the default of option SHARDALLOC_PURGE_DELAY. */
#define SA_PURGE_DELAY_MS       10

/* Purged memory needed again within the delay doubles the delay (src/
 * purge_delay.c), up to 2^3 = 8 times the option (80 ms by default): a
 * program cycling through memory that slowly keeps it; one that shrank for
 * good still sees its RSS drop within a second or so. */
#define SA_PURGE_BACKOFF_MAX_SHIFT 3

/* ... and each this many delays without an early reuse halve it again. */
#define SA_PURGE_CALM_DELAYS    4

/* Empty segments kept mapped (purged) per thread for reuse before unmapping. */
#define SA_SEGMENT_CACHE_MAX    4

/* Empty segments of exited threads kept (purged after the delay) for threads
 * started later: thread churn reuses them instead of mapping and faulting. */
#define SA_SEGMENT_CACHE_GLOBAL_MAX 16

/* Recently freed huge mappings kept for reuse, so a loop over 5-25 MiB blocks
 * does not fault every page in again: at most this many, and this many bytes. */
#define SA_HUGE_CACHE_ENTRIES   8
#define SA_HUGE_CACHE_MAX_BYTES ((uintptr_t)256 << 20)

/* A cached huge mapping up to 2^3 = 8 times the size asked for is used whole,
 * not trimmed: its tail was faulted in once and a loop of mixed sizes (5-25
 * MiB) needs it again; trimming it costs an mremap now and faults later. */
#define SA_HUGE_REUSE_SHIFT     3

/* ---- option defaults (src/options.c; SHARDALLOC_<NAME> overrides each) ------- */

/* Silent by default: a drop-in malloc writes nothing a program did not ask for. */
#define SA_OPTION_SHOW_STATS_DEFAULT     0
#define SA_OPTION_VERBOSE_DEFAULT        0

/* MADV_DONTNEED (SA_PURGE_DONTNEED): RSS drops at once, as users watching it expect. */
#define SA_OPTION_PURGE_DEFAULT          0

/* No cap on mapped memory: the kernel's overcommit policy decides, as for glibc. */
#define SA_OPTION_LIMIT_DEFAULT          0

/* Report and go on: a misuse is ignored without harm to the heap (glibc aborts). */
#define SA_OPTION_ABORT_ON_ERROR_DEFAULT 0

/* The per-heap, per-class malloc and free counts are the only statistics on
 * the fast paths (one add each). 1: counted. 0 compiles them out, for
 * measuring what counting costs (`make bench BENCH_ARGS=--count-off`); the
 * statistics then show no mallocs or frees of small blocks. */
#ifndef SA_FAST_PATH_STATS
#define SA_FAST_PATH_STATS               1
#endif

/* Longest SHARDALLOC_STATS_FILE path kept (copied at start: the environment may change). */
#define SA_STATS_FILE_MAX                4096

/* ---- address arithmetic ---------------------------------------------------------- */

/* User-space virtual addresses on x86-64 Linux (4-level paging, and what mmap
 * hands out without a high hint under 5-level paging). Sizes the segment map. */
#define SA_ADDRESS_BITS         47

/* page->thread_free keeps its list's length in the bits above a block
 * address (below 2^SA_ADDRESS_BITS): 16 bits, more than any page's
 * SA_MAX_BLOCKS_PER_PAGE, so a collect takes the list and its count with one
 * exchange and walks nothing (src/types.h). */
#define SA_THREAD_FREE_COUNT_SHIFT 48

/* Block index = (offset * magic) >> 48 with magic = ceil(2^48 / block_size):
 * exact for every offset below a segment and every block size we use (proven
 * by obligation block_index in proofs/), and the product fits in 64 bits. */
#define SA_BLOCK_INDEX_SHIFT    48

#endif /* SA_CONFIG_H */
