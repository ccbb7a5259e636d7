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
    /// Current size in bytes. Atomic because a shared memory's length is read by compiled code
    /// on other threads (with atomic loads) while one thread grows it; it only ever increases.
    pub length: std::sync::atomic::AtomicU64,
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

/// The storage of a global defined by an instance, inside that instance's vmctx (where
/// compiled code reaches it at a fixed offset, with one load). The store keeps its
/// instances, and so their vmctxs, as long as its globals.
#[derive(Clone, Copy, Debug)]
pub struct GlobalPtr(pub(in crate::vm) std::ptr::NonNull<VMGlobal>);

impl GlobalPtr {
    pub(in crate::vm) fn as_ptr(self) -> *mut VMGlobal {
        self.0.as_ptr()
    }
}

/// Per-store limits that compiled code checks.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMRuntimeLimits {
    /// Lowest address the stack may grow to; functions trap below it.
    pub stack_limit: usize,
    /// The exception being thrown (an exception object of the GC heap), or 0. Compiled code checks it
    /// after every call and unwinds to the innermost `try_table` or returns.
    pub pending_exception: u64,
    /// Fuel consumed, counting up from minus the fuel the store has toward zero: compiled
    /// code adds what it runs and traps once it is no longer negative. Compiled code keeps it
    /// in a register and writes it back before calls and returns (see `translate/budget.rs`).
    pub fuel_consumed: i64,
    /// The epoch at which compiled code traps with "interrupt" (absolute, not relative).
    pub epoch_deadline: u64,
    /// The store's GC bump pointer (a `*const VMGcBump`, see `vm::gc::heap`).
    pub gc_bump: usize,
    /// Where wasm last called out to code that may collect (a GC libcall or a host
    /// function): the frame pointer of that wasm frame and the return address into it,
    /// recorded by the libcall shims (`vm/exit.rs`) and host trampolines. The collector
    /// walks the wasm frames from there (`vm::gc::frames`).
    pub last_wasm_exit_fp: usize,
    pub last_wasm_exit_pc: usize,
}

/// Bump allocation in the active space of a GC heap: the next free byte and the threshold
/// past which allocation collects first.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMGcBump {
    pub next: usize,
    pub end: usize,
}

// SAFETY: `code` points into published code, which is immutable and kept alive by the
// module or engine the store holds; `vmctx` points to an instance's vmctx or a host
// function's context, both owned by the same store as the funcref. Moving the store to
// another thread moves all of them together.
unsafe impl Send for VMFuncRef {}
