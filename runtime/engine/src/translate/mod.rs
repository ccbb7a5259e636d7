//! Phase 3, translate: one wasm function body to Cranelift IR.
//!
//! Structured control flow becomes blocks with parameters (multi-value), locals become
//! `Variable`s, and every runtime detail is asked of the [`env::FuncEnv`].

mod atomics;
mod budget;
mod calls;
pub mod env;
pub mod exceptions;
mod gc;
pub mod inline;
mod legacy_exceptions;
mod memory;
mod numeric;
mod reference;
mod simd;
mod stack_switching;
pub mod throws;

use crate::error::{Error, Result};
use crate::types::ValType;
use cranelift_codegen::ir::{self, types, Block, InstBuilder, SourceLoc, Value};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use env::{ir_type, trap, FuncEnv};
use wasmparser::{BlockType, FunctionBody, Operator};

/// What kind of construct a control frame belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameKind {
    Block,
    Loop,
    If,
    /// A construct opened in unreachable code: no blocks, only nesting.
    Dead,
}

/// The false edge of an `if` whose `else` has not been seen yet.
enum PendingElse {
    /// The else block and the parameters it starts with.
    Block(Block, Vec<Value>),
    /// An `if` whose parameters are its results may have no `else`: its `brif` goes straight
    /// to `end` with the parameters, and is redirected to a new else block if one appears.
    /// (One empty block fewer per such `if`: on large generated functions the register
    /// allocator splits values at every block.)
    ToEnd(ir::Inst, Vec<ValType>),
}

/// A control frame (`push_ctrl` in the spec's validation algorithm).
pub(super) struct ControlFrame {
    kind: FrameKind,
    /// Where `end` continues; its parameters are the results.
    end: Block,
    /// Where `br` to this frame goes (the loop header for loops, else `end`).
    br_target: Block,
    /// Number of values a branch to this frame carries.
    br_arity: usize,
    num_results: usize,
    /// Operand stack height below this frame's parameters.
    height: usize,
    /// Whether some branch targets `end`.
    end_reached: bool,
    /// For `if`: its false edge, until `else` is seen.
    pending_else: Option<PendingElse>,
    /// Whether the code before this frame was reachable.
    reachable_at_start: bool,
    /// For `try_table`: its landing pad.
    landing_pad: Option<exceptions::LandingPad>,
    /// For a legacy `try`: its pad and catch clauses.
    legacy: Option<legacy_exceptions::LegacyTry>,
}

impl ControlFrame {
    /// A frame for a reachable `block` (or the function body) ending at `end`, whose
    /// parameters sit at `height`.
    fn block(end: Block, num_results: usize, height: usize) -> ControlFrame {
        ControlFrame {
            kind: FrameKind::Block,
            end,
            br_target: end,
            br_arity: num_results,
            num_results,
            height,
            end_reached: false,
            pending_else: None,
            reachable_at_start: true,
            landing_pad: None,
            legacy: None,
        }
    }
}

/// Translation state of one function.
pub struct FuncTranslator<'a, 'm> {
    b: FunctionBuilder<'a>,
    env: FuncEnv<'m>,
    stack: Vec<Value>,
    control: Vec<ControlFrame>,
    reachable: bool,
    locals: Vec<(Variable, ValType)>,
    /// Landing pads of the enclosing `try_table`s, innermost last.
    throw_targets: Vec<Block>,
    /// The block that unwinds the pending exception past this function, if used.
    propagate: Option<Block>,
    /// Fuel and epoch checks (`budget.rs`).
    budget: budget::Budget,
    /// Values declared as GC references (see `declare_ref`).
    gc_refs: std::collections::HashSet<Value>,
    /// Flags of linear-memory and of global accesses, made (with their alias region, see
    /// [`env::Region`]) on first use.
    heap_flags: Option<ir::MemFlagsData>,
    globals_flags: Option<ir::MemFlagsData>,
    /// The callee being inlined, if any (`inline.rs`).
    inlining: Option<inline::Inlining>,
    /// Operators inlined so far, against [`inline::CALLER_BUDGET`].
    inlined_ops: u32,
    /// Where the trapping operators of inlined bodies came from (see [`inline::INLINED`]).
    inlined_locs: Vec<inline::InlinedLoc>,
}

/// Translates defined function `index` (in the function index space) into `func`; returns
/// where its inlined operators came from (see [`inline::INLINED`]).
pub fn translate_function(
    env: FuncEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    config: cranelift_codegen::isa::TargetFrontendConfig,
) -> Result<Vec<inline::InlinedLoc>> {
    let ty = env.info.func_type(index).clone();
    let mut t = FuncTranslator {
        b: FunctionBuilder::new(func, fctx),
        env,
        stack: Vec::new(),
        control: Vec::new(),
        reachable: true,
        locals: Vec::new(),
        throw_targets: Vec::new(),
        propagate: None,
        budget: Default::default(),
        gc_refs: Default::default(),
        heap_flags: None,
        globals_flags: None,
        inlining: None,
        inlined_ops: 0,
        inlined_locs: Vec::new(),
    };
    t.env.func_index = index;
    t.env.install_stack_limit(t.b.func);
    let entry = t.b.create_block();
    t.b.append_block_params_for_function_params(entry);
    t.b.switch_to_block(entry);
    t.b.seal_block(entry);
    let vmctx = t.b.block_params(entry)[0];
    t.env.set_vmctx(vmctx);
    let params: Vec<Value> = t.b.block_params(entry)[2..].to_vec();
    t.locals = t.bind_locals(&params, ty.params(), body)?;
    t.budget_entry();
    let ret = t.block_with_params(ty.results());
    t.control
        .push(ControlFrame::block(ret, ty.results().len(), 0));
    let mut reader = body
        .get_operators_reader()
        .map_err(Error::from_wasmparser)?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(Error::from_wasmparser)?;
        t.b.set_srcloc(SourceLoc::new(offset as u32));
        t.budget_before(&op);
        t.operator(&op)?;
        t.budget_after(&op);
    }
    // The final `end` switched to the return block; return its parameters.
    if t.reachable {
        t.budget_exit();
        let results = std::mem::take(&mut t.stack);
        t.b.ins().return_(&results);
    }
    t.fill_propagate_block();
    t.b.seal_all_blocks();
    t.b.finalize(config);
    Ok(t.inlined_locs)
}

impl FuncTranslator<'_, '_> {
    pub(super) fn zero(&mut self, vt: ValType) -> Value {
        match vt {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => self.b.ins().iconst(types::I64, 0),
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => {
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                self.b.ins().vconst(types::I8X16, c)
            }
        }
    }

    /// The locals of a function body: its parameters, bound to `args`, then its declared
    /// locals, zero.
    fn bind_locals(
        &mut self,
        args: &[Value],
        params: &[ValType],
        body: &FunctionBody<'_>,
    ) -> Result<Vec<(Variable, ValType)>> {
        let mut locals = Vec::with_capacity(args.len());
        for (arg, vt) in args.iter().zip(params) {
            let var = self.declare_local(*vt);
            self.declare_ref(*arg, *vt);
            self.b.def_var(var, *arg);
            locals.push((var, *vt));
        }
        let mut reader = body.get_locals_reader().map_err(Error::from_wasmparser)?;
        for _ in 0..reader.get_count() {
            let (count, vt) = reader.read().map_err(Error::from_wasmparser)?;
            let vt = self.canonical(crate::info::val_type(vt));
            for _ in 0..count {
                let var = self.declare_local(vt);
                let zero = self.zero(vt);
                self.b.def_var(var, zero);
                locals.push((var, vt));
            }
        }
        Ok(locals)
    }

    /// Flags of an access to a global's storage (see [`env::Region`]).
    fn globals_flags(&mut self) -> ir::MemFlagsData {
        if let Some(flags) = self.globals_flags {
            return flags;
        }
        let region = env::alias_region(self.b.func, env::Region::Globals);
        let flags = ir::MemFlagsData::trusted().with_alias_region(Some(region));
        *self.globals_flags.insert(flags)
    }

    /// Flags of a linear-memory access: it may trap out of bounds (see [`env::Region`]).
    fn heap_flags(&mut self) -> ir::MemFlagsData {
        if let Some(flags) = self.heap_flags {
            return flags;
        }
        let region = env::alias_region(self.b.func, env::Region::Heap);
        let flags = ir::MemFlagsData::new()
            .with_trap_code(Some(trap::MEMORY_OUT_OF_BOUNDS))
            .with_alias_region(Some(region));
        *self.heap_flags.insert(flags)
    }

    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated code never pops an empty stack")
    }
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }
    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Parameter and result types of a block type.
    pub(super) fn block_sig(&self, bt: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![self.canonical(crate::info::val_type(t))]),
            BlockType::FuncType(i) => {
                let f = self.env.info.type_as_func(i);
                (f.params().to_vec(), f.results().to_vec())
            }
        }
    }

    pub(super) fn block_with_params(&mut self, tys: &[ValType]) -> Block {
        let block = self.b.create_block();
        for t in tys {
            let v = self.b.append_block_param(block, ir_type(*t));
            self.declare_ref(v, *t);
        }
        block
    }

    /// `vt` (from the function body: locals, block types) with its concrete type index,
    /// if any, made canonical.
    fn canonical(&self, vt: ValType) -> ValType {
        vt.map_indices(&mut |i| self.env.info.type_ids[i as usize])
    }

    /// A variable for a local of type `vt` (canonical), tracked by stack maps if it holds
    /// GC references.
    fn declare_local(&mut self, vt: ValType) -> Variable {
        let var = self.b.declare_var(ir_type(vt));
        if vt.is_gc_ref() {
            self.b.declare_var_needs_stack_map(var);
        }
        var
    }

    /// Declares `v` a GC reference if `vt` (canonical) is a GC reference type: every call
    /// it is live across spills it to a stack slot the call's stack map lists and reloads it
    /// afterwards, so the collector finds it and may move its object (see `vm::gc::frames`).
    pub(super) fn declare_ref(&mut self, v: Value, vt: ValType) {
        if vt.is_gc_ref() {
            self.declare_gc_ref(v);
        }
    }

    /// Declares `v` a GC reference (see `declare_ref`).
    pub(super) fn declare_gc_ref(&mut self, v: Value) {
        if self.gc_refs.insert(v) {
            self.b.declare_value_needs_stack_map(v);
        }
    }

    /// Enters unreachable code: drops operands down to the innermost frame's height.
    pub(super) fn set_unreachable(&mut self) {
        self.reachable = false;
        let height = self.control.last().map_or(0, |f| f.height);
        self.stack.truncate(height);
    }

    /// The frame a branch of relative depth `depth` targets, marking its end as reached.
    pub(super) fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        if frame.kind != FrameKind::Loop {
            frame.end_reached = true;
        }
        (frame.br_target, frame.br_arity)
    }

    fn operator(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.b.ins().trap(trap::UNREACHABLE);
                self.set_unreachable();
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_sig(blockty);
                let end = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control
                    .push(ControlFrame::block(end, results.len(), height));
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_sig(blockty);
                let header = self.block_with_params(&params);
                let end = self.block_with_params(&results);
                let args = self.stack.split_off(self.stack.len() - params.len());
                self.b.ins().jump(header, &block_args(&args));
                self.b.switch_to_block(header);
                self.stack.extend_from_slice(self.b.block_params(header));
                let height = self.stack.len() - params.len();
                self.control.push(ControlFrame {
                    kind: FrameKind::Loop,
                    br_target: header,
                    br_arity: params.len(),
                    ..ControlFrame::block(end, results.len(), height)
                });
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_sig(blockty);
                let then_block = self.block_with_params(&params);
                let end = self.block_with_params(&results);
                let args = self.stack.split_off(self.stack.len() - params.len());
                let block_args = block_args(&args);
                let pending = if params == results {
                    let brif = self
                        .b
                        .ins()
                        .brif(cond, then_block, &block_args, end, &block_args);
                    PendingElse::ToEnd(brif, params.clone())
                } else {
                    let else_block = self.block_with_params(&params);
                    self.b
                        .ins()
                        .brif(cond, then_block, &block_args, else_block, &block_args);
                    self.b.seal_block(else_block);
                    let else_params = self.b.block_params(else_block).to_vec();
                    PendingElse::Block(else_block, else_params)
                };
                self.b.seal_block(then_block);
                self.b.switch_to_block(then_block);
                let then_params = self.b.block_params(then_block).to_vec();
                self.stack.extend_from_slice(&then_params);
                let height = self.stack.len() - params.len();
                self.control.push(ControlFrame {
                    kind: FrameKind::If,
                    pending_else: Some(pending),
                    ..ControlFrame::block(end, results.len(), height)
                });
            }
            Operator::Else => self.translate_else(),
            Operator::End => self.translate_end(),
            Operator::Br { relative_depth } => self.translate_br(relative_depth),
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, arity) = self.branch_target(relative_depth);
                let args = self.peekn(arity).to_vec();
                let next = self.b.create_block();
                self.b
                    .ins()
                    .brif(cond, target, &block_args(&args), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => self.translate_br_table(targets)?,
            Operator::Return if self.inlining.is_some() => {
                let depth = self.inlined_return_depth().expect("inside an inlined body");
                self.translate_br(depth);
            }
            Operator::Return => {
                let arity = self.control[0].br_arity;
                let args = self.peekn(arity).to_vec();
                self.b.ins().return_(&args);
                self.set_unreachable();
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } | Operator::TypedSelectMulti { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                if self.gc_refs.contains(&a) || self.gc_refs.contains(&b) {
                    self.declare_gc_ref(v);
                }
                self.push(v);
            }
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize].0);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().unwrap();
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            Operator::GlobalGet { global_index } => {
                let vt = self.env.info.globals[global_index as usize].ty.content;
                let (addr, offset) = self.env.make_global(&mut self.b, global_index);
                let flags = self.globals_flags();
                let v = self.b.ins().load(ir_type(vt), flags, addr, offset);
                self.declare_ref(v, vt);
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop();
                let (addr, offset) = self.env.make_global(&mut self.b, global_index);
                let flags = self.globals_flags();
                self.b.ins().store(flags, v, addr, offset);
            }
            Operator::Call { function_index } if self.inlines(function_index) => {
                self.inline_call(function_index)?
            }
            Operator::Call { function_index } => self.translate_call(function_index, false),
            Operator::ReturnCall { function_index } => self.translate_call(function_index, true),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.translate_call_indirect(type_index, table_index, false),
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.translate_call_indirect(type_index, table_index, true),
            ref op => {
                if !(self.numeric(op)
                    || self.memory(op)?
                    || self.reference(op)?
                    || self.simd(op)?
                    || self.exceptions(op)?
                    || self.atomics(op)?
                    || self.gc(op)?
                    || self.stack_switching(op)?)
                {
                    return Err(unsupported(op));
                }
            }
        }
        Ok(())
    }

    /// Operators in unreachable code only keep the nesting of control frames.
    fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => {
                let dummy = self.control.last().unwrap().end;
                self.control.push(ControlFrame {
                    kind: FrameKind::Dead,
                    reachable_at_start: false,
                    ..ControlFrame::block(dummy, 0, self.stack.len())
                });
            }
            Operator::Else => self.translate_else(),
            Operator::End => self.translate_end(),
            Operator::Catch { tag_index } => self.translate_catch(Some(*tag_index)),
            Operator::CatchAll => self.translate_catch(None),
            Operator::Delegate { relative_depth } => self.translate_delegate(*relative_depth),
            _ => {}
        }
        Ok(())
    }

    fn translate_else(&mut self) {
        let frame = self.control.last_mut().unwrap();
        if frame.kind == FrameKind::Dead {
            return;
        }
        let pending = frame.pending_else.take().expect("else follows if");
        let (end, height, n) = (frame.end, frame.height, frame.num_results);
        if self.reachable {
            frame.end_reached = true;
            let args = self.stack.split_off(self.stack.len() - n);
            self.b.ins().jump(end, &block_args(&args));
        }
        self.stack.truncate(height);
        let reachable = frame.reachable_at_start;
        let (else_block, params) = match pending {
            PendingElse::Block(block, params) => (block, params),
            PendingElse::ToEnd(brif, params) => {
                let block = self.block_with_params(&params);
                self.b.change_jump_destination(brif, end, block);
                self.b.seal_block(block);
                (block, self.b.block_params(block).to_vec())
            }
        };
        self.b.switch_to_block(else_block);
        self.stack.extend(params);
        self.reachable = reachable;
    }

    fn translate_end(&mut self) {
        let mut frame = self.control.pop().expect("end closes a frame");
        if frame.kind == FrameKind::Dead {
            return;
        }
        let mut end_reached = frame.end_reached;
        if self.reachable {
            let args = self.stack.split_off(self.stack.len() - frame.num_results);
            self.b.ins().jump(frame.end, &block_args(&args));
            end_reached = true;
        }
        self.stack.truncate(frame.height);
        match frame.pending_else.take() {
            // `if` without `else`: the false edge carries the parameters to `end`.
            Some(PendingElse::Block(else_block, params)) => {
                self.b.switch_to_block(else_block);
                self.b.ins().jump(frame.end, &block_args(&params));
                end_reached = true;
            }
            Some(PendingElse::ToEnd(..)) => end_reached = true,
            None => {}
        }
        if frame.kind == FrameKind::Loop {
            self.b.seal_block(frame.br_target);
        }
        if let Some(pad) = frame.landing_pad.take() {
            // Catch clauses may branch to the end of enclosing frames, making them reachable.
            self.fill_landing_pad(pad);
        }
        if let Some(t) = frame.legacy.take() {
            self.finish_legacy_try(t);
        }
        if end_reached {
            self.b.switch_to_block(frame.end);
            self.b.seal_block(frame.end);
            self.stack.extend_from_slice(self.b.block_params(frame.end));
            self.reachable = true;
        } else {
            self.reachable = false;
        }
    }

    fn translate_br(&mut self, depth: u32) {
        let (target, arity) = self.branch_target(depth);
        let args = self.peekn(arity).to_vec();
        self.b.ins().jump(target, &block_args(&args));
        self.set_unreachable();
    }

    fn translate_br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<()> {
        let index = self.pop();
        let mut depths = Vec::with_capacity(targets.len() as usize);
        for t in targets.targets() {
            depths.push(t.map_err(Error::from_wasmparser)?);
        }
        let default = targets.default();
        let (_, arity) = self.branch_target(default);
        let args = self.peekn(arity).to_vec();
        // Block arguments travel through one edge block per distinct target, emitted in the
        // order of first use so that compilation is deterministic (`edges` keeps that order;
        // the map only finds a depth's block).
        let mut edges: Vec<(u32, ir::Block)> = Vec::new();
        let mut edge_for = std::collections::HashMap::new();
        let mut block_call = |t: &mut Self, depth: u32| {
            let (target, _) = t.branch_target(depth);
            let dest = if arity == 0 {
                target
            } else {
                *edge_for.entry(depth).or_insert_with(|| {
                    let block = t.b.create_block();
                    edges.push((depth, block));
                    block
                })
            };
            t.b.func.dfg.block_call(dest, &[] as &[ir::BlockArg])
        };
        let default_call = block_call(self, default);
        let calls: Vec<_> = depths.iter().map(|d| block_call(self, *d)).collect();
        let jt = self
            .b
            .create_jump_table(ir::JumpTableData::new(default_call, &calls));
        self.b.ins().br_table(index, jt);
        for (depth, edge) in edges {
            let (target, _) = self.branch_target(depth);
            self.b.switch_to_block(edge);
            self.b.seal_block(edge);
            self.b.ins().jump(target, &block_args(&args));
        }
        self.set_unreachable();
        Ok(())
    }
}

/// Values as block arguments.
pub(crate) fn block_args(values: &[Value]) -> Vec<ir::BlockArg> {
    values.iter().map(|v| ir::BlockArg::Value(*v)).collect()
}

/// The error for an operator this runtime does not translate.
fn unsupported(op: &Operator<'_>) -> Error {
    let name = format!("{op:?}");
    let name = name
        .split([' ', '{', '('])
        .next()
        .unwrap_or("?")
        .to_string();
    Error::Unsupported(format!("operator `{name}`"))
}
