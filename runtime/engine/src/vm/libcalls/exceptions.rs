//! Phase 6, vm: the `throw` libcall. The exception is an object of the store's GC heap (type
//! word `EXN_TYPE`, the tag's store index in the length word, the payload after the header,
//! 16 bytes per value) and becomes the store's pending exception; compiled code unwinds by
//! checking that slot after every call. Exceptions nothing refers to any more are collected
//! like every other object.

use super::context;
use crate::vm::collector::alloc_object;
use crate::vm::gc::{heap::ObjLayout, DATA_OFFSET, EXN_TYPE};

/// `throw`: creates an exception of module tag `tag` with `count` payload values read from
/// `values`, and makes it the pending exception. Returns 1, or 0 if the GC heap has no room
/// for it (compiled code then traps). Entered through `libcalls::exit::throw`.
///
/// # Safety
/// Called by compiled code with its own vmctx and a buffer of `count` 16-byte values.
pub unsafe extern "C" fn throw(vmctx: *mut u8, tag: u32, values: *const u128, count: u32) -> u32 {
    // SAFETY: per the contract, `vmctx` is the caller's own and `values` holds `count`
    // values.
    let (store, instance, mut payload) = unsafe {
        let (store, instance) = context(vmctx);
        let payload = std::slice::from_raw_parts(values, count as usize).to_vec();
        (store, instance, payload)
    };
    let tag = store.instances[instance].tags[tag as usize];
    // The tag's layout (registered when the tag was made) says which slots hold references.
    let refs: Vec<usize> = match store.gc.layout(EXN_TYPE, tag) {
        ObjLayout::Fixed { refs, .. } => refs
            .iter()
            .map(|off| ((off - DATA_OFFSET) / 16) as usize)
            .collect(),
        ObjLayout::Array { .. } => unreachable!("an exception layout is fixed"),
    };
    // The allocation may collect: the payload's references are roots until it is written.
    let mark = {
        let mut roots = store.gc.roots.borrow_mut();
        let mark = roots.scratch.len();
        roots
            .scratch
            .extend(refs.iter().map(|i| payload[*i] as u64));
        mark
    };
    let exn = alloc_object(store, EXN_TYPE, tag, 16 * count as u64);
    {
        let mut roots = store.gc.roots.borrow_mut();
        for (i, raw) in refs.iter().zip(roots.scratch.drain(mark..)) {
            payload[*i] = raw as u128;
        }
    }
    let Ok(exn) = exn else {
        return 0;
    };
    for (i, v) in payload.iter().enumerate() {
        store
            .gc
            .write(exn, DATA_OFFSET + 16 * i as u32, 16, *v)
            .expect("inside the exception just allocated");
    }
    store.limits.pending_exception = exn;
    1
}
