//! Deterministic compilation: every `module` and `module definition` of the spec suite's
//! scripts (and the threads suite's), compiled in two engines, serializes to byte-identical
//! artifacts (machine code, relocations, trap sites, frame information and the header); a
//! module one engine rejects, the other rejects with the same error.

use harness::fetch::{fetch, SPEC, THREADS};
use runtime::{Config, Engine, Module};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What compiling one module gave, comparably.
fn artifact(engine: &Engine, binary: &[u8]) -> Result<Vec<u8>, String> {
    Module::from_binary(engine, binary)
        .and_then(|m| m.serialize())
        .map_err(|e| e.to_string())
}

#[test]
fn every_spec_module_compiles_to_the_same_artifact_in_two_engines() {
    let root = harness::workspace_root();
    let mut files = Vec::new();
    for suite in [SPEC, THREADS] {
        let fetched = fetch(&root, suite, None).expect("the suite is available");
        for rel in harness::spec::discover(&fetched.data_dir).unwrap() {
            files.push(fetched.data_dir.join(rel));
        }
    }
    assert!(files.len() > 200, "{} script files", files.len());
    let next = AtomicUsize::new(0);
    let compiled = AtomicUsize::new(0);
    let rejected = AtomicUsize::new(0);
    let differing = Mutex::new(Vec::new());
    let unreadable = Mutex::new(Vec::new());
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let text = std::fs::read_to_string(path).unwrap();
                    // A script the parser cannot read fails the spec test; here it is counted.
                    let Ok(modules) = runtime::wast::module_binaries(&text) else {
                        unreadable.lock().unwrap().push(path.display().to_string());
                        continue;
                    };
                    let mut config = Config::new();
                    config.wasm_features(runtime::wast::features_for_path(path));
                    let (a, b) = (Engine::new(&config).unwrap(), Engine::new(&config).unwrap());
                    for (line, binary) in modules {
                        let Ok(binary) = binary else {
                            unreadable
                                .lock()
                                .unwrap()
                                .push(format!("{}:{line}", path.display()));
                            continue;
                        };
                        let (first, second) = (artifact(&a, &binary), artifact(&b, &binary));
                        let counter = if first.is_ok() { &compiled } else { &rejected };
                        counter.fetch_add(1, Ordering::Relaxed);
                        if first != second {
                            differing
                                .lock()
                                .unwrap()
                                .push(format!("{}:{line}", path.display()));
                        }
                    }
                }
            });
        }
    });
    let differing = differing.into_inner().unwrap();
    assert!(
        differing.is_empty(),
        "{} modules compile differently in two engines:\n{}",
        differing.len(),
        differing.join("\n")
    );
    let compiled = compiled.into_inner();
    // 2,531 modules compile and 5 (custom descriptors) are rejected, as of this writing.
    assert!(compiled > 2000, "only {compiled} modules compiled");
    let unreadable = unreadable.into_inner().unwrap();
    assert!(unreadable.is_empty(), "not read: {unreadable:?}");
    eprintln!(
        "{compiled} modules compiled to identical artifacts twice, {} rejected alike",
        rejected.into_inner()
    );
}
