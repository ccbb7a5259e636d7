//! Phase 3, translate: stack switching (`cont.new`, `cont.bind`, `resume`, `resume_throw`,
//! `resume_throw_ref`, `suspend`, `switch`).
//!
//! Each instruction is a libcall that switches stacks (`vm/continuation.rs`). Values pass
//! through a buffer in the caller's frame, one 16-byte slot each: arguments on the way in;
//! results, or a handler's payload followed by the new continuation, on the way back. The
//! libcall returns a status: 0 for a normal return, `k + 1` when a suspension reached handler
//! clause `k` (the code then branches to that clause's label), or a failure that traps. An
//! exception coming back is pending in the store, and the usual check after a call unwinds.

use super::env::{ir_type, trap};
use super::{block_args, FuncTranslator};
use crate::error::Result;
use crate::libcall::{
    Libcall, HANDLER_SUSPEND, HANDLER_SWITCH, STATUS_CONSUMED, STATUS_GC_OUT_OF_MEMORY,
    STATUS_UNHANDLED,
};
use crate::types::{HeapType, ValType};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, StackSlot, StackSlotData, StackSlotKind, Value};
use wasmparser::{Handle, Operator as O, ResumeTable};

impl FuncTranslator<'_, '_> {
    /// Translates a stack-switching operator; returns false if `op` is not one.
    pub(super) fn stack_switching(&mut self, op: &O<'_>) -> Result<bool> {
        match op {
            O::ContNew { cont_type_index } => {
                let funcref = self.pop();
                self.b.ins().trapz(funcref, trap::NULL_FUNCTION_REFERENCE);
                let ty = self.b.ins().iconst(types::I32, *cont_type_index as i64);
                let cont = self.libcall(Libcall::ContNew, &[ty, funcref]);
                self.b
                    .ins()
                    .trapz(cont, trap::CONTINUATION_STACK_ALLOCATION);
                self.push(cont);
            }
            O::ContBind {
                argument_index,
                result_index,
            } => {
                let info = &self.env.info;
                let bound = info.cont_func_type(*argument_index).params().len()
                    - info.cont_func_type(*result_index).params().len();
                let cont = self.pop();
                self.b.ins().trapz(cont, trap::NULL_CONTINUATION_REFERENCE);
                let args = self.stack.split_off(self.stack.len() - bound);
                let (slot, addr) = self.value_buffer(args.len());
                self.store_values(slot, &args);
                let count = self.b.ins().iconst(types::I32, bound as i64);
                let new = self.libcall(Libcall::ContBind, &[cont, addr, count]);
                self.b.ins().trapz(new, trap::CONTINUATION_ALREADY_CONSUMED);
                self.push(new);
            }
            O::Resume {
                cont_type_index,
                resume_table,
            } => self.translate_resume(*cont_type_index, resume_table, None),
            O::ResumeThrow {
                cont_type_index,
                tag_index,
                resume_table,
            } => self.translate_resume(*cont_type_index, resume_table, Some(*tag_index)),
            O::ResumeThrowRef {
                cont_type_index,
                resume_table,
            } => self.translate_resume(*cont_type_index, resume_table, Some(u32::MAX)),
            O::Suspend { tag_index } => {
                let ty = self.tag_type(*tag_index);
                let args = self.stack.split_off(self.stack.len() - ty.params().len());
                let (slot, addr) = self.value_buffer(args.len().max(ty.results().len()));
                self.store_values(slot, &args);
                let tag = self.b.ins().iconst(types::I32, *tag_index as i64);
                let count = self.b.ins().iconst(types::I32, args.len() as i64);
                let results = self.b.ins().iconst(types::I32, ty.results().len() as i64);
                let status = self.libcall(Libcall::Suspend, &[tag, addr, count, results]);
                self.after_switch(status);
                let values = self.load_values(slot, ty.results());
                self.stack.extend(values);
            }
            O::Switch {
                cont_type_index,
                tag_index,
            } => {
                // `switch $ct1 $e`: [t1* (ref null $ct1)] -> [t2*], where $ct1's last
                // parameter is the continuation of the switching code, of type [t2*] -> [te*].
                let info = &self.env.info;
                let ct1 = info.cont_func_type(*cont_type_index).clone();
                let nargs = ct1.params().len() - 1;
                let ct2 = match ct1.params()[nargs] {
                    ValType::Ref(r) => match r.heap {
                        HeapType::Concrete(id) => Some(info.module_type_index(id)),
                        _ => None,
                    },
                    _ => None,
                };
                let results: Vec<ValType> = ct2
                    .map(|i| info.cont_func_type(i).params().to_vec())
                    .unwrap_or_default();
                let cont = self.pop();
                self.b.ins().trapz(cont, trap::NULL_CONTINUATION_REFERENCE);
                let args = self.stack.split_off(self.stack.len() - nargs);
                let (slot, addr) = self.value_buffer(nargs.max(results.len()));
                self.store_values(slot, &args);
                let tag = self.b.ins().iconst(types::I32, *tag_index as i64);
                let count = self.b.ins().iconst(types::I32, nargs as i64);
                let n = self.b.ins().iconst(types::I32, results.len() as i64);
                let status = self.libcall(Libcall::Switch, &[tag, cont, addr, count, n]);
                self.after_switch(status);
                let values = self.load_values(slot, &results);
                self.stack.extend(values);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `resume` (`throw` is `None`), `resume_throw` (a module tag) or `resume_throw_ref`
    /// (`u32::MAX`) of a continuation of type `ct` under the handler clauses `table`.
    fn translate_resume(&mut self, ct: u32, table: &ResumeTable, throw: Option<u32>) {
        let info = &self.env.info;
        let ft = info.cont_func_type(ct).clone();
        let handlers: Vec<(u32, Option<u32>)> = table
            .handlers
            .iter()
            .map(|h| match *h {
                Handle::OnLabel { tag, label } => (tag, Some(label)),
                Handle::OnSwitch { tag } => (tag, None),
            })
            .collect();
        let payloads: Vec<Vec<ValType>> = handlers
            .iter()
            .map(|(tag, _)| {
                info.type_as_func(info.tags[*tag as usize])
                    .params()
                    .to_vec()
            })
            .collect();
        let cont = self.pop();
        let nargs = match throw {
            None => ft.params().len(),
            Some(u32::MAX) => 1,
            Some(tag) => self.tag_type(tag).params().len(),
        };
        let args = self.stack.split_off(self.stack.len() - nargs);
        self.b.ins().trapz(cont, trap::NULL_CONTINUATION_REFERENCE);
        if throw == Some(u32::MAX) {
            self.b.ins().trapz(args[0], trap::NULL_EXCEPTION_REFERENCE);
        }
        let size = payloads
            .iter()
            .map(|p| p.len() + 1)
            .chain([nargs, ft.results().len()])
            .max()
            .unwrap_or(0);
        let (slot, addr) = self.value_buffer(size);
        self.store_values(slot, &args);
        // The handler clauses. (The resumer's frame, which backtraces and the collector
        // continue into, is the exact exit the libcall's shim records.)
        let hslot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (handlers.len().max(1) * 8) as u32,
            3,
        ));
        for (i, (tag, label)) in handlers.iter().enumerate() {
            let vmctx = self.env.vmctx(&mut self.b);
            let store_tag = self.b.ins().load(
                types::I32,
                super::env::readonly(),
                vmctx,
                self.env.offsets.tag(*tag) as i32,
            );
            let kind = if label.is_some() {
                HANDLER_SUSPEND
            } else {
                HANDLER_SWITCH
            };
            let kind = self.b.ins().iconst(types::I32, kind as i64);
            let at = i as i32 * 8;
            self.b.ins().stack_store(types::I64, store_tag, hslot, at);
            self.b.ins().stack_store(types::I64, kind, hslot, at + 4);
        }
        let haddr = self.b.ins().stack_addr(types::I64, hslot, 0);
        let nh = self.b.ins().iconst(types::I32, handlers.len() as i64);
        let count = self.b.ins().iconst(types::I32, nargs as i64);
        let status = match throw {
            None => self.libcall(Libcall::Resume, &[cont, addr, count, haddr, nh]),
            Some(tag) => {
                let tag = self.b.ins().iconst(types::I32, tag as i64);
                self.libcall(Libcall::ResumeThrow, &[cont, tag, addr, count, haddr, nh])
            }
        };
        self.after_switch(status);
        for (k, (_, label)) in handlers.iter().enumerate() {
            let Some(label) = label else { continue };
            let hit = self.b.create_block();
            let next = self.b.create_block();
            let is = self.b.ins().icmp_imm_u(IntCC::Equal, status, k as i64 + 1);
            self.b.ins().brif(is, hit, &[], next, &[]);
            self.b.seal_block(hit);
            self.b.switch_to_block(hit);
            // The payload, then the continuation reference (64 bits, like any reference).
            let mut tys = payloads[k].clone();
            tys.push(ValType::I64);
            let values = self.load_values(slot, &tys);
            let (target, _) = self.branch_target(*label);
            self.b.ins().jump(target, &block_args(&values));
            self.b.seal_block(next);
            self.b.switch_to_block(next);
        }
        let values = self.load_values(slot, ft.results());
        self.stack.extend(values);
    }

    /// After a switching libcall: reload the fuel counter, unwind a pending exception, and
    /// trap on a consumed continuation or an unhandled tag.
    fn after_switch(&mut self, status: Value) {
        self.budget_after_call();
        self.check_pending_exception();
        let consumed = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, STATUS_CONSUMED as i64);
        self.b
            .ins()
            .trapnz(consumed, trap::CONTINUATION_ALREADY_CONSUMED);
        let unhandled = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, STATUS_UNHANDLED as i64);
        self.b.ins().trapnz(unhandled, trap::UNHANDLED_TAG);
        let oom = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, STATUS_GC_OUT_OF_MEMORY as i64);
        self.b.ins().trapnz(oom, trap::GC_HEAP_OUT_OF_MEMORY);
    }

    /// The function type of module tag `tag`.
    fn tag_type(&self, tag: u32) -> crate::types::FuncType {
        let info = &self.env.info;
        info.type_as_func(info.tags[tag as usize]).clone()
    }

    /// Calls `call` with the vmctx and `args`; its one result.
    fn libcall(&mut self, call: Libcall, args: &[Value]) -> Value {
        self.env
            .call_libcall(&mut self.b, call, args)
            .expect("stack-switching libcalls return a value")
    }

    /// A buffer of `n` 16-byte value slots in this frame, and its address.
    fn value_buffer(&mut self, n: usize) -> (StackSlot, Value) {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (n.max(1) * 16) as u32,
            4,
        ));
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        (slot, addr)
    }

    fn store_values(&mut self, slot: StackSlot, values: &[Value]) {
        for (i, v) in values.iter().enumerate() {
            self.b
                .ins()
                .stack_store(types::I64, *v, slot, i as i32 * 16);
        }
    }

    fn load_values(&mut self, slot: StackSlot, tys: &[ValType]) -> Vec<Value> {
        tys.iter()
            .enumerate()
            .map(|(i, t)| {
                self.b
                    .ins()
                    .stack_load(types::I64, ir_type(*t), slot, i as i32 * 16)
            })
            .collect()
    }
}
