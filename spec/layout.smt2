; spec/layout.smt2 -- the address arithmetic of segments, pages and blocks.
;
; A model of src/layout.h in 64-bit vectors (uintptr_t, size_t, uint64_t
; on x86-64), so wrap-around and shifts mean what they mean in the C.
;
;   segment  [seg, seg + SA_SEGMENT_SIZE), SA_SEGMENT_SIZE-aligned: free finds
;            the segment of a pointer with a mask
;   [seg, seg + SA_SEGMENT_INFO_SIZE)      segment header and page table
;   page i   [seg + (i << shift), seg + ((i + 1) << shift)), except that page
;            0's block area starts at SA_SEGMENT_INFO_SIZE; free finds the
;            page of a pointer with a shift
;   block    offset / block_size inside the page area, computed without a
;            division as (offset * magic) >> SA_BLOCK_INDEX_SHIFT
;
; The obligations (layout_*, block_index, made_start, segmap_high_pointer,
; reserved_bound, aligned_alloc) prove for every input: pages are disjoint,
; inside their segment and clear of its metadata; pointer -> page finds the
; page holding the pointer; the block index, the block-start test and free's
; made-start test are exact for every block size of the size-class table and
; every offset of its segment; an aligned allocation lands inside its
; block. (requires size_class.smt2 before it, for bin_size)

; sa_page_kind_t: SA_PAGE_SMALL, SA_PAGE_MEDIUM, SA_PAGE_LARGE (values from
; layout.h via the driver).
(define-fun page_kind ((kind (_ BitVec 64))) Bool
  (or (= kind SA_PAGE_SMALL) (= kind SA_PAGE_MEDIUM) (= kind SA_PAGE_LARGE)))

; page_kind_for -- _sa_page_kind_for(block_size)
(define-fun page_kind_for ((block_size (_ BitVec 64))) (_ BitVec 64)
  (ite (bvule block_size SA_SMALL_OBJ_SIZE_MAX) SA_PAGE_SMALL
  (ite (bvule block_size SA_MEDIUM_OBJ_SIZE_MAX) SA_PAGE_MEDIUM
       SA_PAGE_LARGE)))

; page_shift -- _sa_page_shift(kind)
(define-fun page_shift ((kind (_ BitVec 64))) (_ BitVec 64)
  (ite (= kind SA_PAGE_SMALL) SA_SMALL_PAGE_SHIFT
  (ite (= kind SA_PAGE_MEDIUM) SA_MEDIUM_PAGE_SHIFT
       SA_LARGE_PAGE_SHIFT)))

; pages_per_segment -- _sa_pages_per_segment(kind)
(define-fun pages_per_segment ((kind (_ BitVec 64))) (_ BitVec 64)
  (bvlshr SA_SEGMENT_SIZE (page_shift kind)))

; page_start -- _sa_page_area_start(kind, index): offset from the segment
; start of page index's block area.
(define-fun page_start ((kind (_ BitVec 64)) (index (_ BitVec 64))) (_ BitVec 64)
  (ite (= index (_ bv0 64)) SA_SEGMENT_INFO_SIZE (bvshl index (page_shift kind))))

; page_area_size -- _sa_page_area_size(kind, index)
(define-fun page_area_size ((kind (_ BitVec 64)) (index (_ BitVec 64))) (_ BitVec 64)
  (bvsub (bvshl (bvadd index (_ bv1 64)) (page_shift kind)) (page_start kind index)))

; layout_kind -- _sa_layout_kind(kind): the fixed layout a segment of the kind
; is carved into (its page table's entries, their purged state, its unit
; table before a page is made). A large segment's entries are its units, a
; small page's layout; a large page is a span of them (below).
(define-fun layout_kind ((kind (_ BitVec 64))) (_ BitVec 64)
  (ite (= kind SA_PAGE_LARGE) SA_PAGE_SMALL kind))

; segment_of -- _sa_segment_of(p): a mask.
(define-fun segment_of ((p (_ BitVec 64))) (_ BitVec 64)
  (bvand p (bvnot SA_SEGMENT_MASK)))

; page_index_of -- _sa_page_index_of(p, kind): a shift.
(define-fun page_index_of ((p (_ BitVec 64)) (kind (_ BitVec 64))) (_ BitVec 64)
  (bvlshr (bvand p SA_SEGMENT_MASK) (page_shift kind)))

; ---- spans: a large page as long as its block (src/segment.c span_alloc) ----
;
; A large segment's span_free has bit u set while unit u is in no page's
; span. A large page for a block of size bs is cut from the first unit u
; where span_fits says a run of span_units(bs, u) free units begins; its
; units' bits are cleared (span_mask) and its block area is span_area_size
; from page_start of unit u. The unit table sends each unit of the span to
; the span's first unit (span_page_of), at or below it (span_head_below).

; unit_of -- the unit of the segment holding p.
(define-fun unit_of ((p (_ BitVec 64))) (_ BitVec 64)
  (bvlshr (bvand p SA_SEGMENT_MASK) SA_SMALL_PAGE_SHIFT))

; span_units -- _sa_span_units(bs, u): units one block takes from unit u
; (unit 0 is shortened by the segment's info).
(define-fun span_units ((bs (_ BitVec 64)) (u (_ BitVec 64))) (_ BitVec 64)
  (bvlshr (bvadd bs (ite (= u (_ bv0 64)) SA_SEGMENT_INFO_SIZE (_ bv0 64)) (bvsub SA_SMALL_PAGE_SIZE one))
          SA_SMALL_PAGE_SHIFT))

; span_area_size -- _sa_span_area_size(u, n): the block area of n units from u.
(define-fun span_area_size ((u (_ BitVec 64)) (n (_ BitVec 64))) (_ BitVec 64)
  (bvsub (bvshl (bvadd u n) SA_SMALL_PAGE_SHIFT) (page_start SA_PAGE_SMALL u)))

; span_mask -- _sa_span_mask(u, n): bits u .. u + n - 1.
(define-fun span_mask ((u (_ BitVec 64)) (n (_ BitVec 64))) (_ BitVec 64)
  (bvshl (bvsub (bvshl one n) one) u))

; span_starts -- _sa_span_starts(free, n): bit u set iff a run of n set bits
; of free begins at u. Six doublings (_sa_span_grow): x holds the starts of
; runs of h set bits; x & (x >> s) those of runs of h + s, for s <= h, and s
; = min(h, n - h) stops at n.
(define-fun span_step ((h (_ BitVec 64)) (n (_ BitVec 64))) (_ BitVec 64)
  (ite (bvult (bvsub n h) h) (bvsub n h) h))
(define-fun span_grow ((x (_ BitVec 64)) (s (_ BitVec 64))) (_ BitVec 64)
  (bvand x (bvlshr x s)))
(define-fun span_starts ((free (_ BitVec 64)) (n (_ BitVec 64))) (_ BitVec 64)
  (let ((x1 (span_grow free (span_step one n))) (h2 (bvadd one (span_step one n))))
  (let ((x2 (span_grow x1 (span_step h2 n))) (h3 (bvadd h2 (span_step h2 n))))
  (let ((x3 (span_grow x2 (span_step h3 n))) (h4 (bvadd h3 (span_step h3 n))))
  (let ((x4 (span_grow x3 (span_step h4 n))) (h5 (bvadd h4 (span_step h4 n))))
  (let ((x5 (span_grow x4 (span_step h5 n))) (h6 (bvadd h5 (span_step h5 n))))
    (span_grow x5 (span_step h6 n))))))))

; span_fits -- _sa_span_fits(free, bs): where a large page for one block of
; bs can begin (at unit 0 it needs the info's worth more).
(define-fun span_fits ((free (_ BitVec 64)) (bs (_ BitVec 64))) (_ BitVec 64)
  (bvor (bvand (span_starts free (span_units bs one)) (bvnot one))
        (bvand (span_starts free (span_units bs (_ bv0 64))) one)))

; span_page_of -- the entry of p's unit while a span of n units from u
; holds it (_sa_segment_span_unit_set), else the carved layout's.
(define-fun span_page_of ((p (_ BitVec 64)) (u (_ BitVec 64)) (n (_ BitVec 64))) (_ BitVec 64)
  (ite (and (bvule u (unit_of p)) (bvult (unit_of p) (bvadd u n))) u (page_index_of p SA_PAGE_SMALL)))

; span_head_below -- the entry a large segment's unit table gives for p is
; a span's first unit at or below p's unit (span_page_of), or p's own.
(define-fun span_head_below ((p (_ BitVec 64)) (u (_ BitVec 64))) Bool
  (bvule u (unit_of p)))

; segmap_unit -- _sa_segmap_unit(p): the segment map's index, the unit of
; p; segmap_in_range -- _sa_segmap_live_unit's compare of it with the map's
; 2^(SA_ADDRESS_BITS - SA_SEGMENT_SHIFT) bytes: a p with bits above
; SA_ADDRESS_BITS (no segment's) is refused before the map is read.
(define-fun segmap_units () (_ BitVec 64) (bvshl one (bvsub SA_ADDRESS_BITS SA_SEGMENT_SHIFT)))
(define-fun segmap_unit ((p (_ BitVec 64))) (_ BitVec 64)
  (bvlshr p SA_SEGMENT_SHIFT))
(define-fun segmap_in_range ((p (_ BitVec 64))) Bool
  (bvult (segmap_unit p) segmap_units))

; segmap_segment -- the segment _sa_segment_of_unit gives for p's unit (its
; headers read once the map says the unit is live).
(define-fun segmap_segment ((p (_ BitVec 64))) (_ BitVec 64)
  (bvshl (segmap_unit p) SA_SEGMENT_SHIFT))

; found_page_start -- the block area start of the page free finds for p:
; that segment's page index_of p (_sa_page_of, page_of_agrees).
(define-fun found_page_start ((p (_ BitVec 64)) (kind (_ BitVec 64))) (_ BitVec 64)
  (bvadd (segmap_segment p) (page_start kind (page_index_of p kind))))

; magic -- _sa_block_magic(block_size) = floor(2^SA_BLOCK_INDEX_SHIFT /
; block_size) + 1 (the ceiling, one more for a power of two, so that magic
; * block_size exceeds 2^SA_BLOCK_INDEX_SHIFT for every size: made_key),
; computed once per page at page_init (the only division), kept shifted left
; by 64 - SA_BLOCK_INDEX_SHIFT: the fraction bits of offset * magic are then
; the whole low word.
(define-fun magic ((block_size (_ BitVec 64))) (_ BitVec 64)
  (bvshl (bvadd (bvudiv (bvshl (_ bv1 64) SA_BLOCK_INDEX_SHIFT) block_size) (_ bv1 64))
         (bvsub (_ bv64 64) SA_BLOCK_INDEX_SHIFT)))

; block_index -- _sa_block_index(offset, magic): offset / block_size without
; dividing, with the unscaled multiplier. (64-bit product, wrapping as in the
; C: the obligation shows it never needs to wrap for an offset inside a page.)
(define-fun block_index ((offset (_ BitVec 64)) (m (_ BitVec 64))) (_ BitVec 64)
  (bvlshr (bvmul offset (bvlshr m (bvsub (_ bv64 64) SA_BLOCK_INDEX_SHIFT))) SA_BLOCK_INDEX_SHIFT))

; block_is_start -- _sa_block_is_start(offset, magic): the fraction bits of
; offset * magic (the low word of the wrapped product) are below magic
; exactly at block starts.
(define-fun block_is_start ((offset (_ BitVec 64)) (m (_ BitVec 64))) Bool
  (bvult (bvmul offset m) m))

; made_key -- _sa_block_made_key(blocks, block_size, magic): the page's key
; for `blocks` blocks made (page->made_key), and block_made_start --
; _sa_block_is_made_start(offset, magic, key): free's one compare, offset
; is the start of one of those blocks. With m = magic, m * block_size wraps
; to e > 0 (the + 1 of magic), block q's start times m wraps to q * e, and
; the key is blocks * e: below it exactly for q < blocks; any other offset of
; the page times m keeps a fraction of at least m, far above any key
; (obligation made_start).
(define-fun made_key ((blocks (_ BitVec 64)) (bs (_ BitVec 64)) (m (_ BitVec 64))) (_ BitVec 64)
  (bvmul blocks (bvmul m bs)))
(define-fun block_made_start ((offset (_ BitVec 64)) (m (_ BitVec 64)) (key (_ BitVec 64))) Bool
  (bvult (bvmul offset m) key))

; align_up -- _sa_align_up(p, alignment), alignment a power of two.
(define-fun align_up ((p (_ BitVec 64)) (alignment (_ BitVec 64))) (_ BitVec 64)
  (bvand (bvadd p (bvsub alignment (_ bv1 64))) (bvnot (bvsub alignment (_ bv1 64)))))

; at_least_one -- max(size, 1): a request of 0 bytes still owns one byte.
(define-fun at_least_one ((size (_ BitVec 64))) (_ BitVec 64)
  (ite (= size (_ bv0 64)) (_ bv1 64) size))

; aligned_request -- _sa_aligned_request(size, alignment): what
; _sa_malloc_aligned asks malloc for, so that aligning the block start up
; still leaves max(size, 1) bytes in the block, so the aligned pointer lies
; inside its own block even for size 0 (obligation aligned_alloc).
(define-fun aligned_request ((size (_ BitVec 64)) (a (_ BitVec 64))) (_ BitVec 64)
  (bvsub (bvadd (at_least_one size) a) SA_MIN_ALIGN))

; The thread_free word (src/types.h SA_TF_*, _sa_tf_block, _sa_tf_count):
; notify in bits 0-1, the list's head block above them, the list's length
; from bit SA_THREAD_FREE_COUNT_SHIFT up. tf_push is the word
; _sa_free_remote's CAS writes: the new head, the new notify, count + 1.
(define-fun tf_count_one () (_ BitVec 64) (bvshl one SA_THREAD_FREE_COUNT_SHIFT))
(define-fun tf_notify_mask () (_ BitVec 64) (_ bv3 64))
(define-fun tf_block_mask () (_ BitVec 64)
  (bvand (bvsub tf_count_one one) (bvnot tf_notify_mask)))
(define-fun tf_block ((w (_ BitVec 64))) (_ BitVec 64) (bvand w tf_block_mask))
(define-fun tf_count ((w (_ BitVec 64))) (_ BitVec 64) (bvlshr w SA_THREAD_FREE_COUNT_SHIFT))
(define-fun tf_notify ((w (_ BitVec 64))) (_ BitVec 64) (bvand w tf_notify_mask))
(define-fun tf_push ((w (_ BitVec 64)) (b (_ BitVec 64)) (nt (_ BitVec 64))) (_ BitVec 64)
  (bvor (bvor b nt) (bvadd (bvand w (bvnot (bvsub tf_count_one one))) tf_count_one)))
; A word as the allocator makes them: a block address (SA_MIN_ALIGN-aligned,
; below 2^SA_ADDRESS_BITS, or 0 for the empty list), a notify state, and a
; count that a page's blocks bound.
(define-fun tf_parts ((b (_ BitVec 64)) (nt (_ BitVec 64)) (c (_ BitVec 64))) Bool
  (and (bvult b (bvshl one SA_ADDRESS_BITS))
       (= (bvand b (bvsub SA_MIN_ALIGN one)) (_ bv0 64))
       (bvule nt (_ bv2 64)) (bvule c SA_MAX_BLOCKS_PER_PAGE)))
(define-fun tf_word ((b (_ BitVec 64)) (nt (_ BitVec 64)) (c (_ BitVec 64))) (_ BitVec 64)
  (bvor (bvor b nt) (bvshl c SA_THREAD_FREE_COUNT_SHIFT)))

; ---- spans: what the obligations state ----
(define-fun bit_set ((x (_ BitVec 64)) (u (_ BitVec 64))) Bool
  (= (bvand (bvlshr x u) one) one))
; units u .. u + n - 1 lie in the segment and are all free
(define-fun run_free ((free (_ BitVec 64)) (u (_ BitVec 64)) (n (_ BitVec 64))) Bool
  (and (bvule (bvadd u n) SA_SMALL_PAGES_PER_SEGMENT) (= (bvand free (span_mask u n)) (span_mask u n))))

(define-fun power_of_two ((a (_ BitVec 64))) Bool
  (and (not (= a (_ bv0 64))) (= (bvand a (bvsub a (_ bv1 64))) (_ bv0 64))))

; ---- what the obligations state ----------------------------------------------------

; Page i of a kind lies inside the segment, clear of the metadata, and is
; not empty.
(define-fun page_inside ((kind (_ BitVec 64)) (i (_ BitVec 64))) Bool
  (and (bvuge (page_start kind i) SA_SEGMENT_INFO_SIZE)
       (bvult (page_start kind i) (bvadd (page_start kind i) (page_area_size kind i)))
       (bvule (bvadd (page_start kind i) (page_area_size kind i)) SA_SEGMENT_SIZE)))

; Pages i and j do not overlap.
(define-fun pages_apart ((kind (_ BitVec 64)) (i (_ BitVec 64)) (j (_ BitVec 64))) Bool
  (or (bvule (bvadd (page_start kind i) (page_area_size kind i)) (page_start kind j))
      (bvule (bvadd (page_start kind j) (page_area_size kind j)) (page_start kind i))))

; Page i (the page found for pointer p) is a page of the segment and holds
; p. (i is a parameter, not a let of page_index_of: Z3 4.8.12 spends 0.2 s
; rewriting that let at definition time.)
(define-fun page_holds ((p (_ BitVec 64)) (kind (_ BitVec 64)) (i (_ BitVec 64))) Bool
  (let ((off (bvand p SA_SEGMENT_MASK)))
    (and (bvult i (pages_per_segment kind))
         (bvule (page_start kind i) off)
         (bvult off (bvadd (page_start kind i) (page_area_size kind i))))))

; Every offset of a page of blocks of size bs, written as q * bs + r with
; r < bs: every offset below the page size N has such a q <= N / bs (the
; division theorem), so stating the facts for every such (q, r) states them
; for every offset. (Measured: Z3 proves this form 10x faster than the
; same fact over the offset, which asks it to invert the multiplication.)
(define-fun offset_of ((q (_ BitVec 64)) (r (_ BitVec 64)) (bs (_ BitVec 64))) (_ BitVec 64)
  (bvadd (bvmul q bs) r))
(define-fun page_offset ((q (_ BitVec 64)) (r (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (and (bvult r bs)
       (bvule q (bvudiv (bvshl (_ bv1 64) (page_shift (page_kind_for bs))) bs))))

; The block index of that offset is q (= offset / bs) and the start test
; says r = 0 (offset % bs == 0): two conjuncts, named so that a
; counterexample says which one failed.
(define-fun index_right ((q (_ BitVec 64)) (r (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (= (block_index (offset_of q r bs) (magic bs)) q))
(define-fun start_right ((q (_ BitVec 64)) (r (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (= (block_is_start (offset_of q r bs) (magic bs)) (= r (_ bv0 64))))
(define-fun index_exact ((q (_ BitVec 64)) (r (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (and (index_right q r bs) (start_right q r bs)))

; free's made-start test with c blocks made (c at most a page's worth): at
; the offset q * bs + r of the page it passes exactly for r = 0 and q < c;
; at a distance up to SA_SEGMENT_INFO_SIZE before the page start (page 0's
; header: the only pointers of a page's segment before its start that find
; it, segmap_high_pointer) it never passes. (q at most a page's worth covers
; that distance: SA_SEGMENT_INFO_SIZE is below every page size: layout_pages_inside.)
(define-fun made_start_forward ((q (_ BitVec 64)) (r (_ BitVec 64)) (c (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (=> (page_offset q r bs)
      (= (block_made_start (offset_of q r bs) (magic bs) (made_key c bs (magic bs)))
         (and (= r (_ bv0 64)) (bvult q c)))))
(define-fun made_start_backward ((q (_ BitVec 64)) (r (_ BitVec 64)) (c (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (=> (and (not (= (offset_of q r bs) (_ bv0 64))) (bvule (offset_of q r bs) SA_SEGMENT_INFO_SIZE))
      (not (block_made_start (bvneg (offset_of q r bs)) (magic bs) (made_key c bs (magic bs))))))
(define-fun made_start_exact ((q (_ BitVec 64)) (r (_ BitVec 64)) (c (_ BitVec 64)) (bs (_ BitVec 64))) Bool
  (and (made_start_forward q r c bs) (made_start_backward q r c bs)))
