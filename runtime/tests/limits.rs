//! Execution budgets: fuel (`Config::consume_fuel`), epoch deadlines
//! (`Config::epoch_interruption`) and `Config::max_wasm_stack`.

use runtime::*;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    configure(&mut config);
    Engine::new(&config).unwrap()
}

fn fuel_engine() -> Engine {
    engine(|c| {
        c.consume_fuel(true);
    })
}

fn epoch_engine() -> Engine {
    engine(|c| {
        c.epoch_interruption(true);
    })
}

fn instance<T: 'static>(store: &mut Store<T>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn call<T: 'static>(
    store: &mut Store<T>,
    inst: Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>> {
    let f = inst.get_func(&*store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(store, args, &mut results)?;
    Ok(results)
}

/// The trap code of a failed call.
fn trap_code(result: Result<Vec<Val>>) -> TrapCode {
    match result {
        Err(Error::Trap(t)) => t.code(),
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Functions that run forever unless a budget stops them, each reached a different way.
const SPINNERS: &str = r#"(module
    (type $v (func))
    (table 2 funcref)
    (elem (i32.const 0) $spin $tail_self)
    (elem declare func $spin $tail_ref)
    (func $spin (export "spin") (loop br 0))
    (func (export "spin_br_if") (loop (br_if 0 (i32.const 1))))
    (func (export "spin_br_table") (loop (br_table 0 0 (i32.const 1))))
    (func (export "spin_br_on_null") (loop (br_on_null 0 (ref.null any)) (drop)))
    (func (export "via_call_indirect") (call_indirect (type $v) (i32.const 0)))
    (func (export "via_call_ref") (call_ref $v (ref.func $spin)))
    ;; Tail calls run forever without growing the stack: only entry checks stop them.
    (func $tail_self (export "tail_self") (return_call $tail_self))
    (func (export "tail_indirect") (return_call_indirect (type $v) (i32.const 1)))
    (func $tail_ref (export "tail_ref") (return_call_ref $v (ref.func $tail_ref))))"#;

const SPINNER_NAMES: &[&str] = &[
    "spin",
    "spin_br_if",
    "spin_br_table",
    "spin_br_on_null",
    "via_call_indirect",
    "via_call_ref",
    "tail_self",
    "tail_indirect",
    "tail_ref",
];

/// Runs `f` on its own thread; a run that does not end in time fails instead of hanging.
fn bounded(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        done.send(()).unwrap();
    });
    if finished.recv_timeout(Duration::from_secs(30)).is_err() {
        // The worker panicked (join reports it) or still runs (nothing stopped it).
        assert!(worker.is_finished(), "the guest was not stopped");
        worker.join().unwrap();
    }
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    bounded(|| {
        let mut store = Store::new(&fuel_engine(), ());
        let inst = instance(&mut store, SPINNERS, &[]);
        for name in SPINNER_NAMES {
            store.set_fuel(1_000_000).unwrap();
            let e = call(&mut store, inst, name, &[]).unwrap_err();
            let trap = e.as_trap().unwrap();
            assert_eq!(trap.code(), TrapCode::OutOfFuel, "{name}: {e}");
            assert!(e.to_string().contains("all fuel consumed"), "{e}");
            assert_eq!(store.get_fuel().unwrap(), 0, "{name}");
        }
    });
}

#[test]
fn fuel_counts_operators_exactly() {
    let mut store = Store::new(&fuel_engine(), ());
    let inst = instance(
        &mut store,
        r#"(module
            (func (export "add1") (param i32) (result i32)
                (i32.add (local.get 0) (i32.const 1)))
            ;; Five operators per iteration: local.get, i32.const, i32.sub, local.tee, br_if
            ;; (and one unit for entering the function, as for every function).
            (func (export "count") (param i32)
                (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
            (func $add1 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
            ;; entry, local.get, call, i32.const, i32.mul, and the callee's 4: 9.
            (func (export "calls") (param i32) (result i32)
                (i32.mul (call $add1 (local.get 0)) (i32.const 2))))"#,
        &[],
    );
    store.set_fuel(1000).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 1000);
    // Entry, local.get, i32.const, i32.add (the numbers Wasmtime 49 gives).
    call(&mut store, inst, "add1", &[Val::I32(1)]).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 996);
    call(&mut store, inst, "count", &[Val::I32(100)]).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 996 - 501);
    assert_eq!(
        call(&mut store, inst, "calls", &[Val::I32(4)]).unwrap(),
        [Val::I32(10)]
    );
    assert_eq!(store.get_fuel().unwrap(), 495 - 9);
    // Not enough for the whole loop: it stops at a loop header with nothing left.
    let e = call(&mut store, inst, "count", &[Val::I32(1000)]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code(), TrapCode::OutOfFuel, "{e}");
    assert_eq!(store.get_fuel().unwrap(), 0);
    // Refuelled, the same call runs to the end.
    store.set_fuel(5000).unwrap();
    call(&mut store, inst, "count", &[Val::I32(1000)]).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 0);
    store.set_fuel(0).unwrap();
    assert_eq!(
        trap_code(call(&mut store, inst, "add1", &[Val::I32(1)])),
        TrapCode::OutOfFuel
    );
}

#[test]
fn each_path_pays_for_its_own_operators() {
    let mut store = Store::new(&fuel_engine(), ());
    let inst = instance(
        &mut store,
        r#"(module
            ;; entry, local.get, i32.const, i32.lt_s, if: 5; then: 3 more, else: 1 more.
            (func (export "abs") (param i32) (result i32)
                (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
                    (then (i32.sub (i32.const 0) (local.get 0)))
                    (else (local.get 0))))
            ;; entry, local.get, br_table: 3; then 1 after $a, 3 after $b.
            (func (export "pick") (param i32) (result i32)
                (block $a
                    (block $b (br_table $a $b (local.get 0)))
                    (return (i32.add (i32.const 20) (i32.const 1))))
                (i32.const 10)))"#,
        &[],
    );
    let mut cost = |name: &str, arg: i32| {
        store.set_fuel(100).unwrap();
        call(&mut store, inst, name, &[Val::I32(arg)]).unwrap();
        100 - store.get_fuel().unwrap()
    };
    assert_eq!(cost("abs", -5), 8);
    assert_eq!(cost("abs", 5), 6);
    assert_eq!(cost("pick", 0), 4);
    assert_eq!(cost("pick", 1), 6);
}

#[test]
fn fuel_is_counted_across_exceptions() {
    let mut store = Store::new(&fuel_engine(), ());
    let inst = instance(
        &mut store,
        r#"(module
            (tag $e)
            ;; entry, i32.const, throw: 3 (drop is free).
            (func $thrower (export "thrower") (drop (i32.const 1)) (throw $e))
            ;; entry, try_table, call (+3), i32.const after the catch: 7.
            (func (export "catcher") (result i32)
                (block $h
                    (try_table (catch $e $h) (call $thrower))
                    (return (i32.const 0)))
                (i32.const 7))
            ;; entry, call (+3): 5, and the exception reaches the host.
            (func (export "escapes") (call $thrower)))"#,
        &[],
    );
    store.set_fuel(100).unwrap();
    assert_eq!(
        call(&mut store, inst, "catcher", &[]).unwrap(),
        [Val::I32(7)]
    );
    assert_eq!(store.get_fuel().unwrap(), 93);
    assert_eq!(
        trap_code(call(&mut store, inst, "escapes", &[])),
        TrapCode::UncaughtException
    );
    assert_eq!(store.get_fuel().unwrap(), 88);
}

#[test]
fn fuel_needs_the_config() {
    let mut store = Store::new(&Engine::default(), ());
    assert!(store.set_fuel(10).is_err());
    let e = store.get_fuel().unwrap_err();
    assert!(e.to_string().contains("fuel is not configured"), "{e}");
    // Without fuel the loop counter is not charged at all.
    let inst = instance(
        &mut store,
        r#"(module (func (export "f") (loop (br_if 0 (i32.const 0)))))"#,
        &[],
    );
    call(&mut store, inst, "f", &[]).unwrap();
}

#[test]
fn a_start_function_runs_out_of_fuel() {
    bounded(|| {
        let mut store = Store::new(&fuel_engine(), ());
        store.set_fuel(10_000).unwrap();
        let wat = r#"(module (func $s (loop br 0)) (start $s))"#;
        let module = Module::new(store.engine(), wat).unwrap();
        let e = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code(), TrapCode::OutOfFuel, "{e}");
    });
}

#[test]
fn host_functions_see_and_share_the_fuel() {
    bounded(|| {
        let mut store = Store::new(&fuel_engine(), ());
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen_in_host = seen.clone();
        // The host reports the fuel it sees, refuels, and calls back into wasm's `spin`.
        let host = Func::new(
            &mut store,
            FuncType::new([ValType::I32], []),
            move |mut caller, args, _| {
                seen_in_host.store(caller.get_fuel().unwrap(), Ordering::Relaxed);
                if args[0].i32() == Some(1) {
                    caller.set_fuel(1000).unwrap();
                    let spin = caller.get_export("spin").unwrap().into_func().unwrap();
                    spin.call(&mut caller, &[], &mut [])?;
                }
                Ok(())
            },
        );
        let inst = instance(
            &mut store,
            r#"(module (import "host" "f" (func $f (param i32)))
                (func (export "spin") (loop br 0))
                ;; entry, i32.const, call: the host sees 3 units gone.
                (func (export "report") (call $f (i32.const 0)))
                (func (export "nested") (call $f (i32.const 1))))"#,
            &[Extern::Func(host)],
        );
        store.set_fuel(100).unwrap();
        call(&mut store, inst, "report", &[]).unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), 97);
        assert_eq!(store.get_fuel().unwrap(), 97);
        let e = call(&mut store, inst, "nested", &[]).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code(), TrapCode::OutOfFuel, "{e}");
        assert_eq!(store.get_fuel().unwrap(), 0);
    });
}

#[test]
fn the_default_epoch_deadline_traps_at_once() {
    let mut store = Store::new(&epoch_engine(), ());
    let inst = instance(
        &mut store,
        r#"(module (func (export "f") (result i32) (i32.const 1)))"#,
        &[],
    );
    assert_eq!(
        trap_code(call(&mut store, inst, "f", &[])),
        TrapCode::Interrupt
    );
    store.set_epoch_deadline(1);
    assert_eq!(call(&mut store, inst, "f", &[]).unwrap(), [Val::I32(1)]);
    store.engine().increment_epoch();
    let e = call(&mut store, inst, "f", &[]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code(), TrapCode::Interrupt, "{e}");
    assert!(e.to_string().contains("interrupt"), "{e}");
}

#[test]
fn an_infinite_loop_is_interrupted_from_another_thread() {
    let engine = epoch_engine();
    // One store per spinner, each on its own thread; the main thread increments the epoch.
    let (done, finished) = mpsc::channel();
    let mut workers = Vec::new();
    for name in SPINNER_NAMES {
        let engine = engine.clone();
        let done = done.clone();
        let (ready, started) = mpsc::channel();
        workers.push(std::thread::spawn(move || {
            let mut store = Store::new(&engine, ());
            let inst = instance(&mut store, SPINNERS, &[]);
            store.set_epoch_deadline(1);
            ready.send(()).unwrap();
            let code = trap_code(call(&mut store, inst, name, &[]));
            done.send((name, code, Instant::now())).unwrap();
        }));
        started.recv().unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    let incremented = Instant::now();
    engine.increment_epoch();
    for _ in SPINNER_NAMES {
        // A worker that is never interrupted fails the test instead of hanging it.
        let (name, code, at) = finished
            .recv_timeout(Duration::from_secs(30))
            .expect("every spinner is interrupted");
        assert_eq!(code, TrapCode::Interrupt, "{name}");
        let latency = at.duration_since(incremented);
        assert!(latency < Duration::from_secs(1), "{name}: {latency:?}");
    }
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn epoch_checks_cover_start_functions_and_host_callbacks() {
    let mut store = Store::new(&epoch_engine(), ());
    let module = Module::new(store.engine(), r#"(module (func $s) (start $s))"#).unwrap();
    let e = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code(), TrapCode::Interrupt, "{e}");
    store.set_epoch_deadline(1);
    // The host moves the deadline to now, then calls back into wasm, which must trap.
    let host = Func::new(&mut store, FuncType::new([], []), |mut caller, _, _| {
        caller.set_epoch_deadline(0);
        let f = caller.get_export("leaf").unwrap().into_func().unwrap();
        f.call(&mut caller, &[], &mut [])
    });
    let inst = instance(
        &mut store,
        r#"(module (import "host" "f" (func $f))
            (func (export "leaf"))
            (func (export "outer") (call $f)))"#,
        &[Extern::Func(host)],
    );
    assert_eq!(
        trap_code(call(&mut store, inst, "outer", &[])),
        TrapCode::Interrupt
    );
}

const RECURSION: &str = r#"(module
    (import "host" "f" (func $host (param i32) (result i32)))
    ;; depth(n) recurses n times.
    (func $depth (export "depth") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
    ;; Recurses n times, then calls the host, which calls depth(m).
    (func $through_host (export "through_host") (param i32 i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (call $host (local.get 1)))
            (else (call $through_host (i32.sub (local.get 0) (i32.const 1)) (local.get 1))))))"#;

/// A store with `RECURSION` instantiated; its host function calls `depth` with its argument.
fn recursion(engine: &Engine) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let host = Func::new(
        &mut store,
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, args, results| {
            let depth = caller.get_export("depth").unwrap().into_func().unwrap();
            depth.call(&mut caller, args, results)
        },
    );
    let inst = instance(&mut store, RECURSION, &[Extern::Func(host)]);
    (store, inst)
}

#[test]
fn max_wasm_stack_bounds_recursion_independently_of_the_thread() {
    // A thread with far more stack than either limit, so only `max_wasm_stack` decides.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let small = engine(|c| {
                c.max_wasm_stack(65536);
            });
            let (mut store, inst) = recursion(&small);
            for _ in 0..2 {
                assert_eq!(
                    trap_code(call(&mut store, inst, "depth", &[Val::I32(100_000)])),
                    TrapCode::StackOverflow
                );
                // The store still works after the trap.
                assert_eq!(
                    call(&mut store, inst, "depth", &[Val::I32(100)]).unwrap(),
                    [Val::I32(100)]
                );
            }
            // Host frames in between count against the same budget: 500 frames on each side
            // fit, but not 100,000 after the host.
            let args = [Val::I32(500), Val::I32(500)];
            assert_eq!(
                call(&mut store, inst, "through_host", &args).unwrap(),
                [Val::I32(500)]
            );
            let args = [Val::I32(500), Val::I32(100_000)];
            assert_eq!(
                trap_code(call(&mut store, inst, "through_host", &args)),
                TrapCode::StackOverflow
            );
            // The same recursion fits in a larger budget on the same thread.
            let large = engine(|c| {
                c.max_wasm_stack(32 << 20);
            });
            let (mut store, inst) = recursion(&large);
            assert_eq!(
                call(&mut store, inst, "depth", &[Val::I32(100_000)]).unwrap(),
                [Val::I32(100_000)]
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn max_wasm_stack_must_not_be_zero() {
    let mut config = Config::new();
    config.max_wasm_stack(0);
    let e = Engine::new(&config).err().unwrap();
    assert!(e.to_string().contains("max_wasm_stack"), "{e}");
}
