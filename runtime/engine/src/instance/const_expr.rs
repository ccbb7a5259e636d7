//! Phase 6, instantiate: evaluation of constant expressions (globals, offsets, elements).

use crate::error::{Error, Result};
use crate::info::{ConstExpr, ConstOp};
use crate::store::StoreOpaque;
use crate::vm;
use crate::{Trap, TrapCode};

/// Evaluates a constant expression in the context of instance `instance` of the store.
///
/// The operand stack holds references the collector cannot see: the caller inhibits
/// collection while it evaluates (see `initialize`).
pub(crate) fn eval_const(
    inner: &mut StoreOpaque,
    instance: usize,
    expr: &ConstExpr,
) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    for op in expr {
        let data = &inner.instances[instance];
        let v = match *op {
            ConstOp::I32(v) => v as u32 as u128,
            ConstOp::I64(v) => v as u64 as u128,
            ConstOp::F32(v) => v as u128,
            ConstOp::F64(v) => v as u128,
            ConstOp::V128(v) => v,
            ConstOp::RefNull(_) => 0,
            ConstOp::RefFunc(f) => inner.funcs[data.funcs[f as usize].index as usize]
                .funcref
                .raw() as u128,
            ConstOp::GlobalGet(g) => {
                inner.vm.globals[data.globals[g as usize].index as usize].bits()
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (stack.pop().unwrap() as u32, stack.pop().unwrap() as u32);
                (match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (stack.pop().unwrap() as u64, stack.pop().unwrap() as u64);
                (match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
            ConstOp::RefI31 => vm::gc::i31_ref(stack.pop().unwrap() as u32) as u128,
            ConstOp::StructNew(t)
            | ConstOp::StructNewDefault(t)
            | ConstOp::ArrayNew(t)
            | ConstOp::ArrayNewDefault(t)
            | ConstOp::ArrayNewFixed(t, _)
            | ConstOp::StructNewDesc(t)
            | ConstOp::StructNewDefaultDesc(t) => const_alloc(inner, instance, op, t, &mut stack)?,
            ConstOp::Unsupported(what) => return Err(Error::Unsupported(what.to_string())),
        };
        stack.push(v);
    }
    stack
        .pop()
        .ok_or_else(|| Error::Unsupported("empty constant expression".into()))
}

/// A struct or array allocation of a constant expression, taking its operands from `stack`.
fn const_alloc(
    inner: &mut StoreOpaque,
    instance: usize,
    op: &ConstOp,
    t: u32,
    stack: &mut Vec<u128>,
) -> Result<u128> {
    use crate::types::CompositeType;
    let module = inner.instances[instance].module.clone();
    let composite = &module.info().types[t as usize].composite;
    let too_large = || Error::Trap(Trap::new(TrapCode::AllocationTooLarge));
    let descriptor = match op {
        ConstOp::StructNewDesc(_) | ConstOp::StructNewDefaultDesc(_) => {
            match stack.pop().unwrap() {
                0 => return Err(Error::Trap(Trap::new(TrapCode::NullDescriptorReference))),
                d => Some(d),
            }
        }
        _ => None,
    };
    // Operands first, then the allocation (which checks the heap limit), then the writes:
    // nothing here is sized by a guest-controlled length before `alloc` has accepted it.
    let (len, values, repeated): (u32, Vec<u128>, Option<u128>) = match *op {
        ConstOp::StructNew(_) | ConstOp::StructNewDesc(_) => {
            let CompositeType::Struct(fields) = composite else {
                unreachable!("validated")
            };
            (0, stack.split_off(stack.len() - fields.len()), None)
        }
        ConstOp::ArrayNew(_) => {
            let len = stack.pop().unwrap() as u32;
            let value = stack.pop().unwrap();
            (len, Vec::new(), Some(value))
        }
        ConstOp::ArrayNewDefault(_) => (stack.pop().unwrap() as u32, Vec::new(), None),
        // `n` operands are on the stack already: the expression's own length bounds it.
        ConstOp::ArrayNewFixed(_, n) => (n, stack.split_off(stack.len() - n as usize), None),
        _ => (0, Vec::new(), None),
    };
    let raw = vm::collector::alloc(&mut inner.vm, instance, t, len).map_err(|e| match e {
        vm::collector::AllocError::TooLarge => too_large(),
        vm::collector::AllocError::OutOfMemory => {
            Error::Trap(Trap::new(TrapCode::GcHeapOutOfMemory))
        }
    })?;
    let written = "inside the object just allocated";
    match composite {
        CompositeType::Struct(fields) => {
            let (offsets, _) = vm::gc::struct_type_layout(&module.info().types[t as usize]);
            for ((offset, field), v) in offsets.into_iter().zip(fields.iter()).zip(values) {
                inner
                    .vm
                    .gc
                    .write(raw, offset, field.storage.size(), v)
                    .expect(written);
            }
        }
        CompositeType::Array(f) => {
            let size = f.storage.size();
            // `alloc` zeroes the object: a zero value needs no writes (and no pages touched).
            let mask = u128::MAX >> (128 - 8 * size);
            if let Some(value) = repeated.filter(|v| v & mask != 0) {
                vm::gc::fill_elements(&mut inner.vm.gc, raw, 0, len, size, value).expect(written);
            }
            for (i, v) in (0u32..).zip(values) {
                inner
                    .vm
                    .gc
                    .write(raw, vm::gc::DATA_OFFSET + i * size, size, v)
                    .expect(written);
            }
        }
        _ => {}
    }
    if let Some(d) = descriptor {
        inner
            .vm
            .gc
            .write(raw, vm::gc::DESCRIPTOR_OFFSET as u32, 8, d)
            .expect(written);
    }
    Ok(raw as u128)
}
