//! Phase 6, vm: the part of a store that compiled code and libcalls reach. The API's store
//! owns one [`StoreState`] (at a stable address: the store is boxed) and every vmctx of the
//! store points to it; libcalls find it there and never see the API's types.

use super::exceptions::Exception;
use super::gc::GcHeap;
use super::memory::LinearMemory;
use super::table::TableStorage;
use super::vmcontext::VMRuntimeLimits;
use crate::info::ModuleInfo;
use crate::registry::TypeRegistry;
use crate::vmoffsets::{VMCTX_INSTANCE_INDEX, VMCTX_STORE};
use std::sync::Arc;

/// A store's memories, tables, GC heap, exceptions and runtime limits, and what each of its
/// instances' libcalls need.
pub struct StoreState {
    /// The limits compiled code checks (the vmctx points to them).
    pub limits: Box<VMRuntimeLimits>,
    /// Every memory of the store, by store index.
    pub memories: Vec<LinearMemory>,
    /// Every table of the store, by store index.
    pub tables: Vec<TableStorage>,
    /// Every instance of the store, by instance index.
    pub instances: Vec<InstanceState>,
    /// Every exception thrown in this store (exnrefs point into it; freed with the store).
    pub exceptions: Vec<Exception>,
    /// Structs and arrays (GC proposal); freed with the store, never collected.
    pub gc: GcHeap,
    /// The engine's canonical types (for subtype checks).
    pub types: Arc<TypeRegistry>,
}

/// What the libcalls of one instance need: its module and where its entities live.
pub struct InstanceState {
    /// The instance's module.
    pub info: Arc<ModuleInfo>,
    /// Store index of each of its memories, in its memory index space.
    pub memories: Vec<u32>,
    /// Store index of each of its tables.
    pub tables: Vec<u32>,
    /// Store index of each of its tags.
    pub tags: Vec<u32>,
    /// Element segments as raw references; emptied by `elem.drop`.
    pub elements: Vec<Vec<u64>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

impl StoreState {
    /// An empty state for a store of an engine with canonical types `types`.
    pub fn new(types: Arc<TypeRegistry>) -> StoreState {
        StoreState {
            limits: Box::default(),
            memories: Vec::new(),
            tables: Vec::new(),
            instances: Vec::new(),
            exceptions: Vec::new(),
            gc: GcHeap::default(),
            types,
        }
    }

    /// The store memory behind memory `mem` of instance `instance`.
    pub fn memory_index(&self, instance: usize, mem: u32) -> usize {
        self.instances[instance].memories[mem as usize] as usize
    }

    /// The store table behind table `table` of instance `instance`.
    pub fn table_index(&self, instance: usize, table: u32) -> usize {
        self.instances[instance].tables[table as usize] as usize
    }
}

// SAFETY: the raw pointers the state holds (memory and table bases, GC objects, exceptions)
// point into allocations it owns, and nothing in it is tied to a thread: the stack limit is
// recomputed for the current thread on every outermost entry into wasm. A store, and so its
// state, is only used through `&mut`, so moving it to another thread moves everything it
// refers to with it.
unsafe impl Send for StoreState {}

/// The store state and instance index behind a vmctx (the header written at instantiation).
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance whose store is not otherwise borrowed for
/// `'a`: compiled code passes its own vmctx to libcalls, and its store is only reachable
/// through that vmctx until the libcall returns.
pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> (&'a mut StoreState, usize) {
    // SAFETY: per the contract, the header fields hold the state pointer and instance index.
    unsafe {
        let store = *(vmctx.add(VMCTX_STORE as usize) as *const *mut StoreState);
        let index = *(vmctx.add(VMCTX_INSTANCE_INDEX as usize) as *const u64) as usize;
        (&mut *store, index)
    }
}
