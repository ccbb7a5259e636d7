//! Snapshot tests of the Cranelift IR the translator makes (insta, in the top-level
//! `snapshots/` folder): small functions of every operator family, after Cranelift's
//! mid-end (what instruction selection sees). A change in the code we generate — an extra
//! load of the vmctx, a lost `readonly` flag, a bounds check that came back — shows up here
//! for review. Update with `INSTA_UPDATE=always` (or `cargo insta review`) once reviewed.

use runtime::{ClifStage, Config, Engine, Module, WasmFeatures};

fn snapshot(name: &str, config: &Config, wat: &str) {
    let engine = Engine::new(config).unwrap();
    let funcs = Module::clif(&engine, wat, ClifStage::Optimized).unwrap();
    let text: String = funcs
        .iter()
        .map(|(index, clif)| format!(";; function {index}\n{clif}\n"))
        .collect();
    insta::with_settings!({
        snapshot_path => harness::workspace_root().join("snapshots"),
        prepend_module_to_snapshot => false,
        description => format!("optimized CLIF of:\n{wat}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

fn default() -> Config {
    Config::new()
}

#[test]
fn numeric() {
    snapshot(
        "clif_numeric",
        &default(),
        r#"(module
  (func (param i32 i32) (result i32) (i32.add (local.get 0) (i32.mul (local.get 1) (i32.const 3))))
  (func (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32) (i32.rotl (local.get 0) (local.get 1)))
  (func (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
  (func (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0))))"#,
    );
}

#[test]
fn memory() {
    let wat = r#"(module
  (memory 1)
  (func (param i32) (result i32) (i32.load offset=8 (local.get 0)))
  (func (param i32 i64) (i64.store16 (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32)
    (i32.add (i32.load (local.get 0)) (i32.load offset=4 (local.get 0))))
  (func (param i32) (result i32) (memory.grow (local.get 0)))
  (func (result i32) (memory.size))
  (func (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#;
    snapshot("clif_memory_guarded", &default(), wat);
    let mut checked = default();
    checked.explicit_bounds_checks(true);
    snapshot("clif_memory_bounds_checked", &checked, wat);
    snapshot(
        "clif_memory64",
        &default(),
        r#"(module
  (memory i64 1)
  (func (param i64) (result i32) (i32.load offset=8 (local.get 0)))
  (func (param i64 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    );
}

/// Calls as calls: inlining is off here (`inlined_calls` shows it on).
#[test]
fn calls_globals_and_tables() {
    let mut no_inlining = default();
    no_inlining.compiler_inlining(false);
    snapshot(
        "clif_calls",
        &no_inlining,
        r#"(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) func $inc)
  (global $g (mut i32) (i32.const 0))
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func (param i32) (result i32) (call $inc (local.get 0)))
  (func (param i32) (result i32) (call $host (local.get 0)))
  (func (param i32 i32) (result i32) (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func (param i32 (ref $t)) (result i32) (call_ref $t (local.get 0) (local.get 1)))
  (func (param i32) (result i32) (return_call $inc (local.get 0)))
  (func (param i32) (global.set $g (i32.add (global.get $g) (local.get 0))))
  (func (param i32) (result funcref) (table.get 0 (local.get 0))))"#,
    );
}

/// A call of a small leaf is its body in place: compiler-rt's `__multi3` (as clang 16 emits
/// it), called the way `u64 * u64 -> u128` calls it, becomes straight-line multiplies whose
/// result stores the caller's loads read back; an early `return` is a jump to the join.
#[test]
fn inlined_calls() {
    snapshot(
        "clif_inlined",
        &default(),
        r#"(module
  (memory 1)
  (func $__multi3 (param i32 i64 i64 i64 i64) (local i64)
    local.get 0 local.get 4 local.get 1 i64.mul local.get 2 local.get 3 i64.mul i64.add
    local.get 3 i64.const 32 i64.shr_u local.tee 2 local.get 1 i64.const 32 i64.shr_u
    local.tee 4 i64.mul i64.add local.get 3 i64.const 4294967295 i64.and local.tee 3
    local.get 1 i64.const 4294967295 i64.and local.tee 1 i64.mul local.tee 5 i64.const 32
    i64.shr_u local.get 3 local.get 4 i64.mul i64.add local.tee 3 i64.const 32 i64.shr_u
    i64.add local.get 3 i64.const 4294967295 i64.and local.get 2 local.get 1 i64.mul i64.add
    local.tee 1 i64.const 32 i64.shr_u i64.add i64.store offset=8
    local.get 0 local.get 1 i64.const 32 i64.shl local.get 5 i64.const 4294967295 i64.and
    i64.or i64.store)
  (func $abs (param i32) (result i32)
    (if (i32.ge_s (local.get 0) (i32.const 0)) (then (return (local.get 0))))
    (i32.sub (i32.const 0) (local.get 0)))
  (func (param i32 i64 i64) (result i64)
    (call $__multi3 (local.get 0) (local.get 1) (i64.const 0) (local.get 2) (i64.const 0))
    (i64.xor (i64.load (local.get 0)) (i64.load offset=8 (local.get 0))))
  (func (param i32) (result i32) (call $abs (local.get 0))))"#,
    );
}

/// A table whose maximum is its minimum never grows: its bound is a constant and its base a
/// load Cranelift may hoist; a growable one's are loaded at each access.
#[test]
fn fixed_and_growable_tables() {
    snapshot(
        "clif_tables",
        &default(),
        r#"(module
  (type $t (func (param i32) (result i32)))
  (table $fixed 4 4 funcref)
  (table $growable 4 funcref)
  (func (param i32 i32) (result i32) (call_indirect $fixed (type $t) (local.get 0) (local.get 1)))
  (func (param i32 i32) (result i32) (call_indirect $growable (type $t) (local.get 0) (local.get 1))))"#,
    );
}

#[test]
fn control() {
    snapshot(
        "clif_control",
        &default(),
        r#"(module
  (func (param i32) (result i32)
    (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get $acc))
  (func (param i32 i32 i32) (result i32) (select (local.get 0) (local.get 1) (local.get 2)))
  (func (param i32) (result i32)
    (block (result i32) (if (local.get 0) (then (br 1 (i32.const 7)))) (i32.const 9))))"#,
    );
}

#[test]
fn budgets() {
    let wat = r#"(module
  (func (param i32) (result i32)
    (loop $l
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get 0)))"#;
    let mut fuel = default();
    fuel.consume_fuel(true);
    snapshot("clif_fuel", &fuel, wat);
    let mut epoch = default();
    epoch.epoch_interruption(true);
    snapshot("clif_epoch", &epoch, wat);
}

#[test]
fn gc() {
    snapshot(
        "clif_gc",
        &default(),
        r#"(module
  (type $p (struct (field $x (mut i32)) (field $y (mut f64))))
  (type $a (array (mut i8)))
  (func (param i32 f64) (result (ref $p)) (struct.new $p (local.get 0) (local.get 1)))
  (func (param (ref null $p)) (result i32) (struct.get $p $x (local.get 0)))
  (func (param (ref $p) i32) (struct.set $p $x (local.get 0) (local.get 1)))
  (func (param (ref $a) i32) (result i32) (array.get_u $a (local.get 0) (local.get 1)))
  (func (param anyref) (result i32) (ref.test (ref $p) (local.get 0)))
  (func (param i32) (result i32) (i31.get_s (ref.i31 (local.get 0)))))"#,
    );
}

#[test]
fn exceptions() {
    snapshot(
        "clif_exceptions",
        &default(),
        r#"(module
  (tag $e (param i32))
  (func $thrower (param i32) (if (local.get 0) (then (throw $e (local.get 0)))))
  (func (param i32) (result i32)
    (block $caught (result i32)
      (try_table (catch $e $caught) (call $thrower (local.get 0)))
      (i32.const 0))))"#,
    );
}

#[test]
fn atomics_and_simd() {
    let mut threads = default();
    threads.wasm_features(WasmFeatures::WASM3 | WasmFeatures::THREADS);
    snapshot(
        "clif_atomics",
        &threads,
        r#"(module
  (memory 1 1 shared)
  (func (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (param i32) (result i64) (i64.atomic.load (local.get 0)))
  (func (param i32 i32) (result i32) (memory.atomic.notify (local.get 0) (local.get 1))))"#,
    );
    snapshot(
        "clif_simd",
        &default(),
        r#"(module
  (memory 1)
  (func (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (param i32) (result v128) (v128.load (local.get 0)))
  (func (param v128) (result i32) (i8x16.extract_lane_u 3 (local.get 0))))"#,
    );
}
