//! Call cost across the host boundary, untyped (`Func::call`, `Func::new`) against typed
//! (`TypedFunc::call`, `Func::wrap`) in the same run. Run with `cargo xtask bench --calls`
//! (or `cargo bench -p runtime --bench calls`); prints the median time per call of several
//! batches and the typed/untyped ratio.

use runtime::*;
use std::time::Instant;

const CALLS: u32 = 1_000_000;
const BATCHES: usize = 9;

/// Median nanoseconds per call of `BATCHES` batches of `CALLS` calls.
fn per_call(mut batch: impl FnMut()) -> f64 {
    batch(); // warm up: trampolines, caches
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            batch();
            start.elapsed().as_nanos() as f64 / CALLS as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[BATCHES / 2]
}

const GUEST: &str = r#"(module
  (import "untyped" "f" (func $uf (param i32) (result i32)))
  (import "untyped" "g" (func $ug (param i32 i64 f32 f64) (result f64)))
  (import "typed" "f" (func $tf (param i32) (result i32)))
  (import "typed" "g" (func $tg (param i32 i64 f32 f64) (result f64)))
  (func (export "id") (param i32) (result i32) local.get 0)
  (func (export "id4") (param i32 i64 f32 f64) (result f64) local.get 3)
  (func (export "loop_untyped") (param i32)
    (loop $l (drop (call $uf (local.get 0)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "loop4_untyped") (param i32)
    (loop $l (drop (call $ug (local.get 0) (i64.const 1) (f32.const 1) (f64.const 1)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "loop_typed") (param i32)
    (loop $l (drop (call $tf (local.get 0)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "loop4_typed") (param i32)
    (loop $l (drop (call $tg (local.get 0) (i64.const 1) (f32.const 1) (f64.const 1)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#;

fn report(what: &str, untyped: f64, typed: f64) {
    println!(
        "{what:<38} untyped {untyped:>6.1} ns   typed {typed:>6.1} ns   typed/untyped {:.2}",
        typed / untyped
    );
}

fn main() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<u64>::new(&engine);
    linker.func_new(
        "untyped",
        "f",
        FuncType::new([ValType::I32], [ValType::I32]),
        |_, args, results| {
            results[0] = Val::I32(args[0].unwrap_i32().wrapping_add(1));
            Ok(())
        },
    )?;
    linker.func_new(
        "untyped",
        "g",
        FuncType::new(
            [ValType::I32, ValType::I64, ValType::F32, ValType::F64],
            [ValType::F64],
        ),
        |_, args, results| {
            results[0] = Val::from(args[3].unwrap_f64() + 1.0);
            Ok(())
        },
    )?;
    linker.func_wrap("typed", "f", |x: i32| x.wrapping_add(1))?;
    linker.func_wrap("typed", "g", |_: i32, _: i64, _: f32, d: f64| d + 1.0)?;
    let mut store = Store::new(&engine, 0u64);
    let instance = linker.instantiate(&mut store, &module)?;

    println!("{CALLS} calls per batch, median of {BATCHES} batches");
    let id = instance.get_func(&store, "id").unwrap();
    let id_typed = id.typed::<i32, i32>(&store)?;
    let mut out = [Val::I32(0)];
    let untyped = per_call(|| {
        for i in 0..CALLS {
            id.call(&mut store, &[Val::I32(i as i32)], &mut out)
                .unwrap();
        }
    });
    let typed = per_call(|| {
        for i in 0..CALLS {
            std::hint::black_box(id_typed.call(&mut store, i as i32).unwrap());
        }
    });
    report("host->wasm (i32) -> i32", untyped, typed);

    let id4 = instance.get_func(&store, "id4").unwrap();
    let id4_typed = id4.typed::<(i32, i64, f32, f64), f64>(&store)?;
    let args = [
        Val::I32(1),
        Val::I64(2),
        Val::from(3.0f32),
        Val::from(4.0f64),
    ];
    let untyped = per_call(|| {
        for _ in 0..CALLS {
            id4.call(&mut store, &args, &mut out).unwrap();
        }
    });
    let typed = per_call(|| {
        for i in 0..CALLS {
            std::hint::black_box(id4_typed.call(&mut store, (i as i32, 2, 3.0, 4.0)).unwrap());
        }
    });
    report("host->wasm (i32, i64, f32, f64) -> f64", untyped, typed);

    for (what, name) in [
        ("wasm->host (i32) -> i32", "loop"),
        ("wasm->host (i32, i64, f32, f64) -> f64", "loop4"),
    ] {
        let run = |store: &mut Store<u64>, suffix: &str| {
            let f = instance
                .get_typed_func::<i32, ()>(&*store, &format!("{name}_{suffix}"))
                .unwrap();
            per_call(|| f.call(&mut *store, CALLS as i32).unwrap())
        };
        let untyped = run(&mut store, "untyped");
        let typed = run(&mut store, "typed");
        report(what, untyped, typed);
    }
    Ok(())
}
