//! Phase 6, vm: the GC heap of a store (structs and arrays of the GC proposal, exception
//! objects) and the libcalls compiled code uses for the larger GC operations.
//!
//! # References
//!
//! References of the `any` and `extern` hierarchies share one 64-bit encoding, so that
//! `any.convert_extern` and `extern.convert_any` are no-ops:
//!
//! ```text
//! 0                 null
//! v << 1 | 1        i31 value v (31 bits)
//! n << 2 | 2        host reference n (`(ref.extern n)`, `(ref.host n)`)
//! 16-aligned ptr    struct, array or exception object in the store's GC heap
//! ```
//!
//! References are full addresses, not offsets into the heap: the spaces are reserved once at
//! the heap limit and never move, so compiled code reaches fields with one load and needs no
//! heap base. The collector rewrites them when it moves objects.
//!
//! # Objects
//!
//! Objects are 8-aligned and start with an 8-byte header:
//!
//! ```text
//! 0   u32   type: canonical type index (low bits: struct or array, see `CanonicalKind`),
//!           or `EXN_TYPE` for exceptions
//! 4   u32   number of elements (arrays); tag store index (exceptions); 0 (structs)
//! 8   ...   arrays: the elements; exceptions: the payload, 16 bytes per value;
//!           structs: the descriptor (custom descriptors: only if the type has one), then
//!           the fields, each naturally aligned (8 at most), in order
//! ```
//!
//! While a collection copies, the header word of a copied object is its new address with
//! the low three bits set (`FORWARD_TAG`; no type word ends in three set bits).
//!
//! # Memory and collection
//!
//! `heap.rs`: two semispaces with bump allocation, `collect.rs`: the copying collector,
//! `roots.rs`: handles the host holds, `frames.rs`: references in wasm frames.

mod collect;
pub mod frames;
pub mod heap;
pub mod roots;

pub use collect::{alloc as alloc_object, collect, AllocError};
pub use heap::{GcHeap, EXN_TYPE};

use crate::store::StoreOpaque;
use crate::types::{FieldType, StorageType};

pub const TYPE_OFFSET: i32 = 0;
pub const LENGTH_OFFSET: i32 = 4;
/// Bytes of every object's header (type and length words).
pub const HEADER_SIZE: u32 = 8;
/// The descriptor of a struct whose type has one (custom descriptors), before its fields.
pub const DESCRIPTOR_OFFSET: i32 = 8;
/// Where array elements and exception payloads start.
pub const DATA_OFFSET: u32 = 8;
/// What `gc_alloc` returns for an object larger than the heap may ever be (0: the heap is
/// full). Neither is an object address.
pub const ALLOC_TOO_LARGE: u64 = 1;
/// What `gc_array_new_data`/`gc_array_new_elem` return when the segment range is out of
/// bounds (besides 0 and [`ALLOC_TOO_LARGE`]).
pub const SEGMENT_OUT_OF_BOUNDS: u64 = 2;

/// Whether a raw non-null `any`/`extern` reference is an i31 value.
pub fn is_i31(raw: u64) -> bool {
    raw & 1 == 1
}

/// Whether a raw non-null `any`/`extern` reference is a host reference.
pub fn is_host(raw: u64) -> bool {
    raw & 3 == 2
}

/// The raw form of host reference `n`.
pub fn host_ref(n: u32) -> u64 {
    (n as u64) << 2 | 2
}

/// The raw form of the i31 reference of (the low 31 bits of) `v`.
pub fn i31_ref(v: u32) -> u64 {
    ((v << 1) | 1) as u64
}

/// Offsets of the fields of a struct (from the object start) and the bytes of the object
/// after its header; `has_descriptor` if its type has a descriptor (which comes first).
pub fn struct_layout(fields: &[FieldType], has_descriptor: bool) -> (Vec<u32>, u32) {
    let mut end = if has_descriptor {
        HEADER_SIZE + 8
    } else {
        HEADER_SIZE
    };
    let offsets = fields
        .iter()
        .map(|f| {
            let size = f.storage.size();
            let at = end.next_multiple_of(size.min(8));
            end = at + size;
            at
        })
        .collect();
    (offsets, end - HEADER_SIZE)
}

/// `struct_layout` of struct type `ty`.
pub fn struct_type_layout(ty: &crate::types::SubType) -> (Vec<u32>, u32) {
    match &ty.composite {
        crate::types::CompositeType::Struct(fields) => {
            struct_layout(fields, ty.descriptor.is_some())
        }
        _ => unreachable!("validated: a struct type"),
    }
}

/// The storage of the elements of array type `type_index` of an instance's module.
fn array_storage(store: &StoreOpaque, instance: usize, type_index: u32) -> StorageType {
    let info = store.instances[instance].module.info();
    match &info.types[type_index as usize].composite {
        crate::types::CompositeType::Array(f) => f.storage,
        _ => unreachable!("validated: type {type_index} is an array type"),
    }
}

/// Allocates a zeroed object of type `type_index` (module-local) of the instance: a struct,
/// or an array of `len` elements. May collect.
pub fn alloc(
    store: &mut StoreOpaque,
    instance: usize,
    type_index: u32,
    len: u32,
) -> Result<u64, AllocError> {
    let info = store.instances[instance].module.clone();
    let info = info.info();
    let type_id = info.type_ids[type_index as usize];
    let ty = &info.types[type_index as usize];
    let (length, bytes) = match &ty.composite {
        crate::types::CompositeType::Struct(_) => (0, struct_type_layout(ty).1 as u64),
        crate::types::CompositeType::Array(f) => (len, len as u64 * f.storage.size() as u64),
        _ => unreachable!("validated: type {type_index} is a struct or array type"),
    };
    alloc_object(store, type_id, length, bytes)
}

/// `alloc` for compiled code: the object, or 0 / [`ALLOC_TOO_LARGE`].
fn alloc_for_wasm(store: &mut StoreOpaque, instance: usize, type_index: u32, len: u32) -> u64 {
    match alloc(store, instance, type_index, len) {
        Ok(raw) => raw,
        Err(AllocError::OutOfMemory) => 0,
        Err(AllocError::TooLarge) => ALLOC_TOO_LARGE,
    }
}

/// `vmctx` → (store, instance index); see `libcalls::context`.
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreOpaque, usize) {
    // SAFETY: the caller passes its own vmctx.
    unsafe { super::libcalls::context(vmctx) }
}

/// `ref.test` and friends: whether canonical type `a` is a subtype of `b`.
pub unsafe extern "C" fn gc_is_subtype(vmctx: *mut u8, a: u32, b: u32) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    store.engine.types().is_subtype(a, b) as u32
}

/// `struct.new*` and `array.new*` (when the inline bump allocation reaches the threshold):
/// a zeroed object of canonical type `type_id` with length word `len` and `unit` bytes of
/// data per element (arrays) or in all (structs); 0 if the heap is full,
/// [`ALLOC_TOO_LARGE`] if it could never hold the object. Entered through
/// `vm::exit::gc_alloc`.
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

/// Stores the low `size` bytes of `value` into elements `[start, start + len)` of array
/// `raw`; `None` if out of bounds. Runs at memset/memcpy speed: guests may fill arrays of
/// up to the heap limit.
pub fn fill_elements(
    heap: &mut GcHeap,
    raw: u64,
    start: u32,
    len: u32,
    size: u32,
    value: u128,
) -> Option<()> {
    let bytes = heap.elements_mut(raw, start, len, size)?;
    let size = size as usize;
    let value = value.to_le_bytes();
    let value = &value[..size];
    if value.iter().all(|b| *b == value[0]) {
        bytes.fill(value[0]);
    } else if !bytes.is_empty() {
        // One element, then doubling copies: memcpy speed for arrays of any length.
        bytes[..size].copy_from_slice(value);
        let mut done = size;
        while done < bytes.len() {
            let n = done.min(bytes.len() - done);
            bytes.copy_within(..n, done);
            done += n;
        }
    }
    Some(())
}

/// `array.copy`; 0 if either range is out of bounds.
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
/// `vm::exit::gc_array_new_data`.
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
    let module = store.instances[instance].module.clone();
    let bytes = data_segment(store, instance, &module, data);
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
/// `vm::exit::gc_array_new_elem`.
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
    let module = store.instances[instance].module.clone();
    let bytes = data_segment(store, instance, &module, data);
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
    store: &StoreOpaque,
    instance: usize,
    module: &'m crate::Module,
    data: u32,
) -> &'m [u8] {
    if store.instances[instance].data_dropped[data as usize] {
        &[]
    } else {
        module.info().data_bytes(data as usize)
    }
}

fn byte_range(start: u32, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = (start as u64).checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}
