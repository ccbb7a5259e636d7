//! Memories that start from a copy-on-write image of their data segments (32 KiB or more of
//! segments at constant offsets) must look exactly as if the segments had been copied in:
//! the bytes, overlapping segments in order, instances independent of each other, growth,
//! a trapping instantiation, and `memory.init` of segments the image already applied.

use runtime::*;

/// `(data (i32.const OFFSET) "...")` for `bytes`.
fn data(offset: u32, bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    format!("(data (i32.const {offset}) \"{escaped}\")")
}

/// A module with a 3-page memory: empty segments at both ends, 40,000 bytes of `i % 251` at
/// 100, then `0xAA` at 5,000..5,010 over them, and 3 bytes ending exactly at the end of the
/// minimum size.
fn module_text(extra: &str) -> String {
    let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    format!(
        r#"(module
            (memory (export "memory") 3)
            (data (i32.const 0) "")
            (data (i32.const 196608) "")
            {}
            {}
            {}
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            {extra})"#,
        data(100, &big),
        data(5_000, &[0xAA; 10]),
        data(3 * 65536 - 3, &[1, 2, 3]),
    )
}

fn expected(at: usize) -> u8 {
    match at {
        5_000..5_010 => 0xAA,
        100..40_100 => ((at - 100) % 251) as u8,
        196_605 => 1,
        196_606 => 2,
        196_607 => 3,
        _ => 0,
    }
}

#[test]
fn an_imaged_memory_holds_its_segments_and_instances_stay_independent() {
    let engine = Engine::default();
    let module = Module::new(&engine, module_text("")).unwrap();
    let mut store = Store::new(&engine, ());
    let a = Instance::new(&mut store, &module, &[]).unwrap();
    let b = Instance::new(&mut store, &module, &[]).unwrap();
    let memory = a.get_memory(&mut store, "memory").unwrap();
    let bytes = memory.data(&store).to_vec();
    assert_eq!(bytes.len(), 3 * 65536);
    for (at, byte) in bytes.iter().enumerate() {
        assert_eq!(*byte, expected(at), "byte {at}");
    }
    // A write through one instance is not seen by the other (copy on write).
    let store_a = a
        .get_typed_func::<(i32, i32), ()>(&mut store, "store")
        .unwrap();
    store_a.call(&mut store, (150, 7)).unwrap();
    let load_a = a.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    let load_b = b.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load_a.call(&mut store, 150).unwrap(), 7);
    assert_eq!(load_b.call(&mut store, 150).unwrap(), expected(150) as i32);
    // Growth past the image gives zeroed pages; the image's bytes stay.
    let grow = a.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 3);
    assert_eq!(load_a.call(&mut store, 4 * 65536).unwrap(), 0);
    assert_eq!(load_a.call(&mut store, 5_005).unwrap(), 0xAA);
    // A second store's instances start from the image too, unchanged by the first's writes.
    let mut other = Store::new(&engine, ());
    let c = Instance::new(&mut other, &module, &[]).unwrap();
    let load_c = c.get_typed_func::<i32, i32>(&mut other, "load").unwrap();
    assert_eq!(load_c.call(&mut other, 150).unwrap(), expected(150) as i32);
}

#[test]
fn an_applied_segment_is_dropped_and_a_failing_instantiation_traps_as_before() {
    let engine = Engine::default();
    // memory.init of an active segment after instantiation: it was dropped, so any
    // non-empty init traps.
    let init =
        r#"(func (export "init") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1)))"#;
    let module = Module::new(&engine, module_text(init)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "init")
        .unwrap();
    let trap = run.call(&mut store, ()).unwrap_err();
    assert_eq!(
        trap.as_trap().map(|t| t.code()),
        Some(TrapCode::MemoryOutOfBounds)
    );
    // A large segment past the minimum: no image, and instantiation traps out of bounds.
    let big = vec![9u8; 40_000];
    let wat = format!("(module (memory 1) {})", data(60_000, &big));
    let module = Module::new(&engine, wat).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(
        err.as_trap().map(|t| t.code()),
        Some(TrapCode::MemoryOutOfBounds)
    );
}
