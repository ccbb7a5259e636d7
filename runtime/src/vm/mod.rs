//! Phase 6, vm: everything that touches raw memory — code memory, linear memories, tables,
//! the vmctx, libcalls, signal handlers and the entry into compiled code. The only `unsafe`
//! code of the crate lives here.

pub mod call;
pub mod code_memory;
pub mod exceptions;
pub mod exit;
pub mod gc;
pub mod host;
pub mod libcalls;
pub mod memory;
pub mod signals;
pub mod table;
pub mod unwind;
pub mod vmcontext;

/// Writes fields of a vmctx being built.
pub struct VmctxWriter<'a> {
    words: &'a mut [u64],
}

impl<'a> VmctxWriter<'a> {
    pub fn new(words: &'a mut [u64]) -> VmctxWriter<'a> {
        VmctxWriter { words }
    }
    pub fn ptr(&mut self, offset: u32, p: *const u8) {
        self.u64(offset, p as usize as u64);
    }
    pub fn u64(&mut self, offset: u32, v: u64) {
        debug_assert!(offset.is_multiple_of(8));
        self.words[offset as usize / 8] = v;
    }
    pub fn u32(&mut self, offset: u32, v: u32) {
        let word = &mut self.words[offset as usize / 8];
        let shift = (offset % 8) * 8;
        *word = (*word & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
    }
}

// SAFETY: the raw pointers a store holds (funcrefs, vmctx words, memory and table bases, GC
// objects, exceptions, host function contexts) point into allocations the store itself owns
// or into code its engine keeps alive (code memory is `Send + Sync`). Nothing in a store is
// tied to a thread: host function bodies are `Send + Sync`, the per-thread call state is
// popped before every entry into wasm returns, and the stack limit is recomputed for the
// current thread on every outermost entry. A store is only used through `&mut`, so moving it
// to another thread moves everything it refers to with it.
unsafe impl Send for crate::store::StoreOpaque {}
