//! Phase 4, compile: Cranelift IR to machine code, per function and in parallel, keeping each
//! function's relocations, trap sites and source locations in the runtime's own types.

#[cfg(test)]
mod determinism;
pub mod placement;
pub mod trampolines;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::info::{DefinedFuncIndex, ModuleInfo};
use crate::libcall::Libcall;
use crate::translate::env::{self, FuncEnv, NS_LIBCALL, NS_WASM_FUNC};
use crate::translate::inline::{InlinedLoc, INLINED};
use crate::trap::TrapCode;
use crate::types::FuncType;
use crate::vmoffsets::VMOffsets;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{self, ExternalName, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{
    control::ControlPlane, Context, Final, FinalizedMachExceptionHandler, FinalizedRelocTarget,
    MachBufferFinalized,
};
use cranelift_entity::EntityRef;
use cranelift_frontend::FunctionBuilderContext;

/// Where a relocation points; addresses are only known when the code is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelocTarget {
    /// The `i`th function given to the linker.
    Func(u32),
    /// One of the runtime's libcalls.
    Libcall(Libcall),
    /// One of Cranelift's libcalls (floating-point rounding where the host lacks it).
    Cranelift(ir::LibCall),
    /// `vm::host::host_shim`, which host trampolines call.
    HostShim,
}

/// A relocation in one function's code.
#[derive(Clone, Debug)]
pub struct Relocation {
    pub offset: u32,
    pub kind: Reloc,
    pub target: RelocTarget,
    pub addend: i64,
}

/// Machine code of one function, before linking.
pub struct CompiledFunction {
    pub code: Vec<u8>,
    pub alignment: u32,
    /// Where in a cache line the code should start, if it has loops to keep in few lines
    /// (see [`placement`]).
    pub phase: Option<u32>,
    pub relocs: Vec<Relocation>,
    pub traps: Vec<(u32, TrapCode)>,
    /// (code offset, wasm byte offset), sorted by code offset.
    pub srclocs: Vec<(u32, u32)>,
    /// Per call site with GC references live across it: the return address's code offset,
    /// the frame size (frame pointer minus stack pointer at the call) and the
    /// stack-pointer offsets of the slots holding the references; sorted by code offset.
    pub stack_maps: Vec<(u32, u32, Vec<u32>)>,
    /// Per `try_call` site: the return address's code offset, the handler's code offset and
    /// the frame size at the call (the handler resumes with the stack pointer that far below
    /// the frame pointer); sorted by code offset.
    pub handlers: Vec<(u32, u32, u32)>,
    /// Where the inlined operators that `srclocs` marks [`INLINED`](crate::translate::inline::INLINED) came from.
    pub inlined: Vec<InlinedLoc>,
}

/// A trampoline to compile beside a module's functions: its signature, and whether it is a
/// host trampoline (else array-call).
pub type TrampolineJob<'a> = (&'a FuncType, bool);

/// Translates and compiles every defined function of a module, in order, and the
/// `trampolines` its instances will need, in order, on all cores: one pool of jobs, so a
/// trampoline fills a gap rather than competing with the functions for a core.
pub fn compile_module(
    isa: &dyn TargetIsa,
    config: &Config,
    info: &ModuleInfo,
    offsets: &VMOffsets,
    trampoline_jobs: &[TrampolineJob<'_>],
) -> Result<(Vec<CompiledFunction>, Vec<CompiledFunction>)> {
    let unit = Unit::new(isa, config, info, offsets)?;
    let n = info.num_defined_funcs();
    let jobs = n + trampoline_jobs.len();
    let job = |k: usize, fctx: &mut FunctionBuilderContext| match k.checked_sub(n) {
        None => compile_function(&unit, k, fctx),
        Some(t) => {
            let (ty, host) = trampoline_jobs[t];
            if host {
                trampolines::host_trampoline(isa, ty)
            } else {
                trampolines::array_trampoline(isa, ty)
            }
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(jobs.max(1));
    let mut results: Vec<Result<CompiledFunction>> = if threads <= 1 || jobs < 8 {
        let mut fctx = FunctionBuilderContext::new();
        (0..jobs).map(|k| job(k, &mut fctx)).collect()
    } else {
        let mut slots: Vec<Option<Result<CompiledFunction>>> = (0..jobs).map(|_| None).collect();
        // Largest bodies first (longest-processing-time order), the small trampolines last:
        // a big function taken last would leave the other threads idle while it compiles.
        // Results keep their index, so the output does not depend on the order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(info.bodies[i].range.len()));
        order.extend(n..jobs);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let chunks = std::sync::Mutex::new(&mut slots);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut fctx = FunctionBuilderContext::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(k) else {
                            break;
                        };
                        let r = job(i, &mut fctx);
                        chunks.lock().unwrap()[i] = Some(r);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|r| r.expect("every job ran"))
            .collect()
    };
    let trampolines = results.split_off(n);
    Ok((
        results.into_iter().collect::<Result<_>>()?,
        trampolines.into_iter().collect::<Result<_>>()?,
    ))
}

/// What every function of one module is compiled against.
struct Unit<'a> {
    isa: &'a dyn TargetIsa,
    config: &'a Config,
    info: &'a ModuleInfo,
    offsets: &'a VMOffsets,
    /// Which functions may throw (a whole-module analysis, done once).
    may_throw: Vec<bool>,
    /// Which functions are inlined where called, and their sizes (none when
    /// `Config::compiler_inlining` is off or fuel or epochs are on).
    inlinable: Vec<Option<u32>>,
}

impl<'a> Unit<'a> {
    fn new(
        isa: &'a dyn TargetIsa,
        config: &'a Config,
        info: &'a ModuleInfo,
        offsets: &'a VMOffsets,
    ) -> Result<Unit<'a>> {
        Ok(Unit {
            isa,
            config,
            info,
            offsets,
            may_throw: crate::translate::throws::may_throw(info)?,
            inlinable: if config.compiler_inlining
                && !config.consume_fuel
                && !config.epoch_interruption
            {
                crate::translate::inline::inlinable(info)?
            } else {
                Vec::new()
            },
        })
    }
}

/// Translates and compiles the `defined`th defined function.
fn compile_function(
    unit: &Unit<'_>,
    defined: usize,
    fctx: &mut FunctionBuilderContext,
) -> Result<CompiledFunction> {
    let (func, inlined) = translate_ir(unit, defined, fctx)?;
    let mut compiled = compile_ir(unit.isa, func)?;
    compiled.inlined = inlined;
    Ok(compiled)
}

/// Translates the `defined`th defined function to Cranelift IR, with where its inlined
/// operators came from.
fn translate_ir(
    unit: &Unit<'_>,
    defined: usize,
    fctx: &mut FunctionBuilderContext,
) -> Result<(ir::Function, Vec<InlinedLoc>)> {
    let Unit {
        isa,
        config,
        info,
        offsets,
        ref may_throw,
        ref inlinable,
    } = *unit;
    let index = info.func_index(DefinedFuncIndex::new(defined)).as_u32();
    let range = info.bodies[defined].range.clone();
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &info.binary[range.clone()],
        range.start as u64,
    ));
    let sig = env::wasm_signature(info.func_type(index));
    let mut func = ir::Function::with_name_signature(UserFuncName::user(0, index), sig);
    let fenv = FuncEnv::new(info, offsets, config.virtual_memory, may_throw)
        .with_budgets(config.consume_fuel, config.epoch_interruption)
        .with_inlining(inlinable);
    let frontend = isa.frontend_config();
    match crate::translate::translate_function(fenv, index, &body, &mut func, fctx, frontend) {
        Ok(inlined) => Ok((func, inlined)),
        Err(e) => {
            // A translation that stopped half-way leaves the builder context dirty.
            *fctx = FunctionBuilderContext::new();
            Err(e)
        }
    }
}

/// Points the prologue's stack-overflow trap at the function's first instruction. Cranelift
/// emits the trap out of line, after the body, where it would take the source location of
/// whatever instruction came last; the overflow happens before any instruction runs. (The
/// first location of the function's own, not of a body inlined into it.)
fn locate_stack_overflow(traps: &[(u32, TrapCode)], srclocs: &mut Vec<(u32, u32)>) {
    let Some(&(_, first)) = srclocs.iter().find(|s| s.1 & INLINED == 0) else {
        return;
    };
    for &(at, _) in traps.iter().filter(|t| t.1 == TrapCode::StackOverflow) {
        // The location in force just after the trap's first byte, which resumes there.
        let after = srclocs.partition_point(|s| s.0 <= at + 1);
        let resume = after.checked_sub(1).map(|j| srclocs[j].1);
        srclocs.retain(|s| s.0 != at);
        let i = srclocs.partition_point(|s| s.0 < at);
        srclocs.insert(i, (at, first));
        if let Some(resume) = resume.filter(|_| srclocs.get(i + 1).is_none_or(|s| s.0 != at + 1)) {
            srclocs.insert(i + 1, (at + 1, resume));
        }
    }
}

/// The handlers of a function's `try_call`s. The translator gives each one catch-all handler
/// (the landing pad tests the tags), so a call site has one handler or none.
fn exception_handlers(buffer: &MachBufferFinalized<Final>) -> Result<Vec<(u32, u32, u32)>> {
    let mut handlers = Vec::new();
    for site in buffer.call_sites() {
        let [FinalizedMachExceptionHandler::Default(handler)] = site.exception_handlers else {
            if site.exception_handlers.is_empty() {
                continue;
            }
            return Err(Error::Compile(format!(
                "unexpected exception handlers {:?}",
                site.exception_handlers
            )));
        };
        let frame = site
            .frame_offset
            .ok_or_else(|| Error::Compile("a try_call site without a frame offset".into()))?;
        handlers.push((site.ret_addr, *handler, frame));
    }
    handlers.sort_by_key(|h| h.0);
    Ok(handlers)
}

/// Compiles one Cranelift function and converts its metadata.
pub fn compile_ir(isa: &dyn TargetIsa, func: ir::Function) -> Result<CompiledFunction> {
    let names = func.params.user_named_funcs().clone();
    let mut ctx = Context::for_function(func);
    let compiled = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| Error::Compile(format!("{:?}", e.inner)))?;
    let buffer = &compiled.buffer;
    let code = buffer.data().to_vec();
    let alignment = buffer.alignment;
    let phase = placement::phase(
        code.len() as u32,
        &compiled.bb_starts,
        &compiled.bb_edges,
        alignment,
    );
    let traps: Vec<(u32, TrapCode)> = buffer
        .traps()
        .iter()
        .map(|t| Ok((t.offset, trap_code(t.code)?)))
        .collect::<Result<_>>()?;
    let mut srclocs: Vec<(u32, u32)> = buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default())
        .map(|s| (s.start, s.loc.bits()))
        .collect();
    locate_stack_overflow(&traps, &mut srclocs);
    let stack_maps = buffer
        .user_stack_maps()
        .iter()
        .map(|(offset, span, map)| (*offset, *span, map.entries().map(|(_, o)| o).collect()))
        .collect();
    let handlers = exception_handlers(buffer)?;
    let mut relocs = Vec::new();
    for r in buffer.relocs() {
        let target = match &r.target {
            FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                let name = &names[*name];
                match name.namespace {
                    NS_WASM_FUNC => RelocTarget::Func(name.index),
                    NS_LIBCALL => match Libcall::ALL.get(name.index as usize) {
                        Some(call) => RelocTarget::Libcall(*call),
                        None => {
                            return Err(Error::Compile(format!("unknown libcall {}", name.index)))
                        }
                    },
                    trampolines::NS_HOST_SHIM => RelocTarget::HostShim,
                    other => return Err(Error::Compile(format!("unknown name namespace {other}"))),
                }
            }
            FinalizedRelocTarget::ExternalName(ExternalName::LibCall(call)) => {
                RelocTarget::Cranelift(*call)
            }
            other => {
                return Err(Error::Compile(format!(
                    "unsupported relocation target {other:?}"
                )))
            }
        };
        relocs.push(Relocation {
            offset: r.offset,
            kind: r.kind,
            target,
            addend: r.addend,
        });
    }
    Ok(CompiledFunction {
        code,
        alignment,
        phase,
        relocs,
        traps,
        srclocs,
        stack_maps,
        handlers,
        inlined: Vec::new(),
    })
}

/// Maps the Cranelift trap codes compiled code raises to [`TrapCode`] (the list in `trap.rs`).
fn trap_code(code: ir::TrapCode) -> Result<TrapCode> {
    TrapCode::from_clif(code)
        .ok_or_else(|| Error::Compile(format!("trap code {code} has no meaning")))
}

/// Which text [`clif_module`] gives of each function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClifStage {
    /// The CLIF as the translator emits it.
    Translated,
    /// The CLIF after Cranelift's mid-end (e-graph rewrites, GVN, LICM, dead code): what
    /// instruction selection sees.
    Optimized,
    /// The machine code Cranelift emits, as its disassembly (register-allocated VCode).
    Disassembly,
}

/// The text of every defined function at `stage`, in order, with its function index. For
/// reviewing what the translator emits (`Module::clif`).
pub fn clif_module(
    isa: &dyn TargetIsa,
    config: &Config,
    info: &ModuleInfo,
    offsets: &VMOffsets,
    stage: ClifStage,
) -> Result<Vec<(u32, String)>> {
    let unit = Unit::new(isa, config, info, offsets)?;
    let mut fctx = FunctionBuilderContext::new();
    let failed = |e: &dyn std::fmt::Debug| Error::Compile(format!("{e:?}"));
    (0..info.num_defined_funcs())
        .map(|i| {
            let (func, _) = translate_ir(&unit, i, &mut fctx)?;
            let index = info.func_index(DefinedFuncIndex::new(i)).as_u32();
            let mut ctx = Context::for_function(func);
            let text = match stage {
                ClifStage::Translated => ctx.func.display().to_string(),
                ClifStage::Optimized => {
                    ctx.optimize(isa, &mut ControlPlane::default())
                        .map_err(|e| failed(&e))?;
                    ctx.func.display().to_string()
                }
                ClifStage::Disassembly => {
                    ctx.set_disasm(true);
                    let code = ctx
                        .compile(isa, &mut ControlPlane::default())
                        .map_err(|e| failed(&e.inner))?;
                    code.vcode.clone().unwrap_or_default()
                }
            };
            Ok((index, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_overflow_trap_is_located_at_the_first_instruction() {
        let traps = [
            (40, TrapCode::MemoryOutOfBounds),
            (50, TrapCode::StackOverflow),
        ];
        // Body instructions at 0x10 and 0x20; the out-of-line traps follow at 40 and 50.
        let mut srclocs = vec![(4, 0x10), (20, 0x20), (40, 0x20)];
        locate_stack_overflow(&traps, &mut srclocs);
        assert_eq!(
            srclocs,
            [(4, 0x10), (20, 0x20), (40, 0x20), (50, 0x10), (51, 0x20)]
        );
        // A trap that starts a range of its own takes the first location for its byte only.
        let mut srclocs = vec![(4, 0x10), (50, 0x30), (60, 0x40)];
        locate_stack_overflow(&traps, &mut srclocs);
        assert_eq!(srclocs, [(4, 0x10), (50, 0x10), (51, 0x30), (60, 0x40)]);
    }
}
