//! Phase 6, vm: the per-thread chain of entries into wasm. Each entry (`call::invoke`) links
//! a [`CallThreadState`]: where to resume after a trap, what trapped, a host function's
//! failure, and the store that entered. The signal handler and host functions find the
//! innermost one here.

use crate::error::Error;
use crate::trap::TrapCode;
use crate::vm::arch::{caller_frame, JmpBuf};
use std::any::{Any, TypeId};
use std::cell::Cell;

/// A trap caught by the signal handler: its kind and the return addresses of the wasm frames.
pub struct TrapRecord {
    pub code: TrapCode,
    pub pcs: Vec<usize>,
}

/// Why a host function failed: what `invoke` passes on.
pub enum HostFailure {
    /// It returned an error.
    Error(Error),
    /// It panicked; the payload is resumed in `invoke`.
    Panic(Box<dyn Any + Send>),
}

/// Per-entry state, linked per thread: where to resume after a trap, what happened, and the
/// store that entered (for host functions).
pub struct CallThreadState {
    jmpbuf: JmpBuf,
    pub trap: Option<TrapRecord>,
    /// Why a host function failed; its trampoline then raised a `Host` trap.
    pub(super) host_failure: Option<HostFailure>,
    /// The `*mut S` given to `invoke`, with the store's id and type.
    pub(super) store: *mut u8,
    pub(super) store_id: u64,
    pub(super) store_type: TypeId,
    prev: *mut CallThreadState,
}

impl CallThreadState {
    /// The state of an entry by the store `store` (a `*mut S`) with that id and type.
    pub fn new(store: *mut u8, store_id: u64, store_type: TypeId) -> CallThreadState {
        CallThreadState {
            jmpbuf: JmpBuf::default(),
            trap: None,
            host_failure: None,
            store,
            store_id,
            store_type,
            prev: std::ptr::null_mut(),
        }
    }

    /// Where a trap resumes.
    pub fn jmpbuf(&self) -> *const JmpBuf {
        &self.jmpbuf
    }

    /// Where `call_with_jmpbuf` saves the resume point.
    pub fn jmpbuf_mut(&mut self) -> &mut JmpBuf {
        &mut self.jmpbuf
    }
}

/// Makes `state` this thread's innermost entry; [`leave`] must follow before `state` moves
/// or drops.
pub fn enter(state: &mut CallThreadState) {
    state.prev = current_state();
    CURRENT.with(|c| c.set(state));
}

/// Makes the entry before `state` the innermost again.
pub fn leave(state: &CallThreadState) {
    CURRENT.with(|c| c.set(state.prev));
}

thread_local! {
    static CURRENT: Cell<*mut CallThreadState> = const { Cell::new(std::ptr::null_mut()) };
}

/// This thread's innermost call state (null when no wasm runs on this thread).
#[inline]
pub fn current_state() -> *mut CallThreadState {
    CURRENT.with(|c| c.get())
}

/// Most frames a trap's backtrace records.
const MAX_FRAMES: usize = 1000;

/// Walks the frame-pointer chain from a trapping `pc`/`fp` while the return addresses lie
/// in compiled code.
///
/// # Safety
/// `fp` must be the frame pointer of compiled code that keeps frame pointers.
pub unsafe fn backtrace(pc: usize, mut fp: usize) -> Vec<usize> {
    let mut pcs = vec![pc];
    while fp != 0 && pcs.len() < MAX_FRAMES {
        // SAFETY: `fp` is a frame of compiled code (the first by the contract, the others
        // because their return address lies in compiled code), which keeps frame pointers.
        let (next_fp, ret) = unsafe { caller_frame(fp) };
        if !crate::vm::code::is_wasm_code(ret) {
            break;
        }
        // Return addresses point after the call; step back into the call instruction.
        pcs.push(ret - 1);
        fp = next_fp;
    }
    pcs
}
