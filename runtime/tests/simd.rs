//! SIMD and relaxed SIMD: direct checks of what the spec scripts (run by the spec harness)
//! leave open: the relaxed choices, and bounds checks of lane, splat and extending accesses.

use runtime::*;

fn instance(store: &mut Store<()>, wat: &str) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, &[]).unwrap()
}

fn call_v128(store: &mut Store<()>, inst: Instance, name: &str, args: &[Val]) -> u128 {
    let f = inst.get_func(&*store, name).unwrap();
    let mut results = vec![Val::I32(0)];
    f.call(store, args, &mut results).unwrap();
    match results[0] {
        Val::V128(v) => v,
        ref other => panic!("expected a v128, got {other:?}"),
    }
}

fn f32x4(l: [f32; 4]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |acc, (i, x)| acc | (x.to_bits() as u128) << (32 * i))
}

fn i16x8(l: [i16; 8]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |acc, (i, x)| acc | (*x as u16 as u128) << (16 * i))
}

fn i8x16(l: [i8; 16]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |acc, (i, x)| acc | (*x as u8 as u128) << (8 * i))
}

#[test]
fn relaxed_choices_are_documented_ones() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module
            (func (export "madd") (param v128 v128 v128) (result v128)
              (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
            (func (export "nmadd") (param v128 v128 v128) (result v128)
              (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
            (func (export "swizzle") (param v128 v128) (result v128)
              (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
            (func (export "q15") (param v128 v128) (result v128)
              (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
            (func (export "dot") (param v128 v128) (result v128)
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
            (func (export "trunc") (param v128) (result v128)
              (i32x4.relaxed_trunc_f32x4_s (local.get 0))))"#,
    );
    // Unfused: 1 + 2^-23 squared rounds to 1 + 2^-22 before subtracting 1 + 2^-22.
    let x = f32::from_bits(0x3f80_0001);
    let c = -f32::from_bits(0x3f80_0002);
    let args = [
        Val::V128(f32x4([x; 4])),
        Val::V128(f32x4([x; 4])),
        Val::V128(f32x4([c; 4])),
    ];
    assert_eq!(call_v128(&mut store, inst, "madd", &args), f32x4([0.0; 4]));
    let args = [
        Val::V128(f32x4([x; 4])),
        Val::V128(f32x4([x; 4])),
        Val::V128(f32x4([-c; 4])),
    ];
    assert_eq!(call_v128(&mut store, inst, "nmadd", &args), f32x4([0.0; 4]));
    // Indices past 15 select zero, as `i8x16.swizzle` does.
    let mut idx = [0i8; 16];
    idx[0] = 16;
    idx[1] = -128;
    idx[2] = 3;
    let table = i8x16(std::array::from_fn(|i| i as i8 + 1));
    let r = call_v128(
        &mut store,
        inst,
        "swizzle",
        &[Val::V128(table), Val::V128(i8x16(idx))],
    );
    assert_eq!(r & 0xff_ffff, 0x04_0000);
    // Saturates like q15mulr_sat_s.
    let m = Val::V128(i16x8([i16::MIN; 8]));
    assert_eq!(
        call_v128(&mut store, inst, "q15", &[m, m]),
        i16x8([i16::MAX; 8])
    );
    // Signed by signed, saturating pair sums.
    let a = Val::V128(i8x16([-128; 16]));
    assert_eq!(
        call_v128(&mut store, inst, "dot", &[a, a]),
        i16x8([i16::MAX; 8])
    );
    // NaN to 0, overflow saturates.
    let v = Val::V128(f32x4([f32::NAN, 3e9, -3e9, -1.5]));
    let expect = [0i32, i32::MAX, i32::MIN, -1];
    let expect = expect
        .iter()
        .enumerate()
        .fold(0u128, |acc, (i, x)| acc | (*x as u32 as u128) << (32 * i));
    assert_eq!(call_v128(&mut store, inst, "trunc", &[v]), expect);
}

#[test]
fn relaxed_trunc_variants_saturate() {
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module
            (func (export "u") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
            (func (export "s_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
            (func (export "u_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0))))"#,
    );
    let lanes32 = |l: [u32; 4]| {
        l.iter()
            .enumerate()
            .fold(0u128, |acc, (i, x)| acc | (*x as u128) << (32 * i))
    };
    let f64x2 = |a: f64, b: f64| a.to_bits() as u128 | (b.to_bits() as u128) << 64;
    let v = Val::V128(f32x4([f32::NAN, 5e9, -1.0, 7.9]));
    assert_eq!(
        call_v128(&mut store, inst, "u", &[v]),
        lanes32([0, u32::MAX, 0, 7])
    );
    let v = Val::V128(f64x2(-3e10, f64::NAN));
    assert_eq!(
        call_v128(&mut store, inst, "s_zero", &[v]),
        lanes32([i32::MIN as u32, 0, 0, 0])
    );
    let v = Val::V128(f64x2(5e9, -2.5));
    assert_eq!(
        call_v128(&mut store, inst, "u_zero", &[v]),
        lanes32([u32::MAX, 0, 0, 0])
    );
}

/// Lane, splat, zero and extending accesses check their own width against the memory's end,
/// with guard pages and with explicit bounds checks.
#[test]
fn simd_accesses_are_bounds_checked() {
    for explicit in [false, true] {
        let mut config = Config::new();
        config.explicit_bounds_checks(explicit);
        let mut store = Store::new(&Engine::new(&config).unwrap(), ());
        let inst = instance(
            &mut store,
            r#"(module (memory 1)
                (data (i32.const 65528) "\01\02\03\04\05\06\07\08")
                (func (export "load64_splat") (param i32) (result v128) (v128.load64_splat (local.get 0)))
                (func (export "load32_zero") (param i32) (result v128) (v128.load32_zero (local.get 0)))
                (func (export "load8x8_u") (param i32) (result v128) (v128.load8x8_u (local.get 0)))
                (func (export "load16_lane") (param i32) (result v128)
                  (v128.load16_lane 7 (local.get 0) (v128.const i64x2 0 0)))
                (func (export "store64_lane") (param i32) (result v128)
                  (v128.store64_lane 1 (local.get 0) (v128.const i64x2 0 -1))
                  (v128.load64_splat (local.get 0))))"#,
        );
        let ok = |store: &mut Store<()>, name: &str, at: i32| {
            call_v128(store, inst, name, &[Val::I32(at)])
        };
        let bytes = 0x0807_0605_0403_0201u128;
        assert_eq!(ok(&mut store, "load64_splat", 65528), bytes | bytes << 64);
        assert_eq!(ok(&mut store, "load32_zero", 65532), 0x0807_0605);
        assert_eq!(
            ok(&mut store, "load8x8_u", 65528),
            i16x8([1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert_eq!(ok(&mut store, "load16_lane", 65534), 0x0807u128 << 112);
        assert_eq!(ok(&mut store, "store64_lane", 65528), u128::MAX);
        for (name, at) in [
            ("load64_splat", 65529),
            ("load32_zero", 65533),
            ("load8x8_u", 65529),
            ("load16_lane", 65535),
            ("store64_lane", 65529),
        ] {
            let f = inst.get_func(&store, name).unwrap();
            let mut results = vec![Val::I32(0)];
            let e = f
                .call(&mut store, &[Val::I32(at)], &mut results)
                .unwrap_err();
            assert_eq!(
                e.as_trap().unwrap().code(),
                TrapCode::MemoryOutOfBounds,
                "{name} at {at}: {e}"
            );
        }
    }
}
