//! Phase 6, vm: calls from the host into compiled code and from compiled code into the host.

use crate::error::Error;
use crate::trap::{Trap, TrapCode};
use crate::vm::signals;
use crate::vm::unwind::{call_with_jmpbuf, JmpBuf};
use crate::vm::vmcontext::{VMFuncRef, VMRuntimeLimits};
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
    /// `VMRuntimeLimits::last_wasm_exit_{pc,fp}` when this entry began: where the wasm
    /// frames of the store's enclosing entry (if any) left for the host, restored on return.
    /// (0, 0) for the store's outermost entry.
    pub(super) saved_exit: (usize, usize),
    prev: *mut CallThreadState,
}

impl CallThreadState {
    pub fn jmpbuf(&self) -> *const JmpBuf {
        &self.jmpbuf
    }
    /// The enclosing entry's state (null for the thread's outermost entry).
    pub fn prev(&self) -> *mut CallThreadState {
        self.prev
    }
}

thread_local! {
    static CURRENT: Cell<*mut CallThreadState> = const { Cell::new(std::ptr::null_mut()) };
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
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
        // SAFETY: every compiled frame stores [caller fp, return address] at `fp`.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if !crate::link::is_wasm_code(ret) {
            break;
        }
        // Return addresses point after the call; step back into the call instruction.
        pcs.push(ret - 1);
        fp = next_fp;
    }
    pcs
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

/// What `invoke` needs of a store: its id and the limits compiled code checks. Implemented
/// by the API's store type; host functions are made for one such type.
pub trait VMStore: 'static {
    /// The store's unique id.
    fn store_id(&self) -> u64;
    /// The store's runtime limits (the ones every vmctx of the store points to).
    fn limits(&mut self) -> &mut VMRuntimeLimits;
    /// Bytes of stack wasm may use below the outermost entry (`Config::max_wasm_stack`).
    fn max_wasm_stack(&self) -> usize;
}

/// Calls `funcref` through an array-call `trampoline` with arguments and results in `values`.
///
/// A host error comes back unchanged (a trap without a backtrace gets the wasm frames); a
/// host panic resumes unwinding here, in the Rust frame that entered wasm.
pub fn invoke<S: VMStore>(
    store: &mut S,
    trampoline: *const u8,
    funcref: *const VMFuncRef,
    values: &mut [u128],
) -> Result<(), Error> {
    let thread_limit = thread_stack_limit();
    let store_id = store.store_id();
    let max_wasm_stack = store.max_wasm_stack();
    let raw: *mut S = store;
    // SAFETY: `raw` comes from the exclusive borrow `store`, alive for the whole call; until
    // the call returns the store is reached only through `raw` (here, by host functions
    // through the call state) and by compiled code through its vmctx.
    let (outermost, saved_exit) = unsafe {
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
            (limits.last_wasm_exit_pc, limits.last_wasm_exit_fp),
        )
    };
    let mut state = CallThreadState {
        jmpbuf: JmpBuf::default(),
        trap: None,
        host_failure: None,
        store: raw.cast(),
        store_id,
        store_type: TypeId::of::<S>(),
        saved_exit,
        prev: current_state(),
    };
    CURRENT.with(|c| c.set(&mut state));
    // SAFETY: `funcref` belongs to this store; the trampoline was compiled for its signature
    // and `values` has room for every argument and result.
    let trapped = unsafe {
        let f = &*funcref;
        call_with_jmpbuf(
            &mut state.jmpbuf,
            trampoline,
            f.vmctx,
            f.vmctx,
            f.code,
            values.as_mut_ptr(),
        )
    };
    CURRENT.with(|c| c.set(state.prev));
    // SAFETY: as above; compiled code and host functions are done with the store.
    let exception = unsafe {
        let limits = (*raw).limits();
        if outermost {
            limits.stack_limit = 0;
        }
        (limits.last_wasm_exit_pc, limits.last_wasm_exit_fp) = state.saved_exit;
        std::mem::take(&mut limits.pending_exception)
    };
    if trapped == 0 {
        if exception != 0 {
            return Err(Error::Trap(Trap::new(TrapCode::UncaughtException)));
        }
        return Ok(());
    }
    let record = state.trap.take().expect("a resumed call has a trap record");
    let frames = || crate::link::frames(&record.pcs);
    match state.host_failure.take() {
        Some(HostFailure::Panic(payload)) => std::panic::resume_unwind(payload),
        Some(HostFailure::Error(Error::Trap(t))) if t.backtrace().is_empty() => {
            Err(Error::Trap(t.with_backtrace(frames())))
        }
        Some(HostFailure::Error(e)) => Err(e),
        None => Err(Error::Trap(Trap::new(record.code).with_backtrace(frames()))),
    }
}
