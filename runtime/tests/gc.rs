//! GC proposal through the public API: `any` references as values, type checks of host
//! values against concrete types, and canonical (iso-recursive) types across modules.

use runtime::*;

fn instance(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Result<Instance> {
    let module = Module::new(store.engine(), wat)?;
    Instance::new(store, &module, imports)
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&mut *store).results().len()];
    f.call(store, args, &mut results)?;
    Ok(results)
}

const OBJECTS: &str = r#"(module
  (type $s (struct (field (mut i32)) (field i8) (field v128)))
  (type $a (array (mut i16)))
  (func (export "i31") (param i32) (result anyref) (ref.i31 (local.get 0)))
  (func (export "new") (param i32) (result (ref $s))
    (struct.new $s (local.get 0) (i32.const -1) (v128.const i64x2 7 8)))
  (func (export "get") (param (ref $s)) (result i32) (struct.get $s 0 (local.get 0)))
  (func (export "get8") (param (ref $s)) (result i32) (struct.get_s $s 1 (local.get 0)))
  (func (export "lane") (param (ref $s)) (result i64) (i64x2.extract_lane 1 (struct.get $s 2 (local.get 0))))
  (func (export "array") (param i32 i32) (result (ref $a)) (array.new $a (local.get 0) (local.get 1)))
  (func (export "sum") (param (ref $a)) (result i32) (local $i i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (array.len (local.get 0))))
      (local.set $s (i32.add (local.get $s) (array.get_s $a (local.get 0) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "is_struct") (param anyref) (result i32) (ref.test (ref $s) (local.get 0)))
  (func (export "extern") (param anyref) (result externref) (extern.convert_any (local.get 0)))
  (func (export "intern") (param externref) (result anyref) (any.convert_extern (local.get 0)))
)"#;

#[test]
fn any_references_cross_the_api() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(&mut store, OBJECTS, &[]).unwrap();

    let r = call(&mut store, inst, "i31", &[Val::I32(-5)]).unwrap();
    let Val::AnyRef(i31) = r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(i31.kind(), AnyRefKind::I31);
    assert_eq!(i31.i31_get_s(), Some(-5));
    assert_eq!(i31.i31_get_u(), Some(0x7fff_fffb));
    assert_eq!(r[0], Val::AnyRef(AnyRef::i31(-5)));

    let r = call(&mut store, inst, "new", &[Val::I32(42)]).unwrap();
    let Val::AnyRef(s) = r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(s.kind(), AnyRefKind::Struct);
    assert_eq!(
        call(&mut store, inst, "get", &r).unwrap(),
        vec![Val::I32(42)]
    );
    assert_eq!(
        call(&mut store, inst, "get8", &r).unwrap(),
        vec![Val::I32(-1)]
    );
    assert_eq!(
        call(&mut store, inst, "lane", &r).unwrap(),
        vec![Val::I64(8)]
    );
    assert_eq!(
        call(&mut store, inst, "is_struct", &r).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, inst, "is_struct", &[Val::AnyRef(i31)]).unwrap(),
        vec![Val::I32(0)]
    );

    let a = call(&mut store, inst, "array", &[Val::I32(-3), Val::I32(5)]).unwrap();
    assert!(matches!(a[0], Val::AnyRef(r) if r.kind() == AnyRefKind::Array));
    assert_eq!(
        call(&mut store, inst, "sum", &a).unwrap(),
        vec![Val::I32(-15)]
    );

    // A value of the wrong concrete type is refused before it reaches wasm.
    let e = call(&mut store, inst, "get", &a).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    let e = call(&mut store, inst, "get", &[Val::AnyRef(i31)]).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");

    // `extern.convert_any` and back keep identity (each result is a new handle to the same
    // struct); host references stay host references.
    let ext = call(&mut store, inst, "extern", &r).unwrap();
    let Val::ExternAny(e) = ext[0] else {
        panic!("{ext:?}")
    };
    assert!(AnyRef::ref_eq(&store, &e, &s).unwrap());
    let back = call(&mut store, inst, "intern", &ext).unwrap();
    let Val::AnyRef(b) = back[0] else {
        panic!("{back:?}")
    };
    assert_eq!(b.kind(), AnyRefKind::Struct);
    assert!(AnyRef::ref_eq(&store, &b, &s).unwrap());
    let host = call(&mut store, inst, "intern", &[Val::ExternRef(Some(9))]).unwrap();
    assert_eq!(host, vec![Val::AnyRef(AnyRef::host(9))]);
    assert_eq!(
        call(&mut store, inst, "extern", &host).unwrap(),
        vec![Val::ExternRef(Some(9))]
    );
}

#[test]
fn array_allocation_limits_trap() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(&mut store, OBJECTS, &[]).unwrap();
    let e = call(&mut store, inst, "array", &[Val::I32(0), Val::I32(-1)]).unwrap_err();
    assert_eq!(
        e.as_trap().unwrap().code(),
        TrapCode::AllocationTooLarge,
        "{e}"
    );
}

#[test]
fn function_imports_match_by_canonical_type_and_subtyping() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let exporter = instance(
        &mut store,
        r#"(module
          (rec (type $a (func)) (type $b (func (result (ref null $a)))))
          (type $base (sub (func)))
          (type $derived (sub $base (func)))
          (func (export "b") (type $b) (ref.null $a))
          (func (export "derived") (type $derived)))"#,
        &[],
    )
    .unwrap();
    let b = exporter.get_export(&store, "b").unwrap();
    let derived = exporter.get_export(&store, "derived").unwrap();

    // The same recursion group, at other type indices: the same type.
    let same = r#"(module (type (func (param i64)))
        (rec (type $a (func)) (type $b (func (result (ref null $a)))))
        (import "m" "b" (func (type $b))))"#;
    instance(&mut store, same, std::slice::from_ref(&b)).unwrap();
    // Structurally equal but not in the same group: a different type.
    let other = r#"(module (type $a (func)) (type $b (func (result (ref null $a))))
        (import "m" "b" (func (type $b))))"#;
    let e = instance(&mut store, other, &[b]).unwrap_err();
    assert!(matches!(e, Error::Link(_)), "{e}");

    // A subtype is accepted where its supertype is expected, not the other way round.
    let wants_base = r#"(module (type $base (sub (func))) (import "m" "f" (func (type $base))))"#;
    instance(&mut store, wants_base, &[derived]).unwrap();
    let host = Func::new(&mut store, FuncType::new([], []), |_, _, _| Ok(()));
    let e = instance(&mut store, wants_base, &[Extern::Func(host)]).unwrap_err();
    assert!(matches!(e, Error::Link(_)), "{e}");
    // A host function's signature is the final type `(func)`.
    let wants_final = r#"(module (import "m" "f" (func)))"#;
    instance(&mut store, wants_final, &[Extern::Func(host)]).unwrap();
}

#[test]
fn call_indirect_accepts_subtypes() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module
          (type $base (sub (func (result i32))))
          (type $derived (sub $base (func (result i32))))
          (type $other (func (result i32)))
          (table funcref (elem $d $o))
          (func $d (type $derived) (i32.const 1))
          (func $o (type $other) (i32.const 2))
          (func (export "call") (param i32) (result i32)
            (call_indirect (type $base) (local.get 0))))"#,
        &[],
    )
    .unwrap();
    assert_eq!(
        call(&mut store, inst, "call", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(1)]
    );
    let e = call(&mut store, inst, "call", &[Val::I32(1)]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code(), TrapCode::BadSignature, "{e}");
}
