//! Types seen through the public API: value, reference, function, global, memory and table types.

use std::fmt;

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit SIMD vector.
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`, a nullable function reference.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`, a nullable host reference.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// Whether values of this type may point into the store's GC heap (references of the
    /// `any`, `extern` and `exn` hierarchies), so that the collector must trace them.
    /// Concrete type indices must be canonical.
    pub(crate) fn is_gc_ref(&self) -> bool {
        matches!(self, ValType::Ref(r) if r.is_gc_ref())
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => write!(f, "{r}"),
        }
    }
}

/// The heap type a reference points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function (`func`).
    Func,
    /// No function: the bottom of the function hierarchy (`nofunc`).
    NoFunc,
    /// Any host reference (`extern`).
    Extern,
    /// The bottom of the extern hierarchy (`noextern`).
    NoExtern,
    /// Any internal reference (`any`).
    Any,
    /// References that can be compared with `ref.eq` (`eq`).
    Eq,
    /// 31-bit integers as references (`i31`).
    I31,
    /// Any struct (`struct`).
    Struct,
    /// Any array (`array`).
    Array,
    /// The bottom of the `any` hierarchy (`none`).
    None,
    /// Any exception (`exn`).
    Exn,
    /// The bottom of the exception hierarchy (`noexn`).
    NoExn,
    /// Any continuation (`cont`, stack switching).
    Cont,
    /// The bottom of the continuation hierarchy (`nocont`).
    NoCont,
    /// A concrete type, by its engine-wide canonical index (see `CanonicalKind`).
    ///
    /// Inside `ModuleInfo` straight out of `parse` the index is module-local; `Module` rewrites
    /// every one to its canonical index when it registers the module's types.
    Concrete(u32),
}

impl HeapType {
    /// The top of this heap type's hierarchy (`func`, `extern`, `any`, `exn` or `cont`).
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc => HeapType::Func,
            HeapType::Concrete(id) => match CanonicalKind::of(*id) {
                CanonicalKind::Struct | CanonicalKind::Array => HeapType::Any,
                CanonicalKind::Func => HeapType::Func,
                CanonicalKind::Cont => HeapType::Cont,
            },
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            HeapType::Cont | HeapType::NoCont => HeapType::Cont,
            _ => HeapType::Any,
        }
    }

    /// The bottom of this heap type's hierarchy (`nofunc`, `noextern`, `none`, `noexn` or
    /// `nocont`).
    pub fn bottom(&self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
            HeapType::Cont => HeapType::NoCont,
            _ => HeapType::None,
        }
    }
}

/// What kind of composite type a canonical type index names. Canonical indices keep it in
/// their low two bits, so a heap type's hierarchy is known without asking the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CanonicalKind {
    Func = 0,
    Struct = 1,
    Array = 2,
    Cont = 3,
}

impl CanonicalKind {
    /// The kind of canonical type index `id`.
    pub fn of(id: u32) -> CanonicalKind {
        match id & 3 {
            0 => CanonicalKind::Func,
            1 => CanonicalKind::Struct,
            2 => CanonicalKind::Array,
            _ => CanonicalKind::Cont,
        }
    }
}

/// How a struct field or array element is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageType {
    I8,
    I16,
    Val(ValType),
}

impl StorageType {
    /// The type of the field's value on the operand stack.
    pub fn unpack(&self) -> ValType {
        match self {
            StorageType::I8 | StorageType::I16 => ValType::I32,
            StorageType::Val(v) => *v,
        }
    }
    /// Size in bytes of the stored value.
    pub fn size(&self) -> u32 {
        match self {
            StorageType::I8 => 1,
            StorageType::I16 => 2,
            StorageType::Val(ValType::I32 | ValType::F32) => 4,
            StorageType::Val(ValType::V128) => 16,
            StorageType::Val(_) => 8,
        }
    }
}

/// A struct field or array element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    pub storage: StorageType,
    pub mutable: bool,
}

/// The body of a type definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CompositeType {
    Func(FuncType),
    Struct(Box<[FieldType]>),
    Array(FieldType),
    /// A continuation of the function type with this index (stack switching; not executable).
    Cont(u32),
}

/// A type definition (GC proposal): its body, whether it is final, its declared supertype
/// and its descriptor links (custom descriptors). Type indices in it are module-local, or
/// canonical once the engine registered the module (see [`HeapType::Concrete`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubType {
    pub is_final: bool,
    pub supertype: Option<u32>,
    pub composite: CompositeType,
    pub shared: bool,
    pub descriptor: Option<u32>,
    pub describes: Option<u32>,
}

impl SubType {
    /// The kind of this definition.
    pub fn kind(&self) -> CanonicalKind {
        match self.composite {
            CompositeType::Func(_) => CanonicalKind::Func,
            CompositeType::Struct(_) => CanonicalKind::Struct,
            CompositeType::Array(_) => CanonicalKind::Array,
            CompositeType::Cont(_) => CanonicalKind::Cont,
        }
    }

    /// Applies `f` to every type index the definition mentions.
    pub fn map_indices(&self, f: &mut dyn FnMut(u32) -> u32) -> SubType {
        let field = |t: &FieldType, f: &mut dyn FnMut(u32) -> u32| FieldType {
            storage: match t.storage {
                StorageType::Val(v) => StorageType::Val(v.map_indices(f)),
                s => s,
            },
            mutable: t.mutable,
        };
        SubType {
            is_final: self.is_final,
            supertype: self.supertype.map(&mut *f),
            composite: match &self.composite {
                CompositeType::Func(ft) => CompositeType::Func(ft.map_indices(f)),
                CompositeType::Struct(fields) => {
                    CompositeType::Struct(fields.iter().map(|t| field(t, f)).collect())
                }
                CompositeType::Array(t) => CompositeType::Array(field(t, f)),
                CompositeType::Cont(i) => CompositeType::Cont(f(*i)),
            },
            shared: self.shared,
            descriptor: self.descriptor.map(&mut *f),
            describes: self.describes.map(&mut *f),
        }
    }
}

impl ValType {
    /// This type with every concrete type index replaced by `f(index)`.
    pub fn map_indices(&self, f: &mut dyn FnMut(u32) -> u32) -> ValType {
        match *self {
            ValType::Ref(RefType {
                nullable,
                heap: HeapType::Concrete(i),
            }) => ValType::Ref(RefType {
                nullable,
                heap: HeapType::Concrete(f(i)),
            }),
            other => other,
        }
    }
}

impl FuncType {
    /// This type with every concrete type index replaced by `f(index)`.
    pub fn map_indices(&self, f: &mut dyn FnMut(u32) -> u32) -> FuncType {
        FuncType {
            params: self.params.iter().map(|t| t.map_indices(f)).collect(),
            results: self.results.iter().map(|t| t.map_indices(f)).collect(),
        }
    }
}

/// A reference type: a heap type and whether `null` is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    /// Whether `null` is a value of the type.
    pub nullable: bool,
    /// What the reference points to.
    pub heap: HeapType,
}

impl RefType {
    /// See [`ValType::is_gc_ref`].
    pub(crate) fn is_gc_ref(&self) -> bool {
        self.heap.top() != HeapType::Func
    }

    /// `funcref`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
    /// `externref`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Extern,
    };
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = if self.nullable { "null " } else { "" };
        write!(f, "(ref {null}{:?})", self.heap)
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    /// Shared, so cloning a signature on every call costs two reference counts.
    params: std::sync::Arc<[ValType]>,
    results: std::sync::Arc<[ValType]>,
}

impl FuncType {
    /// The signature `params -> results`.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(&self.params),
            list(&self.results)
        )
    }
}

/// The type of a global: its content and mutability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    /// The type of the value.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// The type of a linear memory; sizes are in pages of `1 << page_size_log2` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    /// Initial (or current) size in pages.
    pub minimum: u64,
    /// Largest size in pages, if limited.
    pub maximum: Option<u64>,
    /// Whether addresses are 64-bit (memory64).
    pub memory64: bool,
    /// Whether the memory is shared between threads (threads proposal).
    pub shared: bool,
    /// The page size as a power of two (16 for 64 KiB; custom-page-sizes allows 0).
    pub page_size_log2: u8,
}

impl MemoryType {
    /// A 32-bit memory with 64 KiB pages.
    pub fn new(minimum: u64, maximum: Option<u64>) -> MemoryType {
        MemoryType {
            minimum,
            maximum,
            memory64: false,
            shared: false,
            page_size_log2: 16,
        }
    }
}

/// The type of a table: element type and limits (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    /// The type of the elements.
    pub element: RefType,
    /// Initial (or current) size in elements.
    pub minimum: u64,
    /// Largest size in elements, if limited.
    pub maximum: Option<u64>,
    /// Whether indices are 64-bit (memory64's tables).
    pub table64: bool,
}

impl TableType {
    /// A table with 32-bit indices.
    pub fn new(element: RefType, minimum: u64, maximum: Option<u64>) -> TableType {
        TableType {
            element,
            minimum,
            maximum,
            table64: false,
        }
    }
}

/// The type of anything that can be imported or exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function of this signature.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag with its signature.
    Tag(FuncType),
}

impl ExternType {
    /// A short word for the kind: `func`, `table`, `memory`, `global` or `tag`.
    pub fn kind(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
            ExternType::Tag(_) => "tag",
        }
    }
}

/// An import of a module: `(import "module" "name" ty)`.
#[derive(Clone, Debug)]
pub struct ImportType {
    /// The module name.
    pub module: String,
    /// The item name.
    pub name: String,
    /// What is imported.
    pub ty: ExternType,
}

/// An export of a module.
#[derive(Clone, Debug)]
pub struct ExportType {
    /// The export's name.
    pub name: String,
    /// What is exported.
    pub ty: ExternType,
}
