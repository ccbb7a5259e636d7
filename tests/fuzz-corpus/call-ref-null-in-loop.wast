;; Regression (issue 10): the loads of a funcref's code and vmctx pointers had `can_move`, so
;; Cranelift hoisted them above the null check and out of the loop; with a null reference
;; that never changes in the loop the hoisted load read address 0 outside any trap site and
;; the process died, even when the call itself never ran.
(module
  (type $t (func (result i32)))
  (table $tab 1 funcref)
  (elem declare func $one)
  (func $one (type $t) (i32.const 1))
  (func (export "loop") (param $n i32) (result i32)
    (local $i i32) (local $acc i32) (local $f (ref null $t))
    (loop $l
      (if (i32.lt_u (local.get $i) (local.get $n))
        (then (local.set $acc (i32.add (local.get $acc) (call_ref $t (local.get $f))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    (local.get $acc))
  (func (export "loop-return") (param $n i32) (result i32)
    (local $i i32) (local $f (ref null $t))
    (loop $l
      (if (i32.lt_u (local.get $i) (local.get $n))
        (then (return_call_ref $t (local.get $f))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    (i32.const 7))
  ;; call_indirect: the type id load through the table entry must stay below its null check.
  (func (export "indirect") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (if (i32.lt_u (local.get $i) (local.get $n))
        (then (local.set $acc (i32.add (local.get $acc)
                (call_indirect $tab (type $t) (i32.const 0))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    (local.get $acc))
  (func (export "fill") (table.set $tab (i32.const 0) (ref.func $one)))
)
(assert_return (invoke "loop" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "loop" (i32.const 3)) "null function reference")
(assert_return (invoke "loop-return" (i32.const 0)) (i32.const 7))
(assert_trap (invoke "loop-return" (i32.const 1)) "null function reference")
(assert_return (invoke "indirect" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "indirect" (i32.const 1)) "uninitialized element")
(invoke "fill")
(assert_return (invoke "indirect" (i32.const 4)) (i32.const 4))
