//! Phase 6, vm: the GC roots in wasm frames.
//!
//! Compiled code spills every GC reference live across a call to a stack slot and reloads it
//! afterwards (Cranelift's user stack maps, declared in `translate/`); the stack map of each
//! call site, keyed by its return address, lists those slots as offsets from the stack
//! pointer at the call, which is the frame pointer minus the frame's size (`vm/code.rs`
//! keeps them). The collector walks the frame-pointer chain of every wasm activation of the store
//! — from where its wasm last called out (`VMRuntimeLimits::last_wasm_exit_*`, saved per
//! entry in the call states) to the entry trampoline — and visits every slot, which it may
//! rewrite: the reloads after the call see the moved objects.

use crate::vm::thread::current_state;
use crate::vm::vmcontext::VMRuntimeLimits;

/// Calls `f` with the address of every stack slot that holds a live GC reference in a wasm
/// frame of store `store_id`: those of its activations on this thread, then those of its
/// suspended continuations, each walked from its exit in `suspended` (the walk stops at the
/// continuation stack's first frame, whose link a suspension clears).
///
/// # Safety
/// Must run on the thread that runs the store's wasm, while that wasm is stopped in a call
/// out to the host (a libcall or host function that recorded its exit in `limits`), and `f`
/// may only store references to the same objects (or their copies) into the slots.
pub unsafe fn for_each_frame_root(
    store_id: u64,
    limits: &VMRuntimeLimits,
    suspended: impl Iterator<Item = (usize, usize)>,
    mut f: impl FnMut(*mut u64),
) {
    let mut exit = (limits.last_wasm_exit_pc, limits.last_wasm_exit_fp);
    let mut state = current_state();
    let mut offsets = Vec::new();
    while !state.is_null() {
        // SAFETY: the call states of this thread are live while their entries run; the
        // innermost ones are entered from (or are) the code that called the collector.
        let s = unsafe { &*state };
        if s.store_id() == store_id {
            if exit.1 != 0 {
                // SAFETY: per the contract, `exit` is where this entry's wasm called out,
                // and those frames are still on the stack below the caller.
                unsafe { walk(exit, &mut offsets, &mut f) };
            }
            exit = s.saved_exit();
        }
        state = s.prev();
    }
    for exit in suspended.filter(|e| e.1 != 0) {
        // SAFETY: a suspended continuation's frames stay on its own stack, unchanged, until
        // it is resumed; `exit` is where its innermost wasm frame called out.
        unsafe { walk(exit, &mut offsets, &mut f) };
    }
}

/// Visits the roots of one activation: wasm frames from the call at `(pc, fp)` outward.
///
/// # Safety
/// `pc` must be a return address into compiled code whose frame pointer is `fp`.
unsafe fn walk(
    (mut pc, mut fp): (usize, usize),
    offsets: &mut Vec<u32>,
    f: &mut impl FnMut(*mut u64),
) {
    // The same chain backtraces follow, across continuation stacks into their resumers.
    while let Some(span) = crate::vm::code::stack_map(pc, offsets) {
        let sp = fp - span as usize;
        for off in offsets.iter() {
            f((sp + *off as usize) as *mut u64);
        }
        // SAFETY: `fp` is the frame of compiled code `pc` returns into.
        match unsafe { crate::vm::thread::wasm_caller(fp) } {
            Some(caller) => (pc, fp) = caller,
            None => return,
        }
    }
}
