//! Phase 6, vm: the `throw` and `unwind` libcalls. The exception is an object of the store's
//! GC heap (type word `EXN_TYPE`, the tag's store index in the length word, the payload after
//! the header, 16 bytes per value) and becomes the store's pending exception. Compiled code
//! jumps to its own landing pad when it has one; else `unwind` walks the frame-pointer chain
//! to the innermost call site with a handler (a `try_call` inside a `try_table` or `try`) and
//! resumes there, without returning through the frames in between. Exceptions nothing refers
//! to any more are collected like every other object.

use super::context;
use crate::trap::TrapCode;
use crate::vm::arch::{caller_frame, is_stack_start, resume_after_trap, resume_at_handler};
use crate::vm::code::{call_site, CallSite};
use crate::vm::collector::alloc_object;
use crate::vm::continuation::{exception_ends_fiber, Continuations};
use crate::vm::gc::{heap::ObjLayout, DATA_OFFSET, EXN_TYPE};
use crate::vm::thread::{backtrace, current_state, TrapRecord};

/// `throw`: creates an exception of module tag `tag` with `count` payload values read from
/// `values`, and makes it the pending exception. Returns 1, or 0 if the GC heap has no room
/// for it (compiled code then traps). Entered through `libcalls::exit::throw`.
///
/// # Safety
/// Called by compiled code with its own vmctx and a buffer of `count` 16-byte values.
pub unsafe extern "C" fn throw(vmctx: *mut u8, tag: u32, values: *const u128, count: u32) -> u32 {
    // SAFETY: per the contract, `vmctx` is the caller's own and `values` holds `count`
    // values.
    let (store, instance, mut payload) = unsafe {
        let (store, instance) = context(vmctx);
        let payload = std::slice::from_raw_parts(values, count as usize).to_vec();
        (store, instance, payload)
    };
    let tag = store.instances[instance].tags[tag as usize];
    // The tag's layout (registered when the tag was made) says which slots hold references.
    let refs: Vec<usize> = match store.gc.layout(EXN_TYPE, tag) {
        ObjLayout::Fixed { refs, .. } => refs
            .iter()
            .map(|off| ((off - DATA_OFFSET) / 16) as usize)
            .collect(),
        ObjLayout::Array { .. } => unreachable!("an exception layout is fixed"),
    };
    // The allocation may collect: the payload's references are roots until it is written.
    let mark = {
        let mut roots = store.gc.roots.borrow_mut();
        let mark = roots.scratch.len();
        roots
            .scratch
            .extend(refs.iter().map(|i| payload[*i] as u64));
        mark
    };
    let exn = alloc_object(store, EXN_TYPE, tag, 16 * count as u64);
    {
        let mut roots = store.gc.roots.borrow_mut();
        for (i, raw) in refs.iter().zip(roots.scratch.drain(mark..)) {
            payload[*i] = raw as u128;
        }
    }
    let Ok(exn) = exn else {
        return 0;
    };
    for (i, v) in payload.iter().enumerate() {
        store
            .gc
            .write(exn, DATA_OFFSET + 16 * i as u32, 16, *v)
            .expect("inside the exception just allocated");
    }
    store.limits.pending_exception = exn;
    1
}

/// `unwind`: delivers the store's pending exception to the innermost handler above the caller:
/// a `try_call` handler in a wasm frame (resumed with that frame's stack and frame pointers),
/// else the end of the running continuation (its resumer unwinds on), else the host's entry,
/// which returns an `UncaughtException` trap with the backtrace from the throw. Never
/// returns. Entered through `libcalls::exit::unwind`, which recorded the caller's exit.
///
/// # Safety
/// Called by compiled code with its own vmctx and an exception pending. The frames it skips
/// are compiled wasm frames and this libcall's, none of which own anything to drop.
pub unsafe extern "C" fn unwind(vmctx: *mut u8) {
    // SAFETY: per the contract; the store is only read here, and nothing borrowed from it
    // outlives the block.
    let (conts, exit) = unsafe {
        let (store, _) = context(vmctx);
        let conts: *mut Continuations = &mut store.continuations;
        let exit = (
            store.limits.last_wasm_exit_pc,
            store.limits.last_wasm_exit_fp,
        );
        (conts, exit)
    };
    let (mut pc, mut fp) = exit;
    loop {
        match call_site(pc, fp) {
            // SAFETY: the handler belongs to the call site `pc` returns to, in the live frame
            // at `fp` on this stack; every frame above it is a wasm frame or this libcall's.
            CallSite::Handler { pc, sp } => unsafe { resume_at_handler(pc, sp, fp) },
            CallSite::Host => break,
            CallSite::Plain => {}
        }
        // SAFETY: `fp` is the frame pointer of the compiled code `pc` returns into (the exit
        // shim's caller first, then each caller found here).
        let (next_fp, ret) = unsafe { caller_frame(fp) };
        if is_stack_start(ret) {
            // SAFETY: `fp` heads the running continuation's first frame: this is its stack.
            unsafe { exception_ends_fiber(conts) }
        }
        (pc, fp) = (ret, next_fp);
    }
    let state = current_state();
    // SAFETY: compiled code runs only inside `invoke`, so `state` is this thread's live call
    // state, and the chain from the exit ends at its entry: `resume_after_trap` with its
    // jmpbuf drops only wasm frames and this libcall's.
    unsafe {
        (*state).trap = Some(TrapRecord {
            code: TrapCode::UncaughtException,
            pcs: backtrace(exit.0 - 1, exit.1),
        });
        resume_after_trap((*state).jmpbuf())
    }
}
