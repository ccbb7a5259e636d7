//! Fuel (after the Wasmtime book's fuel example): with `Config::consume_fuel`, every operator
//! costs a unit of the store's fuel; computing ever larger Fibonacci numbers recursively on a
//! budget of 10,000 units per call ends with an out-of-fuel trap.
//!
//! `cargo run -p runtime --example fuel`

use runtime::{Config, Engine, Instance, Module, Result, Store, TrapCode};

const GUEST: &str = r#"(module
    (func $fibonacci (export "fibonacci") (param $n i32) (result i32)
        (if (i32.lt_s (local.get $n) (i32.const 2))
            (then (return (local.get $n))))
        (i32.add
            (call $fibonacci (i32.sub (local.get $n) (i32.const 1)))
            (call $fibonacci (i32.sub (local.get $n) (i32.const 2))))))"#;

/// Fuel for each call.
const BUDGET: u64 = 10_000;

/// One line per call: its result and the fuel it used, then the call that ran out.
pub fn run() -> Result<Vec<String>> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GUEST)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let fibonacci = instance.get_typed_func::<i32, i32>(&mut store, "fibonacci")?;
    let mut seen = Vec::new();
    for n in 1.. {
        store.set_fuel(BUDGET)?;
        match fibonacci.call(&mut store, n) {
            Ok(fib) => {
                let used = BUDGET - store.get_fuel()?;
                seen.push(format!("fib({n}) = {fib} [consumed {used} fuel]"));
            }
            Err(e) if e.trap_code() == Some(TrapCode::OutOfFuel) => {
                seen.push(format!("Exhausted fuel computing fib({n})"));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(seen)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}
