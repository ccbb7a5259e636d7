;; The loop of issue 14: drop a 1 KiB array and a small struct per iteration. `run(n)`
;; returns the last struct's field.
(module
  (type $a (array (mut i8)))
  (type $s (struct (field i32) (field (ref null $a))))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $keep (ref null $s))
    (loop $l
      (local.set $keep (struct.new $s (local.get $i) (array.new_default $a (i32.const 1024))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (struct.get $s 0 (local.get $keep))))
