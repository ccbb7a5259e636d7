//! Phase 6, vm: the stack-switching libcalls (`cont.new`, `cont.bind`, `resume`,
//! `resume_throw`, `suspend`, `switch`) over the store's `vm::continuation::Continuations`.
//! Each returns a status or a reference; compiled code traps on the failures (null
//! references it checks itself).

use super::context;
use super::exceptions::throw;
use crate::libcall::STATUS_GC_OUT_OF_MEMORY;
use crate::vm::continuation::{self, Continuations, STATUS_CONSUMED, STATUS_RETURNED};
use crate::vm::vmcontext::{VMFuncRef, VMRuntimeLimits};

/// The store's continuations and runtime limits behind a vmctx, as raw pointers: the store
/// is reached again (by other libcalls, on other stacks) while a switch is under way.
///
/// # Safety
/// As [`context`].
unsafe fn parts(vmctx: *mut u8) -> (*mut Continuations, *mut VMRuntimeLimits) {
    // SAFETY: per the contract.
    let (store, _) = unsafe { context(vmctx) };
    (&mut store.continuations, &mut *store.limits)
}

/// The store index of module tag `tag` of the vmctx's instance, and the store's
/// continuations (as [`parts`]).
///
/// # Safety
/// As [`context`].
unsafe fn tag_and_continuations(vmctx: *mut u8, tag: u32) -> (u32, *mut Continuations) {
    // SAFETY: per the contract.
    let (store, instance) = unsafe { context(vmctx) };
    let tag = store.instances[instance].tags[tag as usize];
    (tag, &mut store.continuations)
}

/// `cont.new`: a fresh continuation of module type `type_index` running `funcref` (not
/// null: compiled code checks), or 0 if no stack could be had.
///
/// # Safety
/// Called by compiled code with its own vmctx and a funcref of the right type.
pub unsafe extern "C" fn cont_new(vmctx: *mut u8, type_index: u32, funcref: u64) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let state = &store.instances[instance];
    let Some(entry) = state.cont_entries[type_index as usize] else {
        return 0;
    };
    let limits: *mut VMRuntimeLimits = &mut *store.limits;
    store
        .continuations
        .new_fiber(
            limits,
            funcref as *const VMFuncRef,
            entry.trampoline.as_ptr() as usize,
            entry.params as usize,
            entry.results as usize,
        )
        .unwrap_or(0)
}

/// `cont.bind`: a reference to `cont` with `count` more arguments given, or 0 if `cont` was
/// used already.
///
/// # Safety
/// Called by compiled code with its own vmctx and `count` values at `args`.
pub unsafe extern "C" fn cont_bind(
    vmctx: *mut u8,
    cont: u64,
    args: *const u128,
    count: u32,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx; `args` holds `count` values.
    unsafe {
        let (store, _) = context(vmctx);
        let args = std::slice::from_raw_parts(args, count as usize);
        store.continuations.bind(cont, args).unwrap_or(0)
    }
}

/// `resume`: runs `cont` with `count` arguments from `buffer` under the handler clauses at
/// `handlers`; a status (see `vm::continuation`).
///
/// # Safety
/// Called by compiled code with its own vmctx, a buffer as `continuation::resume` needs and
/// `nhandlers` pairs at `handlers`.
pub unsafe extern "C" fn resume(
    vmctx: *mut u8,
    cont: u64,
    buffer: *const u128,
    count: u32,
    handlers: u64,
    nhandlers: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx; no store reference is held
    // across the switch.
    unsafe {
        let (conts, limits) = parts(vmctx);
        let Some(id) = (*conts).take_for_resume(cont) else {
            return STATUS_CONSUMED;
        };
        continuation::resume(
            conts,
            limits,
            id,
            buffer as *mut u128,
            Some(count as usize),
            handlers as *const u64,
            nhandlers as usize,
        )
    }
}

/// `resume_throw` (`tag` a module tag) or `resume_throw_ref` (`tag == u32::MAX`, the exnref in
/// `buffer[0]`): raises the exception inside `cont`. A fresh continuation is consumed
/// without running and the exception comes back at once.
///
/// # Safety
/// As [`resume`], with `count` payload values in `buffer`.
pub unsafe extern "C" fn resume_throw(
    vmctx: *mut u8,
    cont: u64,
    tag: u32,
    buffer: *const u128,
    count: u32,
    handlers: u64,
    nhandlers: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx; no store reference is held
    // across `throw` or the switch.
    unsafe {
        let (conts, limits) = parts(vmctx);
        let Some((id, fresh)) = (*conts).take_for_throw(cont) else {
            return STATUS_CONSUMED;
        };
        if tag == u32::MAX {
            (*limits).pending_exception = *buffer as u64;
        } else if throw(vmctx, tag, buffer, count) == 0 {
            return STATUS_GC_OUT_OF_MEMORY;
        }
        if fresh {
            return STATUS_RETURNED;
        }
        continuation::resume(
            conts,
            limits,
            id,
            buffer as *mut u128,
            None,
            handlers as *const u64,
            nhandlers as usize,
        )
    }
}

/// `suspend` of module tag `tag` with `count` payload values in `buffer`; on resumption
/// `buffer` holds the `results` values.
///
/// # Safety
/// Called by compiled code with its own vmctx and a buffer of `max(count, results)` values.
pub unsafe extern "C" fn suspend(
    vmctx: *mut u8,
    tag: u32,
    buffer: *const u128,
    count: u32,
    results: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx; no store reference is held
    // across the switch.
    unsafe {
        let (tag, conts) = tag_and_continuations(vmctx, tag);
        continuation::suspend(
            conts,
            tag,
            buffer as *mut u128,
            count as usize,
            results as usize,
        )
    }
}

/// `switch` to `cont` through module tag `tag` with `count` arguments in `buffer`; on
/// resumption `buffer` holds the `results` values.
///
/// # Safety
/// As [`suspend`].
pub unsafe extern "C" fn switch(
    vmctx: *mut u8,
    tag: u32,
    cont: u64,
    buffer: *const u128,
    count: u32,
    results: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx; no store reference is held
    // across the switch.
    unsafe {
        let (tag, conts) = tag_and_continuations(vmctx, tag);
        let Some(target) = (*conts).take_for_resume(cont) else {
            return STATUS_CONSUMED;
        };
        continuation::switch(
            conts,
            tag,
            target,
            buffer as *mut u128,
            count as usize,
            results as usize,
        )
    }
}
