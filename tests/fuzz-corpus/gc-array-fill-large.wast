;; Regression (fuzzing, seed 1001 module 617 of --features all): a table initialised with an
;; 800 MB array.new took so long that the fuzzer saw a hang: fill_elements copied element by
;; element. It now fills at memset/memcpy speed (4.8 s -> 0.8 s for this script, debug build).
(module
  (type $b (array (mut i8)))
  (type $l (array (mut i64)))
  (type $v (array (mut v128)))
  (table 4 arrayref (array.new $b (i32.const -585000337) (i32.const 792426539)))
  (func (export "b") (param i32) (result i32) (array.get_u $b (ref.cast (ref $b) (table.get (i32.const 0))) (local.get 0)))
  (func (export "l") (param i32) (result i64)
    (array.get $l (array.new $l (i64.const 0x0102030405060708) (i32.const 10000000)) (local.get 0)))
  (func (export "v") (param i32) (result i32)
    (i32x4.extract_lane 3 (array.get $v (array.new $v (v128.const i32x4 1 2 3 4) (i32.const 1000001)) (local.get 0)))))
(assert_return (invoke "b" (i32.const 792426538)) (i32.const 0x6f))
(assert_return (invoke "l" (i32.const 9999999)) (i64.const 0x0102030405060708))
(assert_return (invoke "v" (i32.const 1000000)) (i32.const 4))
(assert_trap (invoke "v" (i32.const 1000001)) "out of bounds array access")
