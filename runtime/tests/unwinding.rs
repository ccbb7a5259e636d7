//! Exceptions unwound by the frame-pointer walk (`vm/libcalls/exceptions.rs`): a call inside
//! a `try_table` is a `try_call` and every other call is plain, so these check what the walk
//! must restore and what it must not skip: the stack pointer (a catch repeated many times,
//! from deep recursion), values the catching function's callers keep in registers, GC
//! references live across the call, the fuel counter, continuations the exception leaves,
//! instances the exception crosses, and the host's state after an uncaught one.

use runtime::*;

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    configure(&mut config);
    Engine::new(&config).unwrap()
}

fn instance(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, arg: i32) -> Result<i32> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &[Val::I32(arg)], &mut out)?;
    Ok(out[0].i32().unwrap())
}

/// `$down n` recurses `n` frames deep and throws `$e` with `n` at the bottom.
const THROWER: &str = r#"
  (tag $e (param i32))
  (func $down (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 0))))
    (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $catch (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (return (call $down (local.get 0))))
      unreachable)
    (i32.add (i32.const 1)))
"#;

#[test]
fn catching_many_times_restores_the_stack_pointer() {
    // A leak of even one word per catch would overflow the stack long before the end.
    let wat = format!(
        r#"(module {THROWER}
          (func (export "many") (param i32) (result i32) (local $sum i32)
            (loop $l
              (local.set $sum (i32.add (local.get $sum) (call $catch (i32.const 3))))
              (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get $sum))
          (func (export "deep") (param i32) (result i32) (call $catch (local.get 0))))"#
    );
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(&mut store, &wat, &[]);
    assert_eq!(call(&mut store, inst, "many", 300_000).unwrap(), 300_000);
    for _ in 0..200 {
        assert_eq!(call(&mut store, inst, "deep", 5_000).unwrap(), 1);
    }
}

#[test]
fn values_the_callers_keep_in_registers_survive_a_catch() {
    // `$outer` keeps twelve values live across its call of `$catcher`; `$clobber` (between
    // the catch and the throw) uses as many registers. The unwinder restores no register:
    // the catching frame must not have left its callers' values in callee-saved ones.
    let mut body_outer = String::new();
    let mut body_clobber = String::new();
    for i in 0..12 {
        body_outer.push_str(&format!(
            "(local.set {l} (i32.mul (local.get 0) (i32.const {k})))\n",
            l = i + 1,
            k = i + 3
        ));
        body_clobber.push_str(&format!(
            "(local.set {l} (i32.xor (local.get 0) (i32.const {k})))\n",
            l = i + 1,
            k = 1000 + i
        ));
    }
    let sum = |n: usize| {
        let mut s = String::from("(local.get 1)");
        for l in 2..=n {
            s = format!("(i32.add {s} (local.get {l}))");
        }
        s
    };
    let wat = format!(
        r#"(module (tag $e (param i32))
          (func $clobber (param i32) (result i32) {locals}
            {body_clobber}
            (throw $e {sum_clobber}))
          (func $catcher (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (return (call $clobber (local.get 0))))
              unreachable))
          (func (export "outer") (param i32) (result i32) {locals}
            {body_outer}
            (i32.add {sum_outer} (call $catcher (local.get 0)))))"#,
        locals = "(local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)",
        sum_clobber = sum(12),
        sum_outer = sum(12),
    );
    for opt in [OptLevel::Speed, OptLevel::None] {
        let mut store = Store::new(
            &engine(|c| {
                c.cranelift_opt_level(opt);
            }),
            (),
        );
        let inst = instance(&mut store, &wat, &[]);
        for x in [1i32, 7, 1 << 20] {
            let outer: i32 = (0..12).map(|i| x.wrapping_mul(i + 3)).sum();
            let clobber: i32 = (0..12).map(|i| x ^ (1000 + i)).sum();
            assert_eq!(
                call(&mut store, inst, "outer", x).unwrap(),
                outer.wrapping_add(clobber)
            );
        }
    }
}

#[test]
fn gc_references_live_across_a_try_call_survive_a_collection() {
    // `$churn` allocates far more than the heap's first size before throwing, so the
    // collector runs (and may move objects) while `$keep`'s struct is live across the
    // `try_call` only.
    let wat = r#"(module
      (type $s (struct (field i32)))
      (type $a (array (mut i64)))
      (tag $e)
      (func $churn (local $i i32)
        (loop $l
          (drop (array.new $a (i64.const 0) (i32.const 4096)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (i32.const 2000))))
        (throw $e))
      (func (export "keep") (param i32) (result i32) (local $r (ref null $s))
        (local.set $r (struct.new $s (local.get 0)))
        (block $h
          (try_table (catch $e $h) (call $churn))
          unreachable)
        (struct.get $s 0 (local.get $r))))"#;
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(&mut store, wat, &[]);
    for x in [5, 42, -1] {
        assert_eq!(call(&mut store, inst, "keep", x).unwrap(), x);
    }
}

#[test]
fn fuel_is_charged_for_the_frames_an_exception_leaves() {
    let wat = format!(
        r#"(module {THROWER}
          (func (export "catch") (param i32) (result i32) (call $catch (local.get 0))))"#
    );
    let mut store = Store::new(
        &engine(|c| {
            c.consume_fuel(true);
        }),
        (),
    );
    let inst = instance(&mut store, &wat, &[]);
    let mut spent = |depth: i32| {
        store.set_fuel(1 << 40).unwrap();
        assert_eq!(call(&mut store, inst, "catch", depth).unwrap(), 1);
        (1u64 << 40) - store.get_fuel().unwrap()
    };
    let (a, b, c) = (spent(100), spent(100), spent(200));
    assert_eq!(a, b, "the same run costs the same fuel");
    assert!(
        c > a + 500,
        "frames unwound were charged: {a} for 100, {c} for 200"
    );
    // Too little fuel for the recursion: the run stops, an exception does not resume it.
    store.set_fuel(a / 2).unwrap();
    let err = call(&mut store, inst, "catch", 100).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
}

#[test]
fn an_exception_leaving_a_continuation_reaches_its_resumer() {
    let wat = format!(
        r#"(module {THROWER}
          (type $f (func (result i32)))
          (type $k (cont $f))
          (func $body (result i32) (call $down (i32.const 50)))
          (elem declare func $body)
          (func (export "run") (param i32) (result i32) (local $sum i32)
            (loop $l
              (block $h (result i32)
                (try_table (result i32) (catch $e $h)
                  (resume $k (cont.new $k (ref.func $body)))))
              (local.set $sum (i32.add (local.get $sum)))
              (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get $sum)))"#
    );
    let mut store = Store::new(
        &engine(|c| {
            c.wasm_stack_switching(true);
        }),
        (),
    );
    let inst = instance(&mut store, &wat, &[]);
    // Each caught exception's payload is 0; every continuation's stack goes back to the pool
    // (thousands of live stacks would exhaust the store's).
    assert_eq!(call(&mut store, inst, "run", 5_000).unwrap(), 0);
}

#[test]
fn exceptions_cross_instances_and_stop_at_host_frames() {
    let mut store = Store::new(&Engine::default(), ());
    let thrower = instance(
        &mut store,
        &format!(r#"(module {THROWER} (export "e" (tag $e)) (export "down" (func $down)))"#),
        &[],
    );
    let tag = thrower.get_export(&mut store, "e").unwrap();
    let down = thrower.get_export(&mut store, "down").unwrap();
    // A host function that calls `$down` and returns its error.
    let host = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, n: i32| {
        let down = down.clone().into_func().unwrap();
        let mut out = [Val::I32(0)];
        down.call(&mut caller, &[Val::I32(n)], &mut out)?;
        Ok(out[0].i32().unwrap())
    });
    let down = thrower.get_export(&mut store, "down").unwrap();
    let catcher = instance(
        &mut store,
        r#"(module
          (import "t" "e" (tag $e (param i32)))
          (import "t" "down" (func $down (param i32) (result i32)))
          (import "h" "via" (func $via (param i32) (result i32)))
          (func (export "direct") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (return (call $down (local.get 0))))
              unreachable)
            (i32.add (i32.const 100)))
          (func (export "via_host") (param i32) (result i32)
            (block $h
              (try_table (catch_all $h) (return (call $via (local.get 0))))
              unreachable)
            (i32.const -1)))"#,
        &[tag, down, host.into()],
    );
    assert_eq!(call(&mut store, catcher, "direct", 30).unwrap(), 100);
    // Inside the host function the exception was uncaught: it comes back as a trap, which
    // no handler catches.
    let err = call(&mut store, catcher, "via_host", 30).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UncaughtException), "{err}");
    assert_eq!(call(&mut store, catcher, "direct", 3).unwrap(), 100);
}

#[test]
fn an_uncaught_exception_reports_where_it_was_thrown_and_leaves_the_store_usable() {
    let wat = format!(
        r#"(module {THROWER}
          (func (export "down") (param i32) (result i32) (call $down (local.get 0)))
          (func (export "catch") (param i32) (result i32) (call $catch (local.get 0))))"#
    );
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(&mut store, &wat, &[]);
    for _ in 0..3 {
        let err = call(&mut store, inst, "down", 4).unwrap_err();
        let Error::Trap(trap) = &err else {
            panic!("{err}")
        };
        assert_eq!(trap.code(), TrapCode::UncaughtException);
        // The thrower's five frames (four recursive calls and the first), then the export.
        assert_eq!(trap.backtrace().len(), 6, "{err}");
        assert_eq!(call(&mut store, inst, "catch", 10_000).unwrap(), 1);
    }
}
