//! Phase 3, translate: small leaf (or self-recursive) functions inlined at their direct call
//! sites.
//!
//! A defined function is inlinable when its body has at most [`MAX_CALLEE_OPS`] operators,
//! every one of them scalar and unable to reach the runtime or call any function but itself
//! (locals, globals, numeric operators, plain loads and stores, `memory.size`, structured
//! control, `call` of itself; see [`inlinable_operator`]), and no GC references among its
//! parameters, results, locals or globals. A `call` of one is translated by translating the
//! callee's body in place: its parameters and locals become fresh variables, its body a
//! block whose end is the return point (`return` branches there). Inlined bodies are not
//! inlined into, so a recursive function inlined into itself unrolls one level: fib-like
//! recursions make half the calls (shootout-fib2 0.68 of the time, shootout-ackermann
//! 0.56). Callees that call others stay calls: inlining them cost shootout-switch and
//! tinygo-json 8 to 10%. Compilers targeting wasm leave such calls where they
//! decided a call was cheaper than code growth for their machine model; for us a call costs a
//! frame, a stack check and the caller's caller-saved registers (compiler-rt's `__multi3`,
//! 61 operators, takes half of shootout-ed25519's run as a call).
//!
//! Backtraces stay right: an inlined operator that can trap or branch gets the source
//! location [`INLINED`]` | i`, where `i` indexes the caller's [`InlinedLoc`]s, which name
//! the callee, its offset and the call's offset, so a trap there shows the callee's frame
//! above the caller's (a call in an inlined body is such an operator: its return address
//! maps there). The other inlined operators carry the call's own location. Inlining
//! is off when fuel or epochs are on (a call is where they are charged and checked), and a
//! caller inlines at most [`CALLER_BUDGET`] operators in all.

use super::FuncTranslator;
use crate::error::{Error, Result};
use crate::info::{FuncIndex, ModuleInfo};
use crate::types::ValType;
use cranelift_codegen::ir::SourceLoc;
use wasmparser::Operator as O;

/// The most operators (the closing `end` not counted) an inlined body may have.
pub const MAX_CALLEE_OPS: u32 = 64;
/// The most operators one function may take in by inlining, over all its call sites. (One
/// proportional to the caller's size inlined all of compiler-rt's 805 `__multi3` calls into
/// shootout-ed25519's main: compilation took 2.7 times as long, for 1% less execution time.)
pub const CALLER_BUDGET: u32 = 4096;
/// The bit that marks a source location as an index into [`InlinedLoc`]s rather than a
/// module offset (modules that large are not inlined into).
pub const INLINED: u32 = 1 << 31;

/// Where an operator of an inlined body came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlinedLoc {
    /// The inlined function (function index space).
    pub callee: u32,
    /// The operator's module offset, in the callee.
    pub offset: u32,
    /// The module offset of the `call` it was inlined at, in the caller.
    pub call_offset: u32,
}

/// Per function index of `info`: the operator count of each inlinable function's body,
/// `None` for the others (imported ones too).
pub fn inlinable(info: &ModuleInfo) -> Result<Vec<Option<u32>>> {
    let mut sizes = vec![None; info.functions.len()];
    if info.binary.len() >= INLINED as usize {
        return Ok(sizes);
    }
    for (d, body) in info.bodies.iter().enumerate() {
        let index = info.num_imported_funcs as usize + d;
        let ty = info.func_type(index as u32);
        if ty.params().iter().chain(ty.results()).any(is_ref) {
            continue;
        }
        let reader = wasmparser::BinaryReader::new(
            &info.binary[body.range.clone()],
            body.range.start as u64,
        );
        let body = wasmparser::FunctionBody::new(reader);
        sizes[index] = body_size(info, index as u32, &body)?;
    }
    Ok(sizes)
}

/// The operator count of `body`, the body of function `index`, if it is inlinable.
fn body_size(
    info: &ModuleInfo,
    index: u32,
    body: &wasmparser::FunctionBody<'_>,
) -> Result<Option<u32>> {
    let mut locals = body.get_locals_reader().map_err(Error::from_wasmparser)?;
    for _ in 0..locals.get_count() {
        let (_, vt) = locals.read().map_err(Error::from_wasmparser)?;
        if is_ref(&crate::info::val_type(vt)) {
            return Ok(None);
        }
    }
    let mut ops = body
        .get_operators_reader()
        .map_err(Error::from_wasmparser)?;
    let mut n = 0;
    while !ops.eof() {
        let op = ops.read().map_err(Error::from_wasmparser)?;
        if !inlinable_operator(info, index, &op) {
            return Ok(None);
        }
        n += 1;
        if n > MAX_CALLEE_OPS + 1 {
            return Ok(None);
        }
    }
    Ok(Some(n - 1))
}

fn is_ref(vt: &ValType) -> bool {
    matches!(vt, ValType::Ref(_))
}

/// Whether `op` may appear in the inlined body of function `index`: scalar, and never
/// throwing, reaching the runtime or calling another function. (A call of `index` itself is
/// a call once inlined: a recursive function unrolls one level, halving its calls.)
fn inlinable_operator(info: &ModuleInfo, index: u32, op: &O<'_>) -> bool {
    match op {
        O::Call { function_index } => *function_index == index,
        O::GlobalGet { global_index } | O::GlobalSet { global_index } => {
            !is_ref(&info.globals[*global_index as usize].ty.content)
        }
        O::TypedSelect { ty } => !ty.is_reference_type(),
        _ => control_or_variable(op) || memory_access(op) || numeric(op),
    }
}

fn control_or_variable(op: &O<'_>) -> bool {
    matches!(
        op,
        O::Nop
            | O::Unreachable
            | O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::Br { .. }
            | O::BrIf { .. }
            | O::BrTable { .. }
            | O::Return
            | O::Drop
            | O::Select
            | O::LocalGet { .. }
            | O::LocalSet { .. }
            | O::LocalTee { .. }
            | O::I32Const { .. }
            | O::I64Const { .. }
            | O::F32Const { .. }
            | O::F64Const { .. }
    )
}

/// Plain scalar loads and stores, and `memory.size`.
fn memory_access(op: &O<'_>) -> bool {
    matches!(
        op,
        O::I32Load { .. }
            | O::I64Load { .. }
            | O::F32Load { .. }
            | O::F64Load { .. }
            | O::I32Load8S { .. }
            | O::I32Load8U { .. }
            | O::I32Load16S { .. }
            | O::I32Load16U { .. }
            | O::I64Load8S { .. }
            | O::I64Load8U { .. }
            | O::I64Load16S { .. }
            | O::I64Load16U { .. }
            | O::I64Load32S { .. }
            | O::I64Load32U { .. }
            | O::I32Store { .. }
            | O::I64Store { .. }
            | O::F32Store { .. }
            | O::F64Store { .. }
            | O::I32Store8 { .. }
            | O::I32Store16 { .. }
            | O::I64Store8 { .. }
            | O::I64Store16 { .. }
            | O::I64Store32 { .. }
            | O::MemorySize { .. }
    )
}

/// The scalar numeric operators of Wasm 1.0, sign extension and saturating truncation.
fn numeric(op: &O<'_>) -> bool {
    use O::*;
    matches!(
        op,
        I32Eqz
            | I32Eq
            | I32Ne
            | I32LtS
            | I32LtU
            | I32GtS
            | I32GtU
            | I32LeS
            | I32LeU
            | I32GeS
            | I32GeU
            | I64Eqz
            | I64Eq
            | I64Ne
            | I64LtS
            | I64LtU
            | I64GtS
            | I64GtU
            | I64LeS
            | I64LeU
            | I64GeS
            | I64GeU
            | F32Eq
            | F32Ne
            | F32Lt
            | F32Gt
            | F32Le
            | F32Ge
            | F64Eq
            | F64Ne
            | F64Lt
            | F64Gt
            | F64Le
            | F64Ge
            | I32Clz
            | I32Ctz
            | I32Popcnt
            | I32Add
            | I32Sub
            | I32Mul
            | I32DivS
            | I32DivU
            | I32RemS
            | I32RemU
            | I32And
            | I32Or
            | I32Xor
            | I32Shl
            | I32ShrS
            | I32ShrU
            | I32Rotl
            | I32Rotr
            | I64Clz
            | I64Ctz
            | I64Popcnt
            | I64Add
            | I64Sub
            | I64Mul
            | I64DivS
            | I64DivU
            | I64RemS
            | I64RemU
            | I64And
            | I64Or
            | I64Xor
            | I64Shl
            | I64ShrS
            | I64ShrU
            | I64Rotl
            | I64Rotr
            | F32Abs
            | F32Neg
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F32Sqrt
            | F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Min
            | F32Max
            | F32Copysign
            | F64Abs
            | F64Neg
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F64Sqrt
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Min
            | F64Max
            | F64Copysign
            | I32WrapI64
            | I32TruncF32S
            | I32TruncF32U
            | I32TruncF64S
            | I32TruncF64U
            | I64ExtendI32S
            | I64ExtendI32U
            | I64TruncF32S
            | I64TruncF32U
            | I64TruncF64S
            | I64TruncF64U
            | F32ConvertI32S
            | F32ConvertI32U
            | F32ConvertI64S
            | F32ConvertI64U
            | F32DemoteF64
            | F64ConvertI32S
            | F64ConvertI32U
            | F64ConvertI64S
            | F64ConvertI64U
            | F64PromoteF32
            | I32ReinterpretF32
            | I64ReinterpretF64
            | F32ReinterpretI32
            | F64ReinterpretI64
            | I32Extend8S
            | I32Extend16S
            | I64Extend8S
            | I64Extend16S
            | I64Extend32S
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U
    )
}

/// Whether an inlinable operator needs its own source location: it can trap, or it
/// branches (Cranelift turns a branch to a block that only traps, `if (cond) unreachable`,
/// into a conditional trap at the branch's location).
fn own_location(op: &O<'_>) -> bool {
    use O::*;
    (memory_access(op) && !matches!(op, MemorySize { .. }))
        || matches!(
            op,
            Unreachable
                | Call { .. }
                | If { .. }
                | Else
                | End
                | Br { .. }
                | BrIf { .. }
                | BrTable { .. }
                | Return
                | I32DivS
                | I32DivU
                | I32RemS
                | I32RemU
                | I64DivS
                | I64DivU
                | I64RemS
                | I64RemU
                | I32TruncF32S
                | I32TruncF32U
                | I32TruncF64S
                | I32TruncF64U
                | I64TruncF32S
                | I64TruncF32U
                | I64TruncF64S
                | I64TruncF64U
        )
}

/// The inlining in progress in a caller.
pub(super) struct Inlining {
    /// Index in the control stack of the frame of the callee's body.
    base: usize,
}

impl FuncTranslator<'_, '_> {
    /// Whether the direct call of `callee` here is translated by inlining it.
    pub(super) fn inlines(&self, callee: u32) -> bool {
        let Some(size) = self.env.inlinable.get(callee as usize).copied().flatten() else {
            return false;
        };
        self.inlining.is_none() && self.inlined_ops + size <= CALLER_BUDGET
    }

    /// The control-stack depth of the inlined body's frame, if inside one: `return` branches
    /// to it.
    pub(super) fn inlined_return_depth(&self) -> Option<u32> {
        let base = self.inlining.as_ref()?.base;
        Some((self.control.len() - 1 - base) as u32)
    }

    /// Translates a `call` of `callee` (see [`Self::inlines`]) by translating its body here.
    pub(super) fn inline_call(&mut self, callee: u32) -> Result<()> {
        let info = self.env.info;
        let ty = info.func_type(callee).clone();
        let defined = info
            .defined_func_index(FuncIndex::from_u32(callee))
            .expect("only defined functions are inlinable");
        let range = info.bodies[cranelift_entity::EntityRef::index(defined)]
            .range
            .clone();
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            &info.binary[range.clone()],
            range.start as u64,
        ));
        let call_offset = self.b.srcloc().bits();
        let args = self.call_args(ty.params().len());
        let locals = self.bind_locals(&args, ty.params(), &body)?;
        let caller_locals = std::mem::replace(&mut self.locals, locals);
        let end = self.block_with_params(ty.results());
        let base = self.control.len();
        self.control.push(super::ControlFrame::block(
            end,
            ty.results().len(),
            self.stack.len(),
        ));
        self.inlining = Some(Inlining { base });
        let mut reader = body
            .get_operators_reader()
            .map_err(Error::from_wasmparser)?;
        let mut n = 0;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset().map_err(Error::from_wasmparser)?;
            let loc = if own_location(&op) {
                self.inlined_locs.push(InlinedLoc {
                    callee,
                    offset: offset as u32,
                    call_offset,
                });
                INLINED | (self.inlined_locs.len() - 1) as u32
            } else {
                call_offset
            };
            self.b.set_srcloc(SourceLoc::new(loc));
            self.operator(&op)?;
            n += 1;
        }
        debug_assert_eq!(self.control.len(), base, "the body's end closes its frame");
        self.inlining = None;
        self.inlined_ops += n - 1;
        self.locals = caller_locals;
        self.b.set_srcloc(SourceLoc::new(call_offset));
        Ok(())
    }
}
