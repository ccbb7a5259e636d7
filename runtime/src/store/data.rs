//! Phase 6, instantiate: what a store keeps per function and global, and the conversions
//! between [`Val`]s and the raw 16-byte slots compiled code uses.

use super::{Func, StoreOpaque};
use crate::types::{FuncType, GlobalType};
use crate::values::Val;
use crate::vm::host::VMHostFuncContext;
use crate::vm::vmcontext::{VMFuncRef, VMGlobal};

pub(crate) struct FuncData {
    pub(crate) ty: FuncType,
    pub(crate) funcref: *const VMFuncRef,
    pub(crate) kind: FuncKind,
    /// The host-to-wasm trampoline for `ty`, looked up on the first call.
    pub(crate) array_trampoline: std::cell::Cell<*const u8>,
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
    pub(crate) storage: Box<VMGlobal>,
}

impl StoreOpaque {
    /// Whether every reference in `val` belongs to this store (or to none) and, for structs
    /// and arrays, is still rooted.
    pub(crate) fn owns_val(&self, val: &Val) -> bool {
        match val {
            Val::FuncRef(Some(f)) => f.belongs_to(self),
            Val::AnyRef(a) | Val::ExternAny(a) => self.any_raw(a).is_ok(),
            _ => true,
        }
    }

    /// `owns_val` as an error that says what is wrong.
    pub(crate) fn check_refs(&self, val: &Val) -> crate::Result<()> {
        match val {
            Val::AnyRef(a) | Val::ExternAny(a) => self.any_raw(a).map(|_| ()),
            Val::FuncRef(Some(f)) if !f.belongs_to(self) => {
                Err(crate::Error::Usage("a function of another store".into()))
            }
            _ => Ok(()),
        }
    }

    /// The raw reference behind `a`: an i31 or host reference itself, or the object a
    /// struct or array handle roots; an error if `a` belongs to another store or its root
    /// is gone.
    pub(crate) fn any_raw(&self, a: &crate::values::AnyRef) -> crate::Result<u64> {
        if a.store == 0 {
            return Ok(a.raw);
        }
        if a.store != self.id {
            return Err(crate::Error::Usage(
                "a struct or array of another store".into(),
            ));
        }
        self.gc.roots.borrow().get(a.raw).ok_or_else(|| {
            crate::Error::Usage(
                "a struct or array reference used after its root scope ended".into(),
            )
        })
    }

    /// Encodes a value as the 128-bit raw form used by globals, tables and trampolines.
    ///
    /// # Panics
    ///
    /// If a reference in `val` belongs to another store or is no longer rooted (check with
    /// `owns_val` first).
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
            Val::AnyRef(a) | Val::ExternAny(a) => match self.any_raw(&a) {
                Ok(raw) => raw as u128,
                Err(e) => panic!("{e}"),
            },
        }
    }

    /// The non-null `any` reference `raw` (in compiled code's encoding, see `vm::gc`); a
    /// struct or array is rooted in the innermost root scope.
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
            let kind = match crate::types::CanonicalKind::of(id) {
                crate::types::CanonicalKind::Array => AnyRefKind::Array,
                _ => AnyRefKind::Struct,
            };
            let handle = self.gc.roots.borrow_mut().push(raw);
            return AnyRef {
                store: self.id,
                raw: handle,
                kind,
            };
        };
        AnyRef { store, raw, kind }
    }

    /// Whether `val` is a value of type `ty` of this store, concrete reference types included.
    pub(crate) fn val_matches(&self, val: &Val, ty: crate::types::ValType) -> bool {
        use crate::types::{HeapType, ValType};
        if !val.matches(ty) || !self.owns_val(val) {
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
                .any_raw(a)
                .ok()
                .and_then(|raw| self.gc.type_id(raw))
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
