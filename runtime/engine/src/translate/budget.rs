//! Phase 3, translate: the checks that bound a guest's execution: fuel
//! (`Config::consume_fuel`) and epoch deadlines (`Config::epoch_interruption`), both checked
//! at every function entry and loop header, so every unbounded execution passes a check.
//!
//! Fuel, as in Wasmtime: entering a function costs one unit, and every operator one unit
//! except `nop`, `drop`, `block`, `loop`, `end`, `else`, `return` and `unreachable`, which
//! cost nothing. The translator adds up the
//! cost of each straight-line run of operators at compile time and adds it to a counter kept
//! in a Cranelift variable just before the run ends (before every branch, call, return and
//! structured-control operator), so each path pays exactly for the operators it executes. The
//! counter is `VMRuntimeLimits::fuel_consumed` (minus the fuel left, counting up toward zero):
//! it is loaded at entry, written back before calls and returns and reloaded after calls, so
//! callees, host functions and the store see the exact count. The check is a sign test and a
//! branch to a cold block that writes the counter back and traps "all fuel consumed".
//! Every loop iteration costs at least one unit (its back edge is a branch), so fuel bounds
//! every execution.
//!
//! Epochs: load the engine's epoch through the pointer in the vmctx (an atomic load, which
//! Cranelift never merges with an earlier one, so a loop sees every increment) and trap
//! "interrupt" when it is at or past the store's deadline.

use super::env::trap;
use super::FuncTranslator;
use crate::vmoffsets as off;
use cranelift_codegen::ir::{condcodes::IntCC, types, Block, InstBuilder, MemFlagsData, Opcode};
use cranelift_frontend::Variable;
use wasmparser::Operator;

/// Per-function budget state.
#[derive(Default)]
pub(super) struct Budget {
    /// The fuel counter, when fuel is on.
    fuel: Option<Variable>,
    /// Cost of the operators translated since the counter was last updated.
    unflushed: i64,
    /// The block the current operator started in, if it was reachable.
    op_start: Option<Block>,
}

/// What an operator costs.
fn cost(op: &Operator<'_>) -> i64 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::End
        | Operator::Else
        | Operator::Return
        | Operator::Unreachable => 0,
        _ => 1,
    }
}

/// Whether the operator may end the current straight-line run (branch, call, return, start or
/// end a structured block, or branch inside itself): the counter must be up to date before it.
fn ends_run(op: &Operator<'_>) -> bool {
    leaves_function(op)
        || matches!(
            op,
            Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::Else
                | Operator::End
                | Operator::Br { .. }
                | Operator::BrIf { .. }
                | Operator::BrTable { .. }
                | Operator::BrOnNull { .. }
                | Operator::BrOnNonNull { .. }
                | Operator::BrOnCast { .. }
                | Operator::BrOnCastFail { .. }
                | Operator::BrOnCastDescEq { .. }
                | Operator::BrOnCastDescEqFail { .. }
                | Operator::RefTestNonNull { .. }
                | Operator::RefTestNullable { .. }
                | Operator::RefCastNonNull { .. }
                | Operator::RefCastNullable { .. }
                | Operator::RefCastDescEqNonNull { .. }
                | Operator::RefCastDescEqNullable { .. }
                | Operator::TryTable { .. }
                | Operator::Try { .. }
                | Operator::Catch { .. }
                | Operator::CatchAll
                | Operator::Delegate { .. }
        )
}

/// Whether the operator runs other code or leaves the function: the counter in memory must be
/// up to date before it.
fn leaves_function(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::Return
            | Operator::Unreachable
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::Rethrow { .. }
            | Operator::Resume { .. }
            | Operator::ResumeThrow { .. }
            | Operator::ResumeThrowRef { .. }
            | Operator::Suspend { .. }
            | Operator::Switch { .. }
    )
}

impl FuncTranslator<'_, '_> {
    /// At function entry: load the fuel counter, then check fuel and the epoch.
    pub(super) fn budget_entry(&mut self) {
        if self.env.consume_fuel {
            let var = self.b.declare_var(types::I64);
            self.budget.fuel = Some(var);
            self.fuel_load();
            // As in Wasmtime, entering a function costs a unit, charged before the check.
            self.budget.unflushed = 1;
            self.fuel_flush();
        }
        self.budget_check();
    }

    /// Before each operator: charge it, and bring the counter up to date where needed.
    pub(super) fn budget_before(&mut self, op: &Operator<'_>) {
        self.budget.op_start = None;
        if !self.reachable || self.budget.fuel.is_none() {
            return;
        }
        self.budget.op_start = self.b.current_block();
        self.budget.unflushed += cost(op);
        if leaves_function(op) {
            self.fuel_save();
        } else if ends_run(op) {
            self.fuel_flush();
        }
    }

    /// After each operator: check at loop headers.
    pub(super) fn budget_after(&mut self, op: &Operator<'_>) {
        if let Some(start) = self.budget.op_start.take() {
            // An operator that left its block without bringing the counter up to date would
            // charge its run to the wrong path (`ends_run` must list it), unless it left it
            // by trapping.
            debug_assert!(
                self.budget.unflushed == 0
                    || (self.reachable && self.b.current_block() == Some(start))
                    || self.ends_in_trap(start),
                "{op:?} ends a straight-line run but the fuel counter was not updated before it"
            );
            if !self.reachable {
                self.budget.unflushed = 0;
            }
        }
        if self.reachable && matches!(op, Operator::Loop { .. }) {
            // The builder is at the start of the loop header, where `br` to the loop goes.
            self.budget_check();
        }
    }

    /// Whether `block` ends with an unconditional trap.
    fn ends_in_trap(&self, block: Block) -> bool {
        let func = &self.b.func;
        func.layout
            .last_inst(block)
            .is_some_and(|i| func.dfg.insts[i].opcode() == Opcode::Trap)
    }

    /// After every call to wasm or the host: the callee charged the counter in memory.
    pub(super) fn budget_after_call(&mut self) {
        if self.budget.fuel.is_some() {
            self.fuel_load();
        }
    }

    /// Before the function's final `return`.
    pub(super) fn budget_exit(&mut self) {
        if self.budget.fuel.is_some() {
            self.fuel_save();
        }
    }

    /// The fuel and epoch checks, at the current position.
    fn budget_check(&mut self) {
        if let Some(var) = self.budget.fuel {
            let consumed = self.b.use_var(var);
            let exhausted = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, consumed, 0);
            let out = self.b.create_block();
            let cont = self.b.create_block();
            self.b.set_cold_block(out);
            self.b.ins().brif(exhausted, out, &[], cont, &[]);
            self.b.seal_block(out);
            self.b.seal_block(cont);
            self.b.switch_to_block(out);
            // Write the counter back so the store shows no fuel left.
            self.fuel_save();
            self.b.ins().trap(trap::OUT_OF_FUEL);
            self.b.switch_to_block(cont);
        }
        if self.env.epoch_interruption {
            let flags = MemFlagsData::trusted();
            let counter = self.env.load_vmctx_ptr(&mut self.b, off::VMCTX_EPOCH_PTR);
            let epoch = self.b.ins().atomic_load(types::I64, flags, counter);
            let limits = self.env.load_vmctx_ptr(&mut self.b, off::VMCTX_LIMITS);
            let deadline = self
                .b
                .ins()
                .load(types::I64, flags, limits, off::LIMITS_EPOCH_DEADLINE);
            let reached = self
                .b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
            self.b.ins().trapnz(reached, trap::INTERRUPT);
        }
    }

    /// Adds the cost of the run so far to the counter.
    fn fuel_flush(&mut self) {
        let Some(var) = self.budget.fuel else { return };
        let n = std::mem::take(&mut self.budget.unflushed);
        if n != 0 {
            let consumed = self.b.use_var(var);
            let consumed = self.b.ins().iadd_imm_s(consumed, n);
            self.b.def_var(var, consumed);
        }
    }

    /// Brings the counter in memory up to date.
    fn fuel_save(&mut self) {
        self.fuel_flush();
        let Some(var) = self.budget.fuel else { return };
        let consumed = self.b.use_var(var);
        let limits = self.env.load_vmctx_ptr(&mut self.b, off::VMCTX_LIMITS);
        self.b.ins().store(
            MemFlagsData::trusted(),
            consumed,
            limits,
            off::LIMITS_FUEL_CONSUMED,
        );
    }

    /// Reads the counter from memory.
    fn fuel_load(&mut self) {
        let Some(var) = self.budget.fuel else { return };
        let limits = self.env.load_vmctx_ptr(&mut self.b, off::VMCTX_LIMITS);
        let consumed = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            limits,
            off::LIMITS_FUEL_CONSUMED,
        );
        self.b.def_var(var, consumed);
    }
}
