//! Phase 6, vm: exception objects. `throw` creates one in the store and makes it the store's
//! pending exception; compiled code unwinds by checking that slot after every call.

use super::store::from_vmctx;
use super::vmcontext::VMException;

/// An exception owned by a store: the part compiled code reads and the payload it points to.
pub struct Exception {
    header: Box<VMException>,
    _payload: Box<[u128]>,
}

impl Exception {
    /// The exnref value of this exception.
    pub fn exnref(&self) -> u64 {
        &*self.header as *const VMException as u64
    }
}

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
    let header = Box::new(VMException {
        tag,
        payload: payload.as_ptr(),
    });
    let exception = Exception {
        header,
        _payload: payload,
    };
    store.limits.pending_exception = exception.exnref();
    store.exceptions.push(exception);
}
