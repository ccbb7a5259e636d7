//! Runtime values passed between the host and WebAssembly.

use crate::store::Func;
use crate::types::{HeapType, RefType, ValType};

/// A WebAssembly value. Floats are kept as raw bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// An `f32` as its bit pattern.
    F32(u32),
    /// An `f64` as its bit pattern.
    F64(u64),
    V128(u128),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// A host reference `(ref.extern N)`, or null.
    ExternRef(Option<u32>),
    /// A null reference of another hierarchy (`any`, `exn`, ...).
    NullRef(HeapType),
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

    /// Whether this value can be stored where `ty` is expected (ignoring concrete function types).
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
            _ => false,
        }
    }

    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }
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
        }
    }
}
