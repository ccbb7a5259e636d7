//! Phase 6, vm: the GC heap of a store (structs and arrays of the GC proposal, exception
//! objects). The libcalls on them are `libcalls/gc.rs`.
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
//! `heap.rs`: two semispaces with bump allocation, `roots.rs`: handles the host holds. The
//! collector, which needs the whole store's roots, is `vm::collector` (above the store).

pub mod heap;
pub mod host_data;
pub mod roots;

pub use heap::{GcHeap, EXN_TYPE};

pub use crate::vmoffsets::{
    struct_layout, struct_type_layout, ALLOC_TOO_LARGE, DATA_OFFSET, DESCRIPTOR_OFFSET,
    HEADER_SIZE, LENGTH_OFFSET, SEGMENT_OUT_OF_BOUNDS, TYPE_OFFSET,
};

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
