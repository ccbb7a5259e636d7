//! Times the phases of a WASI command's run, as `cargo xtask bench` reports them beside
//! Wasmtime's (`xtask/bench/phases.py`): compile (`Module::new`, no cache), instantiate
//! (`Linker::instantiate`), and execution, the time between the guest's `bench.start` and
//! `bench.end` calls (summed over all pairs), timed by those host functions.
//!
//! `cargo run --release -p runtime --example phases -- REPORT.json FILE.wasm`
//!
//! Runs FILE.wasm in the current directory (preopened as "."), stdio inherited, and writes
//! `{"compile_ns", "instantiate_ns", "execution_ns"}` to REPORT.json; exits with the
//! command's exit code.

use std::time::Instant;

use runtime::wasi::{self, WasiCtxBuilder, WasiP1Ctx};
use runtime::{Caller, Engine, Linker, Module, Result, Store};

/// The store's data: WASI and the bench clock.
struct Host {
    wasi: WasiP1Ctx,
    /// When the open `bench.start` was called.
    started: Option<Instant>,
    /// The time inside closed `bench.start`..`bench.end` pairs.
    execution_ns: u128,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [report, wasm] = args.as_slice() else {
        eprintln!("usage: phases REPORT.json FILE.wasm");
        std::process::exit(2);
    };
    let engine = Engine::default();
    let bytes = std::fs::read(wasm).map_err(|e| runtime::Error::msg(format!("{wasm}: {e}")))?;
    let t0 = Instant::now();
    let module = Module::new(&engine, &bytes)?;
    let compile_ns = t0.elapsed().as_nanos();

    let mut linker = Linker::<Host>::new(&engine);
    wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
    linker.func_wrap("bench", "start", |mut caller: Caller<'_, Host>| {
        caller.data_mut().started = Some(Instant::now());
    })?;
    linker.func_wrap("bench", "end", |mut caller: Caller<'_, Host>| {
        let host = caller.data_mut();
        if let Some(started) = host.started.take() {
            host.execution_ns += started.elapsed().as_nanos();
        }
    })?;
    let ctx = WasiCtxBuilder::new()
        .arg(wasm.as_str())
        .preopened_dir(".", ".")
        .inherit_stdio()
        .build_p1()?;
    let host = Host {
        wasi: ctx,
        started: None,
        execution_ns: 0,
    };
    let mut store = Store::new(&engine, host);

    let t0 = Instant::now();
    let instance = linker.instantiate(&mut store, &module)?;
    let instantiate_ns = t0.elapsed().as_nanos();

    let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
    let code = wasi::exit_code(start.call(&mut store, ()))?;
    let execution_ns = store.data().execution_ns;
    let json = format!(
        "{{\"compile_ns\": {compile_ns}, \"instantiate_ns\": {instantiate_ns}, \
         \"execution_ns\": {execution_ns}}}\n"
    );
    std::fs::write(report, json).map_err(|e| runtime::Error::msg(format!("{report}: {e}")))?;
    std::process::exit(code)
}
