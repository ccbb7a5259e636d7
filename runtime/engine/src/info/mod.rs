//! Phase 2, parse: the module's info ([`ModuleInfo`]), read from a validated binary. What
//! every later phase reads; it knows nothing of compiled code.

mod convert;
mod index;
mod parse;

pub(crate) use convert::val_type;
pub use index::{DefinedFuncIndex, FuncIndex};
pub(crate) use parse::{parse, parse_validated};

use crate::types::{CompositeType, FuncType, GlobalType, MemoryType, RefType, SubType, TableType};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// An index into one of the module's index spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// One entry of the type section.
pub type TypeDef = SubType;

/// One import: where it comes from and which index it fills.
#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub index: EntityIndex,
    /// A function import of an exact type (custom descriptors): no subtype matches.
    pub exact: bool,
}

/// An operator of a constant expression (a global's initialiser, a segment's offset), as the
/// module states it; read through [`Module::globals`](crate::Module::globals) and
/// [`Module::data_segments`](crate::Module::data_segments). Indices are
/// the module's own (function, global and type index spaces); references to types in
/// [`ConstOp::RefNull`] are canonical.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConstOp {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const`, as bits.
    F32(u32),
    /// `f64.const`, as bits.
    F64(u64),
    /// `v128.const`.
    V128(u128),
    /// `ref.null` of a heap type.
    RefNull(RefType),
    /// `ref.func` of a function index.
    RefFunc(u32),
    /// `global.get` of a global index.
    GlobalGet(u32),
    /// `i32.add`.
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
    /// `ref.i31`.
    RefI31,
    /// `struct.new` of a type index.
    StructNew(u32),
    /// `struct.new_default` of a type index.
    StructNewDefault(u32),
    /// `array.new` of a type index.
    ArrayNew(u32),
    /// `array.new_default` of a type index.
    ArrayNewDefault(u32),
    /// `array.new_fixed` of a type index and a length.
    ArrayNewFixed(u32, u32),
    /// `struct.new_desc` of a type index (custom descriptors).
    StructNewDesc(u32),
    /// `struct.new_default_desc` of a type index (custom descriptors).
    StructNewDefaultDesc(u32),
    /// An operator the runtime cannot evaluate (instantiation fails with this reason).
    Unsupported(&'static str),
}

/// A constant expression, as a sequence of stack operations.
pub type ConstExpr = Vec<ConstOp>;

/// A global definition.
#[derive(Clone, Debug)]
pub struct GlobalDef {
    pub ty: GlobalType,
    pub init: ConstExpr,
}

/// A table definition with its optional initialiser (function-references proposal).
#[derive(Clone, Debug)]
pub struct TableDef {
    pub ty: TableType,
    pub init: Option<ConstExpr>,
}

/// How an element segment is used.
#[derive(Clone, Debug)]
pub enum ElementMode {
    Active { table: u32, offset: ConstExpr },
    Passive,
    Declared,
}

/// An element segment: a list of references.
#[derive(Clone, Debug)]
pub struct ElementSegment {
    pub mode: ElementMode,
    pub ty: RefType,
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug)]
pub enum DataMode {
    Active { memory: u32, offset: ConstExpr },
    Passive,
}

/// A data segment; its bytes are a range of the module binary.
#[derive(Clone, Debug)]
pub struct DataSegmentDef {
    pub mode: DataMode,
    pub range: Range<usize>,
}

/// A function body: a range of the module binary.
#[derive(Clone, Debug)]
pub struct FunctionBody {
    pub range: Range<usize>,
}

/// Everything the later phases need to know about a module.
#[derive(Debug, Default)]
pub struct ModuleInfo {
    /// The binary the ranges below point into.
    pub binary: Arc<[u8]>,
    pub types: Vec<TypeDef>,
    /// The recursion groups of the type section, as ranges of type indices.
    pub rec_groups: Vec<Range<u32>>,
    /// Engine-wide canonical index of every type index (set by `Module`, empty before).
    pub type_ids: Vec<u32>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub functions: Vec<u32>,
    pub tables: Vec<TableDef>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<GlobalDef>,
    /// Type index of every tag, imported ones first.
    pub tags: Vec<u32>,
    pub exports: Vec<(String, EntityIndex)>,
    pub start: Option<u32>,
    pub elements: Vec<ElementSegment>,
    pub data: Vec<DataSegmentDef>,
    /// Bodies of the defined (not imported) functions.
    pub bodies: Vec<FunctionBody>,
    pub num_imported_funcs: u32,
    pub num_imported_tables: u32,
    pub num_imported_memories: u32,
    pub num_imported_globals: u32,
    pub num_imported_tags: u32,
    pub names: Names,
}

/// The custom `name` section.
#[derive(Debug, Default)]
pub struct Names {
    pub module: Option<String>,
    pub functions: HashMap<u32, String>,
}

impl ModuleInfo {
    /// Rewrites the concrete heap types of every type this module declares or uses from
    /// module-local to canonical indices (`type_ids` must be set). Type immediates of
    /// operators, including those of constant expressions, stay module-local.
    pub(crate) fn canonicalize_types(&mut self) {
        let ids = std::mem::take(&mut self.type_ids);
        let mut f = |i: u32| ids[i as usize];
        let rt = |r: RefType, f: &mut dyn FnMut(u32) -> u32| match crate::types::ValType::Ref(r)
            .map_indices(f)
        {
            crate::types::ValType::Ref(r) => r,
            _ => unreachable!(),
        };
        for t in &mut self.types {
            *t = t.map_indices(&mut f);
        }
        let expr = |e: &mut ConstExpr, f: &mut dyn FnMut(u32) -> u32| {
            for op in e {
                if let ConstOp::RefNull(r) = op {
                    *r = rt(*r, f);
                }
            }
        };
        for g in &mut self.globals {
            g.ty.content = g.ty.content.map_indices(&mut f);
            expr(&mut g.init, &mut f);
        }
        for t in &mut self.tables {
            t.ty.element = rt(t.ty.element, &mut f);
            if let Some(init) = &mut t.init {
                expr(init, &mut f);
            }
        }
        for e in &mut self.elements {
            e.ty = rt(e.ty, &mut f);
            for item in &mut e.items {
                expr(item, &mut f);
            }
        }
        self.type_ids = ids;
    }

    /// The signature of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        self.type_as_func(self.functions[index as usize])
    }

    /// The function type at type index `index` (GC types have none).
    pub fn type_as_func(&self, index: u32) -> &FuncType {
        static EMPTY: std::sync::OnceLock<FuncType> = std::sync::OnceLock::new();
        match &self.types[index as usize].composite {
            CompositeType::Func(f) => f,
            _ => EMPTY.get_or_init(FuncType::default),
        }
    }

    /// The function type of the continuation type at type index `index` (`cont $ft`); an
    /// empty one for other types.
    pub fn cont_func_type(&self, index: u32) -> &FuncType {
        match &self.types[index as usize].composite {
            CompositeType::Cont(f) => self.type_as_func(self.module_type_index(*f)),
            _ => self.type_as_func(index),
        }
    }

    /// The module type index of canonical type `id` once the types are canonical (before,
    /// `id` is one already).
    pub fn module_type_index(&self, id: u32) -> u32 {
        if self.type_ids.is_empty() {
            return id;
        }
        self.type_ids
            .iter()
            .position(|c| *c == id)
            .map_or(id, |i| i as u32)
    }

    pub fn is_imported_func(&self, index: u32) -> bool {
        self.defined_func_index(FuncIndex::from_u32(index))
            .is_none()
    }

    /// The bytes of a data segment.
    pub fn data_bytes(&self, index: usize) -> &[u8] {
        &self.binary[self.data[index].range.clone()]
    }

    pub fn num_defined_funcs(&self) -> usize {
        self.bodies.len()
    }
}

impl ModuleInfo {
    /// The type of an entity of this module.
    pub fn entity_type(&self, index: EntityIndex) -> crate::types::ExternType {
        use crate::types::ExternType;
        match index {
            EntityIndex::Func(f) => ExternType::Func(self.func_type(f).clone()),
            EntityIndex::Table(t) => ExternType::Table(self.tables[t as usize].ty),
            EntityIndex::Memory(m) => ExternType::Memory(self.memories[m as usize]),
            EntityIndex::Global(g) => ExternType::Global(self.globals[g as usize].ty),
            EntityIndex::Tag(t) => {
                ExternType::Tag(self.type_as_func(self.tags[t as usize]).clone())
            }
        }
    }
}
