//! Phase 6, vm: everything specific to the host architecture, one folder per architecture.
//! A port implements the same items: entering compiled code with a resume point and resuming
//! there after a trap (`call_with_jmpbuf`, `resume_after_trap`, `JmpBuf`), resuming at an
//! exception handler (`resume_at_handler`), reading and
//! redirecting a signal context (`context_pc_fp`, `redirect_context`), walking frame
//! pointers (`caller_frame`), switching stacks for continuations (`switch_stacks`,
//! `init_stack`), encoding relocations (`write_reloc`) and the shims that record a wasm
//! frame's exit before a libcall that may collect (`exit_shims!`).

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub use x86_64::*;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!(
    "this runtime supports x86_64 Linux hosts only (see vm/arch/ for what a port provides)"
);
