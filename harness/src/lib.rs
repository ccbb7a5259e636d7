//! The test harness: fetches the pinned suites, turns spec scripts into libtest-mimic trials
//! (one per directive), applies the expected-failure lists, and builds conformance reports.
//! Used by the test entry points in `tests/` and by `cargo xtask`.
#![forbid(unsafe_code)]

pub mod diagnostics;
pub mod emscripten;
pub mod expectations;
pub mod fetch;
pub mod glob;
pub mod groups;
pub mod hash;
pub mod isolate;
pub mod manifest;
pub mod programs;
pub mod report;
pub mod spec;
pub mod stress;
pub mod strip;
pub mod suggest;
pub mod wasi;

use std::path::PathBuf;

/// The workspace root (the folder holding `Cargo.toml`, `spec-suite/`, ...).
pub fn workspace_root() -> PathBuf {
    let harness = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).to_path_buf()
}

/// Where reports go: `$CARGO_TARGET_DIR/conformance` or `<root>/target/conformance`.
pub fn conformance_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("conformance")
}
