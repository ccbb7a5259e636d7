//! Phase 5, link: place compiled functions in one code allocation, patch relocations, publish
//! it read+execute, and register its trap sites and frame information for the signal handler.

use crate::compile::{CompiledFunction, RelocTarget};
use crate::error::{Error, Result};
use crate::trap::{FrameInfo, TrapCode};
use crate::vm::code_memory::CodeMemory;
use cranelift_codegen::binemit::Reloc;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// Where a function lies in a code object, for backtraces.
struct FuncRange {
    start: u32,
    end: u32,
    func_index: u32,
    /// (code offset, wasm byte offset), sorted by code offset.
    srclocs: Vec<(u32, u32)>,
}

/// What the signal handler and backtraces need to know about one code allocation.
struct CodeInfo {
    start: usize,
    end: usize,
    /// (code offset, trap), sorted.
    traps: Vec<(u32, TrapCode)>,
    funcs: Vec<FuncRange>,
    module_name: Option<String>,
    func_names: Arc<HashMap<u32, String>>,
    /// Stack maps: (return address offset, frame size, range in `stack_slots`), sorted.
    stack_maps: Vec<(u32, u32, std::ops::Range<u32>)>,
    /// Stack-pointer offsets of GC references, per stack map.
    stack_slots: Vec<u32>,
}

static REGISTRY: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, info) = registry.range(..=pc).next_back()?;
    (pc < info.end).then(|| info.clone())
}

/// The trap recorded at `pc`, if `pc` is a trap site of compiled code.
pub fn trap_code_at(pc: usize) -> Option<TrapCode> {
    let info = lookup(pc)?;
    let offset = (pc - info.start) as u32;
    let i = info.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
    Some(info.traps[i].1)
}

/// Whether `pc` lies in compiled code.
pub fn is_wasm_code(pc: usize) -> bool {
    lookup(pc).is_some()
}

/// For a return address `pc` into compiled code: the frame size of the calling function
/// (frame pointer minus stack pointer at the call), with `slots` set to the stack-pointer
/// offsets of the GC references live across the call (none if it has no stack map). `None`
/// if `pc` is not in compiled code.
pub fn stack_map(pc: usize, slots: &mut Vec<u32>) -> Option<u32> {
    let info = lookup(pc)?;
    slots.clear();
    let offset = (pc - info.start) as u32;
    let Ok(i) = info.stack_maps.binary_search_by_key(&offset, |m| m.0) else {
        return Some(0);
    };
    let (_, span, range) = &info.stack_maps[i];
    slots.extend_from_slice(&info.stack_slots[range.start as usize..range.end as usize]);
    Some(*span)
}

/// Frame descriptions for the program counters of a backtrace (trampolines are left out).
pub fn frames(pcs: &[usize]) -> Vec<FrameInfo> {
    let mut frames = Vec::new();
    for &pc in pcs {
        let Some(info) = lookup(pc) else { continue };
        let offset = (pc - info.start) as u32;
        let Some(func) = info
            .funcs
            .iter()
            .find(|f| f.start <= offset && offset < f.end)
        else {
            continue;
        };
        let rel = offset - func.start;
        let i = func.srclocs.partition_point(|s| s.0 <= rel);
        frames.push(FrameInfo {
            module_name: info.module_name.clone(),
            func_index: func.func_index,
            func_name: info.func_names.get(&func.func_index).cloned(),
            module_offset: i.checked_sub(1).map(|i| func.srclocs[i].1 as usize),
        });
    }
    frames
}

/// Published code of one module (or of trampolines), registered while alive.
pub struct LinkedCode {
    memory: CodeMemory,
    func_offsets: Vec<usize>,
}

impl LinkedCode {
    /// Entry address of the `i`th function given to [`link`].
    pub fn func_ptr(&self, i: usize) -> *const u8 {
        (self.memory.start() + self.func_offsets[i]) as *const u8
    }
}

impl Drop for LinkedCode {
    fn drop(&mut self) {
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.remove(&self.memory.start());
    }
}

/// Names used in backtraces.
pub struct LinkNames {
    pub module_name: Option<String>,
    pub func_names: Arc<HashMap<u32, String>>,
    /// Function index of the first function given to `link` (imports come before it).
    pub first_func_index: u32,
}

/// Places `funcs` one after another, patches relocations and publishes the code.
pub fn link(funcs: &[CompiledFunction], names: LinkNames) -> Result<LinkedCode> {
    let mut offsets = Vec::with_capacity(funcs.len());
    let mut size = 0usize;
    for f in funcs {
        size = size.next_multiple_of(f.alignment.max(16) as usize);
        offsets.push(size);
        size += f.code.len();
    }
    let mut image = vec![0u8; size];
    for (f, off) in funcs.iter().zip(&offsets) {
        image[*off..*off + f.code.len()].copy_from_slice(&f.code);
    }
    let mut failure = None;
    let memory = CodeMemory::publish(&image, |buf, base| {
        for (f, off) in funcs.iter().zip(&offsets) {
            for r in &f.relocs {
                let target = match r.target {
                    RelocTarget::Func(i) => base + offsets[i as usize],
                    RelocTarget::Address(a) => a,
                };
                let at = off + r.offset as usize;
                if let Err(e) = patch(buf, at, base + at, r.kind, target as i64 + r.addend) {
                    failure = Some(e);
                }
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let start = memory.start();
    let mut traps = Vec::new();
    let mut ranges = Vec::new();
    let (mut stack_maps, mut stack_slots) = (Vec::new(), Vec::new());
    for (i, (f, off)) in funcs.iter().zip(&offsets).enumerate() {
        traps.extend(f.traps.iter().map(|(o, code)| (*off as u32 + o, *code)));
        for (at, span, slots) in &f.stack_maps {
            let start = stack_slots.len() as u32;
            stack_slots.extend_from_slice(slots);
            stack_maps.push((*off as u32 + at, *span, start..stack_slots.len() as u32));
        }
        ranges.push(FuncRange {
            start: *off as u32,
            end: (*off + f.code.len()) as u32,
            func_index: names.first_func_index + i as u32,
            srclocs: f.srclocs.clone(),
        });
    }
    traps.sort_by_key(|t| t.0);
    let info = CodeInfo {
        start,
        end: start + size.max(1),
        traps,
        funcs: if names.first_func_index == u32::MAX {
            Vec::new()
        } else {
            ranges
        },
        module_name: names.module_name,
        func_names: names.func_names,
        stack_maps,
        stack_slots,
    };
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(start, Arc::new(info));
    Ok(LinkedCode {
        memory,
        func_offsets: offsets,
    })
}

fn patch(buf: &mut [u8], at: usize, site: usize, kind: Reloc, value: i64) -> Result<()> {
    match kind {
        Reloc::Abs8 => buf[at..at + 8].copy_from_slice(&value.to_le_bytes()),
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::X86CallPLTRel4 => {
            let rel = i32::try_from(value - site as i64)
                .map_err(|_| Error::Compile("call target out of rel32 range".into()))?;
            buf[at..at + 4].copy_from_slice(&rel.to_le_bytes());
        }
        other => return Err(Error::Compile(format!("unsupported relocation {other:?}"))),
    }
    Ok(())
}
