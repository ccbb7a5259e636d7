//! Phase 3, translate: the GC proposal — structs, arrays, i31 references, casts and the
//! conversions between `any` and `extern`.
//!
//! References are the 64-bit encoding of `vm::gc` (null 0, i31 `v << 1 | 1`, host
//! `n << 2 | 2`, objects 16-aligned pointers). Field and element accesses are inline;
//! allocation, bulk array operations and the slow path of subtype checks are libcalls.
//! Every value that may point into the GC heap is declared to the stack maps
//! (`declare_ref`), since allocation may move objects.
//! Type checks compare canonical type indices (embedded as constants: the module's types
//! are registered before its code is compiled), falling back to `GcIsSubtype` unless the
//! target type is final.

use super::env::{ir_type, readonly, trap};
use super::{block_args, FuncTranslator};
use crate::error::Result;
use crate::libcall::Libcall;
use crate::types::{CanonicalKind, CompositeType, FieldType, StorageType, ValType};
use crate::vmoffsets::{
    struct_type_layout, ALLOC_TOO_LARGE, DATA_OFFSET, DESCRIPTOR_OFFSET, GC_ALIGN as ALIGN,
    HEADER_SIZE, LARGE_OBJECT, LENGTH_OFFSET, SEGMENT_OUT_OF_BOUNDS, TYPE_OFFSET,
};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64, I64X2, I8};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, TrapCode, Value};
use wasmparser::{self as wp, Operator as O};

/// Flags of object field accesses: compiled code only reaches non-null, in-bounds fields.
fn field_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl FuncTranslator<'_, '_> {
    /// Translates a GC operator; returns false if `op` is not one.
    pub(super) fn gc(&mut self, op: &O<'_>) -> Result<bool> {
        match *op {
            O::RefI31 => {
                let v = self.pop();
                let shifted = self.b.ins().ishl_imm_u(v, 1);
                let tagged = self.b.ins().bor_imm_u(shifted, 1);
                let r = self.b.ins().uextend(I64, tagged);
                self.push(r);
            }
            O::I31GetS | O::I31GetU => {
                let r = self.pop();
                self.b.ins().trapz(r, trap::NULL_I31_REFERENCE);
                let low = self.b.ins().ireduce(I32, r);
                let v = if matches!(op, O::I31GetS) {
                    self.b.ins().sshr_imm_u(low, 1)
                } else {
                    self.b.ins().ushr_imm_u(low, 1)
                };
                self.push(v);
            }
            // `any` and `extern` references share one encoding.
            O::AnyConvertExtern | O::ExternConvertAny => {}

            O::StructNew {
                struct_type_index: t,
            }
            | O::StructNewDesc {
                struct_type_index: t,
            } => {
                let descriptor = self.pop_descriptor(matches!(op, O::StructNewDesc { .. }));
                let fields = self.struct_fields(t);
                let (offsets, _) = struct_type_layout(&self.env.info.types[t as usize]);
                let values = self.stack.split_off(self.stack.len() - fields.len());
                let obj = self.alloc_struct(t);
                for ((f, off), v) in fields.iter().zip(offsets).zip(values) {
                    self.store_field(f.storage, v, obj, off as i32);
                }
                self.set_descriptor(obj, descriptor);
                self.push(obj);
            }
            O::StructNewDefault {
                struct_type_index: t,
            }
            | O::StructNewDefaultDesc {
                struct_type_index: t,
            } => {
                let descriptor = self.pop_descriptor(matches!(op, O::StructNewDefaultDesc { .. }));
                let obj = self.alloc_struct(t);
                // Bump allocation in compiled code does not clear memory.
                let fields = self.struct_fields(t);
                let (offsets, _) = struct_type_layout(&self.env.info.types[t as usize]);
                for (f, off) in fields.iter().zip(offsets) {
                    let zero = self.zero(f.storage.unpack());
                    self.store_field(f.storage, zero, obj, off as i32);
                }
                self.set_descriptor(obj, descriptor);
                self.push(obj);
            }
            O::RefGetDesc { .. } => {
                let obj = self.pop();
                self.b.ins().trapz(obj, trap::NULL_REFERENCE);
                let d = self
                    .b
                    .ins()
                    .load(I64, field_flags(), obj, DESCRIPTOR_OFFSET);
                self.declare_gc_ref(d);
                self.push(d);
            }
            O::RefCastDescEqNonNull { .. } | O::RefCastDescEqNullable { .. } => {
                let descriptor = self.pop_descriptor(true).unwrap();
                let r = *self.stack.last().unwrap();
                let c = self.has_descriptor(
                    r,
                    matches!(op, O::RefCastDescEqNullable { .. }),
                    descriptor,
                );
                self.b.ins().trapz(c, trap::DESCRIPTOR_CAST_FAILURE);
            }
            O::BrOnCastDescEq {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastDescEqFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let descriptor = self.pop_descriptor(true).unwrap();
                let r = *self.stack.last().unwrap();
                let c = self.has_descriptor(r, to_ref_type.is_nullable(), descriptor);
                self.br_on(c, relative_depth, matches!(op, O::BrOnCastDescEq { .. }));
            }
            O::StructGet {
                struct_type_index: t,
                field_index: i,
            }
            | O::StructGetS {
                struct_type_index: t,
                field_index: i,
            }
            | O::StructGetU {
                struct_type_index: t,
                field_index: i,
            } => {
                let fields = self.struct_fields(t);
                let (offsets, _) = struct_type_layout(&self.env.info.types[t as usize]);
                let obj = self.pop();
                self.b.ins().trapz(obj, trap::NULL_STRUCT_REFERENCE);
                let signed = matches!(op, O::StructGetS { .. });
                let storage = fields[i as usize].storage;
                let v = self.load_field(storage, obj, offsets[i as usize] as i32, signed);
                self.declare_ref(v, storage.unpack());
                self.push(v);
            }
            O::StructSet {
                struct_type_index: t,
                field_index: i,
            } => {
                let fields = self.struct_fields(t);
                let (offsets, _) = struct_type_layout(&self.env.info.types[t as usize]);
                let (obj, v) = self.pop2();
                self.b.ins().trapz(obj, trap::NULL_STRUCT_REFERENCE);
                self.store_field(
                    fields[i as usize].storage,
                    v,
                    obj,
                    offsets[i as usize] as i32,
                );
            }

            O::ArrayNew {
                array_type_index: t,
            } => {
                let (value, len) = self.pop2();
                let obj = self.alloc_array(t, len);
                let zero = self.b.ins().iconst(I32, 0);
                self.fill(t, obj, zero, value, len);
                self.push(obj);
            }
            O::ArrayNewDefault {
                array_type_index: t,
            } => {
                let len = self.pop();
                let obj = self.alloc_array(t, len);
                self.push(obj);
            }
            O::ArrayNewFixed {
                array_type_index: t,
                array_size: n,
            } => {
                let storage = self.array_field(t).storage;
                let values = self.stack.split_off(self.stack.len() - n as usize);
                let obj = self.alloc_fixed(t, n, n as u64 * storage.size() as u64);
                for (i, v) in values.into_iter().enumerate() {
                    let off = DATA_OFFSET + i as u32 * storage.size();
                    self.store_field(storage, v, obj, off as i32);
                }
                self.push(obj);
            }
            O::ArrayNewData {
                array_type_index: t,
                array_data_index: d,
            } => {
                let (offset, len) = self.pop2();
                let (t, d) = (
                    self.b.ins().iconst(I32, t as i64),
                    self.b.ins().iconst(I32, d as i64),
                );
                let obj = self
                    .env
                    .call_libcall(&mut self.b, Libcall::GcArrayNewData, &[t, d, offset, len])
                    .unwrap();
                self.check_allocation(obj, Some(trap::MEMORY_OUT_OF_BOUNDS));
                self.push(obj);
            }
            O::ArrayNewElem {
                array_type_index: t,
                array_elem_index: e,
            } => {
                let (offset, len) = self.pop2();
                let (t, e) = (
                    self.b.ins().iconst(I32, t as i64),
                    self.b.ins().iconst(I32, e as i64),
                );
                let obj = self
                    .env
                    .call_libcall(&mut self.b, Libcall::GcArrayNewElem, &[t, e, offset, len])
                    .unwrap();
                self.check_allocation(obj, Some(trap::TABLE_OUT_OF_BOUNDS));
                self.push(obj);
            }
            O::ArrayGet {
                array_type_index: t,
            }
            | O::ArrayGetS {
                array_type_index: t,
            }
            | O::ArrayGetU {
                array_type_index: t,
            } => {
                let storage = self.array_field(t).storage;
                let (obj, index) = self.pop2();
                let addr = self.element_addr(obj, index, storage.size());
                let v = self.load_field(storage, addr, 0, matches!(op, O::ArrayGetS { .. }));
                self.declare_ref(v, storage.unpack());
                self.push(v);
            }
            O::ArraySet {
                array_type_index: t,
            } => {
                let storage = self.array_field(t).storage;
                let (obj, index, v) = self.pop3();
                let addr = self.element_addr(obj, index, storage.size());
                self.store_field(storage, v, addr, 0);
            }
            O::ArrayLen => {
                let obj = self.pop();
                self.b.ins().trapz(obj, trap::NULL_ARRAY_REFERENCE);
                let len = self.b.ins().load(I32, field_flags(), obj, LENGTH_OFFSET);
                self.push(len);
            }
            O::ArrayFill {
                array_type_index: t,
            } => {
                let len = self.pop();
                let (obj, start, value) = self.pop3();
                self.b.ins().trapz(obj, trap::NULL_ARRAY_REFERENCE);
                self.fill(t, obj, start, value, len);
            }
            O::ArrayCopy {
                array_type_index_dst: t,
                array_type_index_src: _,
            } => {
                let size = self.array_field(t).storage.size();
                let (src, src_index, len) = self.pop3();
                let (dst, dst_index) = self.pop2();
                self.b.ins().trapz(dst, trap::NULL_ARRAY_REFERENCE);
                self.b.ins().trapz(src, trap::NULL_ARRAY_REFERENCE);
                let size = self.b.ins().iconst(I32, size as i64);
                let args = [dst, dst_index, src, src_index, len, size];
                self.checked_libcall(Libcall::GcArrayCopy, &args, trap::ARRAY_OUT_OF_BOUNDS);
            }
            O::ArrayInitData {
                array_type_index: t,
                array_data_index: s,
            }
            | O::ArrayInitElem {
                array_type_index: t,
                array_elem_index: s,
            } => {
                let len = self.pop();
                let (obj, dst, src) = self.pop3();
                self.b.ins().trapz(obj, trap::NULL_ARRAY_REFERENCE);
                let (t, s) = (
                    self.b.ins().iconst(I32, t as i64),
                    self.b.ins().iconst(I32, s as i64),
                );
                let (call, segment_oob) = match op {
                    O::ArrayInitData { .. } => {
                        (Libcall::GcArrayInitData, trap::MEMORY_OUT_OF_BOUNDS)
                    }
                    _ => (Libcall::GcArrayInitElem, trap::TABLE_OUT_OF_BOUNDS),
                };
                let r = self
                    .env
                    .call_libcall(&mut self.b, call, &[obj, t, s, dst, src, len])
                    .unwrap();
                self.b.ins().trapz(r, trap::ARRAY_OUT_OF_BOUNDS);
                let bad_segment = self.b.ins().icmp_imm_u(IntCC::Equal, r, 2);
                self.b.ins().trapnz(bad_segment, segment_oob);
            }

            O::RefTestNonNull { hty } | O::RefTestNullable { hty } => {
                let r = self.pop();
                let c = self.ref_test(r, matches!(op, O::RefTestNullable { .. }), hty);
                self.push_bool(c);
            }
            O::RefCastNonNull { hty } | O::RefCastNullable { hty } => {
                let r = *self.stack.last().unwrap();
                let c = self.ref_test(r, matches!(op, O::RefCastNullable { .. }), hty);
                self.b.ins().trapz(c, trap::CAST_FAILURE);
            }
            O::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let r = *self.stack.last().unwrap();
                let c = self.ref_test(r, to_ref_type.is_nullable(), to_ref_type.heap_type());
                self.br_on(c, relative_depth, matches!(op, O::BrOnCast { .. }));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Branches to `relative_depth` (with the operands on top of the stack) if `c` is
    /// `when`, else continues.
    fn br_on(&mut self, c: Value, relative_depth: u32, when: bool) {
        let (target, arity) = self.branch_target(relative_depth);
        let args = block_args(self.peekn(arity));
        let next = self.b.create_block();
        if when {
            self.b.ins().brif(c, target, &args, next, &[]);
        } else {
            self.b.ins().brif(c, next, &[], target, &args);
        }
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    /// Pops the descriptor operand of a custom-descriptors operator (if `present`),
    /// trapping if it is null.
    fn pop_descriptor(&mut self, present: bool) -> Option<Value> {
        if !present {
            return None;
        }
        let d = self.pop();
        self.b.ins().trapz(d, trap::NULL_DESCRIPTOR_REFERENCE);
        Some(d)
    }

    fn set_descriptor(&mut self, obj: Value, descriptor: Option<Value>) {
        if let Some(d) = descriptor {
            self.b.ins().store(field_flags(), d, obj, DESCRIPTOR_OFFSET);
        }
    }

    /// Whether `r` is an object whose descriptor is (the non-null) `descriptor`, or null if
    /// `nullable`, as an i8.
    fn has_descriptor(&mut self, r: Value, nullable: bool, descriptor: Value) -> Value {
        self.test_object(r, nullable, true, |t, _| {
            let d = t.b.ins().load(I64, field_flags(), r, DESCRIPTOR_OFFSET);
            t.b.ins().icmp(IntCC::Equal, d, descriptor)
        })
    }

    /// Traps with `code` unless canonical type `actual` (i32) is a subtype of `expected`,
    /// the canonical index of the module's type `type_index`.
    pub(super) fn trap_unless_subtype(
        &mut self,
        actual: Value,
        expected: Value,
        type_index: u32,
        code: TrapCode,
    ) {
        let same = self.b.ins().icmp(IntCC::Equal, actual, expected);
        if self.env.info.types[type_index as usize].is_final {
            self.b.ins().trapz(same, code);
            return;
        }
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(same, done, &[], slow, &[]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let ok = self
            .env
            .call_libcall(&mut self.b, Libcall::GcIsSubtype, &[actual, expected])
            .unwrap();
        self.b.ins().trapz(ok, code);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Whether reference `r` has type `(ref null? heap)`, as an i8 (0 or 1).
    fn ref_test(&mut self, r: Value, nullable: bool, heap: wp::HeapType) -> Value {
        use wp::AbstractHeapType as A;
        match heap {
            wp::HeapType::Abstract { ty, .. } => match ty {
                A::Any | A::Func | A::Extern | A::Exn | A::Cont => {
                    if nullable {
                        self.b.ins().iconst(I8, 1)
                    } else {
                        self.b.ins().icmp_imm_u(IntCC::NotEqual, r, 0)
                    }
                }
                A::None | A::NoFunc | A::NoExtern | A::NoExn | A::NoCont => {
                    if nullable {
                        self.b.ins().icmp_imm_u(IntCC::Equal, r, 0)
                    } else {
                        self.b.ins().iconst(I8, 0)
                    }
                }
                A::Eq => {
                    // i31 values and objects, not host references (null passes `& 3 != 2`).
                    let low = self.b.ins().band_imm_u(r, 3);
                    let eq = self.b.ins().icmp_imm_u(IntCC::NotEqual, low, 2);
                    if nullable {
                        eq
                    } else {
                        let non_null = self.b.ins().icmp_imm_u(IntCC::NotEqual, r, 0);
                        self.b.ins().band(eq, non_null)
                    }
                }
                A::I31 => {
                    let low = self.b.ins().band_imm_u(r, 1);
                    let i31 = self.b.ins().icmp_imm_u(IntCC::NotEqual, low, 0);
                    if nullable {
                        let null = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                        self.b.ins().bor(i31, null)
                    } else {
                        i31
                    }
                }
                A::Struct | A::Array => {
                    let kind = if ty == A::Struct {
                        CanonicalKind::Struct
                    } else {
                        CanonicalKind::Array
                    };
                    self.test_object(r, nullable, true, |t, id| {
                        let k = t.b.ins().band_imm_u(id, 3);
                        t.b.ins().icmp_imm_u(IntCC::Equal, k, kind as i64)
                    })
                }
            },
            wp::HeapType::Concrete(idx) | wp::HeapType::Exact(idx) => {
                let index = idx.as_module_index().expect("module-level type index");
                let want = self.env.info.type_ids[index as usize];
                let exact = matches!(heap, wp::HeapType::Exact(_))
                    || self.env.info.types[index as usize].is_final;
                let is_object = CanonicalKind::of(want) != CanonicalKind::Func;
                self.test_object(r, nullable, is_object, |t, id| {
                    let same = t.b.ins().icmp_imm_u(IntCC::Equal, id, want as i64);
                    if exact {
                        return same;
                    }
                    let slow = t.b.create_block();
                    let done = t.b.create_block();
                    t.b.append_block_param(done, I8);
                    let one = t.b.ins().iconst(I8, 1);
                    t.b.ins().brif(same, done, &block_args(&[one]), slow, &[]);
                    t.b.switch_to_block(slow);
                    t.b.seal_block(slow);
                    let want = t.b.ins().iconst(I32, want as i64);
                    let sub = t
                        .env
                        .call_libcall(&mut t.b, Libcall::GcIsSubtype, &[id, want])
                        .unwrap();
                    let sub = t.b.ins().icmp_imm_u(IntCC::NotEqual, sub, 0);
                    t.b.ins().jump(done, &block_args(&[sub]));
                    t.b.switch_to_block(done);
                    t.b.seal_block(done);
                    t.b.block_params(done)[0]
                })
            }
        }
    }

    /// Tests a reference by the canonical type index in its header: null gives `nullable`,
    /// i31 values and host references (for objects, `is_object`) give false, others
    /// `check(type index)`. Function references keep their type index in the funcref.
    fn test_object(
        &mut self,
        r: Value,
        nullable: bool,
        is_object: bool,
        check: impl FnOnce(&mut Self, Value) -> Value,
    ) -> Value {
        let done = self.b.create_block();
        self.b.append_block_param(done, I8);
        let non_null = self.b.create_block();
        let null_result = self.b.ins().iconst(I8, nullable as i64);
        self.b
            .ins()
            .brif(r, non_null, &[], done, &block_args(&[null_result]));
        self.b.switch_to_block(non_null);
        self.b.seal_block(non_null);
        let id = if is_object {
            let object = self.b.create_block();
            let low = self.b.ins().band_imm_u(r, 3);
            let no = self.b.ins().iconst(I8, 0);
            self.b
                .ins()
                .brif(low, done, &block_args(&[no]), object, &[]);
            self.b.switch_to_block(object);
            self.b.seal_block(object);
            self.b.ins().load(I32, field_flags(), r, TYPE_OFFSET)
        } else {
            self.b
                .ins()
                .load(I32, field_flags(), r, crate::vmoffsets::FUNCREF_TYPE_ID)
        };
        let c = check(self, id);
        self.b.ins().jump(done, &block_args(&[c]));
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.b.block_params(done)[0]
    }

    fn struct_fields(&self, type_index: u32) -> Vec<FieldType> {
        match &self.env.info.types[type_index as usize].composite {
            CompositeType::Struct(fields) => fields.to_vec(),
            _ => unreachable!("validated: type {type_index} is a struct type"),
        }
    }

    fn array_field(&self, type_index: u32) -> FieldType {
        match &self.env.info.types[type_index as usize].composite {
            CompositeType::Array(f) => *f,
            _ => unreachable!("validated: type {type_index} is an array type"),
        }
    }

    /// A struct of type `type_index` whose fields the caller writes.
    fn alloc_struct(&mut self, type_index: u32) -> Value {
        let (_, data) = struct_type_layout(&self.env.info.types[type_index as usize]);
        self.alloc_fixed(type_index, 0, data as u64)
    }

    /// An object of type `type_index` (module-local) with length word `len` and `data` bytes
    /// after the header, which the caller writes (the memory is not cleared): bump-allocated
    /// inline (`vm::gc::heap`), or by the `GcAlloc` libcall, which may collect, when the
    /// threshold is reached.
    fn alloc_fixed(&mut self, type_index: u32, len: u32, data: u64) -> Value {
        use crate::vmoffsets as off;
        let type_id = self.env.info.type_ids[type_index as usize];
        let size = (HEADER_SIZE as u64 + data).next_multiple_of(ALIGN as u64);
        let slow = self.b.create_block();
        let fast = self.b.create_block();
        let done = self.b.create_block();
        let obj = self.b.append_block_param(done, I64);
        self.b.set_cold_block(slow);
        if size >= LARGE_OBJECT as u64 {
            // A large object (or one that never fits): the libcall maps it (or traps).
            self.b.ins().jump(slow, &[]);
        } else {
            let vmctx = self.env.vmctx(&mut self.b);
            let limits = self
                .b
                .ins()
                .load(I64, readonly(), vmctx, off::VMCTX_LIMITS as i32);
            let bump = self
                .b
                .ins()
                .load(I64, readonly(), limits, off::LIMITS_GC_BUMP);
            let flags = MemFlagsData::trusted();
            let next = self.b.ins().load(I64, flags, bump, off::GC_BUMP_NEXT);
            let end = self.b.ins().load(I64, flags, bump, off::GC_BUMP_END);
            let new_next = self.b.ins().iadd_imm_u(next, size as i64);
            let fits = self
                .b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, new_next, end);
            self.b.ins().brif(fits, fast, &[], slow, &[]);
            self.b.switch_to_block(fast);
            self.b.seal_block(fast);
            self.b.ins().store(flags, new_next, bump, off::GC_BUMP_NEXT);
            let header = self
                .b
                .ins()
                .iconst(I64, ((len as u64) << 32 | type_id as u64) as i64);
            self.b.ins().store(field_flags(), header, next, TYPE_OFFSET);
            self.b.ins().jump(done, &block_args(&[next]));
        }
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let unit = if CanonicalKind::of(type_id) == CanonicalKind::Array {
            data / len.max(1) as u64
        } else {
            data
        };
        let len = self.b.ins().iconst(I32, len as i64);
        let r = self.call_alloc(type_id, len, unit);
        self.b.ins().jump(done, &block_args(&[r]));
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.declare_gc_ref(obj);
        obj
    }

    /// A zeroed array of type `type_index` with `len` (i32) elements, from the libcall.
    fn alloc_array(&mut self, type_index: u32, len: Value) -> Value {
        let type_id = self.env.info.type_ids[type_index as usize];
        let unit = self.array_field(type_index).storage.size() as u64;
        self.call_alloc(type_id, len, unit)
    }

    /// Calls `GcAlloc` for canonical type `type_id` with length word `len`; `unit` is the
    /// struct's data size or the array's element size. Traps if it fails.
    fn call_alloc(&mut self, type_id: u32, len: Value, unit: u64) -> Value {
        let t = self.b.ins().iconst(I32, type_id as i64);
        let unit = self.b.ins().iconst(I32, unit.min(u32::MAX as u64) as i64);
        let obj = self
            .env
            .call_libcall(&mut self.b, Libcall::GcAlloc, &[t, len, unit])
            .unwrap();
        self.check_allocation(obj, None);
        obj
    }

    /// Traps unless the allocation libcall's result `obj` is an object (see `vm::gc`):
    /// 0 is a full heap, `ALLOC_TOO_LARGE` an object larger than the heap limit, and
    /// `SEGMENT_OUT_OF_BOUNDS` (from the segment libcalls) traps with `segment`. Declares the
    /// object a GC reference.
    fn check_allocation(&mut self, obj: Value, segment: Option<TrapCode>) {
        self.b.ins().trapz(obj, trap::GC_HEAP_OUT_OF_MEMORY);
        let too_large = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, obj, ALLOC_TOO_LARGE as i64);
        self.b.ins().trapnz(too_large, trap::ALLOCATION_TOO_LARGE);
        if let Some(code) = segment {
            let bad = self
                .b
                .ins()
                .icmp_imm_u(IntCC::Equal, obj, SEGMENT_OUT_OF_BOUNDS as i64);
            self.b.ins().trapnz(bad, code);
        }
        self.declare_gc_ref(obj);
    }

    /// Stores `value` into elements `[start, start + len)` of the non-null array `obj`.
    fn fill(&mut self, type_index: u32, obj: Value, start: Value, value: Value, len: Value) {
        let storage = self.array_field(type_index).storage;
        let (lo, hi) = match storage.unpack() {
            ValType::I32 => (
                self.b.ins().uextend(I64, value),
                self.b.ins().iconst(I64, 0),
            ),
            ValType::F32 => {
                let bits = self.b.ins().bitcast(I32, MemFlagsData::new(), value);
                (self.b.ins().uextend(I64, bits), self.b.ins().iconst(I64, 0))
            }
            ValType::F64 => (
                self.b.ins().bitcast(I64, MemFlagsData::new(), value),
                self.b.ins().iconst(I64, 0),
            ),
            ValType::V128 => {
                let v = if self.b.func.dfg.value_type(value) == I64X2 {
                    value
                } else {
                    let flags = MemFlagsData::new().with_endianness(Endianness::Little);
                    self.b.ins().bitcast(I64X2, flags, value)
                };
                (
                    self.b.ins().extractlane(v, 0),
                    self.b.ins().extractlane(v, 1),
                )
            }
            ValType::I64 | ValType::Ref(_) => (value, self.b.ins().iconst(I64, 0)),
        };
        let size = self.b.ins().iconst(I32, storage.size() as i64);
        let args = [obj, start, len, lo, hi, size];
        self.checked_libcall(Libcall::GcArrayFill, &args, trap::ARRAY_OUT_OF_BOUNDS);
    }

    /// The address of element `index` (i32) of array `obj`, trapping on null and out of
    /// bounds.
    fn element_addr(&mut self, obj: Value, index: Value, size: u32) -> Value {
        self.b.ins().trapz(obj, trap::NULL_ARRAY_REFERENCE);
        let len = self.b.ins().load(I32, field_flags(), obj, LENGTH_OFFSET);
        let out = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b.ins().trapnz(out, trap::ARRAY_OUT_OF_BOUNDS);
        let index = self.b.ins().uextend(I64, index);
        let scaled = self.b.ins().imul_imm_u(index, size as i64);
        let base = self.b.ins().iadd(obj, scaled);
        self.b.ins().iadd_imm_u(base, DATA_OFFSET as i64)
    }

    fn load_field(
        &mut self,
        storage: StorageType,
        addr: Value,
        offset: i32,
        signed: bool,
    ) -> Value {
        let f = field_flags();
        match (storage, signed) {
            (StorageType::I8, true) => self.b.ins().sload8(I32, f, addr, offset),
            (StorageType::I8, false) => self.b.ins().uload8(I32, f, addr, offset),
            (StorageType::I16, true) => self.b.ins().sload16(I32, f, addr, offset),
            (StorageType::I16, false) => self.b.ins().uload16(I32, f, addr, offset),
            (StorageType::Val(t), _) => self.b.ins().load(ir_type(t), f, addr, offset),
        }
    }

    fn store_field(&mut self, storage: StorageType, value: Value, addr: Value, offset: i32) {
        let f = field_flags();
        match storage {
            StorageType::I8 => self.b.ins().istore8(f, value, addr, offset),
            StorageType::I16 => self.b.ins().istore16(f, value, addr, offset),
            StorageType::Val(_) => self.b.ins().store(f, value, addr, offset),
        };
    }
}
