//! Phase 3, translate: which calls may throw, a whole-module analysis done once before the
//! functions are translated. Inside a `try_table` or `try`, a call that may is a `try_call`
//! (`FuncTranslator::try_call`), whose handler edge costs its caller the callee-saved
//! registers; one that cannot is a plain call.
//!
//! Imported functions may throw (another instance's wasm may be behind them), and so may any
//! function that throws, switches stacks, calls through a reference, or calls one of those.
//! `call_indirect` may reach whatever a table holds: in general anything, but when the module's
//! tables are *closed* (all defined here, none exported, never written but from this module's
//! element segments, whose items are all `ref.func` or `ref.null`) only the functions those
//! segments name, so it may throw only if one of them may.

use crate::error::{Error, Result};
use crate::info::{ConstOp, DefinedFuncIndex, EntityIndex, ModuleInfo};
use cranelift_entity::EntityRef;
use wasmparser::Operator as O;

/// What the analysis found.
pub struct Throws {
    /// Per function index: whether a call to it may throw.
    pub funcs: Vec<bool>,
    /// Whether a `call_indirect` (through any table of the module) may.
    pub indirect: bool,
}

/// Runs the analysis over `info`'s function bodies.
pub fn analyse(info: &ModuleInfo) -> Result<Throws> {
    let mut may = vec![true; info.functions.len()];
    let func = |d: usize| info.func_index(DefinedFuncIndex::new(d)).index();
    let mut callees: Vec<Vec<u32>> = Vec::with_capacity(info.bodies.len());
    let mut calls_indirect = vec![false; info.bodies.len()];
    let mut writes_tables = false;
    for (i, body) in info.bodies.iter().enumerate() {
        let reader = wasmparser::BinaryReader::new(
            &info.binary[body.range.clone()],
            body.range.start as u64,
        );
        let body = wasmparser::FunctionBody::new(reader);
        let mut ops = body
            .get_operators_reader()
            .map_err(Error::from_wasmparser)?;
        let (mut direct, mut throws) = (Vec::new(), false);
        while !ops.eof() {
            match ops.read().map_err(Error::from_wasmparser)? {
                O::Call { function_index } | O::ReturnCall { function_index } => {
                    direct.push(function_index)
                }
                O::CallIndirect { .. } | O::ReturnCallIndirect { .. } => calls_indirect[i] = true,
                O::TableSet { .. } | O::TableFill { .. } | O::TableGrow { .. } => {
                    writes_tables = true
                }
                O::Throw { .. }
                | O::ThrowRef
                | O::CallRef { .. }
                | O::ReturnCallRef { .. }
                | O::Rethrow { .. }
                | O::Resume { .. }
                | O::ResumeThrow { .. }
                | O::ResumeThrowRef { .. }
                | O::Suspend { .. }
                | O::Switch { .. } => throws = true,
                _ => {}
            }
        }
        may[func(i)] = throws;
        callees.push(direct);
    }
    // What the tables may hold: `None` if anything.
    let in_tables = (!writes_tables)
        .then(|| closed_table_contents(info))
        .flatten();
    let indirect_may = |may: &[bool]| match &in_tables {
        Some(funcs) => funcs.iter().any(|f| may[*f as usize]),
        None => true,
    };
    // Propagate to callers until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        let indirect = indirect_may(&may);
        for (i, direct) in callees.iter().enumerate() {
            if !may[func(i)]
                && ((calls_indirect[i] && indirect) || direct.iter().any(|f| may[*f as usize]))
            {
                may[func(i)] = true;
                changed = true;
            }
        }
    }
    let indirect = indirect_may(&may);
    Ok(Throws {
        funcs: may,
        indirect,
    })
}

/// The functions the module's tables can ever hold if they are closed (see the module
/// docs; table writes are checked by the caller), else `None`.
fn closed_table_contents(info: &ModuleInfo) -> Option<Vec<u32>> {
    let exported = info
        .exports
        .iter()
        .any(|(_, e)| matches!(e, EntityIndex::Table(_)));
    if info.num_imported_tables > 0 || exported {
        return None;
    }
    let mut funcs = Vec::new();
    let exprs = info
        .elements
        .iter()
        .flat_map(|e| e.items.iter())
        .chain(info.tables.iter().filter_map(|t| t.init.as_ref()));
    for expr in exprs {
        for op in expr {
            match op {
                ConstOp::RefFunc(f) => funcs.push(*f),
                ConstOp::RefNull(_) => {}
                _ => return None,
            }
        }
    }
    funcs.sort_unstable();
    funcs.dedup();
    Some(funcs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Module};

    /// The analysis of `wat`.
    fn throws(wat: &str) -> Throws {
        let engine = Engine::default();
        let module = Module::new(&engine, wat).expect("the test module compiles");
        analyse(&module.inner.info).unwrap()
    }

    /// A module with a closed table holding `$a` and `$b`, and `$caller` calling through it,
    /// with `extra` added.
    fn with_table(b_body: &str, extra: &str) -> String {
        format!(
            r#"(module
  (type $t (func))
  (tag $e)
  (table 2 funcref)
  (elem (i32.const 0) func $a $b)
  (func $a)
  (func $b {b_body})
  (func $caller (param i32) (call_indirect (type $t) (local.get 0)))
  {extra})"#
        )
    }

    #[test]
    fn call_indirect_through_a_closed_table_of_functions_that_cannot_throw_cannot_throw() {
        let t = throws(&with_table("", ""));
        assert!(!t.indirect);
        assert_eq!(t.funcs, [false, false, false]);
    }

    #[test]
    fn a_function_in_a_closed_table_that_throws_makes_call_indirect_throw() {
        let t = throws(&with_table("(throw $e)", ""));
        assert!(t.indirect);
        assert_eq!(t.funcs, [false, true, true]);
    }

    #[test]
    fn tables_that_are_exported_written_or_hold_imports_or_globals_may_hold_anything() {
        for extra in [
            r#"(export "table" (table 0))"#,
            "(func (table.set 0 (i32.const 0) (ref.null func)))",
            "(func (drop (table.grow 0 (ref.null func) (i32.const 1))))",
            "(func (table.fill 0 (i32.const 0) (ref.null func) (i32.const 1)))",
            r#"(global $g funcref (ref.null func)) (elem (i32.const 1) funcref (global.get $g))"#,
        ] {
            let t = throws(&with_table("", extra));
            assert!(t.indirect, "{extra}");
            assert!(t.funcs[2], "{extra}");
        }
        let imported = r#"(module
  (type $t (func))
  (import "m" "f" (func $f))
  (table 1 funcref)
  (elem (i32.const 0) func $f)
  (func (param i32) (call_indirect (type $t) (local.get 0))))"#;
        assert!(throws(imported).indirect);
    }
}
