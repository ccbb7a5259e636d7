;; wasi-threads, a condition variable: 6 threads (started in reverse order) all wait on one
;; word, `turn`; each is woken by every broadcast and goes on only when `turn` is its number,
;; then prints "thread N" through the shared descriptor table, bumps `turn` and broadcasts.
;; The main thread starts the chain and waits for its end: "thread 1" ... "thread 6", "done".
;; Memory: 0 turn, 16 iovec, 24 bytes written, 64.. the output line.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (global $threads i32 (i32.const 6))
  (data $thread "thread ")
  (data $done "done\n")

  (func $wait_for (param $value i32)
    (local $seen i32)
    (loop $again
      (local.set $seen (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $seen) (local.get $value))
        (then
          (drop (memory.atomic.wait32 (i32.const 0) (local.get $seen) (i64.const -1)))
          (br $again)))))

  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func (export "wasi_thread_start") (param $tid i32) (param $n i32)
    ;; Each thread writes its line in its own 16 bytes, so lines never overlap.
    (local $p i32)
    (call $wait_for (local.get $n))
    (local.set $p (i32.add (i32.const 64) (i32.mul (local.get $n) (i32.const 16))))
    (memory.init $thread (local.get $p) (i32.const 0) (i32.const 7))
    (i32.store8 (i32.add (local.get $p) (i32.const 7)) (i32.add (i32.const 48) (local.get $n)))
    (i32.store8 (i32.add (local.get $p) (i32.const 8)) (i32.const 10))
    (call $write (local.get $p) (i32.const 9))
    (i32.atomic.store (i32.const 0) (i32.add (local.get $n) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))

  (func (export "_start")
    (local $i i32)
    (local.set $i (global.get $threads))
    (loop $start
      (if (i32.lt_s (call $spawn (local.get $i)) (i32.const 1))
        (then (call $exit (i32.const 2))))
      (br_if $start (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (i32.atomic.store (i32.const 0) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1)))
    (call $wait_for (i32.add (global.get $threads) (i32.const 1)))
    (memory.init $done (i32.const 32) (i32.const 0) (i32.const 5))
    (call $write (i32.const 32) (i32.const 5))))
