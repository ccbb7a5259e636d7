//! Snapshot tests (insta, stored in the top-level `snapshots/` folder): the diagnostics the
//! runtime gives for the spec suite's `assert_invalid` / `assert_malformed` modules, and the
//! trap messages with wasm backtraces for its `assert_trap` directives.
//! Review changes with `cargo insta review` (or compare the `.snap.new` files) before accepting.

use harness::diagnostics::{rejections, traps};
use harness::fetch::{fetch, SPEC};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The fetched spec suite, fetched once per process.
fn spec_data() -> &'static PathBuf {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| match fetch(&harness::workspace_root(), SPEC, None) {
        Ok(fetched) => fetched.data_dir,
        Err(e) => panic!("{e}"),
    })
}

fn snapshot_rejections(rel: &str, name: &str) {
    let lines = rejections(&spec_data().join(rel), rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(!lines.is_empty(), "{rel} has no negative assertions");
    insta::with_settings!({
        snapshot_path => harness::workspace_root().join("snapshots"),
        prepend_module_to_snapshot => false,
        description => format!("diagnostics for the assert_invalid/assert_malformed modules of spec/{rel}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, lines.join("\n"));
    });
}

#[test]
fn binary_wast_diagnostics() {
    snapshot_rejections("binary.wast", "spec_binary_rejections");
}

#[test]
fn unreached_invalid_wast_diagnostics() {
    snapshot_rejections(
        "unreached-invalid.wast",
        "spec_unreached_invalid_rejections",
    );
}

#[test]
fn custom_wast_diagnostics() {
    snapshot_rejections("custom.wast", "spec_custom_rejections");
}

fn snapshot_traps(rel: &str, name: &str) {
    let lines = traps(&spec_data().join(rel), rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(!lines.is_empty(), "{rel} has no assert_trap directives");
    insta::with_settings!({
        snapshot_path => harness::workspace_root().join("snapshots"),
        prepend_module_to_snapshot => false,
        description => format!("trap diagnostics (message and wasm backtrace) for the assert_trap directives of spec/{rel}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, lines.join("\n"));
    });
}

#[test]
fn traps_wast_trap_diagnostics() {
    snapshot_traps("traps.wast", "spec_traps_traps");
}

#[test]
fn memory_trap_wast_trap_diagnostics() {
    snapshot_traps("memory_trap.wast", "spec_memory_trap_traps");
}

#[test]
fn call_indirect_wast_trap_diagnostics() {
    snapshot_traps("call_indirect.wast", "spec_call_indirect_traps");
}

#[test]
fn conversions_wast_trap_diagnostics() {
    snapshot_traps("conversions.wast", "spec_conversions_traps");
}

#[test]
fn int_exprs_wast_trap_diagnostics() {
    snapshot_traps("int_exprs.wast", "spec_int_exprs_traps");
}
