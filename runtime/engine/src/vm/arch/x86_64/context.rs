//! Phase 6, vm (x86-64 Linux): reading and rewriting the context a signal handler receives.

/// The faulting pc and frame pointer of a signal context.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
pub unsafe fn context_pc_fp(ctx: *mut libc::c_void) -> (usize, usize) {
    // SAFETY: per the contract, `ctx` points to a valid ucontext_t.
    let gregs = unsafe { &(*(ctx as *const libc::ucontext_t)).uc_mcontext.gregs };
    (
        gregs[libc::REG_RIP as usize] as usize,
        gregs[libc::REG_RBP as usize] as usize,
    )
}

/// Makes the interrupted thread continue, when the handler returns, with a call-less jump
/// to `target(arg)`: pc becomes `target`, the first argument register `arg`.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler, and
/// `target` a function that may run on the interrupted stack with `arg` (it never returns
/// to the faulting instruction).
pub unsafe fn redirect_context(ctx: *mut libc::c_void, target: usize, arg: usize) {
    // SAFETY: per the contract, `ctx` points to a valid, writable ucontext_t.
    let gregs = unsafe { &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext.gregs };
    gregs[libc::REG_RIP as usize] = target as i64;
    gregs[libc::REG_RDI as usize] = arg as i64;
}
