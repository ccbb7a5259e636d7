//! WASI (after the Wasmtime book's WASI example): the WASI state lives in the store's data,
//! next to the host's own, and `wasi::add_to_linker` finds it there with a closure.
//!
//! `cargo run -p runtime --example wasi`

use runtime::wasi::{self, OutputBuffer, WasiCtxBuilder, WasiP1Ctx};
use runtime::{Caller, Engine, Linker, Module, Result, Store};

/// Everything the host keeps per store.
pub struct Host {
    pub wasi: WasiP1Ctx,
    pub ticks: u32,
}

/// A WASI command: prints its arguments through `fd_write`, asking the host for a tick
/// before each.
const GUEST: &str = r#"(module
    (import "wasi_snapshot_preview1" "args_sizes_get"
        (func $args_sizes_get (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "host" "tick" (func $tick))
    (memory (export "memory") 1)
    (data (i32.const 512) "\n")
    (func $strlen (param $p i32) (result i32) (local $n i32)
        (block $done (loop $next
            (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $n))
    (func $print (param $p i32) (param $len i32)
        (i32.store (i32.const 0) (local.get $p))
        (i32.store (i32.const 4) (local.get $len))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
    (func (export "_start") (local $argc i32) (local $i i32) (local $arg i32)
        (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
        (local.set $argc (i32.load (i32.const 16)))
        ;; argv at 1024, the strings at 2048
        (drop (call $args_get (i32.const 1024) (i32.const 2048)))
        (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
            (call $tick)
            (local.set $arg (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
            (call $print (local.get $arg) (call $strlen (local.get $arg)))
            (call $print (i32.const 512) (i32.const 1))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))))"#;

/// Runs the command with `args`; returns its exit code, its output and the host's ticks.
pub fn run(args: &[&str]) -> Result<(i32, String, u32)> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut linker = Linker::<Host>::new(&engine);
    wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
    linker.func_wrap("host", "tick", |mut caller: Caller<'_, Host>| {
        caller.data_mut().ticks += 1
    })?;
    let stdout = OutputBuffer::new();
    let wasi = WasiCtxBuilder::new()
        .args(args.iter().copied())
        .stdout_buffer(&stdout)
        .build_p1()?;
    let mut store = Store::new(&engine, Host { wasi, ticks: 0 });
    let code = wasi::run_command(&mut store, &linker, &module)?;
    Ok((code, stdout.to_string_lossy(), store.data().ticks))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (code, output, ticks) = run(&["echo", "hello", "from", "WASI"])?;
    print!("{output}");
    println!("exit code {code}, {ticks} ticks");
    Ok(())
}
