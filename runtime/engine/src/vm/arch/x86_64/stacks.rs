//! Phase 6, vm (x86-64): switching between the host's stack and continuation stacks.
//!
//! A suspended stack keeps its callee-saved registers pushed on itself, below the return
//! address into the `switch_stacks` call that suspended it; its saved stack pointer points at
//! them. `switch_stacks` pushes the current stack's registers, saves its stack pointer, loads
//! the other one, pops its registers and returns there with `value` in `rax`, so the other
//! side's `switch_stacks` returns `value`. A fresh stack is laid out by [`init_stack`] to
//! "return" into `stack_start`, which starts the continuation's function with the value.

/// Bytes [`init_stack`] uses at the top of a fresh stack.
pub const INIT_STACK_BYTES: usize = 72;

/// Saves the callee-saved registers and stack pointer (into `*save`), switches to the stack
/// saved at `to` and returns `value` from the `switch_stacks` call that saved it (or, on a
/// fresh stack, starts its entry function with `value`). Returns what the next switch back
/// to this stack passes.
///
/// # Safety
/// `to` must be a stack pointer saved by `switch_stacks` (or made by [`init_stack`]) on a
/// stack that is still mapped and not running; only frames without destructors to run may
/// be left behind on either stack if it is never switched back to.
#[unsafe(naked)]
pub unsafe extern "C" fn switch_stacks(save: *mut usize, to: usize, value: usize) -> usize {
    core::arch::naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi], rsp",
        "mov rsp, rsi",
        "mov rax, rdx",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

/// The first code a fresh stack runs: `begin(arg, value)` (`arg` came in `rbx`, the
/// switched-in value in `rax`) returns `[trampoline, vmctx, code, values]`; the array-call
/// trampoline is called with `rbp` pointing at the frame record at the stack's top (which
/// the resumer fills so backtraces continue into its frames); then `end(arg)`, which never
/// returns.
///
/// # Safety
/// Only reached by `switch_stacks` returning into a stack laid out by [`init_stack`].
#[unsafe(naked)]
unsafe extern "C" fn stack_start() -> ! {
    core::arch::naked_asm!(
        "mov rdi, rbx",
        "mov rsi, rax",
        "xor ebp, ebp",
        "call r12",
        "mov r14, rax",
        "mov rbp, r13",
        "mov rdi, [r14 + 8]",
        "mov rsi, [r14 + 8]",
        "mov rdx, [r14 + 16]",
        "mov rcx, [r14 + 24]",
        "call qword ptr [r14]",
        "mov rdi, rbx",
        "call r15",
        "ud2",
    )
}

/// Whether `ret` is the return address of `stack_start`'s call of a continuation's
/// trampoline: the bottom frame of a continuation stack, whose saved frame pointer is the
/// stack's frame record.
pub fn is_stack_start(ret: usize) -> bool {
    ret.wrapping_sub(stack_start as *const () as usize) < 64
}

/// Where a stack whose 16-aligned top is `top` keeps its frame record: the resumer's frame
/// pointer, then the return address of its `resume` call (zero while suspended).
pub fn frame_record(top: usize) -> *mut [usize; 2] {
    (top - 16) as *mut [usize; 2]
}

/// Lays out a fresh stack whose 16-aligned top is `top` so that switching to the returned
/// stack pointer runs `stack_start` with `begin`, `end` and `arg` (see there).
///
/// # Safety
/// The [`INIT_STACK_BYTES`] below `top` must be writable memory of that stack.
pub unsafe fn init_stack(
    top: usize,
    begin: unsafe extern "C" fn(usize, usize) -> *const [usize; 4],
    end: unsafe extern "C" fn(usize) -> !,
    arg: usize,
) -> usize {
    debug_assert_eq!(top % 16, 0);
    let sp = top - INIT_STACK_BYTES;
    // Popped by `switch_stacks`: r15 (`end`), r14, r13 (the frame record), r12 (`begin`),
    // rbx (`arg`), rbp, then the return address. `stack_start` then runs with rsp = top - 16
    // (aligned, so callees see the usual alignment after `call`), below the frame record.
    let start = stack_start as *const () as usize;
    let words = [
        end as usize,
        0,
        frame_record(top) as usize,
        begin as usize,
        arg,
        0,
        start,
        0,
        0,
    ];
    for (i, w) in words.iter().enumerate() {
        // SAFETY: per the contract, the words below `top` are writable.
        unsafe { *((sp + i * 8) as *mut usize) = *w };
    }
    sp
}
