//! Inlining of small leaf functions (`Config::compiler_inlining`, on by default): inlined
//! calls compute what the calls did (early returns, branches to the body, several results,
//! locals that start at zero on every call), traps inside an inlined body report the same
//! backtrace as the call would have, a small recursive function unrolls one level, and only
//! what may be inlined is.

use runtime::*;

fn engine(inlining: bool, configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.compiler_inlining(inlining);
    configure(&mut config);
    Engine::new(&config).unwrap()
}

/// Calls export `name` of `wat` with `args` in a fresh store of `engine`.
fn run(engine: &Engine, wat: &str, name: &str, args: &[Val], results: usize) -> Result<Vec<Val>> {
    let mut store = Store::new(engine, ());
    let module = Module::new(engine, wat)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_func(&mut store, name).unwrap();
    let mut out = vec![Val::I32(0); results];
    f.call(&mut store, args, &mut out)?;
    Ok(out)
}

/// The trap `name` of `wat` raises with `arg`, with inlining on or off.
fn trap(inlining: bool, wat: &str, name: &str, arg: i32) -> Trap {
    match run(&engine(inlining, |_| {}), wat, name, &[Val::I32(arg)], 1) {
        Err(Error::Trap(trap)) => trap,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Whether the translated CLIF of `wat`'s function `index` calls another wasm function.
fn calls(engine: &Engine, wat: &str, index: u32) -> bool {
    call_count(engine, wat, index) > 0
}

/// How many calls of wasm functions the translated CLIF of `wat`'s function `index` makes.
fn call_count(engine: &Engine, wat: &str, index: u32) -> usize {
    let funcs = Module::clif(engine, wat, ClifStage::Translated).unwrap();
    let (_, text) = funcs.iter().find(|(i, _)| *i == index).unwrap();
    text.lines()
        .filter(|l| l.contains(" = call fn") || l.trim_start().starts_with("call fn"))
        .count()
}

const ARITH: &str = r#"(module
  (memory 1)
  ;; An early return, a branch to the body's end and a br_table.
  (func $classify (param i32) (result i32)
    (if (i32.lt_s (local.get 0) (i32.const 0)) (then (return (i32.const -1))))
    (block $big
      (br_if $big (i32.gt_u (local.get 0) (i32.const 100)))
      (block $b2 (block $b1 (block $b0
        (br_table $b0 $b1 $b2 (local.get 0)))
        (return (i32.const 10)))
        (return (i32.const 11)))
      (br 1 (i32.const 12)))
    (i32.const 99))
  ;; A local that must start at zero on every call.
  (func $count (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (local.get 1) (local.get 0)))
    (local.get 1))
  ;; Two results, through memory.
  (func $divmod (param i32 i32) (result i32 i32)
    (i32.store (i32.const 8) (i32.div_u (local.get 0) (local.get 1)))
    (i32.load (i32.const 8))
    (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "run") (param $n i32) (result i32) (local $acc i32) (local $i i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.add (call $classify (i32.sub (local.get $i) (i32.const 2)))
                 (call $count (local.get $i)))))
      (call $divmod (i32.add (local.get $i) (i32.const 1000)) (i32.add (local.get $i) (i32.const 7)))
      (local.set $acc (i32.add (local.get $acc) (i32.mul (i32.const 3))))
      (local.set $acc (i32.add (local.get $acc)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc)))"#;

#[test]
fn inlined_calls_compute_what_the_calls_did() {
    let (on, off) = (engine(true, |_| {}), engine(false, |_| {}));
    assert!(
        !calls(&on, ARITH, 3),
        "the leaves are inlined into the export"
    );
    assert!(
        calls(&off, ARITH, 3),
        "with inlining off the export calls them"
    );
    for n in [1, 2, 5, 150, 1000] {
        let args = [Val::I32(n)];
        let a = run(&on, ARITH, "run", &args, 1).unwrap();
        let b = run(&off, ARITH, "run", &args, 1).unwrap();
        assert_eq!(a[0].i32(), b[0].i32(), "n = {n}");
    }
}

const TRAPS: &str = r#"(module
  (memory 1)
  (func $div (param i32) (result i32) (i32.div_s (i32.const 100) (local.get 0)))
  (func $load (param i32) (result i32) (i32.load offset=16 (local.get 0)))
  (func $never (param i32) (result i32) (unreachable))
  ;; Cranelift turns the branch to the trap into a conditional trap at the branch.
  (func $check (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (local.get 0))
  (func $mid (param i32) (result i32)
    (i32.add (call $div (local.get 0)) (call $load (i32.mul (local.get 0) (i32.const 65536)))))
  (func (export "div") (param i32) (result i32) (call $mid (local.get 0)))
  (func (export "never") (param i32) (result i32) (i32.add (i32.const 1) (call $never (local.get 0))))
  (func (export "check") (param i32) (result i32) (i32.add (i32.const 1) (call $check (local.get 0)))))"#;

#[test]
fn a_trap_in_an_inlined_body_reports_the_callees_frame_above_the_callers() {
    let on = engine(true, |_| {});
    assert!(!calls(&on, TRAPS, 4) && !calls(&on, TRAPS, 7));
    for (name, arg, code, top) in [
        ("div", 0, TrapCode::IntegerDivisionByZero, 0),
        ("div", 2, TrapCode::MemoryOutOfBounds, 1),
        ("never", 0, TrapCode::UnreachableCodeReached, 2),
        ("check", 0, TrapCode::UnreachableCodeReached, 3),
    ] {
        let (on, off) = (trap(true, TRAPS, name, arg), trap(false, TRAPS, name, arg));
        assert_eq!(on.code(), code, "{name}({arg})");
        assert_eq!(on.code(), off.code());
        assert_eq!(on.backtrace(), off.backtrace(), "{name}({arg})");
        let frames = on.backtrace();
        assert_eq!(frames[0].func_index, top, "{name}({arg}): {frames:?}");
        assert!(
            frames.iter().all(|f| f.module_offset.is_some()),
            "{frames:?}"
        );
    }
}

#[test]
fn only_small_leaves_are_inlined_and_never_with_fuel_or_epochs() {
    let body = "(i32.add (local.get 0) (i32.const 1)) ".repeat(40);
    let drops = "drop ".repeat(39);
    let wat = format!(
        r#"(module
          (func $big (param i32) (result i32) {body} {drops})
          (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (func $caller (param i32) (result i32) (call $leaf (local.get 0)))
          (func (export "big") (param i32) (result i32) (call $big (local.get 0)))
          (func (export "nonleaf") (param i32) (result i32) (call $caller (local.get 0))))"#
    );
    let on = engine(true, |_| {});
    assert!(calls(&on, &wat, 3), "a 120-operator body is not inlined");
    assert!(!calls(&on, &wat, 2), "the leaf is inlined into its caller");
    assert!(
        calls(&on, &wat, 4),
        "a function that calls another is not inlined"
    );
    let fuel = engine(true, |c| {
        c.consume_fuel(true);
    });
    assert!(
        calls(&fuel, &wat, 2),
        "fuel is charged per call: no inlining"
    );
    let epochs = engine(true, |c| {
        c.epoch_interruption(true);
    });
    assert!(
        calls(&epochs, &wat, 2),
        "epochs are checked per call: no inlining"
    );
}

const RECURSIVE: &str = r#"(module
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; Traps at the bottom of the recursion, `n + 1` frames down.
  (func $down (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))
  (func (export "fib") (param i32) (result i32) (call $fib (local.get 0)))
  (func (export "down") (param i32) (result i32) (call $down (local.get 0))))"#;

#[test]
fn a_small_recursive_function_unrolls_one_level_with_its_frames_kept() {
    let (on, off) = (engine(true, |_| {}), engine(false, |_| {}));
    assert_eq!(call_count(&off, RECURSIVE, 0), 2);
    assert_eq!(
        call_count(&on, RECURSIVE, 0),
        4,
        "each of fib's two calls is replaced by fib's body, which makes two"
    );
    for n in [0, 1, 2, 3, 10, 20] {
        let args = [Val::I32(n)];
        let a = run(&on, RECURSIVE, "fib", &args, 1).unwrap();
        let b = run(&off, RECURSIVE, "fib", &args, 1).unwrap();
        assert_eq!(a[0].i32(), b[0].i32(), "fib({n})");
    }
    for n in [0, 1, 2, 5] {
        let (on, off) = (
            trap(true, RECURSIVE, "down", n),
            trap(false, RECURSIVE, "down", n),
        );
        assert_eq!(on.code(), TrapCode::UnreachableCodeReached);
        assert_eq!(on.backtrace(), off.backtrace(), "down({n})");
        let downs = on.backtrace().iter().filter(|f| f.func_index == 1).count();
        assert_eq!(downs, n as usize + 1, "down({n}): {:?}", on.backtrace());
    }
}
