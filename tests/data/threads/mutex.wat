;; wasi-threads: 8 threads take turns on a futex mutex (compare-exchange, then
;; memory.atomic.wait32 while contended, notify on unlock) to add 1 to a plain counter
;; 10,000 times each. Prints "counter = 80000"; exits 1 if the count is wrong.
;; Memory: 0 lock (0 free, 1 held, 2 held and contended), 4 counter, 8 threads done,
;; 16 iovec, 24 bytes written, 64..129 the output line.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (global $threads i32 (i32.const 8))
  (global $iters i32 (i32.const 10000))
  (data $label "counter = ")

  (func $lock
    (if (i32.eqz (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.const 0) (i32.const 1)))
      (then (return)))
    (loop $retry
      (if (i32.eqz (i32.atomic.rmw.xchg (i32.const 0) (i32.const 2)))
        (then (return)))
      (drop (memory.atomic.wait32 (i32.const 0) (i32.const 2) (i64.const -1)))
      (br $retry)))

  (func $unlock
    (if (i32.eq (i32.atomic.rmw.xchg (i32.const 0) (i32.const 0)) (i32.const 2))
      (then (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))))

  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $i i32)
    (loop $add
      (call $lock)
      (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))
      (call $unlock)
      (br_if $add (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                            (global.get $iters))))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))

  (func $print (param $n i32)
    (local $p i32)
    (i32.store8 (i32.const 128) (i32.const 10))
    (local.set $p (i32.const 128))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (br_if $digit (local.tee $n (i32.div_u (local.get $n) (i32.const 10)))))
    (local.set $p (i32.sub (local.get $p) (i32.const 10)))
    (memory.init $label (local.get $p) (i32.const 0) (i32.const 10))
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (i32.sub (i32.const 129) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func (export "_start")
    (local $i i32) (local $done i32)
    (loop $start
      (if (i32.lt_s (call $spawn (local.get $i)) (i32.const 1))
        (then (call $exit (i32.const 2))))
      (br_if $start (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (global.get $threads))))
    (loop $join
      (local.set $done (i32.atomic.load (i32.const 8)))
      (if (i32.lt_u (local.get $done) (global.get $threads))
        (then
          (drop (memory.atomic.wait32 (i32.const 8) (local.get $done) (i64.const -1)))
          (br $join))))
    (call $print (i32.load (i32.const 4)))
    (if (i32.ne (i32.load (i32.const 4)) (i32.mul (global.get $threads) (global.get $iters)))
      (then (call $exit (i32.const 1))))))
