//! Phase 6, instantiate: [`SharedMemory`], a linear memory with `shared` in its type that
//! any number of stores, on any threads, import at the same time (threads proposal).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::types::MemoryType;
use crate::vm::shared_memory::{AtomicError, SharedLinearMemory};
use crate::{Trap, TrapCode};
use std::sync::Arc;
use std::time::Duration;

/// A shared linear memory: one allocation that every store importing it uses at once, from
/// any thread. Cheap to clone (clones are the same memory), `Send + Sync`. Growing it (from
/// the host or from wasm in any store) is visible to all and never moves its base.
///
/// Instances export a shared memory as [`Extern::SharedMemory`](crate::Extern), never as a
/// [`Memory`](crate::Memory); as other threads may write it at any time, the host reads and
/// writes it by copying ([`read`](SharedMemory::read), [`write`](SharedMemory::write)).
///
/// ```
/// use runtime_engine::{Engine, Instance, MemoryType, Module, SharedMemory, Store};
/// let engine = Engine::default();
/// let ty = MemoryType { shared: true, ..MemoryType::new(1, Some(2)) };
/// let memory = SharedMemory::new(&engine, ty)?;
/// let module = Module::new(&engine, r#"(module
///     (import "env" "memory" (memory 1 2 shared))
///     (func (export "bump") (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))))"#)?;
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
///         std::thread::spawn(move || -> runtime_engine::Result<()> {
///             let mut store = Store::new(&engine, ());
///             let instance = Instance::new(&mut store, &module, &[memory.into()])?;
///             let bump = instance.get_typed_func::<(), ()>(&mut store, "bump")?;
///             for _ in 0..1000 {
///                 bump.call(&mut store, ())?;
///             }
///             Ok(())
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap()?;
/// }
/// let mut count = [0; 4];
/// memory.read(0, &mut count)?;
/// assert_eq!(u32::from_le_bytes(count), 4000);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedMemory {
    pub(crate) inner: Arc<SharedLinearMemory>,
    pub(crate) engine: Engine,
}

/// What [`SharedMemory::atomic_wait32`] and [`SharedMemory::atomic_wait64`] ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitResult {
    /// A notify woke the waiter.
    Ok,
    /// The memory did not hold the expected value.
    Mismatch,
    /// The timeout passed first.
    TimedOut,
}

impl SharedMemory {
    /// A new shared memory of type `ty` for `engine`'s stores; an error unless `ty` is
    /// `shared` and has a maximum (as the threads proposal requires), or if the host cannot
    /// provide the memory.
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        if !ty.shared {
            return Err(Error::Usage(
                "a SharedMemory needs a memory type with `shared` set".into(),
            ));
        }
        if ty.maximum.is_none() {
            return Err(Error::Usage(
                "a shared memory must have a maximum size".into(),
            ));
        }
        let config = engine.config();
        let inner = SharedLinearMemory::new(ty, config.virtual_memory, config.memory_reservation)?;
        Ok(SharedMemory {
            inner: Arc::new(inner),
            engine: engine.clone(),
        })
    }

    /// The memory's type (with its current size as the minimum).
    pub fn ty(&self) -> MemoryType {
        self.inner.ty()
    }

    /// Current size in pages.
    pub fn size(&self) -> u64 {
        self.inner.pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self) -> usize {
        self.inner.byte_len() as usize
    }

    /// Grows by `delta` pages and returns the old size in pages; every store sees the new size.
    pub fn grow(&self, delta: u64) -> Result<u64> {
        self.inner
            .grow(delta)
            .map_err(|why| Error::Usage(format!("memory cannot grow by {delta} pages: {why}")))
    }

    /// Copies `buffer.len()` bytes at `offset` into `buffer`; an error if out of bounds.
    /// Other threads may write those bytes meanwhile (a data race of the guest's, as for a
    /// plain wasm load): the copy is then some mix of old and new bytes.
    pub fn read(&self, offset: usize, buffer: &mut [u8]) -> Result<()> {
        if self.inner.read(offset as u64, buffer) {
            Ok(())
        } else {
            Err(Error::Trap(Trap::new(TrapCode::MemoryOutOfBounds)))
        }
    }

    /// Copies `buffer` to `offset`; an error if out of bounds (then nothing is written).
    pub fn write(&self, offset: usize, buffer: &[u8]) -> Result<()> {
        if self.inner.write(offset as u64, buffer) {
            Ok(())
        } else {
            Err(Error::Trap(Trap::new(TrapCode::MemoryOutOfBounds)))
        }
    }

    /// `memory.atomic.notify` from the host: wakes up to `count` threads waiting at byte
    /// `addr` (oldest first) and returns how many it woke. An error (a trap) if `addr` is not
    /// 4-aligned or out of bounds.
    pub fn atomic_notify(&self, addr: u64, count: u32) -> Result<u32> {
        self.inner.atomic_notify(addr, count).map_err(atomic_trap)
    }

    /// `memory.atomic.wait32` from the host: blocks the calling thread while the 32-bit value
    /// at `addr` is `expected`, until notified or `timeout` passes (`None`: no limit).
    pub fn atomic_wait32(
        &self,
        addr: u64,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<WaitResult> {
        let result = self
            .inner
            .atomic_wait32(addr, expected, timeout_ns(timeout));
        result.map(wait_result).map_err(atomic_trap)
    }

    /// `memory.atomic.wait64` from the host (see [`SharedMemory::atomic_wait32`]).
    pub fn atomic_wait64(
        &self,
        addr: u64,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<WaitResult> {
        let result = self
            .inner
            .atomic_wait64(addr, expected, timeout_ns(timeout));
        result.map(wait_result).map_err(atomic_trap)
    }

    /// Whether `self` and `other` are the same memory.
    pub fn same(&self, other: &SharedMemory) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Equal when they are the same memory.
impl PartialEq for SharedMemory {
    fn eq(&self, other: &SharedMemory) -> bool {
        self.same(other)
    }
}

impl Eq for SharedMemory {}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ty", &self.ty())
            .finish_non_exhaustive()
    }
}

/// A timeout in the instruction's form: nanoseconds, negative for none (a longer one than
/// `i64` holds, some 292 years, counts as none).
fn timeout_ns(timeout: Option<Duration>) -> i64 {
    timeout.map_or(-1, |t| i64::try_from(t.as_nanos()).unwrap_or(-1))
}

fn wait_result(code: u32) -> WaitResult {
    match code {
        crate::vm::parking::WAIT_OK => WaitResult::Ok,
        crate::vm::parking::WAIT_NOT_EQUAL => WaitResult::Mismatch,
        _ => WaitResult::TimedOut,
    }
}

fn atomic_trap(e: AtomicError) -> Error {
    Error::Trap(Trap::new(match e {
        AtomicError::Unaligned => TrapCode::UnalignedAtomic,
        AtomicError::OutOfBounds => TrapCode::MemoryOutOfBounds,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> SharedMemory {
        let ty = MemoryType {
            shared: true,
            ..MemoryType::new(1, Some(3))
        };
        SharedMemory::new(&Engine::default(), ty).unwrap()
    }

    #[test]
    fn only_shared_types_with_a_maximum() {
        let engine = Engine::default();
        assert!(SharedMemory::new(&engine, MemoryType::new(1, Some(2))).is_err());
        let no_max = MemoryType {
            shared: true,
            ..MemoryType::new(1, None)
        };
        assert!(SharedMemory::new(&engine, no_max).is_err());
    }

    #[test]
    fn growth_is_seen_by_every_clone_and_keeps_the_contents() {
        let a = memory();
        let b = a.clone();
        a.write(65535, &[7]).unwrap();
        assert!(b.write(65536, &[1]).is_err());
        assert_eq!(b.grow(1).unwrap(), 1);
        assert_eq!((a.size(), a.data_size()), (2, 2 << 16));
        let mut byte = [0];
        a.read(65535, &mut byte).unwrap();
        assert_eq!(byte, [7]);
        a.write(65536, &[1]).unwrap();
        assert!(a.grow(2).is_err(), "beyond the maximum");
        assert!(a.same(&b) && !a.same(&memory()));
    }

    #[test]
    fn host_waits_check_alignment_bounds_and_value() {
        let m = memory();
        assert!(m.atomic_wait32(2, 0, None).is_err());
        assert!(m.atomic_wait64(65536, 0, None).is_err());
        assert!(m.atomic_notify(65534, 1).is_err());
        assert_eq!(m.atomic_wait32(0, 1, None).unwrap(), WaitResult::Mismatch);
        let short = Some(Duration::from_millis(1));
        assert_eq!(m.atomic_wait64(8, 0, short).unwrap(), WaitResult::TimedOut);
        assert_eq!(m.atomic_notify(0, 1).unwrap(), 0);
    }

    #[test]
    fn a_host_notify_wakes_a_host_waiter() {
        let m = memory();
        let waiter = {
            let m = m.clone();
            std::thread::spawn(move || m.atomic_wait32(16, 0, None).unwrap())
        };
        // Notify until the waiter has queued and been woken.
        while m.atomic_notify(16, 1).unwrap() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(waiter.join().unwrap(), WaitResult::Ok);
    }
}
