//! Phase 6, instantiate: where a store's [`ResourceLimiter`] is asked: the counts before an
//! instance, memory or table is added, the initial size of a new memory or table, and every
//! growth (from `memory.grow`/`table.grow` through `VMStore`, or from the host).

use super::StoreOpaque;
use crate::error::{Error, Result};
use crate::limiter::{reborrow, CountLimits, Limiter, ResourceLimiter};
use crate::types::{MemoryType, TableType};
use crate::vm::memory::LinearMemory;
use crate::vm::shared_memory::SharedLinearMemory;
use crate::vm::store::StoreMemory;
use crate::vm::table::TableStorage;

/// Fails unless the store may hold `instances` more instances, `memories` more memories and
/// `tables` more tables (every one it holds counts, the host's included).
pub(crate) fn check_counts(
    store: &StoreOpaque,
    instances: usize,
    memories: usize,
    tables: usize,
) -> Result<()> {
    let limits = store.count_limits;
    for (what, held, adding, most) in [
        (
            "instance",
            store.instances.len(),
            instances,
            limits.instances,
        ),
        ("memory", store.vm.memories.len(), memories, limits.memories),
        ("table", store.vm.tables.len(), tables, limits.tables),
    ] {
        let count = held.saturating_add(adding);
        if adding > 0 && count > most {
            return Err(Error::Resource(format!(
                "resource limit exceeded: {what} count too high at {count}"
            )));
        }
    }
    Ok(())
}

/// A new memory of type `ty` (shared if its type says so), once the limiter allowed its
/// initial size (a growth from 0).
pub(crate) fn new_memory(
    store: &StoreOpaque,
    limiter: Limiter<'_>,
    ty: MemoryType,
) -> Result<StoreMemory> {
    if let Some(limiter) = limiter {
        let page = 1u64 << ty.page_size_log2;
        let desired = ty.minimum.saturating_mul(page);
        let maximum = usize::try_from(LinearMemory::byte_limit(&ty)).ok();
        if !limiter.memory_growing(0, saturate(desired), maximum)? {
            return Err(Error::Resource(format!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum
            )));
        }
    }
    let config = store.engine.config();
    let (virtual_memory, reservation) = (config.virtual_memory, config.memory_reservation);
    Ok(if ty.shared {
        let shared = SharedLinearMemory::new(ty, virtual_memory, reservation)?;
        StoreMemory::Shared(std::sync::Arc::new(shared))
    } else {
        StoreMemory::Owned(LinearMemory::new(ty, virtual_memory, reservation)?)
    })
}

/// A new table of type `ty` filled with `init`, once the limiter allowed its initial size.
pub(crate) fn new_table(limiter: Limiter<'_>, ty: TableType, init: u64) -> Result<TableStorage> {
    if let Some(limiter) = limiter {
        let maximum = usize::try_from(TableStorage::element_limit(&ty)).ok();
        if !limiter.table_growing(0, saturate(ty.minimum), maximum)? {
            return Err(Error::Resource(format!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum
            )));
        }
    }
    TableStorage::new(ty, init)
}

/// Grows the store's memory `index` by `delta` pages if the limiter allows: the old size in
/// pages, `None` if refused or failed, or the limiter's error.
pub(crate) fn grow_memory(
    store: &mut StoreOpaque,
    mut limiter: Limiter<'_>,
    index: usize,
    delta: u64,
) -> Result<Option<u64>> {
    let memory = &mut store.vm.memories[index];
    if delta == 0 {
        return Ok(Some(memory.pages()));
    }
    let page = memory.page_size();
    let current = memory.byte_size();
    // Sizes beyond the address space are asked about as the largest page-aligned one.
    let desired = delta
        .saturating_mul(page)
        .saturating_add(current)
        .min(0u64.wrapping_sub(page));
    if let Some(limiter) = reborrow(&mut limiter) {
        let maximum = usize::try_from(memory.maximum_byte_size()).ok();
        if !limiter.memory_growing(saturate(current), saturate(desired), maximum)? {
            return Ok(None);
        }
    }
    match memory.grow(delta) {
        Ok(old) => Ok(Some(old)),
        Err(why) => {
            if let Some(limiter) = limiter {
                limiter.memory_grow_failed(Error::Resource(why))?;
            }
            Ok(None)
        }
    }
}

/// Grows the store's table `index` by `delta` elements set to `init` if the limiter allows:
/// the old size, `None` if refused or failed, or the limiter's error.
pub(crate) fn grow_table(
    store: &mut StoreOpaque,
    mut limiter: Limiter<'_>,
    index: usize,
    delta: u64,
    init: u64,
) -> Result<Option<u64>> {
    let table = &mut store.vm.tables[index];
    let current = table.len();
    if delta == 0 {
        return Ok(Some(current));
    }
    let Some(desired) = current.checked_add(delta) else {
        if let Some(limiter) = limiter {
            limiter.table_grow_failed(Error::Resource("table size overflows".into()))?;
        }
        return Ok(None);
    };
    if let Some(limiter) = reborrow(&mut limiter) {
        let maximum = usize::try_from(table.maximum()).ok();
        if !limiter.table_growing(saturate(current), saturate(desired), maximum)? {
            return Ok(None);
        }
    }
    match table.grow(delta, init) {
        Ok(old) => Ok(Some(old)),
        Err(why) => {
            if let Some(limiter) = limiter {
                limiter.table_grow_failed(Error::Resource(why))?;
            }
            Ok(None)
        }
    }
}

/// `n` as a `usize`, `usize::MAX` if it does not fit.
fn saturate(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl<T: 'static> super::Store<T> {
    /// Installs the store's resource limiter: `limiter` finds it in the host data whenever
    /// a memory or table is created or grows. Its [`instances`](ResourceLimiter::instances),
    /// [`tables`](ResourceLimiter::tables) and [`memories`](ResourceLimiter::memories) are
    /// read now. Replaces any earlier limiter.
    ///
    /// ```
    /// use runtime_engine::{Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder};
    ///
    /// struct Host {
    ///     limits: StoreLimits,
    /// }
    ///
    /// let engine = Engine::default();
    /// let limits = StoreLimitsBuilder::new().memory_size(1 << 20).instances(1).build();
    /// let mut store = Store::new(&engine, Host { limits });
    /// store.limiter(|host| &mut host.limits);
    /// // 16 pages (1 MiB) fit; 17 do not.
    /// let small = Module::new(&engine, "(module (memory 16))")?;
    /// let large = Module::new(&engine, "(module (memory 17))")?;
    /// let err = Instance::new(&mut store, &large, &[]).unwrap_err();
    /// assert_eq!(err.to_string(), "memory minimum size of 17 pages exceeds memory limits");
    /// Instance::new(&mut store, &small, &[])?;
    /// // One instance at most.
    /// let err = Instance::new(&mut store, &small, &[]).unwrap_err();
    /// assert_eq!(err.to_string(), "resource limit exceeded: instance count too high at 2");
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn limiter(
        &mut self,
        mut limiter: impl FnMut(&mut T) -> &mut (dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let counts = {
            let l = limiter(&mut self.inner.data);
            CountLimits {
                instances: l.instances(),
                tables: l.tables(),
                memories: l.memories(),
            }
        };
        self.inner.opaque.count_limits = counts;
        self.inner.limiter = Some(Box::new(limiter));
    }
}
