//! Phase 6, vm (x86-64): entering compiled code with a resume point, resuming there after a
//! trap, and resuming compiled code at an exception handler.
//!
//! `call_with_jmpbuf` saves the callee-saved registers, stack pointer and return address in a
//! [`JmpBuf`] and calls a trampoline; `resume_after_trap` (jumped to from the signal handler,
//! which rewrites the faulting context) restores them and makes `call_with_jmpbuf` return 1.
//! Only compiled wasm code lies between the two, and the frames of the stack-switching
//! libcalls waiting in a `resume` (`vm/continuation.rs`), which own nothing that needs
//! dropping; a trap inside a continuation resumes on the stack that entered wasm.

/// Saved registers: rbx, rbp, r12, r13, r14, r15, rsp, return address.
#[repr(C)]
#[derive(Default)]
pub struct JmpBuf {
    regs: [usize; 8],
}

/// Calls `trampoline(callee_vmctx, caller_vmctx, code, values)`; returns 0 when it returns
/// normally and 1 when a trap resumed through `buf`.
///
/// # Safety
/// `trampoline` must be an array-call trampoline whose arguments match, and `buf` must stay
/// valid until this returns.
#[unsafe(naked)]
pub unsafe extern "C" fn call_with_jmpbuf(
    buf: *mut JmpBuf,
    trampoline: *const u8,
    callee_vmctx: *mut u8,
    caller_vmctx: *mut u8,
    code: *const u8,
    values: *mut u128,
) -> u32 {
    core::arch::naked_asm!(
        "mov [rdi], rbx",
        "mov [rdi + 8], rbp",
        "mov [rdi + 16], r12",
        "mov [rdi + 24], r13",
        "mov [rdi + 32], r14",
        "mov [rdi + 40], r15",
        "lea rax, [rsp + 8]",
        "mov [rdi + 48], rax",
        "mov rax, [rsp]",
        "mov [rdi + 56], rax",
        "push rbp",
        "mov rbp, rsp",
        "mov rax, rsi",
        "mov rdi, rdx",
        "mov rsi, rcx",
        "mov rdx, r8",
        "mov rcx, r9",
        "call rax",
        "pop rbp",
        "xor eax, eax",
        "ret",
    )
}

/// Restores the registers saved in `buf` and returns 1 from `call_with_jmpbuf`.
///
/// # Safety
/// `buf` must have been filled by a `call_with_jmpbuf` that is still on the stack, and
/// only compiled wasm frames may lie above it.
#[unsafe(naked)]
pub unsafe extern "C" fn resume_after_trap(buf: *const JmpBuf) -> ! {
    core::arch::naked_asm!(
        "mov rbx, [rdi]",
        "mov rbp, [rdi + 8]",
        "mov r12, [rdi + 16]",
        "mov r13, [rdi + 24]",
        "mov r14, [rdi + 32]",
        "mov r15, [rdi + 40]",
        "mov rsp, [rdi + 48]",
        "mov eax, 1",
        "jmp qword ptr [rdi + 56]",
    )
}

/// Resumes compiled code at exception handler `pc` of the frame whose frame pointer is `fp`,
/// with the stack pointer `sp` it had at the call the handler belongs to. Cranelift treats
/// every register as clobbered on a `try_call`'s exceptional edge, so nothing else needs
/// restoring; the payload registers are not used (the landing pad reads the store's pending
/// exception).
///
/// # Safety
/// `pc`, `sp` and `fp` must describe a handler of a live frame on the current stack, below
/// (outer to) the caller, and only frames without destructors to run may lie between.
#[unsafe(naked)]
pub unsafe extern "C" fn resume_at_handler(pc: usize, sp: usize, fp: usize) -> ! {
    core::arch::naked_asm!("mov rsp, rsi", "mov rbp, rdx", "jmp rdi")
}
