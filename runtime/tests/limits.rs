//! Execution budgets: `Config::max_wasm_stack`.

use runtime::*;

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    configure(&mut config);
    Engine::new(&config).unwrap()
}

fn instance(store: &mut Store, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn call(store: &mut Store, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(store).results().len()];
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
fn recursion(engine: &Engine) -> (Store, Instance) {
    let mut store = Store::new(engine);
    let host = Func::new(
        &mut store,
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, args, results| {
            let depth = caller.get_export("depth").unwrap().into_func().unwrap();
            depth
                .call(caller.store(), args, results)
                .map_err(|e| e.as_trap().unwrap().clone())
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
