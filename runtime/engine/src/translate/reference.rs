//! Phase 3, translate: references and tables (`ref.*`, `table.*`, `elem.drop`, `call_ref`).

use super::env::trap;
use super::FuncTranslator;
use crate::error::Result;
use crate::libcall::Libcall;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData};
use wasmparser::Operator as O;

impl FuncTranslator<'_, '_> {
    /// Translates a reference or table operator; returns false if `op` is not one.
    pub(super) fn reference(&mut self, op: &O<'_>) -> Result<bool> {
        use types::{I32, I64};
        match *op {
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                self.push_bool(c);
            }
            O::RefFunc { function_index } => {
                let off = self.env.offsets.func(function_index);
                let v = self.env.load_vmctx_ptr(&mut self.b, off);
                self.push(v);
            }
            O::RefAsNonNull => {
                let r = *self.stack.last().unwrap();
                self.b.ins().trapz(r, trap::NULL_REFERENCE);
            }
            O::RefEq => {
                let (x, y) = self.pop2();
                let c = self.b.ins().icmp(IntCC::Equal, x, y);
                self.push_bool(c);
            }
            O::BrOnNull { relative_depth } => {
                let r = self.pop();
                let (target, arity) = self.branch_target(relative_depth);
                let args = self.peekn(arity).to_vec();
                let next = self.b.create_block();
                self.b
                    .ins()
                    .brif(r, next, &[], target, &super::block_args(&args));
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.push(r);
            }
            O::BrOnNonNull { relative_depth } => {
                let r = self.pop();
                let (target, arity) = self.branch_target(relative_depth);
                // The reference travels with the branch as its last value.
                self.push(r);
                let args = self.peekn(arity).to_vec();
                self.pop();
                let next = self.b.create_block();
                self.b
                    .ins()
                    .brif(r, target, &super::block_args(&args), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            O::CallRef { type_index } | O::ReturnCallRef { type_index } => {
                let r = self.pop();
                self.b.ins().trapz(r, trap::NULL_FUNCTION_REFERENCE);
                self.call_funcref(type_index, r, matches!(op, O::ReturnCallRef { .. }));
            }
            O::TableGet { table } => {
                let index = self.pop();
                let index = self.table_index64(table, index);
                let v = self.table_entry(table, index, trap::TABLE_OUT_OF_BOUNDS);
                let element = self.env.info.tables[table as usize].ty.element;
                self.declare_ref(v, crate::types::ValType::Ref(element));
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                let index = self.table_index64(table, index);
                let addr = self.table_entry_addr(table, index, trap::TABLE_OUT_OF_BOUNDS);
                self.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
            }
            O::TableSize { table } => {
                let len = self.env.table_bound(&mut self.b, table);
                let v = self.table_index_narrow(table, len);
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.table_index64(table, delta);
                let t = self.b.ins().iconst(I32, table as i64);
                let old = self.grow_libcall(Libcall::TableGrow, &[t, init, delta]);
                let v = self.table_index_narrow(table, old);
                self.push(v);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let dst = self.table_index64(table, dst);
                let len = self.table_index64(table, len);
                let t = self.b.ins().iconst(I32, table as i64);
                self.checked_libcall(
                    Libcall::TableFill,
                    &[t, dst, val, len],
                    trap::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let dst = self.table_index64(dst_table, dst);
                let src = self.table_index64(src_table, src);
                let both64 = self.env.info.tables[dst_table as usize].ty.table64
                    && self.env.info.tables[src_table as usize].ty.table64;
                let len = self.index_to_i64(both64, len);
                let d = self.b.ins().iconst(I32, dst_table as i64);
                let s = self.b.ins().iconst(I32, src_table as i64);
                self.checked_libcall(
                    Libcall::TableCopy,
                    &[d, s, dst, src, len],
                    trap::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.table_index64(table, dst);
                let t = self.b.ins().iconst(I32, table as i64);
                let e = self.b.ins().iconst(I32, elem_index as i64);
                self.checked_libcall(
                    Libcall::TableInit,
                    &[t, e, dst, src, len],
                    trap::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(I32, elem_index as i64);
                self.env.call_libcall(&mut self.b, Libcall::ElemDrop, &[e]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn table_index64(
        &mut self,
        table: u32,
        v: cranelift_codegen::ir::Value,
    ) -> cranelift_codegen::ir::Value {
        let is64 = self.env.info.tables[table as usize].ty.table64;
        self.index_to_i64(is64, v)
    }

    fn table_index_narrow(
        &mut self,
        table: u32,
        v: cranelift_codegen::ir::Value,
    ) -> cranelift_codegen::ir::Value {
        if self.env.info.tables[table as usize].ty.table64 {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }
}
