;; Regression (issue 10): a constant `array.new` built a host vector of its length (16 bytes
;; per element) before the GC heap limit was checked: a length of 2^32-1 aborted the process
;; ("memory allocation of 68719476720 bytes failed"). Now the allocation is checked first and
;; fails with a trap.
(assert_trap
  (module
    (type $a (array (mut i32)))
    (global (ref $a) (array.new $a (i32.const 7) (i32.const -1))))
  "allocation size too large")
(assert_trap
  (module
    (type $a (array i64))
    (table 1 anyref)
    (elem (table 0) (i32.const 0) anyref (array.new $a (i64.const 1) (i32.const 0x7fffffff))))
  "allocation size too large")

;; A large array that fits (50 million i32 = 200 MB) is created without a host copy of it.
(module
  (type $a (array (mut i32)))
  (global $g (ref $a) (array.new $a (i32.const 7) (i32.const 50000000)))
  (global $z (ref $a) (array.new $a (i32.const 0) (i32.const 50000000)))
  (func (export "len") (result i32) (array.len (global.get $g)))
  (func (export "get") (param i32) (result i32) (array.get $a (global.get $g) (local.get 0)))
  (func (export "zero") (param i32) (result i32) (array.get $a (global.get $z) (local.get 0))))
(assert_return (invoke "len") (i32.const 50000000))
(assert_return (invoke "get" (i32.const 0)) (i32.const 7))
(assert_return (invoke "get" (i32.const 49999999)) (i32.const 7))
(assert_return (invoke "zero" (i32.const 49999999)) (i32.const 0))
(assert_trap (invoke "get" (i32.const 50000000)) "out of bounds array access")
