//! Phase 6, instantiate: where a store's [`ResourceLimiter`] is asked: the counts before an
//! instance, memory or table is added, the initial size of a new memory or table, and every
//! growth (from `memory.grow`/`table.grow` through `VMStore`, or from the host).

use super::ResourceLimiter;
use crate::error::{Error, Result};
use crate::store::StoreOpaque;
use crate::types::{MemoryType, TableType};
use crate::vm::memory::{LinearMemory, StoreMemory};
use crate::vm::shared_memory::SharedLinearMemory;
use crate::vm::table::TableStorage;

/// The store's limiter, if it has one.
pub(crate) type Limiter<'a> = Option<&'a mut dyn ResourceLimiter>;

/// The limiter borrowed again, for one more use.
pub(crate) fn reborrow<'a>(limiter: &'a mut Limiter<'_>) -> Limiter<'a> {
    match limiter {
        Some(limiter) => Some(&mut **limiter),
        None => None,
    }
}

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
        ("memory", store.memories.len(), memories, limits.memories),
        ("table", store.tables.len(), tables, limits.tables),
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
    let memory = &mut store.memories[index];
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
    let table = &mut store.tables[index];
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
