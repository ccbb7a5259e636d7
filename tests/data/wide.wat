;; wide-arithmetic (on by default, as in Wasmtime 49; off with `-W wide-arithmetic=n`):
;; `runtime --invoke add128 tests/data/wide.wat -1 0 1 0` prints 0 and 1.
(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
