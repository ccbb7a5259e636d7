//! Public API tests: compile, instantiate, call, trap, host functions.

use runtime::*;

fn instance(store: &mut Store<()>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&mut *store).results().len()];
    f.call(store, args, &mut results)?;
    Ok(results)
}

#[test]
fn fib_runs() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#,
        &[],
    );
    assert_eq!(
        call(&mut store, inst, "fib", &[Val::I32(20)]).unwrap(),
        vec![Val::I32(6765)]
    );
}

#[test]
fn traps_are_reported_and_execution_continues() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module (memory 1)
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "unreachable") unreachable)
            (func $r (export "recurse") (call $r)))"#,
        &[],
    );
    for _ in 0..3 {
        let e = call(&mut store, inst, "div", &[Val::I32(1), Val::I32(0)]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::IntegerDivisionByZero,
            "{e}"
        );
        let e = call(&mut store, inst, "div", &[Val::I32(i32::MIN), Val::I32(-1)]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::IntegerOverflow,
            "{e}"
        );
        let e = call(&mut store, inst, "load", &[Val::I32(65534)]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::MemoryOutOfBounds,
            "{e}"
        );
        let e = call(&mut store, inst, "unreachable", &[]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::UnreachableCodeReached,
            "{e}"
        );
        assert!(!e.as_trap().unwrap().backtrace().is_empty());
        let e = call(&mut store, inst, "recurse", &[]).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code(), TrapCode::StackOverflow, "{e}");
    }
    assert_eq!(
        call(&mut store, inst, "div", &[Val::I32(7), Val::I32(2)]).unwrap(),
        vec![Val::I32(3)]
    );
}

#[test]
fn host_functions_are_called_and_can_trap() {
    let mut store = Store::new(&Engine::default(), ());
    let add = Func::new(
        &mut store,
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32]),
        |_, args, results| {
            results[0] = Val::I32(args[0].i32().unwrap() + args[1].i32().unwrap());
            Ok(())
        },
    );
    let fail = Func::new(&mut store, FuncType::new([], []), |_, _, _| {
        Err(Trap::host("nope").into())
    });
    let inst = instance(
        &mut store,
        r#"(module (import "h" "add" (func $add (param i32 i32) (result i32)))
            (import "h" "fail" (func $fail))
            (func (export "f") (result i32) (call $add (i32.const 2) (i32.const 40)))
            (func (export "g") (call $fail)))"#,
        &[Extern::Func(add), Extern::Func(fail)],
    );
    assert_eq!(
        call(&mut store, inst, "f", &[]).unwrap(),
        vec![Val::I32(42)]
    );
    let e = call(&mut store, inst, "g", &[]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().message(), "nope");
}

#[test]
fn traps_work_on_many_threads_at_once() {
    let engine = Engine::default();
    let wat = r#"(module (memory 1)
        (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
        (func $r (export "recurse") (param i32) (result i32)
          (i32.add (call $r (local.get 0)) (i32.const 1))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let module = module.clone();
            std::thread::spawn(move || {
                let mut store = Store::new(module.engine(), ());
                let inst = Instance::new(&mut store, &module, &[]).unwrap();
                for i in 0..50 {
                    let e = call(&mut store, inst, "oob", &[Val::I32(70000 + i)]).unwrap_err();
                    assert_eq!(e.as_trap().unwrap().code(), TrapCode::MemoryOutOfBounds);
                    let e = call(&mut store, inst, "recurse", &[Val::I32(i)]).unwrap_err();
                    assert_eq!(e.as_trap().unwrap().code(), TrapCode::StackOverflow);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A fault outside wasm is not ours: with our handlers installed (after a wasm call), the
/// process still dies of the signal, as without them. Runs itself as a child process.
#[test]
fn faults_outside_wasm_reach_the_previous_handler() {
    if std::env::var_os("RUNTIME_TEST_SEGFAULT").is_some() {
        let mut store = Store::new(&Engine::default(), ());
        let inst = instance(&mut store, r#"(module (func (export "f")))"#, &[]);
        call(&mut store, inst, "f", &[]).unwrap();
        // SAFETY: none; this child process is meant to crash here.
        unsafe { std::ptr::null::<u8>().read_volatile() };
        unreachable!("the null read must fault");
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "faults_outside_wasm_reach_the_previous_handler",
            "--exact",
            "--nocapture",
        ])
        .env("RUNTIME_TEST_SEGFAULT", "1")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    const SIGSEGV: i32 = 11;
    assert_eq!(out.status.signal(), Some(SIGSEGV), "{out:?}");
}

#[test]
fn explicit_bounds_checks_trap_at_the_end_and_follow_growth() {
    for explicit in [false, true] {
        let mut config = Config::new();
        config.explicit_bounds_checks(explicit);
        let mut store = Store::new(&Engine::new(&config).unwrap(), ());
        let inst = instance(
            &mut store,
            r#"(module (memory 1 3)
                (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
                (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
            &[],
        );
        assert_eq!(
            call(&mut store, inst, "load", &[Val::I32(65528)]).unwrap(),
            [Val::I32(0)]
        );
        let e = call(&mut store, inst, "load", &[Val::I32(65529)]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::MemoryOutOfBounds,
            "explicit={explicit}"
        );
        let e = call(&mut store, inst, "load", &[Val::I32(-1)]).unwrap_err();
        assert_eq!(
            e.as_trap().unwrap().code(),
            TrapCode::MemoryOutOfBounds,
            "explicit={explicit}"
        );
        assert_eq!(
            call(&mut store, inst, "grow", &[Val::I32(1)]).unwrap(),
            [Val::I32(1)]
        );
        assert_eq!(
            call(&mut store, inst, "load", &[Val::I32(65529)]).unwrap(),
            [Val::I32(0)]
        );
        assert_eq!(
            call(&mut store, inst, "grow", &[Val::I32(2)]).unwrap(),
            [Val::I32(-1)]
        );
    }
}
