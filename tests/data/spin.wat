;; Runs forever unless a budget stops it.
(module (func (export "_start") (loop br 0)))
