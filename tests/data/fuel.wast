;; Under `runtime wast -W fuel=N` the script's store has N units of fuel.
(module
  (func (export "spin") (loop br 0))
  (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 1))
(assert_exhaustion (invoke "spin") "all fuel consumed")
