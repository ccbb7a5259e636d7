;; wasi-threads: a spawned thread spins forever while the main thread waits forever. Only a
;; bound on the spawned thread (`-W fuel`, `-W timeout`) can end the program.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (loop $forever (br $forever)))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))))
