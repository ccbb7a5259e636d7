//! Linear memories (vm/memory.rs, translate/memory.rs): 64-bit memories larger than 4 GiB,
//! accessed, grown and bounds-checked above 4 and 8 GiB (virtual memory: each test touches
//! a few pages), growth within `Config::memory_reservation`, and the size rules that make a
//! valid memory fail instantiation (beyond the address space or this runtime's limit).

use runtime::*;

const GIB: u64 = 1 << 30;
const PAGE: u64 = 65536;

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::WASM3 | WasmFeatures::CUSTOM_PAGE_SIZES);
    configure(&mut config);
    Engine::new(&config).unwrap()
}

fn instantiate(engine: &Engine, wat: &str) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, wat)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = inst.get_func(&*store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(store, args, &mut results)?;
    Ok(results)
}

fn i64_of(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> i64 {
    match call(store, inst, name, args).unwrap()[..] {
        [Val::I64(v)] => v,
        ref other => panic!("{name}{args:?} returned {other:?}"),
    }
}

fn i32_of(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> i32 {
    match call(store, inst, name, args).unwrap()[..] {
        [Val::I32(v)] => v,
        ref other => panic!("{name}{args:?} returned {other:?}"),
    }
}

fn traps_out_of_bounds(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) {
    match call(store, inst, name, args) {
        Err(e) => assert_eq!(
            e.trap_code(),
            Some(TrapCode::MemoryOutOfBounds),
            "{name}{args:?}: {e}"
        ),
        Ok(v) => panic!("{name}{args:?} returned {v:?} instead of trapping"),
    }
}

/// A memory of 65,537 pages (4 GiB + 64 KiB) with no maximum, a data segment above 4 GiB,
/// and accesses through the index and through static offsets above 8 GiB.
const BIG: &str = r#"(module
    (memory (export "mem") i64 65537)
    (data (i64.const 0x1_0000_0010) "above 4 GiB")
    (func (export "size") (result i64) memory.size)
    (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
    (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
    (func (export "store8") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "load64") (param i64) (result i64) (i64.load (local.get 0)))
    (func (export "store64") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
    (func (export "load64_8g") (param i64) (result i64)
        (i64.load offset=0x2_0000_0000 (local.get 0)))
    (func (export "store64_8g") (param i64 i64)
        (i64.store offset=0x2_0000_0000 (local.get 0) (local.get 1)))
    (func (export "fill") (param i64 i32 i64)
        (memory.fill (local.get 0) (local.get 1) (local.get 2)))
    (func (export "copy") (param i64 i64 i64)
        (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#;

fn above_4_and_8_gib(engine: &Engine) {
    let (mut s, inst) = instantiate(engine, BIG).unwrap();
    let s = &mut s;
    let n = |v: u64| Val::I64(v as i64);
    assert_eq!(i64_of(s, inst, "size", &[]), 65537);
    let size = 65537 * PAGE;
    // The data segment landed above 4 GiB.
    let text: Vec<u8> = (0..11)
        .map(|i| i32_of(s, inst, "load8", &[n(4 * GIB + 0x10 + i)]) as u8)
        .collect();
    assert_eq!(text, b"above 4 GiB");
    // A word straddling 4 GiB, and the last bytes of the memory.
    let word = 0x0102_0304_0506_0708_u64;
    call(s, inst, "store64", &[n(4 * GIB - 4), n(word)]).unwrap();
    assert_eq!(i64_of(s, inst, "load64", &[n(4 * GIB - 4)]) as u64, word);
    assert_eq!(i32_of(s, inst, "load8", &[n(4 * GIB - 1)]), 0x05);
    assert_eq!(i32_of(s, inst, "load8", &[n(4 * GIB)]), 0x04);
    call(s, inst, "store8", &[n(size - 1), Val::I32(0x5a)]).unwrap();
    assert_eq!(i32_of(s, inst, "load8", &[n(size - 1)]), 0x5a);
    assert_eq!(i64_of(s, inst, "load64", &[n(size - 8)]) as u64 >> 56, 0x5a);
    // Bounds: one past the end, a word partly past it, an index near 2^64, an index plus a
    // static offset that overflows, and a static offset beyond the current size.
    traps_out_of_bounds(s, inst, "load8", &[n(size)]);
    traps_out_of_bounds(s, inst, "load64", &[n(size - 7)]);
    traps_out_of_bounds(s, inst, "store64", &[n(u64::MAX - 3), n(1)]);
    traps_out_of_bounds(s, inst, "load64_8g", &[n(u64::MAX - 0x1_0000_0000)]);
    traps_out_of_bounds(s, inst, "load64_8g", &[n(0)]);
    traps_out_of_bounds(s, inst, "fill", &[n(size - 4), Val::I32(1), n(8)]);
    // Growing past 8 GiB: 131,073 pages, then 16 more.
    assert_eq!(i64_of(s, inst, "grow", &[n(65536)]), 65537);
    assert_eq!(i64_of(s, inst, "grow", &[n(16)]), 131073);
    let size = 131089 * PAGE;
    assert_eq!(i64_of(s, inst, "size", &[]), 131089);
    assert_eq!(i64_of(s, inst, "load64_8g", &[n(0)]), 0);
    // The static-offset path and the index path address the same bytes.
    call(s, inst, "store64_8g", &[n(8), n(word)]).unwrap();
    assert_eq!(i64_of(s, inst, "load64", &[n(8 * GIB + 8)]) as u64, word);
    call(s, inst, "store64", &[n(8 * GIB + 0x10_0000), n(7)]).unwrap();
    assert_eq!(i64_of(s, inst, "load64_8g", &[n(0x10_0000)]), 7);
    call(s, inst, "store8", &[n(size - 1), Val::I32(1)]).unwrap();
    traps_out_of_bounds(s, inst, "load8", &[n(size)]);
    traps_out_of_bounds(s, inst, "load64_8g", &[n(size - 8 * GIB - 7)]);
    // Bulk operations across 8 GiB, and a copy of the segment's bytes from above 4 GiB.
    call(s, inst, "fill", &[n(8 * GIB - 16), Val::I32(0xab), n(32)]).unwrap();
    assert_eq!(i32_of(s, inst, "load8", &[n(8 * GIB - 16)]), 0xab);
    assert_eq!(i32_of(s, inst, "load8", &[n(8 * GIB + 15)]), 0xab);
    assert_eq!(i32_of(s, inst, "load8", &[n(8 * GIB + 16)]), 0);
    call(
        s,
        inst,
        "copy",
        &[n(8 * GIB + 0x1000), n(4 * GIB + 0x10), n(11)],
    )
    .unwrap();
    // The host sees the same memory.
    let mem = inst.get_memory(&*s, "mem").unwrap();
    assert_eq!(mem.data_size(&*s) as u64, size);
    let at = (8 * GIB + 0x1000) as usize;
    assert_eq!(&mem.data(&*s)[at..at + 11], b"above 4 GiB");
    mem.write(&mut *s, (8 * GIB + 0x2000) as usize, b"\x42")
        .unwrap();
    assert_eq!(i32_of(s, inst, "load8", &[n(8 * GIB + 0x2000)]), 0x42);
    assert!(mem.write(&mut *s, size as usize, b"x").is_err());
}

#[test]
fn memory64_is_used_above_4_and_8_gib() {
    above_4_and_8_gib(&engine(|_| {}));
}

#[test]
fn memory64_is_used_above_4_and_8_gib_unoptimised() {
    above_4_and_8_gib(&engine(|c| {
        c.cranelift_opt_level(OptLevel::None);
    }));
}

/// Memories never move: a bounds-checked memory grows within its reservation.
#[test]
fn memory64_grows_within_its_reservation() {
    let engine = engine(|c| {
        c.memory_reservation(16 << 20);
    });
    let grow = |wat: &str, steps: &[(i64, i64)]| {
        let (mut s, inst) = instantiate(&engine, wat).unwrap();
        for &(delta, old) in steps {
            assert_eq!(
                i64_of(&mut s, inst, "grow", &[Val::I64(delta)]),
                old,
                "{wat}: grow {delta}"
            );
        }
    };
    let func = r#"(func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))"#;
    // No maximum, or a larger one: up to the 256 pages of the reservation.
    grow(
        &format!("(module (memory i64 1) {func})"),
        &[(255, 1), (1, -1), (0, 256)],
    );
    grow(
        &format!("(module (memory i64 1 1000000) {func})"),
        &[(256, -1), (255, 1)],
    );
    // A smaller maximum: up to it.
    grow(
        &format!("(module (memory i64 1 8) {func})"),
        &[(8, -1), (7, 1), (1, -1)],
    );
    // A minimum beyond the reservation is reserved as such, and cannot grow.
    grow(
        &format!("(module (memory i64 512) {func})"),
        &[(0, 512), (1, -1)],
    );
    // A 32-bit memory with 1-byte pages too.
    grow(
        r#"(module (memory 1 (pagesize 1))
            (func (export "grow") (param i64) (result i64)
                (i64.extend_i32_s (memory.grow (i32.wrap_i64 (local.get 0))))))"#,
        &[((16 << 20) - 1, 1), (1, -1)],
    );
}

/// The largest 32-bit memories: 65,536 64 KiB pages, and 2^32 - 1 one-byte pages.
#[test]
fn the_largest_32_bit_memories_instantiate() {
    let engine = engine(|_| {});
    let (mut s, inst) = instantiate(
        &engine,
        r#"(module (memory 0xFFFF_FFFF (pagesize 1))
            (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    call(&mut s, inst, "store8", &[Val::I32(-2), Val::I32(9)]).unwrap();
    assert_eq!(i32_of(&mut s, inst, "load8", &[Val::I32(-2)]), 9);
    traps_out_of_bounds(&mut s, inst, "load8", &[Val::I32(-1)]);
    let (mut s, inst) = instantiate(
        &engine,
        r#"(module (memory 65536)
            (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )
    .unwrap();
    assert_eq!(i32_of(&mut s, inst, "load8", &[Val::I32(-1)]), 0);
}

/// Valid memories whose minimum cannot exist: beyond the 64-bit address space (2^48 pages of
/// 64 KiB are 2^64 bytes) or beyond this runtime's limit (128 TiB, x86-64's user address
/// space). Instantiation fails with the spec's terms; imports are checked first, as the
/// spec's `memory_max` tests rely on.
#[test]
fn memories_beyond_the_address_space_or_the_limit_fail_instantiation() {
    let engine = engine(|_| {});
    for (memory, message) in [
        ("(memory i64 0x1_0000_0000_0000)", "memory size overflow"),
        (
            "(memory i64 0x1_0000_0000_0000 (pagesize 65536))",
            "memory size overflow",
        ),
        (
            "(memory i64 0xFFFF_FFFF_FFFF_FFFF (pagesize 1))",
            "exceeds this runtime's limit",
        ),
        ("(memory i64 0x1_0000_0000)", "exceeds this runtime's limit"),
        (
            "(memory i64 0x8000_0000_0001 (pagesize 1))",
            "exceeds this runtime's limit",
        ),
        (
            "(memory $a 1) (memory $b i64 0x1_0000_0000_0000)",
            "memory size overflow",
        ),
    ] {
        let wat = format!("(module {memory})");
        let err = instantiate(&engine, &wat)
            .err()
            .unwrap_or_else(|| panic!("{wat} instantiated"));
        assert!(
            matches!(err, Error::Usage(_)) && err.to_string().contains(message),
            "{wat}: {err:?}"
        );
        let wat = format!("(module (import \"test\" \"unknown\" (func)) {memory})");
        let module = Module::new(&engine, &wat).unwrap();
        let err = Instance::new(&mut Store::new(&engine, ()), &module, &[]).unwrap_err();
        assert!(matches!(err, Error::Link(_)), "{wat}: {err:?}");
    }
    // The host creating such a memory gets the same error.
    let ty = MemoryType {
        minimum: 1 << 48,
        maximum: None,
        memory64: true,
        shared: false,
        page_size_log2: 16,
    };
    let err = Memory::new(&mut Store::new(&engine, ()), ty).unwrap_err();
    assert!(err.to_string().contains("memory size overflow"), "{err}");
    // 2^48 pages is the largest valid 64 KiB-page minimum (it fails above, at instantiation);
    // one page more does not validate.
    let err = Module::new(&engine, "(module (memory i64 0x1_0000_0000_0001))")
        .err()
        .expect("invalid");
    assert!(
        err.to_string().contains("memory size must be at most"),
        "{err}"
    );
    // Below the limit a memory exists as far as the host commits it (a 16 GiB minimum here;
    // whether a host commits, say, 100 TiB depends on its overcommit policy).
    let (mut s, inst) =
        instantiate(&engine, r#"(module (memory (export "m") i64 0x4_0000))"#).unwrap();
    let m = inst.get_memory(&s, "m").unwrap();
    assert_eq!(m.data_size(&s) as u64, 16 * GIB);
    m.write(&mut s, (16 * GIB - 1) as usize, b"z").unwrap();
}
