//! Phase 4, compile: tests that compilation is deterministic (the same module and
//! configuration give byte-identical machine code and metadata in two engines).

use super::{compile_ir, translate_ir, Unit};
use crate::{Engine, Module};
use cranelift_frontend::FunctionBuilderContext;

/// Everything one function compiles to, in comparable form: its Cranelift IR as text, then
/// the machine code, relocations, trap sites and source locations.
type Compiled = (
    String,
    Vec<u8>,
    Vec<String>,
    Vec<(u32, crate::TrapCode)>,
    Vec<(u32, u32)>,
);

/// Translates and compiles every defined function of `wat` in a fresh engine, unlinked.
fn machine_code(wat: &str) -> Vec<Compiled> {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("the test module compiles");
    let inner = &module.inner;
    let unit = Unit::new(engine.isa(), engine.config(), &inner.info, &inner.offsets).unwrap();
    let mut fctx = FunctionBuilderContext::new();
    (0..inner.info.num_defined_funcs())
        .map(|i| {
            let (func, _) = translate_ir(&unit, i, &mut fctx).unwrap();
            let clif = func.display().to_string();
            let f = compile_ir(engine.isa(), func).unwrap();
            let relocs = f
                .relocs
                .iter()
                .map(|r| format!("{} {:?} {:?} {}", r.offset, r.kind, r.target, r.addend))
                .collect();
            (clif, f.code, relocs, f.traps, f.srclocs)
        })
        .collect()
}

/// A function whose `br_table` has `n` distinct targets that each take a value (so each
/// gets an edge block).
fn large_br_table(n: usize) -> String {
    let labels: Vec<String> = (0..n).map(|i| format!("$b{i}")).collect();
    let mut body = format!(
        "(br_table {} $b0 (i32.const 7) (local.get 0))",
        labels.join(" ")
    );
    for i in 0..n {
        body = format!("(i32.add (block $b{i} (result i32) {body}) (i32.const {i}))");
    }
    format!("(module (func (export \"f\") (param i32) (result i32) {body}))")
}

#[test]
fn a_large_br_table_compiles_to_the_same_bytes_in_two_engines() {
    let wat = large_br_table(300);
    let first = machine_code(&wat);
    let second = machine_code(&wat);
    assert_eq!(first.len(), 1);
    assert!(first[0].1.len() > 1000, "the table was compiled");
    let (a, b) = (&first[0], &second[0]);
    assert!(
        a.0 == b.0,
        "the Cranelift IR differs between two translations"
    );
    assert!(
        a.1 == b.1,
        "the machine code differs between two compilations"
    );
    assert!(
        a.2 == b.2 && a.3 == b.3 && a.4 == b.4,
        "the metadata differs"
    );
}
