//! Phase 3, translate: the threads proposal's atomic memory instructions.
//!
//! Atomic accesses reuse the ordinary effective-address logic (`memory.rs`), so bounds are
//! checked exactly as for plain loads and stores (explicitly, or by guard pages: Cranelift
//! records trap sites for atomic instructions too). Like the reference interpreter (and
//! Wasmtime), the alignment check comes first: an access that is both misaligned and out of
//! bounds traps with "unaligned atomic". The check is on the effective address
//! `index + offset`, as the spec defines it.
//!
//! Narrow (`_u`) forms operate on the narrow type and zero-extend the old value; their operands
//! are wrapped to the access width (also `cmpxchg`'s expected value, as engines do).
//!
//! Cranelift's atomic instructions are sequentially consistent, the proposal's ordering (on
//! x86-64: loads are plain moves, stores a move and `mfence`, read-modify-writes `lock`ed).
//!
//! `wait`/`notify` on a shared memory check alignment and bounds here (an atomic load of the
//! cell, which faults on a guarded memory's unmapped pages), then call the parking lot
//! (`vm/parking.rs`) with the cell's native address: `wait` compares the value there under
//! the lot's lock and blocks until notified or timed out, `notify` wakes up to its count of
//! waiters and returns how many. On an unshared memory `notify` returns 0 after the same
//! checks (nobody can wait there), and `wait` traps with "expected shared memory" (after the
//! alignment check and before the bounds check, in the reference interpreter's order).

use super::env::trap;
use super::FuncTranslator;
use crate::error::Result;
use crate::libcall::Libcall;
use cranelift_codegen::ir::{types, AtomicRmwOp, InstBuilder, Type, Value};
use wasmparser::{MemArg, Operator as O};

impl FuncTranslator<'_, '_> {
    /// Translates an atomic operator; returns false if `op` is not one.
    pub(super) fn atomics(&mut self, op: &O<'_>) -> Result<bool> {
        use types::{I16, I32, I64, I8};
        use AtomicRmwOp as R;
        match *op {
            O::AtomicFence { .. } => {
                self.b.ins().fence();
            }
            O::MemoryAtomicNotify { memarg } => {
                let count = self.pop();
                self.check_atomic_alignment(memarg, 4);
                let shared = self.env.info.memories[memory_of(memarg) as usize].shared;
                let (addr, flags) = self.effective_address(memarg, 4);
                // The load performs the bounds check on guarded memories too.
                self.b.ins().atomic_load(I32, flags, addr);
                let woken = if shared {
                    self.env
                        .call_libcall(&mut self.b, Libcall::AtomicNotify, &[addr, count])
                        .unwrap()
                } else {
                    self.b.ins().iconst(I32, 0)
                };
                self.push(woken);
            }
            O::MemoryAtomicWait32 { memarg } => self.atomic_wait(memarg, I32),
            O::MemoryAtomicWait64 { memarg } => self.atomic_wait(memarg, I64),

            O::I32AtomicLoad { memarg } => self.atomic_load(memarg, I32, I32),
            O::I64AtomicLoad { memarg } => self.atomic_load(memarg, I64, I64),
            O::I32AtomicLoad8U { memarg } => self.atomic_load(memarg, I32, I8),
            O::I32AtomicLoad16U { memarg } => self.atomic_load(memarg, I32, I16),
            O::I64AtomicLoad8U { memarg } => self.atomic_load(memarg, I64, I8),
            O::I64AtomicLoad16U { memarg } => self.atomic_load(memarg, I64, I16),
            O::I64AtomicLoad32U { memarg } => self.atomic_load(memarg, I64, I32),

            O::I32AtomicStore { memarg } => self.atomic_store(memarg, I32),
            O::I64AtomicStore { memarg } => self.atomic_store(memarg, I64),
            O::I32AtomicStore8 { memarg } | O::I64AtomicStore8 { memarg } => {
                self.atomic_store(memarg, I8)
            }
            O::I32AtomicStore16 { memarg } | O::I64AtomicStore16 { memarg } => {
                self.atomic_store(memarg, I16)
            }
            O::I64AtomicStore32 { memarg } => self.atomic_store(memarg, I32),

            O::I32AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, I32, I32, R::Add),
            O::I64AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, I64, I64, R::Add),
            O::I32AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, I32, I8, R::Add),
            O::I32AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, I32, I16, R::Add),
            O::I64AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, I64, I8, R::Add),
            O::I64AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, I64, I16, R::Add),
            O::I64AtomicRmw32AddU { memarg } => self.atomic_rmw(memarg, I64, I32, R::Add),

            O::I32AtomicRmwSub { memarg } => self.atomic_rmw(memarg, I32, I32, R::Sub),
            O::I64AtomicRmwSub { memarg } => self.atomic_rmw(memarg, I64, I64, R::Sub),
            O::I32AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, I32, I8, R::Sub),
            O::I32AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, I32, I16, R::Sub),
            O::I64AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, I64, I8, R::Sub),
            O::I64AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, I64, I16, R::Sub),
            O::I64AtomicRmw32SubU { memarg } => self.atomic_rmw(memarg, I64, I32, R::Sub),

            O::I32AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, I32, I32, R::And),
            O::I64AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, I64, I64, R::And),
            O::I32AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, I32, I8, R::And),
            O::I32AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, I32, I16, R::And),
            O::I64AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, I64, I8, R::And),
            O::I64AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, I64, I16, R::And),
            O::I64AtomicRmw32AndU { memarg } => self.atomic_rmw(memarg, I64, I32, R::And),

            O::I32AtomicRmwOr { memarg } => self.atomic_rmw(memarg, I32, I32, R::Or),
            O::I64AtomicRmwOr { memarg } => self.atomic_rmw(memarg, I64, I64, R::Or),
            O::I32AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, I32, I8, R::Or),
            O::I32AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, I32, I16, R::Or),
            O::I64AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, I64, I8, R::Or),
            O::I64AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, I64, I16, R::Or),
            O::I64AtomicRmw32OrU { memarg } => self.atomic_rmw(memarg, I64, I32, R::Or),

            O::I32AtomicRmwXor { memarg } => self.atomic_rmw(memarg, I32, I32, R::Xor),
            O::I64AtomicRmwXor { memarg } => self.atomic_rmw(memarg, I64, I64, R::Xor),
            O::I32AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, I32, I8, R::Xor),
            O::I32AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, I32, I16, R::Xor),
            O::I64AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, I64, I8, R::Xor),
            O::I64AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, I64, I16, R::Xor),
            O::I64AtomicRmw32XorU { memarg } => self.atomic_rmw(memarg, I64, I32, R::Xor),

            O::I32AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, I32, I32, R::Xchg),
            O::I64AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, I64, I64, R::Xchg),
            O::I32AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, I32, I8, R::Xchg),
            O::I32AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, I32, I16, R::Xchg),
            O::I64AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, I64, I8, R::Xchg),
            O::I64AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, I64, I16, R::Xchg),
            O::I64AtomicRmw32XchgU { memarg } => self.atomic_rmw(memarg, I64, I32, R::Xchg),

            O::I32AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, I32, I32),
            O::I64AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, I64, I64),
            O::I32AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, I32, I8),
            O::I32AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, I32, I16),
            O::I64AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, I64, I8),
            O::I64AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, I64, I16),
            O::I64AtomicRmw32CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, I64, I32),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Traps with "unaligned atomic" unless `index + offset` (the index is on top of the
    /// operand stack, left there) is a multiple of `size`.
    fn check_atomic_alignment(&mut self, memarg: MemArg, size: u32) {
        if size <= 1 {
            return;
        }
        let memory64 = self.env.info.memories[memory_of(memarg) as usize].memory64;
        let index = *self
            .stack
            .last()
            .expect("validated code has an index operand");
        let index = self.index_to_i64(memory64, index);
        // Wrapping in 64 bits keeps the low bits, which are all the check needs.
        let ea = if memarg.offset == 0 {
            index
        } else {
            self.b.ins().iadd_imm_u(index, memarg.offset as i64)
        };
        let misaligned = self.b.ins().band_imm_u(ea, (size - 1) as i64);
        self.b.ins().trapnz(misaligned, trap::UNALIGNED_ATOMIC);
    }

    /// The native address of an atomic access of type `access`, index on top of the stack.
    fn atomic_address(
        &mut self,
        memarg: MemArg,
        access: Type,
    ) -> (Value, cranelift_codegen::ir::MemFlagsData) {
        self.check_atomic_alignment(memarg, access.bytes());
        let (addr, flags) = self.effective_address(memarg, access.bytes());
        (addr, flags.with_aligned())
    }

    /// Narrows an operand to the access type.
    fn wrap_to(&mut self, access: Type, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == access {
            v
        } else {
            self.b.ins().ireduce(access, v)
        }
    }

    /// Zero-extends a loaded value to the operator's result type.
    fn extend_to(&mut self, ty: Type, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().uextend(ty, v)
        }
    }

    fn atomic_load(&mut self, memarg: MemArg, ty: Type, access: Type) {
        let (addr, flags) = self.atomic_address(memarg, access);
        let v = self.b.ins().atomic_load(access, flags, addr);
        let v = self.extend_to(ty, v);
        self.push(v);
    }

    fn atomic_store(&mut self, memarg: MemArg, access: Type) {
        let value = self.pop();
        let (addr, flags) = self.atomic_address(memarg, access);
        let value = self.wrap_to(access, value);
        self.b.ins().atomic_store(flags, value, addr);
    }

    fn atomic_rmw(&mut self, memarg: MemArg, ty: Type, access: Type, op: AtomicRmwOp) {
        let value = self.pop();
        let (addr, flags) = self.atomic_address(memarg, access);
        let value = self.wrap_to(access, value);
        let old = self.b.ins().atomic_rmw(access, flags, op, addr, value);
        let old = self.extend_to(ty, old);
        self.push(old);
    }

    fn atomic_cmpxchg(&mut self, memarg: MemArg, ty: Type, access: Type) {
        let (expected, replacement) = self.pop2();
        let (addr, flags) = self.atomic_address(memarg, access);
        let expected = self.wrap_to(access, expected);
        let replacement = self.wrap_to(access, replacement);
        let old = self.b.ins().atomic_cas(flags, addr, expected, replacement);
        let old = self.extend_to(ty, old);
        self.push(old);
    }

    /// `memory.atomic.wait32/64`; `ty` is the type of the expected value.
    fn atomic_wait(&mut self, memarg: MemArg, ty: Type) {
        let (expected, timeout) = self.pop2();
        self.check_atomic_alignment(memarg, ty.bytes());
        // Imports must match `shared` exactly, so the module's type is the memory's.
        if !self.env.info.memories[memory_of(memarg) as usize].shared {
            self.b.ins().trap(trap::EXPECTED_SHARED_MEMORY);
            self.set_unreachable();
            return;
        }
        let (addr, flags) = self.effective_address(memarg, ty.bytes());
        // The bounds check on guarded memories; the parking lot compares the value itself,
        // under its lock.
        self.b.ins().atomic_load(ty, flags.with_aligned(), addr);
        let expected = self.extend_to(types::I64, expected);
        let wide = self.b.ins().iconst(types::I32, (ty == types::I64) as i64);
        let result = self
            .env
            .call_libcall(
                &mut self.b,
                Libcall::AtomicWait,
                &[addr, expected, timeout, wide],
            )
            .unwrap();
        self.push(result);
    }
}

/// The memory an atomic access addresses.
fn memory_of(memarg: MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => m,
        wasmparser::MemArgTarget::Array(_) => 0,
    }
}
