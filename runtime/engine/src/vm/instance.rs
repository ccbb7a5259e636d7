//! Phase 6, vm: building an instance's vmctx and funcrefs. Every pointer compiled code will
//! follow is taken here from a reference to what it points to; the API passes references,
//! never addresses.

use super::code::CodeObject;
use super::store::StoreMemory;
use super::store::StoreState;
use super::table::TableStorage;
use super::vmcontext::{GlobalPtr, VMFuncRef, VMGlobal, VMRuntimeLimits};
use std::sync::atomic::AtomicU64;

/// A pointer to a [`VMFuncRef`] a store owns (in an instance's [`InstanceFuncRefs`] or a host
/// function's context), as the store's function table keeps it. Only `vm` makes them, from
/// live funcrefs; the raw value compiled code uses is [`FuncRefPtr::raw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRefPtr(std::ptr::NonNull<VMFuncRef>);

impl FuncRefPtr {
    /// The pointer to `funcref`.
    pub(in crate::vm) fn new(funcref: &VMFuncRef) -> FuncRefPtr {
        FuncRefPtr(std::ptr::NonNull::from(funcref))
    }

    /// The funcref as compiled code passes it around (tables, globals, `ref.func`).
    pub fn raw(self) -> u64 {
        self.0.as_ptr() as usize as u64
    }

    pub(in crate::vm) fn as_ptr(self) -> *const VMFuncRef {
        self.0.as_ptr()
    }
}

// SAFETY: as for `VMFuncRef`: it points to a funcref of the store that holds it.
unsafe impl Send for FuncRefPtr {}

/// 16 bytes, 16-aligned: the unit a vmctx is allocated in, so that the storage of its
/// defined globals (a [`VMGlobal`] each) can live in it.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Chunk([u64; 2]);

/// An instance's vmctx: the words compiled code reads through its vmctx pointer, laid out by
/// `VMOffsets`, written only through [`VmctxBuilder`] and, for the defined globals stored in
/// it, through their [`GlobalPtr`]s. Owns its allocation; never moves it.
pub struct Vmctx {
    chunks: std::ptr::NonNull<Chunk>,
    len: usize,
}

// SAFETY: a `Vmctx` owns its allocation as a `Box<[Chunk]>` would; the pointers into it that
// compiled code and the store's globals use travel with the store that owns the instance.
unsafe impl Send for Vmctx {}

impl Vmctx {
    /// A zeroed vmctx of `size` bytes (a multiple of 8), 16-aligned.
    pub fn new(size: u32) -> Vmctx {
        let chunks: Box<[Chunk]> = vec![Chunk([0; 2]); (size as usize).div_ceil(16)].into();
        let len = chunks.len();
        let chunks = std::ptr::NonNull::from(Box::leak(chunks)).cast::<Chunk>();
        Vmctx { chunks, len }
    }

    /// The address compiled code receives.
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.chunks.as_ptr().cast()
    }

    /// The storage of the global kept at `offset` (16-aligned, inside the vmctx).
    pub fn global(&mut self, offset: u32) -> GlobalPtr {
        assert!(offset.is_multiple_of(16) && (offset as usize) < self.len * 16);
        // SAFETY: in bounds of the allocation (checked above).
        let ptr = unsafe { self.as_mut_ptr().add(offset as usize) }.cast::<VMGlobal>();
        GlobalPtr(std::ptr::NonNull::new(ptr).expect("a vmctx is not null"))
    }

    /// Writes fields; every pointer is taken from a reference to the structure it points to.
    pub fn builder(&mut self) -> VmctxBuilder<'_> {
        VmctxBuilder {
            words: self.chunks.cast::<u64>(),
            len: self.len * 2,
            _vmctx: std::marker::PhantomData,
        }
    }
}

impl Drop for Vmctx {
    fn drop(&mut self) {
        let slice = std::ptr::slice_from_raw_parts_mut(self.chunks.as_ptr(), self.len);
        // SAFETY: `chunks` and `len` came from the boxed slice `new` leaked, dropped once.
        drop(unsafe { Box::from_raw(slice) });
    }
}

/// Writes the fields of a vmctx being built. Offsets come from `VMOffsets`; the pointees
/// must outlive the instance (the store owns them all, or the engine, for the epoch).
pub struct VmctxBuilder<'a> {
    words: std::ptr::NonNull<u64>,
    len: usize,
    _vmctx: std::marker::PhantomData<&'a mut Vmctx>,
}

impl VmctxBuilder<'_> {
    fn ptr(&mut self, offset: u32, p: *const u8) {
        self.u64(offset, p as usize as u64);
    }
    /// The word at byte `offset`.
    fn word(&mut self, offset: u32) -> *mut u64 {
        let i = offset as usize / 8;
        assert!(i < self.len, "vmctx offset {offset} out of bounds");
        // SAFETY: in bounds of the vmctx's allocation (checked above).
        unsafe { self.words.as_ptr().add(i) }
    }
    /// A 64-bit field.
    pub fn u64(&mut self, offset: u32, v: u64) {
        debug_assert!(offset.is_multiple_of(8));
        let word = self.word(offset);
        // SAFETY: an aligned word of the vmctx, which the builder borrows mutably; no
        // compiled code runs on it while it is built.
        unsafe { word.write(v) };
    }
    /// A 32-bit field.
    pub fn u32(&mut self, offset: u32, v: u32) {
        let word = self.word(offset);
        let shift = (offset % 8) * 8;
        // SAFETY: as in `u64`.
        unsafe { word.write((word.read() & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift)) };
    }
    /// The store's state, which libcalls find through the vmctx.
    pub fn store(&mut self, offset: u32, state: &mut StoreState) {
        self.ptr(offset, state as *mut StoreState as *const u8);
    }
    /// The store's runtime limits.
    pub fn limits(&mut self, offset: u32, limits: &VMRuntimeLimits) {
        self.ptr(offset, limits as *const VMRuntimeLimits as *const u8);
    }
    /// The engine's epoch counter.
    pub fn epoch(&mut self, offset: u32, epoch: &AtomicU64) {
        self.ptr(offset, epoch as *const AtomicU64 as *const u8);
    }
    /// A memory: its definition at `offset`, its base address at `base_offset`.
    pub fn memory(&mut self, offset: u32, base_offset: u32, memory: &StoreMemory) {
        self.ptr(offset, memory.definition() as *const u8);
        // The base never moves (memories reserve what they may grow to).
        self.ptr(base_offset, memory.raw().0);
    }
    /// A table's definition.
    pub fn table(&mut self, offset: u32, table: &TableStorage) {
        self.ptr(offset, table.definition() as *const u8);
    }
    /// A global's storage (a host global's box, or a slot in a vmctx).
    pub fn global(&mut self, offset: u32, global: *const VMGlobal) {
        self.ptr(offset, global as *const u8);
    }
    /// A function's funcref.
    pub fn func(&mut self, offset: u32, funcref: FuncRefPtr) {
        self.ptr(offset, funcref.as_ptr() as *const u8);
    }
}

/// The funcrefs of an instance's defined functions: their code in the module's
/// [`CodeObject`], and the instance's vmctx.
pub struct InstanceFuncRefs {
    funcrefs: Box<[VMFuncRef]>,
}

impl InstanceFuncRefs {
    /// One funcref per defined function `i`: code `code.func_ptr(i)`, vmctx `vmctx`, the
    /// canonical type `type_ids[i]` and store index `first_store_index + i`.
    pub fn new(
        code: &CodeObject,
        vmctx: &mut Vmctx,
        type_ids: &[u32],
        first_store_index: u32,
    ) -> InstanceFuncRefs {
        let vmctx = vmctx.as_mut_ptr();
        let funcrefs = type_ids
            .iter()
            .enumerate()
            .map(|(i, &type_id)| VMFuncRef {
                code: code.func_ptr(i),
                vmctx,
                type_id,
                store_index: first_store_index + i as u32,
            })
            .collect();
        InstanceFuncRefs { funcrefs }
    }

    /// The funcref of defined function `i`.
    pub fn get(&self, i: usize) -> FuncRefPtr {
        FuncRefPtr::new(&self.funcrefs[i])
    }
}
