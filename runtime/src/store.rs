//! Phase 6, instantiate: the store owns every instance, function, memory, table and global;
//! handles into it are small `Copy` values.

use crate::engine::Engine;
use crate::instance::InstanceData;
use crate::types::{FuncType, GlobalType};
use crate::values::Val;
use crate::vm::memory::LinearMemory;
use crate::vm::table::TableStorage;
use crate::vm::vmcontext::{VMFuncRef, VMGlobal, VMRuntimeLimits};
use crate::{Caller, Trap};
use std::sync::atomic::{AtomicU64, Ordering};

/// A host function's body.
pub type HostFn = std::rc::Rc<dyn Fn(Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap>>;

/// Owns everything instances create; all handles refer into one store.
pub struct Store {
    pub(crate) inner: Box<StoreInner>,
}

pub(crate) struct StoreInner {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) limits: Box<VMRuntimeLimits>,
    pub(crate) funcs: Vec<FuncData>,
    pub(crate) memories: Vec<LinearMemory>,
    pub(crate) tables: Vec<TableStorage>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) instances: Vec<InstanceData>,
    /// Signatures of the exception tags with their canonical type index (for import
    /// checks); a tag's identity is its index.
    pub(crate) tags: Vec<(FuncType, u32)>,
    /// Every exception thrown in this store (exnrefs point into it; freed with the store).
    pub(crate) exceptions: Vec<crate::vm::exceptions::Exception>,
    /// The `Store` that entered wasm most recently, for host functions' `Caller`.
    pub(crate) entry_store: *mut Store,
    /// Structs and arrays (GC proposal); freed with the store, never collected.
    pub(crate) gc: crate::vm::gc::GcHeap,
}

pub(crate) struct FuncData {
    pub(crate) ty: FuncType,
    pub(crate) funcref: *const VMFuncRef,
    pub(crate) kind: FuncKind,
    /// The host-to-wasm trampoline for `ty`, looked up on the first call.
    pub(crate) array_trampoline: std::cell::Cell<*const u8>,
}

pub(crate) enum FuncKind {
    Wasm,
    /// `funcref` owns the `VMFuncRef` that `FuncData::funcref` points to.
    Host {
        #[allow(dead_code)]
        funcref: Box<VMFuncRef>,
        body: HostFn,
    },
}

pub(crate) struct GlobalData {
    pub(crate) ty: GlobalType,
    pub(crate) storage: Box<VMGlobal>,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl Store {
    pub fn new(engine: &Engine) -> Store {
        Store {
            inner: Box::new(StoreInner {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                limits: Box::default(),
                funcs: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                tags: Vec::new(),
                exceptions: Vec::new(),
                entry_store: std::ptr::null_mut(),
                gc: Default::default(),
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            pub(crate) store: u64,
            pub(crate) index: u32,
        }

        impl $name {
            pub(crate) fn checked(&self, store: &StoreInner) -> usize {
                assert_eq!(self.store, store.id, "{} used with a store it does not belong to", stringify!($name));
                self.index as usize
            }
        }
    };
}

handle!(
    /// A function (wasm or host) in a store.
    Func
);
handle!(
    /// A linear memory in a store.
    Memory
);
handle!(
    /// A table in a store.
    Table
);
handle!(
    /// A global in a store.
    Global
);
handle!(
    /// An instantiated module in a store.
    Instance
);
handle!(
    /// An exception tag in a store.
    Tag
);

impl StoreInner {
    /// A handle for the store's item `index`.
    pub(crate) fn func_handle(&self, index: usize) -> Func {
        Func {
            store: self.id,
            index: index as u32,
        }
    }

    /// Encodes a value as the 128-bit raw form used by globals, tables and trampolines.
    pub(crate) fn val_to_raw(&self, val: &Val) -> u128 {
        match *val {
            Val::I32(v) => v as u32 as u128,
            Val::I64(v) => v as u64 as u128,
            Val::F32(v) => v as u128,
            Val::F64(v) => v as u128,
            Val::V128(v) => v,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::NullRef(_) => 0,
            Val::FuncRef(Some(f)) => self.funcs[f.checked(self)].funcref as usize as u128,
            Val::ExternRef(Some(n)) => crate::vm::gc::host_ref(n) as u128,
            Val::AnyRef(a) | Val::ExternAny(a) => {
                assert!(
                    a.store == 0 || a.store == self.id,
                    "a struct or array used with a store it does not belong to"
                );
                a.raw as u128
            }
        }
    }

    /// The non-null `any` reference `raw` (in compiled code's encoding, see `vm::gc`).
    pub(crate) fn any_ref(&self, raw: u64) -> crate::values::AnyRef {
        use crate::values::{AnyRef, AnyRefKind};
        let (store, kind) = if crate::vm::gc::is_i31(raw) {
            (0, AnyRefKind::I31)
        } else if crate::vm::gc::is_host(raw) {
            (0, AnyRefKind::Host)
        } else {
            let id = self
                .gc
                .type_id(raw)
                .expect("a reference to a GC object of this store");
            match crate::types::CanonicalKind::of(id) {
                crate::types::CanonicalKind::Array => (self.id, AnyRefKind::Array),
                _ => (self.id, AnyRefKind::Struct),
            }
        };
        AnyRef { store, raw, kind }
    }

    /// Whether `val` is a value of type `ty`, concrete reference types included.
    pub(crate) fn val_matches(&self, val: &Val, ty: crate::types::ValType) -> bool {
        use crate::types::{HeapType, ValType};
        if !val.matches(ty) {
            return false;
        }
        let ValType::Ref(crate::types::RefType {
            heap: HeapType::Concrete(want),
            ..
        }) = ty
        else {
            return true;
        };
        let types = self.engine.types();
        match val {
            Val::FuncRef(Some(f)) => {
                let funcref = self.funcs[f.checked(self)].funcref;
                types.is_subtype(crate::vm::vmcontext::funcref_type_id(funcref), want)
            }
            Val::AnyRef(a) if a.store == self.id => self
                .gc
                .type_id(a.raw)
                .is_some_and(|id| types.is_subtype(id, want)),
            Val::AnyRef(_) => false,
            _ => true,
        }
    }

    /// Decodes a raw value of type `ty`.
    pub(crate) fn raw_to_val(&self, raw: u128, ty: crate::types::ValType) -> Val {
        use crate::types::{HeapType, ValType};
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as u64 as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw as u64),
            ValType::V128 => Val::V128(raw),
            ValType::Ref(r) => match r.heap.top() {
                HeapType::Func => Val::FuncRef(self.funcref_to_func(raw as u64)),
                HeapType::Extern => match raw as u64 {
                    0 => Val::ExternRef(None),
                    raw if crate::vm::gc::is_host(raw) => Val::ExternRef(Some((raw >> 2) as u32)),
                    raw => Val::ExternAny(self.any_ref(raw)),
                },
                HeapType::Any => match raw as u64 {
                    0 => Val::NullRef(HeapType::Any),
                    raw => Val::AnyRef(self.any_ref(raw)),
                },
                other => Val::NullRef(other),
            },
        }
    }

    /// The function a raw funcref points to.
    pub(crate) fn funcref_to_func(&self, raw: u64) -> Option<Func> {
        if raw == 0 {
            return None;
        }
        let index = crate::vm::vmcontext::funcref_store_index(raw);
        Some(self.func_handle(index as usize))
    }
}
