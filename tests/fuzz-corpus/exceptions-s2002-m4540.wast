;; found by differential fuzzing (cargo xtask fuzz --seed 2002 --features exceptions, module 4540, with the generator of commit 26a2221) as a hang:
;; a constant array.new of ~800 MB, filled element by element in each of the fuzzer's eight
;; instantiations; fixed by filling arrays at memset/memcpy speed (vm::gc::fill_elements).
;; features: exceptions
;; this script replays one round; `cargo xtask fuzz --replay exceptions-s2002-m4540.wasm` runs them all
(module binary
  "\00\61\73\6d\01\00\00\00\01\39\01\4e\06\5e\77\01\50\00\5e\7f\01\50\00\5e\78\00\60\02\7c\7d\00\50"
  "\00\5f\0d\7f\00\78\00\77\00\77\01\7d\00\78\00\78\00\78\01\6d\01\7d\00\7f\01\78\01\77\00\50\01\01"
  "\5e\7f\01\03\02\01\03\05\04\01\01\0b\0e\06\7f\07\6b\00\41\89\c5\87\d0\01\41\c1\c8\82\f8\02\41\83"
  "\c6\a9\c6\78\41\e0\b4\97\c3\7b\43\e0\5b\ad\b0\41\f9\c4\a7\fe\7c\41\d9\f6\b0\a3\05\41\d8\d8\9d\e2"
  "\01\41\95\fd\f6\e7\7c\41\81\8e\f2\e2\00\fb\06\05\43\36\d5\e7\96\41\eb\e4\e9\8b\79\41\ca\9a\ce\8b"
  "\03\41\ed\f9\bb\a4\7f\fb\00\04\0b\71\01\d0\71\0b\7f\01\41\88\c7\c3\fc\03\0b\7e\01\42\00\0b\7f\01"
  "\41\00\0b\7f\01\41\00\0b\7f\01\41\e8\07\0b\07\20\08\00\00\00\01\31\02\00\01\32\03\00\01\33\03\01"
  "\01\34\03\02\01\35\03\03\01\36\03\04\01\00\03\05\09\04\01\07\71\00\0a\65\01\63\00\23\06\45\04\40"
  "\00\0b\23\06\41\01\6b\24\06\3f\00\02\40\d0\6c\1f\7d\08\02\01\02\00\02\01\02\01\02\00\02\01\02\00"
  "\02\00\41\c0\00\04\7e\1f\40\07\02\03\02\03\02\02\02\02\02\02\02\02\02\03\0b\42\80\80\80\7e\05\42"
  "\ff\ff\37\0b\23\03\85\24\03\43\c0\2d\08\e4\0b\bc\23\04\73\24\04\1a\0b\23\05\73\24\05\0b")
(assert_return (invoke "" (f64.const 0.0) (f32.const 0.0)) )
