//! WASI preview1 (`wasi_snapshot_preview1`, plus the older `wasi_unstable` names) as host
//! functions over the public API, with errnos matching Wasmtime's.
//!
//! The WASI state of a store ([`WasiP1Ctx`]) lives in the store's host data, as in
//! Wasmtime's preview1 support; one linker serves every store:
//!
//! ```no_run
//! use runtime_wasi as wasi;
//! use runtime_engine::{Engine, Linker, Module, Store};
//! struct Host {
//!     wasi: wasi::WasiP1Ctx,
//!     requests: u32,
//! }
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! let mut linker = Linker::<Host>::new(&engine);
//! wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
//! let wasi = wasi::WasiCtx::builder()
//!     .arg("hello.wasm")
//!     .env("HOME", "/")
//!     .preopened_dir(".", "/")
//!     .inherit_stdio()
//!     .build_p1()?;
//! let mut store = Store::new(&engine, Host { wasi, requests: 0 });
//! let code = wasi::run_command(&mut store, &linker, &module)?;
//! std::process::exit(code);
//! # Ok::<(), runtime_engine::Error>(())
//! ```
//!
//! Paths are confined to the preopened directories (see `sandbox.rs`); descriptor rights are
//! enforced (an operation without its right is `NOTCAPABLE`); a guest pointer outside
//! memory traps, as in Wasmtime.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ctx;
mod fd;
mod mem;
mod misc;
mod path;
mod poll;
mod sandbox;
mod state;
pub mod threads;
mod types;

pub use ctx::{OutputBuffer, WasiCtx, WasiCtxBuilder, WasiP1Ctx};
pub use threads::{ThreadExit, WasiThreads};
pub use types::{errno_name, Errno};

use fd::Args;
use mem::{Fail, Mem, WasiResult};
use runtime_engine::{
    Caller, Engine, Error, Extern, FuncType, Linker, Module, Store, Trap, Val, ValType,
};
use state::WasiState;

/// The module name WASI preview1 is imported under.
pub const SNAPSHOT_PREVIEW1: &str = "wasi_snapshot_preview1";
/// The module name of the older WASI snapshot (same functions, a few different ABIs).
pub const UNSTABLE: &str = "wasi_unstable";

type Impl = fn(&mut WasiState, &mut Mem, &Args) -> WasiResult<()>;

const I: ValType = ValType::I32;
const L: ValType = ValType::I64;

/// One WASI function: name, parameter types, implementation, and the `wasi_unstable`
/// implementation when its ABI differs (`None`: the same function).
struct Def(&'static str, &'static [ValType], Impl, Option<Impl>);

const DEFS: &[Def] = &[
    Def("args_get", &[I, I], misc::args_get, None),
    Def("args_sizes_get", &[I, I], misc::args_sizes_get, None),
    Def("environ_get", &[I, I], misc::environ_get, None),
    Def("environ_sizes_get", &[I, I], misc::environ_sizes_get, None),
    Def("clock_res_get", &[I, I], misc::clock_res_get, None),
    Def("clock_time_get", &[I, L, I], misc::clock_time_get, None),
    Def("fd_advise", &[I, L, L, I], fd::fd_advise, None),
    Def("fd_allocate", &[I, L, L], fd::fd_allocate, None),
    Def("fd_close", &[I], fd::fd_close, None),
    Def("fd_datasync", &[I], fd::fd_datasync, None),
    Def("fd_fdstat_get", &[I, I], fd::fd_fdstat_get, None),
    Def(
        "fd_fdstat_set_flags",
        &[I, I],
        fd::fd_fdstat_set_flags,
        None,
    ),
    Def(
        "fd_fdstat_set_rights",
        &[I, L, L],
        fd::fd_fdstat_set_rights,
        None,
    ),
    Def(
        "fd_filestat_get",
        &[I, I],
        fd::fd_filestat_get,
        Some(fd::fd_filestat_get_unstable),
    ),
    Def(
        "fd_filestat_set_size",
        &[I, L],
        fd::fd_filestat_set_size,
        None,
    ),
    Def(
        "fd_filestat_set_times",
        &[I, L, L, I],
        fd::fd_filestat_set_times,
        None,
    ),
    Def("fd_pread", &[I, I, I, L, I], fd::fd_pread, None),
    Def("fd_prestat_get", &[I, I], fd::fd_prestat_get, None),
    Def(
        "fd_prestat_dir_name",
        &[I, I, I],
        fd::fd_prestat_dir_name,
        None,
    ),
    Def("fd_pwrite", &[I, I, I, L, I], fd::fd_pwrite, None),
    Def("fd_read", &[I, I, I, I], fd::fd_read, None),
    Def("fd_readdir", &[I, I, I, L, I], fd::fd_readdir, None),
    Def("fd_renumber", &[I, I], fd::fd_renumber, None),
    Def(
        "fd_seek",
        &[I, L, I, I],
        fd::fd_seek,
        Some(fd::fd_seek_unstable),
    ),
    Def("fd_sync", &[I], fd::fd_sync, None),
    Def("fd_tell", &[I, I], fd::fd_tell, None),
    Def("fd_write", &[I, I, I, I], fd::fd_write, None),
    Def(
        "path_create_directory",
        &[I, I, I],
        path::path_create_directory,
        None,
    ),
    Def(
        "path_filestat_get",
        &[I, I, I, I, I],
        path::path_filestat_get,
        Some(path::path_filestat_get_unstable),
    ),
    Def(
        "path_filestat_set_times",
        &[I, I, I, I, L, L, I],
        path::path_filestat_set_times,
        None,
    ),
    Def("path_link", &[I, I, I, I, I, I, I], path::path_link, None),
    Def(
        "path_open",
        &[I, I, I, I, I, L, L, I, I],
        path::path_open,
        None,
    ),
    Def(
        "path_readlink",
        &[I, I, I, I, I, I],
        path::path_readlink,
        None,
    ),
    Def(
        "path_remove_directory",
        &[I, I, I],
        path::path_remove_directory,
        None,
    ),
    Def("path_rename", &[I, I, I, I, I, I], path::path_rename, None),
    Def("path_symlink", &[I, I, I, I, I], path::path_symlink, None),
    Def("path_unlink_file", &[I, I, I], path::path_unlink_file, None),
    Def(
        "poll_oneoff",
        &[I, I, I, I],
        poll::poll_oneoff,
        Some(poll::poll_oneoff_unstable),
    ),
    Def("proc_raise", &[I], misc::proc_raise, None),
    Def("sched_yield", &[], misc::sched_yield, None),
    Def("random_get", &[I, I], misc::random_get, None),
    Def("sock_accept", &[I, I, I], misc::sock_any, None),
    Def("sock_recv", &[I, I, I, I, I, I], misc::sock_any, None),
    Def("sock_send", &[I, I, I, I, I], misc::sock_any, None),
    Def("sock_shutdown", &[I, I], misc::sock_any, None),
];

/// Defines `module::name` as the WASI function `imp`.
fn define<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiP1Ctx + Send + Sync + Copy + 'static,
    (module, name): (&str, &str),
    (params, results): (&[ValType], &[ValType]),
    imp: Impl,
) -> runtime_engine::Result<()> {
    let ty = FuncType::new(params.iter().copied(), results.iter().copied());
    linker.func_new(
        module,
        name,
        ty,
        move |mut caller: Caller<'_, T>, args: &[Val], results: &mut [Val]| {
            let (mut mem, host) = match caller.get_export("memory") {
                Some(Extern::Memory(m)) => {
                    let (data, host) = m.data_and_store_mut(&mut caller);
                    (Mem::new(Some(data)), host)
                }
                Some(Extern::SharedMemory(m)) => (Mem::shared(m), caller.data_mut()),
                _ => (Mem::new(None), caller.data_mut()),
            };
            let errno = match imp(&mut get(host).lock(), &mut mem, &Args(args)) {
                Ok(()) => 0,
                Err(Fail::Errno(e)) => e.0 as i32,
                Err(Fail::Trap(t)) => return Err(Error::Trap(t)),
            };
            if let Some(r) = results.first_mut() {
                *r = Val::I32(errno);
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// Defines every WASI preview1 function under `wasi_snapshot_preview1` and
/// `wasi_unstable` in `linker`. Each call finds the calling store's [`WasiP1Ctx`] with
/// `get` and the guest's memory as its `memory` export.
///
/// ```
/// use runtime_wasi as wasi;
/// use runtime_engine::{Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (call $exit (i32.const 3))))"#)?;
/// let mut linker = Linker::new(&engine);
/// wasi::add_to_linker(&mut linker, |ctx: &mut wasi::WasiP1Ctx| ctx)?;
/// // The same linker runs the command in as many stores as needed.
/// for _ in 0..2 {
///     let ctx = wasi::WasiCtx::builder().arg("exit3").build_p1()?;
///     let mut store = Store::new(&engine, ctx);
///     assert_eq!(wasi::run_command(&mut store, &linker, &module)?, 3);
/// }
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiP1Ctx + Send + Sync + Copy + 'static,
) -> runtime_engine::Result<()> {
    for module in [SNAPSHOT_PREVIEW1, UNSTABLE] {
        for Def(name, params, imp, unstable) in DEFS {
            let imp = if module == UNSTABLE {
                unstable.unwrap_or(*imp)
            } else {
                *imp
            };
            define(linker, get, (module, name), (params, &[I]), imp)?;
        }
        define(
            linker,
            get,
            (module, "proc_exit"),
            (&[I], &[]),
            misc::proc_exit,
        )?;
    }
    Ok(())
}

/// The exit code a finished run stands for: 0 if it returned, the status of a
/// `proc_exit`; any other error (a trap, a link error) is passed on.
pub fn exit_code(result: runtime_engine::Result<()>) -> runtime_engine::Result<i32> {
    match result {
        Ok(()) => Ok(0),
        Err(e) => match e.as_trap().and_then(Trap::exit_status) {
            Some(code) => Ok(code),
            None => Err(e),
        },
    }
}

/// Runs a WASI command: instantiates `module` with `linker` (which must have WASI, see
/// [`add_to_linker`]), calls its `_start` and returns the exit code.
pub fn run_command<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    module: &Module,
) -> runtime_engine::Result<i32> {
    let mut run = || -> runtime_engine::Result<()> {
        let instance = linker.instantiate(&mut *store, module)?;
        let start = instance
            .get_typed_func::<(), ()>(&*store, "_start")
            .map_err(|_| {
                Error::Usage("the module exports no `_start` function of type [] -> []".into())
            })?;
        start.call(&mut *store, ())
    };
    exit_code(run())
}

/// Runs `module` as a WASI command with `ctx` in a fresh store; returns the exit code.
pub fn run(engine: &Engine, module: &Module, ctx: WasiCtx) -> runtime_engine::Result<i32> {
    let mut linker = Linker::new(engine);
    add_to_linker(&mut linker, |wasi: &mut WasiP1Ctx| wasi)?;
    let mut store = Store::new(engine, WasiP1Ctx::new(ctx)?);
    run_command(&mut store, &linker, module)
}
