;; Batched float32 matrix products for attention, 128-bit SIMD. tfjs's wasm backend runs
;; batched or transposed matMuls in a scalar loop (~1.5 GFLOP/s); these stay on SIMD.
;; All pointers are byte offsets into the imported memory, which on the wasm backend is tfjs's own
;; heap (tensors are read and written in place); matrices are row-major.
(module
  (import "env" "memory" (memory 1))

  ;; C[g] (m x n) = sum_r A[g](i, r) . B[g](r, :), with A's element (i, r) at a_batch*g + a_si*i + a_sr*r:
  ;; (a_si, a_sr) = (k, 1) for A . B and (1, m) for A^T . B. Sixteen columns of a row of C stay in
  ;; four registers for the whole sum over r; C is written, not accumulated into.
  (func (export "bmm_rows") (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $m i32) (param $n i32) (param $k i32)
        (param $a_batch i32) (param $a_si i32) (param $a_sr i32)
    (local $g i32) (local $i i32) (local $j i32) (local $r i32) (local $arow i32) (local $bcol i32) (local $crow i32)
    (local $sv v128) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $s f32) (local $p i32)
    (local.set $g (i32.const 0))
    (block $gend (loop $gloop
      (br_if $gend (i32.ge_u (local.get $g) (local.get $batch)))
      (local.set $i (i32.const 0))
      (block $iend (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $arow (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $g) (local.get $a_batch)) (i32.mul (local.get $i) (local.get $a_si))) (i32.const 2))))
        (local.set $crow (i32.add (local.get $c) (i32.shl (i32.mul (i32.add (i32.mul (local.get $g) (local.get $m)) (local.get $i)) (local.get $n)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $j16end (loop $j16loop
          (br_if $j16end (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
          (local.set $acc0 (v128.const f32x4 0 0 0 0))
          (local.set $acc1 (v128.const f32x4 0 0 0 0))
          (local.set $acc2 (v128.const f32x4 0 0 0 0))
          (local.set $acc3 (v128.const f32x4 0 0 0 0))
          (local.set $bcol (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (i32.mul (local.get $g) (local.get $k)) (local.get $n)) (local.get $j)) (i32.const 2))))
          (local.set $r (i32.const 0))
          (block $rend (loop $rloop
            (br_if $rend (i32.ge_u (local.get $r) (local.get $k)))
            (local.set $sv (f32x4.splat (f32.load (i32.add (local.get $arow) (i32.shl (i32.mul (local.get $r) (local.get $a_sr)) (i32.const 2))))))
            (local.set $p (i32.add (local.get $bcol) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $sv) (v128.load (local.get $p)))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $sv) (v128.load offset=16 (local.get $p)))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $sv) (v128.load offset=32 (local.get $p)))))
            (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $sv) (v128.load offset=48 (local.get $p)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rloop)))
          (local.set $p (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store (local.get $p) (local.get $acc0))
          (v128.store offset=16 (local.get $p) (local.get $acc1))
          (v128.store offset=32 (local.get $p) (local.get $acc2))
          (v128.store offset=48 (local.get $p) (local.get $acc3))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $j16loop)))
        (block $j4end (loop $j4loop
          (br_if $j4end (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
          (local.set $acc0 (v128.const f32x4 0 0 0 0))
          (local.set $bcol (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (i32.mul (local.get $g) (local.get $k)) (local.get $n)) (local.get $j)) (i32.const 2))))
          (local.set $r (i32.const 0))
          (block $r4end (loop $r4loop
            (br_if $r4end (i32.ge_u (local.get $r) (local.get $k)))
            (local.set $sv (f32x4.splat (f32.load (i32.add (local.get $arow) (i32.shl (i32.mul (local.get $r) (local.get $a_sr)) (i32.const 2))))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $bcol) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2)))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r4loop)))
          (v128.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc0))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $j4loop)))
        (block $j1end (loop $j1loop
          (br_if $j1end (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $s (f32.const 0))
          (local.set $bcol (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (i32.mul (local.get $g) (local.get $k)) (local.get $n)) (local.get $j)) (i32.const 2))))
          (local.set $r (i32.const 0))
          (block $r1end (loop $r1loop
            (br_if $r1end (i32.ge_u (local.get $r) (local.get $k)))
            (local.set $s (f32.add (local.get $s) (f32.mul
              (f32.load (i32.add (local.get $arow) (i32.shl (i32.mul (local.get $r) (local.get $a_sr)) (i32.const 2))))
              (f32.load (i32.add (local.get $bcol) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2)))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r1loop)))
          (f32.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j1loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $gloop))))
)
