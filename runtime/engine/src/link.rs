//! Phase 5, link: lay a module's compiled functions out in one image, and patch its
//! relocations once the image's final address is known. Pure: bytes in, bytes out.
//! Publishing the image as executable code and registering its trap sites for the signal
//! handler is `vm::code`'s job.

use crate::compile::{placement, CompiledFunction, RelocTarget};
use crate::error::{Error, Result};
use crate::trap::TrapCode;
use cranelift_codegen::binemit::Reloc;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// What an image's code can borrow instead of copying it: an artifact file mapped into
/// memory (`vm::mapped_file`).
pub trait Backing: Send + Sync {
    /// All the bytes.
    fn bytes(&self) -> &[u8];
    /// The file the bytes are a mapping of (from its first byte), if they are one: code
    /// in it at a page-aligned offset can be mapped from it instead of copied.
    fn file(&self) -> Option<&std::fs::File>;
}

/// Shared [`Backing`].
pub type SharedBytes = Arc<dyn Backing>;

/// An image's code: owned (just compiled) or a range of shared bytes (loaded from an
/// artifact, which keeps the file mapped instead of copying the code out of it).
#[derive(Clone)]
pub struct CodeBytes(CodeRepr);

#[derive(Clone)]
enum CodeRepr {
    Owned(Vec<u8>),
    Shared(SharedBytes, Range<usize>),
}

impl CodeBytes {
    /// `range` of `bytes`, if it lies within them.
    pub fn shared(bytes: SharedBytes, range: Range<usize>) -> Option<CodeBytes> {
        let inside = range.start <= range.end && range.end <= bytes.bytes().len();
        inside.then(|| CodeBytes(CodeRepr::Shared(bytes, range)))
    }

    /// The file these bytes lie in and their offset there, if they are a range of a mapped
    /// file.
    pub fn in_file(&self) -> Option<(&std::fs::File, usize)> {
        match &self.0 {
            CodeRepr::Owned(_) => None,
            CodeRepr::Shared(bytes, range) => Some((bytes.file()?, range.start)),
        }
    }
}

impl From<Vec<u8>> for CodeBytes {
    fn from(code: Vec<u8>) -> CodeBytes {
        CodeBytes(CodeRepr::Owned(code))
    }
}

impl Deref for CodeBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            CodeRepr::Owned(code) => code,
            CodeRepr::Shared(bytes, range) => &bytes.bytes()[range.clone()],
        }
    }
}

impl PartialEq for CodeBytes {
    fn eq(&self, other: &CodeBytes) -> bool {
        **self == **other
    }
}

impl Eq for CodeBytes {}

impl std::fmt::Debug for CodeBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeBytes({} bytes)", self.len())
    }
}

/// Where a function lies in an image, for backtraces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncRange {
    /// Offset of its first byte in the image.
    pub start: u32,
    /// Offset just past its last byte.
    pub end: u32,
    /// Its index in the module's function index space.
    pub func_index: u32,
    /// (offset from `start`, wasm byte offset), sorted by offset; an offset marked
    /// [`INLINED`](crate::translate::inline::INLINED) indexes `inlined`.
    pub srclocs: Vec<(u32, u32)>,
    /// Where the inlined operators came from.
    pub inlined: Vec<crate::translate::inline::InlinedLoc>,
}

/// Encodes one relocation of kind `kind` at `code[at..]`: `value` is the target address plus
/// addend, `site` the address the patched bytes will have.
pub type WriteReloc =
    fn(code: &mut [u8], at: usize, site: i64, kind: Reloc, value: i64) -> Result<()>;

/// A relocation at its place in the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacedReloc {
    /// Offset of the patched bytes in the image.
    pub at: usize,
    /// How the target's address is encoded there.
    pub kind: Reloc,
    /// What it points to.
    pub target: RelocTarget,
    /// Added to the target's address.
    pub addend: i64,
}

/// Compiled functions laid out one after another, with what the code registry needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Image {
    /// The code, unpatched.
    pub code: CodeBytes,
    /// Offset of each function given to [`layout`], in order.
    pub func_offsets: Vec<usize>,
    /// (offset, trap) of every trap site, sorted by offset.
    pub traps: Vec<(u32, TrapCode)>,
    /// Function ranges, for backtraces (empty for trampolines).
    pub funcs: Vec<FuncRange>,
    /// Stack maps for the collector: (return address offset, frame size, range in
    /// `stack_slots`), sorted by offset.
    pub stack_maps: Vec<(u32, u32, std::ops::Range<u32>)>,
    /// Stack-pointer offsets of GC references, per stack map.
    pub stack_slots: Vec<u32>,
    /// Exception handlers of `try_call` sites: (return address offset, handler offset,
    /// frame size at the call), sorted by offset.
    pub handlers: Vec<(u32, u32, u32)>,
    /// The relocations still to patch, in image order (kept symbolic: an artifact stores
    /// them and loading patches them at the new address, see `serialize`).
    pub relocs: Vec<PlacedReloc>,
}

/// Places `funcs` one after another (each aligned as it asks, at least to 16 bytes, and at
/// its phase within a cache line if it has one; the image starts at a page).
/// `first_func_index` is the function index of the first (imports come before it); `None`
/// for trampolines, which backtraces leave out.
pub fn layout(funcs: &[CompiledFunction], first_func_index: Option<u32>) -> Image {
    let mut func_offsets = Vec::with_capacity(funcs.len());
    let mut size = 0usize;
    for f in funcs {
        size = size.next_multiple_of(f.alignment.max(16) as usize);
        if let Some(phase) = f.phase {
            let line = placement::LINE as usize;
            size += (phase as usize + line - size % line) % line;
        }
        func_offsets.push(size);
        size += f.code.len();
    }
    let mut code = vec![0u8; size];
    let mut traps = Vec::new();
    let mut ranges = Vec::new();
    let mut relocs = Vec::new();
    let (mut stack_maps, mut stack_slots) = (Vec::new(), Vec::new());
    let mut handlers = Vec::new();
    for (i, (f, &off)) in funcs.iter().zip(&func_offsets).enumerate() {
        code[off..off + f.code.len()].copy_from_slice(&f.code);
        traps.extend(f.traps.iter().map(|(o, code)| (off as u32 + o, *code)));
        for (at, span, slots) in &f.stack_maps {
            let start = stack_slots.len() as u32;
            stack_slots.extend_from_slice(slots);
            stack_maps.push((off as u32 + at, *span, start..stack_slots.len() as u32));
        }
        let at = off as u32;
        handlers.extend(f.handlers.iter().map(|(r, h, s)| (at + r, at + h, *s)));
        relocs.extend(f.relocs.iter().map(|r| PlacedReloc {
            at: off + r.offset as usize,
            kind: r.kind,
            target: r.target,
            addend: r.addend,
        }));
        if let Some(first) = first_func_index {
            ranges.push(FuncRange {
                start: off as u32,
                end: (off + f.code.len()) as u32,
                func_index: first + i as u32,
                srclocs: f.srclocs.clone(),
                inlined: f.inlined.clone(),
            });
        }
    }
    traps.sort_by_key(|t| t.0);
    Image {
        code: code.into(),
        func_offsets,
        traps,
        funcs: ranges,
        stack_maps,
        stack_slots,
        handlers,
        relocs,
    }
}

impl Image {
    /// Patches the calls between the image's own functions that are relative (`relative`
    /// tells which kinds are: `vm::arch::is_pc_relative`) into its code, and drops them from
    /// `relocs`: they are right wherever the image is loaded, so loading (from an artifact
    /// too) patches only what points outside the image. `write` encodes one relocation.
    pub fn resolve_internal(
        &mut self,
        write: WriteReloc,
        relative: fn(Reloc) -> bool,
    ) -> Result<()> {
        let mut code = self.code.to_vec();
        let mut outside = Vec::with_capacity(self.relocs.len());
        for r in &self.relocs {
            match r.target {
                RelocTarget::Func(i) if relative(r.kind) => {
                    let value = (self.func_address(i, 0)? as i64).wrapping_add(r.addend);
                    write(&mut code, r.at, r.at as i64, r.kind, value)?;
                }
                _ => outside.push(*r),
            }
        }
        self.code = code.into();
        self.relocs = outside;
        Ok(())
    }

    /// The address of the image's function `i` when the image is at `base`.
    fn func_address(&self, i: u32, base: usize) -> Result<usize> {
        (self.func_offsets.get(i as usize))
            .map(|off| base + off)
            .ok_or_else(|| Error::Compile(format!("call to unknown function {i}")))
    }

    /// Patches `code` (a copy of [`Image::code`] that will run at address `base`): calls
    /// between the image's functions, and calls out to the addresses `resolve` gives for
    /// libcalls. `write` encodes one relocation for the target architecture
    /// (`vm::arch::write_reloc`). An unresolvable target is an error, as is any `write`
    /// refuses.
    pub fn patch(
        &self,
        code: &mut [u8],
        base: usize,
        write: WriteReloc,
        resolve: impl Fn(RelocTarget) -> Option<usize>,
    ) -> Result<()> {
        for r in &self.relocs {
            let target = match r.target {
                RelocTarget::Func(i) => self.func_address(i, base)?,
                other => resolve(other).ok_or_else(|| {
                    Error::Compile(format!("relocation target {other:?} is not provided"))
                })?,
            };
            let value = (target as i64).wrapping_add(r.addend);
            write(code, r.at, (base + r.at) as i64, r.kind, value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::Relocation;
    use crate::libcall::Libcall;
    use crate::vm::arch::write_reloc;

    fn func(
        code: Vec<u8>,
        relocs: Vec<Relocation>,
        traps: Vec<(u32, TrapCode)>,
    ) -> CompiledFunction {
        CompiledFunction {
            code,
            alignment: 1,
            phase: None,
            relocs,
            traps,
            srclocs: vec![(0, 7)],
            stack_maps: Vec::new(),
            handlers: Vec::new(),
            inlined: Vec::new(),
        }
    }

    #[test]
    fn functions_are_aligned_and_trap_sites_and_ranges_are_placed() {
        let a = func(
            vec![0x90; 20],
            vec![],
            vec![(3, TrapCode::UnreachableCodeReached)],
        );
        let b = func(vec![0xc3], vec![], vec![(0, TrapCode::StackOverflow)]);
        let image = layout(&[a, b], Some(5));
        assert_eq!(image.func_offsets, [0, 32]);
        assert_eq!(image.code.len(), 33);
        assert_eq!(image.code[32], 0xc3);
        assert_eq!(
            image.traps,
            [
                (3, TrapCode::UnreachableCodeReached),
                (32, TrapCode::StackOverflow)
            ]
        );
        assert_eq!(image.funcs[1].func_index, 6);
        assert_eq!((image.funcs[1].start, image.funcs[1].end), (32, 33));
        assert!(layout(&[func(vec![0], vec![], vec![])], None)
            .funcs
            .is_empty());
    }

    #[test]
    fn a_function_with_a_phase_starts_at_that_offset_within_a_line() {
        let mut b = func(vec![0xc3; 10], vec![], vec![]);
        b.phase = Some(16);
        let mut c = func(vec![0xc3], vec![], vec![]);
        c.phase = Some(0);
        let image = layout(&[func(vec![0x90; 20], vec![], vec![]), b, c], Some(0));
        // b after 20 bytes: not at 32 but at 64 + 16; c at the next line.
        assert_eq!(image.func_offsets, [0, 80, 128]);
    }

    #[test]
    fn calls_between_functions_and_to_libcalls_are_patched_at_the_final_address() {
        let call = |offset, target| Relocation {
            offset,
            kind: Reloc::X86CallPCRel4,
            target,
            addend: -4,
        };
        let abs = Relocation {
            offset: 8,
            kind: Reloc::Abs8,
            target: RelocTarget::Libcall(Libcall::MemoryGrow),
            addend: 0,
        };
        let a_again = || {
            func(
                vec![0; 16],
                vec![call(1, RelocTarget::Func(1)), abs.clone()],
                vec![],
            )
        };
        let b = func(vec![0; 4], vec![], vec![]);
        let image = layout(&[a_again(), b], Some(0));
        let mut code = image.code.to_vec();
        let base = 0x10_0000;
        image
            .patch(&mut code, base, write_reloc, |t| {
                (t == RelocTarget::Libcall(Libcall::MemoryGrow)).then_some(0xdead_beef)
            })
            .unwrap();
        // rel32 from the end of the 4-byte field at 1 to function 1 at offset 16.
        assert_eq!(i32::from_le_bytes(code[1..5].try_into().unwrap()), 16 - 5);
        assert_eq!(
            u64::from_le_bytes(code[8..16].try_into().unwrap()),
            0xdead_beef
        );
        assert_eq!(*image.code, [0; 20], "the image itself stays unpatched");
        // Resolving the internal call at link time leaves only the libcall to patch, and
        // patching then gives the same code at any base.
        let mut resolved = layout(&[a_again(), func(vec![0; 4], vec![], vec![])], Some(0));
        resolved
            .resolve_internal(write_reloc, crate::vm::arch::is_pc_relative)
            .unwrap();
        assert_eq!(resolved.relocs.len(), 1);
        assert_eq!(
            resolved.relocs[0].target,
            RelocTarget::Libcall(Libcall::MemoryGrow)
        );
        let mut again = resolved.code.to_vec();
        resolved
            .patch(&mut again, base, write_reloc, |_| Some(0xdead_beef))
            .unwrap();
        assert_eq!(again, code);
    }

    #[test]
    fn unresolved_and_out_of_range_targets_are_errors() {
        let reloc = |target| Relocation {
            offset: 0,
            kind: Reloc::X86CallPCRel4,
            target,
            addend: 0,
        };
        let image = layout(
            &[func(
                vec![0; 4],
                vec![reloc(RelocTarget::Libcall(Libcall::Throw))],
                vec![],
            )],
            None,
        );
        let mut code = image.code.to_vec();
        assert!(image.patch(&mut code, 0, write_reloc, |_| None).is_err());
        let far = image
            .patch(&mut code, 0, write_reloc, |_| Some(1 << 40))
            .unwrap_err();
        assert!(far.to_string().contains("rel32"), "{far}");
        let image = layout(
            &[func(vec![0; 4], vec![reloc(RelocTarget::Func(3))], vec![])],
            None,
        );
        assert!(image.patch(&mut code, 0, write_reloc, |_| None).is_err());
    }
}
