;; A script outside the spec suite's `proposals/` folders that needs custom-page-sizes:
;; `runtime wast -W custom-page-sizes tests/data/page-sizes.wast`.
(module
  (memory 1 (pagesize 1))
  (func (export "grow") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (memory.size)))
(assert_return (invoke "grow" (i32.const 3)) (i32.const 4))
