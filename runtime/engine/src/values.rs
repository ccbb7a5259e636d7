//! Runtime values passed between the host and WebAssembly.

use crate::store::{Func, StoreOpaque};
use crate::types::{HeapType, RefType, ValType};

/// A WebAssembly value. Floats are kept as raw bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32` as its bit pattern.
    F32(u32),
    /// An `f64` as its bit pattern.
    F64(u64),
    /// A `v128` (lane 0 in the low bits).
    V128(u128),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// A host reference `(ref.extern N)`, or null.
    ExternRef(Option<u32>),
    /// A null reference of another hierarchy (`any`, `exn`, ...).
    NullRef(HeapType),
    /// A non-null reference of the `any` hierarchy: an i31 value, a struct, an array, or a
    /// host reference converted with `any.convert_extern` (`(ref.host N)`).
    AnyRef(AnyRef),
    /// An i31 value, struct or array converted to `extern` with `extern.convert_any`, or an
    /// `externref` with a host value ([`ExternRef::new`](crate::ExternRef::new)). (Plain
    /// host references `(ref.extern N)` are [`Val::ExternRef`]s.)
    ExternAny(AnyRef),
    /// A non-null continuation reference (stack switching): opaque to the host, which may
    /// hand it back to wasm of the same store.
    ContRef(ContRef),
}

/// A continuation reference held by the host; one-shot like any other (wasm that resumes a
/// used one traps). Equal when they name the same continuation.
#[derive(Clone, Copy, Debug)]
pub struct ContRef {
    pub(crate) store: u64,
    pub(crate) raw: u64,
    /// The canonical continuation type of the slot it was read from (`None` for `cont`): it
    /// may go back only where that type (or a supertype) is expected, so wasm never resumes
    /// a continuation with the wrong arguments.
    pub(crate) type_id: Option<u32>,
}

impl PartialEq for ContRef {
    fn eq(&self, other: &ContRef) -> bool {
        (self.store, self.raw) == (other.store, other.raw)
    }
}

impl Eq for ContRef {}

impl std::hash::Hash for ContRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.store, self.raw).hash(state);
    }
}

/// A non-null reference of the `any` hierarchy; compares equal exactly when `ref.eq` would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyRef {
    /// The store structs and arrays belong to (0 for i31 values and host references).
    pub(crate) store: u64,
    /// The reference in compiled code's encoding (see `vm::gc`).
    pub(crate) raw: u64,
    pub(crate) kind: AnyRefKind,
}

/// What an [`AnyRef`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyRefKind {
    /// A 31-bit integer.
    I31,
    /// A struct (GC proposal).
    Struct,
    /// An array (GC proposal).
    Array,
    /// A host reference: `(ref.host N)`, or a host value (`ExternRef::new`) converted with
    /// `any.convert_extern`.
    Host,
}

impl AnyRef {
    /// The i31 reference of the low 31 bits of `v` (`ref.i31`).
    pub fn i31(v: i32) -> AnyRef {
        AnyRef {
            store: 0,
            raw: crate::vm::gc::i31_ref(v as u32),
            kind: AnyRefKind::I31,
        }
    }
    /// Host reference `n` in the `any` hierarchy (`(ref.host n)`).
    pub fn host(n: u32) -> AnyRef {
        AnyRef {
            store: 0,
            raw: crate::vm::gc::host_ref(n),
            kind: AnyRefKind::Host,
        }
    }
    /// What the reference refers to.
    pub fn kind(&self) -> AnyRefKind {
        self.kind
    }
    /// The value of an i31 reference, sign-extended (`i31.get_s`).
    pub fn i31_get_s(&self) -> Option<i32> {
        (self.kind == AnyRefKind::I31).then_some((self.raw as u32 as i32) >> 1)
    }
    /// The value of an i31 reference, zero-extended (`i31.get_u`).
    pub fn i31_get_u(&self) -> Option<u32> {
        (self.kind == AnyRefKind::I31).then_some(self.raw as u32 >> 1)
    }
    /// The number of a host reference (`(ref.host n)`; `None` for one with a host value).
    pub fn host_index(&self) -> Option<u32> {
        (self.kind == AnyRefKind::Host && self.store == 0).then_some((self.raw >> 2) as u32)
    }
    /// Whether the reference belongs to the `eq` type (i31, struct or array).
    pub fn is_eq(&self) -> bool {
        self.kind != AnyRefKind::Host
    }
}

impl Val {
    /// The zero (or null) value of a type, used for locals and default table entries.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) => Val::null(r),
        }
    }

    /// The null reference of a reference type's hierarchy.
    pub fn null(ty: RefType) -> Val {
        match ty.heap.top() {
            HeapType::Func => Val::FuncRef(None),
            HeapType::Extern => Val::ExternRef(None),
            other => Val::NullRef(other),
        }
    }

    /// Whether this value can be stored where `ty` is expected (ignoring which concrete
    /// function, struct or array type a reference has: checking that needs the store).
    pub fn matches(&self, ty: ValType) -> bool {
        match (self, ty) {
            (Val::I32(_), ValType::I32)
            | (Val::I64(_), ValType::I64)
            | (Val::F32(_), ValType::F32)
            | (Val::F64(_), ValType::F64)
            | (Val::V128(_), ValType::V128) => true,
            (Val::FuncRef(f), ValType::Ref(r)) => {
                r.heap.top() == HeapType::Func && (f.is_some() || r.nullable)
            }
            (Val::ExternRef(e), ValType::Ref(r)) => {
                r.heap.top() == HeapType::Extern && (e.is_some() || r.nullable)
            }
            (Val::NullRef(h), ValType::Ref(r)) => r.heap.top() == h.top() && r.nullable,
            (Val::AnyRef(a), ValType::Ref(r)) => match r.heap {
                HeapType::Any => true,
                HeapType::Eq => a.is_eq(),
                HeapType::I31 => a.kind == AnyRefKind::I31,
                HeapType::Struct => a.kind == AnyRefKind::Struct,
                HeapType::Array => a.kind == AnyRefKind::Array,
                HeapType::Concrete(id) => match crate::types::CanonicalKind::of(id) {
                    crate::types::CanonicalKind::Struct => a.kind == AnyRefKind::Struct,
                    crate::types::CanonicalKind::Array => a.kind == AnyRefKind::Array,
                    _ => false,
                },
                _ => false,
            },
            (Val::ExternAny(_), ValType::Ref(r)) => r.heap == HeapType::Extern,
            (Val::ContRef(_), ValType::Ref(r)) => r.heap.top() == HeapType::Cont,
            _ => false,
        }
    }

    /// The value of an `i32`.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    /// The value of an `i64`.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    /// The value of an `f32`.
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }
    /// The value of an `f64`.
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }
}

macro_rules! unwraps {
    ($($name:ident: $variant:ident -> $ty:ty, $conv:expr;)*) => {
        impl Val {
            $(
                #[doc = concat!("The value of a `", stringify!($variant), "`.\n\n# Panics\n\nIf the value has another type.")]
                pub fn $name(&self) -> $ty {
                    match *self {
                        Val::$variant(v) => {
                            let conv: fn(_) -> $ty = $conv;
                            conv(v)
                        }
                        ref other => panic!(concat!("expected a ", stringify!($variant), " value, found {:?}"), other),
                    }
                }
            )*
        }
    };
}

unwraps! {
    unwrap_i32: I32 -> i32, |v| v;
    unwrap_i64: I64 -> i64, |v| v;
    unwrap_f32: F32 -> f32, f32::from_bits;
    unwrap_f64: F64 -> f64, f64::from_bits;
    unwrap_v128: V128 -> u128, |v| v;
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(b) => write!(f, "{}", f32::from_bits(*b)),
            Val::F64(b) => write!(f, "{}", f64::from_bits(*b)),
            Val::V128(v) => write!(f, "0x{v:032x}"),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::NullRef(_) => f.write_str("null"),
            Val::FuncRef(Some(_)) => f.write_str("funcref"),
            Val::ExternRef(Some(n)) => write!(f, "externref {n}"),
            Val::AnyRef(a) => write!(f, "anyref {a}"),
            Val::ExternAny(a) => write!(f, "externref ({a})"),
            Val::ContRef(_) => f.write_str("contref"),
        }
    }
}

impl std::fmt::Display for AnyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            AnyRefKind::I31 => write!(f, "i31 {}", self.i31_get_s().unwrap_or_default()),
            AnyRefKind::Struct => f.write_str("struct"),
            AnyRefKind::Array => f.write_str("array"),
            AnyRefKind::Host => write!(f, "host {}", self.host_index().unwrap_or_default()),
        }
    }
}

/// Conversions between [`Val`]s and the raw 16-byte slots compiled code, globals and tables
/// use, checked against the store the values belong to.
impl StoreOpaque {
    /// Whether every reference in `val` belongs to this store (or to none) and, for structs
    /// and arrays, is still rooted.
    pub(crate) fn owns_val(&self, val: &Val) -> bool {
        match val {
            Val::FuncRef(Some(f)) => f.belongs_to(self),
            Val::AnyRef(a) | Val::ExternAny(a) => self.any_raw(a).is_ok(),
            Val::ContRef(c) => c.store == self.id,
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
        self.vm.gc.roots.borrow().get(a.raw).ok_or_else(|| {
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
            Val::FuncRef(Some(f)) => self.funcs[f.checked(self)].funcref.raw() as u128,
            Val::ExternRef(Some(n)) => crate::vm::gc::host_ref(n) as u128,
            Val::AnyRef(a) | Val::ExternAny(a) => match self.any_raw(&a) {
                Ok(raw) => raw as u128,
                Err(e) => panic!("{e}"),
            },
            Val::ContRef(c) => {
                assert!(
                    c.store == self.id,
                    "a continuation used with a store it does not belong to"
                );
                c.raw as u128
            }
        }
    }

    /// The non-null `any` reference `raw` (in compiled code's encoding, see `vm::gc`); a
    /// struct or array is rooted in the innermost root scope.
    pub(crate) fn any_ref(&self, raw: u64) -> crate::values::AnyRef {
        use crate::values::{AnyRef, AnyRefKind};
        let (store, kind) = if crate::vm::gc::is_i31(raw) {
            (0, AnyRefKind::I31)
        } else if crate::vm::gc::host_data::data_slot(raw).is_some() {
            // A host value (`ExternRef::new`): rooted like an object.
            let handle = self.vm.gc.roots.borrow_mut().push(raw);
            return AnyRef {
                store: self.id,
                raw: handle,
                kind: AnyRefKind::Host,
            };
        } else if crate::vm::gc::is_host(raw) {
            (0, AnyRefKind::Host)
        } else {
            let id = self
                .vm
                .gc
                .type_id(raw)
                .expect("a reference to a GC object of this store");
            let kind = match crate::types::CanonicalKind::of(id) {
                crate::types::CanonicalKind::Array => AnyRefKind::Array,
                _ => AnyRefKind::Struct,
            };
            let handle = self.vm.gc.roots.borrow_mut().push(raw);
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
            Val::FuncRef(Some(f)) => types.is_subtype(self.funcs[f.checked(self)].type_id, want),
            Val::AnyRef(a) if a.store == self.id => self
                .any_raw(a)
                .ok()
                .and_then(|raw| self.vm.gc.type_id(raw))
                .is_some_and(|id| types.is_subtype(id, want)),
            Val::AnyRef(_) => false,
            Val::ContRef(c) => c.type_id.is_some_and(|id| types.is_subtype(id, want)),
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
                    raw if crate::vm::gc::host_data::data_slot(raw).is_some() => {
                        Val::ExternAny(self.any_ref(raw))
                    }
                    raw if crate::vm::gc::is_host(raw) => Val::ExternRef(Some((raw >> 2) as u32)),
                    raw => Val::ExternAny(self.any_ref(raw)),
                },
                HeapType::Any => match raw as u64 {
                    0 => Val::NullRef(HeapType::Any),
                    raw => Val::AnyRef(self.any_ref(raw)),
                },
                HeapType::Cont => match raw as u64 {
                    0 => Val::NullRef(HeapType::Cont),
                    raw => Val::ContRef(crate::values::ContRef {
                        store: self.id,
                        raw,
                        type_id: match r.heap {
                            HeapType::Concrete(id) => Some(id),
                            _ => None,
                        },
                    }),
                },
                other => Val::NullRef(other),
            },
        }
    }

    /// The function a raw funcref points to.
    ///
    /// # Panics
    ///
    /// If `raw` is neither null nor a funcref of this store (compiled code and the API only
    /// ever store those: validation keeps other values out of funcref slots).
    pub(crate) fn funcref_to_func(&self, raw: u64) -> Option<Func> {
        if raw == 0 {
            return None;
        }
        let index = self
            .funcref_index
            .get(&raw)
            .expect("a funcref of this store");
        Some(self.func_handle(*index as usize))
    }
}
