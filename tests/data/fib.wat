;; A small example for the CLI: `cargo run -p runtime -- tests/data/fib.wat --invoke fib 20`.
(module
  ;; The n-th Fibonacci number (fib 0 = 0, fib 1 = 1), computed iteratively.
  (func $fib (export "fib") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))

  ;; Recursive version, to exercise calls.
  (func $fib_rec (export "fib_rec") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib_rec (i32.sub (local.get $n) (i32.const 1)))
          (call $fib_rec (i32.sub (local.get $n) (i32.const 2)))))))

  ;; Traps on purpose, to show a trap message and backtrace.
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1))))
