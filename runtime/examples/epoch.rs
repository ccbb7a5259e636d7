//! Interrupting wasm (after the Wasmtime book's interrupt example): with
//! `Config::epoch_interruption`, a guest stuck in an infinite loop traps once another thread
//! advances the engine's epoch past the store's deadline.
//!
//! `cargo run -p runtime --example epoch`

use runtime::{Config, Engine, Instance, Module, Result, Store, TrapCode};
use std::time::{Duration, Instant};

const GUEST: &str = r#"(module
    (func (export "run") (loop $forever (br $forever))))"#;

/// How long the loop runs before the other thread interrupts it.
const AFTER: Duration = Duration::from_millis(200);

/// What happened, and how long the loop ran (from the other thread's start).
pub fn run() -> Result<(Vec<String>, Duration)> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, GUEST)?;
    let mut store = Store::new(&engine, ());
    // Trap at the first check that sees the epoch one tick further than now.
    store.set_epoch_deadline(1);
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;

    let start = Instant::now();
    let ticker = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(AFTER);
        ticker.increment_epoch();
    });
    let mut seen = vec!["Entering an infinite loop ...".to_string()];
    let err = run.call(&mut store, ()).unwrap_err();
    let ran = start.elapsed();
    seen.push(format!(
        "Trap received: {} (interrupt: {})",
        err,
        err.trap_code() == Some(TrapCode::Interrupt)
    ));
    Ok((seen, ran))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (lines, ran) = run()?;
    for line in lines {
        println!("{line}");
    }
    println!("The loop ran for {ran:?}");
    Ok(())
}
