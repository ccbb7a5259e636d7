//! Compiling after a GC-heavy run, against compiling before it (issue 13). When every GC
//! object was its own `malloc` chunk, dropping the store after sightglass `splay` (millions
//! of `struct.new`) left glibc's heap fragmented, and every later `Module::new` spent its time
//! in `malloc_consolidate` (3 ms before the run, 160-195 ms after). The GC heap is now a few
//! mapped regions returned as a whole. Prints the median `Module::new` time (a new `Engine`
//! each, as the issue measured) of splay before and after one run of it, and the ratio.
//! Run with `cargo xtask bench --gc` (or `cargo bench -p runtime --bench compile_after_gc`
//! once `cargo xtask fetch sightglass` has copied the program). On a loaded machine the
//! wall-clock medians vary by 2x from run to run; under callgrind the instruction counts of
//! `compile_before` and `compile_after` do not.

use runtime::wasi::{self, OutputBuffer, WasiCtxBuilder, WasiP1Ctx};
use runtime::{Engine, Linker, Module, Store};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const COMPILES: usize = 9;

/// Median time of `COMPILES` compilations of `wasm`, each with a fresh engine.
fn compile_time(wasm: &[u8]) -> Duration {
    let mut times: Vec<Duration> = (0..COMPILES)
        .map(|_| {
            let engine = Engine::default();
            let start = Instant::now();
            Module::new(&engine, wasm).expect("splay compiles");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[COMPILES / 2]
}

/// Runs splay in its folder once (a store of its own, dropped at the end).
#[inline(never)]
fn run_splay(dir: &std::path::Path, wasm: &[u8]) -> String {
    let engine = Engine::default();
    let module = Module::new(&engine, wasm).expect("splay compiles");
    let mut linker = Linker::<WasiP1Ctx>::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiP1Ctx| ctx).unwrap();
    linker.func_wrap("bench", "start", || {}).unwrap();
    linker.func_wrap("bench", "end", || {}).unwrap();
    let stdout = OutputBuffer::new();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(dir, ".")
        .stdout_buffer(&stdout)
        .build_p1()
        .expect("the splay folder opens");
    let mut store = Store::new(&engine, ctx);
    let code = wasi::run_command(&mut store, &linker, &module).expect("splay runs");
    assert_eq!(code, 0, "splay exits with 0");
    let stats = store.gc_heap_stats();
    format!(
        "{} MB allocated, {} collections",
        stats.allocated_bytes >> 20,
        stats.collections
    )
}

/// `compile_time` before the run, in a function of its own so that an instruction count
/// can be taken per phase: `valgrind --tool=callgrind --dump-before='*run_splay*'
/// --dump-before='*compile_after*'` writes one profile for the compilations before the run,
/// one for the run and one for the compilations after it.
#[inline(never)]
fn compile_before(wasm: &[u8]) -> Duration {
    std::hint::black_box("before");
    compile_time(wasm)
}

/// `compile_time` after the run.
#[inline(never)]
fn compile_after(wasm: &[u8]) -> Duration {
    std::hint::black_box("after");
    compile_time(wasm)
}

fn main() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../xtask/bench/sightglass/data/splay");
    let Ok(wasm) = std::fs::read(dir.join("splay.wasm")) else {
        eprintln!(
            "no splay program at {}: run `cargo xtask fetch sightglass` first",
            dir.display()
        );
        std::process::exit(1);
    };
    let before = compile_before(&wasm);
    let run = run_splay(&dir, &wasm);
    let after = compile_after(&wasm);
    println!(
        "splay Module::new, median of {COMPILES}: {:.2} ms before a run, {:.2} ms after it \
         ({run}): {:.2}x",
        before.as_secs_f64() * 1e3,
        after.as_secs_f64() * 1e3,
        after.as_secs_f64() / before.as_secs_f64()
    );
}
