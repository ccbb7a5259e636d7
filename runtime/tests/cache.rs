//! The on-disk compilation cache (`Config::cache`): a hit loads the entry in place, and a
//! corrupted, truncated, foreign (another configuration, another module) or raced entry
//! never crashes and never runs stale code: it is removed, the module compiled again and
//! the entry rewritten.

use runtime::{CacheConfig, Config, Engine, Instance, Module, Store};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const SEVEN: &str = r#"(module (func (export "f") (result i32) (i32.const 7)))"#;
const EIGHT: &str = r#"(module (func (export "f") (result i32) (i32.const 8)))"#;

fn engine(dir: &Path, fuel: bool) -> Engine {
    let mut config = Config::new();
    config.consume_fuel(fuel).cache(Some(CacheConfig::new(dir)));
    Engine::new(&config).unwrap()
}

/// What `f` returns in a fresh store (no fuel given: fuel-charging code traps).
fn run(module: &Module) -> Result<i32, String> {
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, module, &[]).map_err(|e| e.to_string())?;
    let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
    f.call(&mut store, ()).map_err(|e| e.to_string())
}

/// The cache's entries (no temporary files may be left).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    for p in &out {
        assert_eq!(
            p.extension().unwrap(),
            "cwasm",
            "left over: {}",
            p.display()
        );
    }
    out
}

#[test]
fn a_hit_loads_the_entry_without_rewriting_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(&Module::new(&engine(dir.path(), false), SEVEN).unwrap()),
        Ok(7)
    );
    let [entry] = &entries(dir.path())[..] else {
        panic!("one entry")
    };
    let inode = std::fs::metadata(entry).unwrap().ino();
    let module = Module::new(&engine(dir.path(), false), SEVEN).unwrap();
    assert_eq!(run(&module), Ok(7));
    assert_eq!(std::fs::metadata(entry).unwrap().ino(), inode, "rewritten");
    assert_eq!(std::fs::read(entry).unwrap(), module.serialize().unwrap());
}

#[test]
fn corrupted_and_truncated_entries_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let good = Module::new(&engine(dir.path(), false), SEVEN)
        .unwrap()
        .serialize()
        .unwrap();
    let [entry] = &entries(dir.path())[..] else {
        panic!("one entry")
    };
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    for bad in [
        flipped,
        good[..good.len() / 3].to_vec(),
        Vec::new(),
        b"junk".to_vec(),
    ] {
        std::fs::write(entry, &bad).unwrap();
        let module = Module::new(&engine(dir.path(), false), SEVEN).unwrap();
        assert_eq!(run(&module), Ok(7));
        assert_eq!(
            std::fs::read(entry).unwrap(),
            good,
            "the entry is rewritten"
        );
    }
}

#[test]
fn an_entry_of_another_configuration_or_module_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let fuel_dir = tempfile::tempdir().unwrap();
    Module::new(&engine(dir.path(), false), SEVEN).unwrap();
    let [entry] = &entries(dir.path())[..] else {
        panic!("one entry")
    };
    // The same module compiled with fuel, planted under the no-fuel entry's name.
    let fueled = Module::new(&engine(fuel_dir.path(), true), SEVEN).unwrap();
    assert!(run(&fueled).unwrap_err().contains("fuel"));
    std::fs::write(entry, fueled.serialize().unwrap()).unwrap();
    let module = Module::new(&engine(dir.path(), false), SEVEN).unwrap();
    assert_eq!(run(&module), Ok(7), "fuel-charging code would trap");
    // Another module's entry planted under this one's name.
    let eight = Module::new(&Engine::default(), EIGHT).unwrap();
    std::fs::write(entry, eight.serialize().unwrap()).unwrap();
    assert_eq!(
        run(&Module::new(&engine(dir.path(), false), SEVEN).unwrap()),
        Ok(7)
    );
    // Each configuration keeps its own entry.
    Module::new(&engine(dir.path(), true), SEVEN).unwrap();
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn threads_racing_to_fill_one_entry_all_get_a_working_module() {
    let dir = tempfile::tempdir().unwrap();
    // Big enough that compiling takes a while and the writes overlap.
    let funcs: String = (0..300)
        .map(|i| format!("(func (export \"f{i}\") (result i32) (i32.const {i}))"))
        .collect();
    let wat = format!("(module {funcs} (func (export \"f\") (result i32) (i32.const 7)))");
    for _round in 0..3 {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| run(&Module::new(&engine(dir.path(), false), &wat).unwrap())))
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), Ok(7));
            }
        });
        assert_eq!(entries(dir.path()).len(), 1);
    }
}

#[test]
fn the_size_bound_evicts_the_least_recently_used_entry() {
    let dir = tempfile::tempdir().unwrap();
    let one = Module::new(&Engine::default(), SEVEN)
        .unwrap()
        .serialize()
        .unwrap()
        .len() as u64;
    let mut config = Config::new();
    config.cache(Some(CacheConfig::new(dir.path()).max_size(one + one / 2)));
    let engine = Engine::new(&config).unwrap();
    Module::new(&engine, SEVEN).unwrap();
    let first = entries(dir.path());
    Module::new(&engine, EIGHT).unwrap();
    let second = entries(dir.path());
    assert_eq!(second.len(), 1);
    assert_ne!(first, second, "the older entry went");
    assert_eq!(run(&Module::new(&engine, EIGHT).unwrap()), Ok(8));
}

#[test]
fn an_unwritable_cache_directory_does_not_fail_compilation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    let module = Module::new(&engine(&file.join("cache"), false), SEVEN).unwrap();
    assert_eq!(run(&module), Ok(7));
}
