//! `Module::serialize` / `Module::deserialize` through the public API: a deserialized module
//! runs exactly as a freshly compiled one (spec-style modules, a WASI C program), and bad
//! artifacts are refused with clear errors.

mod wasi_support;

use runtime::wasi::{self, WasiCtx};
use runtime::{Config, Engine, Error, Instance, Module, Precompiled, Store, TrapCode, Val};
use wasi_support::{program, World};

/// Calls `name` of a fresh instance of `module` with `args`.
fn call(module: &Module, name: &str, args: &[Val]) -> Result<Vec<String>, String> {
    let mut store = Store::new(module.engine(), ());
    // Under `consume_fuel`, enough for every call here (an error without it).
    let _ = store.set_fuel(1_000_000);
    let instance = Instance::new(&mut store, module, &[]).map_err(|e| e.to_string())?;
    let f = instance.get_func(&mut store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
    f.call(&mut store, args, &mut results)
        .map_err(|e| e.to_string())?;
    Ok(results.iter().map(|v| format!("{v:?}")).collect())
}

/// A module compiled afresh in one engine and the same module deserialized in another.
fn both(wat: &str, config: &Config) -> (Module, Module) {
    let fresh = Module::new(&Engine::new(config).unwrap(), wat).unwrap();
    let bytes = fresh.serialize().unwrap();
    let other = Engine::new(config).unwrap();
    assert_eq!(other.detect_precompiled(&bytes), Some(Precompiled::Module));
    // SAFETY: the artifact was just made by `serialize` in this process.
    let loaded = unsafe { Module::deserialize(&other, &bytes) }.unwrap();
    (fresh, loaded)
}

#[test]
fn deserialized_modules_compute_and_trap_as_fresh_ones() {
    let fib = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/fib.wat"
    ))
    .unwrap();
    let traps = r#"(module
        (table 2 funcref) (elem (i32.const 0) $a)
        (type $t (func (result i32)))
        (func $a (result i32) (i32.const 5))
        (func (export "indirect") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
        (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
        (func (export "deep") (param i32) (result i32) (call 3 (i32.add (local.get 0) (i32.const 1)))))"#;
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    for config in [Config::new(), fuel] {
        let (fresh, loaded) = both(&fib, &config);
        let (a, b) = both(traps, &config);
        for (m, name, arg) in [
            (&fresh, "fib", 50),
            (&fresh, "fib_rec", 20),
            (&a, "indirect", 0),
            (&a, "indirect", 1),
            (&a, "indirect", 7),
            (&a, "div", 0),
            (&a, "div", -1),
            (&a, "deep", 0),
        ] {
            let other = if std::ptr::eq(m, &fresh) { &loaded } else { &b };
            let (x, y) = (
                call(m, name, &[Val::I32(arg)]),
                call(other, name, &[Val::I32(arg)]),
            );
            assert_eq!(x, y, "{name}({arg})");
        }
    }
    // Without fuel the results are the real ones.
    let (_, loaded) = both(traps, &Config::new());
    assert_eq!(
        call(&loaded, "indirect", &[Val::I32(0)]).unwrap(),
        ["I32(5)"]
    );
    let err = call(&loaded, "indirect", &[Val::I32(1)]).unwrap_err();
    assert!(err.contains("uninitialized element"), "{err}");
    let err = call(&loaded, "deep", &[Val::I32(0)]).unwrap_err();
    assert!(err.contains(TrapCode::StackOverflow.message()), "{err}");
}

#[test]
fn a_deserialized_wasi_program_runs_as_the_compiled_one() {
    let wasm = std::fs::read(program("fds")).unwrap();
    let engine = Engine::default();
    let fresh = Module::new(&engine, &wasm).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fds.cwasm");
    std::fs::write(&path, fresh.serialize().unwrap()).unwrap();
    let other = Engine::default();
    // SAFETY: the file was just written from `serialize`.
    let loaded = unsafe { Module::deserialize_file(&other, &path) }.unwrap();
    let mut outputs = Vec::new();
    for (engine, module) in [(&engine, &fresh), (&other, &loaded)] {
        let world = World::new("serialize");
        let root = world.root().to_str().unwrap().to_string();
        let (builder, stdout) = WasiCtx::builder()
            .arg("fds")
            .arg(&root)
            .preopened_dir(world.path("box"), "/")
            .preopened_dir(world.path("box2"), "/b")
            .capture_stdout();
        let status = wasi::run(engine, module, builder.build().unwrap()).unwrap();
        outputs.push((status, stdout.to_string_lossy()));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0].0, 0);
    assert!(
        outputs[0].1.contains("all checks passed"),
        "{}",
        outputs[0].1
    );
}

#[test]
fn a_module_loaded_from_a_mapped_file_outlives_the_file_and_serializes_the_same() {
    let engine = Engine::default();
    let wat = r#"(module (func (export "add") (param i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 1))))"#;
    let bytes = Module::new(&engine, wat).unwrap().serialize().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("add.cwasm");
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: the file was just written from `serialize`; it is only replaced by a rename
    // and deleted below, never modified in place.
    let loaded = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    // The module borrows its code from the mapping: what it serializes is what it read.
    assert_eq!(loaded.serialize().unwrap(), bytes);
    let other = dir.path().join("other.cwasm");
    std::fs::write(&other, b"replaced").unwrap();
    std::fs::rename(&other, &path).unwrap();
    assert_eq!(
        call(&loaded, "add", &[Val::I32(2), Val::I32(3)]).unwrap(),
        ["I32(5)"]
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.serialize().unwrap(), bytes);
    assert_eq!(
        call(&loaded, "add", &[Val::I32(40), Val::I32(2)]).unwrap(),
        ["I32(42)"]
    );
}

#[test]
fn bad_artifacts_are_refused_with_clear_errors() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func (export \"f\")))").unwrap();
    let bytes = module.serialize().unwrap();
    let refuse = |bytes: &[u8], engine: &Engine| -> String {
        // SAFETY: these artifacts are refused before any of their code could run.
        match unsafe { Module::deserialize(engine, bytes) } {
            Err(e @ Error::Artifact(_)) => e.to_string(),
            Err(other) => panic!("not an artifact error: {other}"),
            Ok(_) => panic!("a bad artifact was loaded"),
        }
    };
    let err = refuse(&bytes[..bytes.len() - 1], &engine);
    assert!(err.contains("truncated"), "{err}");
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(refuse(&flipped, &engine).contains("corrupted (checksum mismatch)"));
    let epochs = Engine::new(Config::new().epoch_interruption(true)).unwrap();
    let err = refuse(&bytes, &epochs);
    assert!(err.contains("epoch_interruption=false"), "{err}");
    let wasm = b"\0asm\x01\0\0\0";
    assert_eq!(engine.detect_precompiled(wasm), None);
    assert!(refuse(wasm, &engine).contains("not a precompiled module"));
    // SAFETY: the file does not exist.
    let missing = unsafe { Module::deserialize_file(&engine, "/nonexistent/x.cwasm") };
    assert!(matches!(missing, Err(Error::Load(_))));
}
