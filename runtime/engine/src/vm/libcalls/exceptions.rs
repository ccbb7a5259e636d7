//! Phase 6, vm: the `throw` libcall.

use crate::vm::exceptions::Exception;
use crate::vm::store::from_vmctx;

/// `throw`: creates an exception of module tag `tag` with `count` payload values read from
/// `values`, and makes it the pending exception.
///
/// # Safety
/// Called by compiled code with its own vmctx and a buffer of `count` 16-byte values.
pub unsafe extern "C" fn throw(vmctx: *mut u8, tag: u32, values: *const u128, count: u32) {
    // SAFETY: per the contract, `vmctx` is the caller's own and `values` holds `count`
    // values.
    let (store, instance, payload) = unsafe {
        let (store, instance) = from_vmctx(vmctx);
        let payload: Box<[u128]> = std::slice::from_raw_parts(values, count as usize).into();
        (store, instance, payload)
    };
    let tag = store.instances[instance].tags[tag as usize];
    let exception = Exception::new(tag, payload);
    store.limits.pending_exception = exception.exnref();
    store.exceptions.push(exception);
}
