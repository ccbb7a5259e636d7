//! Phase 6, vm: signal handlers that turn faults in compiled code into traps.
//!
//! The handler asks: is wasm running on this thread, and is the faulting pc a trap site
//! recorded at compile time? If so it records the trap and rewrites the context to resume in
//! `resume_after_trap`; anything else goes to the handler that was installed before ours.

use crate::vm::arch::{context_pc_fp, redirect_context, resume_after_trap};
use crate::vm::thread::{backtrace, current_state, TrapRecord};
use std::cell::Cell;
use std::sync::OnceLock;

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
/// The handlers installed before ours, in `SIGNALS` order.
static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();
/// Size of the alternate signal stack we install on threads that run wasm.
const ALT_STACK_SIZE: usize = 256 * 1024;

/// Installs the handlers once per process.
pub fn install_handlers() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, no flags, empty mask).
        let mut previous: [libc::sigaction; 4] = unsafe { std::mem::zeroed() };
        for (prev, sig) in previous.iter_mut().zip(SIGNALS) {
            // SAFETY: plain sigaction(2) calls with valid pointers to local structures.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(sig, &action, prev) != 0 {
                    panic!("cannot install the handler for signal {sig}");
                }
            }
        }
        previous
    });
}

thread_local! {
    static ALT_STACK_READY: Cell<bool> = const { Cell::new(false) };
    static ALT_STACK: Cell<usize> = const { Cell::new(0) };
    static ALT_STACK_GUARD: AltStackGuard = const { AltStackGuard };
}

/// Frees this thread's alternate signal stack when the thread exits.
struct AltStackGuard;

impl Drop for AltStackGuard {
    fn drop(&mut self) {
        let base = ALT_STACK.with(|s| s.replace(0));
        if base != 0 {
            // SAFETY: disable the alternate stack before unmapping the memory we mapped for it.
            unsafe {
                let mut disable: libc::stack_t = std::mem::zeroed();
                disable.ss_flags = libc::SS_DISABLE;
                libc::sigaltstack(&disable, std::ptr::null_mut());
                libc::munmap(base as *mut libc::c_void, ALT_STACK_SIZE);
            }
        }
    }
}

/// Makes sure this thread has an alternate signal stack large enough for our handler.
pub fn ensure_alt_stack() {
    if ALT_STACK_READY.with(|r| r.replace(true)) {
        return;
    }
    // SAFETY: query and set this thread's alternate stack with sigaltstack(2); the memory is
    // a fresh private mapping that lives until the thread-local guard drops.
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(std::ptr::null(), &mut old);
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
            return;
        }
        let ptr = libc::mmap(
            std::ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(
            ptr != libc::MAP_FAILED,
            "cannot map an alternate signal stack"
        );
        let stack = libc::stack_t {
            ss_sp: ptr,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        libc::sigaltstack(&stack, std::ptr::null_mut());
        ALT_STACK.with(|s| s.set(ptr as usize));
    }
    ALT_STACK_GUARD.with(|_| {});
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext_t to SA_SIGINFO handlers.
    let (pc, fp) = unsafe { context_pc_fp(ctx) };
    let state = current_state();
    if !state.is_null() {
        if let Some(code) = crate::vm::code::trap_code_at(pc) {
            // SAFETY: `state` is this thread's live CallThreadState (set by `invoke`), and the
            // frame-pointer chain from `fp` consists of compiled wasm frames that keep frame
            // pointers, ending at the entry frame. `resume_after_trap` with the state's jmpbuf
            // unwinds to the `call_with_jmpbuf` of that entry, below the faulting frames.
            unsafe {
                (*state).trap = Some(TrapRecord {
                    code,
                    pcs: backtrace(pc, fp),
                });
                redirect_context(
                    ctx,
                    resume_after_trap as *const () as usize,
                    (*state).jmpbuf() as usize,
                );
            }
            return;
        }
    }
    forward(sig, info, ctx);
}

/// Hands a signal that is not ours to the previously installed handler.
fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let i = SIGNALS
        .iter()
        .position(|s| *s == sig)
        .expect("only our signals reach the handler");
    // Only while `install_handlers` is still installing can ours run without PREVIOUS set:
    // fall back to the default action then.
    // SAFETY: an all-zero sigaction is SIG_DFL.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    let prev = PREVIOUS.get().map_or(&default, |p| &p[i]);
    // SAFETY: `prev` is a handler the process installed before ours; calling it with the
    // arguments the kernel gave us is what it expects.
    unsafe {
        if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
            // Restore the default and return: the faulting instruction runs again and the
            // default action (terminate, dump core) takes place.
            libc::sigaction(sig, prev, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(prev.sa_sigaction);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
            f(sig);
        }
    }
}
