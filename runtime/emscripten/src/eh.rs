//! Emscripten C++ exceptions and setjmp/longjmp as emcc's JavaScript implemented them: a
//! `throw` is a host trap carrying a marker, and the `invoke_*` trampolines catch it,
//! restore the stack and report it to the program through `setThrew`.

use super::ctx::{abort_trap, call, is_unwind, Args, Ctx, HResult, Handler, Ret, UNWIND_MARKER};
use super::Abi;
use runtime_engine::{Trap, Val};
use std::collections::HashMap;
use std::sync::Arc;

/// Host-side exception bookkeeping (the legacy ABI keeps it all here; the current ABI keeps
/// most of it in the `__cxa_exception` header in guest memory).
#[derive(Default)]
pub(crate) struct Exceptions {
    /// Legacy: thrown pointer → its record.
    infos: HashMap<u32, Info>,
    /// The most recently thrown exception.
    last: u32,
    /// Legacy: pointers of the exceptions being handled. Current ABI: `CatchInfo` pointers.
    caught: Vec<u32>,
    uncaught: i32,
}

struct Info {
    ty: u32,
    destructor: u32,
    refcount: i32,
    caught: bool,
    rethrown: bool,
    /// Adjusted pointers handed to catch blocks (base classes).
    adjusted: Vec<u32>,
}

fn throw(what: &str) -> Trap {
    Trap::host(format!("{UNWIND_MARKER}{what}"))
}

fn ex<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Exceptions {
    &mut ctx.st().exceptions
}

/// `invoke_{sig}(index, args...)`: calls table entry `index`, catching a throw.
pub(crate) fn invoke(sig: &str) -> Handler {
    let sig = sig.to_string();
    Arc::new(move |ctx: &mut Ctx<'_>, args: &Args<'_>| {
        let sp = ctx.stack_save()?;
        let index = args.i32(0);
        let result = call_indirect(ctx, &sig, index, &args.0[1..]);
        match result {
            Ok(v) => Ok(match v {
                None => Ret::Void,
                Some(Val::I32(v)) => Ret::I32(v),
                Some(Val::I64(v)) => Ret::I64(v),
                Some(v) => Ret::F64(Args(&[v]).f64(0)),
            }),
            Err(t) if is_unwind(&t) => {
                ctx.stack_restore(sp)?;
                ctx.set_threw(1, 0)?;
                Ok(Ret::Void)
            }
            Err(t) => Err(t),
        }
    })
}

/// Calls function-table entry `index` (through `dynCall_{sig}` when the program has it).
pub(crate) fn call_indirect(
    ctx: &mut Ctx<'_>,
    sig: &str,
    index: i32,
    args: &[Val],
) -> Result<Option<Val>, Trap> {
    if let Some(f) = ctx.export_func(&format!("dynCall_{sig}")) {
        let mut all = vec![Val::I32(index)];
        all.extend_from_slice(args);
        return ctx.call_func(f, &all);
    }
    let table = ctx.st().table;
    let table = match table {
        Some(t) => t,
        None => ctx
            .export("__indirect_function_table")
            .and_then(|e| e.into_table())
            .ok_or_else(|| Trap::host("emscripten: the program exports no function table"))?,
    };
    match table.get(ctx.store(), index as u32 as u64) {
        Some(Val::FuncRef(Some(f))) => call(ctx.store(), f, args),
        Some(_) => Err(Trap::new(runtime_engine::TrapCode::UninitializedElement)),
        None => Err(Trap::new(runtime_engine::TrapCode::UndefinedElement)),
    }
}

/// `longjmp(env, value)`: records the jump with `setThrew` and unwinds to the nearest `invoke_*`.
pub(crate) fn longjmp(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<(), Trap> {
    let value = if a.i32(1) == 0 { 1 } else { a.i32(1) };
    ctx.set_threw(a.i32(0), value)?;
    Err(throw("longjmp"))
}

/// `_emscripten_throw_longjmp()` of current emcc: `setThrew` was already called.
pub(crate) fn throw_longjmp(_ctx: &mut Ctx<'_>, _a: &Args<'_>) -> Result<(), Trap> {
    Err(throw("longjmp"))
}

/// The C++ exception handlers; `None` for names that are not part of this runtime.
pub(crate) fn handler(abi: Abi, name: &str) -> Option<Handler> {
    let name = name.trim_start_matches('_');
    if name.starts_with("cxa_find_matching_catch") {
        return Some(match abi {
            Abi::Legacy => Arc::new(legacy_find_matching_catch),
            Abi::Modern => Arc::new(modern_find_matching_catch),
        });
    }
    let f: fn(&mut Ctx<'_>, &Args<'_>) -> HResult = match (abi, name) {
        (_, "cxa_allocate_exception") => |ctx, a| {
            let header = if ctx.st().abi == Abi::Modern { 16 } else { 0 };
            let p = ctx.malloc(a.u32(0) + header)?;
            Ok(Ret::I32((p + header) as i32))
        },
        (_, "cxa_free_exception") => |ctx, a| {
            let header = if ctx.st().abi == Abi::Modern { 16 } else { 0 };
            ctx.free(a.u32(0) - header)?;
            Ok(Ret::Void)
        },
        (_, "cxa_uncaught_exception") | (_, "ZSt18uncaught_exceptionv") => {
            |ctx, _| Ok(Ret::I32((ex(ctx).uncaught > 0) as i32))
        }
        (_, "cxa_uncaught_exceptions") => |ctx, _| Ok(Ret::I32(ex(ctx).uncaught)),
        (_, "llvm_eh_typeid_for") => |_, a| Ok(Ret::I32(a.i32(0))),
        (_, "cxa_call_unexpected") => |_, _| {
            Err(abort_trap(
                "Unexpected exception thrown, this is not properly supported",
            ))
        },
        (_, "cxa_get_exception_ptr") if abi == Abi::Legacy => |_, a| Ok(Ret::I32(a.i32(0))),
        (Abi::Legacy, "cxa_throw") => |ctx, a| {
            let ptr = a.u32(0);
            let e = ex(ctx);
            e.infos.insert(
                ptr,
                Info {
                    ty: a.u32(1),
                    destructor: a.u32(2),
                    refcount: 0,
                    caught: false,
                    rethrown: false,
                    adjusted: vec![ptr],
                },
            );
            e.last = ptr;
            e.uncaught += 1;
            Err(throw(&format!("C++ exception {ptr}")))
        },
        (Abi::Legacy, "cxa_rethrow") => |ctx, _| {
            let e = ex(ctx);
            let Some(ptr) = e.caught.pop() else {
                return Err(abort_trap("no exception to throw"));
            };
            Err(rethrow(e, ptr))
        },
        (Abi::Legacy, "cxa_begin_catch") => |ctx, a| {
            let ptr = a.u32(0);
            let e = ex(ctx);
            let mut dec = false;
            if let Some(info) = e.infos.get_mut(&ptr) {
                if !info.caught {
                    info.caught = true;
                    dec = true;
                }
                info.rethrown = false;
            }
            if dec {
                e.uncaught -= 1;
            }
            e.caught.push(ptr);
            let base = deadjust(e, ptr);
            if let Some(info) = e.infos.get_mut(&base) {
                info.refcount += 1;
            }
            Ok(Ret::I32(ptr as i32))
        },
        (Abi::Legacy, "cxa_end_catch") => |ctx, _| {
            ctx.set_threw(0, 0)?;
            let ptr = ex(ctx).caught.pop();
            if let Some(ptr) = ptr {
                let base = deadjust(ex(ctx), ptr);
                legacy_dec_ref(ctx, base)?;
                ex(ctx).last = 0;
            }
            Ok(Ret::Void)
        },
        (Abi::Legacy, "cxa_increment_exception_refcount") => |ctx, a| {
            let e = ex(ctx);
            let base = deadjust(e, a.u32(0));
            if let Some(info) = e.infos.get_mut(&base) {
                info.refcount += 1;
            }
            Ok(Ret::Void)
        },
        (Abi::Legacy, "cxa_decrement_exception_refcount") => |ctx, a| {
            let base = deadjust(ex(ctx), a.u32(0));
            legacy_dec_ref(ctx, base)?;
            Ok(Ret::Void)
        },
        (Abi::Legacy, "cxa_current_primary_exception") => |ctx, _| {
            let e = ex(ctx);
            let ret = e.caught.last().copied().unwrap_or(0);
            if ret != 0 {
                let base = deadjust(e, ret);
                if let Some(info) = e.infos.get_mut(&base) {
                    info.refcount += 1;
                }
            }
            Ok(Ret::I32(ret as i32))
        },
        (Abi::Legacy, "cxa_rethrow_primary_exception") => |ctx, a| {
            let ptr = a.u32(0);
            if ptr == 0 {
                return Ok(Ret::Void);
            }
            let e = ex(ctx);
            if let Some(info) = e.infos.get_mut(&ptr) {
                info.rethrown = true;
            }
            Err(rethrow(e, ptr))
        },
        (Abi::Legacy, "resumeException") => |ctx, a| {
            let ptr = a.u32(0);
            let e = ex(ctx);
            if e.last == 0 {
                e.last = ptr;
            }
            Err(throw(&format!("C++ exception {ptr}")))
        },
        (Abi::Modern, "cxa_throw") => |ctx, a| {
            let ptr = a.u32(0);
            let h = ptr - 16;
            ctx.set_u32(h + 4, a.u32(1))?;
            ctx.set_u32(h + 8, a.u32(2))?;
            ctx.set_u32(h, 0)?;
            ctx.set_u8(h + 12, 0)?;
            ctx.set_u8(h + 13, 0)?;
            let e = ex(ctx);
            e.last = ptr;
            e.uncaught += 1;
            Err(throw(&format!("C++ exception {ptr}")))
        },
        (Abi::Modern, "cxa_rethrow") => |ctx, _| {
            let Some(ci) = ex(ctx).caught.pop() else {
                return Err(abort_trap("no exception to throw"));
            };
            let ptr = ctx.u32(ci)?;
            let h = ptr - 16;
            if ctx.u8(h + 13)? == 0 {
                ex(ctx).caught.push(ci);
                ctx.set_u8(h + 13, 1)?;
                ctx.set_u8(h + 12, 0)?;
                ex(ctx).uncaught += 1;
            } else {
                ctx.free(ci)?;
            }
            ex(ctx).last = ptr;
            Err(throw(&format!("C++ exception {ptr}")))
        },
        (Abi::Modern, "cxa_begin_catch") => |ctx, a| {
            let ci = a.u32(0);
            let ptr = ctx.u32(ci)?;
            let h = ptr - 16;
            if ctx.u8(h + 12)? == 0 {
                ctx.set_u8(h + 12, 1)?;
                ex(ctx).uncaught -= 1;
            }
            ctx.set_u8(h + 13, 0)?;
            ex(ctx).caught.push(ci);
            let rc = ctx.i32(h)?;
            ctx.set_i32(h, rc + 1)?;
            Ok(Ret::I32(modern_exception_ptr(ctx, ci)? as i32))
        },
        (Abi::Modern, "cxa_end_catch") => |ctx, _| {
            ctx.set_threw(0, 0)?;
            let Some(ci) = ex(ctx).caught.pop() else {
                return Ok(Ret::Void);
            };
            let ptr = ctx.u32(ci)?;
            modern_dec_ref(ctx, ptr)?;
            ctx.free(ci)?;
            ex(ctx).last = 0;
            Ok(Ret::Void)
        },
        (Abi::Modern, "cxa_get_exception_ptr") => {
            |ctx, a| Ok(Ret::I32(modern_exception_ptr(ctx, a.u32(0))? as i32))
        }
        (Abi::Modern, "cxa_increment_exception_refcount") => |ctx, a| {
            let ptr = a.u32(0);
            if ptr != 0 {
                let rc = ctx.i32(ptr - 16)?;
                ctx.set_i32(ptr - 16, rc + 1)?;
            }
            Ok(Ret::Void)
        },
        (Abi::Modern, "cxa_decrement_exception_refcount") => |ctx, a| {
            let ptr = a.u32(0);
            if ptr != 0 {
                modern_dec_ref(ctx, ptr)?;
            }
            Ok(Ret::Void)
        },
        (Abi::Modern, "cxa_current_primary_exception") => |ctx, _| {
            let Some(ci) = ex(ctx).caught.last().copied() else {
                return Ok(Ret::I32(0));
            };
            let ptr = ctx.u32(ci)?;
            let rc = ctx.i32(ptr - 16)?;
            ctx.set_i32(ptr - 16, rc + 1)?;
            Ok(Ret::I32(ptr as i32))
        },
        (Abi::Modern, "cxa_rethrow_primary_exception") => |ctx, a| {
            let ptr = a.u32(0);
            if ptr == 0 {
                return Ok(Ret::Void);
            }
            let ci = ctx.malloc(8)?;
            ctx.set_u32(ci, ptr)?;
            ctx.set_u32(ci + 4, 0)?;
            ex(ctx).caught.push(ci);
            ctx.set_u8(ptr - 16 + 13, 1)?;
            // ___cxa_rethrow
            let ci = ex(ctx).caught.pop().unwrap();
            ex(ctx).caught.push(ci);
            ex(ctx).last = ptr;
            Err(throw(&format!("C++ exception {ptr}")))
        },
        (Abi::Modern, "resumeException") => |ctx, a| {
            let ci = a.u32(0);
            let ptr = ctx.u32(ci)?;
            if ex(ctx).last == 0 {
                ex(ctx).last = ptr;
            }
            ctx.free(ci)?;
            Err(throw(&format!("C++ exception {ptr}")))
        },
        _ => return None,
    };
    Some(Arc::new(f))
}

/// The thrown pointer a (possibly base-adjusted) pointer belongs to.
/// `___cxa_rethrow` of the caught exception `ptr`: keeps it on the caught stack the first
/// time it is rethrown, makes it the last thrown one, and unwinds.
fn rethrow(e: &mut Exceptions, ptr: u32) -> Trap {
    let ptr = deadjust(e, ptr);
    if let Some(info) = e.infos.get_mut(&ptr) {
        if !info.rethrown {
            info.rethrown = true;
            e.caught.push(ptr);
        }
    }
    e.last = ptr;
    throw(&format!("C++ exception {ptr}"))
}

fn deadjust(e: &Exceptions, adjusted: u32) -> u32 {
    if e.infos.contains_key(&adjusted) {
        return adjusted;
    }
    e.infos
        .iter()
        .find(|(_, i)| i.adjusted.contains(&adjusted))
        .map(|(p, _)| *p)
        .unwrap_or(adjusted)
}

fn legacy_dec_ref(ctx: &mut Ctx<'_>, ptr: u32) -> Result<(), Trap> {
    let (free, destructor) = {
        let e = ex(ctx);
        let Some(info) = e.infos.get_mut(&ptr) else {
            return Ok(());
        };
        info.refcount -= 1;
        if info.refcount <= 0 && !info.rethrown {
            let d = info.destructor;
            e.infos.remove(&ptr);
            (true, d)
        } else {
            (false, 0)
        }
    };
    if free {
        if destructor != 0 {
            call_indirect(ctx, "vi", destructor as i32, &[Val::I32(ptr as i32)])?;
        }
        ctx.free(ptr)?;
    }
    Ok(())
}

fn modern_dec_ref(ctx: &mut Ctx<'_>, ptr: u32) -> Result<(), Trap> {
    let h = ptr - 16;
    let rc = ctx.i32(h)?;
    ctx.set_i32(h, rc - 1)?;
    if rc == 1 && ctx.u8(h + 13)? == 0 {
        let destructor = ctx.u32(h + 8)?;
        if destructor != 0 {
            call_indirect(ctx, "ii", destructor as i32, &[Val::I32(ptr as i32)])?;
        }
        ctx.free(h)?;
    }
    Ok(())
}

/// `CatchInfo.get_exception_ptr()`.
fn modern_exception_ptr(ctx: &mut Ctx<'_>, ci: u32) -> Result<u32, Trap> {
    let base = ctx.u32(ci)?;
    let ty = ctx.u32(base - 16 + 4)?;
    let is_pointer = ctx.call_c_i32("__cxa_is_pointer_type", &[Val::I32(ty as i32)])?;
    if is_pointer != 0 {
        return ctx.u32(base);
    }
    let adjusted = ctx.u32(ci + 4)?;
    Ok(if adjusted != 0 { adjusted } else { base })
}

fn legacy_find_matching_catch(ctx: &mut Ctx<'_>, a: &Args<'_>) -> HResult {
    let thrown = ex(ctx).last;
    if thrown == 0 {
        ctx.st().temp_ret0 = 0;
        return Ok(Ret::I32(0));
    }
    let thrown_ty = ex(ctx).infos.get(&thrown).map(|i| i.ty).unwrap_or(0);
    if thrown_ty == 0 {
        ctx.st().temp_ret0 = 0;
        return Ok(Ret::I32(thrown as i32));
    }
    let buf = ctx.st().statics.catch_buf;
    ctx.set_u32(buf, thrown)?;
    for i in 0..a.len() {
        let ty = a.u32(i);
        if ty != 0
            && ctx.call_c_i32(
                "__cxa_can_catch",
                &[
                    Val::I32(ty as i32),
                    Val::I32(thrown_ty as i32),
                    Val::I32(buf as i32),
                ],
            )? != 0
        {
            let adjusted = ctx.u32(buf)?;
            if let Some(info) = ex(ctx).infos.get_mut(&thrown) {
                info.adjusted.push(adjusted);
            }
            ctx.st().temp_ret0 = ty as i32;
            return Ok(Ret::I32(adjusted as i32));
        }
    }
    let adjusted = ctx.u32(buf)?;
    ctx.st().temp_ret0 = thrown_ty as i32;
    Ok(Ret::I32(adjusted as i32))
}

fn modern_find_matching_catch(ctx: &mut Ctx<'_>, a: &Args<'_>) -> HResult {
    let thrown = ex(ctx).last;
    if thrown == 0 {
        ctx.st().temp_ret0 = 0;
        return Ok(Ret::I32(0));
    }
    let thrown_ty = ctx.u32(thrown - 16 + 4)?;
    let ci = ctx.malloc(8)?;
    ctx.set_u32(ci, thrown)?;
    ctx.set_u32(ci + 4, thrown)?;
    if thrown_ty == 0 {
        ctx.st().temp_ret0 = 0;
        return Ok(Ret::I32(ci as i32));
    }
    for i in 0..a.len() {
        let ty = a.u32(i);
        if ty == 0 || ty == thrown_ty {
            break;
        }
        if ctx.call_c_i32(
            "__cxa_can_catch",
            &[
                Val::I32(ty as i32),
                Val::I32(thrown_ty as i32),
                Val::I32(ci as i32 + 4),
            ],
        )? != 0
        {
            ctx.st().temp_ret0 = ty as i32;
            return Ok(Ret::I32(ci as i32));
        }
    }
    ctx.st().temp_ret0 = thrown_ty as i32;
    Ok(Ret::I32(ci as i32))
}
