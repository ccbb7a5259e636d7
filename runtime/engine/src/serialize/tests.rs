//! Phase 7, serialize: tests of the artifact format: round trips, and every way an artifact
//! can be wrong (truncated, a flipped byte, another configuration, another build, other type
//! ids) is refused with an `Error::Artifact`, never a panic.

use super::*;
use crate::{Config, Engine, Error, Module, Store, Val};

const WAT: &str = r#"(module
    (memory 1)
    (func $fac (export "fac") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0))
            (then (i64.const 1))
            (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
    (func (export "grow") (result i32) (memory.grow (i32.const 1)))
    (func (export "oob") (result i32) (i32.load (i32.const 70000))))"#;

fn call(module: &Module, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let mut store = Store::new(module.engine(), ());
    let instance = crate::Instance::new(&mut store, module, &[])?;
    let f = instance
        .get_func(&mut store, name)
        .expect("the export exists");
    let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
    f.call(&mut store, args, &mut results)?;
    Ok(results)
}

fn artifact_error(result: Result<Module>) -> String {
    match result {
        Err(Error::Artifact(m)) => m,
        Err(other) => panic!("not an artifact error: {other}"),
        Ok(_) => panic!("a bad artifact was loaded"),
    }
}

fn load(engine: &Engine, bytes: &[u8]) -> Result<Module> {
    Module::from_artifact(engine, crate::serialize::Source::Bytes(bytes), None)
}

#[test]
fn a_round_trip_keeps_the_image_and_runs_the_same() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let bytes = module.serialize().unwrap();
    let other = Engine::default();
    let loaded = load(&other, &bytes).unwrap();
    assert!(loaded.inner.code.image() == module.inner.code.image());
    assert_eq!(loaded.inner.info.binary, module.inner.info.binary);
    assert_eq!(
        loaded.serialize().unwrap(),
        bytes,
        "serializing again is stable"
    );
    for m in [&module, &loaded] {
        let r = call(m, "fac", &[Val::I64(20)]).unwrap();
        assert!(matches!(r[0], Val::I64(2432902008176640000)));
        assert!(matches!(call(m, "grow", &[]).unwrap()[0], Val::I32(1)));
        let trap = call(m, "oob", &[]).unwrap_err();
        let Error::Trap(trap) = trap else {
            panic!("{trap}")
        };
        assert_eq!(trap.code(), crate::TrapCode::MemoryOutOfBounds);
        assert_eq!(trap.backtrace()[0].func_index, 2, "frame info survives");
    }
}

/// Two host imports of one signature, two exports of another; `run` calls the first import.
const LOG_WAT: &str = r#"(module
    (import "host" "log" (func $log (param i32)))
    (import "host" "log2" (func (param i32)))
    (func (export "run") (param i64) (result i64) (call $log (i32.const 1)) (local.get 0))
    (func (export "same") (param i64) (result i64) (local.get 0)))"#;

/// Instantiates `module` ([`LOG_WAT`]) with a counting host function, calls `run`, and checks that nothing had to be
/// compiled for it: the engine still has its two trampolines.
fn run_with_log(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, 0i32);
    let log = crate::Func::wrap(&mut store, |mut c: crate::Caller<'_, i32>, x: i32| {
        *c.data_mut() += x
    });
    let instance = crate::Instance::new(&mut store, module, &[log.into(), log.into()]).unwrap();
    let run = instance
        .get_typed_func::<i64, i64>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 9).unwrap(), 9);
    assert_eq!(*store.data(), 1);
    assert_eq!(engine.trampolines().len(), 2, "nothing else was compiled");
}

#[test]
fn an_artifact_brings_the_trampolines_of_its_imports_and_exports() {
    let bytes = Module::new(&Engine::default(), LOG_WAT)
        .unwrap()
        .serialize()
        .unwrap();
    let engine = Engine::default();
    let module = load(&engine, &bytes).unwrap();
    // One host trampoline for (i32) -> (), one array-call one for (i64) -> (i64).
    let mut sigs: Vec<String> = (engine.trampolines().keys())
        .map(|(ty, host)| format!("{host} {ty:?}"))
        .collect();
    sigs.sort();
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    // They run: a host function called through the loaded host trampoline.
    run_with_log(&engine, &module);
}

#[test]
fn compiling_a_module_compiles_its_trampolines_so_instantiation_compiles_none() {
    let engine = Engine::default();
    let module = Module::new(&engine, LOG_WAT).unwrap();
    // One host trampoline for (i32) -> (), one array-call one for (i64) -> (i64).
    assert_eq!(engine.trampolines().len(), 2);
    run_with_log(&engine, &module);
    // A second module with the same signatures compiles no trampoline again.
    Module::new(&engine, LOG_WAT).unwrap();
    assert_eq!(engine.trampolines().len(), 2);
}

#[test]
fn every_truncation_is_refused() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, WAT).unwrap().serialize().unwrap();
    for len in 0..bytes.len() {
        let err = artifact_error(load(&engine, &bytes[..len]));
        assert!(
            err.contains("truncated") || err.contains("not a precompiled module"),
            "{len}: {err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    artifact_error(load(&engine, &longer));
}

#[test]
fn every_flipped_byte_is_refused() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, WAT).unwrap().serialize().unwrap();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        let err = artifact_error(load(&engine, &bad));
        if i >= HEADER_LEN {
            assert!(err.contains("checksum mismatch"), "{i}: {err}");
        }
    }
}

#[test]
fn an_artifact_of_another_configuration_is_refused_naming_the_difference() {
    let bytes = Module::new(&Engine::default(), WAT)
        .unwrap()
        .serialize()
        .unwrap();
    let fuel = Engine::new(Config::new().consume_fuel(true)).unwrap();
    let err = artifact_error(load(&fuel, &bytes));
    assert!(err.contains("different engine configuration"), "{err}");
    assert!(err.contains("consume_fuel=false") && err.contains("consume_fuel=true"));
    let bounds = Engine::new(Config::new().explicit_bounds_checks(true)).unwrap();
    assert!(artifact_error(load(&bounds, &bytes)).contains("guard_pages"));
    let mut features = Config::new();
    features.wasm_features(WasmFeaturesForTest::without_simd());
    let simd = Engine::new(&features).unwrap();
    assert!(artifact_error(load(&simd, &bytes)).contains("wasm_simd=true"));
    // And the other way round: compiled with fuel, loaded without.
    let with_fuel = Module::new(&fuel, WAT).unwrap().serialize().unwrap();
    artifact_error(load(&Engine::default(), &with_fuel));
    assert!(load(&fuel, &with_fuel).is_ok());
}

/// Wasm 3.0 without SIMD.
struct WasmFeaturesForTest;
impl WasmFeaturesForTest {
    fn without_simd() -> wasmparser::WasmFeatures {
        let mut f = wasmparser::WasmFeatures::WASM3;
        f.remove(wasmparser::WasmFeatures::SIMD);
        f
    }
}

#[test]
fn an_artifact_of_another_build_or_format_version_is_refused() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let info = &module.inner.info;
    let mut old = engine.fingerprint().clone();
    old.build[0] = "runtime=0.0.1".into();
    let parts = ArtifactRef {
        binary: &info.binary,
        type_ids: &info.type_ids,
        image: module.inner.code.image(),
        trampolines: &[],
    };
    let bytes = write(&old, &parts).unwrap();
    let err = artifact_error(load(&engine, &bytes));
    assert!(
        err.contains("different build") && err.contains("runtime=0.0.1"),
        "{err}"
    );
    let mut other_cpu = engine.fingerprint().clone();
    other_cpu.flags.push("has_imaginary_feature=1".into());
    let bytes = write(&other_cpu, &parts).unwrap();
    assert!(artifact_error(load(&engine, &bytes)).contains("has_imaginary_feature=1"));

    let mut bytes = module.serialize().unwrap();
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = artifact_error(load(&engine, &bytes));
    assert!(err.contains("format version"), "{err}");
    let err = artifact_error(load(&engine, b"\0asm\x01\0\0\0"));
    assert!(err.contains("not a precompiled module"), "{err}");
}

#[test]
fn code_with_casts_is_refused_where_the_type_ids_differ() {
    let casts = r#"(module (type $s (struct (field i32)))
        (func (export "f") (param anyref) (result i32) (ref.test (ref $s) (local.get 0))))"#;
    let alloc = r#"(module (type $s (struct (field i32)))
        (func (export "f") (param i32) (result i32) (drop (struct.new $s (local.get 0))) (local.get 0)))"#;
    let plain = r#"(module (type $f (func (param i32) (result i32)))
        (table 1 funcref) (elem (i32.const 0) $g)
        (func $g (type $f) (i32.add (local.get 0) (i32.const 1)))
        (func (export "f") (param i32) (result i32) (call_indirect (type $f) (local.get 0) (i32.const 0))))"#;
    let shift = "(module (type (struct (field i64 f32))) (type (func (param f64))))";
    for (wat, embeds) in [(casts, true), (alloc, true), (plain, false)] {
        let bytes = Module::new(&Engine::default(), wat)
            .unwrap()
            .serialize()
            .unwrap();
        let engine = Engine::default();
        // Registering another module's types first gives this one's other ids.
        Module::new(&engine, shift).unwrap();
        let loaded = load(&engine, &bytes);
        if embeds {
            assert!(artifact_error(loaded).contains("type ids"));
        } else {
            // Its indirect call checks the ids this engine gave its types.
            let r = call(&loaded.unwrap(), "f", &[Val::I32(41)]).unwrap();
            assert!(matches!(r[0], Val::I32(42)));
        }
        let fresh = Engine::default();
        assert!(load(&fresh, &bytes).is_ok(), "same ids in a fresh engine");
    }
}
