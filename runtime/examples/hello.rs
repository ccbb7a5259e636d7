//! Hello world with host state (the Wasmtime book's first example): a host function, made
//! from a closure with `Func::wrap`, reads and changes the store's data through its
//! `Caller`; the guest's export is called through a `TypedFunc`.
//!
//! `cargo run -p runtime --example hello`

use runtime::{Caller, Engine, Func, Instance, Module, Result, Store};

/// What the host keeps per store.
pub struct Greeter {
    pub name: String,
    pub greetings: Vec<String>,
}

const GUEST: &str = r#"(module
    (import "host" "hello" (func $hello (param i32)))
    (func (export "run")
        (call $hello (i32.const 1))
        (call $hello (i32.const 2))))"#;

/// Runs the guest; returns what the host function recorded.
pub fn run() -> Result<Vec<String>> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let data = Greeter {
        name: "wasm".into(),
        greetings: Vec::new(),
    };
    let mut store = Store::new(&engine, data);
    let hello = Func::wrap(&mut store, |mut caller: Caller<'_, Greeter>, n: i32| {
        let line = format!("Hello, {}! (call {n})", caller.data().name);
        caller.data_mut().greetings.push(line);
    });
    let instance = Instance::new(&mut store, &module, &[hello.into()])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    run.call(&mut store, ())?;
    Ok(store.into_data().greetings)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}
