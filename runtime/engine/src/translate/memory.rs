//! Phase 3, translate: loads, stores and memory instructions.
//!
//! Guarded memories (see `vm/memory.rs`) compute `base + index + offset` and rely on guard
//! pages; other memories check `index + offset + size <= length` first.

use super::env::{trap, Heap};
use super::FuncTranslator;
use crate::error::Result;
use crate::libcall::Libcall;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, LibCall, MemFlagsData, Type, Value};
use wasmparser::{MemArg, Operator as O};

/// How a load widens its result.
#[derive(Clone, Copy)]
enum Ext {
    None,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

impl FuncTranslator<'_, '_> {
    /// Translates a memory operator; returns false if `op` is not one.
    pub(super) fn memory(&mut self, op: &O<'_>) -> Result<bool> {
        use types::{F32, F64, I32, I64};
        match *op {
            O::I32Load { memarg } => self.load(memarg, I32, Ext::None),
            O::I64Load { memarg } => self.load(memarg, I64, Ext::None),
            O::F32Load { memarg } => self.load(memarg, F32, Ext::None),
            O::F64Load { memarg } => self.load(memarg, F64, Ext::None),
            O::V128Load { memarg } => self.load(memarg, types::I8X16, Ext::None),
            O::I32Load8S { memarg } => self.load(memarg, I32, Ext::S8),
            O::I32Load8U { memarg } => self.load(memarg, I32, Ext::U8),
            O::I32Load16S { memarg } => self.load(memarg, I32, Ext::S16),
            O::I32Load16U { memarg } => self.load(memarg, I32, Ext::U16),
            O::I64Load8S { memarg } => self.load(memarg, I64, Ext::S8),
            O::I64Load8U { memarg } => self.load(memarg, I64, Ext::U8),
            O::I64Load16S { memarg } => self.load(memarg, I64, Ext::S16),
            O::I64Load16U { memarg } => self.load(memarg, I64, Ext::U16),
            O::I64Load32S { memarg } => self.load(memarg, I64, Ext::S32),
            O::I64Load32U { memarg } => self.load(memarg, I64, Ext::U32),
            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg }
            | O::V128Store { memarg } => self.store(memarg, None),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(memarg, Some(types::I8))
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(memarg, Some(types::I16))
            }
            O::I64Store32 { memarg } => self.store(memarg, Some(I32)),
            O::MemorySize { mem } => {
                let heap = self.env.make_heap(mem);
                let len = self.env.heap_bound(&mut self.b, heap);
                let pages = self.b.ins().ushr_imm_u(len, heap.page_size_log2 as i64);
                let v = self.index_from_i64(heap, pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let heap = self.env.make_heap(mem);
                let delta = self.pop();
                let delta = self.index_to_i64(heap.memory64, delta);
                let m = self.b.ins().iconst(I32, mem as i64);
                let old = self.grow_libcall(Libcall::MemoryGrow, &[m, delta]);
                let v = self.index_from_i64(heap, old);
                self.push(v);
            }
            O::MemoryFill { mem } if !self.env.make_heap(mem).shared => {
                // Checked here, then straight to libc's memset: no libcall in between.
                let heap = self.env.make_heap(mem);
                let (dst, val, len) = self.pop3();
                let dst = self.index_to_i64(heap.memory64, dst);
                let len = self.index_to_i64(heap.memory64, len);
                let at = self.checked_range(heap, dst, len);
                self.env
                    .call_libc(&mut self.b, LibCall::Memset, &[at, val, len]);
            }
            O::MemoryCopy { dst_mem, src_mem }
                if dst_mem == src_mem && !self.env.make_heap(dst_mem).shared =>
            {
                // Within one memory: both ranges checked here, then libc's memmove.
                let heap = self.env.make_heap(dst_mem);
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(heap.memory64, dst);
                let src = self.index_to_i64(heap.memory64, src);
                let len = self.index_to_i64(heap.memory64, len);
                let to = self.checked_range(heap, dst, len);
                let from = self.checked_range(heap, src, len);
                self.env
                    .call_libc(&mut self.b, LibCall::Memmove, &[to, from, len]);
            }
            O::MemoryFill { mem } => {
                let heap = self.env.make_heap(mem);
                let (dst, val, len) = self.pop3();
                let dst = self.index_to_i64(heap.memory64, dst);
                let len = self.index_to_i64(heap.memory64, len);
                let m = self.b.ins().iconst(I32, mem as i64);
                self.checked_libcall(
                    Libcall::MemoryFill,
                    &[m, dst, val, len],
                    trap::MEMORY_OUT_OF_BOUNDS,
                );
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let dst64 = self.env.info.memories[dst_mem as usize].memory64;
                let src64 = self.env.info.memories[src_mem as usize].memory64;
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(dst64, dst);
                let src = self.index_to_i64(src64, src);
                let len = self.index_to_i64(dst64 && src64, len);
                let d = self.b.ins().iconst(I32, dst_mem as i64);
                let s = self.b.ins().iconst(I32, src_mem as i64);
                self.checked_libcall(
                    Libcall::MemoryCopy,
                    &[d, s, dst, src, len],
                    trap::MEMORY_OUT_OF_BOUNDS,
                );
            }
            O::MemoryInit { data_index, mem } => {
                let mem64 = self.env.info.memories[mem as usize].memory64;
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(mem64, dst);
                let m = self.b.ins().iconst(I32, mem as i64);
                let d = self.b.ins().iconst(I32, data_index as i64);
                self.checked_libcall(
                    Libcall::MemoryInit,
                    &[m, d, dst, src, len],
                    trap::MEMORY_OUT_OF_BOUNDS,
                );
            }
            O::DataDrop { data_index } => {
                let d = self.b.ins().iconst(I32, data_index as i64);
                self.env.call_libcall(&mut self.b, Libcall::DataDrop, &[d]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The native address of `[index, index + len)` in `heap` (64-bit values), trapping out of
    /// bounds unless the range lies within the memory's current length.
    fn checked_range(&mut self, heap: Heap, index: Value, len: Value) -> Value {
        let end = (self.b.ins()).uadd_overflow_trap(index, len, trap::MEMORY_OUT_OF_BOUNDS);
        let bound = self.env.heap_bound(&mut self.b, heap);
        self.trap_past(end, bound);
        let base = self.env.heap_base(&mut self.b, heap);
        self.b.ins().iadd(base, index)
    }

    /// Traps out of bounds if an access ending at `end` reaches past `bound` bytes.
    fn trap_past(&mut self, end: Value, bound: Value) {
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, bound);
        self.b.ins().trapnz(out, trap::MEMORY_OUT_OF_BOUNDS);
    }

    /// Calls a libcall that returns 0 on failure, trapping with `code` then.
    pub(super) fn checked_libcall(
        &mut self,
        call: Libcall,
        args: &[Value],
        code: cranelift_codegen::ir::TrapCode,
    ) {
        let ok = self.env.call_libcall(&mut self.b, call, args).unwrap();
        self.b.ins().trapz(ok, code);
    }

    /// Calls `memory.grow`'s or `table.grow`'s libcall: traps (`Host`) if the store's
    /// resource limiter failed, else gives the old size or -1.
    pub(super) fn grow_libcall(&mut self, call: Libcall, args: &[Value]) -> Value {
        let old = self.env.call_libcall(&mut self.b, call, args).unwrap();
        let error = crate::libcall::GROW_ERROR as i64;
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, old, error);
        self.b.ins().trapnz(failed, trap::HOST);
        old
    }

    /// Widens a 32-bit index or length to 64 bits.
    pub(super) fn index_to_i64(&mut self, is64: bool, v: Value) -> Value {
        if is64 {
            v
        } else {
            self.b.ins().uextend(types::I64, v)
        }
    }

    /// Narrows a 64-bit size back to the memory's index type.
    fn index_from_i64(&mut self, heap: Heap, v: Value) -> Value {
        if heap.memory64 {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }

    /// The native address of an access of `size` bytes, checking bounds where needed.
    pub(super) fn effective_address(&mut self, memarg: MemArg, size: u32) -> (Value, MemFlagsData) {
        let (addr, flags, offset) = self.address_and_offset(memarg, size);
        let addr = if offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_u(addr, offset)
        };
        (addr, flags)
    }

    /// [`Self::effective_address`] as an address and an offset for the access's immediate
    /// (the static offset when it fits one, else 0): accesses of one base at several offsets
    /// then share the address, so Cranelift's alias analysis sees that a load reads what a
    /// store to the same base and offset wrote (as where a small function returning values
    /// through memory is inlined), and forwards the stored value.
    fn address_and_offset(&mut self, memarg: MemArg, size: u32) -> (Value, MemFlagsData, i64) {
        let memory = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            wasmparser::MemArgTarget::Array(_) => 0,
        };
        let heap = self.env.make_heap(memory);
        let index = self.pop();
        let index = self.index_to_i64(heap.memory64, index);
        let base = self.env.heap_base(&mut self.b, heap);
        let flags = self.heap_flags();
        if heap.guarded {
            // index + offset < 2^33 lies in the reservation; pages past the length fault.
            let addr = self.b.ins().iadd(base, index);
            return self.split_offset(addr, flags, memarg.offset);
        }
        let bound = self.env.heap_bound(&mut self.b, heap);
        let end_offset = memarg.offset.checked_add(size as u64);
        let end = match end_offset {
            Some(n) if n <= i64::MAX as u64 => {
                let n = self.b.ins().iconst(types::I64, n as i64);
                self.b
                    .ins()
                    .uadd_overflow_trap(index, n, trap::MEMORY_OUT_OF_BOUNDS)
            }
            _ => {
                self.b.ins().trap(trap::MEMORY_OUT_OF_BOUNDS);
                // Keep the builder in a valid block for the rest of the operator.
                let dead = self.b.create_block();
                self.b.switch_to_block(dead);
                self.b.seal_block(dead);
                self.b.ins().iconst(types::I64, 0)
            }
        };
        self.trap_past(end, bound);
        let addr = self.b.ins().iadd(base, index);
        self.split_offset(addr, flags, memarg.offset)
    }

    /// `addr` and `offset` as an access's address and immediate: an offset past the
    /// immediate's range is added to the address.
    fn split_offset(
        &mut self,
        addr: Value,
        flags: MemFlagsData,
        offset: u64,
    ) -> (Value, MemFlagsData, i64) {
        match i32::try_from(offset) {
            Ok(_) => (addr, flags, offset as i64),
            Err(_) => (self.b.ins().iadd_imm_u(addr, offset as i64), flags, 0),
        }
    }

    fn load(&mut self, memarg: MemArg, ty: Type, ext: Ext) {
        let size = match ext {
            Ext::None => ty.bytes(),
            Ext::S8 | Ext::U8 => 1,
            Ext::S16 | Ext::U16 => 2,
            Ext::S32 | Ext::U32 => 4,
        };
        let (addr, flags, offset) = self.address_and_offset(memarg, size);
        let offset = offset as i32;
        let ins = self.b.ins();
        let v = match ext {
            Ext::None => ins.load(ty, flags, addr, offset),
            Ext::S8 => ins.sload8(ty, flags, addr, offset),
            Ext::U8 => ins.uload8(ty, flags, addr, offset),
            Ext::S16 => ins.sload16(ty, flags, addr, offset),
            Ext::U16 => ins.uload16(ty, flags, addr, offset),
            Ext::S32 => ins.sload32(flags, addr, offset),
            Ext::U32 => ins.uload32(flags, addr, offset),
        };
        self.push(v);
    }

    /// Stores the top operand, narrowed to `narrow` if given.
    fn store(&mut self, memarg: MemArg, narrow: Option<Type>) {
        let value = self.pop();
        let ty = self.b.func.dfg.value_type(value);
        let size = narrow.map_or(ty.bytes(), |t| t.bytes());
        let (addr, flags, offset) = self.address_and_offset(memarg, size);
        let offset = offset as i32;
        let ins = self.b.ins();
        match narrow.map(|t| t.bytes()) {
            None => ins.store(flags, value, addr, offset),
            Some(1) => ins.istore8(flags, value, addr, offset),
            Some(2) => ins.istore16(flags, value, addr, offset),
            Some(_) => ins.istore32(flags, value, addr, offset),
        };
    }
}
