//! Phase 6, vm: the entries of the libcalls that may collect garbage, switch stacks or unwind.
//! Compiled code calls these shims (made by the architecture's `exit_shims!`), which record
//! the wasm caller's frame for the collector (and for continuations' frame links) and jump to
//! the libcall.

crate::vm::arch::exit_shims! {
    /// Entry of `gc_alloc`.
    gc_alloc(type_id: u32, len: u32, unit: u32) -> u64 => super::gc::gc_alloc;
    /// Entry of `gc_array_new_data`.
    gc_array_new_data(type_index: u32, data: u32, offset: u32, len: u32) -> u64
        => super::gc::gc_array_new_data;
    /// Entry of `gc_array_new_elem`.
    gc_array_new_elem(type_index: u32, elem: u32, offset: u32, len: u32) -> u64
        => super::gc::gc_array_new_elem;
    /// Entry of `throw`.
    throw(tag: u32, values: *const u128, count: u32) -> u32 => super::exceptions::throw;
    /// Entry of `unwind` (the walk to a handler starts at the caller's exit).
    unwind() => super::exceptions::unwind;
    /// Entry of `resume` (the resumer's exit is where the continuation's frames link to,
    /// and the collector may run while it waits).
    resume(cont: u64, buffer: *const u128, count: u32, handlers: u64, nhandlers: u32) -> u32
        => super::continuations::resume;
    /// Entry of `resume_throw` (it allocates the exception).
    resume_throw(
        cont: u64, tag: u32, buffer: *const u128, count: u32, handlers: u64, nhandlers: u32
    ) -> u32 => super::continuations::resume_throw;
    /// Entry of `suspend` (the suspended frames are walked from this exit).
    suspend(tag: u32, buffer: *const u128, count: u32, results: u32) -> u32
        => super::continuations::suspend;
    /// Entry of `switch`.
    switch(tag: u32, cont: u64, buffer: *const u128, count: u32, results: u32) -> u32
        => super::continuations::switch;
}
