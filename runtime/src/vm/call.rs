//! Phase 6, vm: calls from the host into compiled code and from compiled code into the host.

use crate::store::{Instance, Store, StoreInner};
use crate::trap::{Trap, TrapCode};
use crate::values::Val;
use crate::vm::signals;
use crate::vm::unwind::{call_with_jmpbuf, JmpBuf};
use crate::vm::vmcontext::VMFuncRef;
use crate::vmoffsets::{VMCTX_INSTANCE_INDEX, VMCTX_STORE};
use std::cell::Cell;

/// A trap caught by the signal handler: its kind and the return addresses of the wasm frames.
pub struct TrapRecord {
    pub code: TrapCode,
    pub pcs: Vec<usize>,
}

/// Per-entry state, linked per thread: where to resume after a trap and what happened.
pub struct CallThreadState {
    jmpbuf: JmpBuf,
    pub trap: Option<TrapRecord>,
    /// The error a host function returned, raised as a `Host` trap by its trampoline.
    host_trap: Option<Trap>,
    prev: *mut CallThreadState,
}

impl CallThreadState {
    pub fn jmpbuf(&self) -> *const JmpBuf {
        &self.jmpbuf
    }
}

thread_local! {
    static CURRENT: Cell<*mut CallThreadState> = const { Cell::new(std::ptr::null_mut()) };
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// This thread's innermost call state (null when no wasm runs on this thread).
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

/// Lowest address wasm may use on this thread's stack, keeping room for host calls.
fn thread_stack_limit() -> usize {
    const HOST_RESERVE: usize = 256 * 1024;
    if let Some(limit) = STACK_LIMIT.with(|l| Some(l.get()).filter(|l| *l != 0)) {
        return limit;
    }
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
fn wasm_stack_limit(max_wasm_stack: usize) -> usize {
    let here = &max_wasm_stack as *const usize as usize;
    thread_stack_limit().max(here.saturating_sub(max_wasm_stack))
}

/// Calls `funcref` through an array-call `trampoline` with arguments and results in `values`.
pub fn invoke(
    store: &mut Store,
    trampoline: *const u8,
    funcref: *const VMFuncRef,
    values: &mut [u128],
) -> Result<(), Trap> {
    signals::install_handlers();
    signals::ensure_alt_stack();
    let store_ptr: *mut Store = store;
    let inner: *mut StoreInner = &mut *store.inner;
    // SAFETY: `inner` is the boxed store state, alive for the whole call; compiled code and
    // host functions reach it only through raw pointers while we are inside.
    let (prev_entry, outermost) = unsafe {
        let prev = (*inner).entry_store;
        (*inner).entry_store = store_ptr;
        let outermost = (*inner).limits.stack_limit == 0;
        if outermost {
            let max_wasm_stack = (*inner).engine.config().max_wasm_stack;
            (*inner).limits.stack_limit = wasm_stack_limit(max_wasm_stack);
            (*inner).limits.pending_exception = 0;
        }
        (prev, outermost)
    };
    let mut state = CallThreadState {
        jmpbuf: JmpBuf::default(),
        trap: None,
        host_trap: None,
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
    // SAFETY: as above.
    unsafe {
        (*inner).entry_store = prev_entry;
        if outermost {
            (*inner).limits.stack_limit = 0;
        }
    }
    if trapped == 0 {
        // SAFETY: as above.
        let exception = unsafe { std::mem::take(&mut (*inner).limits.pending_exception) };
        if exception != 0 {
            return Err(Trap::new(TrapCode::UncaughtException));
        }
        return Ok(());
    }
    let record = state.trap.take().expect("a resumed call has a trap record");
    let trap = match (record.code, state.host_trap.take()) {
        (TrapCode::Host, Some(host)) => host,
        (code, _) => Trap::new(code),
    };
    Err(trap.with_backtrace(crate::link::frames(&record.pcs)))
}

/// Called by host trampolines: runs the host function the callee funcref names.
/// Returns 0 on success, 1 when the function failed (its trap is kept for `invoke`).
///
/// # Safety
/// Only compiled host trampolines call this, with the host function's funcref, the calling
/// wasm instance's vmctx, and a buffer of 16-byte values large enough for params and results.
pub unsafe extern "C" fn host_shim(
    callee: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u128,
) -> u32 {
    // SAFETY: per the contract above; the store pointer in the caller's vmctx is the store
    // that entered wasm, whose `entry_store` is the `&mut Store` given to `invoke`.
    let (store, index, instance) = unsafe {
        let index = (*(callee as *const VMFuncRef)).store_index as usize;
        let inner = *(caller_vmctx.add(VMCTX_STORE as usize) as *const *mut StoreInner);
        let instance = *(caller_vmctx.add(VMCTX_INSTANCE_INDEX as usize) as *const u64);
        let store = &mut *(*inner).entry_store;
        let instance = Instance {
            store: (*inner).id,
            index: instance as u32,
        };
        (store, index, instance)
    };
    let ty = store.inner.funcs[index].ty.clone();
    // SAFETY: the trampoline's buffer holds max(params, results, 1) values.
    let values = unsafe {
        std::slice::from_raw_parts_mut(values, ty.params().len().max(ty.results().len()).max(1))
    };
    // Most signatures fit in small buffers on the stack.
    let (mut small_params, mut large_params) = ([Val::I32(0); 8], Vec::new());
    let params = small_or_large(&mut small_params, &mut large_params, ty.params().len());
    for ((slot, t), v) in params.iter_mut().zip(ty.params()).zip(values.iter()) {
        *slot = store.inner.raw_to_val(*v, *t);
    }
    let (mut small_results, mut large_results) = ([Val::I32(0); 8], Vec::new());
    let results = small_or_large(&mut small_results, &mut large_results, ty.results().len());
    for (slot, t) in results.iter_mut().zip(ty.results()) {
        *slot = Val::default_for(*t);
    }
    let params = &*params;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::externals::call_host(store, index, Some(instance), params, results)
    }));
    let error = match outcome {
        Ok(Ok(())) => match results
            .iter()
            .zip(ty.results())
            .find(|(v, t)| !store.inner.val_matches(v, **t))
        {
            None => {
                for (slot, v) in values.iter_mut().zip(results.iter()) {
                    *slot = store.inner.val_to_raw(v);
                }
                return 0;
            }
            Some((v, t)) => Trap::host(format!(
                "host function returned {v:?} where {t} was expected"
            )),
        },
        Ok(Err(trap)) => trap,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Trap::host(format!("host function panicked: {msg}"))
        }
    };
    let state = current_state();
    // SAFETY: host functions are only reached from wasm inside `invoke`, so `state` is live.
    unsafe { (*state).host_trap = Some(error) };
    1
}

/// The first `n` slots of `small`, or `large` grown to `n` when `small` is too short.
fn small_or_large<'a>(small: &'a mut [Val; 8], large: &'a mut Vec<Val>, n: usize) -> &'a mut [Val] {
    if n <= small.len() {
        &mut small[..n]
    } else {
        large.resize(n, Val::I32(0));
        large
    }
}
