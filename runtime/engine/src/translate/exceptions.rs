//! Phase 3, translate: exception handling (`throw`, `throw_ref`, `try_table`; the legacy
//! instructions are in `legacy_exceptions.rs`).
//!
//! A thrown exception becomes the store's pending exception (`VMRuntimeLimits`) and goes to
//! the current *throw target*: the landing pad of the innermost `try_table`, or a block that
//! calls the `unwind` libcall. Inside a `try_table`, a call that may throw is a `try_call`
//! whose one handler leads to the landing pad; elsewhere calls are plain: `unwind` walks the
//! frame-pointer chain past them to the nearest frame with a handler for the call it made, so
//! a call that does not throw costs nothing for exceptions. A landing pad compares the
//! exception's tag with each catch clause in order.

use super::env::{ir_type, readonly, trap};
use super::{block_args, ControlFrame, FuncTranslator};
use crate::error::Result;
use crate::libcall::Libcall;
use crate::vmoffsets as off;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, types, Block, BlockArg, BlockCall, ExceptionTableData, ExceptionTableItem, InstBuilder,
    MemFlagsData, StackSlotData, StackSlotKind, Value,
};
use wasmparser::{Catch, Operator as O};

/// A `try_table`'s landing pad and its catch clauses, filled in at the `end`.
pub(super) struct LandingPad {
    pub block: Block,
    pub catches: Vec<Catch>,
}

impl FuncTranslator<'_, '_> {
    /// Translates an exception operator; returns false if `op` is not one.
    pub(super) fn exceptions(&mut self, op: &O<'_>) -> Result<bool> {
        match op {
            O::TryTable { try_table } => {
                let (params, results) = self.block_sig(try_table.ty);
                let end = self.block_with_params(&results);
                let pad = self.b.create_block();
                self.throw_targets.push(pad);
                let height = self.stack.len() - params.len();
                self.control.push(ControlFrame {
                    landing_pad: Some(LandingPad {
                        block: pad,
                        catches: try_table.catches.clone(),
                    }),
                    ..ControlFrame::block(end, results.len(), height)
                });
            }
            O::Throw { tag_index } => {
                let ty = self
                    .env
                    .info
                    .type_as_func(self.env.info.tags[*tag_index as usize])
                    .clone();
                let args = self.stack.split_off(self.stack.len() - ty.params().len());
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    (args.len().max(1) * 16) as u32,
                    4,
                ));
                for (i, v) in args.iter().enumerate() {
                    self.b
                        .ins()
                        .stack_store(types::I64, *v, slot, i as i32 * 16);
                }
                let values = self.b.ins().stack_addr(types::I64, slot, 0);
                let tag = self.b.ins().iconst(types::I32, *tag_index as i64);
                let count = self.b.ins().iconst(types::I32, args.len() as i64);
                let ok = self
                    .env
                    .call_libcall(&mut self.b, Libcall::Throw, &[tag, values, count])
                    .unwrap();
                self.b.ins().trapz(ok, trap::GC_HEAP_OUT_OF_MEMORY);
                let target = self.throw_target();
                self.b.ins().jump(target, &[]);
                self.set_unreachable();
            }
            O::ThrowRef => {
                let exn = self.pop();
                self.b.ins().trapz(exn, trap::NULL_EXCEPTION_REFERENCE);
                let limits = self.limits();
                self.b.ins().store(
                    MemFlagsData::trusted(),
                    exn,
                    limits,
                    off::LIMITS_PENDING_EXCEPTION,
                );
                let target = self.throw_target();
                self.b.ins().jump(target, &[]);
                self.set_unreachable();
            }
            O::Try { blockty } => self.translate_try(*blockty),
            O::Catch { tag_index } => self.translate_catch(Some(*tag_index)),
            O::CatchAll => self.translate_catch(None),
            O::Rethrow { relative_depth } => self.translate_rethrow(*relative_depth),
            O::Delegate { relative_depth } => self.translate_delegate(*relative_depth),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The address of the store's runtime limits, loaded where it is needed (throws, landing
    /// pads, the checks after stack switches): a plain load, which Cranelift neither merges
    /// nor hoists, so it does not become one value kept live across the function.
    pub(super) fn limits(&mut self) -> Value {
        let vmctx = self.env.vmctx(&mut self.b);
        self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            vmctx,
            off::VMCTX_LIMITS as i32,
        )
    }

    /// Where a thrown exception goes from here.
    pub(super) fn throw_target(&mut self) -> Block {
        if let Some(pad) = self.throw_targets.last() {
            return *pad;
        }
        self.propagate_block()
    }

    /// The block that unwinds the pending exception past this function (`Libcall::Unwind`).
    pub(super) fn propagate_block(&mut self) -> Block {
        *self.propagate.get_or_insert_with(|| self.b.create_block())
    }

    /// Loads the payload of exception `exn`, thrown with module tag `tag_index`.
    pub(super) fn catch_payload(&mut self, exn: Value, tag_index: u32) -> Vec<Value> {
        let ty = self
            .env
            .info
            .type_as_func(self.env.info.tags[tag_index as usize])
            .clone();
        // The payload is inline in the exception object, 16 bytes per value.
        let flags = MemFlagsData::trusted();
        ty.params()
            .iter()
            .enumerate()
            .map(|(i, vt)| {
                let at = off::EXCEPTION_PAYLOAD + i as i32 * 16;
                self.b.ins().load(ir_type(*vt), flags, exn, at)
            })
            .collect()
    }

    /// A call of `callee` with `args` inside a `try_table` or `try` whose landing pad is
    /// `pad`: a `try_call` whose one (catch-all) handler reloads the fuel counter and jumps
    /// to the pad, which tests the tags. Returns the call's results.
    pub(super) fn try_call(&mut self, callee: Callee, args: &[Value], pad: Block) -> Vec<Value> {
        let sig = match callee {
            Callee::Direct(f) => self.b.func.dfg.ext_funcs[f].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let returns: Vec<ir::Type> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|p| p.value_type)
            .collect();
        let next = self.b.create_block();
        for t in &returns {
            self.b.append_block_param(next, *t);
        }
        let handler = self.b.create_block();
        self.b.set_cold_block(handler);
        let pool = &mut self.b.func.dfg.value_lists;
        let normal = BlockCall::new(
            next,
            (0..returns.len()).map(|i| BlockArg::TryCallRet(i as u32)),
            pool,
        );
        let caught = BlockCall::new(handler, [], pool);
        let table = self
            .b
            .func
            .dfg
            .exception_tables
            .push(ExceptionTableData::new(
                sig,
                normal,
                [ExceptionTableItem::Default(caught)],
            ));
        match callee {
            Callee::Direct(f) => self.b.ins().try_call(f, args, table),
            Callee::Indirect(_, code) => self.b.ins().try_call_indirect(code, args, table),
        };
        self.b.seal_block(handler);
        self.b.switch_to_block(handler);
        self.budget_after_call();
        self.b.ins().jump(pad, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        self.b.block_params(next).to_vec()
    }

    /// After a stack-switching libcall, which returns with the exception pending when one
    /// reached it: goes to the throw target if so.
    pub(super) fn check_pending_exception(&mut self) {
        let limits = self.limits();
        let pending = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            limits,
            off::LIMITS_PENDING_EXCEPTION,
        );
        let next = self.b.create_block();
        let target = self.throw_target();
        self.b.ins().brif(pending, target, &[], next, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    /// Fills a `try_table`'s landing pad; called at its `end`, with the frame already popped.
    pub(super) fn fill_landing_pad(&mut self, pad: LandingPad) {
        self.throw_targets.pop();
        self.b.switch_to_block(pad.block);
        let limits = self.limits();
        let flags = MemFlagsData::trusted();
        let exn = self
            .b
            .ins()
            .load(types::I64, flags, limits, off::LIMITS_PENDING_EXCEPTION);
        let tag = self
            .b
            .ins()
            .load(types::I32, flags, exn, off::EXCEPTION_TAG);
        for catch in &pad.catches {
            let (label, tag_index, with_ref) = match *catch {
                Catch::One { tag, label } => (label, Some(tag), false),
                Catch::OneRef { tag, label } => (label, Some(tag), true),
                Catch::All { label } => (label, None, false),
                Catch::AllRef { label } => (label, None, true),
            };
            let next = tag_index.map(|t| {
                let vmctx = self.env.vmctx(&mut self.b);
                let expected = self.b.ins().load(
                    types::I32,
                    readonly(),
                    vmctx,
                    self.env.offsets.tag(t) as i32,
                );
                let matched = self.b.create_block();
                let next = self.b.create_block();
                let eq = self.b.ins().icmp(IntCC::Equal, tag, expected);
                self.b.ins().brif(eq, matched, &[], next, &[]);
                self.b.switch_to_block(matched);
                next
            });
            let zero = self.b.ins().iconst(types::I64, 0);
            self.b
                .ins()
                .store(flags, zero, limits, off::LIMITS_PENDING_EXCEPTION);
            let mut args = match tag_index {
                Some(t) => self.catch_payload(exn, t),
                None => Vec::new(),
            };
            if with_ref {
                args.push(exn);
            }
            let (target, _) = self.branch_target(label);
            self.b.ins().jump(target, &block_args(&args));
            match next {
                Some(next) => self.b.switch_to_block(next),
                // A catch-all catches everything: later clauses are dead.
                None => return,
            }
        }
        let outer = self.throw_target();
        self.b.ins().jump(outer, &[]);
    }

    /// Fills the block that unwinds past this function, if it is used. The fuel counter is
    /// saved first: a handler further out reloads it.
    pub(super) fn fill_propagate_block(&mut self) {
        if let Some(block) = self.propagate.take() {
            self.b.set_cold_block(block);
            self.b.switch_to_block(block);
            self.budget_exit();
            self.env.call_libcall(&mut self.b, Libcall::Unwind, &[]);
            self.b.ins().trap(trap::UNREACHABLE);
        }
    }
}

/// What a call calls: a function of the module, or code through a pointer.
#[derive(Clone, Copy)]
pub(super) enum Callee {
    /// A direct call.
    Direct(ir::FuncRef),
    /// An indirect call with this signature and code address.
    Indirect(ir::SigRef, Value),
}
