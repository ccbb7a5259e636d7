//! Phase 6, vm: shared linear memories (threads proposal). One reservation that several
//! stores, on several threads, use at the same time: every store's vmctx points to the same
//! `VMMemoryDefinition`. The base never moves; growing commits the new pages first and then
//! publishes the new length with a sequentially consistent store, under a mutex that
//! serialises growers. Compiled code reads a shared memory's length with atomic loads
//! (`translate::env::FuncEnv::heap_bound`), the host with `byte_len`. Memories never shrink,
//! so a range checked against any length once read stays valid.
//!
//! Host access copies bytes in and out (`read`, `write`) through raw pointers: no Rust
//! reference to bytes other threads may change at the same time is ever made.

use crate::error::Result;
use crate::types::MemoryType;
use crate::vm::memory::LinearMemory;
use crate::vm::parking;
use crate::vm::vmcontext::VMMemoryDefinition;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A linear memory several stores share.
pub struct SharedLinearMemory {
    /// The memory; locked only to grow it (the one change to its state).
    memory: Mutex<LinearMemory>,
    /// `memory`'s definition (boxed there: a stable address).
    def: *const VMMemoryDefinition,
    base: *mut u8,
    /// The type it was created with.
    ty: MemoryType,
    guarded: bool,
}

// SAFETY: the raw pointers point into the memory's own reservation and its boxed definition,
// both owned by `memory` and freed only when this value drops. Every access through them
// from any thread is either an atomic (the length) or a copy of plain bytes whose races are
// the guest's own data races, which the wasm memory model allows (no host invariant depends
// on those bytes). The only mutation of the memory's state, growth, happens under the mutex.
unsafe impl Send for SharedLinearMemory {}
// SAFETY: as for `Send`: shared access needs no more than the above.
unsafe impl Sync for SharedLinearMemory {}

/// Why a host-side atomic operation on a shared memory failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AtomicError {
    /// The address is not a multiple of the access size.
    Unaligned,
    /// The access lies (partly) outside the memory.
    OutOfBounds,
}

impl SharedLinearMemory {
    /// A shared memory of type `ty` at its minimum size (see [`LinearMemory::new`]).
    pub fn new(ty: MemoryType, virtual_memory: bool, reservation: u64) -> Result<Self> {
        let memory = LinearMemory::new(ty, virtual_memory, reservation)?;
        Ok(SharedLinearMemory {
            def: memory.definition(),
            base: memory.base(),
            guarded: memory.is_guarded(),
            ty,
            memory: Mutex::new(memory),
        })
    }

    /// The most bytes this memory can grow to (its reservation).
    pub fn maximum_byte_size(&self) -> u64 {
        self.memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .maximum_byte_size()
    }

    /// Grows by `delta` pages; returns the old size in pages, or why it cannot.
    pub fn grow(&self, delta: u64) -> std::result::Result<u64, String> {
        // Growth either completes or leaves the memory as it was, so a poisoned lock still
        // guards a consistent memory.
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        memory.grow(delta)
    }

    /// The current size in bytes.
    pub fn byte_len(&self) -> u64 {
        // SAFETY: `def` points to the definition `memory` owns, alive as long as `self`.
        let length: &AtomicU64 = unsafe { &(*self.def).length };
        length.load(Ordering::SeqCst)
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        self.byte_len() >> self.ty.page_size_log2
    }

    /// The memory's type with its current size as the minimum.
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

    /// The definition every importing store's vmctx points to.
    pub fn definition(&self) -> *mut VMMemoryDefinition {
        self.def as *mut VMMemoryDefinition
    }

    /// The base address (never changes).
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// `[offset, offset + len)` as a native address, if it lies in the memory now.
    fn checked(&self, offset: u64, len: u64) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        // SAFETY: `offset + len <= byte_len <= reservation`, so the address lies inside the
        // reservation that `base` starts.
        (end <= self.byte_len()).then(|| unsafe { self.base.add(offset as usize) })
    }

    /// Copies `buffer.len()` bytes at `offset` into `buffer`; false if out of bounds.
    pub fn read(&self, offset: u64, buffer: &mut [u8]) -> bool {
        let Some(src) = self.checked(offset, buffer.len() as u64) else {
            return false;
        };
        // SAFETY: `src..src + len` is committed (checked against a length once read; memories
        // never shrink) and cannot overlap `buffer`, a host allocation. Other threads may
        // write these bytes meanwhile: the copy then sees some mix of old and new bytes, which
        // is what the wasm memory model gives a racing reader, and `u8` has no invalid values.
        unsafe { std::ptr::copy_nonoverlapping(src, buffer.as_mut_ptr(), buffer.len()) };
        true
    }

    /// Copies `bytes` to `offset`; false (nothing written) if out of bounds.
    pub fn write(&self, offset: u64, bytes: &[u8]) -> bool {
        let Some(dst) = self.checked(offset, bytes.len() as u64) else {
            return false;
        };
        // SAFETY: as in `read`, with the roles swapped; racing accesses by other threads are
        // the guest's data races and never break a host invariant.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
        true
    }

    /// The native address of an aligned access of `size` bytes at `offset`.
    fn atomic_cell(&self, offset: u64, size: u64) -> std::result::Result<*mut u8, AtomicError> {
        if !offset.is_multiple_of(size) {
            return Err(AtomicError::Unaligned);
        }
        self.checked(offset, size).ok_or(AtomicError::OutOfBounds)
    }

    /// `memory.atomic.notify` from the host: wakes up to `count` waiters at `offset`.
    pub fn atomic_notify(&self, offset: u64, count: u32) -> std::result::Result<u32, AtomicError> {
        let cell = self.atomic_cell(offset, 4)?;
        Ok(parking::notify(cell as usize, count))
    }

    /// `memory.atomic.wait32` from the host (see [`parking::wait`] for the result).
    pub fn atomic_wait32(
        &self,
        offset: u64,
        expected: u32,
        timeout_ns: i64,
    ) -> std::result::Result<u32, AtomicError> {
        let cell = self.atomic_cell(offset, 4)?;
        // SAFETY: `cell` is 4-aligned, committed and lives as long as `self`.
        let matches = || unsafe { load32(cell) } == expected;
        Ok(parking::wait(cell as usize, matches, timeout_ns))
    }

    /// `memory.atomic.wait64` from the host (see [`parking::wait`] for the result).
    pub fn atomic_wait64(
        &self,
        offset: u64,
        expected: u64,
        timeout_ns: i64,
    ) -> std::result::Result<u32, AtomicError> {
        let cell = self.atomic_cell(offset, 8)?;
        // SAFETY: `cell` is 8-aligned, committed and lives as long as `self`.
        let matches = || unsafe { load64(cell) } == expected;
        Ok(parking::wait(cell as usize, matches, timeout_ns))
    }
}

/// A sequentially consistent 32-bit load.
///
/// # Safety
/// `cell` must be 4-aligned and point to committed memory that stays alive during the call.
pub unsafe fn load32(cell: *mut u8) -> u32 {
    // SAFETY: per the contract; every other access to the cell that races with this one is
    // an atomic instruction of compiled code or of this module, or a plain guest access
    // (a data race the wasm memory model allows).
    unsafe { AtomicU32::from_ptr(cell as *mut u32) }.load(Ordering::SeqCst)
}

/// A sequentially consistent 64-bit load.
///
/// # Safety
/// `cell` must be 8-aligned and point to committed memory that stays alive during the call.
pub unsafe fn load64(cell: *mut u8) -> u64 {
    // SAFETY: as in `load32`.
    unsafe { AtomicU64::from_ptr(cell as *mut u64) }.load(Ordering::SeqCst)
}
