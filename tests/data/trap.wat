;; A program that traps two calls deep: `runtime tests/data/trap.wat --invoke divide 1 0`.
(module $example
  (func $quotient (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $divide (export "divide") (param i32 i32) (result i32)
    (call $quotient (local.get 0) (local.get 1))))
