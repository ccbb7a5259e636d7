//! Linking two modules (after the Wasmtime book's linking example): one `Linker` holds a
//! host function and the exports of a first instance; a second module imports from both.
//! Linker definitions are not tied to one store: the host function is defined once and
//! made in every store that instantiates with it.
//!
//! `cargo run -p runtime --example linking`

use runtime::{Caller, Engine, Linker, Module, Result, Store};

/// A library: a counter in its own memory, bumped by `next`.
const COUNTER: &str = r#"(module
    (import "host" "log" (func $log (param i32)))
    (memory (export "memory") 1)
    (func (export "next") (result i32)
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (call $log (i32.load (i32.const 0)))
        (i32.load (i32.const 0))))"#;

/// The program: uses the library's function and reads the library's memory directly.
const APP: &str = r#"(module
    (import "counter" "next" (func $next (result i32)))
    (import "counter" "memory" (memory 1))
    (func (export "run") (result i32)
        (drop (call $next))
        (drop (call $next))
        (i32.add (call $next) (i32.load (i32.const 0)))))"#;

/// Runs the program in two stores with one linker; returns each store's result and log.
pub fn run() -> Result<Vec<(i32, Vec<i32>)>> {
    let engine = Engine::default();
    let counter = Module::new(&engine, COUNTER)?;
    let app = Module::new(&engine, APP)?;
    let mut linker = Linker::<Vec<i32>>::new(&engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Vec<i32>>, v: i32| {
        caller.data_mut().push(v)
    })?;
    let mut results = Vec::new();
    for _ in 0..2 {
        // The counter's exports belong to this store, so the linker is cloned per store.
        let mut linker = linker.clone();
        let mut store = Store::new(&engine, Vec::new());
        let instance = linker.instantiate(&mut store, &counter)?;
        linker.instance(&mut store, "counter", instance)?;
        let app = linker.instantiate(&mut store, &app)?;
        let run = app.get_typed_func::<(), i32>(&store, "run")?;
        let value = run.call(&mut store, ())?;
        results.push((value, store.into_data()));
    }
    Ok(results)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for (i, (value, log)) in run()?.into_iter().enumerate() {
        println!("store {i}: run() = {value}, the host saw {log:?}");
    }
    Ok(())
}
