//! Phase 2, parse: conversion of wasmparser's types to the runtime's.

use crate::error::{Error, Result};
use crate::types::{
    CompositeType, FieldType, FuncType, HeapType, RefType, StorageType, SubType, ValType,
};
use wasmparser as wp;

pub(crate) fn val_type(t: wp::ValType) -> ValType {
    match t {
        wp::ValType::I32 => ValType::I32,
        wp::ValType::I64 => ValType::I64,
        wp::ValType::F32 => ValType::F32,
        wp::ValType::F64 => ValType::F64,
        wp::ValType::V128 => ValType::V128,
        wp::ValType::Ref(r) => ValType::Ref(ref_type(r)),
    }
}

pub(crate) fn ref_type(r: wp::RefType) -> RefType {
    let heap = match r.heap_type() {
        wp::HeapType::Abstract { ty, .. } => {
            use wp::AbstractHeapType as A;
            match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::I31 => HeapType::I31,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::None => HeapType::None,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Cont => HeapType::Cont,
                A::NoCont => HeapType::NoCont,
            }
        }
        wp::HeapType::Concrete(idx) | wp::HeapType::Exact(idx) => {
            HeapType::Concrete(idx.as_module_index().unwrap_or(u32::MAX))
        }
    };
    RefType {
        nullable: r.is_nullable(),
        heap,
    }
}

pub(crate) fn func_type(f: &wp::FuncType) -> FuncType {
    FuncType::new(
        f.params().iter().copied().map(val_type),
        f.results().iter().copied().map(val_type),
    )
}

/// A type definition with module-local type indices.
pub(crate) fn sub_type(t: &wp::SubType) -> SubType {
    let index = |p: &wp::PackedIndex| p.as_module_index().unwrap_or(u32::MAX);
    let field = |f: &wp::FieldType| FieldType {
        storage: match f.element_type {
            wp::StorageType::I8 => StorageType::I8,
            wp::StorageType::I16 => StorageType::I16,
            wp::StorageType::Val(v) => StorageType::Val(val_type(v)),
        },
        mutable: f.mutable,
    };
    let c = &t.composite_type;
    SubType {
        is_final: t.is_final,
        supertype: t.supertype_idxs.first().map(index),
        composite: match &c.inner {
            wp::CompositeInnerType::Func(f) => CompositeType::Func(func_type(f)),
            wp::CompositeInnerType::Struct(s) => {
                CompositeType::Struct(s.fields.iter().map(field).collect())
            }
            wp::CompositeInnerType::Array(a) => CompositeType::Array(field(&a.0)),
            wp::CompositeInnerType::Cont(k) => CompositeType::Cont(index(&k.0)),
        },
        shared: c.shared,
        descriptor: c.descriptor_idx.as_ref().map(index),
        describes: c.describes_idx.as_ref().map(index),
    }
}

pub(crate) fn wp_err(e: wp::BinaryReaderError) -> Error {
    Error::from_wasmparser(e)
}

pub(crate) type ParseResult<T> = Result<T>;
