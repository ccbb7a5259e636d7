//! Phase 3, translate: which functions may throw, a whole-module analysis done once before the
//! functions are translated. Inside a `try_table` or `try`, a call that may is a `try_call`
//! (`FuncTranslator::try_call`), whose handler edge costs its caller the callee-saved
//! registers; a call of a function that cannot is a plain call. Calls elsewhere are plain
//! whatever the callee does (the unwinder walks past them), so only calls inside those bodies
//! ask.
//!
//! Imported functions may throw (another instance's wasm may be behind them), and so may any
//! function that throws, switches stacks, calls through a table or a reference, or calls one
//! of those.

use crate::error::{Error, Result};
use crate::info::{DefinedFuncIndex, ModuleInfo};
use cranelift_entity::EntityRef;
use wasmparser::Operator as O;

/// Per function index of `info`: whether a call to it may throw.
pub fn may_throw(info: &ModuleInfo) -> Result<Vec<bool>> {
    let mut may = vec![true; info.functions.len()];
    let func = |d: usize| info.func_index(DefinedFuncIndex::new(d)).index();
    let mut callees: Vec<Vec<u32>> = Vec::with_capacity(info.bodies.len());
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
                O::Throw { .. }
                | O::ThrowRef
                | O::CallIndirect { .. }
                | O::ReturnCallIndirect { .. }
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
    // Propagate to callers until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for (i, direct) in callees.iter().enumerate() {
            if !may[func(i)] && direct.iter().any(|f| may[*f as usize]) {
                may[func(i)] = true;
                changed = true;
            }
        }
    }
    Ok(may)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Module};

    /// The analysis of `wat`.
    fn may_throw_in(wat: &str) -> Vec<bool> {
        let engine = Engine::default();
        let module = Module::new(&engine, wat).expect("the test module compiles");
        may_throw(&module.inner.info).unwrap()
    }

    #[test]
    fn throwing_reaches_direct_callers_only() {
        let wat = r#"(module
          (import "m" "f" (func $import))
          (tag $e)
          (type $t (func))
          (table 1 funcref)
          (func $leaf)
          (func $calls_leaf (call $leaf))
          (func $throws (throw $e))
          (func $calls_throws (call $calls_leaf) (call $throws))
          (func $calls_import (call $import))
          (func $indirect (call_indirect (type $t) (i32.const 0))))"#;
        assert_eq!(
            may_throw_in(wat),
            [true, false, false, true, true, true, true]
        );
    }

    #[test]
    fn recursion_without_a_throw_cannot_throw() {
        let wat = r#"(module
          (func $a (param i32) (if (local.get 0) (then (call $b (i32.const 0)))))
          (func $b (param i32) (call $a (local.get 0))))"#;
        assert_eq!(may_throw_in(wat), [false, false]);
    }
}
