//! Phase 6, vm: linear memories. A 32-bit memory with 64 KiB pages reserves its whole index
//! space plus a guard region, so compiled accesses need no bounds check; other memories (or a
//! failed reservation) reserve up to a cap and are bounds-checked by compiled code. The base
//! never moves.

use crate::error::{Error, Result};
use crate::types::MemoryType;
use crate::vm::vmcontext::VMMemoryDefinition;

/// Bytes reserved for a guard-page memory: 4 GiB of index space, 4 GiB for static offsets,
/// and a page for the widest access.
pub const GUARDED_RESERVATION: u64 = (8 << 30) + (64 << 10);
/// Largest reservation of a bounds-checked memory.
const CHECKED_RESERVATION_CAP: u64 = 4 << 30;

pub struct LinearMemory {
    def: Box<VMMemoryDefinition>,
    alloc: Option<region::Allocation>,
    ty: MemoryType,
    reserved: u64,
    guarded: bool,
}

impl LinearMemory {
    pub fn new(ty: MemoryType, virtual_memory: bool) -> Result<LinearMemory> {
        let page = 1u64 << ty.page_size_log2;
        let index_space: u64 = if ty.memory64 { u64::MAX } else { 1 << 32 };
        let max_bytes = ty
            .maximum
            .map_or(index_space, |m| m.saturating_mul(page))
            .min(index_space);
        let min_bytes = ty.minimum.saturating_mul(page);
        let (alloc, reserved, guarded) = if virtual_memory && crate::vmoffsets::can_be_guarded(&ty)
        {
            // Compiled code relies on the guard region: failing to reserve it is an error.
            let alloc = region::alloc(GUARDED_RESERVATION as usize, region::Protection::NONE)
                .map_err(|e| Error::Usage(format!("cannot reserve guarded memory: {e}")))?;
            (Some(alloc), max_bytes.min(1 << 32), true)
        } else {
            let reserved = max_bytes.min(CHECKED_RESERVATION_CAP).max(min_bytes);
            if min_bytes > CHECKED_RESERVATION_CAP {
                return Err(Error::Usage(format!(
                    "memory of {} pages is larger than this runtime supports",
                    ty.minimum
                )));
            }
            let alloc = if reserved == 0 {
                None
            } else {
                Some(
                    region::alloc(reserved as usize, region::Protection::NONE).map_err(|e| {
                        Error::Usage(format!("cannot reserve {reserved} bytes of memory: {e}"))
                    })?,
                )
            };
            (alloc, reserved, false)
        };
        let base = alloc
            .as_ref()
            .map_or(std::ptr::NonNull::<u8>::dangling().as_ptr(), |a| {
                a.as_ptr::<u8>() as *mut u8
            });
        let mut memory = LinearMemory {
            def: Box::new(VMMemoryDefinition { base, length: 0 }),
            alloc,
            ty,
            reserved,
            guarded,
        };
        memory.set_length(min_bytes)?;
        Ok(memory)
    }

    /// Whether this process can reserve guarded memories at all (probed once by engines).
    pub fn guard_reservation_works() -> bool {
        region::alloc(GUARDED_RESERVATION as usize, region::Protection::NONE).is_ok()
    }

    fn set_length(&mut self, bytes: u64) -> Result<()> {
        let old = self.def.length;
        if bytes > old {
            // SAFETY: `[base + old, base + bytes)` lies inside our reservation (callers check
            // `bytes <= reserved`), and making it read+write exposes only zeroed anonymous pages.
            unsafe {
                let start = self.def.base.add(old as usize);
                region::protect(
                    start,
                    (bytes - old) as usize,
                    region::Protection::READ_WRITE,
                )
            }
            .map_err(|e| Error::Usage(format!("cannot commit memory: {e}")))?;
        }
        self.def.length = bytes;
        Ok(())
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` if it cannot.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let page_log2 = self.ty.page_size_log2 as u32;
        let old_pages = self.pages();
        let new_pages = old_pages.checked_add(delta)?;
        if self.ty.maximum.is_some_and(|m| new_pages > m) {
            return None;
        }
        let new_bytes = new_pages.checked_mul(1 << page_log2)?;
        if new_bytes > self.reserved {
            return None;
        }
        self.set_length(new_bytes).ok()?;
        Some(old_pages)
    }

    pub fn pages(&self) -> u64 {
        self.def.length >> self.ty.page_size_log2
    }

    pub fn ty(&self) -> MemoryType {
        MemoryType {
            minimum: self.pages(),
            ..self.ty
        }
    }

    /// Whether compiled code relies on guard pages (no explicit bounds checks).
    pub fn is_guarded(&self) -> bool {
        self.guarded
    }

    pub fn definition(&self) -> *mut VMMemoryDefinition {
        &*self.def as *const VMMemoryDefinition as *mut VMMemoryDefinition
    }

    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + length)` is committed read+write memory owned by `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.length as usize) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` guarantees no other Rust reference exists.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.length as usize) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        drop(self.alloc.take());
    }
}
