; spec/bounds.smt2 -- how many steps malloc and free can take, at most.
;
; A *step* is one loop iteration on a malloc or free path, one OS call, or
; one call of the user's deferred-free hook: what SA_TRACE_STEP(loop) counts in
; the tracing build (src/trace.h). This file models each path as a small
; program with a program counter `pc`, loop counters `i`, `j`, a loop limit
; `lim` and a step counter `steps`, one transition per loop iteration or
; phase change, in the order of _sa_malloc_generic (src/alloc.c):
;
;   1 heartbeat         the deferred-free hook, at most once         1
;   2 remote pages      _sa_heap_take_remote_pages: <= R pages, and
;                       the pending forwards _sa_segments_reclaim
;                       drains first, out of the same budget R; a
;                       page is one step, and one more if it is
;                       forwarded (a push on the pending stack or
;                       on its owner's remote_pages)                 2R
;   3 reclaim           _sa_segments_reclaim: <= T segments, each
;                       adopting <= P pages; only if pthread_mutex_
;                       trylock gets the abandon lock (else 0 steps:
;                       nothing on the malloc path waits for a lock) T (1 + P)
;   4 search            _sa_page_queue_find: <= S candidates, each looked at
;                       (1), collected if `free` is empty (no walk:
;                       the exchange of thread_free brings the list's
;                       count, page->local_tail is local_free's
;                       tail), then retired (<= 1 + 2P), used,
;                       extended, or moved to_full                   S (1 + 1 + 2P)
;                       (or passed over to the back of the queue,
;                       uncollected if its few free blocks all wait
;                       on local_free: the search ends early at a
;                       page it passed over; then the first one that
;                       had only a few free blocks is used, collected
;                       if it was not: no step, its candidate's)
;                       One collect per call may also rebuild its
;                       page's `free` in address order (page.c
;                       free_order): a walk of `free` (|free| steps),
;                       then, unless it found the list in runs
;                       already, the pass (capacity + |free|), only
;                       on pages of <= O blocks; it orders only a
;                       page the search then uses (not empty, half
;                       free: never retired, enough_free), so once
;                       per call                                   + 3 O
;                       The generic path looks at the head page itself
;                       first (alloc.c search_head): if local frees
;                       alone make it usable, it is collected and used,
;                       one candidate; else nothing is touched and the
;                       search starts from the head
;   5 fresh page        _sa_page_queue_fresh, _sa_segment_page_alloc: a segment from the
;                       OS (1 call) or a cache (walk its P pages for
;                       purged ones, and again to queue the unpurged
;                       for purging: 2P); carve <= P pages; scan <= P
;                       pages; page_init; extend <= E blocks          2P + P + P + E
;   6 pop               no loop                                      0
;   7 housekeeping      _sa_heap_housekeeping: _sa_heap_retire_sweep: <= RS bins, each may
;                       retire; _sa_segment_cache_purge: <= PB pages
;                       purged (a step and an OS call each), the heap
;                       cache (<= CM) and the global cache (<= CG)
;                       walked, <= PB segments purged (P + 1 each)   RS (1 + 1 + 2P) + 2 PB
;                                                                    + CM + CG + PB (P + 1)
;                       Each part only when due, after a test without
;                       a step: the sweep once an emptied page may have
;                       expired, the purge every SA_PURGE_CHECK_CALLS
;                       generic calls and at the call after a retire
;
; with R = SA_REMOTE_PAGES_MAX, T = SA_RECLAIM_TRIES, P =
; SA_MAX_PAGES_PER_SEGMENT, S = SA_PAGE_SEARCH_MAX, O = SA_ORDER_BLOCKS_MAX, E =
; SA_MAX_EXTEND_SIZE / SA_MIN_ALIGN, RS =
; SA_RETIRE_SCAN_MAX, PB = SA_PURGE_BATCH_MAX, CM = SA_SEGMENT_CACHE_MAX,
; CG = SA_SEGMENT_CACHE_GLOBAL_MAX.
;
; Where the page model comes in: an extend threads extend_count blocks, at
; most E because every block is at least SA_MIN_ALIGN bytes (obligation
; size_class_map). A collect walks nothing: the count it subtracts from used
; is n(THREAD) (inv_counts of page.smt2), kept in the thread_free word,
; which holds it because reserved <= SA_MAX_BLOCKS_PER_PAGE (obligation
; reserved_bound of layout.smt2; src/types.h asserts the field is wide
; enough).
;
; CAS loops. Collect's CAS, unfull's CAS, a remote free's push and the push of
; a page on remote_pages retry only when another thread's CAS on the same
; word succeeded in between: lock-free, not wait-free. The model lets any
; step be such a retry, paid for by `k`, the count of those foreign
; successes; every bound below is "B + k", with k = 0 without contention.
;
; Proof method: a potential `rem` per pc (the most steps still to come);
; the obligations show steps + rem <= B + k initially and after every
; transition, and rem >= 0, so steps <= B + k at the end.
;
; Not counted: the out-of-memory path of _sa_page_queue_fresh (_sa_out_of_memory_collect
; gives back every empty page: O(heap), only when the OS refuses memory; besides
; the heap it gives up the stocked heaps of exited threads, at most
; SA_HEAP_STOCK_MAX, each O(heap) as a thread exit (src/heap.c
; heaps_release_stocked; no malloc or free path gives one up otherwise),
; adopts at most SA_OOM_RECLAIM abandoned segments and unmaps at
; most SA_SEGMENT_CACHE_MAX cached segments per heap of the registry and
; SA_HUGE_CACHE_ENTRIES huge mappings) and sa_collect (O(heap) by design,
; never on the malloc path). Both start with the heap's collect, which first
; gives back the thread's remote cache (src/free.c _sa_remote_cache_flush, as
; does thread exit): one free_remote push (FREE_PUSH's CAS loop) per kept
; block, at most SA_BIN_COUNT * SA_REMOTE_CACHE_BYTES / SA_MIN_ALIGN of them.
; Keeping a block and handing it out again are loop-free: a remote free and
; a malloc stay within B_FREE_REMOTE and B_MALLOC. So is the malloc that
; finds the cache dry: it pops the head page's free, and puts nothing onto
; free (that would be a step outside fast_step below: see `cadence`).

; (requires page.smt2 before it, for Page, inv_counts and extend_count)

; ---- the bound formulas ---------------------------------------------------------

(define-fun B_EXTEND () Int (div SA_MAX_EXTEND_SIZE SA_MIN_ALIGN))
; _sa_page_retire -> _sa_segment_page_free: if the segment empties,
; segment_release walks its pages, then global_cache_put's
; segment_all_purged walks them again, or segment_unmap does and makes one
; OS call; if not, a large page's span_retire walks the units of its span
; instead, at most P (src/segment.c; each loop says `spec: bounds.smt2
; B_RETIRE`).
(define-fun B_RETIRE () Int (+ 1 (* 2 SA_MAX_PAGES_PER_SEGMENT)))
; a candidate: looked at and collected (1), then maybe retired
(define-fun B_CANDIDATE () Int (+ 1 B_RETIRE))
; A large page's fresh path first looks at the heap's last emptied large
; pages, at most SA_LARGE_EMPTIED_MAX (1 step each), and retires those still
; empty (src/segment.c large_emptied_retire): their spans serve the new
; block; free only notes them, and stays loop-free.
(define-fun B_LARGE_RETIRES () Int (* SA_LARGE_EMPTIED_MAX (+ 1 B_RETIRE)))
; segment_new from a cache (2P: segment_carve's walk of the committed pages
; when it re-carves, and segment_new's walk queueing the unpurged ones for
; purging; from the OS: 1 <= 2P), carve, scan, extend; before them, a
; large page's retires.
(define-fun B_SEGMENT () Int (* 2 SA_MAX_PAGES_PER_SEGMENT))
(define-fun B_FRESH () Int
  (+ B_LARGE_RETIRES B_SEGMENT SA_MAX_PAGES_PER_SEGMENT SA_MAX_PAGES_PER_SEGMENT B_EXTEND))
; _sa_segment_cache_purge's walk of the two caches (cache_purge), and
; segment_purge's walk of each segment it purges (P) with its OS call.
(define-fun B_PURGE_SEGMENTS () Int
  (+ SA_SEGMENT_CACHE_MAX SA_SEGMENT_CACHE_GLOBAL_MAX
     (* SA_PURGE_BATCH_MAX (+ SA_MAX_PAGES_PER_SEGMENT 1))))
(define-fun B_HOUSEKEEPING () Int
  (+ (* SA_RETIRE_SCAN_MAX (+ 1 B_RETIRE)) (* 2 SA_PURGE_BATCH_MAX) B_PURGE_SEGMENTS))

; The phases 1-4 of the path, by name (5 and 7 are B_FRESH and
; B_HOUSEKEEPING; an extend of a page the search found is paid from B_FRESH,
; whose fresh page it replaces). The tracing build charges each step to its
; phase (src/trace.h sa_phase_t) and tests/bounds checks every term.
(define-fun B_HEARTBEAT () Int 1)
(define-fun B_REMOTE () Int (* 2 SA_REMOTE_PAGES_MAX))
(define-fun B_RECLAIM () Int (* SA_RECLAIM_TRIES (+ 1 SA_MAX_PAGES_PER_SEGMENT)))
; free_order (page.c), on pages of at most SA_ORDER_BLOCKS_MAX blocks:
; free_order_walk, a step per block of `free`; then, if the list was not in
; runs already, the pass: a step per made block, then one per block
; relinked.
(define-fun B_ORDER () Int (* 3 SA_ORDER_BLOCKS_MAX))
(define-fun B_SEARCH () Int (+ (* SA_PAGE_SEARCH_MAX B_CANDIDATE) B_ORDER))

; The bound of one generic malloc (_sa_malloc_generic), plus k.
(define-fun B_MALLOC () Int
  (+ B_HEARTBEAT B_REMOTE B_RECLAIM B_SEARCH B_FRESH B_HOUSEKEEPING))
; The bound of a free by the owner (_sa_free_local: push, maybe unfull,
; maybe mark empty: no loop but unfull's CAS), plus k.
(define-fun B_FREE_LOCAL () Int 0)
; ... under memory pressure (src/heap.c _sa_oom_pressure: the OS refused
; memory less than SA_OOM_PRESSURE_MS ago), when the page empties, mark
; empty retires it at once (_sa_page_mark_empty): B_RETIRE more.
(define-fun B_FREE_LOCAL_PRESSURE () Int (+ B_FREE_LOCAL B_RETIRE))
; The bound of a free by another thread (_sa_free_remote: one CAS push; if
; the page WATCHes, one CAS push of the page on the owner's remote_pages), plus k.
(define-fun B_FREE_REMOTE () Int 2)

; ---- a path in progress ---------------------------------------------------------

(declare-datatypes ((Run 0))
  (((mk_run (pc Int) (i Int) (j Int) (lim Int) (steps Int) (k Int)))))

; program counters of _sa_malloc_generic, each with the function whose loop
; it counts (the loop carries `spec: bounds.smt2 <pc>` back here)
(define-fun HEARTBEAT () Int 0)  ; heartbeat (alloc.c): no loop
(define-fun REMOTE () Int 1)     ; i: pages taken back (_sa_heap_take_remote_pages)
                                 ;    or forwarded (forward_pending_locked)
(define-fun RECLAIM () Int 2)    ; i: segments tried (_sa_segments_reclaim)
(define-fun ADOPT () Int 3)      ; i: segments tried before this one, j: its pages
                                 ;    looked at (adopt_segment)
(define-fun SEARCH () Int 4)     ; i: candidates looked at (_sa_page_queue_find)
(define-fun LOOKED () Int 5)     ; i: candidates before this one (looked at, collected)
(define-fun FRESH () Int 6)      ; a large page's retires, then segment_new: B_SEGMENT
(define-fun CARVE () Int 7)      ; j: pages carved (segment_carve's page table)
(define-fun SCAN () Int 8)       ; j: pages looked at (_sa_segment_page_alloc); a large
                                 ; page's: segments tried and units cut (span_alloc),
                                 ; at most P together (obligation span_page)
(define-fun EXTEND () Int 9)     ; j: blocks threaded of lim (_sa_page_extend)
(define-fun SWEEP () Int 10)     ; i: bins swept (_sa_heap_retire_sweep)
(define-fun PURGE () Int 11)     ; j: pages purged (_sa_segment_cache_purge)
(define-fun PURGE_SEGS () Int 12); i: cached segments walked (cache_purge), j: purged
                                 ;    (segment_purge)
(define-fun ORDER () Int 14)     ; j: steps of free_order's walk and pass of lim (_sa_page_collect)
(define-fun DONE () Int 13)
; program counters of the free paths
(define-fun FREE_PUSH () Int 20)   ; _sa_free_remote's CAS loop
(define-fun FREE_NOTIFY () Int 21) ; _sa_heap_remote_push's CAS loop (_sa_page_stack_push)
(define-fun FREE_UNFULL () Int 22) ; _sa_page_unfull's CAS loop (_sa_page_notify_clear)
(define-fun FREE_EMPTIED () Int 23); _sa_page_mark_empty (free_local): lim, what a retire may take

(define-fun rem_search ((i Int)) Int
  (+ (* (- SA_PAGE_SEARCH_MAX i) B_CANDIDATE) B_ORDER B_FRESH B_HOUSEKEEPING))
(define-fun rem_reclaim ((i Int)) Int
  (+ (* (- SA_RECLAIM_TRIES i) (+ 1 SA_MAX_PAGES_PER_SEGMENT)) (rem_search 0)))
(define-fun rem_remote ((i Int)) Int
  (+ (* 2 (- SA_REMOTE_PAGES_MAX i)) (rem_reclaim 0)))
(define-fun rem_purge_segs ((i Int) (j Int)) Int
  (+ (- (+ SA_SEGMENT_CACHE_MAX SA_SEGMENT_CACHE_GLOBAL_MAX) i)
     (* (- SA_PURGE_BATCH_MAX j) (+ SA_MAX_PAGES_PER_SEGMENT 1))))
(define-fun rem_purge ((j Int)) Int
  (+ (* 2 (- SA_PURGE_BATCH_MAX j)) (rem_purge_segs 0 0)))
(define-fun rem_sweep ((i Int)) Int
  (+ (* (- SA_RETIRE_SCAN_MAX i) (+ 1 B_RETIRE)) (rem_purge 0)))

; The most steps still to come from r (not counting CAS retries).
(define-fun rem ((r Run)) Int
  (let ((pc (pc r)) (i (i r)) (j (j r)) (lim (lim r)))
  (ite (= pc HEARTBEAT) (+ 1 (rem_remote 0))
  (ite (= pc REMOTE) (rem_remote i)
  (ite (= pc RECLAIM) (rem_reclaim i)
  (ite (= pc ADOPT) (+ (- SA_MAX_PAGES_PER_SEGMENT j) (rem_reclaim (+ i 1)))
  (ite (= pc SEARCH) (rem_search i)
  (ite (= pc LOOKED) (+ B_RETIRE (rem_search (+ i 1)))
  (ite (= pc ORDER) (+ (- lim j) B_HOUSEKEEPING)
  (ite (= pc FRESH) (+ B_FRESH B_HOUSEKEEPING)
  (ite (= pc CARVE) (+ (- SA_MAX_PAGES_PER_SEGMENT j) SA_MAX_PAGES_PER_SEGMENT B_EXTEND B_HOUSEKEEPING)
  (ite (= pc SCAN) (+ (- SA_MAX_PAGES_PER_SEGMENT j) B_EXTEND B_HOUSEKEEPING)
  (ite (= pc EXTEND) (+ (- lim j) B_HOUSEKEEPING)
  (ite (= pc SWEEP) (rem_sweep i)
  (ite (= pc PURGE) (rem_purge j)
  (ite (= pc PURGE_SEGS) (rem_purge_segs i j)
  (ite (= pc FREE_PUSH) 2
  (ite (= pc FREE_NOTIFY) 1
  (ite (or (= pc FREE_UNFULL) (= pc FREE_EMPTIED)) lim
  0)))))))))))))))))))

; Where each counter may range at each pc (the loop guards' consequences).
(define-fun ranges ((r Run)) Bool
  (let ((pc (pc r)) (i (i r)) (j (j r)) (lim (lim r)))
  (and (>= (k r) 0) (>= (steps r) 0)
       (=> (= pc REMOTE) (and (<= 0 i) (<= i SA_REMOTE_PAGES_MAX)))
       (=> (= pc RECLAIM) (and (<= 0 i) (<= i SA_RECLAIM_TRIES)))
       (=> (= pc ADOPT) (and (<= 0 i) (< i SA_RECLAIM_TRIES) (<= 0 j) (<= j SA_MAX_PAGES_PER_SEGMENT)))
       (=> (= pc SEARCH) (and (<= 0 i) (<= i SA_PAGE_SEARCH_MAX)))
       (=> (= pc LOOKED) (and (<= 0 i) (< i SA_PAGE_SEARCH_MAX)))
       (=> (= pc ORDER) (and (<= 0 i) (< i SA_PAGE_SEARCH_MAX) (<= 0 j) (<= j lim) (<= lim B_ORDER)))
       (=> (or (= pc CARVE) (= pc SCAN)) (and (<= 0 j) (<= j SA_MAX_PAGES_PER_SEGMENT)))
       (=> (= pc EXTEND) (and (<= 0 j) (<= j lim) (<= lim B_EXTEND)))
       (=> (= pc SWEEP) (and (<= 0 i) (<= i SA_RETIRE_SCAN_MAX)))
       (=> (= pc PURGE) (and (<= 0 j) (<= j SA_PURGE_BATCH_MAX)))
       (=> (= pc PURGE_SEGS) (and (<= 0 i) (<= i (+ SA_SEGMENT_CACHE_MAX SA_SEGMENT_CACHE_GLOBAL_MAX))
                                  (<= 0 j) (<= j SA_PURGE_BATCH_MAX))))))

; The strengthened loop invariant of every path: what was spent plus what
; may still come stays within the bound (B is the path's bound).
(define-fun within ((r Run) (B Int)) Bool
  (and (ranges r) (>= (rem r) 0) (<= (+ (steps r) (rem r)) (+ B (k r)))))

; ---- the generic malloc path (_sa_malloc_generic), one step at a time -------------

; Move to pc2 with counters i2 j2 lim2, spending d steps.
(define-fun go ((r Run) (r2 Run) (pc2 Int) (i2 Int) (j2 Int) (lim2 Int) (d Int)) Bool
  (= r2 (mk_run pc2 i2 j2 lim2 (+ (steps r) d) (k r))))

; A page the search may look at: one satisfying the page invariant's
; counters, of a size class (blocks >= SA_MIN_ALIGN bytes, from the
; size_class.smt2 obligations).
(define-fun candidate ((p Page)) Bool
  (and (inv_counts p) (>= (block_size p) SA_MIN_ALIGN)))

(define-fun malloc_step ((r Run) (r2 Run) (p Page) (d Int)) Bool
  (let ((pc (pc r)) (i (i r)) (j (j r)) (lim (lim r)))
  (or
   ; a CAS of this path lost to another thread's successful CAS: retry
   ; (_sa_page_collect's CAS loop, _sa_page_notify_clear's, _sa_page_stack_push's)
   (and (not (= pc DONE)) (= r2 (mk_run pc i j lim (+ (steps r) 1) (+ (k r) 1))))
   ; 1: heartbeat (the hook may not be registered, or run only every
   ;    SA_HEARTBEAT_PERIOD calls: 0 or 1 step)
   (and (= pc HEARTBEAT) (or (= d 0) (= d 1)) (go r r2 REMOTE 0 0 0 d))
   ; 2: take back one reported page (unfull: 1 step) or forward it (a push:
   ;    1 more), at most SA_REMOTE_PAGES_MAX, own or pending (_sa_segments_reclaim)
   (and (= pc REMOTE) (< i SA_REMOTE_PAGES_MAX) (or (= d 1) (= d 2)) (go r r2 REMOTE (+ i 1) 0 0 d))
   (and (= pc REMOTE) (go r r2 RECLAIM 0 0 0 0))
   ; 3: try one abandoned segment, then adopt its pages one by one
   (and (= pc RECLAIM) (< i SA_RECLAIM_TRIES) (go r r2 ADOPT i 0 0 1))
   (and (= pc RECLAIM) (go r r2 SEARCH 0 0 0 0))
   (and (= pc ADOPT) (< j SA_MAX_PAGES_PER_SEGMENT) (go r r2 ADOPT i (+ j 1) 0 1))
   (and (= pc ADOPT) (go r r2 RECLAIM (+ i 1) 0 0 0))
   ; 4: look at one more candidate page p and collect it (one step: the
   ;    collect of a page with `free` empty walks neither list)
   (and (= pc SEARCH) (< i SA_PAGE_SEARCH_MAX) (candidate p)
        (go r r2 LOOKED i 0 0 1))
   ;    then retire it (0 .. B_RETIRE steps) or move it to_full: next candidate
   (and (= pc LOOKED) (<= 0 d) (<= d B_RETIRE) (go r r2 SEARCH (+ i 1) 0 0 d))
   ;    or it has a free block: pop it
   (and (= pc LOOKED) (go r r2 SWEEP 0 0 0 0))
   ;    or extend it (_sa_page_extend), then pop
   (and (= pc LOOKED) (candidate p) (< (capacity p) (reserved p))
        (go r r2 EXTEND 0 0 (extend_count p) 0))
   ;    or collect it and order its `free` (one step, then the walk's
   ;    n(FREE) and the pass's capacity + n(FREE) more, on a page of at most
   ;    SA_ORDER_BLOCKS_MAX blocks), then pop: free_order's guard (used !=
   ;    0, half free) makes the search use it
   (and (= pc SEARCH) (candidate p) (< i SA_PAGE_SEARCH_MAX)
        (<= (capacity p) SA_ORDER_BLOCKS_MAX)
        (go r r2 ORDER i 0 (+ (capacity p) (* 2 (n p FREE))) 1))
   (and (= pc ORDER) (< j lim) (go r r2 ORDER i (+ j 1) lim 1))
   (and (= pc ORDER) (= j lim) (go r r2 SWEEP 0 0 0 0))
   ;    after S candidates: the first one with only a few free blocks
   (and (= pc SEARCH) (go r r2 SWEEP 0 0 0 0))
   ; 5: a fresh page: for a large one the heap's emptied large pages
   ;    retired (<= B_LARGE_RETIRES), then a segment from the OS (1 step)
   ;    or a cache (its pages walked twice: <= B_SEGMENT), then carved
   (and (= pc SEARCH) (go r r2 FRESH 0 0 0 0))
   (and (= pc FRESH) (<= 0 d) (<= d (+ B_LARGE_RETIRES B_SEGMENT)) (go r r2 CARVE 0 0 0 d))
   (and (= pc CARVE) (< j SA_MAX_PAGES_PER_SEGMENT) (go r r2 CARVE 0 (+ j 1) 0 1))
   (and (= pc CARVE) (go r r2 SCAN 0 0 0 0))
   (and (= pc SCAN) (< j SA_MAX_PAGES_PER_SEGMENT) (go r r2 SCAN 0 (+ j 1) 0 1))
   ;    page_init (no loop), then extend a fresh page (capacity 0)
   (and (= pc SCAN) (candidate p) (= (capacity p) 0) (< 0 (reserved p))
        (go r r2 EXTEND 0 0 (extend_count p) 0))
   (and (= pc EXTEND) (< j lim) (go r r2 EXTEND 0 (+ j 1) lim 1))
   ; 6: pop (no loop)
   (and (= pc EXTEND) (= j lim) (go r r2 SWEEP 0 0 0 0))
   ; 7: housekeeping: one bin per step, which may retire its head page
   (and (= pc SWEEP) (< i SA_RETIRE_SCAN_MAX) (<= 1 d) (<= d (+ 1 B_RETIRE))
        (go r r2 SWEEP (+ i 1) 0 0 d))
   (and (= pc SWEEP) (go r r2 PURGE 0 0 0 0))
   ;    purge expired pages: a step and an OS call each
   (and (= pc PURGE) (< j SA_PURGE_BATCH_MAX) (go r r2 PURGE 0 (+ j 1) 0 2))
   (and (= pc PURGE) (go r r2 PURGE_SEGS 0 0 0 0))
   ;    walk the heap's and the global cache: a step per segment; purge
   ;    at most SA_PURGE_BATCH_MAX of them (a walk of its pages, one OS call)
   (and (= pc PURGE_SEGS) (< i (+ SA_SEGMENT_CACHE_MAX SA_SEGMENT_CACHE_GLOBAL_MAX))
        (go r r2 PURGE_SEGS (+ i 1) j 0 1))
   (and (= pc PURGE_SEGS) (< j SA_PURGE_BATCH_MAX)
        (go r r2 PURGE_SEGS i (+ j 1) 0 (+ SA_MAX_PAGES_PER_SEGMENT 1)))
   (and (= pc PURGE_SEGS) (go r r2 DONE 0 0 0 0)))))

(define-fun malloc_start ((r Run)) Bool
  (= r (mk_run HEARTBEAT 0 0 0 0 0)))

; ---- the free paths ---------------------------------------------------------------

; _sa_free_remote: the CAS push (1 step per try); if it turned WATCH into
; QUEUED, _sa_heap_remote_push's CAS push of the page (1 step per try).
; _sa_free_local: no loop, but unfull's CAS retries (1 step per retry);
; then, if the page emptied, mark empty: under memory pressure it retires
; the page (d <= lim steps; lim is B_RETIRE under pressure, else 0).
(define-fun free_step ((r Run) (r2 Run) (watched Bool) (d Int)) Bool
  (let ((pc (pc r)) (lim (lim r)))
  (or
   (and (or (= pc FREE_PUSH) (= pc FREE_NOTIFY) (= pc FREE_UNFULL))
        (= r2 (mk_run pc 0 0 lim (+ (steps r) 1) (+ (k r) 1))))
   (and (= pc FREE_PUSH) (go r r2 (ite watched FREE_NOTIFY DONE) 0 0 0 1))
   (and (= pc FREE_NOTIFY) (go r r2 DONE 0 0 0 1))
   (and (= pc FREE_UNFULL) (go r r2 FREE_EMPTIED 0 0 lim 0))
   (and (= pc FREE_EMPTIED) (<= 0 d) (<= d lim) (go r r2 DONE 0 0 0 d)))))

(define-fun free_remote_start ((r Run)) Bool (= r (mk_run FREE_PUSH 0 0 0 0 0)))
; a local free, under memory pressure or not
(define-fun free_local_lim ((pressure Bool)) Int (ite pressure B_RETIRE 0))
(define-fun free_local_bound ((pressure Bool)) Int (ite pressure B_FREE_LOCAL_PRESSURE B_FREE_LOCAL))
(define-fun free_local_start ((r Run) (pressure Bool)) Bool
  (= r (mk_run FREE_UNFULL 0 0 (free_local_lim pressure) 0 0)))

; ---- the cadence of the fast path -----------------------------------------------
;
; sa_malloc's fast path pops `free` until it is empty; only the generic path
; (collect, extend) and the owner's frees within their budget (free_lifo)
; put blocks on `free` (the other local frees go to local_free, remote frees
; to thread_free; debug and tracing builds check that every collect and
; extend runs in the generic path or a heap's collect: internal.h
; sa_assert_refill_scope). A heap's frees onto `free` between two of its
; generic calls are at most SA_LIFO_FREES_MAX (free.c free_local counts them
; down from there; alloc.c restarts the count). So after the generic path
; ran, at most `capacity` + SA_LIFO_FREES_MAX fast allocations of a page
; follow before it runs again: the heartbeat cadence. `fast` counts the
; fast allocations of the page since the generic path ran, `lifo` the
; heap's frees onto `free` since then (of this page, or of another:
; lifo_other); fast_step is what may happen meanwhile.
(define-fun lifo_other ((s Page) (t Page)) Bool (= t s))
(define-fun fast_step ((s Page) (t Page) (b Int) (popped Bool) (fast Int) (fast2 Int)
                       (lifo Int) (lifo2 Int)) Bool
  (or (and (alloc_pop s t b) (= fast2 (+ fast 1)) (= lifo2 lifo))
      (and (free_local s t b) (= fast2 fast) (= lifo2 lifo))
      (and (free_lifo s t b) (< lifo SA_LIFO_FREES_MAX) (= fast2 fast) (= lifo2 (+ lifo 1)))
      (and (lifo_other s t) (< lifo SA_LIFO_FREES_MAX) (= fast2 fast) (= lifo2 (+ lifo 1)))
      (and (free_remote s t b) (= fast2 fast) (= lifo2 lifo))
      (and (unfull s t popped) (= fast2 fast) (= lifo2 lifo))
      (and (to_full s t) (= fast2 fast) (= lifo2 lifo))))
(define-fun cadence ((s Page) (fast Int) (lifo Int)) Bool
  (and (<= 0 fast) (<= 0 lifo) (<= lifo SA_LIFO_FREES_MAX)
       (<= (+ fast (n s FREE)) (+ (capacity s) lifo))))

; ---- the remote cache's cadence ------------------------------------------------
;
; A thread's remote cache of a class (src/free.c) hands out the blocks of
; other threads' pages it freed; its pops are no page transition, so
; `cadence` does not count them. Between two generic calls of the thread:
; a keep needs room (at most CACHE_CAP blocks: SA_REMOTE_CACHE_BYTES of the
; smallest class) and fewer than SA_REMOTE_CACHE_KEEPS_MAX keeps of the
; heap since the generic call (free.c remote_cache_may_keep; alloc.c
; resets the count); a pop needs a kept block; a flush (sa_collect, exit)
; empties the cache. So the pops of one class's cache between two generic
; calls are at most CACHE_CAP + SA_REMOTE_CACHE_KEEPS_MAX, and with
; `cadence` a thread's mallocs of a class between two generic calls at
; most capacity + CACHE_CAP + SA_REMOTE_CACHE_KEEPS_MAX.
; level0: the cache's blocks at the generic call; kept: keeps since (of
; the heap, all classes: a class's keeps are at most that).
(declare-datatypes ((Cache 0)) (((mk_cache (level Int) (kept Int) (pops Int)))))
(define-fun CACHE_CAP () Int (div SA_REMOTE_CACHE_BYTES SA_MIN_ALIGN))
(define-fun cache_keep ((c Cache) (d Cache)) Bool
  (and (< (level c) CACHE_CAP) (< (kept c) SA_REMOTE_CACHE_KEEPS_MAX)
       (= d (mk_cache (+ (level c) 1) (+ (kept c) 1) (pops c)))))
(define-fun cache_pop ((c Cache) (d Cache)) Bool
  (and (> (level c) 0) (= d (mk_cache (- (level c) 1) (kept c) (+ (pops c) 1)))))
(define-fun cache_flush ((c Cache) (d Cache)) Bool
  (= d (mk_cache 0 (kept c) (pops c))))
(define-fun cache_step ((c Cache) (d Cache)) Bool
  (or (cache_keep c d) (cache_pop c d) (cache_flush c d)))
; what the generic call leaves: the cache as it is, the counts restarted
(define-fun cache_generic ((level0 Int)) Cache (mk_cache level0 0 0))
(define-fun cache_cadence ((c Cache) (level0 Int)) Bool
  (and (<= 0 level0) (<= level0 CACHE_CAP)
       (<= 0 (level c)) (<= (level c) CACHE_CAP)
       (<= 0 (kept c)) (<= (kept c) SA_REMOTE_CACHE_KEEPS_MAX) (<= 0 (pops c))
       (<= (+ (pops c) (level c)) (+ level0 (kept c)))))

; ---- abandoned segments: every one is visited within a bounded number of exits ---
;
; Not steps of one call but work spread over calls: the abandoned list
; (src/segment.c) is a FIFO, and every thread exit (_sa_heap_done) first
; adopts the SA_EXIT_RECLAIM + h oldest abandoned segments (h: the segments
; its heap owns, the most it can abandon), collects them with its own, returns
; those whose blocks were all freed (rel of them), and appends the rest and
; its own that still hold live blocks (a <= h) at the back. Follow one
; abandoned segment at position qp (1 = the front) of qn. Between exits,
; other threads only take from the front (a generic malloc's reclaim,
; sa_collect) or append at the back (other exits): it never moves back.
; exit_visit: an exit visits it or moves it SA_EXIT_RECLAIM places closer to
; the front, so it is visited within exits_left(qp) = ceil(qp /
; SA_EXIT_RECLAIM) exits, whatever the exiting heaps hold; a segment emptied
; by remote frees is returned at that visit. abandon_fifo: nothing else
; moves it back.
(declare-datatypes ((Queue 0)) (((mk_queue (qn Int) (qp Int)))))

(define-fun exit_visits ((h Int)) Int (+ SA_EXIT_RECLAIM h))
(define-fun exits_left ((p Int)) Int (div (+ p (- SA_EXIT_RECLAIM 1)) SA_EXIT_RECLAIM))
(define-fun queued ((q Queue)) Bool (and (<= 1 (qp q)) (<= (qp q) (qn q))))

; One exit: v = min(qn, exit_visits h) taken from the front, rel of them
; returned, the other v - rel and a of its own appended at the back.
(define-fun exit_step ((q Queue) (q2 Queue) (h Int) (rel Int) (a Int) (visited Bool)) Bool
  (let ((v (ite (< (qn q) (exit_visits h)) (qn q) (exit_visits h))))
  (and (<= 0 h) (<= 0 a) (<= a h) (<= 0 rel) (<= rel v)
       (= (qn q2) (+ (- (qn q) v) (- v rel) a))
       (= visited (<= (qp q) v))
       (=> (not visited) (= (qp q2) (- (qp q) v))))))

; Anything else: t taken from the front (adopted), app appended at the back.
(define-fun other_step ((q Queue) (q2 Queue) (t Int) (app Int) (visited Bool)) Bool
  (and (<= 0 t) (<= t (qn q)) (<= 0 app)
       (= (qn q2) (+ (- (qn q) t) app))
       (= visited (<= (qp q) t))
       (=> (not visited) (= (qp q2) (- (qp q) t)))))
