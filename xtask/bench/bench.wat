;; The `bench` module sightglass programs import, offered with `--preload bench=...`.
(module
  (func (export "start"))
  (func (export "end")))
