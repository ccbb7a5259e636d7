//! Phase 7, serialize: a compiled module as bytes (an *artifact*) and back, for
//! `Module::serialize`/`deserialize` and the compilation cache.
//!
//! An artifact is a fixed header, then a payload:
//!
//! ```text
//! header:  magic (8 bytes) | format version (u32) | payload length (u64) | checksum of the payload (u64)
//! payload: the fields of `FIELDS` below, in that order
//! ```
//!
//! The payload holds the [`Fingerprint`] of the engine that compiled it (runtime version and
//! build, target, Cranelift flags, the configuration that changes code), the module's binary
//! (its `ModuleInfo` is read from it again on load, without validating it a second time), the
//! canonical type ids the code was compiled against, and the linked image: the code unpatched,
//! function offsets, trap sites, function ranges with source locations, and the relocations,
//! kept symbolic and patched at the address the code is loaded at (libcall addresses differ
//! from process to process); then the trampolines its instances need (a host trampoline per
//! imported signature, an array-call one per exported signature), so that loading compiles
//! nothing. Loading refuses, with an [`Error::Artifact`], anything that is
//! not an artifact of this format version, whose checksum does not match, that decodes to
//! anything but exactly its payload, or whose fingerprint differs from the loading engine's.
//!
//! An artifact file (`Module::deserialize_file`, a cache entry) is mapped, not read
//! ([`Source::Mapped`]): its checksum and fields are read in place, and the images' code
//! stays a range of the mapping (`link::CodeBytes`), which `vm::code` maps again as the code
//! pages (the module's code starts on a page of the file for that).
//!
//! Adding a field: add it to [`Artifact`], write and read it in [`write_fields`] and
//! [`read_fields`] (the one place that lists them, in order), and bump [`FORMAT_VERSION`].

mod codec;

pub(crate) use codec::checksum;

use crate::compile::RelocTarget;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::info::ModuleInfo;
use crate::libcall::Libcall;
use crate::link::{CodeBytes, FuncRange, Image, PlacedReloc, SharedBytes};
use crate::translate::inline::InlinedLoc;
use crate::trap::TrapCode;
use codec::{corrupt, Reader, Writer};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::LibCall;
use cranelift_codegen::isa::TargetIsa;

/// The first bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"\0rtcwasm";

/// The version of the layout below; bumped on every change to it.
pub const FORMAT_VERSION: u32 = 5;

/// Magic, format version, payload length, checksum.
const HEADER_LEN: usize = 8 + 4 + 8 + 8;

/// Seed of the payload checksum.
const CHECKSUM_SEED: u64 = 0x7274_6377_6173_6d01;

/// What must be equal between the engine that compiled an artifact and the one loading it:
/// each a list of `name=value` items, so a mismatch can name what differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The runtime's version and the hash of the engine's sources and lock file.
    pub build: Vec<String>,
    /// The target triple.
    pub target: Vec<String>,
    /// Cranelift's shared and ISA-specific flags (the host CPU's features among them).
    pub flags: Vec<String>,
    /// What of the engine's [`Config`] changes generated code ([`Config::code_fingerprint`]).
    pub config: Vec<String>,
}

impl Fingerprint {
    /// The fingerprint of an engine compiling with `isa` and `config`.
    pub fn new(isa: &dyn TargetIsa, config: &Config) -> Fingerprint {
        Fingerprint {
            build: vec![
                format!("runtime={}", env!("CARGO_PKG_VERSION")),
                format!("build={}", env!("RUNTIME_ENGINE_BUILD")),
                format!("format={FORMAT_VERSION}"),
            ],
            target: vec![format!("triple={}", isa.triple())],
            flags: isa
                .flags()
                .iter()
                .chain(isa.isa_flags())
                .map(|v| v.to_string())
                .collect(),
            config: config.code_fingerprint(),
        }
    }

    /// The sections, with the words a mismatch is described in.
    fn sections(&self) -> [(&'static str, &[String]); 4] {
        [
            ("a different build of the runtime", &self.build),
            ("a different target", &self.target),
            ("different Cranelift flags or CPU features", &self.flags),
            ("a different engine configuration", &self.config),
        ]
    }

    /// Every item, in order (what the cache key hashes).
    pub fn items(&self) -> impl Iterator<Item = &str> {
        self.sections()
            .into_iter()
            .flat_map(|(_, items)| items.iter().map(String::as_str))
    }

    /// Ok if `self` (the artifact's) equals `ours`; else an error naming the first
    /// difference.
    fn check(&self, ours: &Fingerprint) -> Result<()> {
        for ((what, theirs), (_, mine)) in self.sections().into_iter().zip(ours.sections()) {
            if theirs == mine {
                continue;
            }
            let theirs_only: Vec<&str> = theirs
                .iter()
                .filter(|t| !mine.contains(t))
                .map(String::as_str)
                .collect();
            let mine_only: Vec<&str> = mine
                .iter()
                .filter(|m| !theirs.contains(m))
                .map(String::as_str)
                .collect();
            return Err(Error::Artifact(format!(
                "it was compiled for {what}: it has `{}` where this engine has `{}`",
                theirs_only.join(", "),
                mine_only.join(", ")
            )));
        }
        Ok(())
    }
}

/// A decoded artifact: what `Module` is rebuilt from.
#[derive(Debug)]
pub struct Artifact<'a> {
    /// The module's binary, as it was validated and compiled.
    pub binary: &'a [u8],
    /// The canonical type id of every type index the code was compiled against (code may
    /// embed them, see `Module::deserialize`).
    pub type_ids: Vec<u32>,
    /// The linked image, unpatched.
    pub image: Image,
    /// Trampolines for the module's signatures: (type index, host trampoline or array-call,
    /// image), so loading compiles none (see `Engine::trampoline`).
    pub trampolines: Vec<(u32, bool, Image)>,
}

/// What [`write`] encodes: an artifact's fields by reference.
pub struct ArtifactRef<'a> {
    /// The module's binary.
    pub binary: &'a [u8],
    /// The canonical type ids the code was compiled against.
    pub type_ids: &'a [u32],
    /// The linked image, unpatched.
    pub image: &'a Image,
    /// (type index, host, image) of trampolines for the module's signatures.
    pub trampolines: &'a [(u32, bool, std::sync::Arc<Image>)],
}

/// An artifact's bytes as given to [`read`]: borrowed, or a mapped file, whose images' code
/// the loaded module keeps borrowing (and `vm::code` maps) instead of copying it out.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Bytes in memory (`Module::deserialize`).
    Bytes(&'a [u8]),
    /// A mapped artifact file (`Module::deserialize_file`, a cache entry).
    Mapped(&'a SharedBytes),
}

impl<'a> Source<'a> {
    /// All the artifact's bytes.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            Source::Bytes(bytes) => bytes,
            Source::Mapped(file) => file.bytes(),
        }
    }
}

/// Whether `bytes` start like an artifact (of any format version).
pub fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Encodes an artifact made by an engine with fingerprint `fingerprint`.
pub fn write(fingerprint: &Fingerprint, artifact: &ArtifactRef<'_>) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0); // payload length, filled in below
    w.u64(0); // checksum, filled in below
    write_fields(&mut w, fingerprint, artifact)?;
    let mut buf = w.buf;
    let payload_len = (buf.len() - HEADER_LEN) as u64;
    let sum = checksum(CHECKSUM_SEED, &buf[HEADER_LEN..]);
    buf[12..20].copy_from_slice(&payload_len.to_le_bytes());
    buf[20..28].copy_from_slice(&sum.to_le_bytes());
    Ok(buf)
}

/// Decodes an artifact for an engine with fingerprint `ours`: any mismatch, corruption or
/// truncation is an [`Error::Artifact`].
pub fn read<'a>(source: Source<'a>, ours: &Fingerprint) -> Result<Artifact<'a>> {
    let bytes = source.bytes();
    if !is_artifact(bytes) {
        return Err(Error::Artifact(
            "not a precompiled module (no artifact header)".into(),
        ));
    }
    if bytes.len() < HEADER_LEN {
        return Err(Error::Artifact("the artifact is truncated".into()));
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(Error::Artifact(format!(
            "its format version is {version}, this runtime reads version {FORMAT_VERSION}"
        )));
    }
    let payload = &bytes[HEADER_LEN..];
    let expected_len = word(12);
    if (payload.len() as u64) < expected_len {
        return Err(Error::Artifact(format!(
            "the artifact is truncated ({} of {expected_len} payload bytes)",
            payload.len()
        )));
    }
    if payload.len() as u64 != expected_len {
        return Err(corrupt("bytes after its end"));
    }
    if checksum(CHECKSUM_SEED, payload) != word(20) {
        return Err(corrupt("checksum mismatch"));
    }
    let mut r = Reader::new(payload);
    let mapped = match source {
        Source::Bytes(_) => None,
        Source::Mapped(file) => Some(file),
    };
    let artifact = read_fields(&mut r, mapped, ours)?;
    if !r.at_end() {
        return Err(corrupt("bytes after its last field"));
    }
    Ok(artifact)
}

/// The payload's fields, in order. Keep in step with [`read_fields`].
fn write_fields(w: &mut Writer, fingerprint: &Fingerprint, a: &ArtifactRef<'_>) -> Result<()> {
    for (_, items) in fingerprint.sections() {
        w.seq(items, |w, s| w.str(s));
    }
    w.bytes(a.binary);
    w.seq(a.type_ids, |w, id| w.u32(*id));
    // The module's code starts on a page of the file, so loading can map it.
    write_image(w, a.image, codec::MAX_ALIGN)?;
    w.len(a.trampolines.len());
    for (type_index, host, image) in a.trampolines {
        w.u32(*type_index);
        w.u8(*host as u8);
        write_image(w, image, 1)?;
    }
    Ok(())
}

/// Reads what [`write_fields`] wrote, checking every index against what it indexes.
fn read_fields<'a>(
    r: &mut Reader<'a>,
    mapped: Option<&SharedBytes>,
    ours: &Fingerprint,
) -> Result<Artifact<'a>> {
    let mut sections = Vec::with_capacity(4);
    for _ in 0..4 {
        sections.push(r.seq(8, |r| r.str().map(str::to_string))?);
    }
    let [build, target, flags, config] =
        <[Vec<String>; 4]>::try_from(sections).expect("four sections");
    Fingerprint {
        build,
        target,
        flags,
        config,
    }
    .check(ours)?;
    let binary = r.bytes()?;
    let type_ids = r.seq(4, |r| r.u32())?;
    let image = read_image(r, mapped)?;
    // A type index, a flag, and an image of at least six lengths.
    let trampolines = r.seq(5 + 6 * 8, |r| {
        let type_index = r.index(type_ids.len(), "a trampoline's type")? as u32;
        let host = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(corrupt("a trampoline's kind")),
        };
        Ok((type_index, host, read_image(r, mapped)?))
    })?;
    Ok(Artifact {
        binary,
        type_ids,
        image,
        trampolines,
    })
}

/// An image: its code, function offsets, trap sites, function ranges, stack maps, exception
/// handlers and relocations.
/// Its code starts at a multiple of `align` in the artifact.
fn write_image(w: &mut Writer, image: &Image, align: usize) -> Result<()> {
    // Every field, by name: a field added to `Image` does not compile here until it is
    // written (and `read_image`'s struct literal until it is read).
    let Image {
        code,
        func_offsets,
        traps,
        funcs,
        stack_maps,
        stack_slots,
        handlers,
        relocs,
    } = image;
    w.aligned_bytes(code, align);
    w.seq(func_offsets, |w, off| w.u64(*off as u64));
    w.seq(traps, |w, (offset, code)| {
        w.u32(*offset);
        w.u32(trap_index(*code));
    });
    w.seq(funcs, |w, f| {
        w.u32(f.start);
        w.u32(f.end);
        w.u32(f.func_index);
        w.seq(&f.srclocs, |w, (code, wasm)| {
            w.u32(*code);
            w.u32(*wasm);
        });
        w.seq(&f.inlined, |w, loc| {
            w.u32(loc.callee);
            w.u32(loc.offset);
            w.u32(loc.call_offset);
        });
    });
    w.seq(stack_maps, |w, (at, span, range)| {
        w.u32(*at);
        w.u32(*span);
        w.u32(range.start);
        w.u32(range.end);
    });
    w.seq(stack_slots, |w, slot| w.u32(*slot));
    w.seq(handlers, |w, (at, handler, frame)| {
        w.u32(*at);
        w.u32(*handler);
        w.u32(*frame);
    });
    let mut encoded = Writer::default();
    for r in relocs {
        encoded.u64(r.at as u64);
        encoded.u32(reloc_kind_index(r.kind)?);
        let (tag, index) = match r.target {
            RelocTarget::Func(i) => (0, i),
            RelocTarget::Libcall(call) => (1, position(Libcall::ALL, &call)),
            RelocTarget::Cranelift(call) => (2, position(LibCall::all_libcalls(), &call)),
            RelocTarget::HostShim => (3, 0),
        };
        encoded.u8(tag);
        encoded.u32(index);
        encoded.i64(r.addend);
    }
    w.len(relocs.len());
    w.buf.extend_from_slice(&encoded.buf);
    Ok(())
}

/// Reads what [`write_image`] wrote; offsets must lie in the code, indices in their lists.
/// The code is a range of `mapped` (the file `r` reads the payload of), else a copy.
fn read_image(r: &mut Reader<'_>, mapped: Option<&SharedBytes>) -> Result<Image> {
    let bytes = r.aligned_bytes()?;
    let end = HEADER_LEN + r.position();
    let code = (mapped.and_then(|file| CodeBytes::shared(file.clone(), end - bytes.len()..end)))
        .unwrap_or_else(|| bytes.to_vec().into());
    let in_code = |off: u64, what: &str| -> Result<usize> {
        if off > code.len() as u64 {
            return Err(corrupt(what));
        }
        Ok(off as usize)
    };
    let func_offsets = r.seq(8, |r| in_code(r.u64()?, "a function offset"))?;
    let traps = r.seq(8, |r| {
        let offset = r.u32()?;
        let code = TrapCode::ALL[r.index(TrapCode::ALL.len(), "a trap code")?];
        Ok((offset, code))
    })?;
    let funcs = r.seq(20, |r| {
        let (start, end, func_index) = (r.u32()?, r.u32()?, r.u32()?);
        if start > end || in_code(end.into(), "a function range").is_err() {
            return Err(corrupt("a function range"));
        }
        let srclocs = r.seq(8, |r| Ok((r.u32()?, r.u32()?)))?;
        let inlined = r.seq(12, |r| {
            Ok(InlinedLoc {
                callee: r.u32()?,
                offset: r.u32()?,
                call_offset: r.u32()?,
            })
        })?;
        Ok(FuncRange {
            start,
            end,
            func_index,
            srclocs,
            inlined,
        })
    })?;
    let stack_maps = r.seq(16, |r| {
        let (at, span, start, end) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        in_code(at.into(), "a stack map")?;
        if start > end {
            return Err(corrupt("a stack map's slots"));
        }
        Ok((at, span, start..end))
    })?;
    let stack_slots = r.seq(4, |r| r.u32())?;
    if stack_maps
        .iter()
        .any(|(_, _, slots)| slots.end as usize > stack_slots.len())
        || !stack_maps.windows(2).all(|w| w[0].0 < w[1].0)
    {
        return Err(corrupt("the stack maps"));
    }
    let handlers = r.seq(12, |r| {
        let (at, handler, frame) = (r.u32()?, r.u32()?, r.u32()?);
        in_code(at.into(), "a call site")?;
        in_code(handler.into(), "an exception handler")?;
        Ok((at, handler, frame))
    })?;
    if !handlers.windows(2).all(|w| w[0].0 < w[1].0) {
        return Err(corrupt("the exception handlers"));
    }
    let relocs = r.seq(25, |r| {
        let at = r.u64()?;
        if at >= code.len() as u64 {
            return Err(corrupt("a relocation outside the code"));
        }
        let kind = RELOC_KINDS[r.index(RELOC_KINDS.len(), "a relocation kind")?];
        let target = match r.u8()? {
            0 => RelocTarget::Func(r.index(func_offsets.len(), "a call target")? as u32),
            1 => RelocTarget::Libcall(Libcall::ALL[r.index(Libcall::ALL.len(), "a libcall")?]),
            2 => {
                let all = LibCall::all_libcalls();
                RelocTarget::Cranelift(all[r.index(all.len(), "a Cranelift libcall")?])
            }
            3 => {
                r.index(1, "the host shim")?;
                RelocTarget::HostShim
            }
            _ => return Err(corrupt("a relocation target")),
        };
        Ok(PlacedReloc {
            at: at as usize,
            kind,
            target,
            addend: r.i64()?,
        })
    })?;
    Ok(Image {
        code,
        func_offsets,
        traps,
        funcs,
        stack_maps,
        stack_slots,
        handlers,
        relocs,
    })
}

/// Whether the code of `info`'s functions may embed canonical type ids as constants, and so
/// is only right where the module's types get the same ids. The translator
/// (`translate/gc.rs`) writes them as immediates where it compares a reference's type with a
/// concrete type (`ref.test`, `ref.cast`, `br_on_cast` and their descriptor forms) and where
/// it allocates a struct or an array (the object's header). Conservative: a module that
/// declares any struct or array type counts, and so does any of those cast operators,
/// whatever its type; only code of modules with function types alone and no casts is free
/// of them.
pub fn code_embeds_type_ids(info: &ModuleInfo) -> Result<bool> {
    use wasmparser::Operator as O;
    if (info.types.iter()).any(|t| !matches!(t.composite, crate::types::CompositeType::Func(_))) {
        return Ok(true);
    }
    for body in &info.bodies {
        let range = body.range.clone();
        let reader = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            &info.binary[range.clone()],
            range.start as u64,
        ));
        let mut ops = reader
            .get_operators_reader()
            .map_err(|e| corrupt(&format!("its module's code: {e}")))?;
        while !ops.eof() {
            let op = ops
                .read()
                .map_err(|e| corrupt(&format!("its module's code: {e}")))?;
            if matches!(
                op,
                O::RefTestNonNull { .. }
                    | O::RefTestNullable { .. }
                    | O::RefCastNonNull { .. }
                    | O::RefCastNullable { .. }
                    | O::BrOnCast { .. }
                    | O::BrOnCastFail { .. }
                    | O::RefCastDescEqNonNull { .. }
                    | O::RefCastDescEqNullable { .. }
                    | O::BrOnCastDescEq { .. }
                    | O::BrOnCastDescEqFail { .. }
            ) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The relocation kinds an artifact can hold, by position.
const RELOC_KINDS: &[Reloc] = &[
    Reloc::Abs4,
    Reloc::Abs8,
    Reloc::X86PCRel4,
    Reloc::X86CallPCRel4,
    Reloc::X86CallPLTRel4,
    Reloc::X86GOTPCRel4,
    Reloc::Arm64Call,
];

fn reloc_kind_index(kind: Reloc) -> Result<u32> {
    RELOC_KINDS
        .iter()
        .position(|k| *k == kind)
        .map(|i| i as u32)
        .ok_or_else(|| Error::Compile(format!("relocation {kind:?} cannot be serialized")))
}

fn trap_index(code: TrapCode) -> u32 {
    position(TrapCode::ALL, &code)
}

/// The position of `item` in a list that holds every value of its type.
fn position<T: PartialEq>(all: &[T], item: &T) -> u32 {
    all.iter()
        .position(|x| x == item)
        .expect("the list holds every value") as u32
}

#[cfg(test)]
mod tests;
