//! The compiled module of the API: parse ([`info`](crate::info)), register its types with the
//! engine, translate and compile ([`compile`](crate::compile)), lay out ([`link`](crate::link))
//! and publish ([`vm::code`](crate::vm::code)); this is where the phases are chained.

use crate::config::ProfilingStrategy;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::info::{parse, ConstOp, DataMode, DefinedFuncIndex, EntityIndex, ModuleInfo};
use crate::link::{Image, SharedBytes};
use crate::serialize::Source;
use crate::types::GlobalType;
use crate::vm::code::{CodeNames, CodeObject};
use crate::vm::mapped_file::MappedFile;
use crate::vm::memory_image::MemoryImage;
use crate::vmoffsets::VMOffsets;
use std::sync::Arc;

/// A validated and compiled module, ready to instantiate; cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) info: Arc<ModuleInfo>,
    pub(crate) offsets: VMOffsets,
    pub(crate) code: CodeObject,
    /// Copy-on-write images of the defined memories' initial contents, by defined memory
    /// index (see [`memory_images`]).
    pub(crate) memory_images: Vec<Option<MemoryImage>>,
}

impl Module {
    /// Loads (text or binary), validates and compiles a module.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let binary = crate::load::to_binary(bytes.as_ref())?;
        Module::from_binary(engine, &binary)
    }

    /// Validates and compiles a binary module (or, with [`Config::cache`] set, loads it from
    /// the compilation cache when an entry for the same binary and configuration is there).
    ///
    /// [`Config::cache`]: crate::Config::cache
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        match &engine.config().cache {
            Some(cache) => crate::cache::load_or_compile(
                cache,
                engine.fingerprint(),
                binary,
                |entry| Module::from_artifact(engine, Source::Mapped(&entry), Some(binary)),
                || Module::compile(engine, binary),
                Module::serialize,
            ),
            None => Module::compile(engine, binary),
        }
    }

    /// Validates, translates, compiles, lays out and publishes `binary`, and compiles beside
    /// its functions the trampolines its instances will need that the engine has not yet
    /// (an artifact brings them), so instantiation compiles nothing.
    fn compile(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let info = parse(binary, engine.config().features())?;
        Module::with_info(engine, info, |info, offsets| {
            let sigs: Vec<(&crate::types::FuncType, bool)> = (trampoline_signatures(info))
                .into_iter()
                .map(|(ty, host)| (info.type_as_func(ty), host))
                .collect();
            let missing = engine.missing_trampolines(&sigs);
            let (funcs, trampolines) = crate::compile::compile_module(
                engine.isa(),
                engine.config(),
                info,
                offsets,
                &missing,
            )?;
            engine.add_trampolines(
                (missing.iter().zip(trampolines))
                    .map(|((ty, host), f)| ((*ty).clone(), *host, crate::link::layout(&[f], None)))
                    .collect(),
            )?;
            let first_defined = info.func_index(DefinedFuncIndex::from_u32(0)).as_u32();
            let mut image = crate::link::layout(&funcs, Some(first_defined));
            image.resolve_internal(
                crate::vm::arch::write_reloc,
                crate::vm::arch::is_pc_relative,
            )?;
            Ok(image)
        })
    }

    /// Registers the types of `info` with the engine, gets the module's image from `image`
    /// (compiled, or read from an artifact) and publishes it.
    fn with_info(
        engine: &Engine,
        info: ModuleInfo,
        image: impl FnOnce(&ModuleInfo, &VMOffsets) -> Result<Image>,
    ) -> Result<Module> {
        let (info, offsets) = Module::register_types(engine, info);
        let image = image(&info, &offsets)?;
        if image.func_offsets.len() != info.num_defined_funcs() {
            return Err(Error::Artifact(format!(
                "its code has {} functions, its module {}",
                image.func_offsets.len(),
                info.num_defined_funcs()
            )));
        }
        let names = CodeNames {
            module_name: info.names.module.clone(),
            func_names: Arc::new(info.names.functions.clone()),
        };
        let code = CodeObject::publish(Arc::new(image), names, crate::vm::host::resolve)?;
        if engine.config().profiler == ProfilingStrategy::PerfMap {
            crate::profiling::perf_map(code.start(), code.image(), &info);
        }
        let memory_images = memory_images(&info);
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info: Arc::new(info),
                offsets,
                code,
                memory_images,
            }),
        })
    }

    /// Registers the types of `info` with the engine (canonical ids, canonicalized types) and
    /// lays out its vmctx: what translation needs besides the parse.
    pub(crate) fn register_types(engine: &Engine, mut info: ModuleInfo) -> (ModuleInfo, VMOffsets) {
        info.type_ids = engine
            .types()
            .register_module(&info.types, &info.rec_groups);
        info.canonicalize_types();
        let offsets = VMOffsets::new(&info);
        (info, offsets)
    }

    /// Serializes the compiled module into an artifact that [`Module::deserialize`] loads
    /// in an engine of the same build, target and configuration (as Wasmtime's
    /// `Module::serialize`): the module's binary, its machine code with the relocations
    /// still symbolic, trap sites and frame information, behind a header that pins the
    /// runtime's build, the target and its CPU features, and the code-affecting
    /// configuration, with a checksum.
    ///
    /// ```
    /// use runtime_engine::{Engine, Module};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, "(module (func (export \"f\") (result i32) i32.const 7))")?;
    /// let bytes = module.serialize()?;
    /// // SAFETY: the bytes were just made by `serialize` for this engine.
    /// let again = unsafe { Module::deserialize(&engine, &bytes)? };
    /// assert_eq!(again.exports().len(), 1);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let info = &self.inner.info;
        let trampolines = trampoline_images(&self.inner.engine, info);
        crate::serialize::write(
            self.inner.engine.fingerprint(),
            &crate::serialize::ArtifactRef {
                binary: &info.binary,
                type_ids: &info.type_ids,
                image: self.inner.code.image(),
                trampolines: &trampolines,
            },
        )
    }

    /// Loads a module from an artifact made by [`Module::serialize`] (or `runtime compile`)
    /// without compiling it, as Wasmtime's `Module::deserialize`. An artifact of another
    /// format version, runtime build, target, CPU feature set or code-affecting
    /// configuration, or one whose checksum does not match (corrupted, truncated), is refused
    /// with an [`Error::Artifact`](crate::Error::Artifact). So is one whose code may embed
    /// canonical type ids (a module with GC casts, or with struct or array types) that this
    /// engine gives the module's types differently (types registered in another order, e.g.
    /// after other modules): compile the module in this engine instead.
    ///
    /// # Safety
    ///
    /// The artifact's machine code runs as it is: the checksum detects accidents, not an
    /// adversary, so `bytes` must come from [`Module::serialize`] (or `runtime compile`) of
    /// a trusted source and must not have been tampered with. Loading arbitrary bytes is
    /// as unsafe as running arbitrary machine code.
    #[allow(unsafe_code)] // the contract is the caller's; the body does nothing unsafe
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        Module::from_artifact(engine, Source::Bytes(bytes.as_ref()), None)
    }

    /// Maps a file into memory and loads it as [`Module::deserialize`] does, without copying
    /// it: the module's code pages are a private mapping of the file's.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]: the file must be an artifact from a trusted source,
    /// not tampered with. It must also not be modified or truncated while the module lives
    /// (replacing it by a rename is fine): the module keeps the file mapped.
    #[allow(unsafe_code)] // the contract is the caller's; the body does nothing unsafe
    pub unsafe fn deserialize_file(
        engine: &Engine,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Module> {
        let path = path.as_ref();
        let file: SharedBytes = Arc::new(
            MappedFile::open(path)
                .map_err(|e| Error::Load(format!("cannot read {}: {e}", path.display())))?,
        );
        Module::from_artifact(engine, Source::Mapped(&file), None)
    }

    /// Loads `bytes` as a precompiled artifact if they are one (see
    /// [`Engine::detect_precompiled`]), else as a module (binary or text): the command
    /// line's `run --allow-precompiled`, which cannot write `unsafe` (the CLI forbids it).
    /// Not for embedders, which use [`Module::deserialize`].
    ///
    /// Loading an artifact runs its machine code as it is: this is exactly as safe as the
    /// bytes, which the user vouched for by passing `--allow-precompiled`.
    #[doc(hidden)]
    pub fn new_allowing_precompiled(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        if engine.detect_precompiled(bytes).is_some() {
            Module::from_artifact(engine, Source::Bytes(bytes), None)
        } else {
            Module::new(engine, bytes)
        }
    }

    /// Rebuilds a module from an artifact for `engine`; with `binary`, only if the
    /// artifact holds exactly that binary (a cache entry).
    pub(crate) fn from_artifact(
        engine: &Engine,
        source: Source<'_>,
        binary: Option<&[u8]>,
    ) -> Result<Module> {
        let artifact = crate::serialize::read(source, engine.fingerprint())?;
        if binary.is_some_and(|b| b != artifact.binary) {
            return Err(Error::Artifact("it holds another module".into()));
        }
        let info = crate::info::parse_validated(artifact.binary)?;
        let crate::serialize::Artifact {
            type_ids,
            image,
            trampolines,
            ..
        } = artifact;
        let module = Module::with_info(engine, info, |info, _| {
            if type_ids.len() != info.types.len() {
                return Err(Error::Artifact(
                    "its type ids do not match its module".into(),
                ));
            }
            if info.type_ids != type_ids && crate::serialize::code_embeds_type_ids(info)? {
                return Err(Error::Artifact(
                    "its code may embed canonical type ids (GC casts or allocations) that \
                     differ in this engine (types were registered in another order); compile \
                     the module instead"
                        .into(),
                ));
            }
            Ok(image)
        })?;
        let info = module.info();
        let trampolines = (trampolines.into_iter())
            .map(|(ty, host, image)| (info.type_as_func(ty).clone(), host, image))
            .collect();
        engine.add_trampolines(trampolines)?;
        Ok(module)
    }
    /// Reads, validates and compiles a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Module> {
        let binary = crate::load::read_file(path.as_ref())?;
        Module::from_binary(engine, &binary)
    }

    /// Checks that `bytes` (text or binary) is a valid module, without compiling it.
    pub fn validate(engine: &Engine, bytes: &[u8]) -> Result<()> {
        let binary = crate::load::to_binary(bytes)?;
        parse(&binary, engine.config().features()).map(|_| ())
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from the name section.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.names.module.as_deref()
    }

    /// The imports, in order.
    pub fn imports(&self) -> Vec<crate::types::ImportType> {
        let info = &self.inner.info;
        info.imports
            .iter()
            .map(|i| crate::types::ImportType {
                module: i.module.clone(),
                name: i.name.clone(),
                ty: info.entity_type(i.index),
            })
            .collect()
    }

    /// The exports, in order.
    pub fn exports(&self) -> Vec<crate::types::ExportType> {
        let info = &self.inner.info;
        info.exports
            .iter()
            .map(|(name, index)| crate::types::ExportType {
                name: name.clone(),
                ty: info.entity_type(*index),
            })
            .collect()
    }

    /// Every global of the module's global index space (imported ones first): its type, and
    /// the import it comes from or the initialiser the module gives it.
    ///
    /// ```
    /// use runtime_engine::{ConstOp, Engine, GlobalInit, Module};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module
    ///     (import "env" "base" (global $base i32))
    ///     (global (mut i32) (i32.add (global.get $base) (i32.const 16))))"#)?;
    /// let globals: Vec<_> = module.globals().map(|g| g.init).collect();
    /// assert!(matches!(globals[0], GlobalInit::Import { module: "env", name: "base" }));
    /// let GlobalInit::Expr(ops) = globals[1] else { unreachable!() };
    /// assert_eq!(ops, [ConstOp::GlobalGet(0), ConstOp::I32(16), ConstOp::I32Add]);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn globals(&self) -> impl ExactSizeIterator<Item = ModuleGlobal<'_>> + '_ {
        let info = &self.inner.info;
        let mut imports = info.imports.iter().filter_map(|i| match i.index {
            EntityIndex::Global(_) => Some((i.module.as_str(), i.name.as_str())),
            _ => None,
        });
        let imported = info.globals.len() - info.defined_globals().len();
        let imports: Vec<_> = (0..imported).filter_map(|_| imports.next()).collect();
        info.globals
            .iter()
            .enumerate()
            .map(move |(i, g)| ModuleGlobal {
                ty: g.ty,
                init: match imports.get(i) {
                    Some(&(module, name)) => GlobalInit::Import { module, name },
                    None => GlobalInit::Expr(&g.init),
                },
            })
    }

    /// Every memory's type, in the memory index space (imported ones first).
    ///
    /// ```
    /// use runtime_engine::{Engine, Module};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module
    ///     (import "env" "m" (memory 1 1 shared))
    ///     (memory 2))"#)?;
    /// let shared: Vec<_> = module.memories().map(|m| (m.minimum, m.shared)).collect();
    /// assert_eq!(shared, [(1, true), (2, false)]);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn memories(&self) -> impl ExactSizeIterator<Item = crate::types::MemoryType> + '_ {
        self.inner.info.memories.iter().copied()
    }

    /// The data segments, in order: where an active one is copied and how many bytes each
    /// holds. Hosts that lay memory out the way a toolchain's loader does (the legacy
    /// Emscripten ABI) read the static data's extent from here.
    pub fn data_segments(&self) -> impl ExactSizeIterator<Item = DataSegment<'_>> + '_ {
        self.inner.info.data.iter().map(|d| DataSegment {
            kind: match &d.mode {
                DataMode::Active { memory, offset } => DataSegmentKind::Active {
                    memory: *memory,
                    offset,
                },
                DataMode::Passive => DataSegmentKind::Passive,
            },
            len: d.range.len(),
        })
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }
}

/// The trampolines a module's instances will need, as (function type index, host): a host
/// trampoline for each imported function's signature, an array-call one for each exported
/// function's and the start function's; each signature once.
/// The images of `info`'s defined memories, by defined memory index, as Wasmtime makes them
/// when it loads a module: a memory gets one when it is not shared and every active segment
/// for it has a constant offset and ends within its minimum size (so instantiating cannot
/// fail on them and their order is all that matters); the others copy their segments in.
fn memory_images(info: &ModuleInfo) -> Vec<Option<MemoryImage>> {
    let imported = info.num_imported_memories as usize;
    (imported..info.memories.len())
        .map(|index| {
            let ty = &info.memories[index];
            if ty.shared {
                return None;
            }
            let committed = ty.minimum.checked_mul(1 << ty.page_size_log2)?;
            let mut segments = Vec::new();
            for (i, seg) in info.data.iter().enumerate() {
                let DataMode::Active { memory, offset } = &seg.mode else {
                    continue;
                };
                if *memory as usize != index {
                    continue;
                }
                let at = match offset.as_slice() {
                    [ConstOp::I32(n)] => u64::from(*n as u32),
                    [ConstOp::I64(n)] => *n as u64,
                    _ => return None,
                };
                segments.push((at, info.data_bytes(i)));
            }
            MemoryImage::new(&segments, committed)
        })
        .collect()
}

/// The images of the trampolines for `info`'s signatures, compiled first where `engine` has
/// none: (type index, host trampoline or array-call, image).
fn trampoline_images(engine: &Engine, info: &ModuleInfo) -> Vec<(u32, bool, Arc<Image>)> {
    let sigs = trampoline_signatures(info);
    let typed: Vec<(&crate::types::FuncType, bool)> = (sigs.iter())
        .map(|(ty, host)| (info.type_as_func(*ty), *host))
        .collect();
    let images = engine.trampoline_images(&typed);
    (sigs.iter().zip(images))
        .map(|((ty, host), image)| (*ty, *host, image))
        .collect()
}

/// The signatures whose trampolines instances of `info` need, each once: a host trampoline
/// per imported function type, an array-call one per exported or start function type.
fn trampoline_signatures(info: &ModuleInfo) -> Vec<(u32, bool)> {
    let imported = (0..info.num_imported_funcs).map(|f| (info.functions[f as usize], true));
    let exported = (info.exports.iter()).filter_map(|(_, index)| match index {
        EntityIndex::Func(f) => Some((info.functions[*f as usize], false)),
        _ => None,
    });
    let start = (info.start).map(|f| (info.functions[f as usize], false));
    let mut out: Vec<(u32, bool)> = Vec::new();
    for (ty, host) in imported.chain(exported).chain(start) {
        let sig = info.type_as_func(ty);
        if !out
            .iter()
            .any(|(t, h)| *h == host && info.type_as_func(*t) == sig)
        {
            out.push((ty, host));
        }
    }
    out
}

/// A global of a module, as [`Module::globals`] describes it.
#[derive(Clone, Copy, Debug)]
pub struct ModuleGlobal<'a> {
    /// Its type.
    pub ty: GlobalType,
    /// Where its value comes from.
    pub init: GlobalInit<'a>,
}

/// Where a module's global gets its value.
#[derive(Clone, Copy, Debug)]
pub enum GlobalInit<'a> {
    /// It is imported under these names.
    Import {
        /// The import's module name.
        module: &'a str,
        /// The import's field name.
        name: &'a str,
    },
    /// The module defines it with this constant expression.
    Expr(&'a [ConstOp]),
}

/// A data segment of a module, as [`Module::data_segments`] describes it.
#[derive(Clone, Copy, Debug)]
pub struct DataSegment<'a> {
    /// When its bytes are copied.
    pub kind: DataSegmentKind<'a>,
    /// How many bytes it holds.
    pub len: usize,
}

/// When a data segment's bytes are copied into a memory.
#[derive(Clone, Copy, Debug)]
pub enum DataSegmentKind<'a> {
    /// At instantiation, into memory `memory` at the address `offset` evaluates to.
    Active {
        /// The memory index.
        memory: u32,
        /// The offset expression.
        offset: &'a [ConstOp],
    },
    /// Only by `memory.init`.
    Passive,
}
