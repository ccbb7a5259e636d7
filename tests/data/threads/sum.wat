;; wasi-threads, a parallel sum: `sum.wat THREADS MILLIONS` adds f(i) = (i * 2654435761 mod
;; 2^32) >> 8 for i in [0, MILLIONS * 10^6) on THREADS threads (1..=16; default 4 and 1),
;; each over its own slice, then prints the total: the same whatever the thread count.
;; Memory: 0 argc, 4 argv size, 8 threads done, 12 per-thread count, 16 iovec, 24 written,
;; 64.. argv pointers, 256.. partial sums (8 bytes per thread), 512.. output, 1024.. argv.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (data $label "sum = ")

  ;; The decimal argument `n` (0-based after the program name), or `default`.
  (func $arg (param $n i32) (param $default i32) (result i32)
    (local $p i32) (local $v i32) (local $c i32)
    (if (i32.le_u (i32.load (i32.const 0)) (i32.add (local.get $n) (i32.const 1)))
      (then (return (local.get $default))))
    (local.set $p (i32.load (i32.add (i32.const 68) (i32.shl (local.get $n) (i32.const 2)))))
    (block $end
      (loop $digit
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.gt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10))
                               (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (local.get $v))

  (func $sum (param $lo i32) (param $hi i32) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $lo) (local.get $hi)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.extend_i32_u (i32.shr_u (i32.mul (local.get $lo) (i32.const 2654435761))
                                       (i32.const 8)))))
        (local.set $lo (i32.add (local.get $lo) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  (func (export "wasi_thread_start") (param $tid i32) (param $k i32)
    (local $per i32)
    (local.set $per (i32.load (i32.const 12)))
    (i64.store (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 3)))
      (call $sum (i32.mul (local.get $k) (local.get $per))
                 (i32.mul (i32.add (local.get $k) (i32.const 1)) (local.get $per))))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))

  (func $print (param $n i64)
    (local $p i32)
    (i32.store8 (i32.const 640) (i32.const 10))
    (local.set $p (i32.const 640))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $n) (i64.const 10))))
      (br_if $digit (i64.ne (local.tee $n (i64.div_u (local.get $n) (i64.const 10))) (i64.const 0))))
    (local.set $p (i32.sub (local.get $p) (i32.const 6)))
    (memory.init $label (local.get $p) (i32.const 0) (i32.const 6))
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (i32.sub (i32.const 641) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func (export "_start")
    (local $threads i32) (local $k i32) (local $done i32) (local $total i64)
    (drop (call $args_sizes (i32.const 0) (i32.const 4)))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 60000)) (then (call $exit (i32.const 2))))
    (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 16)) (then (call $exit (i32.const 2))))
    (drop (call $args_get (i32.const 64) (i32.const 1024)))
    (local.set $threads (call $arg (i32.const 0) (i32.const 4)))
    (if (i32.or (i32.eqz (local.get $threads)) (i32.gt_u (local.get $threads) (i32.const 16)))
      (then (call $exit (i32.const 2))))
    (i32.store (i32.const 12)
      (i32.div_u (i32.mul (call $arg (i32.const 1) (i32.const 1)) (i32.const 1000000))
                 (local.get $threads)))
    (loop $start
      (if (i32.lt_s (call $spawn (local.get $k)) (i32.const 1))
        (then (call $exit (i32.const 2))))
      (br_if $start (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                              (local.get $threads))))
    (loop $join
      (local.set $done (i32.atomic.load (i32.const 8)))
      (if (i32.lt_u (local.get $done) (local.get $threads))
        (then
          (drop (memory.atomic.wait32 (i32.const 8) (local.get $done) (i64.const -1)))
          (br $join))))
    (local.set $k (i32.const 0))
    (loop $add
      (local.set $total (i64.add (local.get $total)
        (i64.load (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 3))))))
      (br_if $add (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                            (local.get $threads))))
    (call $print (local.get $total))))
