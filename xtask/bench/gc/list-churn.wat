;; Linked lists: a long-lived list of `n` nodes, and `rounds` short-lived lists of 1000 nodes
;; built, summed and dropped; every 16th round replaces a node of the long-lived list.
;; `run(n, rounds)` returns the sum of every list walked.
(module
  (type $node (struct (field (mut i64)) (field (mut (ref null $node)))))
  (func $build (param $n i32) (result (ref null $node)) (local $l (ref null $node))
    (block $done (loop $more
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $l (struct.new $node (i64.extend_i32_u (local.get $n)) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $more)))
    (local.get $l))
  (func $sum (param $l (ref null $node)) (result i64) (local $s i64)
    (block $done (loop $more
      (br_if $done (ref.is_null (local.get $l)))
      (local.set $s (i64.add (local.get $s) (struct.get $node 0 (local.get $l))))
      (local.set $l (struct.get $node 1 (local.get $l)))
      (br $more)))
    (local.get $s))
  (func (export "run") (param $n i32) (param $rounds i32) (result i64)
    (local $long (ref null $node)) (local $total i64) (local $p (ref null $node)) (local $r i32)
    (local.set $long (call $build (local.get $n)))
    (loop $round
      (local.set $total (i64.add (local.get $total) (call $sum (call $build (i32.const 1000)))))
      (if (i32.eqz (i32.and (local.get $r) (i32.const 15)))
        (then
          ;; Replace the second node of the long-lived list by a fresh one.
          (local.set $p (struct.get $node 1 (local.get $long)))
          (struct.set $node 1 (local.get $long)
            (struct.new $node (struct.get $node 0 (local.get $p)) (struct.get $node 1 (local.get $p))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $r) (local.get $rounds))))
    (i64.add (local.get $total) (call $sum (local.get $long)))))
