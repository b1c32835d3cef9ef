; spec/page.smt2 -- the state machine of one shardalloc page.
;
; A page holds `reserved` blocks of one size, numbered 0 .. reserved-1 by
; address inside the page's block area (docs/state-machine.md). Every block is
; in exactly one *location*:
;
;   FREE    on the list page->free        malloc pops its head
;   LOCAL   on page->local_free           freed by the owning thread
;   THREAD  on the atomic page->thread_free  freed by another thread
;   LIVE    on no list                    handed out to the program, or kept
;                                         in one thread's remote cache
;   UNMADE  index >= capacity             fits, never threaded onto a list
;   TAKEN   (only inside _sa_page_collect) taken from thread_free by the
;           atomic exchange, not yet appended to free
;
; How the model represents a page (the encoding; see docs/verification.md
; for why it is sound for every block count):
;
;   loc[b]          the location of block b: a total map, so "every block is
;                   in exactly one location" holds by construction, and the
;                   five locations partition [0, reserved).
;   cnt[L]          how many blocks are in location L (a ghost integer).
;   seq[L][i]       for 0 <= i < cnt[L]: the i-th block of L. For a list this is
;                   the list read from its TAIL: seq[L][cnt[L]-1] is the head
;                   (page->free etc.), seq[L][0] the last node. Push and pop
;                   then touch one slot, as in the C.
;   pos[b]          where block b sits in the sequence of its location.
;
; The invariant says seq[L] and pos are inverse bijections between
; [0, cnt[L]) and { b | loc[b] = L }. So cnt[L] IS the number of blocks in L
; (a bijection with an interval), without ever counting: the counting facts
; (used = |LIVE| + |THREAD|, the locations add up to capacity) are ordinary
; linear arithmetic over cnt, proven inductive transition by transition.
;
; Each transition is a named define-fun over (before-state s, after-state t,
; arguments), so the trace replay can instantiate it with concrete states.
; The C function each one models is named in its comment; the C carries
; `/* spec: page.smt2 <name> */` back here.
;
; Constants (SA_MAX_EXTEND_SIZE, ...) are not written here: proofs/constants.c
; generates them from src/config.h and prepends them.

; ---- vocabulary ----------------------------------------------------------------

(declare-datatypes ((Loc 0)) (((FREE) (LOCAL) (THREAD) (LIVE) (UNMADE) (TAKEN))))

; The low 2 bits of the thread_free word (changed only together with the list,
; by one CAS or exchange). NOTIFY_WATCH: the page is in the owner's full queue
; and the next remote free must tell the owner; NOTIFY_QUEUED: a remote free
; did tell it (the page is on the owner heap's remote_pages stack).
(declare-datatypes ((Notify 0)) (((NOTIFY_NONE) (NOTIFY_WATCH) (NOTIFY_QUEUED))))

; sa_page_t (src/types.h), abstracted: lists become loc/seq/pos/cnt.
;   owned: page->heap != NULL (false once abandoned, until reclaimed).
(declare-datatypes ((Page 0))
  (((mk_page (reserved Int) (capacity Int) (used Int) (block_size Int)
             (loc (Array Int Loc)) (pos (Array Int Int))
             (seq (Array Loc (Array Int Int))) (cnt (Array Loc Int))
             (in_full Bool) (notify Notify) (owned Bool)))))

(define-fun n ((s Page) (l Loc)) Int (select (cnt s) l))
(define-fun at ((s Page) (l Loc) (i Int)) Int (select (select (seq s) l) i))
(define-fun loc_of ((s Page) (b Int)) Loc (select (loc s) b))
(define-fun pos_of ((s Page) (b Int)) Int (select (pos s) b))
(define-fun in_page ((s Page) (b Int)) Bool (and (<= 0 b) (< b (reserved s))))
; the locations that have a sequence (UNMADE is the interval [capacity, reserved))
(define-fun listed ((l Loc)) Bool (not (= l UNMADE)))
; the head of a list (meaningful when the list is non-empty)
(define-fun head ((s Page) (l Loc)) Int (at s l (- (n s l) 1)))

; ---- the invariant (_sa_page_check in debug builds) -----------------------------
;
; Split into a per-block part, a per-slot part and a scalar part so that the
; proof driver can also instantiate it on a finite page (block by block,
; quantifier-free) when it looks for counterexamples. Each scalar conjunct is
; a define-fun of its own: _sa_page_check names its asserts after them.

; Block b: unmade exactly from capacity on; a made block sits in its
; location's sequence at pos[b].
(define-fun inv_block ((s Page) (b Int)) Bool
  (=> (in_page s b)
      (and (= (= (loc_of s b) UNMADE) (>= b (capacity s)))
           (=> (listed (loc_of s b))
               (and (<= 0 (pos_of s b)) (< (pos_of s b) (n s (loc_of s b)))
                    (= (at s (loc_of s b) (pos_of s b)) b))))))

; Slot i of location l's sequence holds a block of the page, in location l,
; whose pos points back here: no list holds a block twice or a foreign block.
(define-fun inv_slot ((s Page) (l Loc) (i Int)) Bool
  (=> (and (listed l) (<= 0 i) (< i (n s l)))
      (and (in_page s (at s l i))
           (= (loc_of s (at s l i)) l)
           (= (pos_of s (at s l i)) i))))

; Counters. The block size is positive; capacity <= reserved; the made blocks
; are exactly those in the five made locations; used = |LIVE| + |THREAD|
; (+ |TAKEN| while a collect is between its exchange and its append).
(define-fun block_size_positive ((s Page)) Bool
  (> (block_size s) 0))
(define-fun capacity_within_reserved ((s Page)) Bool
  (and (<= 0 (capacity s)) (<= (capacity s) (reserved s))))
(define-fun made_add_up ((s Page)) Bool
  (and (>= (n s FREE) 0) (>= (n s LOCAL) 0) (>= (n s THREAD) 0)
       (>= (n s LIVE) 0) (>= (n s TAKEN) 0)
       (= (+ (n s FREE) (n s LOCAL) (n s THREAD) (n s LIVE) (n s TAKEN)) (capacity s))))
(define-fun used_live_thread ((s Page)) Bool
  (= (used s) (+ (n s LIVE) (n s THREAD) (n s TAKEN))))
(define-fun inv_counts ((s Page)) Bool
  (and (block_size_positive s) (capacity_within_reserved s)
       (made_add_up s) (used_live_thread s)))

; Flags. A page in the full queue has been announced (WATCH) or has told its
; owner (QUEUED); while it WATCHes no remote free has arrived (a remote free
; to a full page always tells the owner: a full page with pending frees is
; never forgotten). An abandoned page is in no full queue, so nothing
; WATCHes it.
(define-fun full_notifies ((s Page)) Bool
  (=> (in_full s) (not (= (notify s) NOTIFY_NONE))))
(define-fun watch_full_quiet ((s Page)) Bool
  (=> (= (notify s) NOTIFY_WATCH) (and (in_full s) (= (n s THREAD) 0))))
(define-fun unowned_not_full ((s Page)) Bool
  (=> (not (owned s)) (not (in_full s))))
(define-fun inv_flags ((s Page)) Bool
  (and (full_notifies s) (watch_full_quiet s) (unowned_not_full s)))

; The invariant as it holds between transitions, and (inv_core) as it holds
; also in the middle of a collect, between the exchange and the append.
(define-fun inv_core ((s Page)) Bool
  (and (inv_counts s) (inv_flags s)
       (forall ((b Int)) (inv_block s b))
       (forall ((l Loc) (i Int)) (inv_slot s l i))))
; TAKEN exists only inside _sa_page_collect, between its exchange and its append.
(define-fun nothing_taken ((s Page)) Bool
  (= (n s TAKEN) 0))
(define-fun inv ((s Page)) Bool
  (and (inv_core s) (nothing_taken s)))

; A full page, and an abandoned one, hold no local frees: to_full declines
; while local_free is non-empty, abandon empties it, reclaim adopts only
; pages abandon emptied, and a local free into a full page takes it back
; first (unfull, then free_local). sa_free's fast path relies on it: it tests
; local_free non-empty, which then also says "not full". Kept apart from inv
; (obligation full_no_local proves it inductive over every transition on its
; own): inside inv it made Z3 lose its way in race_linearizes_lists.
(define-fun full_no_local ((s Page)) Bool
  (and (=> (in_full s) (= (n s LOCAL) 0))
       (=> (not (owned s)) (= (n s LOCAL) 0))))

; ---- transitions ---------------------------------------------------------------

; page_init -- _sa_page_init: a fresh page of `area` bytes gets its block
; size; every block UNMADE, nothing made, nothing used, owned by the heap that
; took it, in its size-class queue.
(define-fun page_init ((t Page) (bsize Int) (area Int)) Bool
  (and (> bsize 0) (>= area 0)
       (= t (mk_page (div area bsize) 0 0 bsize
                     ((as const (Array Int Loc)) UNMADE)
                     (pos t) (seq t)
                     ((as const (Array Loc Int)) 0)
                     false NOTIFY_NONE true))))

; alloc_pop -- sa_malloc's fast path, page_pop in src/alloc.c: pop the head of
; `free`; it becomes LIVE and used grows by one. Returns the block in b.
(define-fun alloc_pop ((s Page) (t Page) (b Int)) Bool
  (and (owned s) (> (n s FREE) 0)
       (= b (head s FREE))
       (= t (mk_page (reserved s) (capacity s) (+ (used s) 1) (block_size s)
                     (store (loc s) b LIVE)
                     (store (pos s) b (n s LIVE))
                     (store (seq s) LIVE (store (select (seq s) LIVE) (n s LIVE) b))
                     (store (store (cnt s) FREE (- (n s FREE) 1)) LIVE (+ (n s LIVE) 1))
                     (in_full s) (notify s) (owned s)))))

; How many blocks one extend makes: SA_MAX_EXTEND_SIZE bytes' worth, at least
; one, at most what is left (_sa_page_extend). (No `let` in the transitions:
; Z3 4.8.12 takes seconds to define a let-bound term used in an unrolled
; conjunction; helper functions with parameters cost nothing.)
(define-fun at_least_one ((k Int)) Int (ite (< k 1) 1 k))
(define-fun min_int ((a Int) (b Int)) Int (ite (< a b) a b))
(define-fun extend_count ((s Page)) Int
  (min_int (- (reserved s) (capacity s)) (at_least_one (div SA_MAX_EXTEND_SIZE (block_size s)))))

; extend -- _sa_page_extend: when `free` is empty and unmade blocks remain,
; thread blocks capacity .. capacity+k-1 onto `free` in address order (block
; `capacity` becomes the head) and raise capacity by k.
(define-fun made_now ((s Page) (k Int) (b Int)) Bool
  (and (<= (capacity s) b) (< b (+ (capacity s) k))))
(define-fun extend_block ((s Page) (t Page) (k Int) (b Int)) Bool
  (and (= (loc_of t b) (ite (made_now s k b) FREE (loc_of s b)))
       (= (pos_of t b) (ite (made_now s k b) (- (+ (capacity s) k -1) b) (pos_of s b)))))
(define-fun extend_slot ((s Page) (t Page) (k Int) (i Int)) Bool
  (=> (and (<= 0 i) (< i k))
      (= (at t FREE i) (- (+ (capacity s) k -1) i))))
(define-fun extend_by ((s Page) (t Page) (k Int)) Bool
  (and (owned s) (= (n s FREE) 0) (< (capacity s) (reserved s))
       (= (reserved t) (reserved s)) (= (block_size t) (block_size s))
       (= (capacity t) (+ (capacity s) k))
       (= (used t) (used s))
       (= (cnt t) (store (cnt s) FREE k))
       (= (seq t) (store (seq s) FREE (select (seq t) FREE)))
       (= (in_full t) (in_full s)) (= (notify t) (notify s)) (= (owned t) (owned s))
       (forall ((b Int)) (extend_block s t k b))
       (forall ((i Int)) (extend_slot s t k i))))
; (k is named as the new free count, a plain term: substituting the ite of
; extend_count into every unrolled conjunct makes Z3 4.8.12 crawl.)
(define-fun extend ((s Page) (t Page)) Bool
  (and (= (n t FREE) (extend_count s))
       (extend_by s t (n t FREE))))

; Remove block b from the LIVE set: the last LIVE slot moves into b's slot
; (LIVE is a set, its order is bookkeeping only). Gives the new seq[LIVE]
; and the pos map before b's own new position is written.
(define-fun live_seq_without ((s Page) (b Int)) (Array Int Int)
  (store (select (seq s) LIVE) (pos_of s b) (head s LIVE)))
(define-fun live_pos_without ((s Page) (b Int)) (Array Int Int)
  (store (pos s) (head s LIVE) (pos_of s b)))

; LIVE -> l for block b, pushed on the head of list l (a free).
(define-fun free_to ((s Page) (t Page) (b Int) (l Loc) (used_t Int) (notify_t Notify)) Bool
  (and (in_page s b) (= (loc_of s b) LIVE)
       (= t (mk_page (reserved s) (capacity s) used_t (block_size s)
                     (store (loc s) b l)
                     (store (live_pos_without s b) b (n s l))
                     (store (store (seq s) LIVE (live_seq_without s b))
                            l (store (select (seq s) l) (n s l) b))
                     (store (store (cnt s) LIVE (- (n s LIVE) 1)) l (+ (n s l) 1))
                     (in_full s) notify_t (owned s)))))

; free_local -- _sa_free_local: the owner frees a LIVE block: push it on
; local_free; used shrinks. (A page in the full queue is taken back first:
; unfull, then free_local.)
(define-fun free_local ((s Page) (t Page) (b Int)) Bool
  (and (owned s) (not (in_full s))
       (free_to s t b LOCAL (- (used s) 1) (notify s))))

; free_lifo -- sa_free's fast path (free.c free_lifo_push): the owner frees a
; LIVE block straight onto `free`, whose head it becomes: the next malloc of
; the class hands it out again while the program's last touch of it is in
; the cache. used shrinks. The same guard as free_local; how often it may run
; between two generic calls (SA_LIFO_FREES_MAX) is bounds.smt2's `cadence`,
; not a page fact.
(define-fun free_lifo ((s Page) (t Page) (b Int)) Bool
  (and (owned s) (not (in_full s)) (free_to s t b FREE (- (used s) 1) (notify s))))

; free_remote -- _sa_free_remote (free_remote_push): another thread (or
; anyone, once the page is abandoned) frees a LIVE block: one CAS pushes it on
; thread_free; used is untouched (collect subtracts). If the page WATCHes, the
; same CAS sets QUEUED (and the page is then pushed on owner->remote_pages).
; A freeing thread with a heap may first keep the block, claimed (canary
; set), in its remote cache (src/free.c remote_cache_keep): no transition of
; the page. The block stays LIVE -- no list of the page holds it, used counts
; it -- until that thread's malloc hands it out again (LIVE still: no
; transition either) or the thread gives its cache back
; (_sa_remote_cache_flush, at its exit and sa_collect): then this
; transition, by whichever thread owns the page by then, if any. A block that
; thread handed out from its cache is not kept again when it frees it (the
; claim reads the hand-out mark page_pop left: free.c remote_cache_may_keep):
; this transition at once. Keep or push is the implementation's choice; the
; model allows both, so the choice needs no obligation of its own. A LIVE block
; is thus held by the program or by exactly one remote cache, never both (the
; claim's exchange lets one of two racing frees through), and inv is
; untouched. tests/refine checks that a kept free changes nothing and its
; flush is this transition; tests/interleave's remote_cache_exit, the flush
; at thread exit against the owner's collect and to_full.
(define-fun free_remote ((s Page) (t Page) (b Int)) Bool
  (free_to s t b THREAD (used s)
           (ite (= (notify s) NOTIFY_WATCH) NOTIFY_QUEUED (notify s))))

; Put the whole lists a and c in front of `free`, as _sa_page_collect does:
; the taken thread_free list goes in front of free (its tail linked to the
; old head: no walk when free is empty, as on the generic path), then
; local_free in front of that (its tail is page->local_tail). Read from the
; head the new free is c, a, old free; from the tail (our seq order) old
; free, a, c. Blocks of a and c become FREE; a and c are left empty.
(define-fun gather_block ((s Page) (t Page) (a Loc) (c Loc) (b Int)) Bool
  (and (= (loc_of t b) (ite (or (= (loc_of s b) a) (= (loc_of s b) c)) FREE (loc_of s b)))
       (= (pos_of t b) (ite (= (loc_of s b) a) (+ (n s FREE) (pos_of s b))
                       (ite (= (loc_of s b) c) (+ (n s FREE) (n s a) (pos_of s b))
                            (pos_of s b))))))
(define-fun gather_slot ((s Page) (t Page) (a Loc) (c Loc) (i Int)) Bool
  (= (at t FREE i)
     (ite (< i (n s FREE)) (at s FREE i)
     (ite (< i (+ (n s FREE) (n s a))) (at s a (- i (n s FREE)))
          (at s c (- i (n s FREE) (n s a)))))))
(define-fun gather ((s Page) (t Page) (a Loc) (c Loc) (used_t Int)) Bool
  (and (= (reserved t) (reserved s)) (= (block_size t) (block_size s))
       (= (capacity t) (capacity s)) (= (used t) used_t)
       (= (cnt t) (store (store (store (cnt s) a 0) c 0)
                         FREE (+ (n s FREE) (n s a) (n s c))))
       (= (seq t) (store (seq s) FREE (select (seq t) FREE)))
       (forall ((b Int)) (gather_block s t a c b))
       (forall ((i Int)) (gather_slot s t a c i))))

; collect -- _sa_page_collect, as one atomic step: one CAS takes all of
; thread_free (notify bits kept) and its length (the count packed in the
; same word), the list goes in front of `free` and used drops by that count;
; then local_free goes in front of that.
(define-fun collect ((s Page) (t Page)) Bool
  (and (owned s) (= (n s TAKEN) 0)
       (gather s t THREAD LOCAL (- (used s) (n s THREAD)))
       (= (in_full t) (in_full s)) (= (notify t) (notify s)) (= (owned t) (owned s))))

; The same collect as the code orders it against concurrent remote frees.
; collect_take -- the successful CAS in _sa_page_collect (thread_free ->
; empty, notify bits kept), its linearization point: thread_free is taken
; whole (THREAD -> TAKEN, same order, same positions).
(define-fun collect_take_block ((s Page) (t Page) (b Int)) Bool
  (= (loc_of t b) (ite (= (loc_of s b) THREAD) TAKEN (loc_of s b))))
(define-fun collect_take ((s Page) (t Page)) Bool
  (and (owned s) (= (n s TAKEN) 0)
       (= t (mk_page (reserved s) (capacity s) (used s) (block_size s)
                     (loc t) (pos s)
                     (store (seq s) TAKEN (select (seq s) THREAD))
                     (store (store (cnt s) TAKEN (n s THREAD)) THREAD 0)
                     (in_full s) (notify s) (owned s)))
       (forall ((b Int)) (collect_take_block s t b))))
; collect_finish -- the rest of _sa_page_collect, after any number of remote
; frees (free_remote) landed on the fresh thread_free: the taken blocks and
; local_free join `free`, used drops by the count taken.
(define-fun collect_finish ((s Page) (t Page)) Bool
  (and (owned s)
       (gather s t TAKEN LOCAL (- (used s) (n s TAKEN)))
       (= (in_full t) (in_full s)) (= (notify t) (notify s)) (= (owned t) (owned s))))

;
; order_free -- _sa_page_collect's last part (page.c free_order): `free` is
; relinked in another order (address order in the C), a permutation of
; itself: the same blocks, all still FREE, at new positions that the new
; sequence maps back (so no block is dropped or listed twice); every other
; block keeps its location and position, counters and flags are unchanged.
; Only the owner relinks its lists. The C first walks `free` itself
; (free_order_walk: its runs going down reversed in place, a relinking of
; the list's own blocks); if that left it out of order, it finds the FREE
; blocks by their canaries and relinks only if it found exactly n(FREE) of
; them: every FREE block carries its canary, so then no other block did
; (page.c says why that is enough; tests/api order.c plants a LIVE block
; carrying it). Each of the two is one order_free.
(define-fun order_block ((s Page) (t Page) (b Int)) Bool
  (and (= (loc_of t b) (loc_of s b))
       (ite (and (in_page s b) (= (loc_of s b) FREE))
            (and (<= 0 (pos_of t b)) (< (pos_of t b) (n s FREE)) (= (at t FREE (pos_of t b)) b))
            (= (pos_of t b) (pos_of s b)))))
(define-fun order_slot ((s Page) (t Page) (i Int)) Bool
  (=> (and (<= 0 i) (< i (n s FREE)))
      (and (in_page s (at t FREE i)) (= (loc_of s (at t FREE i)) FREE)
           (= (pos_of t (at t FREE i)) i))))
(define-fun order_free ((s Page) (t Page)) Bool
  (and (owned s) (= (n s TAKEN) 0)
       (= (reserved t) (reserved s)) (= (block_size t) (block_size s))
       (= (capacity t) (capacity s)) (= (used t) (used s))
       (= (cnt t) (cnt s))
       (= (seq t) (store (seq s) FREE (select (seq t) FREE)))
       (= (in_full t) (in_full s)) (= (notify t) (notify s)) (= (owned t) (owned s))
       (forall ((b Int)) (order_block s t b))
       (forall ((i Int)) (order_slot s t i))))

; to_full -- _sa_page_to_full: an exhausted page (nothing free, nothing left
; to make, no pending remote frees) leaves its size-class queue for the full
; queue, and the CAS NONE -> WATCH asks the next remote free to tell the
; owner. (If that CAS fails a remote free arrived: the page stays, no retry.)
; The C also declines while local_free is non-empty (a collect will do).
(define-fun to_full ((s Page) (t Page)) Bool
  (and (owned s) (not (in_full s)) (= (n s FREE) 0) (= (n s LOCAL) 0)
       (= (capacity s) (reserved s))
       (= (n s THREAD) 0) (= (notify s) NOTIFY_NONE)
       (= t (mk_page (reserved s) (capacity s) (used s) (block_size s)
                     (loc s) (pos s) (seq s) (cnt s)
                     true NOTIFY_WATCH (owned s)))))

; unfull -- _sa_page_unfull(heap, page, popped): the owner takes a page back
; from the full queue (after a local free: popped = false), or takes it off
; its remote_pages stack (popped = true, the page may already be out of the
; full queue). notify goes back to NONE, except that QUEUED stays until the
; page is popped: a QUEUED page is on the stack and must not be pushed twice.
; The notify half also runs on an abandoned QUEUED page popped from a dead
; heap's stack (forward_queued_locked in src/segment.c: nobody to tell).
(define-fun unfull ((s Page) (t Page) (popped Bool)) Bool
  (and (or (owned s) popped) (or (in_full s) popped)
       (= t (mk_page (reserved s) (capacity s) (used s) (block_size s)
                     (loc s) (pos s) (seq s) (cnt s)
                     false
                     (ite (and (= (notify s) NOTIFY_QUEUED) (not popped)) NOTIFY_QUEUED NOTIFY_NONE)
                     (owned s)))))

; retire -- _sa_page_retire: an owned page with nothing used, in no full
; queue, returns to its segment: all its blocks are UNMADE again.
(define-fun retire ((s Page) (t Page)) Bool
  (and (owned s) (= (used s) 0) (not (in_full s)) (= (notify s) NOTIFY_NONE)
       (= (n s TAKEN) 0)
       (= t (mk_page (reserved s) 0 0 (block_size s)
                     ((as const (Array Int Loc)) UNMADE) (pos s) (seq s)
                     ((as const (Array Loc Int)) 0)
                     false NOTIFY_NONE (owned s)))))

; Append local_free to free (abandon's collect of the local list).
(define-fun gather_local_block ((s Page) (t Page) (b Int)) Bool
  (and (= (loc_of t b) (ite (= (loc_of s b) LOCAL) FREE (loc_of s b)))
       (= (pos_of t b) (ite (= (loc_of s b) LOCAL) (+ (n s FREE) (pos_of s b)) (pos_of s b)))))
(define-fun gather_local_slot ((s Page) (t Page) (i Int)) Bool
  (= (at t FREE i) (ite (< i (n s FREE)) (at s FREE i) (at s LOCAL (- i (n s FREE))))))

; abandon -- _sa_page_abandon: the owner thread exits: local_free joins free,
; the page has no owner, leaves the full queue, and WATCH is withdrawn
; (QUEUED stays: the page may still sit on the dead heap's remote_pages).
(define-fun abandon ((s Page) (t Page)) Bool
  (and (owned s) (= (n s TAKEN) 0)
       (= (reserved t) (reserved s)) (= (block_size t) (block_size s))
       (= (capacity t) (capacity s)) (= (used t) (used s))
       (= (cnt t) (store (store (cnt s) LOCAL 0) FREE (+ (n s FREE) (n s LOCAL))))
       (= (seq t) (store (seq s) FREE (select (seq t) FREE)))
       (not (in_full t)) (not (owned t))
       (= (notify t) (ite (= (notify s) NOTIFY_WATCH) NOTIFY_NONE (notify s)))
       (forall ((b Int)) (gather_local_block s t b))
       (forall ((i Int)) (gather_local_slot s t i))))

; reclaim -- _sa_page_reclaim: another heap adopts an abandoned page (no
; collect at adoption): into its size-class queue, or, if a remote free has
; QUEUED it (its notification is on the way), into the full queue to wait.
(define-fun reclaim ((s Page) (t Page)) Bool
  (and (not (owned s))
       (= t (mk_page (reserved s) (capacity s) (used s) (block_size s)
                     (loc s) (pos s) (seq s) (cnt s)
                     (= (notify s) NOTIFY_QUEUED) (notify s) true))))

; ---- observing a page ----------------------------------------------------------

; page_equiv -- two pages a program cannot tell apart: same counters and
; flags, every block in the same location, and the three real lists
; (free, local_free, thread_free) in the same order. The LIVE and TAKEN
; sequences are bookkeeping of the model and are not compared. The trace
; replay checks a recorded step as (T before after_model args) and
; (page_equiv after_model after_recorded).
(define-fun page_equiv_block ((s Page) (t Page) (b Int)) Bool
  (=> (in_page s b) (= (loc_of s b) (loc_of t b))))
(define-fun page_equiv_slot ((s Page) (t Page) (l Loc) (i Int)) Bool
  (=> (and (or (= l FREE) (= l LOCAL) (= l THREAD)) (<= 0 i) (< i (n s l)))
      (= (at s l i) (at t l i))))
(define-fun page_equiv_scalars ((s Page) (t Page)) Bool
  (and (= (reserved s) (reserved t)) (= (capacity s) (capacity t))
       (= (used s) (used t)) (= (block_size s) (block_size t))
       (= (in_full s) (in_full t)) (= (notify s) (notify t)) (= (owned s) (owned t))
       (= (n s FREE) (n t FREE)) (= (n s LOCAL) (n t LOCAL)) (= (n s THREAD) (n t THREAD))
       (= (n s LIVE) (n t LIVE)) (= (n s TAKEN) (n t TAKEN))))
(define-fun page_equiv ((s Page) (t Page)) Bool
  (and (page_equiv_scalars s t)
       (forall ((b Int)) (page_equiv_block s t b))
       (forall ((l Loc) (i Int)) (page_equiv_slot s t l i))))

; Any transition of a page (page_init aside: it makes a page afresh).
(define-fun page_step ((s Page) (t Page) (b Int) (popped Bool)) Bool
  (or (alloc_pop s t b) (extend s t) (free_local s t b) (free_lifo s t b) (free_remote s t b)
      (collect s t) (collect_take s t) (collect_finish s t) (order_free s t) (to_full s t)
      (unfull s t popped) (retire s t) (abandon s t) (reclaim s t)))
