//! Phase 4, compile: trampolines between the host's calling convention and wasm's.
//!
//! * array-call: `extern "C" fn(callee_vmctx, caller_vmctx, code, values)` loads the
//!   arguments from `values` (16 bytes each), calls `code`, stores the results back;
//! * host: a wasm-convention function that spills its arguments to the stack, records where
//!   wasm left (for the garbage collector, see `vm::collector::frames`) and calls
//!   `vm::host::host_shim` (through a relocation), trapping if the host function failed.

use super::{compile_ir, CompiledFunction};
use crate::error::Result;
use crate::translate::env::{ir_type, trap, wasm_signature};
use crate::types::FuncType;
use cranelift_codegen::ir::{
    self, types, AbiParam, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, Signature,
    StackSlotData, StackSlotKind, UserExternalName, UserFuncName,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

const VALUE_SIZE: i32 = 16;

/// Compiles the array-call trampoline for `ty`.
pub fn array_trampoline(isa: &dyn TargetIsa, ty: &FuncType) -> Result<CompiledFunction> {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 4]);
    let mut func = ir::Function::with_name_signature(UserFuncName::user(1, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let (callee_vmctx, caller_vmctx, code, values) = (p[0], p[1], p[2], p[3]);
    let flags = MemFlagsData::trusted();
    let mut args = vec![callee_vmctx, caller_vmctx];
    for (i, t) in ty.params().iter().enumerate() {
        args.push(
            b.ins()
                .load(ir_type(*t), flags, values, i as i32 * VALUE_SIZE),
        );
    }
    let wasm_sig = b.import_signature(wasm_signature(ty));
    let call = b.ins().call_indirect(wasm_sig, code, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.iter().enumerate() {
        b.ins().store(flags, *r, values, i as i32 * VALUE_SIZE);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    compile_ir(isa, func)
}

/// The name space of the one external name trampolines call: `vm::host::host_shim`
/// (relocation target [`RelocTarget::HostShim`](super::RelocTarget::HostShim), so a
/// trampoline holds no address of this process and can be serialized).
pub const NS_HOST_SHIM: u32 = 2;

/// Compiles the host trampoline for `ty`: it calls `host_shim` through a relocation.
pub fn host_trampoline(isa: &dyn TargetIsa, ty: &FuncType) -> Result<CompiledFunction> {
    let mut func = ir::Function::with_name_signature(UserFuncName::user(1, 1), wasm_signature(ty));
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let count = ty.params().len().max(ty.results().len()).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        count as u32 * VALUE_SIZE as u32,
        4,
    ));
    for (i, v) in p[2..].iter().enumerate() {
        b.ins()
            .stack_store(types::I64, *v, slot, i as i32 * VALUE_SIZE);
    }
    let values = b.ins().stack_addr(types::I64, slot, 0);
    record_exit(&mut b, p[1]);
    let mut shim_sig = Signature::new(CallConv::SystemV);
    shim_sig.params.extend([AbiParam::new(types::I64); 3]);
    shim_sig.returns.push(AbiParam::new(types::I32));
    let signature = b.import_signature(shim_sig);
    let name = b.func.declare_imported_user_function(UserExternalName {
        namespace: NS_HOST_SHIM,
        index: 0,
    });
    let shim = b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: false,
        patchable: false,
    });
    let call = b.ins().call(shim, &[p[0], p[1], values]);
    let status = b.inst_results(call)[0];
    b.ins().trapnz(status, trap::HOST);
    let mut results = Vec::new();
    for (i, t) in ty.results().iter().enumerate() {
        results.push(
            b.ins()
                .stack_load(types::I64, ir_type(*t), slot, i as i32 * VALUE_SIZE),
        );
    }
    b.ins().return_(&results);
    b.finalize(isa.frontend_config());
    compile_ir(isa, func)
}

/// Stores the calling wasm frame's frame pointer and the return address into it (this
/// trampoline's saved frame pointer and return address) in the store's
/// `VMRuntimeLimits::last_wasm_exit_*`, found through the caller's vmctx.
fn record_exit(b: &mut FunctionBuilder<'_>, caller_vmctx: ir::Value) {
    use crate::vmoffsets as off;
    let flags = MemFlagsData::trusted();
    let fp = b.ins().get_frame_pointer(types::I64);
    let caller_fp = b.ins().load(types::I64, flags, fp, 0);
    let ret = b.ins().load(types::I64, flags, fp, 8);
    let limits = b
        .ins()
        .load(types::I64, flags, caller_vmctx, off::VMCTX_LIMITS as i32);
    b.ins()
        .store(flags, caller_fp, limits, off::LIMITS_LAST_WASM_EXIT_FP);
    b.ins()
        .store(flags, ret, limits, off::LIMITS_LAST_WASM_EXIT_PC);
}
