;; A WASI program that prints its arguments, a `--` line, then its environment, one per line,
;; and exits with its argument count: `runtime --env A=1 tests/data/env.wat x y`.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 0: count, 4: buffer size, 16: iovec, 24: bytes written, 32: "\n", 40: "--\n";
  ;; from 65536 (grown to fit): the pointers, then the strings.
  (memory (export "memory") 1)
  (data (i32.const 32) "\n")
  (data (i32.const 40) "--\n")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func $strlen (param $ptr i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $ptr) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  ;; Grows memory so that the pointers and strings the sizes at 0 and 4 describe fit above 64 KiB.
  (func $make_room
    (drop (memory.grow
      (i32.add (i32.const 1)
        (i32.shr_u
          (i32.add (i32.load (i32.const 4)) (i32.shl (i32.load (i32.const 0)) (i32.const 2)))
          (i32.const 16))))))
  ;; Prints the strings of the pointer array at 65536.
  (func $print (local $i i32) (local $str i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
        (local.set $str (i32.load (i32.add (i32.const 65536) (i32.shl (local.get $i) (i32.const 2)))))
        (call $write (local.get $str) (call $strlen (local.get $str)))
        (call $write (i32.const 32) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "_start")
    (local $argc i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $argc (i32.load (i32.const 0)))
    (call $make_room)
    (drop (call $args_get (i32.const 65536)
      (i32.add (i32.const 65536) (i32.shl (local.get $argc) (i32.const 2)))))
    (call $print)
    (call $write (i32.const 40) (i32.const 3))
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (call $make_room)
    (drop (call $environ_get (i32.const 65536)
      (i32.add (i32.const 65536) (i32.shl (i32.load (i32.const 0)) (i32.const 2)))))
    (call $print)
    (call $proc_exit (local.get $argc))))
