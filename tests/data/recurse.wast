;; 5000 calls deep: fits in the default wasm stack, not under `-W max-wasm-stack=65536`.
(module (func $down (export "down") (param i32)
    (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))))))
(assert_return (invoke "down" (i32.const 5000)))
