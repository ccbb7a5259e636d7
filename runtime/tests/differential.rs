//! Differential tests: single instructions compiled by Cranelift against Rust's own arithmetic.

use proptest::prelude::*;
use runtime::*;
use std::cell::RefCell;

/// A reference implementation of a binary operator (`None`: the instruction traps).
type Reference<T> = fn(T, T) -> Option<T>;

/// Every binary i32/i64 operator under test, with Rust's reference semantics
/// (`None` means the instruction traps).
const I32_OPS: &[(&str, Reference<i32>)] = &[
    ("add", |a, b| Some(a.wrapping_add(b))),
    ("sub", |a, b| Some(a.wrapping_sub(b))),
    ("mul", |a, b| Some(a.wrapping_mul(b))),
    ("div_s", |a, b| if b == 0 { None } else { a.checked_div(b) }),
    ("div_u", |a, b| {
        (a as u32).checked_div(b as u32).map(|v| v as i32)
    }),
    ("rem_s", |a, b| {
        if b == 0 {
            None
        } else {
            Some(a.wrapping_rem(b))
        }
    }),
    ("rem_u", |a, b| {
        (a as u32).checked_rem(b as u32).map(|v| v as i32)
    }),
    ("and", |a, b| Some(a & b)),
    ("or", |a, b| Some(a | b)),
    ("xor", |a, b| Some(a ^ b)),
    ("shl", |a, b| Some(a.wrapping_shl(b as u32))),
    ("shr_s", |a, b| Some(a.wrapping_shr(b as u32))),
    ("shr_u", |a, b| {
        Some((a as u32).wrapping_shr(b as u32) as i32)
    }),
    ("rotl", |a, b| Some(a.rotate_left(b as u32 % 32))),
    ("rotr", |a, b| Some(a.rotate_right(b as u32 % 32))),
    ("lt_s", |a, b| Some((a < b) as i32)),
    ("lt_u", |a, b| Some(((a as u32) < (b as u32)) as i32)),
    ("ge_u", |a, b| Some(((a as u32) >= (b as u32)) as i32)),
];

const I64_OPS: &[(&str, Reference<i64>)] = &[
    ("add", |a, b| Some(a.wrapping_add(b))),
    ("sub", |a, b| Some(a.wrapping_sub(b))),
    ("mul", |a, b| Some(a.wrapping_mul(b))),
    ("div_s", |a, b| if b == 0 { None } else { a.checked_div(b) }),
    ("div_u", |a, b| {
        (a as u64).checked_div(b as u64).map(|v| v as i64)
    }),
    ("rem_s", |a, b| {
        if b == 0 {
            None
        } else {
            Some(a.wrapping_rem(b))
        }
    }),
    ("rem_u", |a, b| {
        (a as u64).checked_rem(b as u64).map(|v| v as i64)
    }),
    ("shl", |a, b| Some(a.wrapping_shl(b as u32))),
    ("shr_s", |a, b| Some(a.wrapping_shr(b as u32))),
    ("rotr", |a, b| Some(a.rotate_right((b as u64 % 64) as u32))),
];

/// A reference implementation of a float operator.
type FloatReference = fn(f64, f64) -> f64;

/// Float operators with their Rust reference; results compare by bits, except that any NaN
/// matches any NaN (the spec leaves NaN payloads of arithmetic open).
const F64_OPS: &[(&str, FloatReference)] = &[
    ("add", |a, b| a + b),
    ("sub", |a, b| a - b),
    ("mul", |a, b| a * b),
    ("div", |a, b| a / b),
    ("min", wasm_min),
    ("max", wasm_max),
    ("copysign", f64::copysign),
];

/// wasm's `min`: NaN if either operand is NaN, and -0 below +0.
fn wasm_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else {
        a.min(b)
    }
}

/// wasm's `max`: NaN if either operand is NaN, and +0 above -0.
fn wasm_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else {
        a.max(b)
    }
}

struct Fixture {
    store: Store<()>,
    instance: Instance,
}

fn fixture() -> Fixture {
    let mut wat = String::from("(module\n");
    for (op, _) in I32_OPS {
        wat += &format!(
            "(func (export \"i32.{op}\") (param i32 i32) (result i32) (i32.{op} (local.get 0) (local.get 1)))\n"
        );
    }
    for (op, _) in I64_OPS {
        wat += &format!(
            "(func (export \"i64.{op}\") (param i64 i64) (result i64) (i64.{op} (local.get 0) (local.get 1)))\n"
        );
    }
    for (op, _) in F64_OPS {
        wat += &format!(
            "(func (export \"f64.{op}\") (param f64 f64) (result f64) (f64.{op} (local.get 0) (local.get 1)))\n"
        );
    }
    wat += ")";
    let mut store = Store::new(&Engine::default(), ());
    let module = Module::new(store.engine(), &wat).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    Fixture { store, instance }
}

thread_local! {
    static FIXTURE: RefCell<Fixture> = RefCell::new(fixture());
}

fn run(name: &str, a: Val, b: Val) -> Option<Val> {
    FIXTURE.with(|f| {
        let f = &mut *f.borrow_mut();
        let func = f.instance.get_func(&f.store, name).unwrap();
        let mut out = [Val::I32(0)];
        match func.call(&mut f.store, &[a, b], &mut out) {
            Ok(()) => Some(out[0]),
            Err(e) => {
                assert!(e.as_trap().is_some(), "{name}: {e}");
                None
            }
        }
    })
}

fn interesting_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        Just(0),
        Just(-1),
        Just(1),
        Just(i32::MIN),
        Just(i32::MAX),
        0..64
    ]
}

fn interesting_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        Just(f64::MIN_POSITIVE),
        Just(-1.5),
    ]
}

fn interesting_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(0),
        Just(-1),
        Just(1),
        Just(i64::MIN),
        Just(i64::MAX),
        0..128i64
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn i32_binary_ops_match_rust(a in interesting_i32(), b in interesting_i32()) {
        for (op, reference) in I32_OPS {
            let got = run(&format!("i32.{op}"), Val::I32(a), Val::I32(b));
            prop_assert_eq!(got, reference(a, b).map(Val::I32), "i32.{} {} {}", op, a, b);
        }
    }

    #[test]
    fn i64_binary_ops_match_rust(a in interesting_i64(), b in interesting_i64()) {
        for (op, reference) in I64_OPS {
            let got = run(&format!("i64.{op}"), Val::I64(a), Val::I64(b));
            prop_assert_eq!(got, reference(a, b).map(Val::I64), "i64.{} {} {}", op, a, b);
        }
    }

    #[test]
    fn f64_binary_ops_match_rust(a in interesting_f64(), b in interesting_f64()) {
        for (op, reference) in F64_OPS {
            let got = run(&format!("f64.{op}"), Val::from(a), Val::from(b)).and_then(|v| v.f64());
            let want = reference(a, b);
            let same = match got {
                Some(g) if g.is_nan() && want.is_nan() => true,
                Some(g) => g.to_bits() == want.to_bits(),
                None => false,
            };
            prop_assert!(same, "f64.{} {:?} {:?}: got {:?}, want {:?}", op, a, b, got, want);
        }
    }
}
