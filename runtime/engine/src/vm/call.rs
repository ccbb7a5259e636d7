//! Phase 6, vm: calls from the host into compiled code and from compiled code into the host.

use crate::error::Error;
use crate::trap::Trap;
use crate::vm::arch::call_with_jmpbuf;
use crate::vm::code::CodePtr;
use crate::vm::instance::FuncRefPtr;
use crate::vm::signals;
use crate::vm::thread::{enter, leave, CallThreadState, HostFailure, VMStore};
use std::any::TypeId;
use std::cell::Cell;

thread_local! {
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// Lowest address wasm may use on this thread's stack, keeping room for host calls. The
/// first call on a thread also sets it up for wasm (signal handlers, alternate signal stack).
#[inline]
fn thread_stack_limit() -> usize {
    match STACK_LIMIT.with(Cell::get) {
        0 => first_entry_on_thread(),
        limit => limit,
    }
}

#[cold]
fn first_entry_on_thread() -> usize {
    const HOST_RESERVE: usize = 256 * 1024;
    signals::install_handlers();
    signals::ensure_alt_stack();
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread; we destroy it after use.
    let limit = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
            libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
        }
        if addr.is_null() {
            // Unknown stack: allow 1 MiB below the current frame.
            let here = &size as *const _ as usize;
            here - (1 << 20)
        } else {
            addr as usize + HOST_RESERVE
        }
    };
    STACK_LIMIT.with(|l| l.set(limit));
    limit
}

/// Lowest address wasm entered from here may use: `max_wasm_stack` bytes below this frame
/// (the outermost entry's), and never past the thread's own limit.
#[inline(never)]
fn wasm_stack_limit(thread_limit: usize, max_wasm_stack: usize) -> usize {
    let here = &max_wasm_stack as *const usize as usize;
    thread_limit.max(here.saturating_sub(max_wasm_stack))
}

/// Calls `funcref` through an array-call `trampoline` with arguments and results in `values`.
///
/// A host error comes back unchanged (a trap without a backtrace gets the wasm frames); a
/// host panic resumes unwinding here, in the Rust frame that entered wasm.
pub fn invoke<S: VMStore>(
    store: &mut S,
    trampoline: CodePtr,
    funcref: FuncRefPtr,
    values: &mut [u128],
) -> Result<(), Error> {
    let thread_limit = thread_stack_limit();
    let store_id = store.store_id();
    let max_wasm_stack = store.max_wasm_stack();
    let raw: *mut S = store;
    // SAFETY: `raw` comes from the exclusive borrow `store`, alive for the whole call; until
    // the call returns the store is reached only through `raw` (here, by host functions
    // through the call state) and by compiled code through its vmctx.
    let (outermost, entry_limit, saved_exit) = unsafe {
        let limits = (*raw).limits();
        let outermost = limits.stack_limit == 0;
        if outermost {
            limits.stack_limit = wasm_stack_limit(thread_limit, max_wasm_stack);
            limits.pending_exception = 0;
            limits.last_wasm_exit_pc = 0;
            limits.last_wasm_exit_fp = 0;
        }
        (
            outermost,
            limits.stack_limit,
            (limits.last_wasm_exit_pc, limits.last_wasm_exit_fp),
        )
    };
    // SAFETY: as above.
    let mark = unsafe { (*raw).continuations().enter() };
    let mut state = CallThreadState::new(raw, store_id, TypeId::of::<S>(), saved_exit);
    enter(&mut state);
    // SAFETY: `funcref` belongs to this store (the API only passes funcrefs of the store it
    // calls with), so it points to a live funcref; the trampoline was compiled for its
    // signature and `values` has room for every argument and result.
    let trapped = unsafe {
        let f = &*funcref.as_ptr();
        call_with_jmpbuf(
            state.jmpbuf_mut(),
            trampoline.as_ptr(),
            f.vmctx,
            f.vmctx,
            f.code,
            values.as_mut_ptr(),
        )
    };
    leave(&state);
    // SAFETY: as above; compiled code and host functions are done with the store.
    let exception = unsafe {
        // After a trap, the continuations that ran above this entry are dead.
        (*raw).continuations().leave(mark, trapped != 0);
        let limits = (*raw).limits();
        // A trap may have left a continuation stack's limit in place.
        limits.stack_limit = if outermost { 0 } else { entry_limit };
        (limits.last_wasm_exit_pc, limits.last_wasm_exit_fp) = state.saved_exit();
        std::mem::take(&mut limits.pending_exception)
    };
    if trapped == 0 {
        // An exception no handler catches reaches this entry as a trap (`unwind`).
        debug_assert_eq!(exception, 0, "a normal return with an exception pending");
        return Ok(());
    }
    let record = state.trap.take().expect("a resumed call has a trap record");
    let frames = || crate::vm::code::frames(&record.pcs);
    match state.host_failure.take() {
        Some(HostFailure::Panic(payload)) => std::panic::resume_unwind(payload),
        Some(HostFailure::Error(Error::Trap(t))) if t.backtrace().is_empty() => {
            Err(Error::Trap(t.with_backtrace(frames())))
        }
        Some(HostFailure::Error(e)) => Err(e),
        None => Err(Error::Trap(Trap::new(record.code).with_backtrace(frames()))),
    }
}
