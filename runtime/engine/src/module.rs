//! The compiled module of the API: parse ([`info`](crate::info)), register its types with the
//! engine, translate and compile ([`compile`](crate::compile)), lay out ([`link`](crate::link))
//! and publish ([`vm::code`](crate::vm::code)); this is where the phases are chained.

use crate::engine::Engine;
use crate::error::Result;
use crate::info::{parse, ConstOp, DataMode, DefinedFuncIndex, EntityIndex, ModuleInfo};
use crate::types::GlobalType;
use crate::vm::code::{CodeNames, CodeObject};
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
}

impl Module {
    /// Loads (text or binary), validates and compiles a module.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let binary = crate::load::to_binary(bytes.as_ref())?;
        Module::from_binary(engine, &binary)
    }

    /// Validates and compiles a binary module.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let mut info = parse(binary, engine.config().features())?;
        info.type_ids = engine
            .types()
            .register_module(&info.types, &info.rec_groups);
        info.canonicalize_types();
        let offsets = VMOffsets::new(&info);
        let funcs = crate::compile::compile_module(engine.isa(), engine.config(), &info, &offsets)?;
        let first_defined = info.func_index(DefinedFuncIndex::from_u32(0)).as_u32();
        let image = crate::link::layout(&funcs, Some(first_defined));
        let names = CodeNames {
            module_name: info.names.module.clone(),
            func_names: Arc::new(info.names.functions.clone()),
        };
        let code = CodeObject::publish(image, names, crate::vm::libcalls::resolve)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info: Arc::new(info),
                offsets,
                code,
            }),
        })
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
