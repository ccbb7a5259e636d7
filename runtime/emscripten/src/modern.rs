//! The current Emscripten ABI (emcc 2.x/3.x): the `wasi_snapshot_preview1` functions emcc's
//! libc calls plus Emscripten's `env` imports (`__syscall_*` with direct arguments, the
//! `_*_js` time helpers, exceptions, `invoke_*`, heap growth). Both share one descriptor
//! table over the virtual filesystem, as emcc's JavaScript glue does; 64-bit WASI arguments
//! may be legalized into two `i32` halves (emcc's default without `-sWASM_BIGINT`).

use super::ctx::{h, make_func, state, Args, Ctx, Emscripten, HResult, Handler, Ret};
use super::fs::{Errno, AT_FDCWD, S_IFDIR, S_IFMT};
use super::syscalls::{self as sys, finish, Sys};
use super::{libc, time, Abi, Options};
use runtime_engine::{
    Error, Extern, ExternType, Instance, Memory, Module, Result, Store, Table, Trap, Val,
};
use std::sync::Arc;

/// Links and runs a current-ABI program.
pub(crate) fn run(
    store: &mut Store<Emscripten>,
    module: &Module,
    options: &Options,
) -> Result<i32> {
    let args: Vec<String> = std::iter::once(options.program_name.clone())
        .chain(options.args.iter().cloned())
        .collect();
    let mut imports = Vec::new();
    let mut missing = Vec::new();
    let mut javascript = Vec::new();
    for imp in module.imports() {
        let ext = match &imp.ty {
            ExternType::Func(ty) => {
                let handler = match imp.module.as_str() {
                    "wasi_snapshot_preview1" | "wasi_unstable" => wasi_handler(&imp.name, &args),
                    "env" if libc::needs_javascript(&imp.name) => {
                        javascript.push(imp.name.clone());
                        continue;
                    }
                    "env" => env_handler(&imp.name),
                    _ => None,
                };
                match handler {
                    Some(h) => Extern::Func(make_func(&mut *store, ty.clone(), h)),
                    None => {
                        missing.push(format!("{}::{}", imp.module, imp.name));
                        continue;
                    }
                }
            }
            ExternType::Memory(ty) if imp.module == "env" => {
                let m = Memory::new(&mut *store, *ty)?;
                state(&mut *store).memory = Some(m);
                Extern::Memory(m)
            }
            ExternType::Table(ty) if imp.module == "env" => {
                let t = Table::new(&mut *store, *ty, Val::FuncRef(None))?;
                state(&mut *store).table = Some(t);
                Extern::Table(t)
            }
            _ => {
                missing.push(format!("{}::{} ({})", imp.module, imp.name, imp.ty.kind()));
                continue;
            }
        };
        imports.push(ext);
    }
    super::link_errors(&javascript, &missing)?;
    let instance = Instance::new(&mut *store, module, &imports)?;
    let memory = instance.get_memory(&*store, "memory");
    let table = instance.get_table(&*store, "__indirect_function_table");
    {
        let s = state(&mut *store);
        s.instance = Some(instance);
        if s.memory.is_none() {
            s.memory = memory;
        }
        if s.table.is_none() {
            s.table = table;
        }
    }
    let memory = state(&mut *store).memory;
    let result = super::start(
        store,
        instance,
        memory,
        options,
        &["_initialize", "__wasm_call_ctors"],
    );
    match result {
        Ok(code) => {
            // EXIT_RUNTIME: atexit handlers, then stdio is flushed.
            exit_runtime(&mut *store, instance)?;
            Ok(code)
        }
        other => other,
    }
}

fn exit_runtime(store: &mut Store<Emscripten>, instance: Instance) -> Result<()> {
    for name in ["__funcs_on_exit", "__stdio_exit"] {
        if let Some(f) = instance.get_func(&mut *store, name) {
            super::ctx::call(&mut *store, f, &[]).map_err(Error::Trap)?;
        }
    }
    Ok(())
}

fn wasi_result(r: Sys<i32>) -> HResult {
    match r {
        Ok(_) => Ok(Ret::I32(0)),
        Err(sys::SysErr::E(e)) => Ok(Ret::I32(e.wasi())),
        Err(sys::SysErr::T(t)) => Err(t),
    }
}

/// A 64-bit argument at `n`: an `i64`, or two legalized `i32` halves. Returns the value
/// and the index of the next argument.
fn arg64(a: &Args<'_>, n: usize, legalized: bool) -> (i64, usize) {
    if legalized {
        (
            ((a.u32(n + 1) as u64) << 32 | a.u32(n) as u64) as i64,
            n + 2,
        )
    } else {
        (a.i64(n), n + 1)
    }
}

/// The WASI functions emcc's libc imports, over the same descriptor table as `__syscall_*`.
fn wasi_handler(name: &str, args: &[String]) -> Option<Handler> {
    let args = args.to_vec();
    let handler: Handler = match name {
        "fd_write" | "fd_read" => {
            let write = name == "fd_write";
            Arc::new(move |ctx, a| {
                let r = (|| {
                    let n = if write {
                        sys::writev(ctx, a.i32(0), a.u32(1), a.i32(2), None)?
                    } else {
                        sys::readv(ctx, a.i32(0), a.u32(1), a.i32(2), None)?
                    };
                    ctx.set_i32(a.u32(3), n)?;
                    Ok(0)
                })();
                wasi_result(r)
            })
        }
        "fd_pwrite" | "fd_pread" => {
            let write = name == "fd_pwrite";
            Arc::new(move |ctx, a| {
                let legalized = a.len() == 6;
                let (off, next) = arg64(a, 3, legalized);
                let r = (|| {
                    let n = if write {
                        sys::writev(ctx, a.i32(0), a.u32(1), a.i32(2), Some(off as u64))?
                    } else {
                        sys::readv(ctx, a.i32(0), a.u32(1), a.i32(2), Some(off as u64))?
                    };
                    ctx.set_i32(a.u32(next), n)?;
                    Ok(0)
                })();
                wasi_result(r)
            })
        }
        "fd_close" => Arc::new(|ctx, a| {
            wasi_result(ctx.st().fs.close(a.i32(0)).map(|_| 0).map_err(Into::into))
        }),
        "fd_seek" => Arc::new(|ctx, a| {
            let legalized = a.len() == 5;
            let (off, next) = arg64(a, 1, legalized);
            let r = (|| {
                let pos = ctx.st().fs.seek(a.i32(0), off, a.i32(next))?;
                ctx.set_i64(a.u32(next + 1), pos as i64)?;
                Ok(0)
            })();
            wasi_result(r)
        }),
        "fd_sync" | "fd_datasync" | "fd_fdstat_set_flags" | "fd_advise" | "fd_allocate" => {
            Arc::new(|ctx, a| {
                wasi_result(ctx.st().fs.flags(a.i32(0)).map(|_| 0).map_err(Into::into))
            })
        }
        "fd_fdstat_get" => Arc::new(|ctx, a| {
            let r = (|| {
                let fd = a.i32(0);
                let (tty, stat, flags) = {
                    let s = ctx.st();
                    (s.fs.is_tty(fd)?, s.fs.fstat(fd)?, s.fs.flags(fd)?)
                };
                let filetype = if tty {
                    2
                } else if stat.mode & S_IFMT == S_IFDIR {
                    3
                } else {
                    4
                };
                let buf = a.u32(1);
                ctx.slice(buf, 24)?.fill(0);
                ctx.set_u8(buf, filetype)?;
                ctx.set_u16(
                    buf + 2,
                    if flags & super::fs::O_APPEND != 0 {
                        1
                    } else {
                        0
                    },
                )?;
                ctx.set_i64(buf + 8, -1)?;
                ctx.set_i64(buf + 16, -1)?;
                Ok(0)
            })();
            wasi_result(r)
        }),
        "environ_sizes_get" => Arc::new(|ctx, a| {
            let (count, size) = {
                let s = ctx.st();
                (
                    s.env.len(),
                    s.env
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 2)
                        .sum::<usize>(),
                )
            };
            ctx.set_u32(a.u32(0), count as u32)?;
            ctx.set_u32(a.u32(1), size as u32)?;
            Ok(Ret::I32(0))
        }),
        "environ_get" => Arc::new(|ctx, a| {
            let lines = ctx.st().env_lines();
            write_strings(ctx, a.u32(0), a.u32(1), &lines)?;
            Ok(Ret::I32(0))
        }),
        "args_sizes_get" => {
            let args = args.clone();
            Arc::new(move |ctx, a| {
                ctx.set_u32(a.u32(0), args.len() as u32)?;
                ctx.set_u32(a.u32(1), args.iter().map(|s| s.len() as u32 + 1).sum())?;
                Ok(Ret::I32(0))
            })
        }
        "args_get" => {
            let args = args.clone();
            Arc::new(move |ctx, a| {
                write_strings(ctx, a.u32(0), a.u32(1), &args)?;
                Ok(Ret::I32(0))
            })
        }
        "clock_time_get" => Arc::new(|ctx, a| {
            let ns: u64 = match a.i32(0) {
                0 => (time::now() * 1e9) as u64,
                1..=3 => (time::monotonic_ms() * 1e6) as u64,
                _ => return Ok(Ret::I32(Errno::Inval.wasi())),
            };
            let ptr = a.u32(a.len() - 1);
            ctx.set_i64(ptr, ns as i64)?;
            Ok(Ret::I32(0))
        }),
        "clock_res_get" => Arc::new(|ctx, a| {
            ctx.set_i64(a.u32(1), 1000)?;
            Ok(Ret::I32(0))
        }),
        "random_get" => Arc::new(|ctx, a| {
            let bytes: Vec<u8> = {
                let s = ctx.st();
                (0..a.u32(1))
                    .map(|_| {
                        s.random_state = s
                            .random_state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (s.random_state >> 33) as u8
                    })
                    .collect()
            };
            ctx.write(a.u32(0), &bytes)?;
            Ok(Ret::I32(0))
        }),
        "proc_exit" => Arc::new(|_, a| Err(Trap::exit(a.i32(0)))),
        "sched_yield" => Arc::new(|_, _| Ok(Ret::I32(0))),
        _ => return None,
    };
    Some(handler)
}

/// WASI's `*_get(ptrs, buf)`: NUL-terminated strings into `buf`, their addresses into `ptrs`.
fn write_strings(ctx: &mut Ctx<'_>, ptrs: u32, buf: u32, strings: &[String]) -> Result<(), Trap> {
    let mut p = buf;
    for (i, s) in strings.iter().enumerate() {
        ctx.set_u32(ptrs + 4 * i as u32, p)?;
        ctx.write_cstr(p, s.as_bytes())?;
        p += s.len() as u32 + 1;
    }
    Ok(())
}

/// A `__syscall_*` handler returning `-errno` (WASI numbering) on failure.
fn sc(f: fn(&mut Ctx<'_>, &Args<'_>) -> Sys) -> Handler {
    Arc::new(move |ctx, a| finish(Abi::Modern, f(ctx, a)))
}

/// The optional vararg at `varargs` (0 when absent).
fn vararg(ctx: &mut Ctx<'_>, varargs: u32) -> Result<u32, Trap> {
    if varargs == 0 {
        Ok(0)
    } else {
        ctx.u32(varargs)
    }
}

fn env_handler(full_name: &str) -> Option<Handler> {
    let handler: Handler = match full_name {
        "__syscall_open" => sc(|ctx, a| {
            let mode = vararg(ctx, a.u32(2))?;
            sys::open_at(ctx, AT_FDCWD, a.u32(0), a.i32(1), mode)
        }),
        "__syscall_openat" => sc(|ctx, a| {
            let mode = vararg(ctx, a.u32(3))?;
            sys::open_at(ctx, a.i32(0), a.u32(1), a.i32(2), mode)
        }),
        "__syscall_fcntl64" => sc(|ctx, a| {
            let arg = vararg(ctx, a.u32(2))?;
            sys::fcntl(ctx, a.i32(0), a.i32(1), arg)
        }),
        "__syscall_ioctl" => sc(|ctx, a| {
            let arg = vararg(ctx, a.u32(2))?;
            sys::ioctl(ctx, a.i32(0), a.u32(1), arg)
        }),
        "__syscall_getdents64" => sc(|ctx, a| sys::getdents(ctx, a.i32(0), a.u32(1), a.u32(2))),
        "__syscall_stat64" => sc(|ctx, a| sys::stat(ctx, AT_FDCWD, a.u32(0), a.u32(1), true)),
        "__syscall_lstat64" => sc(|ctx, a| sys::stat(ctx, AT_FDCWD, a.u32(0), a.u32(1), false)),
        "__syscall_fstat64" => sc(|ctx, a| sys::fstat(ctx, a.i32(0), a.u32(1))),
        "__syscall_newfstatat" | "__syscall_fstatat64" => {
            sc(|ctx, a| sys::stat(ctx, a.i32(0), a.u32(1), a.u32(2), a.i32(3) & 0x100 == 0))
        }
        "__syscall_mkdir" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            ctx.st().fs.mkdir(&p, a.u32(1))?;
            Ok(0)
        }),
        "__syscall_mkdirat" => sc(|ctx, a| {
            let p = sys::path_at(ctx, a.i32(0), a.u32(1))?;
            ctx.st().fs.mkdir(&p, a.u32(2))?;
            Ok(0)
        }),
        "__syscall_rmdir" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            ctx.st().fs.rmdir(&p)?;
            Ok(0)
        }),
        "__syscall_unlink" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            ctx.st().fs.unlink(&p)?;
            Ok(0)
        }),
        "__syscall_unlinkat" => sc(|ctx, a| {
            let p = sys::path_at(ctx, a.i32(0), a.u32(1))?;
            if a.i32(2) & 0x200 != 0 {
                ctx.st().fs.rmdir(&p)?;
            } else {
                ctx.st().fs.unlink(&p)?;
            }
            Ok(0)
        }),
        "__syscall_rename" => sc(|ctx, a| {
            let (o, n) = (sys::path(ctx, a.u32(0))?, sys::path(ctx, a.u32(1))?);
            ctx.st().fs.rename(&o, &n)?;
            Ok(0)
        }),
        "__syscall_renameat" => sc(|ctx, a| {
            let o = sys::path_at(ctx, a.i32(0), a.u32(1))?;
            let n = sys::path_at(ctx, a.i32(2), a.u32(3))?;
            ctx.st().fs.rename(&o, &n)?;
            Ok(0)
        }),
        "__syscall_chdir" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            ctx.st().fs.chdir(&p)?;
            Ok(0)
        }),
        "__syscall_fchdir" => sc(|ctx, a| {
            ctx.st().fs.fchdir(a.i32(0))?;
            Ok(0)
        }),
        "__syscall_getcwd" => sc(|ctx, a| {
            sys::getcwd(ctx, a.u32(0), a.u32(1))?;
            Ok(a.i32(0))
        }),
        "__syscall_access" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            ctx.st().fs.access(&p)?;
            Ok(0)
        }),
        "__syscall_faccessat" => sc(|ctx, a| {
            let p = sys::path_at(ctx, a.i32(0), a.u32(1))?;
            ctx.st().fs.access(&p)?;
            Ok(0)
        }),
        "__syscall_readlink" => {
            sc(|ctx, a| sys::readlink(ctx, AT_FDCWD, a.u32(0), a.u32(1), a.u32(2)))
        }
        "__syscall_readlinkat" => {
            sc(|ctx, a| sys::readlink(ctx, a.i32(0), a.u32(1), a.u32(2), a.u32(3)))
        }
        "__syscall_dup" => sc(|ctx, a| Ok(ctx.st().fs.dup(a.i32(0), 0)?)),
        "__syscall_dup3" => sc(|ctx, a| {
            if a.i32(0) == a.i32(1) {
                return Err(Errno::Inval.into());
            }
            Ok(ctx.st().fs.dup2(a.i32(0), a.i32(1))?)
        }),
        "__syscall_pipe" | "__syscall_pipe2" => sc(|ctx, a| sys::pipe(ctx, a.u32(0))),
        "__syscall_poll" => sc(|ctx, a| sys::poll(ctx, a.u32(0), a.u32(1))),
        "__syscall_uname" => sc(|ctx, a| sys::uname(ctx, a.u32(0))),
        "__syscall_statfs64" => sc(|ctx, a| {
            sys::path(ctx, a.u32(0))?;
            sys::statfs(ctx, a.u32(2))
        }),
        "__syscall_fstatfs64" => sc(|ctx, a| {
            ctx.st().fs.flags(a.i32(0))?;
            sys::statfs(ctx, a.u32(2))
        }),
        "__syscall_ftruncate64" => sc(|ctx, a| {
            let (len, _) = arg64(a, 1, a.len() == 3);
            ctx.st().fs.ftruncate(a.i32(0), len as u64)?;
            Ok(0)
        }),
        "__syscall_truncate64" => sc(|ctx, a| {
            let p = sys::path(ctx, a.u32(0))?;
            let (len, _) = arg64(a, 1, a.len() == 3);
            ctx.st().fs.truncate(&p, len as u64)?;
            Ok(0)
        }),
        "__syscall_chmod"
        | "__syscall_fchmod"
        | "__syscall_fchmodat"
        | "__syscall_fchown32"
        | "__syscall_chown32"
        | "__syscall_lchown32"
        | "__syscall_fchownat"
        | "__syscall_utimensat"
        | "__syscall_fadvise64"
        | "__syscall_fallocate"
        | "__syscall_fdatasync"
        | "__syscall_madvise"
        | "__syscall_mprotect"
        | "__syscall_msync"
        | "__syscall_setpgid"
        | "__syscall_setsid"
        | "__syscall_umask" => sc(|_, _| Ok(0)),
        "__syscall_getpid" | "__syscall_getpgid" | "__syscall_getsid" => sc(|_, _| Ok(42)),
        "__syscall_getppid" => sc(|_, _| Ok(1)),
        "__syscall_getuid32"
        | "__syscall_geteuid32"
        | "__syscall_getgid32"
        | "__syscall_getegid32" => sc(|_, _| Ok(0)),
        "__syscall_symlink" | "__syscall_symlinkat" | "__syscall_link" | "__syscall_linkat" => {
            sc(|_, _| Err(Errno::Perm.into()))
        }
        "_gmtime_js" | "_localtime_js" => h(gmtime_js),
        "_timegm_js" | "_mktime_js" => h(timegm_js),
        "_tzset_js" => h(tzset_js),
        "exit" => Arc::new(|ctx, a| {
            for name in ["__funcs_on_exit", "__stdio_exit"] {
                if let Some(f) = ctx.export_func(name) {
                    ctx.call_func(f, &[])?;
                }
            }
            Err(Trap::exit(a.i32(0)))
        }),
        name if name.starts_with("__syscall_") => sc(|_, _| Err(Errno::NoSys.into())),
        _ => return libc::handler(Abi::Modern, full_name),
    };
    Some(handler)
}

/// `_gmtime_js(timep, tm)` (and `_localtime_js`: the zone is UTC).
fn gmtime_js(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<(), Trap> {
    let t = ctx.i32(a.u32(0))? as i64;
    let mut tm = time::Tm::from_time(t, 0);
    let p = a.u32(1);
    tm.zone = ctx.u32(p + 40)?;
    tm.write(ctx, p)
}

/// `_timegm_js(tm)`: the time of `tm`, filling in its weekday and day of the year.
fn timegm_js(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let p = a.u32(0);
    let tm = time::Tm::read(ctx, p)?;
    let t = tm.to_time();
    let norm = time::Tm::from_time(t, tm.zone);
    let mut out = norm;
    out.gmtoff = 0;
    out.isdst = 0;
    out.write(ctx, p)?;
    Ok(t as i32)
}

/// `_tzset_js(timezone, daylight, tzname)`: UTC, named GMT (when the program has `malloc`).
fn tzset_js(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<(), Trap> {
    ctx.set_i32(a.u32(0), 0)?;
    ctx.set_i32(a.u32(1), 0)?;
    if ctx.c_func("malloc").is_some() {
        let name = ctx.malloc_cstr(b"GMT")?;
        ctx.set_u32(a.u32(2), name)?;
        ctx.set_u32(a.u32(2) + 4, name)?;
    }
    Ok(())
}
