//! Phase 6, vm: host functions as compiled code sees them, and the shim their trampolines
//! call.
//!
//! A host function is a [`VMHostFuncContext`]: its `VMFuncRef` (whose code is the host
//! trampoline and whose vmctx is the context itself), the store it belongs to, and a
//! [`HostCallRef`]: a type-erased body whose one method is monomorphised for the store type
//! `S` it was made for. The API builds bodies over raw 16-byte slots; this module holds every
//! pointer cast between them and compiled code. `vm` never calls up into the API: the shim
//! only follows the stored pointers.

use crate::error::Error;
use crate::trap::Trap;
use crate::vm::code::CodePtr;
use crate::vm::instance::FuncRefPtr;
use crate::vm::thread::VMStore;
use crate::vm::thread::{current_state, HostFailure};
use crate::vm::vmcontext::VMFuncRef;
use crate::vmoffsets::VMCTX_INSTANCE_INDEX;
use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::Arc;

/// A host function's body over raw values, erased over the store type it was made for.
trait HostCall: Send + Sync {
    /// Runs the body.
    ///
    /// # Safety
    ///
    /// `store` must point to a live store of the type this body was made for (see
    /// `HostCallRef::store_type`), usable exclusively for the duration of the call.
    unsafe fn call(
        &self,
        store: *mut u8,
        caller: Option<u32>,
        values: &mut [u128],
    ) -> Result<(), Error>;
}

/// A body `F` for stores of type `S`.
struct ForStore<S, F> {
    body: F,
    _store: PhantomData<fn(&mut S)>,
}

impl<S: 'static, F> HostCall for ForStore<S, F>
where
    F: Fn(&mut S, Option<u32>, &mut [u128]) -> Result<(), Error> + Send + Sync,
{
    /// Runs the body on the store `store` points to.
    ///
    /// # Safety
    /// As [`HostCall::call`]: `store` is a live `S`, usable exclusively for the call.
    unsafe fn call(
        &self,
        store: *mut u8,
        caller: Option<u32>,
        values: &mut [u128],
    ) -> Result<(), Error> {
        // SAFETY: per the contract, `store` is a live, exclusively usable `S`.
        let store = unsafe { &mut *store.cast::<S>() };
        (self.body)(store, caller, values)
    }
}

/// A host function's body, shareable between stores of one type (a `Linker` defines it once
/// and every store it instantiates into uses the same body).
#[derive(Clone)]
pub struct HostCallRef {
    body: Arc<dyn HostCall>,
    store_type: TypeId,
}

impl HostCallRef {
    /// A body for stores of type `S`: it gets the store, the calling instance's index (`None`
    /// when the host calls the function itself) and the slots holding the arguments, where
    /// it leaves the results.
    pub fn new<S: VMStore, F>(body: F) -> HostCallRef
    where
        F: Fn(&mut S, Option<u32>, &mut [u128]) -> Result<(), Error> + Send + Sync + 'static,
    {
        HostCallRef {
            body: Arc::new(ForStore::<S, F> {
                body,
                _store: PhantomData,
            }),
            store_type: TypeId::of::<S>(),
        }
    }

    /// Calls the body from the host (no wasm frame in between, so panics unwind normally).
    ///
    /// # Panics
    ///
    /// If `S` is not the store type the body was made for.
    pub fn call_from_host<S: VMStore>(
        &self,
        store: &mut S,
        values: &mut [u128],
    ) -> Result<(), Error> {
        assert!(
            self.store_type == TypeId::of::<S>(),
            "a host function called with a store of another type"
        );
        let store: *mut S = store;
        // SAFETY: `store` comes from an exclusive borrow of an `S`, the type checked above.
        unsafe { self.body.call(store.cast(), None, values) }
    }
}

/// A host function in a store. Boxed: its `VMFuncRef`'s vmctx points to itself.
#[repr(C)]
pub struct VMHostFuncContext {
    /// First, so that a pointer to the context is a pointer to its funcref.
    funcref: VMFuncRef,
    store_id: u64,
    store_type: TypeId,
    /// Slots in the trampoline's buffer: max(params, results, 1).
    values_len: usize,
    call: HostCallRef,
}

impl VMHostFuncContext {
    /// The host function with body `call` as function `store_index` of store `store_id`;
    /// `code` is the engine's host trampoline for its signature (canonical type `type_id`).
    pub fn new(
        store_id: u64,
        store_index: u32,
        code: CodePtr,
        type_id: u32,
        values_len: usize,
        call: HostCallRef,
    ) -> Box<VMHostFuncContext> {
        let mut ctx = Box::new(VMHostFuncContext {
            funcref: VMFuncRef {
                code: code.as_ptr(),
                vmctx: std::ptr::null_mut(),
                type_id,
                store_index,
            },
            store_id,
            store_type: call.store_type,
            values_len: values_len.max(1),
            call,
        });
        // The host trampoline finds the context through its funcref's vmctx.
        ctx.funcref.vmctx = &mut *ctx as *mut VMHostFuncContext as *mut u8;
        ctx
    }

    /// The funcref compiled code calls.
    pub fn funcref(&self) -> FuncRefPtr {
        FuncRefPtr::new(&self.funcref)
    }

    /// The body, for calls from the host.
    pub fn body(&self) -> &HostCallRef {
        &self.call
    }
}

/// The address of a relocation target outside an image (what `vm::code::CodeObject::publish`
/// is given): [`host_shim`] for host trampolines, the libcalls' from `vm::libcalls::resolve`.
pub fn resolve(target: crate::compile::RelocTarget) -> Option<usize> {
    match target {
        crate::compile::RelocTarget::HostShim => Some(host_shim as *const () as usize),
        other => super::libcalls::resolve(other),
    }
}

/// Called by host trampolines: runs the host function whose context is `callee_vmctx`.
/// Returns 0 on success and 1 on failure; the failure (an error, or the payload of a panic,
/// which must not unwind through wasm frames) is kept in the call state for `invoke`, which
/// returns the error or resumes the panic.
///
/// # Safety
///
/// Only compiled host trampolines call this, with the vmctx of their funcref (a
/// `VMHostFuncContext`), the calling wasm instance's vmctx, and a buffer of 16-byte values
/// large enough for the parameters and results.
pub unsafe extern "C" fn host_shim(
    callee_vmctx: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u128,
) -> u32 {
    let state = current_state();
    // SAFETY: per the contract; the context lives as long as its store, which cannot be
    // dropped while one of its functions runs, and is never changed after `new`. Host
    // functions are reached from wasm only inside `invoke`, so `state` is this thread's live
    // call state.
    let (ctx, instance, values, store, same_store) = unsafe {
        let ctx = &*(callee_vmctx as *const VMHostFuncContext);
        let instance = *(caller_vmctx.add(VMCTX_INSTANCE_INDEX as usize) as *const u64) as u32;
        let values = std::slice::from_raw_parts_mut(values, ctx.values_len);
        let state = &*state;
        let same = state.store_id == ctx.store_id && state.store_type == ctx.store_type;
        (ctx, instance, values, state.store, same)
    };
    let failure = if !same_store {
        HostFailure::Error(Error::Trap(Trap::host(
            "a host function was called by code of another store",
        )))
    } else {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: `store` is the store that entered wasm (the `*mut S` given to `invoke`,
            // which does not touch it until the call returns); its id and type are the ones
            // this function was made for (checked above).
            unsafe { ctx.call.body.call(store, Some(instance), values) }
        }));
        match outcome {
            Ok(Ok(())) => return 0,
            Ok(Err(e)) => HostFailure::Error(e),
            Err(payload) => HostFailure::Panic(payload),
        }
    };
    // SAFETY: as above; no other reference to the state is live here.
    unsafe { (*state).host_failure = Some(failure) };
    1
}
