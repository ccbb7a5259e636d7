//! Linear memory from the host (after the Wasmtime book's memory example): reading and
//! writing the guest's memory, growing it, and out-of-bounds accesses trapping.
//!
//! `cargo run -p runtime --example memory`

use runtime::{Engine, Instance, Module, Result, Store, TrapCode};

const GUEST: &str = r#"(module
    (memory (export "memory") 2 3)
    (func (export "size") (result i32) (memory.size))
    (func (export "load") (param i32) (result i32) (i32.load8_s (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (data (i32.const 0x1000) "\01\02\03\04"))"#;

/// What the example observed, step by step.
pub fn run() -> Result<Vec<String>> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance
        .get_memory(&store, "memory")
        .expect("the guest exports its memory");
    let size = instance.get_typed_func::<(), i32>(&store, "size")?;
    let load = instance.get_typed_func::<i32, i32>(&store, "load")?;
    let store8 = instance.get_typed_func::<(i32, i32), ()>(&store, "store")?;
    let mut seen = Vec::new();

    seen.push(format!(
        "pages: {} (guest says {}), bytes: {}",
        memory.size(&store),
        size.call(&mut store, ())?,
        memory.data_size(&store)
    ));
    seen.push(format!(
        "data segment: {:?}",
        &memory.data(&store)[0x1000..0x1004]
    ));
    seen.push(format!("load(0x1002) = {}", load.call(&mut store, 0x1002)?));
    let trap = load.call(&mut store, 0x20000).unwrap_err();
    seen.push(format!(
        "load(0x20000) traps: {}",
        trap.trap_code() == Some(TrapCode::MemoryOutOfBounds)
    ));

    // The host writes, the guest reads; the guest writes, the host reads.
    memory.data_mut(&mut store)[0x1003] = 5;
    seen.push(format!(
        "after the host's write, load(0x1003) = {}",
        load.call(&mut store, 0x1003)?
    ));
    store8.call(&mut store, (0x1000, -1))?;
    let mut byte = [0u8];
    memory.read(&store, 0x1000, &mut byte)?;
    seen.push(format!(
        "after the guest's write, byte 0x1000 = {:#x}",
        byte[0]
    ));

    // Growing: to the maximum, then no further.
    seen.push(format!("grow(1) returned {}", memory.grow(&mut store, 1)?));
    seen.push(format!("pages now: {}", size.call(&mut store, ())?));
    seen.push(format!(
        "load(0x20000) = {}",
        load.call(&mut store, 0x20000)?
    ));
    seen.push(format!(
        "grow(1) past the maximum fails: {}",
        memory.grow(&mut store, 1).is_err()
    ));
    Ok(seen)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}
