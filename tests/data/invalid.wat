;; Deliberately invalid: the function returns an i64 where it declares an i32.
(module
  (func (export "f") (result i32)
    (i64.const 1)))
