//! Types seen through the public API: value, reference, function, global, memory and table types.

use std::fmt;

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefType),
}

impl ValType {
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
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
    Func,
    NoFunc,
    Extern,
    NoExtern,
    Any,
    Eq,
    I31,
    Struct,
    Array,
    None,
    Exn,
    NoExn,
    /// A concrete type, by its engine-wide canonical index (see [`CanonicalKind`]).
    ///
    /// Inside `ModuleInfo` straight out of `parse` the index is module-local; `Module` rewrites
    /// every one to its canonical index when it registers the module's types.
    Concrete(u32),
}

impl HeapType {
    /// The top of this heap type's hierarchy (`func`, `extern`, `any` or `exn`).
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc => HeapType::Func,
            HeapType::Concrete(id) => match CanonicalKind::of(*id) {
                CanonicalKind::Struct | CanonicalKind::Array => HeapType::Any,
                CanonicalKind::Func | CanonicalKind::Cont => HeapType::Func,
            },
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            _ => HeapType::Any,
        }
    }

    /// The bottom of this heap type's hierarchy (`nofunc`, `noextern`, `none` or `noexn`).
    pub fn bottom(&self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
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
    pub nullable: bool,
    pub heap: HeapType,
}

impl RefType {
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
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
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
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
    pub content: ValType,
    pub mutable: bool,
}

/// The type of a linear memory; sizes are in pages of `1 << page_size_log2` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub minimum: u64,
    pub maximum: Option<u64>,
    pub memory64: bool,
    pub shared: bool,
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
    pub element: RefType,
    pub minimum: u64,
    pub maximum: Option<u64>,
    pub table64: bool,
}

impl TableType {
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
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
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
    pub module: String,
    pub name: String,
    pub ty: ExternType,
}

/// An export of a module.
#[derive(Clone, Debug)]
pub struct ExportType {
    pub name: String,
    pub ty: ExternType,
}
