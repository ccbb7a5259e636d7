//! Script runner: converting script constants to [`Val`]s and checking results bit-exactly
//! (floats by bits, `nan:canonical` / `nan:arithmetic`, v128 lane by lane, references by kind).

use runtime_engine::{AnyRef, AnyRefKind, HeapType, Val, ValType};
use wast::core::{
    AbstractHeapType, HeapType as WastHeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore,
};
use wast::{WastArg, WastRet};

/// The argument `arg` for a parameter of type `ty`.
pub(crate) fn arg_to_val(arg: &WastArg<'_>, ty: ValType) -> Result<Val, String> {
    let WastArg::Core(arg) = arg else {
        return Err("unsupported: component-model argument".to_string());
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(_) => match ty {
            ValType::Ref(r) => Val::null(r),
            other => return Err(format!("(ref.null) passed for a parameter of type {other}")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::RefHost(n) => Val::AnyRef(AnyRef::host(*n)),
    })
}

/// Whether `actual` is what `expected` describes: `Ok(true)` if it is, `Ok(false)` if not,
/// `Err` if the expectation cannot be checked through the public API.
pub(crate) fn matches(expected: &WastRet<'_>, actual: &Val) -> Result<bool, String> {
    let WastRet::Core(expected) = expected else {
        return Err("unsupported: component-model result".to_string());
    };
    matches_core(expected, actual)
}

fn matches_core(expected: &WastRetCore<'_>, actual: &Val) -> Result<bool, String> {
    Ok(match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(heap), actual) => match null_hierarchy(actual) {
            None => false,
            Some(top) => heap
                .as_ref()
                .and_then(wast_heap_top)
                .is_none_or(|want| want == top),
        },
        (WastRetCore::RefExtern(want), Val::ExternRef(Some(n))) => want.is_none_or(|w| w == *n),
        (WastRetCore::RefExtern(None), Val::ExternAny(_)) => true,
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::RefHost(n), Val::AnyRef(a)) => a.host_index() == Some(*n),
        (WastRetCore::RefAny, Val::AnyRef(_)) => true,
        (WastRetCore::RefEq, Val::AnyRef(a)) => a.is_eq(),
        (WastRetCore::RefStruct, Val::AnyRef(a)) => a.kind() == AnyRefKind::Struct,
        (WastRetCore::RefArray, Val::AnyRef(a)) => a.kind() == AnyRefKind::Array,
        (WastRetCore::RefI31, Val::AnyRef(a)) => a.kind() == AnyRefKind::I31,
        (WastRetCore::Either(options), actual) => {
            let mut unsupported = None;
            for option in options {
                match matches_core(option, actual) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(e) => unsupported = Some(e),
                }
            }
            return unsupported.map_or(Ok(false), Err);
        }
        (WastRetCore::RefI31Shared, _) => {
            return Err(
                "unsupported: (ref.i31_shared) results (shared-everything threads)".to_string(),
            )
        }
        _ => false,
    })
}

/// The hierarchy (`func`, `extern`, `any`, `exn`) of a null reference, or `None` if `v` is
/// not a null reference.
fn null_hierarchy(v: &Val) -> Option<HeapType> {
    match v {
        Val::FuncRef(None) => Some(HeapType::Func),
        Val::ExternRef(None) => Some(HeapType::Extern),
        Val::NullRef(h) => Some(h.top()),
        _ => None,
    }
}

/// The hierarchy of an abstract heap type written in a script (`None` for concrete types).
fn wast_heap_top(heap: &WastHeapType<'_>) -> Option<HeapType> {
    let WastHeapType::Abstract { ty, .. } = heap else {
        return None;
    };
    Some(match ty {
        AbstractHeapType::Func | AbstractHeapType::NoFunc => HeapType::Func,
        AbstractHeapType::Extern | AbstractHeapType::NoExtern => HeapType::Extern,
        AbstractHeapType::Exn | AbstractHeapType::NoExn => HeapType::Exn,
        AbstractHeapType::Any
        | AbstractHeapType::Eq
        | AbstractHeapType::Struct
        | AbstractHeapType::Array
        | AbstractHeapType::I31
        | AbstractHeapType::None => HeapType::Any,
        AbstractHeapType::Cont | AbstractHeapType::NoCont => HeapType::Cont,
    })
}

fn f32_matches(expected: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of `v` when lanes are `width` bits wide (lane 0 is the lowest).
fn lane(v: u128, width: u32, i: usize) -> u128 {
    let mask = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    (v >> (width as usize * i)) & mask
}

fn v128_matches(expected: &V128Pattern, v: u128) -> bool {
    match expected {
        V128Pattern::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 8, i) == *e as u8 as u128),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 16, i) == *e as u16 as u128),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 32, i) == *e as u32 as u128),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 64, i) == *e as u64 as u128),
        V128Pattern::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| f32_matches(e, lane(v, 32, i) as u32)),
        V128Pattern::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| f64_matches(e, lane(v, 64, i) as u64)),
    }
}

/// An expected result as the script writes it, with float bits spelled out.
pub(crate) fn describe_expected(expected: &WastRet<'_>) -> String {
    match expected {
        WastRet::Core(core) => describe_expected_core(core),
        _ => "(component value)".to_string(),
    }
}

fn describe_expected_core(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("(i32.const {v})"),
        WastRetCore::I64(v) => format!("(i64.const {v})"),
        WastRetCore::F32(p) => format!("(f32.const {})", nan32(p)),
        WastRetCore::F64(p) => format!("(f64.const {})", nan64(p)),
        WastRetCore::V128(p) => format!("(v128.const {})", describe_v128_pattern(p)),
        WastRetCore::RefNull(Some(WastHeapType::Abstract { ty, .. })) => {
            format!("(ref.null {})", format!("{ty:?}").to_lowercase())
        }
        WastRetCore::RefNull(_) => "(ref.null)".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("(ref.extern {n})"),
        WastRetCore::RefExtern(None) => "(ref.extern)".to_string(),
        WastRetCore::RefHost(n) => format!("(ref.host {n})"),
        WastRetCore::RefFunc(_) => "(ref.func)".to_string(),
        WastRetCore::RefAny => "(ref.any)".to_string(),
        WastRetCore::RefEq => "(ref.eq)".to_string(),
        WastRetCore::RefArray => "(ref.array)".to_string(),
        WastRetCore::RefStruct => "(ref.struct)".to_string(),
        WastRetCore::RefI31 => "(ref.i31)".to_string(),
        WastRetCore::RefI31Shared => "(ref.i31_shared)".to_string(),
        WastRetCore::Either(options) => {
            let all: Vec<_> = options.iter().map(describe_expected_core).collect();
            format!("(either {})", all.join(" "))
        }
    }
}

fn nan32(p: &NanPattern<wast::token::F32>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => float32(v.bits),
    }
}

fn nan64(p: &NanPattern<wast::token::F64>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => float64(v.bits),
    }
}

fn float32(bits: u32) -> String {
    format!("{:?} (0x{bits:08x})", f32::from_bits(bits))
}

fn float64(bits: u64) -> String {
    format!("{:?} (0x{bits:016x})", f64::from_bits(bits))
}

fn describe_v128_pattern(p: &V128Pattern) -> String {
    fn join<T>(shape: &str, lanes: &[T], f: impl Fn(&T) -> String) -> String {
        let lanes: Vec<_> = lanes.iter().map(f).collect();
        format!("{shape} {}", lanes.join(" "))
    }
    match p {
        V128Pattern::I8x16(l) => join("i8x16", l, |v| v.to_string()),
        V128Pattern::I16x8(l) => join("i16x8", l, |v| v.to_string()),
        V128Pattern::I32x4(l) => join("i32x4", l, |v| v.to_string()),
        V128Pattern::I64x2(l) => join("i64x2", l, |v| v.to_string()),
        V128Pattern::F32x4(l) => join("f32x4", l, nan32),
        V128Pattern::F64x2(l) => join("f64x2", l, nan64),
    }
}

/// An actual value, with float bits and v128 lanes spelled out.
pub(crate) fn describe_val(v: &Val) -> String {
    match v {
        Val::I32(v) => format!("(i32.const {v})"),
        Val::I64(v) => format!("(i64.const {v})"),
        Val::F32(b) => format!("(f32.const {})", float32(*b)),
        Val::F64(b) => format!("(f64.const {})", float64(*b)),
        Val::V128(v) => {
            let lanes: Vec<_> = (0..4)
                .map(|i| format!("0x{:08x}", lane(*v, 32, i)))
                .collect();
            format!("(v128.const i32x4 {})", lanes.join(" "))
        }
        Val::FuncRef(None) => "(ref.null func)".to_string(),
        Val::FuncRef(Some(_)) => "(ref.func)".to_string(),
        Val::ExternRef(None) => "(ref.null extern)".to_string(),
        Val::ExternRef(Some(n)) => format!("(ref.extern {n})"),
        Val::NullRef(h) => format!("(ref.null {})", format!("{h:?}").to_lowercase()),
        Val::AnyRef(a) => format!("(ref.any {a})"),
        Val::ExternAny(a) => format!("(ref.extern ({a}))"),
        Val::ContRef(_) => "(ref.cont)".to_string(),
    }
}

/// A list of values for a failure message.
pub(crate) fn describe_vals(vals: &[Val]) -> String {
    if vals.is_empty() {
        return "nothing".to_string();
    }
    vals.iter().map(describe_val).collect::<Vec<_>>().join(" ")
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(text: &str) -> Vec<WastRet<'static>> {
        let text: &'static str =
            Box::leak(format!("(assert_return (invoke \"f\") {text})").into_boxed_str());
        let buf: &'static _ = Box::leak(Box::new(wast::parser::ParseBuffer::new(text).unwrap()));
        let wast: wast::Wast<'static> = wast::parser::parse(buf).unwrap();
        match wast.directives.into_iter().next() {
            Some(wast::WastDirective::AssertReturn { results, .. }) => results,
            _ => unreachable!(),
        }
    }

    fn check(text: &str, v: Val) -> Result<bool, String> {
        matches(&ret(text)[0], &v)
    }

    #[test]
    fn floats_compare_by_bits_and_nan_patterns() {
        assert_eq!(check("(f32.const -0)", Val::F32(0x8000_0000)), Ok(true));
        assert_eq!(check("(f32.const 0)", Val::F32(0x8000_0000)), Ok(false));
        assert_eq!(
            check("(f32.const nan:canonical)", Val::F32(0xffc0_0000)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:canonical)", Val::F32(0x7fc0_0001)),
            Ok(false)
        );
        assert_eq!(
            check("(f32.const nan:arithmetic)", Val::F32(0x7fc0_0001)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:arithmetic)", Val::F32(0x7f80_0001)),
            Ok(false)
        );
        assert_eq!(
            check("(f64.const nan:canonical)", Val::F64(0x7ff8_0000_0000_0000)),
            Ok(true)
        );
        assert_eq!(
            check(
                "(f64.const nan:arithmetic)",
                Val::F64(0xfff8_0000_0000_0001)
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                "(f64.const nan:arithmetic)",
                Val::F64(0x7ff0_0000_0000_0001)
            ),
            Ok(false)
        );
        assert_eq!(check("(f64.const 1.5)", Val::from(1.5f64)), Ok(true));
        assert_eq!(check("(f64.const 1.5)", Val::from(1.5f32)), Ok(false));
    }

    #[test]
    fn v128_compares_lane_by_lane() {
        let v = u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(check("(v128.const i32x4 1 2 3 -1)", Val::V128(v)), Ok(true));
        assert_eq!(check("(v128.const i32x4 1 2 3 4)", Val::V128(v)), Ok(false));
        assert_eq!(
            check(
                "(v128.const i8x16 1 0 0 0 2 0 0 0 3 0 0 0 -1 -1 -1 -1)",
                Val::V128(v)
            ),
            Ok(true)
        );
        let nan = 0x7fc0_0000u128 | (0x3f80_0000u128 << 32);
        assert_eq!(
            check("(v128.const f32x4 nan:canonical 1.0 0 0)", Val::V128(nan)),
            Ok(true)
        );
        assert_eq!(
            check("(v128.const f32x4 nan:canonical 2.0 0 0)", Val::V128(nan)),
            Ok(false)
        );
    }

    #[test]
    fn references_compare_by_kind() {
        assert_eq!(check("(ref.null func)", Val::FuncRef(None)), Ok(true));
        assert_eq!(check("(ref.null extern)", Val::FuncRef(None)), Ok(false));
        assert_eq!(
            check("(ref.null any)", Val::NullRef(HeapType::None)),
            Ok(true)
        );
        assert_eq!(check("(ref.null)", Val::ExternRef(None)), Ok(true));
        assert_eq!(check("(ref.extern 3)", Val::ExternRef(Some(3))), Ok(true));
        assert_eq!(check("(ref.extern 3)", Val::ExternRef(Some(4))), Ok(false));
        assert_eq!(check("(ref.extern)", Val::ExternRef(Some(4))), Ok(true));
        assert_eq!(check("(ref.extern 3)", Val::ExternRef(None)), Ok(false));
        assert_eq!(check("(ref.func)", Val::FuncRef(None)), Ok(false));
        assert_eq!(
            check("(ref.struct)", Val::NullRef(HeapType::Any)),
            Ok(false)
        );
        assert_eq!(check("(ref.i31)", Val::AnyRef(AnyRef::i31(5))), Ok(true));
        assert_eq!(check("(ref.eq)", Val::AnyRef(AnyRef::i31(5))), Ok(true));
        assert_eq!(
            check("(ref.struct)", Val::AnyRef(AnyRef::i31(5))),
            Ok(false)
        );
        assert_eq!(
            check("(ref.host 3)", Val::AnyRef(AnyRef::host(3))),
            Ok(true)
        );
        assert_eq!(
            check("(ref.host 3)", Val::AnyRef(AnyRef::host(4))),
            Ok(false)
        );
        assert_eq!(check("(ref.eq)", Val::AnyRef(AnyRef::host(3))), Ok(false));
        assert_eq!(check("(ref.any)", Val::AnyRef(AnyRef::host(3))), Ok(true));
        assert_eq!(
            check("(ref.extern)", Val::ExternAny(AnyRef::i31(1))),
            Ok(true)
        );
        assert!(check("(ref.i31_shared)", Val::AnyRef(AnyRef::i31(5))).is_err());
        assert_eq!(
            check("(either (i32.const 1) (i32.const 2))", Val::I32(2)),
            Ok(true)
        );
        assert_eq!(
            check("(either (i32.const 1) (i32.const 2))", Val::I32(3)),
            Ok(false)
        );
    }

    #[test]
    fn descriptions_show_bits() {
        assert_eq!(
            describe_val(&Val::from(1.0f32)),
            "(f32.const 1.0 (0x3f800000))"
        );
        assert_eq!(
            describe_expected(&ret("(f64.const nan:canonical)")[0]),
            "(f64.const nan:canonical)"
        );
    }
}
