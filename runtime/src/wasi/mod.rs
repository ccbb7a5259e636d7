//! WASI preview1 (`wasi_snapshot_preview1`, plus the older `wasi_unstable` names) as host
//! functions over the public API, with errnos matching Wasmtime's.
//!
//! ```no_run
//! use runtime::{wasi, Engine, Linker, Module, Store};
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm").unwrap();
//! let ctx = wasi::WasiCtx::builder()
//!     .arg("hello.wasm")
//!     .env("HOME", "/")
//!     .preopened_dir(".", "/")
//!     .inherit_stdio()
//!     .build()
//!     .unwrap();
//! let mut store = Store::new(&engine);
//! let mut linker = Linker::new();
//! wasi::add_to_linker(&mut linker, &mut store, ctx).unwrap();
//! let code = wasi::run_command(&mut store, &linker, &module).unwrap();
//! std::process::exit(code);
//! ```
//!
//! Paths are confined to the preopened directories (see `sandbox.rs`); descriptor rights are
//! enforced (an operation without its right is `NOTCAPABLE`); a guest pointer outside
//! memory traps, as in Wasmtime.

mod ctx;
mod fd;
mod mem;
mod misc;
mod path;
mod poll;
mod sandbox;
mod state;
mod types;

pub use ctx::{OutputBuffer, WasiCtx, WasiCtxBuilder};
pub use types::{errno_name, Errno};

use crate::{
    Caller, Engine, Error, Extern, Func, FuncType, Linker, Module, Store, Trap, Val, ValType,
};
use fd::Args;
use mem::{Fail, Mem, WasiResult};
use state::WasiState;
use std::cell::RefCell;
use std::rc::Rc;

/// The module names WASI preview1 is imported under.
pub const SNAPSHOT_PREVIEW1: &str = "wasi_snapshot_preview1";
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

fn host_func(
    store: &mut Store,
    state: &Rc<RefCell<WasiState>>,
    params: &[ValType],
    results: &[ValType],
    imp: Impl,
) -> Func {
    let state = state.clone();
    Func::new(
        store,
        FuncType::new(params.iter().copied(), results.iter().copied()),
        move |mut caller: Caller<'_>, args: &[Val], results: &mut [Val]| {
            let memory = caller.get_export("memory").and_then(Extern::into_memory);
            let data = memory.map(|m| m.data_mut(caller.store()));
            let mut mem = Mem::new(data);
            let mut st = state.borrow_mut();
            match imp(&mut st, &mut mem, &Args(args)) {
                Ok(()) => {
                    if let Some(r) = results.first_mut() {
                        *r = Val::I32(0);
                    }
                    Ok(())
                }
                Err(Fail::Errno(e)) => {
                    if let Some(r) = results.first_mut() {
                        *r = Val::I32(e.0 as i32);
                    }
                    Ok(())
                }
                Err(Fail::Trap(t)) => Err(t),
            }
        },
    )
}

/// Defines every WASI preview1 function under `wasi_snapshot_preview1` and
/// `wasi_unstable` in `linker`, creating the host functions in `store`. The functions
/// share `ctx`'s state (descriptor table, ...); give each instance its own context.
pub fn add_to_linker(linker: &mut Linker, store: &mut Store, ctx: WasiCtx) -> crate::Result<()> {
    let state = Rc::new(RefCell::new(WasiState::new(ctx)?));
    for module in [SNAPSHOT_PREVIEW1, UNSTABLE] {
        for Def(name, params, imp, unstable) in DEFS {
            let imp = if module == UNSTABLE {
                unstable.unwrap_or(*imp)
            } else {
                *imp
            };
            let f = host_func(store, &state, params, &[I], imp);
            linker.define(module, name, Extern::Func(f));
        }
        let exit = host_func(store, &state, &[I], &[], misc::proc_exit);
        linker.define(module, "proc_exit", Extern::Func(exit));
    }
    Ok(())
}

/// The exit code a finished run stands for: 0 if it returned, the status of a
/// `proc_exit`; any other error (a trap, a link error) is passed on.
pub fn exit_code(result: crate::Result<()>) -> crate::Result<i32> {
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
pub fn run_command(store: &mut Store, linker: &Linker, module: &Module) -> crate::Result<i32> {
    let run = |store: &mut Store| -> crate::Result<()> {
        let instance = linker.instantiate(store, module)?;
        let start = instance
            .get_func(store, "_start")
            .ok_or_else(|| Error::Usage("the module exports no `_start` function".into()))?;
        start.call(store, &[], &mut [])
    };
    exit_code(run(store))
}

/// Runs `module` as a WASI command with `ctx` in a fresh store; returns the exit code.
pub fn run(engine: &Engine, module: &Module, ctx: WasiCtx) -> crate::Result<i32> {
    let mut store = Store::new(engine);
    let mut linker = Linker::new();
    add_to_linker(&mut linker, &mut store, ctx)?;
    run_command(&mut store, &linker, module)
}
