//! Phase 6, vm: linear memories. A 32-bit memory with 64 KiB pages reserves its whole index
//! space plus a guard region, so compiled accesses need no bounds check; other memories (or a
//! failed reservation) reserve what they may grow to, within `Config::memory_reservation`,
//! and are bounds-checked by compiled code. The base never moves, so a memory grows only
//! within its reservation. A store holds each of its memories as a [`StoreMemory`]: its own,
//! or a shared one (`shared_memory.rs`) that other stores use at the same time.

use crate::error::{Error, Result};
use crate::types::MemoryType;
use crate::vm::vmcontext::VMMemoryDefinition;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes reserved for a guard-page memory: 4 GiB of index space, 4 GiB for static offsets,
/// and a page for the widest access.
pub const GUARDED_RESERVATION: u64 = (8 << 30) + (64 << 10);
/// The largest memory this runtime creates, in bytes: x86-64's 47-bit user address space
/// (128 TiB). A memory whose minimum is larger fails instantiation.
pub const MAX_MEMORY_BYTES: u64 = 1 << 47;

pub struct LinearMemory {
    def: Box<VMMemoryDefinition>,
    alloc: Option<region::Allocation>,
    ty: MemoryType,
    reserved: u64,
    guarded: bool,
}

impl LinearMemory {
    /// A memory of type `ty` at its minimum size. Guard pages are used where `virtual_memory`
    /// allows; a bounds-checked memory reserves up to `reservation` bytes to grow into (never
    /// less than its minimum; less when the host refuses that much address space).
    pub fn new(ty: MemoryType, virtual_memory: bool, reservation: u64) -> Result<LinearMemory> {
        let page = 1u64 << ty.page_size_log2;
        let index_space: u64 = if ty.memory64 { u64::MAX } else { 1 << 32 };
        let max_bytes = ty
            .maximum
            .map_or(index_space, |m| m.saturating_mul(page))
            .min(index_space);
        let min_bytes = Self::minimum_bytes(&ty)?;
        let (alloc, reserved, guarded) = if virtual_memory && crate::vmoffsets::can_be_guarded(&ty)
        {
            // Compiled code relies on the guard region: failing to reserve it is an error.
            let alloc = region::alloc(GUARDED_RESERVATION as usize, region::Protection::NONE)
                .map_err(|e| Error::Usage(format!("cannot reserve guarded memory: {e}")))?;
            (Some(alloc), max_bytes.min(1 << 32), true)
        } else {
            let wanted = max_bytes.min(reservation).max(min_bytes);
            let (alloc, reserved) = Self::reserve(wanted, min_bytes)?;
            (alloc, reserved, false)
        };
        let base = alloc
            .as_ref()
            .map_or(std::ptr::NonNull::<u8>::dangling().as_ptr(), |a| {
                a.as_ptr::<u8>() as *mut u8
            });
        let mut memory = LinearMemory {
            def: Box::new(VMMemoryDefinition {
                base,
                length: AtomicU64::new(0),
            }),
            alloc,
            ty,
            reserved,
            guarded,
        };
        memory.set_length(min_bytes).map_err(|e| {
            Error::Usage(format!(
                "out of memory: cannot commit the minimum of {min_bytes} bytes of a memory: {e}"
            ))
        })?;
        Ok(memory)
    }

    /// The byte size of `ty`'s minimum, checked against the index type's address space (the
    /// spec's "memory size overflow": a 64-bit memory of 2^48 64 KiB pages is valid but has
    /// 2^64 bytes) and [`MAX_MEMORY_BYTES`].
    fn minimum_bytes(ty: &MemoryType) -> Result<u64> {
        let page = 1u64 << ty.page_size_log2;
        let bits = if ty.memory64 { 64 } else { 32 };
        let index_space = if ty.memory64 {
            u128::from(u64::MAX) + 1
        } else {
            1 << 32
        };
        let bytes = u128::from(ty.minimum) * u128::from(page);
        if bytes > index_space || (ty.memory64 && bytes == index_space) {
            return Err(Error::Usage(format!(
                "memory size overflow: a minimum of {} pages of {page} bytes ({bytes} bytes) \
                 exceeds the {bits}-bit address space",
                ty.minimum
            )));
        }
        let bytes = bytes as u64;
        if bytes > MAX_MEMORY_BYTES {
            return Err(Error::Usage(format!(
                "out of memory: a minimum of {} pages of {page} bytes ({bytes} bytes) exceeds \
                 this runtime's limit of {MAX_MEMORY_BYTES} bytes per memory",
                ty.minimum
            )));
        }
        Ok(bytes)
    }

    /// Reserves `wanted` bytes of address space, or as much as the host grants down to
    /// `needed` (halving each time); `None` for an empty reservation.
    fn reserve(wanted: u64, needed: u64) -> Result<(Option<region::Allocation>, u64)> {
        let mut size = wanted;
        loop {
            if size == 0 {
                return Ok((None, 0));
            }
            match region::alloc(size as usize, region::Protection::NONE) {
                Ok(alloc) => return Ok((Some(alloc), size)),
                Err(_) if size / 2 >= needed => size /= 2,
                Err(_) if size > needed => size = needed,
                Err(e) => {
                    return Err(Error::Usage(format!(
                        "out of memory: cannot reserve {size} bytes of address space for a \
                         memory: {e}"
                    )))
                }
            }
        }
    }

    /// Whether this process can reserve guarded memories at all (probed once by engines).
    pub fn guard_reservation_works() -> bool {
        region::alloc(GUARDED_RESERVATION as usize, region::Protection::NONE).is_ok()
    }

    /// Commits `[length, bytes)` read+write (the host may refuse: overcommit limits), then
    /// publishes the new length. The pages are committed before the length says so, so a
    /// thread that reads the new length (a shared memory) finds them accessible.
    fn set_length(&mut self, bytes: u64) -> std::result::Result<(), region::Error> {
        let old = self.byte_len();
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
            }?;
        }
        self.def.length.store(bytes, Ordering::SeqCst);
        Ok(())
    }

    /// The most bytes a memory of type `ty` can ever hold here: its maximum (or its whole
    /// index space), capped by [`MAX_MEMORY_BYTES`]. What a resource limiter is told.
    pub fn byte_limit(ty: &MemoryType) -> u64 {
        let index_space: u64 = if ty.memory64 { u64::MAX } else { 1 << 32 };
        let page = 1u64 << ty.page_size_log2;
        (ty.maximum.map_or(index_space, |m| m.saturating_mul(page)))
            .min(index_space)
            .min(MAX_MEMORY_BYTES)
    }

    /// Grows by `delta` pages; returns the old size in pages, or why it cannot.
    pub fn grow(&mut self, delta: u64) -> std::result::Result<u64, String> {
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
                    "memory larger than its reservation ({} bytes)",
                    self.reserved
                )
            })?;
        self.set_length(new_bytes).map_err(|e| e.to_string())?;
        Ok(old_pages)
    }

    /// The most bytes this memory can grow to (its reservation).
    pub fn maximum_byte_size(&self) -> u64 {
        self.reserved
    }

    pub fn pages(&self) -> u64 {
        self.byte_len() >> self.ty.page_size_log2
    }

    /// The current size in bytes.
    pub fn byte_len(&self) -> u64 {
        self.def.length.load(Ordering::SeqCst)
    }

    /// The base address (never changes).
    pub fn base(&self) -> *mut u8 {
        self.def.base
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
        unsafe { std::slice::from_raw_parts(self.def.base, self.byte_len() as usize) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` guarantees no other Rust reference exists.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.byte_len() as usize) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        drop(self.alloc.take());
    }
}
