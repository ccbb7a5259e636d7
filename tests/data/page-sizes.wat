;; Needs the custom-page-sizes proposal (`-W custom-page-sizes`): a memory of 1-byte pages.
;; `runtime -W custom-page-sizes --invoke grow tests/data/page-sizes.wat 3` prints 4.
(module
  (memory 1 (pagesize 1))
  (func (export "grow") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (memory.size)))
