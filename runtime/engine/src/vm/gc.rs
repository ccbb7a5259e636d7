//! Phase 6, vm: GC objects (structs and arrays of the GC proposal) in a store's heap, and
//! the encoding of references. The libcalls on them are `libcalls/gc.rs`.
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
//! 16-aligned ptr    struct or array object
//! ```
//!
//! # Objects
//!
//! ```text
//! 0   u32   canonical type index (its low bits say struct or array, see `CanonicalKind`)
//! 4   u32   number of elements (arrays)
//! 8   u64   descriptor (custom descriptors: structs whose type has one; else 0)
//! 16  ...   fields (naturally aligned, in order) or elements
//! ```
//!
//! # Collection
//!
//! There is none: every object lives in its store's [`GcHeap`], an arena freed as a whole
//! when the store drops. A store's objects may take [`MAX_HEAP_BYTES`] together; allocating
//! beyond that traps.

use std::alloc::Layout;
use std::collections::BTreeMap;

pub use crate::vmoffsets::{
    struct_layout, DATA_OFFSET, DESCRIPTOR_OFFSET, LENGTH_OFFSET, TYPE_OFFSET,
};
const ALIGN: usize = 16;
/// Most bytes the GC objects of one store may take together.
pub const MAX_HEAP_BYTES: u64 = 1 << 30;

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

/// The arena of one store's GC objects.
#[derive(Default)]
pub struct GcHeap {
    /// Every live object: address to size in bytes (header included).
    objects: BTreeMap<usize, usize>,
    bytes: u64,
}

impl GcHeap {
    /// A zeroed object of `data_bytes` bytes after the header; `None` when the store's GC
    /// memory would exceed its limit.
    pub fn alloc(&mut self, type_id: u32, length: u32, data_bytes: u64) -> Option<u64> {
        let size = (DATA_OFFSET as u64).checked_add(data_bytes)?;
        if self.bytes + size > MAX_HEAP_BYTES {
            return None;
        }
        let layout = Layout::from_size_align(size as usize, ALIGN).ok()?;
        // SAFETY: the layout's size is at least the header's, so not zero.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr` is a fresh, 16-aligned allocation of at least 16 bytes.
        unsafe {
            (ptr.add(TYPE_OFFSET as usize) as *mut u32).write(type_id);
            (ptr.add(LENGTH_OFFSET as usize) as *mut u32).write(length);
        }
        self.objects.insert(ptr as usize, size as usize);
        self.bytes += size;
        Some(ptr as u64)
    }

    /// The whole object `raw` as bytes, if `raw` is an object of this heap.
    pub fn object(&self, raw: u64) -> Option<&[u8]> {
        let size = *self.objects.get(&(raw as usize))?;
        // SAFETY: `raw` is the start of a live allocation of `size` bytes owned by this heap;
        // the borrow of `self` keeps it alive.
        Some(unsafe { std::slice::from_raw_parts(raw as usize as *const u8, size) })
    }

    /// The whole object `raw` as mutable bytes, if `raw` is an object of this heap.
    pub fn object_mut(&mut self, raw: u64) -> Option<&mut [u8]> {
        let size = *self.objects.get(&(raw as usize))?;
        // SAFETY: as in `object`; the mutable borrow of `self` makes the access exclusive on
        // the host side (compiled code does not run while the host holds it).
        Some(unsafe { std::slice::from_raw_parts_mut(raw as usize as *mut u8, size) })
    }

    /// The canonical type index of object `raw`.
    pub fn type_id(&self, raw: u64) -> Option<u32> {
        let o = self.object(raw)?;
        Some(u32::from_le_bytes(o[0..4].try_into().unwrap()))
    }

    /// The number of elements of array `raw`.
    pub fn array_len(&self, raw: u64) -> Option<u32> {
        let o = self.object(raw)?;
        Some(u32::from_le_bytes(o[4..8].try_into().unwrap()))
    }

    /// Writes the low `size` bytes of `bits` at `offset` of object `raw`.
    pub fn write(&mut self, raw: u64, offset: u32, size: u32, bits: u128) -> Option<()> {
        let o = self.object_mut(raw)?;
        let bytes = o.get_mut(offset as usize..(offset + size) as usize)?;
        bytes.copy_from_slice(&bits.to_le_bytes()[..size as usize]);
        Some(())
    }

    /// The bytes of elements `[start, start + len)` of array `raw` with elements of `size`
    /// bytes, if the array has them.
    pub fn elements_mut(&mut self, raw: u64, start: u32, len: u32, size: u32) -> Option<&mut [u8]> {
        let count = self.array_len(raw)?;
        let end = start.checked_add(len).filter(|e| *e <= count)?;
        let o = self.object_mut(raw)?;
        let from = DATA_OFFSET as usize + start as usize * size as usize;
        o.get_mut(from..DATA_OFFSET as usize + end as usize * size as usize)
    }
}

impl Drop for GcHeap {
    fn drop(&mut self) {
        for (&addr, &size) in &self.objects {
            let layout = Layout::from_size_align(size, ALIGN).expect("valid when allocated");
            // SAFETY: every entry was allocated by `alloc` with this layout and is freed once.
            unsafe { std::alloc::dealloc(addr as *mut u8, layout) };
        }
    }
}

/// Stores the low `size` bytes of `value` into elements `[start, start + len)` of array
/// `raw`; `None` if out of bounds. Runs at memset/memcpy speed: guests may fill arrays of
/// up to the heap limit (1 GiB).
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
