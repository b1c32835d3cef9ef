; spec/size_class.smt2 -- the size-class map: request size -> bin -> block size.
;
; A model of src/size_class.h in 64-bit vectors, the width of size_t, so
; every shift, add and mask means what it means in the C.
;
;   bins 1 .. SA_LINEAR_BINS       block = bin * SA_MIN_ALIGN     (16, 32, ..., 128)
;   bins above                     SA_CLASS_STEPS classes per power of two:
;                                  for a size in (2^b, 2^(b+1)], with w = size - 1,
;                                  i = (w >> (b - 3)) & 7:  block = (9 + i) << (b - 3)
;
; One count-leading-zeros, shifts and adds: no loop, no division, no table.
; The obligations (proofs/obligations.c, size_class_*) prove for EVERY size
; in [1, SA_LARGE_OBJ_SIZE_MAX]: the map is total, monotone, gives a block at
; least as big as the request, a multiple of SA_MIN_ALIGN, with bounded
; waste, and the smallest class that fits; and the driver checks these
; definitions agree with the C functions for every size.
;
; Constants come from src/config.h via proofs/constants.c, as (_ BitVec 64).

(define-fun bv ((x Int)) (_ BitVec 64) ((_ int2bv 64) x))
(define-fun one () (_ BitVec 64) (_ bv1 64))

; floor(log2 w) for w > 0: the C's 63 - __builtin_clzll(w), by binary search
; over the bit positions (6 halvings of 64 bits).
(define-fun log2_floor ((w (_ BitVec 64))) (_ BitVec 64)
  (let ((a (ite (bvuge w #x0000000100000000) (_ bv32 64) (_ bv0 64))))
  (let ((w1 (bvlshr w a)))
  (let ((b (ite (bvuge w1 #x0000000000010000) (_ bv16 64) (_ bv0 64))))
  (let ((w2 (bvlshr w1 b)))
  (let ((c (ite (bvuge w2 #x0000000000000100) (_ bv8 64) (_ bv0 64))))
  (let ((w3 (bvlshr w2 c)))
  (let ((d (ite (bvuge w3 #x0000000000000010) (_ bv4 64) (_ bv0 64))))
  (let ((w4 (bvlshr w3 d)))
  (let ((e (ite (bvuge w4 #x0000000000000004) (_ bv2 64) (_ bv0 64))))
  (let ((w5 (bvlshr w4 e)))
  (let ((f (ite (bvuge w5 #x0000000000000002) (_ bv1 64) (_ bv0 64))))
    (bvadd a b c d e f)))))))))))))

; bin_of -- _sa_bin(size), for 1 <= size <= SA_LARGE_OBJ_SIZE_MAX
; (size 0 is served as size 1).
(define-fun bin_of ((size (_ BitVec 64))) (_ BitVec 64)
  (ite (bvule size SA_LINEAR_CLASS_MAX)
       (bvlshr (bvadd size (bvsub SA_MIN_ALIGN one) (ite (= size (_ bv0 64)) one (_ bv0 64)))
               SA_MIN_ALIGN_SHIFT)
       (let ((w (bvsub size one)))
       (let ((b (log2_floor w)))
         (bvadd SA_LINEAR_BINS one
                (bvshl (bvsub b SA_LINEAR_CLASS_MAX_SHIFT) SA_CLASS_STEPS_SHIFT)
                (bvand (bvlshr w (bvsub b SA_CLASS_STEPS_SHIFT)) (bvsub SA_CLASS_STEPS one)))))))

; bin_size -- _sa_bin_size(bin), for 1 <= bin <= SA_BIN_LARGE_MAX.
(define-fun bin_size ((bin (_ BitVec 64))) (_ BitVec 64)
  (ite (bvule bin SA_LINEAR_BINS)
       (bvshl bin SA_MIN_ALIGN_SHIFT)
       (let ((k (bvsub bin (bvadd SA_LINEAR_BINS one))))
       (let ((b (bvadd SA_LINEAR_CLASS_MAX_SHIFT (bvlshr k SA_CLASS_STEPS_SHIFT)))
             (i (bvand k (bvsub SA_CLASS_STEPS one))))
         (bvshl (bvadd SA_CLASS_STEPS one i) (bvsub b SA_CLASS_STEPS_SHIFT))))))

; The block a request of `size` bytes gets.
(define-fun block_of ((size (_ BitVec 64))) (_ BitVec 64) (bin_size (bin_of size)))

; A size the page allocator serves.
(define-fun small_request ((size (_ BitVec 64))) Bool
  (and (bvuge size one) (bvule size SA_LARGE_OBJ_SIZE_MAX)))

; A bin the page allocator uses.
(define-fun page_bin ((bin (_ BitVec 64))) Bool
  (and (bvuge bin one) (bvule bin SA_BIN_LARGE_MAX)))

; Waste: below SA_LINEAR_CLASS_MAX a block wastes less than SA_MIN_ALIGN
; bytes; above it, less than 1/SA_CLASS_STEPS of the block (12.5%). (A 12.5%
; bound cannot hold for small sizes with 16-byte steps: 65 -> 80 wastes 15.)
(define-fun waste_ok ((size (_ BitVec 64)) (block (_ BitVec 64))) Bool
  (ite (bvule block SA_LINEAR_CLASS_MAX)
       (bvult (bvsub block size) SA_MIN_ALIGN)
       (bvult (bvshl (bvsub block size) SA_CLASS_STEPS_SHIFT) block)))
