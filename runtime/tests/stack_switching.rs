//! Stack switching through the public API: a generator suspending a million times, traps and
//! stack overflows inside continuations (with backtraces; their stacks are reused after),
//! suspensions that would cross a host frame, host functions that re-enter wasm from inside a
//! continuation, exceptions and GC references crossing switches, one-shot references and the
//! cap on live continuations. Every case runs with opt level speed and none.

use runtime::*;

fn engines() -> Vec<Engine> {
    [OptLevel::Speed, OptLevel::None]
        .into_iter()
        .map(|opt| {
            let mut config = Config::new();
            config
                .wasm_stack_switching(true)
                .cranelift_opt_level(opt)
                .continuation_stack_size(256 << 10);
            Engine::new(&config).unwrap()
        })
        .collect()
}

fn instantiate(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut out = vec![Val::I64(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut out)?;
    Ok(out)
}

fn trap_code(r: &Result<Vec<Val>>) -> Option<TrapCode> {
    match r {
        Err(Error::Trap(t)) => Some(t.code()),
        _ => None,
    }
}

/// `sum n`: the sum of what a generator of 0, 1, ..., n-1 yields (also `cargo xtask bench`).
const GENERATOR: &str = include_str!("../../xtask/bench/stack-switching/generator.wat");

/// A million suspend/resume round trips through one continuation give the right sum, and
/// running it again reuses the pooled stack.
#[test]
fn a_generator_suspends_a_million_times() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, GENERATOR, &[]);
        for n in [1u32, 10, 1_000_000] {
            let out = call(&mut store, inst, "sum", &[Val::I32(n as i32)]).unwrap();
            let n = n as i64;
            assert_eq!(out[0].i64(), Some(n * (n - 1) / 2));
        }
    }
}

const TRAPS: &str = r#"
(module
  (type $f (func))
  (type $c (cont $f))
  (tag $t)
  (func $boom (call $deeper))
  (func $deeper unreachable)
  (func $recurse (call $recurse))
  (func $fine)
  (func $nested (resume $c (cont.new $c (ref.func $boom))))
  (elem declare func $boom $recurse $fine $nested)
  (func (export "trap") (resume $c (cont.new $c (ref.func $boom))))
  (func (export "overflow") (resume $c (cont.new $c (ref.func $recurse))))
  (func (export "nested-trap") (resume $c (cont.new $c (ref.func $nested))))
  (func (export "fine") (resume $c (cont.new $c (ref.func $fine))))
  (func (export "twice") (local $k (ref $c))
    (local.set $k (cont.new $c (ref.func $fine)))
    (resume $c (local.get $k))
    (resume $c (local.get $k)))
  (func (export "bind-consumed") (local $k (ref $c))
    (local.set $k (cont.new $c (ref.func $fine)))
    (drop (cont.bind $c $c (local.get $k)))
    (resume $c (local.get $k)))
  (func (export "unhandled") (suspend $t))
  (func (export "null") (resume $c (ref.null $c)))
  (func (export "leak") (param $n i32)
    (loop $l
      (drop (cont.new $c (ref.func $fine)))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l))))
"#;

/// A trap inside a continuation (or one nested in another) ends the whole call with the trap
/// and a backtrace of the continuation's frames; a runaway recursion inside one is a stack
/// overflow, not a crash; the stacks are freed, so this can repeat far more often than the
/// store may hold continuations at once.
#[test]
fn traps_and_overflows_inside_continuations() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, TRAPS, &[]);
        let r = call(&mut store, inst, "trap", &[]);
        assert_eq!(trap_code(&r), Some(TrapCode::UnreachableCodeReached));
        let Err(Error::Trap(t)) = r else {
            unreachable!()
        };
        let funcs: Vec<u32> = t.backtrace().iter().map(|f| f.func_index).collect();
        // $deeper (1) called from $boom (0) on the continuation's stack, then the resumer
        // (5, the export) on the host's.
        assert_eq!(funcs, [1, 0, 5], "{t}");
        let r = call(&mut store, inst, "overflow", &[]);
        assert_eq!(trap_code(&r), Some(TrapCode::StackOverflow));
        for _ in 0..3 {
            let r = call(&mut store, inst, "nested-trap", &[]);
            let Err(Error::Trap(t)) = r else {
                panic!("nested-trap: {r:?}")
            };
            assert_eq!(t.code(), TrapCode::UnreachableCodeReached);
            let funcs: Vec<u32> = t.backtrace().iter().map(|f| f.func_index).collect();
            // Through two continuation stacks: $nested (4) resumed $boom, "nested-trap" (7)
            // resumed $nested.
            assert_eq!(funcs, [1, 0, 4, 7], "{t}");
        }
        for i in 0..12_000 {
            let r = call(
                &mut store,
                inst,
                if i % 2 == 0 { "trap" } else { "fine" },
                &[],
            );
            assert_eq!(r.is_ok(), i % 2 == 1, "call {i}: {r:?}");
        }
        call(&mut store, inst, "fine", &[]).unwrap();
    }
}

/// Continuations are one-shot; null references, unhandled tags and too many live
/// continuations trap with the spec's (or our) messages.
#[test]
fn misuse_traps() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, TRAPS, &[]);
        for (name, code, message) in [
            (
                "twice",
                TrapCode::ContinuationAlreadyConsumed,
                "continuation already consumed",
            ),
            (
                "bind-consumed",
                TrapCode::ContinuationAlreadyConsumed,
                "continuation already consumed",
            ),
            ("unhandled", TrapCode::UnhandledTag, "unhandled tag"),
            (
                "null",
                TrapCode::NullContinuationReference,
                "null continuation reference",
            ),
        ] {
            let r = call(&mut store, inst, name, &[]);
            assert_eq!(trap_code(&r), Some(code), "{name}: {r:?}");
            assert_eq!(code.message(), message);
        }
        // Never-resumed continuations keep their stacks until the store drops: 10,000 may
        // live at once.
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, TRAPS, &[]);
        call(&mut store, inst, "leak", &[Val::I32(10_000)]).unwrap();
        let r = call(&mut store, inst, "leak", &[Val::I32(1)]);
        assert_eq!(trap_code(&r), Some(TrapCode::ContinuationStackAllocation));
        // A fresh store starts over.
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, TRAPS, &[]);
        call(&mut store, inst, "leak", &[Val::I32(100)]).unwrap();
    }
}

const HOST: &str = r#"
(module
  (import "host" "call" (func $host (param i32) (result i64)))
  (type $f (func (result i64)))
  (type $c (cont $f))
  (type $kf (func (param i64) (result i64)))
  (type $kc (cont $kf))
  (tag $t (result i64))
  (func $body (result i64) (call $host (i32.const 1000)))
  (elem declare func $body)
  ;; Runs the host function inside a continuation; -1 if $t was suspended to us.
  (func (export "outer") (result i64)
    (block $h (result (ref $kc))
      (resume $c (on $t $h) (cont.new $c (ref.func $body)))
      (return))
    (drop)
    (i64.const -1))
  (func (export "suspend") (result i64) (suspend $t)))
"#;

/// A host function called from inside a continuation may call wasm that runs continuations
/// of its own; a suspension there does not reach the handlers outside the host frame.
#[test]
fn host_frames_inside_continuations() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let generator = Module::new(&engine, GENERATOR).unwrap();
        let gen_inst = Instance::new(&mut store, &generator, &[]).unwrap();
        let sum = gen_inst.get_func(&mut store, "sum").unwrap();
        let suspend_slot: std::sync::Arc<std::sync::Mutex<Option<Func>>> = Default::default();
        let slot = suspend_slot.clone();
        let host = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, n: i32| {
            let mut out = [Val::I64(0)];
            sum.call(&mut caller, &[Val::I32(n)], &mut out)?;
            let inner = slot.lock().unwrap().unwrap();
            let r = inner.call(&mut caller, &[], &mut [Val::I64(0)]);
            match r {
                Err(Error::Trap(t)) if t.code() == TrapCode::UnhandledTag => {}
                other => panic!("the suspension crossed the host frame: {other:?}"),
            }
            Ok(out[0].i64().unwrap())
        });
        let inst = instantiate(&mut store, HOST, &[host.into()]);
        let inner = inst.get_func(&mut store, "suspend").unwrap();
        *suspend_slot.lock().unwrap() = Some(inner);
        for _ in 0..3 {
            let out = call(&mut store, inst, "outer", &[]).unwrap();
            assert_eq!(out[0].i64(), Some(999 * 1000 / 2));
        }
    }
}

const CROSSING: &str = r#"
(module
  (type $s (struct (field (mut i32))))
  (type $f (func (param (ref $s)) (result (ref $s))))
  (type $c (cont $f))
  (type $kf (func (param (ref $s)) (result (ref $s))))
  (type $kc (cont $kf))
  (tag $swap (param (ref $s)) (result (ref $s)))
  (tag $e (param i32))
  ;; Suspends with its argument, gets another struct back, adds the two fields.
  (func $body (param $a (ref $s)) (result (ref $s))
    (local $b (ref $s))
    (local.set $b (suspend $swap (local.get $a)))
    (struct.set $s 0 (local.get $b)
      (i32.add (struct.get $s 0 (local.get $a)) (struct.get $s 0 (local.get $b))))
    (local.get $b))
  (func $thrower (param (ref $s)) (result (ref $s))
    (throw $e (struct.get $s 0 (local.get 0))))
  (elem declare func $body $thrower)
  (func (export "gc") (result i32)
    (local $k (ref null $kc))
    (block $h (result (ref $s) (ref $kc))
      (drop (resume $c (on $swap $h)
        (struct.new $s (i32.const 40)) (cont.new $c (ref.func $body))))
      (return (i32.const -1)))
    (local.set $k)
    (drop)
    (struct.get $s 0 (resume $kc (struct.new $s (i32.const 2)) (local.get $k))))
  (func (export "exception") (result i32)
    (block $caught (result i32)
      (try_table (catch $e $caught)
        (drop (resume $c (struct.new $s (i32.const 7)) (cont.new $c (ref.func $thrower)))))
      (i32.const -1))))
"#;

/// GC references travel through suspension payloads and resumption arguments; an exception
/// a continuation does not catch reaches the resumer's handler.
#[test]
fn references_and_exceptions_cross_switches() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, CROSSING, &[]);
        assert_eq!(
            call(&mut store, inst, "gc", &[]).unwrap()[0].i32(),
            Some(42)
        );
        let out = call(&mut store, inst, "exception", &[]).unwrap();
        assert_eq!(out[0].i32(), Some(7));
    }
}

/// Without the proposal the instructions are invalid.
#[test]
fn the_proposal_is_off_by_default() {
    let engine = Engine::default();
    let Err(err) = Module::new(&engine, GENERATOR) else {
        panic!("a continuation type validated without the proposal");
    };
    let err = err.to_string();
    assert!(err.contains("stack switching"), "{err}");
}

/// Continuation references reach the host as opaque [`Val::ContRef`]s (never mistaken for
/// functions or GC objects) and go back into wasm of the same store.
#[test]
fn continuation_references_cross_to_the_host_and_back() {
    let wat = r#"
      (module
        (type $f (func (result i32)))
        (type $c (cont $f))
        (type $f2 (func (param i32 i32 i32) (result i32 i32 i32 i32)))
        (type $c2 (cont $f2))
        (func $seven (result i32) (i32.const 7))
        (elem declare func $seven)
        (global (export "g") (mut (ref null $c)) (ref.null $c))
        (global (export "any") (mut (ref null cont)) (ref.null cont))
        (func (export "run2") (param (ref null $c2)) (result i32 i32 i32 i32)
          (resume $c2 (i32.const 1) (i32.const 2) (i32.const 3) (local.get 0)))
        (func (export "make") (result (ref null $c)) (cont.new $c (ref.func $seven)))
        (func (export "run") (param (ref null $c)) (result i32) (resume $c (local.get 0))))
    "#;
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, wat, &[]);
        let k = call(&mut store, inst, "make", &[]).unwrap().remove(0);
        assert!(matches!(k, Val::ContRef(_)), "{k:?}");
        let g = inst.get_global(&mut store, "g").unwrap();
        assert!(matches!(g.get(&mut store), Val::NullRef(HeapType::Cont)));
        g.set(&mut store, k).unwrap();
        assert_eq!(g.get(&mut store), k);
        // Not where another continuation type is expected (wasm would resume it with the
        // wrong arguments), nor after a trip through an abstract `cont` slot.
        let run2 = inst.get_func(&mut store, "run2").unwrap();
        let mut four = [Val::I32(0); 4];
        assert!(run2.call(&mut store, &[k], &mut four).is_err());
        let any = inst.get_global(&mut store, "any").unwrap();
        any.set(&mut store, k).unwrap();
        let from_any = any.get(&mut store);
        assert_eq!(from_any, k);
        assert!(call(&mut store, inst, "run", &[from_any]).is_err());
        let out = call(&mut store, inst, "run", &[k]).unwrap();
        assert_eq!(out[0].i32(), Some(7));
        let again = call(&mut store, inst, "run", &[k]);
        assert_eq!(
            trap_code(&again),
            Some(TrapCode::ContinuationAlreadyConsumed)
        );
        let null = call(&mut store, inst, "run", &[Val::NullRef(HeapType::Cont)]);
        assert_eq!(trap_code(&null), Some(TrapCode::NullContinuationReference));
    }
}

/// A suspended continuation lives in its store: the store may move to another thread and
/// resume it there; fuel is charged inside continuations as outside.
#[test]
fn suspended_continuations_move_with_the_store_and_fuel_counts_inside() {
    let wat = r#"
      (module
        (type $f (func (result i32)))
        (type $c (cont $f))
        (tag $t)
        (global $k (mut (ref null $c)) (ref.null $c))
        (func $body (result i32) (suspend $t) (i32.const 42))
        (elem declare func $body)
        (func (export "start")
          (block $h (result (ref $c))
            (drop (resume $c (on $t $h) (cont.new $c (ref.func $body))))
            (return))
          (global.set $k))
        (func (export "finish") (result i32) (resume $c (global.get $k))))
    "#;
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&mut store, wat, &[]);
        call(&mut store, inst, "start", &[]).unwrap();
        let out = std::thread::spawn(move || call(&mut store, inst, "finish", &[]).unwrap())
            .join()
            .unwrap();
        assert_eq!(out[0].i32(), Some(42));
    }
    let mut config = Config::new();
    config.wasm_stack_switching(true).consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&mut store, GENERATOR, &[]);
    store.set_fuel(1_000_000).unwrap();
    let out = call(&mut store, inst, "sum", &[Val::I32(1000)]).unwrap();
    assert_eq!(out[0].i64(), Some(999 * 1000 / 2));
    store.set_fuel(1_000).unwrap();
    let r = call(&mut store, inst, "sum", &[Val::I32(1000)]);
    assert_eq!(trap_code(&r), Some(TrapCode::OutOfFuel));
    store.set_fuel(1_000_000).unwrap();
    let out = call(&mut store, inst, "sum", &[Val::I32(10)]).unwrap();
    assert_eq!(out[0].i64(), Some(45));
}

/// A host function's error inside a continuation comes out of the call unchanged (and the
/// store stays usable); its panic resumes in the caller.
#[test]
fn host_errors_and_panics_inside_continuations() {
    let wat = r#"
      (module
        (import "host" "fail" (func $fail (param i32)))
        (type $f (func))
        (type $c (cont $f))
        (func $body (call $fail (i32.const 1)))
        (func $calm (call $fail (i32.const 0)))
        (elem declare func $body $calm)
        (func (export "run") (resume $c (cont.new $c (ref.func $body))))
        (func (export "calm") (resume $c (cont.new $c (ref.func $calm)))))
    "#;
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let fail = Func::wrap(&mut store, |how: i32| -> Result<()> {
            match how {
                0 => Ok(()),
                1 => Err(Error::Trap(Trap::host("refused"))),
                _ => panic!("the host gives up"),
            }
        });
        let inst = instantiate(&mut store, wat, &[fail.into()]);
        let r = call(&mut store, inst, "run", &[]);
        assert!(format!("{r:?}").contains("refused"), "{r:?}");
        call(&mut store, inst, "calm", &[]).unwrap();
        let mut store = Store::new(&engine, ());
        let panicky = Func::wrap(&mut store, |_: i32| -> Result<()> {
            panic!("the host gives up")
        });
        let inst = instantiate(&mut store, wat, &[panicky.into()]);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = call(&mut store, inst, "run", &[]);
        }));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the host gives up"));
    }
}

/// GC references held in a suspended continuation's frames, and in its resumer's frames
/// while it runs, survive collections that move them: the collector walks suspended chains
/// from their exits and running ones across the resumer link. Under zeal (a collection
/// before every allocation, the old space made inaccessible) a missed slot faults.
#[test]
fn gc_references_in_suspended_and_resuming_frames_survive_moving_collections() {
    let mut config = Config::new();
    config
        .wasm_stack_switching(true)
        .gc_zeal_alloc_counter(Some(1));
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let wat = r#"(module
  (type $box (struct (field i32)))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (tag $yield)
  (func $gen (result i32)
    (local $b (ref null $box)) (local $i i32) (local $sum i32)
    (local.set $b (struct.new $box (i32.const 7)))
    (loop $l
      (suspend $yield)
      (drop (struct.new $box (local.get $i)))
      (local.set $sum (i32.add (local.get $sum) (struct.get $box 0 (local.get $b))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (local.get $sum))
  (elem declare func $gen)
  (func (export "run") (result i32)
    (local $k (ref null $c)) (local $outer (ref null $box)) (local $r i32)
    (local.set $outer (struct.new $box (i32.const 1000)))
    (local.set $k (cont.new $c (ref.func $gen)))
    (block $finished
      (loop $drive
        (block $h (result (ref $c))
          (local.set $r (resume $c (on $yield $h) (local.get $k)))
          (br $finished))
        (local.set $k)
        (drop (struct.new $box (i32.const 5)))
        (br $drive)))
    (i32.add (local.get $r) (struct.get $box 0 (local.get $outer)))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 7 * 100 + 1000);
    assert!(store.gc_heap_stats().collections > 100);
}

/// A host function called from inside a continuation gets the continuation stack's share
/// beyond `max_wasm_stack` (1.5 MiB of the default 2 MiB), however deep the wasm that calls
/// it: recursion that calls a host function needing 512 KiB of stack every 256 levels ends
/// in a stack-overflow trap, never in the host function overflowing the guard page.
#[test]
fn host_functions_inside_continuations_get_the_stack_beyond_max_wasm_stack() {
    let mut config = Config::new();
    config.wasm_stack_switching(true);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let deep = Func::wrap(&mut store, |x: i32| -> i32 {
        let buf = std::hint::black_box([x as u8; 512 << 10]);
        buf.iter().map(|b| *b as i32).sum::<i32>() / (512 << 10)
    });
    let wat = r#"(module
  (import "host" "deep" (func $deep (param i32) (result i32)))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (func $down (param $n i32) (result i32)
    (if (i32.eqz (i32.and (local.get $n) (i32.const 255)))
      (then (drop (call $deep (i32.const 1)))))
    (i32.add (call $down (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func $body (result i32) (call $down (i32.const 0)))
  (elem declare func $body)
  (func (export "run") (result i32)
    (resume $c (cont.new $c (ref.func $body)))))"#;
    let instance = instantiate(&mut store, wat, &[deep.into()]);
    let result = call(&mut store, instance, "run", &[]);
    assert_eq!(
        trap_code(&result),
        Some(TrapCode::StackOverflow),
        "{result:?}"
    );
}
