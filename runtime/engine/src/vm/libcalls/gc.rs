//! Phase 6, vm: the libcalls compiled code uses for the larger GC operations (allocation,
//! bulk array operations, subtype checks against the engine's canonical types). Those that
//! allocate may collect; compiled code enters them through the exit shims of
//! `vm::arch::exit`, which record the innermost wasm frame for the collector.

use super::context;
use crate::types::StorageType;
use crate::vm::collector::{alloc, alloc_object, AllocError};
use crate::vm::gc::{fill_elements, ALLOC_TOO_LARGE, SEGMENT_OUT_OF_BOUNDS};
use crate::vm::store::StoreState;

/// The storage of the elements of array type `type_index` of an instance's module.
fn array_storage(store: &StoreState, instance: usize, type_index: u32) -> StorageType {
    let info = &store.instances[instance].info;
    match &info.types[type_index as usize].composite {
        crate::types::CompositeType::Array(f) => f.storage,
        _ => unreachable!("validated: type {type_index} is an array type"),
    }
}

/// `alloc` for compiled code: the object, or 0 / [`ALLOC_TOO_LARGE`].
fn alloc_for_wasm(store: &mut StoreState, instance: usize, type_index: u32, len: u32) -> u64 {
    match alloc(store, instance, type_index, len) {
        Ok(raw) => raw,
        Err(AllocError::OutOfMemory) => 0,
        Err(AllocError::TooLarge) => ALLOC_TOO_LARGE,
    }
}

/// `ref.test` and friends: whether canonical type `a` is a subtype of `b`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_is_subtype(vmctx: *mut u8, a: u32, b: u32) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    store.types.is_subtype(a, b) as u32
}

/// `struct.new*` and `array.new*` (when the inline bump allocation reaches the threshold):
/// a zeroed object of canonical type `type_id` with length word `len` and `unit` bytes of
/// data per element (arrays) or in all (structs); 0 if the heap is full,
/// [`ALLOC_TOO_LARGE`] if it could never hold the object. Entered through
/// `vm::arch::exit::gc_alloc`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_alloc(vmctx: *mut u8, type_id: u32, len: u32, unit: u32) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let data = match crate::types::CanonicalKind::of(type_id) {
        crate::types::CanonicalKind::Array => len as u64 * unit as u64,
        _ => unit as u64,
    };
    match alloc_object(store, type_id, len, data) {
        Ok(raw) => raw,
        Err(AllocError::OutOfMemory) => 0,
        Err(AllocError::TooLarge) => ALLOC_TOO_LARGE,
    }
}

/// `array.fill` (and `array.new`): stores the low `size` bytes of `hi:lo` into elements
/// `[start, start + len)`; 0 if out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_fill(
    vmctx: *mut u8,
    array: u64,
    start: u32,
    len: u32,
    lo: u64,
    hi: u64,
    size: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let value = (hi as u128) << 64 | lo as u128;
    fill_elements(&mut store.gc, array, start, len, size, value).is_some() as u32
}

/// `array.copy`; 0 if either range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_copy(
    vmctx: *mut u8,
    dst: u64,
    dst_index: u32,
    src: u64,
    src_index: u32,
    len: u32,
    size: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let Some(from) = store
        .gc
        .elements_mut(src, src_index, len, size)
        .map(|s| s.to_vec())
    else {
        return 0;
    };
    let Some(to) = store.gc.elements_mut(dst, dst_index, len, size) else {
        return 0;
    };
    to.copy_from_slice(&from);
    1
}

/// `array.new_data`: a new array from a data segment; [`SEGMENT_OUT_OF_BOUNDS`] if the
/// segment is too short, 0 or [`ALLOC_TOO_LARGE`] as for `gc_alloc`. Entered through
/// `vm::arch::exit::gc_array_new_data`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_new_data(
    vmctx: *mut u8,
    type_index: u32,
    data: u32,
    offset: u32,
    len: u32,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let size = array_storage(store, instance, type_index).size();
    let info = store.instances[instance].info.clone();
    let bytes = data_segment(store, instance, &info, data);
    let Some(source) = byte_range(offset, len as u64 * size as u64, bytes.len()).map(|r| &bytes[r])
    else {
        return SEGMENT_OUT_OF_BOUNDS;
    };
    let array = alloc_for_wasm(store, instance, type_index, len);
    if let Some(to) = store.gc.elements_mut(array, 0, len, size) {
        to.copy_from_slice(source);
    }
    array
}

/// `array.new_elem`: a new array from an element segment; [`SEGMENT_OUT_OF_BOUNDS`] if the
/// segment is too short, 0 or [`ALLOC_TOO_LARGE`] as for `gc_alloc`. Entered through
/// `vm::arch::exit::gc_array_new_elem`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_new_elem(
    vmctx: *mut u8,
    type_index: u32,
    elem: u32,
    offset: u32,
    len: u32,
) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let count = store.instances[instance].elements[elem as usize].len();
    let Some(range) = byte_range(offset, len as u64, count) else {
        return SEGMENT_OUT_OF_BOUNDS;
    };
    // The allocation may collect (and move the segment's objects): copy the items after it.
    let array = alloc_for_wasm(store, instance, type_index, len);
    let items = &store.instances[instance].elements[elem as usize][range];
    if let Some(to) = store.gc.elements_mut(array, 0, len, 8) {
        for (chunk, item) in to.chunks_exact_mut(8).zip(items) {
            chunk.copy_from_slice(&item.to_le_bytes());
        }
    }
    array
}

/// `array.init_data`: 1 on success, 0 if the array range is out of bounds, 2 if the data
/// segment range is.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_init_data(
    vmctx: *mut u8,
    array: u64,
    type_index: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let size = array_storage(store, instance, type_index).size();
    let info = store.instances[instance].info.clone();
    let bytes = data_segment(store, instance, &info, data);
    let Some(source) =
        byte_range(src, len as u64 * size as u64, bytes.len()).map(|r| bytes[r].to_vec())
    else {
        return if store.gc.elements_mut(array, dst, len, size).is_none() {
            0
        } else {
            2
        };
    };
    let Some(to) = store.gc.elements_mut(array, dst, len, size) else {
        return 0;
    };
    to.copy_from_slice(&source);
    1
}

/// `array.init_elem`: 1 on success, 0 if the array range is out of bounds, 2 if the element
/// segment range is.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
pub unsafe extern "C" fn gc_array_init_elem(
    vmctx: *mut u8,
    array: u64,
    _type_index: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    if store.gc.elements_mut(array, dst, len, 8).is_none() {
        return 0;
    }
    let items = &store.instances[instance].elements[elem as usize];
    let Some(items) = byte_range(src, len as u64, items.len()).map(|r| items[r].to_vec()) else {
        return 2;
    };
    let to = store
        .gc
        .elements_mut(array, dst, len, 8)
        .expect("checked above");
    for (chunk, item) in to.chunks_exact_mut(8).zip(items) {
        chunk.copy_from_slice(&item.to_le_bytes());
    }
    1
}

/// The bytes of data segment `data` of an instance (empty once dropped).
fn data_segment<'m>(
    store: &StoreState,
    instance: usize,
    info: &'m crate::info::ModuleInfo,
    data: u32,
) -> &'m [u8] {
    if store.instances[instance].data_dropped[data as usize] {
        &[]
    } else {
        info.data_bytes(data as usize)
    }
}

fn byte_range(start: u32, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = (start as u64).checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}
