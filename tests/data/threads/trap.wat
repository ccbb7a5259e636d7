;; wasi-threads: a spawned thread reaches `unreachable` (arg 0) or calls proc_exit(7)
;; (arg 1, from the first argument's first byte '1') while the main thread waits forever:
;; the trap (exit code 134) or the exit status must end the whole program.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (func (export "wasi_thread_start") (param $tid i32) (param $how i32)
    (if (local.get $how) (then (call $exit (i32.const 7))))
    (unreachable))
  (func (export "_start")
    (local $how i32)
    (drop (call $args_sizes (i32.const 0) (i32.const 4)))
    (if (i32.ge_u (i32.load (i32.const 0)) (i32.const 2))
      (then
        (drop (call $args_get (i32.const 64) (i32.const 1024)))
        (local.set $how (i32.eq (i32.load8_u (i32.load (i32.const 68))) (i32.const 49)))))
    (drop (call $spawn (local.get $how)))
    (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))))
