;; A shared memory: creating it needs `-W threads` (or `-W shared-memory`), as in Wasmtime.
(module
  (memory 1 1 shared)
  (func (export "add") (param i32) (result i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (local.get 0)))
    (i32.atomic.load (i32.const 0))))
