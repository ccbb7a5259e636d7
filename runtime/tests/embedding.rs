//! Embedding API tests: host state in the store, typed host functions and calls, the
//! linker's definitions across stores, errors and panics across nested calls.

use runtime::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}

/// Compile-time checks: what a server moves between threads.
#[test]
fn stores_move_between_threads_and_shared_things_are_send_sync() {
    assert_send::<Store<()>>();
    assert_send::<Store<Vec<String>>>();
    assert_send::<Store<wasi::WasiP1Ctx>>();
    assert_send_sync::<Engine>();
    assert_send_sync::<Module>();
    assert_send_sync::<Linker<()>>();
    assert_send_sync::<Linker<std::cell::Cell<u8>>>();
    assert_send_sync::<Func>();
    assert_send_sync::<TypedFunc<(i32, i64), f64>>();
    assert_send_sync::<Instance>();
    assert_send_sync::<Error>();
}

#[derive(Debug, PartialEq)]
struct Quota {
    left: u32,
}

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "quota exhausted ({} left)", self.left)
    }
}

impl std::error::Error for Quota {}

/// wasm `outer` calls host `reenter`, which calls wasm `inner`, which calls host `fail`.
const NESTED: &str = r#"(module
    (import "host" "reenter" (func $reenter (param i32) (result i32)))
    (import "host" "fail" (func $fail (param i32) (result i32)))
    (func (export "outer") (param i32) (result i32) (call $reenter (local.get 0)))
    (func (export "inner") (param i32) (result i32) (call $fail (local.get 0))))"#;

/// A linker whose `host::fail` runs `fail` and whose `host::reenter` calls `inner` back.
fn nested_linker(
    engine: &Engine,
    fail: impl Fn(i32) -> Result<i32> + Send + Sync + 'static,
) -> Linker<Option<Instance>> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Option<Instance>>, x: i32| -> Result<i32> {
                let instance = caller.data().expect("set after instantiation");
                let inner = instance.get_typed_func::<i32, i32>(&caller, "inner")?;
                let r = inner.call(&mut caller, x)?;
                Ok(r + 1)
            },
        )
        .unwrap();
    linker
        .func_wrap("host", "fail", move |x: i32| fail(x))
        .unwrap();
    linker
}

fn nested_call(linker: &Linker<Option<Instance>>, arg: i32) -> Result<i32> {
    let engine = linker.engine();
    let module = Module::new(engine, NESTED).unwrap();
    let mut store = Store::new(engine, None);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    *store.data_mut() = Some(instance);
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .unwrap();
    outer.call(&mut store, arg)
}

#[test]
fn host_errors_keep_their_type_across_nested_calls() {
    let engine = Engine::default();
    let linker = nested_linker(&engine, |x| {
        if x > 0 {
            Ok(x * 10)
        } else {
            Err(Error::new(Quota { left: 7 }))
        }
    });
    assert_eq!(nested_call(&linker, 4).unwrap(), 41);
    let err = nested_call(&linker, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Quota>(),
        Some(&Quota { left: 7 }),
        "{err:?}"
    );
    assert!(matches!(err, Error::Host(_)), "{err:?}");
    assert_eq!(err.to_string(), "quota exhausted (7 left)");
}

#[test]
fn traps_keep_their_code_across_nested_calls() {
    let engine = Engine::default();
    let linker = nested_linker(&engine, |_| Err(Trap::exit(3).into()));
    let err = nested_call(&linker, 1).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.code(), TrapCode::Exit);
    assert_eq!(trap.exit_status(), Some(3));
    assert_eq!(
        err.downcast_ref::<Trap>().map(Trap::code),
        Some(TrapCode::Exit)
    );

    // A wasm trap inside the inner call keeps its code and its backtrace.
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "call" (func $call))
            (func (export "outer") (call $call))
            (func $div (export "inner") (drop (i32.div_s (i32.const 1) (i32.const 0)))))"#,
    )
    .unwrap();
    let mut linker = Linker::<Option<Instance>>::new(&engine);
    linker
        .func_wrap(
            "host",
            "call",
            |mut caller: Caller<'_, Option<Instance>>| {
                let inner = caller.data().unwrap().get_func(&caller, "inner").unwrap();
                inner.call(&mut caller, &[], &mut [])
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, None);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    *store.data_mut() = Some(instance);
    let outer = instance.get_func(&store, "outer").unwrap();
    let err = outer.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(
        err.trap_code(),
        Some(TrapCode::IntegerDivisionByZero),
        "{err}"
    );
    assert!(!err.as_trap().unwrap().backtrace().is_empty());
}

#[test]
fn host_panics_propagate_out_of_the_outermost_call() {
    let engine = Engine::default();
    let linker = nested_linker(&engine, |x| {
        if x == 13 {
            std::panic::panic_any(Quota { left: 13 });
        }
        Ok(x)
    });
    let module = Module::new(&engine, NESTED).unwrap();
    let mut store = Store::new(&engine, None);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    *store.data_mut() = Some(instance);
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .unwrap();
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outer.call(&mut store, 13)))
            .expect_err("the host panic reaches the caller of `call`");
    assert_eq!(payload.downcast_ref::<Quota>(), Some(&Quota { left: 13 }));
    // The store is still usable: the entry state was unwound cleanly.
    assert_eq!(outer.call(&mut store, 2).unwrap(), 3);
}

#[test]
fn typed_calls_check_the_signature_once() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32 i64 f32 f64) (result f64)
            (f64.add (f64.convert_i32_s (local.get 0))
                     (f64.add (f64.convert_i64_s (local.get 1))
                              (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<(i32, i64, f32, f64), f64>(&store, "f")
        .unwrap();
    assert_eq!(f.call(&mut store, (1, 2, 3.5, 4.25)).unwrap(), 10.75);
    for wrong in [
        instance
            .get_typed_func::<(i32, i64, f32), f64>(&store, "f")
            .err(),
        instance
            .get_typed_func::<(i32, i64, f32, f64), f32>(&store, "f")
            .err(),
        instance
            .get_typed_func::<(i64, i64, f32, f64), f64>(&store, "f")
            .err(),
        instance.get_typed_func::<(), ()>(&store, "missing").err(),
    ] {
        assert!(matches!(wrong, Some(Error::Usage(_))), "{wrong:?}");
    }
}

#[test]
fn wrapped_closures_take_up_to_sixteen_parameters_and_return_tuples() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    #[allow(clippy::too_many_arguments)]
    let sum = Func::wrap(
        &mut store,
        |a: i32,
         b: i32,
         c: i32,
         d: i32,
         e: i32,
         f: i32,
         g: i32,
         h: i32,
         i: i64,
         j: i64,
         k: i64,
         l: i64,
         m: u32,
         n: u64,
         o: f32,
         p: f64| {
            let ints = (a + b + c + d + e + f + g + h) as i64 + i + j + k + l;
            (ints + m as i64 + n as i64, o as f64 + p)
        },
    );
    let ty = sum.ty(&store);
    assert_eq!(ty.params().len(), 16);
    assert_eq!(ty.results(), [ValType::I64, ValType::F64]);
    let typed = sum
        .typed::<(
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i64,
            i64,
            i64,
            i64,
            u32,
            u64,
            f32,
            f64,
        ), (i64, f64)>(&store)
        .unwrap();
    let r = typed
        .call(
            &mut store,
            (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0.5, 0.25),
        )
        .unwrap();
    assert_eq!(r, (105, 0.75));

    // Called from wasm, with unsigned values and a `Result` return.
    let halve = Func::wrap(&mut store, |x: u32| -> Result<u32> {
        if x.is_multiple_of(2) {
            Ok(x / 2)
        } else {
            Err(Error::msg(format!("{x} is odd")))
        }
    });
    let module = Module::new(
        &engine,
        r#"(module (import "" "halve" (func $h (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $h (local.get 0))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[halve.into()]).unwrap();
    let run = instance.get_typed_func::<u32, u32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 0xffff_fffe).unwrap(), 0x7fff_ffff);
    assert_eq!(run.call(&mut store, 3).unwrap_err().to_string(), "3 is odd");
}

#[test]
fn references_pass_as_typed_values() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (table $t 2 funcref)
            (func $seven (result i32) (i32.const 7))
            (elem declare func $seven)
            (func (export "get") (result funcref) (ref.func $seven))
            (func (export "call") (param funcref) (result i32)
              (table.set $t (i32.const 0) (local.get 0))
              (call_indirect (result i32) (i32.const 0)))
            (func (export "id_extern") (param externref) (result externref) (local.get 0))
            (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let get = instance
        .get_typed_func::<(), Option<Func>>(&store, "get")
        .unwrap();
    let call = instance
        .get_typed_func::<Option<Func>, i32>(&store, "call")
        .unwrap();
    let seven = get.call(&mut store, ()).unwrap().expect("not null");
    assert_eq!(call.call(&mut store, Some(seven)).unwrap(), 7);
    let id = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&store, "id_extern")
        .unwrap();
    let back = id.call(&mut store, Some(ExternRef::host(99))).unwrap();
    assert_eq!(back.and_then(|e| e.host_index()), Some(99));
    let is_null = instance
        .get_typed_func::<Option<ExternRef>, i32>(&store, "is_null")
        .unwrap();
    assert_eq!(is_null.call(&mut store, None).unwrap(), 1);

    // A function of another store is an error, not a crash.
    let mut other = Store::new(&engine, ());
    let foreign = Func::wrap(&mut other, || 1i32);
    let err = call.call(&mut store, Some(foreign)).unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    let mut out = [Val::I32(0)];
    let untyped = call.func();
    let err = untyped
        .call(&mut store, &[Val::FuncRef(Some(foreign))], &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
}

/// Issue 10: offering a `Memory` (or any extern) of one store to another store's
/// instantiation panicked. It is a link error now, through `Instance::new` and `Linker`.
#[test]
fn items_of_another_store_are_link_errors_not_panics() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "memory" (memory 1))
            (import "env" "f" (func))
            (import "env" "g" (global i32)))"#,
    )
    .unwrap();
    let mut a = Store::new(&engine, ());
    let memory = Memory::new(&mut a, MemoryType::new(1, None)).unwrap();
    let f = Func::wrap(&mut a, || {});
    let ty = GlobalType {
        content: ValType::I32,
        mutable: false,
    };
    let g = Global::new(&mut a, ty, Val::I32(1)).unwrap();
    let mut b = Store::new(&engine, ());
    let f_b = Func::wrap(&mut b, || {});
    let g_b = Global::new(&mut b, ty, Val::I32(1)).unwrap();
    let err = Instance::new(&mut b, &module, &[memory.into(), f_b.into(), g_b.into()]).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err:?}");
    assert!(err.to_string().contains("`env::memory`"), "{err}");
    assert!(err.to_string().contains("another store"), "{err}");
    let memory_b = Memory::new(&mut b, MemoryType::new(1, None)).unwrap();
    let err = Instance::new(&mut b, &module, &[memory_b.into(), f.into(), g_b.into()]).unwrap_err();
    assert!(err.to_string().contains("`env::f`"), "{err}");
    let err = Instance::new(&mut b, &module, &[memory_b.into(), f_b.into(), g.into()]).unwrap_err();
    assert!(err.to_string().contains("`env::g`"), "{err}");
    Instance::new(&mut b, &module, &[memory_b.into(), f_b.into(), g_b.into()]).unwrap();

    // Through a linker: defining with the wrong store fails, and a linker holding store
    // A's items fails to instantiate into store B.
    let mut linker = Linker::new(&engine);
    let err = linker.define(&b, "env", "memory", memory).unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
    linker.define(&a, "env", "memory", memory).unwrap();
    linker.define(&a, "env", "g", g).unwrap();
    linker.func_wrap("env", "f", || {}).unwrap();
    linker.instantiate(&mut a, &module).unwrap();
    let err = linker.instantiate(&mut b, &module).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err:?}");
    assert!(err.to_string().contains("of another store"), "{err}");
    assert_eq!(linker.get(&mut b, "env", "memory"), None);
    assert!(linker.get(&mut b, "env", "f").is_some());

    // A linker of another engine is refused too.
    let other_engine = Engine::default();
    let mut c = Store::new(&other_engine, ());
    assert!(linker.instantiate(&mut c, &module).is_err());
}

#[test]
fn linker_host_functions_are_made_once_per_store() {
    let engine = Engine::default();
    let made = Arc::new(AtomicU32::new(0));
    let mut linker = Linker::<u32>::new(&engine);
    let count = made.clone();
    linker
        .func_wrap("host", "tick", move |mut caller: Caller<'_, u32>| {
            count.fetch_add(1, Ordering::Relaxed);
            *caller.data_mut() += 1;
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "tick" (func $tick))
            (func (export "tick") (result funcref) (call $tick) (ref.func $tick))
            (elem declare func $tick))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0);
    let first = linker.instantiate(&mut store, &module).unwrap();
    let second = linker.instantiate(&mut store, &module).unwrap();
    let a = first
        .get_typed_func::<(), Option<Func>>(&store, "tick")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    let b = second
        .get_typed_func::<(), Option<Func>>(&store, "tick")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_eq!(
        a, b,
        "one host function per store, whatever the instantiations"
    );
    assert_eq!(*store.data(), 2);
    assert_eq!(made.load(Ordering::Relaxed), 2);
}

#[test]
fn linker_shadowing_unknown_imports_and_reactor_modules() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("m", "f", || 1i32).unwrap();
    assert!(linker.func_wrap("m", "f", || 2i32).is_err());
    linker.allow_shadowing(true);
    linker.func_wrap("m", "f", || 2i32).unwrap();

    let module = Module::new(
        &engine,
        r#"(module (import "m" "f" (func $f (result i32)))
            (import "m" "missing" (func $missing (result i32)))
            (func (export "f") (result i32) (call $f))
            (func (export "missing") (result i32) (call $missing)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(
        err.to_string().contains("unknown import: `m::missing`"),
        "{err}"
    );
    linker.define_unknown_imports_as_traps(&module).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 2);
    let missing = instance
        .get_typed_func::<(), i32>(&store, "missing")
        .unwrap();
    let err = missing.call(&mut store, ()).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown import: `m::missing` has not been defined"),
        "{err}"
    );

    // `module` instantiates a reactor once, runs `_initialize` and defines its exports.
    let lib = Module::new(
        &engine,
        r#"(module (global $g (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $g (i32.const 40)))
            (func (export "get") (result i32) (global.get $g)))"#,
    )
    .unwrap();
    linker.module(&mut store, "lib", &lib).unwrap();
    let user = Module::new(
        &engine,
        r#"(module (import "lib" "get" (func $get (result i32)))
            (func (export "run") (result i32) (i32.add (call $get) (i32.const 2))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &user).unwrap();
    let run = instance.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    let command = Module::new(&engine, r#"(module (func (export "_start")))"#).unwrap();
    assert!(linker.module(&mut store, "cmd", &command).is_err());
}

#[test]
fn store_data_and_memory_through_the_caller() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "log" (func $log (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello from wasm")
            (func (export "run") (call $log (i32.const 16) (i32.const 15))))"#,
    )
    .unwrap();
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .func_wrap(
            "host",
            "log",
            |mut caller: Caller<'_, Vec<String>>, ptr: u32, len: u32| -> Result<()> {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .ok_or_else(|| Error::msg("no memory"))?;
                let (data, log) = memory.data_and_store_mut(&mut caller);
                let bytes = data
                    .get(ptr as usize..(ptr + len) as usize)
                    .ok_or_else(|| Error::msg("out of bounds"))?;
                log.push(String::from_utf8_lossy(bytes).into_owned());
                // Writing through the caller works as through a store.
                memory.data_mut(&mut caller)[0] = 1;
                Ok(())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), ()>(&store, "run").unwrap();
    run.call(&mut store, ()).unwrap();
    run.call(&mut store, ()).unwrap();
    let memory = instance.get_memory(&store, "memory").unwrap();
    assert_eq!(memory.data(&store)[0], 1);
    assert_eq!(store.into_data(), ["hello from wasm", "hello from wasm"]);
}
