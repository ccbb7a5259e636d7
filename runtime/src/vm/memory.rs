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
/// Most bytes any memory may hold here (a bounds-checked memory reserves at most this).
const MAX_BYTES: u64 = 4 << 30;

pub struct LinearMemory {
    def: Box<VMMemoryDefinition>,
    alloc: Option<region::Allocation>,
    ty: MemoryType,
    reserved: u64,
    guarded: bool,
}

impl LinearMemory {
    pub fn new(ty: MemoryType, virtual_memory: bool) -> Result<LinearMemory> {
        let min_bytes = ty.minimum.saturating_mul(1 << ty.page_size_log2);
        if min_bytes > MAX_BYTES {
            return Err(Error::Usage(format!(
                "memory of {} pages is larger than this runtime supports",
                ty.minimum
            )));
        }
        // At least the minimum, whatever the type claims as its maximum.
        let reserved = Self::byte_limit(&ty).max(min_bytes);
        let (alloc, guarded) = if virtual_memory && Self::can_be_guarded(&ty) {
            // Compiled code relies on the guard region: failing to reserve it is an error.
            let alloc = region::alloc(GUARDED_RESERVATION as usize, region::Protection::NONE)
                .map_err(|e| Error::Usage(format!("cannot reserve guarded memory: {e}")))?;
            (Some(alloc), true)
        } else {
            let alloc = if reserved == 0 {
                None
            } else {
                Some(
                    region::alloc(reserved as usize, region::Protection::NONE).map_err(|e| {
                        Error::Usage(format!("cannot reserve {reserved} bytes of memory: {e}"))
                    })?,
                )
            };
            (alloc, false)
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

    /// Whether compiled code may rely on guard pages for this memory type.
    pub fn can_be_guarded(ty: &MemoryType) -> bool {
        !ty.memory64 && ty.page_size_log2 == 16
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

    /// The most bytes a memory of type `ty` can ever hold here: its maximum (or its whole
    /// index space), capped by what this runtime reserves for a memory. Its reservation.
    pub fn byte_limit(ty: &MemoryType) -> u64 {
        let index_space: u64 = if ty.memory64 { u64::MAX } else { 1 << 32 };
        let page = 1u64 << ty.page_size_log2;
        (ty.maximum.map_or(index_space, |m| m.saturating_mul(page)))
            .min(index_space)
            .min(MAX_BYTES)
    }

    /// Grows by `delta` pages; returns the old size in pages, or why it cannot.
    pub fn grow(&mut self, delta: u64) -> Result<u64, String> {
        let page_log2 = self.ty.page_size_log2 as u32;
        let old_pages = self.pages();
        let new_pages = old_pages
            .checked_add(delta)
            .ok_or("memory size overflows")?;
        if self.ty.maximum.is_some_and(|m| new_pages > m) {
            return Err("memory maximum size exceeded".into());
        }
        let new_bytes = new_pages
            .checked_mul(1 << page_log2)
            .filter(|b| *b <= self.reserved)
            .ok_or_else(|| {
                format!(
                    "memory larger than this runtime supports ({} bytes)",
                    self.reserved
                )
            })?;
        self.set_length(new_bytes).map_err(|e| e.to_string())?;
        Ok(old_pages)
    }

    /// Current size in bytes.
    pub fn byte_size(&self) -> u64 {
        self.def.length
    }

    /// The most bytes this memory can grow to ([`LinearMemory::byte_limit`] of its type).
    pub fn maximum_byte_size(&self) -> u64 {
        self.reserved
    }

    /// Bytes per page.
    pub fn page_size(&self) -> u64 {
        1 << self.ty.page_size_log2
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
