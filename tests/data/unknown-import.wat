;; Imports a function nobody defines: an unknown import, or with `-W unknown-imports-trap`
;; a trap when `_start` calls it.
(module $needs_host
  (import "host" "missing" (func $missing))
  (func (export "_start") (call $missing)))
