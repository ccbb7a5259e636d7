;; A trap inside a continuation: `-W stack-switching --invoke run` exits with 134 and prints
;; the trap and the continuation's frames.
(module
  (type $f (func))
  (type $c (cont $f))
  (func $inner unreachable)
  (func $body (call $inner))
  (elem declare func $body)
  (func (export "run") (resume $c (cont.new $c (ref.func $body)))))
