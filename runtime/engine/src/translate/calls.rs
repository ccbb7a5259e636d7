//! Phase 3, translate: calls (direct, imported, indirect through tables and references, tail
//! calls) and the table accesses `call_indirect` shares with `table.get`/`table.set`.

use super::env::{self, trap};
use super::exceptions::Callee;
use super::FuncTranslator;
use cranelift_codegen::ir::{self, types, InstBuilder, Value};

impl FuncTranslator<'_, '_> {
    /// The arguments of a call: the top `n` operands.
    pub(super) fn call_args(&mut self, n: usize) -> Vec<Value> {
        self.stack.split_off(self.stack.len() - n)
    }

    /// Emits a call that returns here and pushes its results. A callee that `may_throw`,
    /// called inside a `try_table` or `try`, is called with `try_call` (see `exceptions.rs`);
    /// every other call is plain: exceptions pass through this frame without stopping.
    pub(super) fn call(
        &mut self,
        callee: Callee,
        args: &[Value],
        types: &[crate::types::ValType],
        may_throw: bool,
    ) {
        let results = match self.throw_targets.last() {
            Some(&pad) if may_throw => self.try_call(callee, args, pad),
            _ => {
                let inst = match callee {
                    Callee::Direct(f) => self.b.ins().call(f, args),
                    Callee::Indirect(sig, code) => self.b.ins().call_indirect(sig, code, args),
                };
                self.b.inst_results(inst).to_vec()
            }
        };
        for (v, t) in results.iter().zip(types) {
            self.declare_ref(*v, *t);
        }
        self.stack.extend(results);
        self.budget_after_call();
    }

    pub(super) fn translate_call(&mut self, index: u32, tail: bool) {
        let ty = self.env.info.func_type(index).clone();
        let args = self.call_args(ty.params().len());
        let vmctx = self.env.vmctx(&mut self.b);
        if self.env.info.is_imported_func(index) {
            let sig = self
                .env
                .make_indirect_sig(self.b.func, self.env.info.functions[index as usize]);
            let (callee_vmctx, code) = self.env.imported_callee(&mut self.b, index);
            let mut all = vec![callee_vmctx, vmctx];
            all.extend(args);
            self.indirect_call(sig, code, &all, tail, ty.results());
        } else {
            let f = self.env.make_direct_func(self.b.func, index);
            let mut all = vec![vmctx, vmctx];
            all.extend(args);
            if tail {
                self.b.ins().return_call(f, &all);
                self.set_unreachable();
            } else {
                let may_throw = self.env.may_throw[index as usize];
                self.call(Callee::Direct(f), &all, ty.results(), may_throw);
            }
        }
    }

    /// Emits a call (or tail call) through a code pointer (an import's, a table's or a
    /// reference's), which may reach any function: one that may throw.
    pub(super) fn indirect_call(
        &mut self,
        sig: ir::SigRef,
        code: Value,
        args: &[Value],
        tail: bool,
        results: &[crate::types::ValType],
    ) {
        if tail {
            self.b.ins().return_call_indirect(sig, code, args);
            self.set_unreachable();
        } else {
            self.call(Callee::Indirect(sig, code), args, results, true);
        }
    }

    pub(super) fn translate_call_indirect(
        &mut self,
        type_index: u32,
        table_index: u32,
        tail: bool,
    ) {
        let index = self.pop();
        let table64 = self.env.info.tables[table_index as usize].ty.table64;
        let index = if table64 {
            index
        } else {
            self.b.ins().uextend(types::I64, index)
        };
        let funcref = self.table_entry(table_index, index, trap::UNDEFINED_ELEMENT);
        self.b.ins().trapz(funcref, trap::UNINITIALIZED_ELEMENT);
        let actual = self.b.ins().load(
            types::I32,
            env::through_reference(),
            funcref,
            crate::vmoffsets::FUNCREF_TYPE_ID,
        );
        let vmctx = self.env.vmctx(&mut self.b);
        let expected_offset = self.env.offsets.type_id(type_index) as i32;
        let expected = self
            .b
            .ins()
            .load(types::I32, env::readonly(), vmctx, expected_offset);
        // The callee's type must be a subtype of the expected one (see `gc.rs`).
        self.trap_unless_subtype(actual, expected, type_index, trap::BAD_SIGNATURE);
        self.call_funcref(type_index, funcref, tail);
    }

    /// Calls `funcref` of type `type_index`, which the caller has just checked is not null.
    pub(super) fn call_funcref(&mut self, type_index: u32, funcref: Value, tail: bool) {
        let ty = self.env.info.type_as_func(type_index).clone();
        let args = self.call_args(ty.params().len());
        let flags = env::through_reference();
        let code = self
            .b
            .ins()
            .load(types::I64, flags, funcref, crate::vmoffsets::FUNCREF_CODE);
        let callee_vmctx =
            self.b
                .ins()
                .load(types::I64, flags, funcref, crate::vmoffsets::FUNCREF_VMCTX);
        let vmctx = self.env.vmctx(&mut self.b);
        let sig = self.env.make_indirect_sig(self.b.func, type_index);
        let mut all = vec![callee_vmctx, vmctx];
        all.extend(args);
        self.indirect_call(sig, code, &all, tail, ty.results());
    }

    /// Loads element `index` (i64) of a table, trapping with `oob` past its end.
    pub(super) fn table_entry(&mut self, table: u32, index: Value, oob: ir::TrapCode) -> Value {
        let addr = self.table_entry_addr(table, index, oob);
        self.b
            .ins()
            .load(types::I64, ir::MemFlagsData::trusted(), addr, 0)
    }

    /// The address of element `index` (i64) of a table, trapping with `oob` past its end.
    pub(super) fn table_entry_addr(
        &mut self,
        table: u32,
        index: Value,
        oob: ir::TrapCode,
    ) -> Value {
        let len = self.env.table_bound(&mut self.b, table);
        let out = self
            .b
            .ins()
            .icmp(ir::condcodes::IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b.ins().trapnz(out, oob);
        let base = self.env.table_base(&mut self.b, table);
        let scaled = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(base, scaled)
    }
}
