//! Phase 6, vm: the part of a store that compiled code and libcalls reach. The API's store
//! owns one [`StoreState`] (at a stable address: the store is boxed) and every vmctx of the
//! store points to it; libcalls find it there and never see the API's types.

use super::code::CodePtr;
use super::continuation::Continuations;
use super::gc::GcHeap;
use super::memory::LinearMemory;
use super::memory_image::MemoryImage;
use super::shared_memory::SharedLinearMemory;
use super::table::TableStorage;
use super::vmcontext::{GlobalPtr, VMGlobal, VMMemoryDefinition, VMRuntimeLimits};
use crate::info::ModuleInfo;
use crate::registry::TypeRegistry;
use crate::types::MemoryType;
use crate::vmoffsets::{VMCTX_INSTANCE_INDEX, VMCTX_STORE};
use std::ptr::NonNull;
use std::sync::Arc;

/// A store's memories, tables, GC heap, exceptions and runtime limits, and what each of its
/// instances' libcalls need.
pub struct StoreState {
    /// The id of the store (the API's) that owns this state.
    pub id: u64,
    /// The limits compiled code checks (the vmctx points to them).
    pub limits: Box<VMRuntimeLimits>,
    /// Every memory of the store, by store index.
    pub memories: Vec<StoreMemory>,
    /// Every table of the store, by store index.
    pub tables: Vec<TableStorage>,
    /// Every instance of the store, by instance index.
    pub instances: Vec<InstanceState>,
    /// Structs, arrays and exceptions, with the host's handles to them; collected.
    pub gc: GcHeap,
    /// Every global's storage, by store index (vmctxs point to them; the vector grows, the
    /// storage never moves).
    pub globals: Vec<GlobalSlot>,
    /// Store indices of the globals of a GC-reference type (roots for the collector).
    pub gc_globals: Vec<u32>,
    /// The engine's canonical types (for subtype checks).
    pub types: Arc<TypeRegistry>,
    /// Continuations (stack switching): their stacks and the chain running now.
    pub continuations: Continuations,
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
    /// For each type of its module that is a continuation type, how `cont.new` starts one.
    pub cont_entries: Vec<Option<ContEntry>>,
}

/// How a continuation of one continuation type starts: the engine's array-call trampoline of
/// its function type, and that type's parameter and result counts.
#[derive(Clone, Copy, Debug)]
pub struct ContEntry {
    pub trampoline: CodePtr,
    pub params: u32,
    pub results: u32,
}

impl StoreState {
    /// An empty state for store `id` of an engine with canonical types `types`, whose GC
    /// heap may take `gc_heap_limit` bytes (`gc_zeal`: collect before every n-th allocation)
    /// and whose continuations get stacks of `stack_size` bytes, `max_wasm_stack` of them for
    /// wasm.
    pub fn new(
        id: u64,
        types: Arc<TypeRegistry>,
        gc_heap_limit: usize,
        gc_zeal: Option<u32>,
        stack_size: usize,
        max_wasm_stack: usize,
    ) -> StoreState {
        let gc = GcHeap::new(gc_heap_limit, gc_zeal);
        // Both are boxed: compiled code's pointer to the bump pointer survives moves.
        let limits = Box::new(VMRuntimeLimits {
            gc_bump: gc.bump_ptr() as usize,
            ..VMRuntimeLimits::default()
        });
        StoreState {
            id,
            limits,
            memories: Vec::new(),
            tables: Vec::new(),
            instances: Vec::new(),
            gc,
            globals: Vec::new(),
            gc_globals: Vec::new(),
            types,
            continuations: Continuations::new(stack_size, max_wasm_stack),
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

    /// Adds a global of the host holding `bits`, in storage of its own (a root of the
    /// collector if `gc_ref`); its store index.
    pub fn push_global(&mut self, bits: u128, gc_ref: bool) -> u32 {
        let owned = Box::into_raw(Box::new(VMGlobal { bits }));
        let ptr = NonNull::new(owned).expect("a box is not null");
        self.push_slot(GlobalSlot { ptr, owned: true }, gc_ref)
    }

    /// Adds a global an instance defines, stored in its vmctx at `storage` (zeroed); its
    /// store index.
    pub fn push_instance_global(&mut self, storage: GlobalPtr, gc_ref: bool) -> u32 {
        let ptr = NonNull::new(storage.as_ptr()).expect("a vmctx is not null");
        self.push_slot(GlobalSlot { ptr, owned: false }, gc_ref)
    }

    fn push_slot(&mut self, slot: GlobalSlot, gc_ref: bool) -> u32 {
        let index = self.globals.len() as u32;
        self.globals.push(slot);
        if gc_ref {
            self.gc_globals.push(index);
        }
        index
    }
}

/// Where a global's value lives: a box of its own (a host's global), or a slot in the vmctx
/// of the instance that defines it (which the store keeps as long as its globals).
pub struct GlobalSlot {
    ptr: NonNull<VMGlobal>,
    /// `ptr` came from `Box::into_raw` and is freed with the slot.
    owned: bool,
}

// SAFETY: the slot owns its box, or points into a vmctx of the same store; it travels with
// the store.
unsafe impl Send for GlobalSlot {}

impl GlobalSlot {
    /// The value's bits.
    pub fn bits(&self) -> u128 {
        // SAFETY: `ptr` is live storage (see the type); wasm writes it only while it runs,
        // and no wasm runs during this read on the store's thread.
        unsafe { (*self.ptr.as_ptr()).bits }
    }

    /// Sets the value's bits.
    pub fn set_bits(&mut self, bits: u128) {
        // SAFETY: as in `bits`.
        unsafe { (*self.ptr.as_ptr()).bits = bits }
    }

    /// The storage, for a vmctx to point to.
    pub fn as_ptr(&self) -> *const VMGlobal {
        self.ptr.as_ptr()
    }
}

impl Drop for GlobalSlot {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: made by `Box::into_raw` in `push_global`, freed once, here.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        }
    }
}

/// A memory as a store holds it: its own, or a shared memory other stores (on other threads)
/// use at the same time.
pub enum StoreMemory {
    /// A memory only this store reaches.
    Owned(LinearMemory),
    /// A shared memory (threads proposal); its bytes may change under any host reference, so
    /// it offers no slices, only copies (`read`, `write`) and raw ranges for libcalls.
    Shared(Arc<SharedLinearMemory>),
}

impl StoreMemory {
    /// Grows by `delta` pages; returns the old size in pages, or why it cannot.
    pub fn grow(&mut self, delta: u64) -> std::result::Result<u64, String> {
        match self {
            StoreMemory::Owned(m) => m.grow(delta),
            StoreMemory::Shared(m) => m.grow(delta),
        }
    }

    /// The current size in bytes.
    pub fn byte_size(&self) -> u64 {
        self.raw().1
    }

    /// The most bytes this memory can grow to.
    pub fn maximum_byte_size(&self) -> u64 {
        match self {
            StoreMemory::Owned(m) => m.maximum_byte_size(),
            StoreMemory::Shared(m) => m.maximum_byte_size(),
        }
    }

    /// Bytes per page.
    pub fn page_size(&self) -> u64 {
        1 << self.ty().page_size_log2
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        match self {
            StoreMemory::Owned(m) => m.pages(),
            StoreMemory::Shared(m) => m.pages(),
        }
    }

    /// The memory's type with its current size as the minimum.
    pub fn ty(&self) -> MemoryType {
        match self {
            StoreMemory::Owned(m) => m.ty(),
            StoreMemory::Shared(m) => m.ty(),
        }
    }

    /// Whether compiled code relies on guard pages (no explicit bounds checks).
    pub fn is_guarded(&self) -> bool {
        match self {
            StoreMemory::Owned(m) => m.is_guarded(),
            StoreMemory::Shared(m) => m.is_guarded(),
        }
    }

    /// What compiled code reads: the base and the length.
    pub fn definition(&self) -> *mut VMMemoryDefinition {
        match self {
            StoreMemory::Owned(m) => m.definition(),
            StoreMemory::Shared(m) => m.definition(),
        }
    }

    /// The shared memory, if this is one.
    pub fn shared(&self) -> Option<&Arc<SharedLinearMemory>> {
        match self {
            StoreMemory::Owned(_) => None,
            StoreMemory::Shared(m) => Some(m),
        }
    }

    /// The bytes of a memory of this store.
    ///
    /// # Panics
    ///
    /// For a shared memory (public `Memory` handles never name one; see `shared`).
    pub fn data(&self) -> &[u8] {
        match self {
            StoreMemory::Owned(m) => m.data(),
            StoreMemory::Shared(_) => panic!("a shared memory has no byte slice"),
        }
    }

    /// The bytes of a memory of this store, mutably.
    ///
    /// # Panics
    ///
    /// For a shared memory, as [`StoreMemory::data`].
    pub fn data_mut(&mut self) -> &mut [u8] {
        match self {
            StoreMemory::Owned(m) => m.data_mut(),
            StoreMemory::Shared(_) => panic!("a shared memory has no byte slice"),
        }
    }

    /// The base and the current length in bytes. `[base, base + length)` stays committed
    /// read+write while the memory lives (memories never shrink or move); for a shared memory
    /// other threads may access it at the same time.
    pub fn raw(&self) -> (*mut u8, u64) {
        match self {
            StoreMemory::Owned(m) => (m.base(), m.byte_len()),
            StoreMemory::Shared(m) => (m.base(), m.byte_len()),
        }
    }

    /// Maps `image` over this memory, a fresh one (see [`MemoryImage::map_into`]); false
    /// for a shared memory or when the host refuses (the caller copies instead).
    pub fn map_image(&mut self, image: &MemoryImage) -> std::result::Result<bool, String> {
        match self {
            StoreMemory::Owned(m) => image.map_into(m),
            StoreMemory::Shared(_) => Ok(false),
        }
    }

    /// Copies `bytes` to `offset`; false (nothing written) if that is out of bounds.
    pub fn write(&mut self, offset: u64, bytes: &[u8]) -> bool {
        match self {
            StoreMemory::Owned(m) => {
                let data = m.data_mut();
                let end = offset.checked_add(bytes.len() as u64);
                match end.filter(|e| *e <= data.len() as u64) {
                    Some(end) => {
                        data[offset as usize..end as usize].copy_from_slice(bytes);
                        true
                    }
                    None => false,
                }
            }
            StoreMemory::Shared(m) => m.write(offset, bytes),
        }
    }
}

// SAFETY: the raw pointers the state holds (memory and table bases, GC objects, exceptions,
// continuations)
// point into allocations it owns, and nothing in it is tied to a thread: the stack limit is
// recomputed for the current thread on every outermost entry into wasm. A store, and so its
// state, is only used through `&mut`, so moving it to another thread moves everything it
// refers to with it, except shared memories, which it holds through an `Arc` of a
// `Send + Sync` memory (`shared_memory.rs`) that other stores use too.
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
