//! Phase 6, vm: the per-thread chain of entries into wasm. Each entry (`call::invoke`) links
//! a [`CallThreadState`]: where to resume after a trap, what trapped, a host function's
//! failure, and the store that entered. The signal handler and host functions find the
//! innermost one here.

use crate::error::Error;
use crate::libcall::GROW_ERROR;
use crate::trap::{Trap, TrapCode};
use crate::vm::arch::{caller_frame, JmpBuf};
use crate::vm::vmcontext::VMRuntimeLimits;
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
    /// The same store as a trait object, for the growth libcalls.
    vmstore: *mut dyn VMStore,
    pub(super) store_id: u64,
    pub(super) store_type: TypeId,
    /// `VMRuntimeLimits::last_wasm_exit_{pc,fp}` when this entry began: where the wasm
    /// frames of the store's enclosing entry (if any) left for the host, restored on return.
    /// (0, 0) for the store's outermost entry.
    saved_exit: (usize, usize),
    prev: *mut CallThreadState,
}

impl CallThreadState {
    /// The state of an entry by the store `store` with that id and type, entered while the
    /// store's last wasm exit was `saved_exit`.
    pub fn new<S: VMStore>(
        store: *mut S,
        store_id: u64,
        store_type: TypeId,
        saved_exit: (usize, usize),
    ) -> CallThreadState {
        CallThreadState {
            jmpbuf: JmpBuf::default(),
            trap: None,
            host_failure: None,
            store: store.cast(),
            vmstore: store,
            store_id,
            store_type,
            saved_exit,
            prev: std::ptr::null_mut(),
        }
    }

    /// Where a trap resumes.
    pub fn jmpbuf(&self) -> *const JmpBuf {
        &self.jmpbuf
    }

    /// The store's last wasm exit when this entry began (see `vm::gc::frames`).
    pub fn saved_exit(&self) -> (usize, usize) {
        self.saved_exit
    }

    /// The id of the store that entered.
    pub fn store_id(&self) -> u64 {
        self.store_id
    }

    /// The enclosing entry's state (null for the thread's outermost entry).
    pub fn prev(&self) -> *mut CallThreadState {
        self.prev
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
/// in compiled code, from a continuation's stack on into the frames that resumed it.
///
/// # Safety
/// `fp` must be the frame pointer of compiled code that keeps frame pointers.
pub unsafe fn backtrace(pc: usize, mut fp: usize) -> Vec<usize> {
    let mut pcs = vec![pc];
    while pcs.len() < MAX_FRAMES {
        // SAFETY: `fp` is a frame of compiled code (the first by the contract, the others
        // because `wasm_caller` found them).
        let Some((ret, next_fp)) = (unsafe { wasm_caller(fp) }) else {
            break;
        };
        // Return addresses point after the call; step back into the call instruction.
        pcs.push(ret - 1);
        fp = next_fp;
    }
    pcs
}

/// The compiled frame that called the compiled frame at `fp`: the return address into it and
/// its frame pointer. From a continuation stack's first frame (which returns into
/// `stack_start`) this steps through the stack's frame record into the frame that resumed
/// it; `None` where the chain leaves compiled code (the host's entry, or a suspended
/// continuation's cleared record). Backtraces and the collector's walk of wasm frames both
/// follow the chain with it.
///
/// # Safety
/// `fp` must be the frame pointer of compiled code (functions and trampolines keep frame
/// pointers, storing `[caller fp, return address]` at it).
pub unsafe fn wasm_caller(fp: usize) -> Option<(usize, usize)> {
    if fp == 0 {
        return None;
    }
    // SAFETY: per the contract.
    let (mut next_fp, mut ret) = unsafe { caller_frame(fp) };
    if crate::vm::arch::is_stack_start(ret) {
        // The saved frame pointer is the stack's frame record, laid out as a frame:
        // [resumer fp, return address of its `resume`] (zero while suspended).
        // SAFETY: the record is two words at the top of the continuation's mapped stack.
        (next_fp, ret) = unsafe { caller_frame(next_fp) };
    }
    crate::vm::code::is_wasm_code(ret).then_some((ret, next_fp))
}

/// What `invoke` needs of a store: its id and the limits compiled code checks, and what the
/// growth libcalls ask of it. Implemented by the API's store type; host functions are made
/// for one such type.
pub trait VMStore: 'static {
    /// The store's unique id.
    fn store_id(&self) -> u64;
    /// The store's runtime limits (the ones every vmctx of the store points to).
    fn limits(&mut self) -> &mut VMRuntimeLimits;
    /// Bytes of stack wasm may use below the outermost entry (`Config::max_wasm_stack`).
    fn max_wasm_stack(&self) -> usize;
    /// The store's continuations (stack switching).
    fn continuations(&mut self) -> &mut crate::vm::continuation::Continuations;
    /// `memory.grow` of the store's memory `index` by `delta` pages, as the store's resource
    /// limiter allows: the old size in pages, `None` if the growth was refused or failed, or
    /// the limiter's error.
    fn memory_grow(&mut self, index: usize, delta: u64) -> Result<Option<u64>, Error>;
    /// `table.grow` of the store's table `index` by `delta` elements set to `init`, in the
    /// same way.
    fn table_grow(&mut self, index: usize, delta: u64, init: u64) -> Result<Option<u64>, Error>;
}

/// Runs `grow` on the store that entered the wasm code calling a growth libcall, the store
/// `store_id` of the caller's vmctx. Returns the old size, `u64::MAX` for a refused growth,
/// or [`GROW_ERROR`].
pub fn grow_running_store(
    store_id: u64,
    grow: impl FnOnce(&mut dyn VMStore) -> Result<Option<u64>, Error>,
) -> u64 {
    let state = current_state();
    if state.is_null() {
        // Cannot happen: libcalls are only reached from compiled code, which runs inside
        // `invoke`. Refusing the growth is the safe answer.
        return u64::MAX;
    }
    // SAFETY: compiled code runs only inside `invoke`, so `state` is this thread's live call
    // state and its `vmstore` the store that entered (which `invoke` does not touch until
    // the call returns). The libcall holds no other reference to that store, and nothing is
    // borrowed from the state across the call below.
    let (same_store, vmstore) = unsafe { ((*state).store_id == store_id, (*state).vmstore) };
    let failure = if !same_store {
        HostFailure::Error(Error::Trap(Trap::host(
            "a growth reached a store that is not running",
        )))
    } else {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: as above: `vmstore` is the running store, reached only through it here.
            grow(unsafe { &mut *vmstore })
        }));
        match outcome {
            Ok(Ok(Some(old))) => return old,
            Ok(Ok(None)) => return u64::MAX,
            Ok(Err(e)) => HostFailure::Error(e),
            Err(payload) => HostFailure::Panic(payload),
        }
    };
    // SAFETY: as above; no other reference to the state is live here.
    unsafe { (*state).host_failure = Some(failure) };
    GROW_ERROR
}
