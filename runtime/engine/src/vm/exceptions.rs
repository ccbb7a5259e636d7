//! Phase 6, vm: exception objects. The `throw` libcall (`libcalls/exceptions.rs`) creates one
//! in the store and makes it the store's pending exception; compiled code unwinds by
//! checking that slot after every call.

use super::vmcontext::VMException;

/// An exception owned by a store: the part compiled code reads and the payload it points to.
pub struct Exception {
    header: Box<VMException>,
    _payload: Box<[u128]>,
}

impl Exception {
    /// An exception of the store's tag `tag` carrying `payload`.
    pub fn new(tag: u32, payload: Box<[u128]>) -> Exception {
        let header = Box::new(VMException {
            tag,
            payload: payload.as_ptr(),
        });
        Exception {
            header,
            _payload: payload,
        }
    }

    /// The exnref value of this exception.
    pub fn exnref(&self) -> u64 {
        &*self.header as *const VMException as u64
    }
}
