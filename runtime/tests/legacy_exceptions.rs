//! Legacy exception handling (`try`, `catch`, `catch_all`, `delegate`, `rethrow`) through the
//! public API: rethrow of an outer clause's exception, delegation to outer labels and to the
//! caller, tag identity across modules, exceptions through nested and imported calls, host
//! traps, and legacy instructions beside `try_table` and `exnref` in one function. Every case
//! runs with guard pages at `opt_level` speed and with explicit checks at none.

use runtime::*;

fn engines() -> Vec<Engine> {
    [(false, OptLevel::Speed), (true, OptLevel::None)]
        .into_iter()
        .map(|(explicit, opt)| {
            let mut config = Config::new();
            config
                .wasm_legacy_exceptions(true)
                .explicit_bounds_checks(explicit)
                .cranelift_opt_level(opt);
            Engine::new(&config).unwrap()
        })
        .collect()
}

/// Calls `name` with i32 arguments, expecting one i32 result.
fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[i32]) -> Result<i32> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let args: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &args, &mut out)?;
    Ok(out[0].i32().unwrap())
}

fn instantiate(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn uncaught(r: Result<i32>) -> bool {
    matches!(r, Err(Error::Trap(t)) if t.code() == TrapCode::UncaughtException)
}

const RETHROW: &str = r#"(module
  (tag $a (param i32)) (tag $b (param i32))
  ;; The inner clause catches $b, then rethrows the outer clause's $a (depth 1), which
  ;; the outermost try catches: its payload tells which exception arrived.
  (func (export "outer") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $a
      catch $a
        drop
        try (result i32)
          i32.const 200
          throw $b
        catch $b
          drop
          rethrow 1
        end
      end
    catch $a
      i32.const 1000
      i32.add
    catch $b
      i32.const 2000
      i32.add
    end)
  ;; Rethrow from a catch_all, through a function boundary.
  (func $rethrower (param i32)
    try
      local.get 0
      throw $b
    catch_all
      rethrow 0
    end)
  (func (export "across") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $rethrower
      i32.const -1
    catch $b
    end)
  ;; A caught exception is cleared: catching many in a loop, then returning normally.
  (func (export "loop") (param i32) (result i32) (local $n i32)
    block $done
      loop $again
        local.get 0
        i32.eqz
        br_if $done
        try
          local.get 0
          throw $a
        catch $a
          local.get $n
          i32.add
          local.set $n
        end
        local.get 0
        i32.const 1
        i32.sub
        local.set 0
        br $again
      end
    end
    local.get $n)
)"#;

#[test]
fn rethrow_takes_the_exception_of_its_clause() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, RETHROW, &[]);
        assert_eq!(call(&mut store, inst, "outer", &[7]).unwrap(), 1007);
        assert_eq!(call(&mut store, inst, "across", &[5]).unwrap(), 5);
        assert_eq!(call(&mut store, inst, "loop", &[100]).unwrap(), 5050);
    }
}

const DELEGATE: &str = r#"(module
  (tag $e (param i32))
  (func $throw (param i32) (local.get 0) (throw $e))
  ;; Labels seen from the delegating try: 0 is the block around it, 1 the try whose body
  ;; holds that block (its clauses catch), 2 the outer try (the middle one is skipped).
  (func (export "to_try") (param i32) (result i32)
    try (result i32)
      try (result i32)
        block (result i32)
          try (result i32)
            local.get 0
            call $throw
            i32.const 0
          delegate 1
        end
      catch $e
        i32.const 100
        i32.add
      end
    catch $e
      i32.const 200
      i32.add
    end)
  (func (export "skip") (param i32) (result i32)
    try (result i32)
      try (result i32)
        block (result i32)
          try (result i32)
            local.get 0
            call $throw
            i32.const 0
          delegate 2
        end
      catch $e
        i32.const 100
        i32.add
      end
    catch $e
      i32.const 200
      i32.add
    end)
  ;; delegate 0 to a try whose clauses then catch the exception.
  (func (export "next") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $throw
        i32.const 0
      delegate 0
    catch $e
      i32.const 300
      i32.add
    end)
  ;; Delegating to the function's label hands the exception to the caller, past a
  ;; catch_all that encloses the delegating try.
  (func $to_caller (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $throw
        i32.const 0
      delegate 1
    catch_all
      i32.const -1
    end)
  (func (export "caller") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $to_caller
    catch $e
      i32.const 400
      i32.add
    end)
  ;; Delegating from inside a catch clause: the clause's try no longer handles it.
  (func (export "from_clause") (param i32) (result i32)
    try (result i32)
      try (result i32)
        i32.const 0
        throw $e
      catch $e
        drop
        try (result i32)
          local.get 0
          call $throw
          i32.const 0
        delegate 0
      end
    catch $e
      i32.const 500
      i32.add
    end)
  (func (export "uncaught") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw
      i32.const 0
    delegate 0)
)"#;

#[test]
fn delegate_goes_to_the_handler_just_inside_its_label() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, DELEGATE, &[]);
        assert_eq!(call(&mut store, inst, "to_try", &[1]).unwrap(), 101);
        assert_eq!(call(&mut store, inst, "skip", &[1]).unwrap(), 201);
        assert_eq!(call(&mut store, inst, "next", &[2]).unwrap(), 302);
        assert_eq!(call(&mut store, inst, "caller", &[3]).unwrap(), 403);
        assert_eq!(call(&mut store, inst, "from_clause", &[4]).unwrap(), 504);
        assert!(uncaught(call(&mut store, inst, "uncaught", &[5])));
    }
}

const TAGS: &str = r#"(module
  (tag $mine (export "mine") (param i32))
  (func (export "throw_mine") (param i32) (local.get 0) (throw $mine)))"#;

const CATCHER: &str = r#"(module
  (import "m" "mine" (tag $theirs (param i32)))
  (import "m" "throw_mine" (func $throw_theirs (param i32)))
  (tag $own (param i32))
  (func $own_throw (param i32) (local.get 0) (throw $own))
  ;; Thrown by the other module, three frames down (two of them here): caught by the
  ;; imported tag, not by this module's own tag of the same type.
  (func $deep (param i32) (local.get 0) (call $throw_theirs))
  (func $deeper (param i32) (local.get 0) (call $deep))
  (func (export "imported") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $deeper
      i32.const -1
    catch $own
      i32.const 100
      i32.add
    catch $theirs
      i32.const 200
      i32.add
    end)
  (func (export "own") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $own_throw
      i32.const -1
    catch $theirs
      i32.const 100
      i32.add
    catch $own
      i32.const 200
      i32.add
    end)
  ;; No clause matches: the exception leaves the function.
  (func (export "unmatched") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $own_throw
      i32.const -1
    catch $theirs
    end))"#;

#[test]
fn clauses_match_by_tag_identity_across_modules() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let tags = instantiate(&mut store, TAGS, &[]);
        let mine = tags.get_export(&mut store, "mine").unwrap();
        let throw = tags.get_export(&mut store, "throw_mine").unwrap();
        let inst = instantiate(&mut store, CATCHER, &[mine, throw]);
        assert_eq!(call(&mut store, inst, "imported", &[1]).unwrap(), 201);
        assert_eq!(call(&mut store, inst, "own", &[2]).unwrap(), 202);
        assert!(uncaught(call(&mut store, inst, "unmatched", &[3])));
    }
}

const HOST: &str = r#"(module
  (import "host" "fail" (func $fail))
  (tag $e)
  (func (export "trap") (result i32)
    try (result i32)
      call $fail
      i32.const 1
    catch_all
      i32.const 2
    end)
  (func (export "wasm_trap") (result i32)
    try (result i32)
      unreachable
    catch_all
      i32.const 2
    end))"#;

#[test]
fn traps_are_not_exceptions() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let fail = Func::wrap(&mut store, || -> Result<()> {
            Err(Error::Trap(Trap::new(TrapCode::UnreachableCodeReached)))
        });
        let inst = instantiate(&mut store, HOST, &[fail.into()]);
        let r = call(&mut store, inst, "trap", &[]);
        assert!(matches!(r, Err(Error::Trap(_))), "{r:?}");
        let r = call(&mut store, inst, "wasm_trap", &[]);
        assert!(
            matches!(&r, Err(Error::Trap(t)) if t.code() == TrapCode::UnreachableCodeReached),
            "{r:?}"
        );
    }
}

const MIXED: &str = r#"(module
  (tag $e (param i32))
  (tag $f)
  (func $throw (param i32) (local.get 0) (throw $e))
  ;; A try_table inside a legacy try body, which catches what the try_table lets through.
  (func (export "table_in_try") (param i32) (result i32)
    try (result i32)
      block $caught
        try_table (catch $f $caught)
          local.get 0
          call $throw
        end
      end
      i32.const -1
    catch $e
      i32.const 100
      i32.add
    end)
  ;; A legacy try inside a try_table, whose catch_ref takes the exception as exnref; a
  ;; legacy clause then catches the same exception thrown again with throw_ref.
  (func (export "exnref") (param i32) (result i32)
    try (result i32)
      block $h (result i32 exnref)
        try_table (catch_ref $e $h)
          try
            local.get 0
            call $throw
          catch $f
          end
        end
        unreachable
      end
      throw_ref
    catch $e
      i32.const 200
      i32.add
    end)
  ;; delegate to a try_table's label: the try_table's clauses catch it.
  (func (export "delegate_to_table") (param i32) (result i32)
    block $h (result i32)
      try_table (catch $e $h)
        try
          local.get 0
          call $throw
        delegate 0
      end
      i32.const -1
    end
    i32.const 300
    i32.add)
  ;; try_table inside a legacy catch clause: rethrow from within it reaches its handler.
  (func (export "rethrow_in_table") (param i32) (result i32)
    block $h (result i32)
      try
        local.get 0
        call $throw
      catch $e
        drop
        try_table (catch $e $h)
          rethrow 1
        end
      end
      i32.const -1
    end
    i32.const 400
    i32.add))"#;

#[test]
fn legacy_instructions_mix_with_try_table_and_exnref() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, MIXED, &[]);
        assert_eq!(call(&mut store, inst, "table_in_try", &[1]).unwrap(), 101);
        assert_eq!(call(&mut store, inst, "exnref", &[2]).unwrap(), 202);
        assert_eq!(
            call(&mut store, inst, "delegate_to_table", &[3]).unwrap(),
            303
        );
        assert_eq!(
            call(&mut store, inst, "rethrow_in_table", &[4]).unwrap(),
            404
        );
    }
}

/// Calls reach throwers through chains of direct calls, `call_indirect` and `call_ref`;
/// the may-throw analysis must put a check after each of them.
const CALL_GRAPH: &str = r#"(module
  (type $t (func (param i32)))
  (tag $e (param i32))
  (table 1 funcref)
  (elem (i32.const 0) $c)
  (elem declare func $c)
  (func $a (param i32) (local.get 0) (throw $e))
  (func $b (param i32) (local.get 0) (call $a))
  (func $c (param i32) (local.get 0) (call $b))
  (func $quiet (param i32))
  (func (export "direct") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $quiet
      local.get 0
      call $c
      i32.const -1
    catch $e
    end)
  (func (export "indirect") (param i32) (result i32)
    try (result i32)
      local.get 0
      i32.const 0
      call_indirect (type $t)
      i32.const -1
    catch $e
    end)
  (func (export "ref") (param i32) (result i32)
    try (result i32)
      local.get 0
      ref.func $c
      call_ref $t
      i32.const -1
    catch $e
    end))"#;

#[test]
fn exceptions_cross_every_kind_of_call() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, CALL_GRAPH, &[]);
        assert_eq!(call(&mut store, inst, "direct", &[11]).unwrap(), 11);
        assert_eq!(call(&mut store, inst, "indirect", &[12]).unwrap(), 12);
        assert_eq!(call(&mut store, inst, "ref", &[13]).unwrap(), 13);
    }
}

#[test]
fn the_feature_is_off_by_default() {
    let err = Module::new(&Engine::default(), "(module (func try end))")
        .err()
        .expect("rejected without the feature")
        .to_string();
    assert!(err.contains("legacy"), "{err}");
}
