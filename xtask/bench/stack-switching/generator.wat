;; A generator: `sum n` resumes a continuation that suspends with 0, 1, ..., n-1 and adds
;; what it yields (n round trips of suspend and resume). `cargo xtask bench` runs it
;; with our CLI and Wasmtime (`-W stack-switching=y`); runtime/tests/stack_switching.rs too.
(module
  (type $gf (func (param i32)))
  (type $gc (cont $gf))
  (type $kf (func))
  (type $kc (cont $kf))
  (tag $yield (param i32))
  (func $gen (param $n i32)
    (local $i i32)
    (loop $l
      (suspend $yield (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (elem declare func $gen)
  ;; The sum of what a generator of 0, 1, ..., n-1 yields.
  (func (export "sum") (param $n i32) (result i64)
    (local $k (ref null $kc))
    (local $sum i64)
    (block $done
      (block $first (result i32 (ref $kc))
        (resume $gc (on $yield $first) (local.get $n) (cont.new $gc (ref.func $gen)))
        (br $done))
      (local.set $k)
      i64.extend_i32_u
      local.set $sum
      (loop $next
        (block $yielded (result i32 (ref $kc))
          (resume $kc (on $yield $yielded) (local.get $k))
          (br $done))
        (local.set $k)
        i64.extend_i32_u
        (local.set $sum (i64.add (local.get $sum)))
        (br $next)))
    (local.get $sum)))
