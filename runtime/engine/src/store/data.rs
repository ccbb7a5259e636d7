//! Phase 6, instantiate: what a store keeps per function, global and instance.

use super::{Func, Global, Memory, Table, Tag};
use crate::module::Module;
use crate::types::{FuncType, GlobalType};
use crate::vm::code::CodePtr;
use crate::vm::host::VMHostFuncContext;
use crate::vm::instance::{FuncRefPtr, InstanceFuncRefs, Vmctx};

pub(crate) struct FuncData {
    pub(crate) ty: FuncType,
    /// The canonical type index of `ty`.
    pub(crate) type_id: u32,
    pub(crate) funcref: FuncRefPtr,
    pub(crate) kind: FuncKind,
    /// The host-to-wasm trampoline for `ty`, looked up on the first call.
    pub(crate) array_trampoline: std::cell::Cell<Option<CodePtr>>,
}

pub(crate) enum FuncKind {
    Wasm,
    /// `ctx` owns the `VMFuncRef` that `FuncData::funcref` points to.
    Host {
        ctx: Box<VMHostFuncContext>,
    },
}

pub(crate) struct GlobalData {
    pub(crate) ty: GlobalType,
}

/// An instance as the store keeps it.
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    /// The vmctx compiled code receives; laid out by `VMOffsets`.
    pub(crate) vmctx: Vmctx,
    /// Funcrefs of the defined functions (imported ones live with their owner).
    pub(crate) funcrefs: InstanceFuncRefs,
    pub(crate) funcs: Vec<Func>,
    pub(crate) tables: Vec<Table>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) globals: Vec<Global>,
    pub(crate) tags: Vec<Tag>,
}

/// Hashes the funcref addresses of [`StoreOpaque::funcref_index`](super::StoreOpaque): they
/// are distinct, 8-aligned and not chosen by a guest, so a multiplicative hash of the
/// address suffices (SipHash cost more than the rest of instantiating a module with
/// thousands of functions).
pub(crate) type FuncrefHasher = std::hash::BuildHasherDefault<AddressHasher>;

/// The hasher of [`FuncrefHasher`].
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, address: u64) {
        // Fibonacci hashing; the high bits, which hashbrown uses, depend on every bit.
        self.0 = (address >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl super::StoreOpaque {
    /// Makes room for `n` more functions.
    pub(crate) fn reserve_funcs(&mut self, n: usize) {
        self.funcs.reserve(n);
        self.funcref_index.reserve(n);
    }

    /// Adds a function to the store; its handle's index.
    pub(crate) fn push_func(&mut self, data: FuncData) -> usize {
        let index = self.funcs.len();
        self.funcref_index.insert(data.funcref.raw(), index as u32);
        self.funcs.push(data);
        index
    }
}
