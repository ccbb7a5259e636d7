//! Phase 6, vm: x86-64 Linux.

mod context;
mod entry;
mod exit;
mod reloc;
mod stacks;

pub use context::{context_pc_fp, redirect_context};
pub use entry::{call_with_jmpbuf, resume_after_trap, resume_at_handler, JmpBuf};
pub(crate) use exit::exit_shims;
pub use reloc::{is_pc_relative, write_reloc};
pub use stacks::{frame_record, init_stack, is_stack_start, switch_stacks, INIT_STACK_BYTES};

/// The caller's frame pointer and the return address into it, saved by the frame at `fp`.
///
/// # Safety
/// `fp` must be the frame pointer of a live frame that keeps frame pointers (compiled wasm
/// code and our trampolines do): the System V prologue stores `[caller fp, return address]`
/// at `fp`.
pub unsafe fn caller_frame(fp: usize) -> (usize, usize) {
    // SAFETY: per the contract, the two words at `fp` are the saved frame pointer and the
    // return address.
    unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) }
}
