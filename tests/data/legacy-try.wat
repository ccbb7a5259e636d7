;; The legacy exception instructions, as emcc's -fwasm-exceptions emits them: `catch 41`
;; throws 41 from a callee and the legacy handler returns it plus one.
(module
  (tag $e (param i32))
  (func $thrower (param i32)
    local.get 0
    throw $e)
  (func (export "catch") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $thrower
      i32.const 0
    catch $e
      i32.const 1
      i32.add
    end))
