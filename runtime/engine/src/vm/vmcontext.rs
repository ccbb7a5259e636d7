//! Phase 6, vm: the `#[repr(C)]` structures compiled code reads, shared with the host.
//!
//! Field offsets are pinned in `vmoffsets.rs`; the tests there keep both in step.

/// A function as compiled code sees it: entry point (wasm calling convention), the callee's
/// vmctx, and the canonical type index of its signature (checked by `call_indirect`).
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    pub code: *const u8,
    pub vmctx: *mut u8,
    pub type_id: u32,
    /// Index of the function in its store (not read by compiled code).
    pub store_index: u32,
}

/// The part of a linear memory that compiled code reads.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    /// Current size in bytes.
    pub length: u64,
}

/// The part of a table that compiled code reads. Elements are 64-bit references (0 is null).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    pub base: *mut u64,
    /// Current size in elements.
    pub length: u64,
}

/// Storage of one global; every value type fits in 16 bytes.
#[repr(C, align(16))]
#[derive(Debug, Default)]
pub struct VMGlobal {
    pub bits: u128,
}

/// Per-store limits that compiled code checks.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMRuntimeLimits {
    /// Lowest address the stack may grow to; functions trap below it.
    pub stack_limit: usize,
    /// The exception being thrown (a `*const VMException`), or 0. Compiled code checks it
    /// after every call and unwinds to the innermost `try_table` or returns.
    pub pending_exception: u64,
    /// Fuel consumed, counting up from minus the fuel the store has toward zero: compiled
    /// code adds what it runs and traps once it is no longer negative. Compiled code keeps it
    /// in a register and writes it back before calls and returns (see `translate/budget.rs`).
    pub fuel_consumed: i64,
    /// The epoch at which compiled code traps with "interrupt" (absolute, not relative).
    pub epoch_deadline: u64,
}

/// A thrown exception as compiled code reads it; `exnref` values point to one.
#[repr(C)]
#[derive(Debug)]
pub struct VMException {
    /// Store index of the exception's tag.
    pub tag: u32,
    /// The payload, one 16-byte slot per value.
    pub payload: *const u128,
}

// SAFETY: `code` points into published code, which is immutable and kept alive by the
// module or engine the store holds; `vmctx` points to an instance's vmctx or a host
// function's context, both owned by the same store as the funcref. Moving the store to
// another thread moves all of them together.
unsafe impl Send for VMFuncRef {}

/// A pointer to a [`VMFuncRef`] a store owns (in an instance's [`InstanceFuncRefs`] or a host
/// function's context), as the store's function table keeps it. Only `vm` makes them, from
/// live funcrefs; the raw value compiled code uses is [`FuncRefPtr::raw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRefPtr(std::ptr::NonNull<VMFuncRef>);

impl FuncRefPtr {
    /// The pointer to `funcref`.
    pub(super) fn new(funcref: &VMFuncRef) -> FuncRefPtr {
        FuncRefPtr(std::ptr::NonNull::from(funcref))
    }

    /// The funcref as compiled code passes it around (tables, globals, `ref.func`).
    pub fn raw(self) -> u64 {
        self.0.as_ptr() as usize as u64
    }

    pub(super) fn as_ptr(self) -> *const VMFuncRef {
        self.0.as_ptr()
    }
}

// SAFETY: as for `VMFuncRef`: it points to a funcref of the store that holds it.
unsafe impl Send for FuncRefPtr {}

/// An instance's vmctx: the words compiled code reads through its vmctx pointer, laid out by
/// `VMOffsets`, and written only through [`VmctxBuilder`].
pub struct Vmctx {
    words: Box<[u64]>,
}

impl Vmctx {
    /// A zeroed vmctx of `size` bytes (a multiple of 8).
    pub fn new(size: u32) -> Vmctx {
        Vmctx {
            words: vec![0u64; size as usize / 8].into_boxed_slice(),
        }
    }

    /// The address compiled code receives.
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr().cast()
    }

    /// Writes fields; every pointer is taken from a reference to the structure it points to.
    pub fn builder(&mut self) -> VmctxBuilder<'_> {
        VmctxBuilder {
            words: &mut self.words,
        }
    }
}

/// Writes the fields of a vmctx being built. Offsets come from `VMOffsets`; the pointees
/// must outlive the instance (the store owns them all, or the engine, for the epoch).
pub struct VmctxBuilder<'a> {
    words: &'a mut [u64],
}

impl VmctxBuilder<'_> {
    fn ptr(&mut self, offset: u32, p: *const u8) {
        self.u64(offset, p as usize as u64);
    }
    /// A 64-bit field.
    pub fn u64(&mut self, offset: u32, v: u64) {
        debug_assert!(offset.is_multiple_of(8));
        self.words[offset as usize / 8] = v;
    }
    /// A 32-bit field.
    pub fn u32(&mut self, offset: u32, v: u32) {
        let word = &mut self.words[offset as usize / 8];
        let shift = (offset % 8) * 8;
        *word = (*word & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
    }
    /// The store's state, which libcalls find through the vmctx.
    pub fn store(&mut self, offset: u32, state: &mut super::store::StoreState) {
        self.ptr(offset, state as *mut super::store::StoreState as *const u8);
    }
    /// The store's runtime limits.
    pub fn limits(&mut self, offset: u32, limits: &VMRuntimeLimits) {
        self.ptr(offset, limits as *const VMRuntimeLimits as *const u8);
    }
    /// The engine's epoch counter.
    pub fn epoch(&mut self, offset: u32, epoch: &std::sync::atomic::AtomicU64) {
        self.ptr(
            offset,
            epoch as *const std::sync::atomic::AtomicU64 as *const u8,
        );
    }
    /// A memory's definition.
    pub fn memory(&mut self, offset: u32, memory: &super::memory::LinearMemory) {
        self.ptr(offset, memory.definition() as *const u8);
    }
    /// A table's definition.
    pub fn table(&mut self, offset: u32, table: &super::table::TableStorage) {
        self.ptr(offset, table.definition() as *const u8);
    }
    /// A global's storage.
    pub fn global(&mut self, offset: u32, global: &VMGlobal) {
        self.ptr(offset, global as *const VMGlobal as *const u8);
    }
    /// A function's funcref.
    pub fn func(&mut self, offset: u32, funcref: FuncRefPtr) {
        self.ptr(offset, funcref.as_ptr() as *const u8);
    }
}

/// The funcrefs of an instance's defined functions: their code in the module's
/// [`CodeObject`](super::code::CodeObject), and the instance's vmctx.
pub struct InstanceFuncRefs {
    funcrefs: Box<[VMFuncRef]>,
}

impl InstanceFuncRefs {
    /// One funcref per defined function `i`: code `code.func_ptr(i)`, vmctx `vmctx`, the
    /// canonical type `type_ids[i]` and store index `first_store_index + i`.
    pub fn new(
        code: &super::code::CodeObject,
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
