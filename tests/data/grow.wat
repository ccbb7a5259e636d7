;; A WASI program that grows its memory a page at a time until `memory.grow` returns -1,
;; says so, and exits with the number of pages it reached (125 if it never failed).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "memory.grow returned -1\n")
  (func (export "_start") (local $tries i32)
    (block $refused
      (loop $again
        (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $tries) (i32.const 100))))
      (call $proc_exit (i32.const 125)))
    ;; iovec at 0: the message at 16, 24 bytes.
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 24))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (memory.size))))
