//! Phase 3, translate: fixed-width SIMD (`v128`) and relaxed SIMD operators.
//!
//! Every `v128` on the operand stack, in locals and in block parameters is a Cranelift
//! `i8x16` (see [`super::env::ir_type`]). An operator reinterprets its operands as the lane
//! type it works on ([`FuncTranslator::vpop`]) and pushes its result back as `i8x16`
//! ([`FuncTranslator::vpush`]); these bitcasts cost nothing at run time.
//!
//! Cranelift's vector instructions mostly have wasm semantics already: `swizzle` zeroes lanes
//! for out-of-range indices, vector shifts take the amount modulo the lane width,
//! `fmin`/`fmax` propagate NaN and order zeros, `snarrow`/`unarrow` saturate, and
//! `fcvt_to_*int_sat` saturates with NaN to 0.
//!
//! # Relaxed SIMD
//!
//! Each relaxed operator has one deterministic behaviour, the same on every host:
//!
//! * `i8x16.relaxed_swizzle` is `i8x16.swizzle` (indices past 15 select 0).
//! * `i32x4.relaxed_trunc_*` are the saturating `i32x4.trunc_sat_*` (NaN gives 0, overflow
//!   saturates).
//! * `f32x4/f64x2.relaxed_madd(a, b, c)` is the unfused `a * b + c` (two roundings), and
//!   `relaxed_nmadd(a, b, c)` is the unfused `-(a * b) + c`.
//! * `*.relaxed_laneselect(a, b, m)` is `v128.bitselect(a, b, m)` (selects bit by bit).
//! * `f32x4/f64x2.relaxed_min/max` are `fNxM.min/max` (NaN-propagating, `-0 < +0`).
//! * `i16x8.relaxed_q15mulr_s` is `i16x8.q15mulr_sat_s` (saturates `-32768 * -32768`).
//! * `i16x8.relaxed_dot_i8x16_i7x16_s` treats both operands as signed i8 and adds each pair
//!   of products with signed saturation; `i32x4.relaxed_dot_i8x16_i7x16_add_s` adds adjacent
//!   pairs of that i16x8 result, widened to i32, and then the accumulator (wrapping).

use super::FuncTranslator;
use crate::error::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator as O};

/// Flags for lane reinterpretation between vector types (lane order is little-endian, as in
/// wasm).
fn lane_cast_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Reinterprets vector `v` as `ty` (no-op when it already has that type).
fn vcast(b: &mut FunctionBuilder, v: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lane_cast_flags(), v)
    }
}

/// A vector constant of type `ty` from its 16 little-endian bytes.
fn vconst(b: &mut FunctionBuilder, ty: Type, bytes: &[u8; 16]) -> Value {
    let c = b.func.dfg.constants.insert(ConstantData::from(&bytes[..]));
    b.ins().vconst(ty, c)
}

/// The scalar lane type a `splat`/`replace_lane` operand is narrowed to.
fn narrow_scalar(b: &mut FunctionBuilder, x: Value, lane: Type) -> Value {
    match lane {
        I8 | I16 => b.ins().ireduce(lane, x),
        _ => x,
    }
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s` as this runtime defines it: both operands signed i8,
/// each pair of products added with signed saturation.
fn dot_i8x16_i16x8_sat(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    // Split each i16 lane into its even (low) and odd (high) signed byte.
    let x16 = vcast(b, x, I16X8);
    let y16 = vcast(b, y, I16X8);
    let x_even = b.ins().ishl_imm_u(x16, 8);
    let x_even = b.ins().sshr_imm_u(x_even, 8);
    let y_even = b.ins().ishl_imm_u(y16, 8);
    let y_even = b.ins().sshr_imm_u(y_even, 8);
    let x_odd = b.ins().sshr_imm_u(x16, 8);
    let y_odd = b.ins().sshr_imm_u(y16, 8);
    // |i8 * i8| <= 16384: each product fits in i16; only the sum can overflow.
    let even = b.ins().imul(x_even, y_even);
    let odd = b.ins().imul(x_odd, y_odd);
    b.ins().sadd_sat(even, odd)
}

impl FuncTranslator<'_, '_> {
    /// Pops a `v128` and reinterprets it as `ty`.
    fn vpop(&mut self, ty: Type) -> Value {
        let v = self.pop();
        vcast(&mut self.b, v, ty)
    }

    fn vpop2(&mut self, ty: Type) -> (Value, Value) {
        let y = self.vpop(ty);
        let x = self.vpop(ty);
        (x, y)
    }

    /// Pushes a vector of any type as a `v128` (`i8x16`).
    fn vpush(&mut self, v: Value) {
        let v = vcast(&mut self.b, v, I8X16);
        self.push(v);
    }

    fn vunary(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder, Value) -> Value) {
        let a = self.vpop(ty);
        let v = f(&mut self.b, a);
        self.vpush(v);
    }

    fn vbinary(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder, Value, Value) -> Value) {
        let (x, y) = self.vpop2(ty);
        let v = f(&mut self.b, x, y);
        self.vpush(v);
    }

    fn vicmp(&mut self, ty: Type, cc: IntCC) {
        self.vbinary(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    fn vfcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vbinary(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// A shift by an i32 amount, taken modulo the lane width.
    fn vshift(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder, Value, Value) -> Value) {
        let amount = self.pop();
        let a = self.vpop(ty);
        let amount = self.b.ins().band_imm_u(amount, (ty.lane_bits() - 1) as i64);
        let v = f(&mut self.b, a, amount);
        self.vpush(v);
    }

    fn splat(&mut self, ty: Type) {
        let x = self.pop();
        let x = narrow_scalar(&mut self.b, x, ty.lane_type());
        let v = self.b.ins().splat(ty, x);
        self.vpush(v);
    }

    /// `extract_lane`; `signed` widens i8/i16 lanes to i32 (`Some(true)`: sign-extending).
    fn extract_lane(&mut self, ty: Type, lane: u8, signed: Option<bool>) {
        let v = self.vpop(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match signed {
            Some(true) => self.b.ins().sextend(I32, x),
            Some(false) => self.b.ins().uextend(I32, x),
            None => x,
        };
        self.push(x);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop();
        let v = self.vpop(ty);
        let x = narrow_scalar(&mut self.b, x, ty.lane_type());
        let r = self.b.ins().insertlane(v, x, lane);
        self.vpush(r);
    }

    /// `pmin` (`min = true`: `b < a ? b : a`) and `pmax` (`a < b ? b : a`), lane by lane.
    fn pminmax(&mut self, ty: Type, min: bool) {
        self.vbinary(ty, |b, x, y| {
            let cmp = if min {
                b.ins().fcmp(FloatCC::LessThan, y, x)
            } else {
                b.ins().fcmp(FloatCC::LessThan, x, y)
            };
            let cmp = vcast(b, cmp, ty);
            b.ins().bitselect(cmp, y, x)
        });
    }

    /// Loads a scalar of type `ty` and makes a vector from it with `f`.
    fn vload_scalar(
        &mut self,
        memarg: MemArg,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder, Value) -> Value,
    ) {
        let (addr, flags) = self.effective_address(memarg, ty.bytes());
        let x = self.b.ins().load(ty, flags, addr, 0);
        let v = f(&mut self.b, x);
        self.vpush(v);
    }

    /// `v128.loadNxM_s/u`: 8 bytes widened to a full vector.
    fn vload_extend(
        &mut self,
        memarg: MemArg,
        f: impl FnOnce(&mut FunctionBuilder, MemFlagsData, Value) -> Value,
    ) {
        let (addr, flags) = self.effective_address(memarg, 8);
        let v = f(&mut self.b, flags, addr);
        self.vpush(v);
    }

    fn vload_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) {
        let v = self.vpop(ty);
        let (addr, flags) = self.effective_address(memarg, ty.lane_type().bytes());
        let x = self.b.ins().load(ty.lane_type(), flags, addr, 0);
        let r = self.b.ins().insertlane(v, x, lane);
        self.vpush(r);
    }

    fn vstore_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) {
        let v = self.vpop(ty);
        let (addr, flags) = self.effective_address(memarg, ty.lane_type().bytes());
        let x = self.b.ins().extractlane(v, lane);
        self.b.ins().store(flags, x, addr, 0);
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: two saturated lanes, then two zero lanes.
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) {
        self.vunary(F64X2, |b, a| {
            let zero = vconst(b, I64X2, &[0; 16]);
            if signed {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, a);
                b.ins().snarrow(wide, zero)
            } else {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, a);
                b.ins().uunarrow(wide, zero)
            }
        });
    }

    /// Translates a SIMD or relaxed SIMD operator; returns false if `op` is not one.
    /// (`v128.load` and `v128.store` are in `memory.rs`.)
    pub(super) fn simd(&mut self, op: &O<'_>) -> Result<bool> {
        match *op {
            // ---- constants and shuffles ----
            O::V128Const { value } => {
                let v = vconst(&mut self.b, I8X16, value.bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let (x, y) = self.vpop2(I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(&lanes[..]));
                let v = self.b.ins().shuffle(x, y, mask);
                self.vpush(v);
            }
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.vbinary(I8X16, |b, x, s| b.ins().swizzle(x, s))
            }

            // ---- splat, extract and replace lane ----
            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(true)),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(false)),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(true)),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(false)),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            // ---- loads and stores ----
            O::V128Load8x8S { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().sload8x8(f, a, 0))
            }
            O::V128Load8x8U { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().uload8x8(f, a, 0))
            }
            O::V128Load16x4S { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().sload16x4(f, a, 0))
            }
            O::V128Load16x4U { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().uload16x4(f, a, 0))
            }
            O::V128Load32x2S { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().sload32x2(f, a, 0))
            }
            O::V128Load32x2U { memarg } => {
                self.vload_extend(memarg, |b, f, a| b.ins().uload32x2(f, a, 0))
            }
            O::V128Load8Splat { memarg } => {
                self.vload_scalar(memarg, I8, |b, x| b.ins().splat(I8X16, x))
            }
            O::V128Load16Splat { memarg } => {
                self.vload_scalar(memarg, I16, |b, x| b.ins().splat(I16X8, x))
            }
            O::V128Load32Splat { memarg } => {
                self.vload_scalar(memarg, I32, |b, x| b.ins().splat(I32X4, x))
            }
            O::V128Load64Splat { memarg } => {
                self.vload_scalar(memarg, I64, |b, x| b.ins().splat(I64X2, x))
            }
            O::V128Load32Zero { memarg } => {
                self.vload_scalar(memarg, I32, |b, x| b.ins().scalar_to_vector(I32X4, x))
            }
            O::V128Load64Zero { memarg } => {
                self.vload_scalar(memarg, I64, |b, x| b.ins().scalar_to_vector(I64X2, x))
            }
            O::V128Load8Lane { memarg, lane } => self.vload_lane(memarg, I8X16, lane),
            O::V128Load16Lane { memarg, lane } => self.vload_lane(memarg, I16X8, lane),
            O::V128Load32Lane { memarg, lane } => self.vload_lane(memarg, I32X4, lane),
            O::V128Load64Lane { memarg, lane } => self.vload_lane(memarg, I64X2, lane),
            O::V128Store8Lane { memarg, lane } => self.vstore_lane(memarg, I8X16, lane),
            O::V128Store16Lane { memarg, lane } => self.vstore_lane(memarg, I16X8, lane),
            O::V128Store32Lane { memarg, lane } => self.vstore_lane(memarg, I32X4, lane),
            O::V128Store64Lane { memarg, lane } => self.vstore_lane(memarg, I64X2, lane),

            // ---- bitwise ----
            O::V128Not => self.vunary(I8X16, |b, a| b.ins().bnot(a)),
            O::V128And => self.vbinary(I8X16, |b, x, y| b.ins().band(x, y)),
            O::V128AndNot => self.vbinary(I8X16, |b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.vbinary(I8X16, |b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.vbinary(I8X16, |b, x, y| b.ins().bxor(x, y)),
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                let c = self.vpop(I8X16);
                let (x, y) = self.vpop2(I8X16);
                let v = self.b.ins().bitselect(c, x, y);
                self.vpush(v);
            }
            O::V128AnyTrue => {
                let a = self.vpop(I8X16);
                let c = self.b.ins().vany_true(a);
                self.push_bool(c);
            }

            // ---- all_true and bitmask ----
            O::I8x16AllTrue => self.all_true(I8X16),
            O::I16x8AllTrue => self.all_true(I16X8),
            O::I32x4AllTrue => self.all_true(I32X4),
            O::I64x2AllTrue => self.all_true(I64X2),
            O::I8x16Bitmask => self.bitmask(I8X16),
            O::I16x8Bitmask => self.bitmask(I16X8),
            O::I32x4Bitmask => self.bitmask(I32X4),
            O::I64x2Bitmask => self.bitmask(I64X2),

            // ---- integer comparisons ----
            O::I8x16Eq => self.vicmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.vicmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.vicmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.vicmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.vicmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.vicmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.vicmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.vicmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.vicmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.vicmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.vicmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.vicmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.vicmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.vicmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.vicmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.vicmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.vicmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.vicmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.vicmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.vicmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.vicmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.vicmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.vicmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.vicmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.vicmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.vicmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.vicmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.vicmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.vicmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.vicmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.vicmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.vicmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.vicmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.vicmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.vicmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.vicmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // ---- float comparisons (`ne` is true for unordered operands) ----
            O::F32x4Eq => self.vfcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.vfcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.vfcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.vfcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.vfcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.vfcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.vfcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.vfcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.vfcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.vfcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.vfcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.vfcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // ---- integer arithmetic ----
            O::I8x16Abs => self.vunary(I8X16, |b, a| b.ins().iabs(a)),
            O::I16x8Abs => self.vunary(I16X8, |b, a| b.ins().iabs(a)),
            O::I32x4Abs => self.vunary(I32X4, |b, a| b.ins().iabs(a)),
            O::I64x2Abs => self.vunary(I64X2, |b, a| b.ins().iabs(a)),
            O::I8x16Neg => self.vunary(I8X16, |b, a| b.ins().ineg(a)),
            O::I16x8Neg => self.vunary(I16X8, |b, a| b.ins().ineg(a)),
            O::I32x4Neg => self.vunary(I32X4, |b, a| b.ins().ineg(a)),
            O::I64x2Neg => self.vunary(I64X2, |b, a| b.ins().ineg(a)),
            O::I8x16Popcnt => self.vunary(I8X16, |b, a| b.ins().popcnt(a)),
            O::I8x16Add => self.vbinary(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8Add => self.vbinary(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Add => self.vbinary(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Add => self.vbinary(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16Sub => self.vbinary(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Sub => self.vbinary(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Sub => self.vbinary(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Sub => self.vbinary(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Mul => self.vbinary(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I32x4Mul => self.vbinary(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I64x2Mul => self.vbinary(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I8x16AddSatS => self.vbinary(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.vbinary(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16SubSatS => self.vbinary(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.vbinary(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8AddSatS => self.vbinary(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.vbinary(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8SubSatS => self.vbinary(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.vbinary(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.vbinary(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.vbinary(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.vbinary(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.vbinary(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I16x8MinS => self.vbinary(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.vbinary(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.vbinary(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.vbinary(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I32x4MinS => self.vbinary(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.vbinary(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.vbinary(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.vbinary(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.vbinary(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8AvgrU => self.vbinary(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.vbinary(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }

            // ---- shifts ----
            O::I8x16Shl => self.vshift(I8X16, |b, x, s| b.ins().ishl(x, s)),
            O::I16x8Shl => self.vshift(I16X8, |b, x, s| b.ins().ishl(x, s)),
            O::I32x4Shl => self.vshift(I32X4, |b, x, s| b.ins().ishl(x, s)),
            O::I64x2Shl => self.vshift(I64X2, |b, x, s| b.ins().ishl(x, s)),
            O::I8x16ShrS => self.vshift(I8X16, |b, x, s| b.ins().sshr(x, s)),
            O::I16x8ShrS => self.vshift(I16X8, |b, x, s| b.ins().sshr(x, s)),
            O::I32x4ShrS => self.vshift(I32X4, |b, x, s| b.ins().sshr(x, s)),
            O::I64x2ShrS => self.vshift(I64X2, |b, x, s| b.ins().sshr(x, s)),
            O::I8x16ShrU => self.vshift(I8X16, |b, x, s| b.ins().ushr(x, s)),
            O::I16x8ShrU => self.vshift(I16X8, |b, x, s| b.ins().ushr(x, s)),
            O::I32x4ShrU => self.vshift(I32X4, |b, x, s| b.ins().ushr(x, s)),
            O::I64x2ShrU => self.vshift(I64X2, |b, x, s| b.ins().ushr(x, s)),

            // ---- narrowing and widening ----
            O::I8x16NarrowI16x8S => self.vbinary(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.vbinary(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8NarrowI32x4S => self.vbinary(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.vbinary(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.vunary(I8X16, |b, a| b.ins().swiden_low(a)),
            O::I16x8ExtendHighI8x16S => self.vunary(I8X16, |b, a| b.ins().swiden_high(a)),
            O::I16x8ExtendLowI8x16U => self.vunary(I8X16, |b, a| b.ins().uwiden_low(a)),
            O::I16x8ExtendHighI8x16U => self.vunary(I8X16, |b, a| b.ins().uwiden_high(a)),
            O::I32x4ExtendLowI16x8S => self.vunary(I16X8, |b, a| b.ins().swiden_low(a)),
            O::I32x4ExtendHighI16x8S => self.vunary(I16X8, |b, a| b.ins().swiden_high(a)),
            O::I32x4ExtendLowI16x8U => self.vunary(I16X8, |b, a| b.ins().uwiden_low(a)),
            O::I32x4ExtendHighI16x8U => self.vunary(I16X8, |b, a| b.ins().uwiden_high(a)),
            O::I64x2ExtendLowI32x4S => self.vunary(I32X4, |b, a| b.ins().swiden_low(a)),
            O::I64x2ExtendHighI32x4S => self.vunary(I32X4, |b, a| b.ins().swiden_high(a)),
            O::I64x2ExtendLowI32x4U => self.vunary(I32X4, |b, a| b.ins().uwiden_low(a)),
            O::I64x2ExtendHighI32x4U => self.vunary(I32X4, |b, a| b.ins().uwiden_high(a)),

            // ---- extended multiply, pairwise add, dot products ----
            O::I16x8ExtMulLowI8x16S => self.extmul(I8X16, true, false),
            O::I16x8ExtMulHighI8x16S => self.extmul(I8X16, true, true),
            O::I16x8ExtMulLowI8x16U => self.extmul(I8X16, false, false),
            O::I16x8ExtMulHighI8x16U => self.extmul(I8X16, false, true),
            O::I32x4ExtMulLowI16x8S => self.extmul(I16X8, true, false),
            O::I32x4ExtMulHighI16x8S => self.extmul(I16X8, true, true),
            O::I32x4ExtMulLowI16x8U => self.extmul(I16X8, false, false),
            O::I32x4ExtMulHighI16x8U => self.extmul(I16X8, false, true),
            O::I64x2ExtMulLowI32x4S => self.extmul(I32X4, true, false),
            O::I64x2ExtMulHighI32x4S => self.extmul(I32X4, true, true),
            O::I64x2ExtMulLowI32x4U => self.extmul(I32X4, false, false),
            O::I64x2ExtMulHighI32x4U => self.extmul(I32X4, false, true),
            O::I16x8ExtAddPairwiseI8x16S => self.vunary(I8X16, |b, a| extadd_pairwise(b, a, true)),
            O::I16x8ExtAddPairwiseI8x16U => self.vunary(I8X16, |b, a| extadd_pairwise(b, a, false)),
            O::I32x4ExtAddPairwiseI16x8S => self.vunary(I16X8, |b, a| extadd_pairwise(b, a, true)),
            O::I32x4ExtAddPairwiseI16x8U => self.vunary(I16X8, |b, a| extadd_pairwise(b, a, false)),
            O::I32x4DotI16x8S => self.vbinary(I16X8, |b, x, y| {
                let xl = b.ins().swiden_low(x);
                let yl = b.ins().swiden_low(y);
                let lo = b.ins().imul(xl, yl);
                let xh = b.ins().swiden_high(x);
                let yh = b.ins().swiden_high(y);
                let hi = b.ins().imul(xh, yh);
                b.ins().iadd_pairwise(lo, hi)
            }),
            O::I16x8RelaxedDotI8x16I7x16S => self.vbinary(I8X16, dot_i8x16_i16x8_sat),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.vpop(I32X4);
                let (x, y) = self.vpop2(I8X16);
                let dot = dot_i8x16_i16x8_sat(&mut self.b, x, y);
                let sum = extadd_pairwise(&mut self.b, dot, true);
                let v = self.b.ins().iadd(sum, acc);
                self.vpush(v);
            }

            // ---- float arithmetic ----
            O::F32x4Abs => self.vunary(F32X4, |b, a| b.ins().fabs(a)),
            O::F64x2Abs => self.vunary(F64X2, |b, a| b.ins().fabs(a)),
            O::F32x4Neg => self.vunary(F32X4, |b, a| b.ins().fneg(a)),
            O::F64x2Neg => self.vunary(F64X2, |b, a| b.ins().fneg(a)),
            O::F32x4Sqrt => self.vunary(F32X4, |b, a| b.ins().sqrt(a)),
            O::F64x2Sqrt => self.vunary(F64X2, |b, a| b.ins().sqrt(a)),
            O::F32x4Ceil => self.vunary(F32X4, |b, a| b.ins().ceil(a)),
            O::F64x2Ceil => self.vunary(F64X2, |b, a| b.ins().ceil(a)),
            O::F32x4Floor => self.vunary(F32X4, |b, a| b.ins().floor(a)),
            O::F64x2Floor => self.vunary(F64X2, |b, a| b.ins().floor(a)),
            O::F32x4Trunc => self.vunary(F32X4, |b, a| b.ins().trunc(a)),
            O::F64x2Trunc => self.vunary(F64X2, |b, a| b.ins().trunc(a)),
            O::F32x4Nearest => self.vunary(F32X4, |b, a| b.ins().nearest(a)),
            O::F64x2Nearest => self.vunary(F64X2, |b, a| b.ins().nearest(a)),
            O::F32x4Add => self.vbinary(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Add => self.vbinary(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.vbinary(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Sub => self.vbinary(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.vbinary(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Mul => self.vbinary(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.vbinary(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Div => self.vbinary(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            O::F32x4Min | O::F32x4RelaxedMin => self.vbinary(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2Min | O::F64x2RelaxedMin => self.vbinary(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4Max | O::F32x4RelaxedMax => self.vbinary(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2Max | O::F64x2RelaxedMax => self.vbinary(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::F32x4PMin => self.pminmax(F32X4, true),
            O::F64x2PMin => self.pminmax(F64X2, true),
            O::F32x4PMax => self.pminmax(F32X4, false),
            O::F64x2PMax => self.pminmax(F64X2, false),
            O::F32x4RelaxedMadd => self.madd(F32X4, false),
            O::F64x2RelaxedMadd => self.madd(F64X2, false),
            O::F32x4RelaxedNmadd => self.madd(F32X4, true),
            O::F64x2RelaxedNmadd => self.madd(F64X2, true),

            // ---- conversions ----
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vunary(F32X4, |b, a| b.ins().fcvt_to_sint_sat(I32X4, a))
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vunary(F32X4, |b, a| b.ins().fcvt_to_uint_sat(I32X4, a))
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_f64x2_zero(true)
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_f64x2_zero(false)
            }
            O::F32x4ConvertI32x4S => self.vunary(I32X4, |b, a| b.ins().fcvt_from_sint(F32X4, a)),
            O::F32x4ConvertI32x4U => self.vunary(I32X4, |b, a| b.ins().fcvt_from_uint(F32X4, a)),
            O::F64x2ConvertLowI32x4S => self.vunary(I32X4, |b, a| {
                let wide = b.ins().swiden_low(a);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            O::F64x2ConvertLowI32x4U => self.vunary(I32X4, |b, a| {
                let wide = b.ins().uwiden_low(a);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            O::F32x4DemoteF64x2Zero => self.vunary(F64X2, |b, a| b.ins().fvdemote(a)),
            O::F64x2PromoteLowF32x4 => self.vunary(F32X4, |b, a| b.ins().fvpromote_low(a)),

            _ => return Ok(false),
        }
        Ok(true)
    }

    fn all_true(&mut self, ty: Type) {
        let a = self.vpop(ty);
        let c = self.b.ins().vall_true(a);
        self.push_bool(c);
    }

    fn bitmask(&mut self, ty: Type) {
        let a = self.vpop(ty);
        let v = self.b.ins().vhigh_bits(I32, a);
        self.push(v);
    }

    /// `extmul_{low,high}` of lanes of type `ty`, widened (signed or not) to twice the width.
    fn extmul(&mut self, ty: Type, signed: bool, high: bool) {
        self.vbinary(ty, |b, x, y| {
            let widen = |b: &mut FunctionBuilder, v| match (signed, high) {
                (true, false) => b.ins().swiden_low(v),
                (true, true) => b.ins().swiden_high(v),
                (false, false) => b.ins().uwiden_low(v),
                (false, true) => b.ins().uwiden_high(v),
            };
            let x = widen(b, x);
            let y = widen(b, y);
            b.ins().imul(x, y)
        });
    }

    /// `relaxed_madd` (`a * b + c`) and `relaxed_nmadd` (`-(a * b) + c`), unfused.
    fn madd(&mut self, ty: Type, negate: bool) {
        let c = self.vpop(ty);
        let (x, y) = self.vpop2(ty);
        let x = if negate { self.b.ins().fneg(x) } else { x };
        let p = self.b.ins().fmul(x, y);
        let v = self.b.ins().fadd(p, c);
        self.vpush(v);
    }
}

/// `extadd_pairwise`: adjacent lanes widened (signed or not) and added.
fn extadd_pairwise(b: &mut FunctionBuilder, a: Value, signed: bool) -> Value {
    let (lo, hi) = if signed {
        (b.ins().swiden_low(a), b.ins().swiden_high(a))
    } else {
        (b.ins().uwiden_low(a), b.ins().uwiden_high(a))
    };
    b.ins().iadd_pairwise(lo, hi)
}
