;; 20000 calls deep (16 bytes a frame, fewer frames where the recursion is inlined into
;; itself): fits in the default wasm stack (512 KiB), not under `-W max-wasm-stack=65536`.
(module (func $down (export "down") (param i32)
    (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))))))
(assert_return (invoke "down" (i32.const 20000)))
