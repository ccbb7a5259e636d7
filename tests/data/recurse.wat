;; `down N` recurses N calls deep; `forever` never stops recursing.
(module
  (func $down (export "down") (param i32)
    (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1))))))
  (func $forever (export "forever") (call $forever)))
