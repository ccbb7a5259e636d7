//! Emscripten libc helpers implemented on the host: process (exit, abort, assertions),
//! environment, errno, locks and pthread stubs, memory growth, math intrinsics and the
//! other small JavaScript library functions emcc programs import.

use super::ctx::{abort_trap, h, Args, Ctx, Handler, Ret};
use super::{eh, time, Abi};
use runtime_engine::{Trap, Val};
use std::sync::Arc;

fn f1(f: fn(f64) -> f64) -> Handler {
    Arc::new(move |_, a| Ok(Ret::F64(f(a.f64(0)))))
}

fn f2(f: fn(f64, f64) -> f64) -> Handler {
    Arc::new(move |_, a| Ok(Ret::F64(f(a.f64(0), a.f64(1)))))
}

fn zero() -> Handler {
    Arc::new(|_, _| Ok(Ret::I32(0)))
}

fn void() -> Handler {
    Arc::new(|_, _| Ok(Ret::Void))
}

/// The handler for a function import of either ABI, by its name with leading underscores
/// removed; `None` if this runtime does not provide it.
pub(crate) fn handler(abi: Abi, full_name: &str) -> Option<Handler> {
    let name = full_name.trim_start_matches('_');
    if let Some(sig) = name.strip_prefix("invoke_") {
        return Some(eh::invoke(sig));
    }
    if let Some(sig) = name.strip_prefix("nullFunc_") {
        let sig = sig.to_string();
        return Some(Arc::new(move |ctx, a: &Args<'_>| {
            let msg = format!(
                "Invalid function pointer '{}' called with signature '{sig}'. Perhaps this is an invalid value (e.g. caused by calling a virtual method on a NULL pointer)? Or calling a function with an incorrect type, which will fail? (it is worth building your source files with -Werror (warnings are errors), as warnings can indicate undefined behavior which can cause this)\nBuild with ASSERTIONS=2 for more info.\n",
                a.i32(0)
            );
            ctx.st().fs.stderr.write_err(msg.as_bytes());
            Err(ctx.abort(&a.i32(0).to_string()))
        }));
    }
    if let Some(e) = eh::handler(abi, full_name) {
        return Some(e);
    }
    Some(match name {
        "abortStackOverflow" => Arc::new(|ctx, a: &Args<'_>| {
            let available =
                (ctx.st().stack_max as i64) - ctx.stack_save()? as i64 + a.i32(0) as i64;
            let msg = format!(
                "Stack overflow! Attempted to allocate {} bytes on the stack, but stack has only {available} bytes available!",
                a.i32(0)
            );
            Err(ctx.abort(&msg))
        }),
        "abort" | "abort_js" => Arc::new(|_, _| Err(abort_trap(""))),
        "abortOnCannotGrowMemory" => Arc::new(|ctx, a: &Args<'_>| {
            Err(ctx.abort(&format!(
                "Cannot enlarge memory arrays to size {} bytes. Compile with -s ALLOW_MEMORY_GROWTH=1 or -s TOTAL_MEMORY=X with X higher",
                a.u32(0)
            )))
        }),
        "assert_fail" => h(assert_fail),
        "exit" | "proc_exit" => Arc::new(|_, a: &Args<'_>| Err(Trap::exit(a.i32(0)))),
        "setErrNo" => Arc::new(|ctx, a| {
            ctx.set_errno(a.i32(0))?;
            Ok(Ret::Void)
        }),
        "lock" | "unlock" | "wait" => void(),
        "getTempRet0" => Arc::new(|ctx, _| Ok(Ret::I32(ctx.st().temp_ret0))),
        "setTempRet0" => Arc::new(|ctx, a| {
            ctx.st().temp_ret0 = a.i32(0);
            Ok(Ret::Void)
        }),
        "emscripten_memcpy_big" => h(memcpy_big),
        "emscripten_get_heap_size" => Arc::new(|ctx, _| Ok(Ret::I32(ctx.mem()?.len() as i32))),
        "emscripten_get_heap_max" => Arc::new(|ctx, _| {
            let m = ctx.memory()?;
            let max = m.ty(ctx.store()).maximum.unwrap_or(32768).min(32768);
            Ok(Ret::I32((max * 65536).min(u32::MAX as u64 - 65535) as i32))
        }),
        "emscripten_resize_heap" => h(resize_heap),
        "emscripten_date_now" => Arc::new(|_, _| Ok(Ret::F64((time::now() * 1000.0).floor()))),
        "emscripten_get_now" => Arc::new(|_, _| Ok(Ret::F64(time::monotonic_ms()))),
        "emscripten_get_now_res" => Arc::new(|_, _| Ok(Ret::F64(1000.0))),
        "emscripten_get_now_is_monotonic" => Arc::new(|_, _| Ok(Ret::I32(1))),
        "emscripten_random" => Arc::new(|ctx, _| {
            let st = ctx.st();
            st.random_state = st
                .random_state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Ok(Ret::F64(
                (st.random_state >> 11) as f64 / (1u64 << 53) as f64,
            ))
        }),
        "llvm_stacksave" => Arc::new(|ctx, _| {
            let sp = ctx.stack_save()?;
            let st = ctx.st();
            st.saved_stacks.push(sp);
            Ok(Ret::I32(st.saved_stacks.len() as i32 - 1))
        }),
        "llvm_stackrestore" => Arc::new(|ctx, a| {
            let p = a.i32(0) as usize;
            let sp = {
                let st = ctx.st();
                if p < st.saved_stacks.len() {
                    Some(st.saved_stacks.remove(p))
                } else {
                    None
                }
            };
            if let Some(sp) = sp {
                ctx.stack_restore(sp)?;
            }
            Ok(Ret::Void)
        }),
        "getenv" => h(getenv),
        "setenv" => h(setenv),
        "unsetenv" => h(unsetenv),
        "putenv" => h(putenv),
        "clearenv" => Arc::new(|ctx, _| {
            ctx.st().env.clear();
            rebuild_environment(ctx)?;
            Ok(Ret::I32(0))
        }),
        "buildEnvironment" => Arc::new(|ctx, a| {
            build_environment(ctx, a.u32(0))?;
            Ok(Ret::Void)
        }),
        "time" => h(time::time),
        "clock_gettime" => h(time::clock_gettime),
        "clock_getres" => h(time::clock_getres),
        "clock_settime" => h(time::clock_settime),
        "gettimeofday" => h(time::gettimeofday),
        "clock" => Arc::new(|_, _| Ok(Ret::I32((time::monotonic_ms() * 1000.0) as i32))),
        "gmtime_r" => h(time::gmtime_r),
        "gmtime" => h(time::gmtime),
        "localtime_r" => Arc::new(|ctx, a| {
            tzset(ctx, a)?;
            time::gmtime_r(ctx, a).map(Ret::from)
        }),
        "localtime" => Arc::new(|ctx, a| {
            tzset(ctx, a)?;
            time::gmtime(ctx, a).map(Ret::from)
        }),
        "mktime" | "timegm" | "timelocal" => h(time::mktime),
        "asctime" => h(time::asctime),
        "asctime_r" => h(time::asctime_r),
        "ctime" => h(time::ctime),
        "ctime_r" => h(time::ctime_r),
        "strftime" | "strftime_l" => h(time::strftime),
        "strptime" | "strptime_l" => h(time::strptime),
        "tzset" => h(tzset),
        "difftime" => Arc::new(|_, a| Ok(Ret::F64(a.f64(0) - a.f64(1)))),
        "pthread_getspecific" => h(pthread_getspecific),
        "pthread_setspecific" => h(pthread_setspecific),
        "pthread_key_create" => h(pthread_key_create),
        "pthread_key_delete" => zero(),
        "pthread_once" => h(pthread_once),
        "pthread_self" => Arc::new(|_, _| Ok(Ret::I32(1))),
        "pthread_cond_wait"
        | "pthread_cond_broadcast"
        | "pthread_cond_signal"
        | "pthread_cond_init"
        | "pthread_cond_destroy"
        | "pthread_mutex_lock"
        | "pthread_mutex_unlock"
        | "pthread_mutex_init"
        | "pthread_mutex_destroy"
        | "pthread_mutexattr_init"
        | "pthread_mutexattr_settype"
        | "pthread_mutexattr_destroy"
        | "pthread_attr_init"
        | "pthread_attr_destroy"
        | "pthread_setcancelstate"
        | "pthread_cleanup_push"
        | "pthread_cleanup_pop"
        | "pthread_rwlock_rdlock"
        | "pthread_rwlock_unlock"
        | "pthread_rwlock_wrlock" => zero(),
        "pthread_create" => Arc::new(|_, _| Ok(Ret::I32(11))),
        "map_file" => Arc::new(|ctx, _| {
            let abi = ctx.st().abi;
            ctx.set_errno(super::syscalls::errno(abi, super::fs::Errno::NoSys))?;
            Ok(Ret::I32(-1))
        }),
        "execvp" | "execve" | "execv" | "execl" | "execle" | "execlp" => Arc::new(|ctx, _| {
            let abi = ctx.st().abi;
            ctx.set_errno(super::syscalls::errno(abi, super::fs::Errno::NoExec))?;
            Ok(Ret::I32(-1))
        }),
        "fork" | "vfork" | "system" | "popen" => Arc::new(|ctx, _| {
            let abi = ctx.st().abi;
            ctx.set_errno(super::syscalls::errno(abi, super::fs::Errno::Again))?;
            Ok(Ret::I32(-1))
        }),
        "getloadavg" => Arc::new(|ctx, a| {
            let limit = a.i32(1).clamp(0, 3);
            for i in 0..limit as u32 {
                ctx.set_f64(a.u32(0) + 8 * i, 0.1)?;
            }
            Ok(Ret::I32(limit))
        }),
        "getpagesize" => Arc::new(|ctx, _| Ok(Ret::I32(page_size(ctx)))),
        "sysconf" => h(sysconf),
        "getpwnam" | "getpwuid" | "getgrnam" | "getgrgid" => zero(),
        "emscripten_get_compiler_setting" => Arc::new(|ctx, a| {
            let name = ctx.cstr(a.u32(0))?;
            match name.as_str() {
                "QUANTUM_SIZE" => Ok(Ret::I32(4)),
                "OPT_LEVEL" | "DEBUG_LEVEL" | "ASSERTIONS" => Ok(Ret::I32(0)),
                "EMSCRIPTEN_VERSION" => Ok(Ret::I32(ctx.malloc_cstr(b"1.38.21")? as i32)),
                _ => Err(ctx.abort("You must build with -s RETAIN_COMPILER_SETTINGS=1")),
            }
        }),
        "emscripten_longjmp" | "longjmp" | "siglongjmp" | "emscripten_longjmp_jmpbuf" => {
            h(eh::longjmp)
        }
        "emscripten_throw_longjmp" => h(eh::throw_longjmp),
        "llvm_bswap_i64" => Arc::new(|ctx, a| {
            let v = (((a.u32(1) as u64) << 32) | a.u32(0) as u64).swap_bytes();
            ctx.st().temp_ret0 = (v >> 32) as i32;
            Ok(Ret::I32(v as i32))
        }),
        "atomic_is_lock_free" => Arc::new(|_, a| {
            let size = a.i32(0);
            Ok(Ret::I32(
                (size <= 4 && size > 0 && size & (size - 1) == 0) as i32,
            ))
        }),
        "atomic_fetch_add_8" | "atomic_fetch_sub_8" | "atomic_fetch_and_8"
        | "atomic_fetch_or_8" | "atomic_fetch_xor_8" | "atomic_exchange_8" | "atomic_load_8" => {
            let op = name.to_string();
            Arc::new(move |ctx, a| {
                let p = a.u32(0);
                let old = ctx.i64(p)?;
                let v = ((a.u32(2) as u64) << 32 | a.u32(1) as u64) as i64;
                let new = match op.as_str() {
                    "atomic_fetch_add_8" => old.wrapping_add(v),
                    "atomic_fetch_sub_8" => old.wrapping_sub(v),
                    "atomic_fetch_and_8" => old & v,
                    "atomic_fetch_or_8" => old | v,
                    "atomic_fetch_xor_8" => old ^ v,
                    "atomic_exchange_8" => v,
                    _ => old,
                };
                ctx.set_i64(p, new)?;
                ctx.st().temp_ret0 = (old >> 32) as i32;
                Ok(Ret::I32(old as i32))
            })
        }
        "atomic_store_8" => Arc::new(|ctx, a| {
            let v = ((a.u32(2) as u64) << 32 | a.u32(1) as u64) as i64;
            ctx.set_i64(a.u32(0), v)?;
            Ok(Ret::Void)
        }),
        "atomic_compare_exchange_8" => Arc::new(|ctx, a| {
            let p = a.u32(0);
            let expected_ptr = a.u32(1);
            let old = ctx.i64(p)?;
            let expected = ctx.i64(expected_ptr)?;
            if old == expected {
                let v = ((a.u32(3) as u64) << 32 | a.u32(2) as u64) as i64;
                ctx.set_i64(p, v)?;
                Ok(Ret::I32(1))
            } else {
                ctx.set_i64(expected_ptr, old)?;
                Ok(Ret::I32(0))
            }
        }),
        // Math: `global.Math` imports, asm2wasm helpers and LLVM intrinsics lowered to calls.
        "pow" | "llvm_pow_f32" | "llvm_pow_f64" | "powf" => f2(f64::powf),
        "f64-rem" | "fmod" | "fmodf" => f2(|a, b| a % b),
        "exp" | "llvm_exp_f32" | "llvm_exp_f64" | "expf" => f1(f64::exp),
        "log" | "llvm_log_f32" | "llvm_log_f64" | "logf" => f1(f64::ln),
        "sqrt" | "sqrtf" | "llvm_sqrt_f32" | "llvm_sqrt_f64" => f1(f64::sqrt),
        "cos" | "cosf" | "llvm_cos_f32" | "llvm_cos_f64" => f1(f64::cos),
        "sin" | "sinf" | "llvm_sin_f32" | "llvm_sin_f64" => f1(f64::sin),
        "tan" | "tanf" => f1(f64::tan),
        "acos" | "acosf" => f1(f64::acos),
        "asin" | "asinf" => f1(f64::asin),
        "atan" | "atanf" => f1(f64::atan),
        "atan2" | "atan2f" => f2(f64::atan2),
        "exp2" | "llvm_exp2_f32" | "llvm_exp2_f64" => f1(f64::exp2),
        "log2" | "llvm_log2_f32" | "llvm_log2_f64" => f1(f64::log2),
        "log10" | "llvm_log10_f32" | "llvm_log10_f64" => f1(f64::log10),
        "fabs" | "fabsf" | "llvm_fabs_f32" | "llvm_fabs_f64" => f1(f64::abs),
        "floor" | "floorf" | "llvm_floor_f32" | "llvm_floor_f64" => f1(f64::floor),
        "ceil" | "ceilf" | "llvm_ceil_f32" | "llvm_ceil_f64" => f1(f64::ceil),
        "trunc" | "truncf" | "llvm_trunc_f32" | "llvm_trunc_f64" => f1(f64::trunc),
        "round" | "roundf" | "llvm_round_f32" | "llvm_round_f64" => f1(f64::round),
        "rint" | "rintf" | "nearbyint" | "nearbyintf" | "llvm_rint_f32" | "llvm_rint_f64"
        | "llvm_nearbyint_f32" | "llvm_nearbyint_f64" => f1(f64::round_ties_even),
        "llvm_copysign_f32" | "llvm_copysign_f64" | "copysign" | "copysignf" => f2(f64::copysign),
        "llvm_maxnum_f32" | "llvm_maxnum_f64" | "fmax" | "fmaxf" => f2(f64::max),
        "llvm_minnum_f32" | "llvm_minnum_f64" | "fmin" | "fminf" => f2(f64::min),
        _ => return None,
    })
}

fn page_size(ctx: &mut Ctx<'_>) -> i32 {
    if ctx.st().abi == Abi::Legacy {
        16384
    } else {
        65536
    }
}

fn assert_fail(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<(), Trap> {
    let cond = ctx.cstr(a.u32(0)).unwrap_or_default();
    let file = if a.u32(1) != 0 {
        ctx.cstr(a.u32(1)).unwrap_or_default()
    } else {
        "unknown filename".into()
    };
    let func = if a.u32(3) != 0 {
        ctx.cstr(a.u32(3)).unwrap_or_default()
    } else {
        "unknown function".into()
    };
    Err(ctx.abort(&format!(
        "Assertion failed: {cond}, at: {}",
        [file, a.i32(2).to_string(), func].join(",")
    )))
}

fn memcpy_big(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let (dest, src, n) = (a.u32(0) as usize, a.u32(1) as usize, a.u32(2) as usize);
    let mem = ctx.mem()?;
    if src.checked_add(n).is_none_or(|e| e > mem.len())
        || dest.checked_add(n).is_none_or(|e| e > mem.len())
    {
        return Err(Trap::new(runtime_engine::TrapCode::MemoryOutOfBounds));
    }
    mem.copy_within(src..src + n, dest);
    Ok(dest as u32)
}

/// `emscripten_resize_heap(requested)`: grows the memory when its maximum allows.
fn resize_heap(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let m = ctx.memory()?;
    let requested = a.u32(0) as u64;
    let current = m.size(ctx.store()) * 65536;
    if requested <= current {
        return Ok(1);
    }
    let max = m.ty(ctx.store()).maximum.unwrap_or(65536).min(65536) * 65536;
    if requested > max {
        return Ok(0);
    }
    // Grow like Emscripten: at least 20% overgrowth, capped at 96 MiB, aligned to 64 KiB.
    let mut target = requested.max(current + (current / 5).min(96 << 20));
    target = target.min(max).div_ceil(65536) * 65536;
    for t in [target, requested.div_ceil(65536) * 65536] {
        let pages = t / 65536 - m.size(ctx.store());
        if m.grow(ctx.store(), pages).is_ok() {
            return Ok(1);
        }
    }
    Ok(0)
}

fn tzset(ctx: &mut Ctx<'_>, _a: &Args<'_>) -> Result<(), Trap> {
    let zone = ctx.st().statics.tm_zone;
    for (name, val) in [("__get_timezone", 0u32), ("__get_daylight", 0)] {
        if let Some(f) = ctx.export_func(name) {
            if let Some(Val::I32(p)) = ctx.call_func(f, &[])? {
                ctx.set_u32(p as u32, val)?;
            }
        }
    }
    if let Some(f) = ctx.export_func("__get_tzname") {
        if let Some(Val::I32(p)) = ctx.call_func(f, &[])? {
            ctx.set_u32(p as u32, zone)?;
            ctx.set_u32(p as u32 + 4, zone)?;
        }
    }
    Ok(())
}

fn sysconf(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    Ok(match a.i32(0) {
        30 => page_size(ctx),
        85 => 16384,
        132 | 133 | 12 | 137 | 138 | 15 | 235 | 16 | 17 | 18 | 19 | 20 | 149 | 13 | 10 | 236
        | 153 | 9 | 21 | 22 | 159 | 154 | 14 | 77 | 78 | 139 | 80 | 81 | 82 | 68 | 67 | 164
        | 11 | 29 | 47 | 48 | 95 | 52 | 51 | 46 => 200809,
        27 | 246 | 127 | 128 | 23 | 24 | 160 | 161 | 181 | 182 | 242 | 183 | 184 | 243 | 244
        | 245 | 165 | 178 | 179 | 49 | 50 | 168 | 169 | 175 | 170 | 171 | 172 | 97 | 76 | 32
        | 173 | 35 => -1,
        176 | 177 | 7 | 155 | 8 | 157 | 125 | 126 | 92 | 93 | 129 | 130 | 131 | 94 | 91 => 1,
        74 | 60 | 69 | 70 | 4 => 1024,
        31 | 42 | 72 => 32,
        87 | 26 | 33 => 2147483647,
        34 | 1 => 47839,
        38 | 36 => 99,
        43 | 37 => 2048,
        0 => 2097152,
        3 => 65536,
        28 => 32768,
        44 => 32767,
        75 => 16384,
        39 => 1000,
        89 => 700,
        71 => 256,
        40 => 255,
        2 => 100,
        180 => 64,
        25 => 20,
        5 => 16,
        6 => 6,
        73 => 4,
        84 => 1,
        _ => {
            let abi = ctx.st().abi;
            ctx.set_errno(super::syscalls::errno(abi, super::fs::Errno::Inval))?;
            -1
        }
    })
}

fn pthread_key_create(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    if a.u32(0) == 0 {
        return Ok(22);
    }
    let key = {
        let st = ctx.st();
        st.pthread_keys.push(0);
        st.pthread_keys.len() as i32
    };
    ctx.set_i32(a.u32(0), key)?;
    Ok(0)
}

fn pthread_getspecific(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let st = ctx.st();
    Ok(st
        .pthread_keys
        .get((a.i32(0) - 1) as usize)
        .copied()
        .unwrap_or(0))
}

fn pthread_setspecific(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let st = ctx.st();
    match st.pthread_keys.get_mut((a.i32(0) - 1) as usize) {
        Some(slot) => {
            *slot = a.i32(1);
            Ok(0)
        }
        None => Ok(22),
    }
}

fn pthread_once(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let key = a.u32(0);
    if ctx.st().pthread_once.contains(&key) {
        return Ok(0);
    }
    ctx.st().pthread_once.push(key);
    eh::call_indirect(ctx, "v", a.i32(1), &[])?;
    Ok(0)
}

/// Emscripten's default environment followed by the program's own variables.
pub(crate) fn default_env(program: &str, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("USER", "web_user"),
        ("LOGNAME", "web_user"),
        ("PATH", "/"),
        ("PWD", "/"),
        ("HOME", "/home/web_user"),
        ("LANG", "C.UTF-8"),
        ("_", program),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        set_var(&mut env, k, v);
    }
    env
}

fn set_var(env: &mut Vec<(String, String)>, k: &str, v: &str) {
    match env.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v.to_string(),
        None => env.push((k.to_string(), v.to_string())),
    }
}

/// `___buildEnvironment(environ)`: writes `key=value` strings and the pointer array.
fn build_environment(ctx: &mut Ctx<'_>, environ: u32) -> Result<(), Trap> {
    const MAX_VALUES: u32 = 64;
    const TOTAL_SIZE: u32 = 1024;
    let (pool, envp) = if ctx.st().environ_ptr == 0 {
        let pool = ctx.malloc(TOTAL_SIZE)?;
        let envp = ctx.malloc(MAX_VALUES * 4)?;
        ctx.set_u32(envp, pool)?;
        ctx.set_u32(environ, envp)?;
        ctx.st().environ_ptr = environ;
        (pool, envp)
    } else {
        let envp = ctx.u32(environ)?;
        (ctx.u32(envp)?, envp)
    };
    let lines = ctx.st().env_lines();
    let total: usize = lines.iter().map(|l| l.len() + 1).sum();
    if total > TOTAL_SIZE as usize || lines.len() >= MAX_VALUES as usize {
        return Err(Trap::host(
            "emscripten: environment size exceeded TOTAL_ENV_SIZE",
        ));
    }
    let mut p = pool;
    for (i, line) in lines.iter().enumerate() {
        ctx.write_cstr(p, line.as_bytes())?;
        ctx.set_u32(envp + 4 * i as u32, p)?;
        p += line.len() as u32 + 1;
    }
    ctx.set_u32(envp + 4 * lines.len() as u32, 0)?;
    Ok(())
}

fn rebuild_environment(ctx: &mut Ctx<'_>) -> Result<(), Trap> {
    let environ = ctx.st().environ_ptr;
    if environ != 0 {
        build_environment(ctx, environ)?;
    } else if let Some(f) = ctx.export_func("__get_environ") {
        if let Some(Val::I32(p)) = ctx.call_func(f, &[])? {
            build_environment(ctx, p as u32)?;
        }
    }
    Ok(())
}

fn getenv(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    if a.u32(0) == 0 {
        return Ok(0);
    }
    let name = ctx.cstr(a.u32(0))?;
    let value = ctx
        .st()
        .env
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.clone());
    let Some(value) = value else { return Ok(0) };
    let old = std::mem::take(&mut ctx.st().getenv_ret);
    if old != 0 {
        ctx.free(old)?;
    }
    let p = ctx.malloc_cstr(value.as_bytes())?;
    ctx.st().getenv_ret = p;
    Ok(p)
}

fn einval(ctx: &mut Ctx<'_>) -> Result<i32, Trap> {
    let abi = ctx.st().abi;
    ctx.set_errno(super::syscalls::errno(abi, super::fs::Errno::Inval))?;
    Ok(-1)
}

fn setenv(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    if a.u32(0) == 0 {
        return einval(ctx);
    }
    let name = ctx.cstr(a.u32(0))?;
    if name.is_empty() || name.contains('=') {
        return einval(ctx);
    }
    let value = ctx.cstr(a.u32(1))?;
    let exists = ctx.st().env.iter().any(|(k, _)| *k == name);
    if !exists || a.i32(2) != 0 {
        set_var(&mut ctx.st().env, &name, &value);
        rebuild_environment(ctx)?;
    }
    Ok(0)
}

fn unsetenv(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    if a.u32(0) == 0 {
        return einval(ctx);
    }
    let name = ctx.cstr(a.u32(0))?;
    if name.is_empty() || name.contains('=') {
        return einval(ctx);
    }
    ctx.st().env.retain(|(k, _)| *k != name);
    rebuild_environment(ctx)?;
    Ok(0)
}

fn putenv(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    if a.u32(0) == 0 {
        return einval(ctx);
    }
    let s = ctx.cstr(a.u32(0))?;
    let Some((k, v)) = s.split_once('=') else {
        return einval(ctx);
    };
    if k.is_empty() {
        return einval(ctx);
    }
    set_var(&mut ctx.st().env, k, v);
    rebuild_environment(ctx)?;
    Ok(0)
}

/// Names of imports that need JavaScript (EM_ASM, EM_JS, `emscripten_run_script`, embind):
/// this runtime refuses them at link time.
pub(crate) fn needs_javascript(name: &str) -> bool {
    let n = name.trim_start_matches('_');
    n.starts_with("emscripten_asm_const")
        || n.starts_with("emscripten_run_script")
        || n.starts_with("embind_")
        || n.starts_with("emval_")
        || n == "emscripten_print_double"
        || n == "emscripten_log"
}
