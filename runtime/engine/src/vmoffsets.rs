//! Phases 3 and 6, translate and vm: the layouts compiled code and the vm agree on, each
//! computed in exactly one place: an instance's vmctx, GC objects (see `vm/gc.rs` for the
//! object format), and which memories rely on guard pages.
//!
//! ```text
//! 0   *mut StoreOpaque        the owning store
//! 8   *const VMRuntimeLimits stack limit
//! 16  u64                    index of the instance in its store
//! 24  *const AtomicU64       the engine's epoch counter
//! 32  [u32; types]           canonical type index of every type index (padded to 8)
//!     [*mut VMMemoryDefinition; memories]
//!     [*mut VMTableDefinition; tables]
//!     [*mut VMGlobal; globals]
//!     [*const VMFuncRef; functions]
//!     [u32; tags]            store index of every tag (padded to 16 bytes)
//!     [VMGlobal; defined globals]  the storage of the globals the module defines (16
//!                            bytes each), read and written in place by compiled code
//! ```

use crate::info::ModuleInfo;
use crate::types::{FieldType, MemoryType};

/// Byte offsets of the vmctx fields of one module's instances.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    types: u32,
    memories: u32,
    memory_bases: u32,
    tables: u32,
    globals: u32,
    funcs: u32,
    tags: u32,
    defined_globals: u32,
    size: u32,
}

pub const VMCTX_STORE: u32 = 0;
pub const VMCTX_LIMITS: u32 = 8;
pub const VMCTX_INSTANCE_INDEX: u32 = 16;
pub const VMCTX_EPOCH_PTR: u32 = 24;
const HEADER: u32 = 32;
const PTR: u32 = 8;
/// Bytes of a `VMGlobal` (every value type fits).
const GLOBAL_SIZE: u32 = 16;

/// Offsets inside the structures of `vm/vmcontext.rs`.
pub const FUNCREF_CODE: i32 = 0;
pub const FUNCREF_VMCTX: i32 = 8;
pub const FUNCREF_TYPE_ID: i32 = 16;
// Compiled code reads bases from the vmctx's copies (`memory_base`); the test pins it anyway.
#[cfg(test)]
pub const MEMORY_BASE: i32 = 0;
pub const MEMORY_LENGTH: i32 = 8;
pub const TABLE_BASE: i32 = 0;
pub const TABLE_LENGTH: i32 = 8;
pub const LIMITS_STACK_LIMIT: i32 = 0;
pub const LIMITS_PENDING_EXCEPTION: i32 = 8;
pub const LIMITS_FUEL_CONSUMED: i32 = 16;
pub const LIMITS_EPOCH_DEADLINE: i32 = 24;
pub const LIMITS_GC_BUMP: i32 = 32;
pub const LIMITS_LAST_WASM_EXIT_FP: i32 = 40;
pub const LIMITS_LAST_WASM_EXIT_PC: i32 = 48;
pub const GC_BUMP_NEXT: i32 = 0;
pub const GC_BUMP_END: i32 = 8;
/// Exceptions are GC objects (see below): the tag's store index in the length word, the
/// payload (16 bytes per value) after the header.
pub const EXCEPTION_TAG: i32 = LENGTH_OFFSET;
pub const EXCEPTION_PAYLOAD: i32 = DATA_OFFSET as i32;

impl VMOffsets {
    pub fn new(info: &ModuleInfo) -> VMOffsets {
        let types = HEADER;
        let memories = types + (info.types.len() as u32 * 4).next_multiple_of(8);
        let memory_bases = memories + info.memories.len() as u32 * PTR;
        let tables = memory_bases + info.memories.len() as u32 * PTR;
        let globals = tables + info.tables.len() as u32 * PTR;
        let funcs = globals + info.globals.len() as u32 * PTR;
        let tags = funcs + info.functions.len() as u32 * PTR;
        let defined_globals = (tags + info.tags.len() as u32 * 4).next_multiple_of(16);
        let defined = info.globals.len() as u32 - info.num_imported_globals;
        let size = defined_globals + defined * GLOBAL_SIZE;
        VMOffsets {
            types,
            memories,
            memory_bases,
            tables,
            globals,
            funcs,
            tags,
            defined_globals,
            size,
        }
    }
    pub fn type_id(&self, index: u32) -> u32 {
        self.types + index * 4
    }
    /// The pointer to memory `index`'s `VMMemoryDefinition` (its length changes).
    pub fn memory(&self, index: u32) -> u32 {
        self.memories + index * PTR
    }
    /// Memory `index`'s base address itself: it never moves, so compiled code reaches the
    /// bytes with one load of the vmctx (hoisted out of loops) instead of two.
    pub fn memory_base(&self, index: u32) -> u32 {
        self.memory_bases + index * PTR
    }
    pub fn table(&self, index: u32) -> u32 {
        self.tables + index * PTR
    }
    pub fn global(&self, index: u32) -> u32 {
        self.globals + index * PTR
    }
    pub fn func(&self, index: u32) -> u32 {
        self.funcs + index * PTR
    }
    pub fn tag(&self, index: u32) -> u32 {
        self.tags + index * 4
    }
    /// The storage of defined global `index` (counting the defined globals only), 16-aligned
    /// when the vmctx is.
    pub fn defined_global(&self, index: u32) -> u32 {
        self.defined_globals + index * GLOBAL_SIZE
    }
    /// Total size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }
}

/// GC objects (`vm::gc`): 8-byte headers (the type word, then the length word), 8-aligned.
pub const TYPE_OFFSET: i32 = 0;
pub const LENGTH_OFFSET: i32 = 4;
/// Bytes of every object's header (type and length words).
pub const HEADER_SIZE: u32 = 8;
/// The descriptor of a struct whose type has one (custom descriptors), before its fields.
pub const DESCRIPTOR_OFFSET: i32 = 8;
/// Where array elements and exception payloads start.
pub const DATA_OFFSET: u32 = 8;
/// Objects are aligned (and sized) to this many bytes.
pub const GC_ALIGN: usize = 8;
/// Objects of at least this many bytes get a mapping of their own (the large-object space):
/// compiled code never bump-allocates them inline.
pub const LARGE_OBJECT: usize = 256 << 10;
/// The type word of an exception object (`throw`); its length word is the tag's store index
/// and its payload follows the header, 16 bytes per value.
pub const EXN_TYPE: u32 = u32::MAX - 4;
/// What `gc_alloc` returns for an object larger than the heap may ever be (0: the heap is
/// full). Neither is an object address.
pub const ALLOC_TOO_LARGE: u64 = 1;
/// What `gc_array_new_data`/`gc_array_new_elem` return when the segment range is out of
/// bounds (besides 0 and [`ALLOC_TOO_LARGE`]).
pub const SEGMENT_OUT_OF_BOUNDS: u64 = 2;

/// Offsets of the fields of a struct (from the object start) and the bytes of the object
/// after its header; `has_descriptor` if its type has a descriptor (which comes first).
pub fn struct_layout(fields: &[FieldType], has_descriptor: bool) -> (Vec<u32>, u32) {
    let mut end = if has_descriptor {
        HEADER_SIZE + 8
    } else {
        HEADER_SIZE
    };
    let offsets = fields
        .iter()
        .map(|f| {
            let size = f.storage.size();
            let at = end.next_multiple_of(size.min(8));
            end = at + size;
            at
        })
        .collect();
    (offsets, end - HEADER_SIZE)
}

/// `struct_layout` of struct type `ty`.
pub fn struct_type_layout(ty: &crate::types::SubType) -> (Vec<u32>, u32) {
    match &ty.composite {
        crate::types::CompositeType::Struct(fields) => {
            struct_layout(fields, ty.descriptor.is_some())
        }
        _ => unreachable!("validated: a struct type"),
    }
}

/// Whether compiled code may rely on guard pages for memories of this type (given that the
/// engine reserves them): 32-bit memories with 64 KiB pages.
pub fn can_be_guarded(ty: &MemoryType) -> bool {
    !ty.memory64 && ty.page_size_log2 == 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::vmcontext::*;
    use std::mem::offset_of;

    #[test]
    fn struct_offsets_match_the_layout() {
        assert_eq!(offset_of!(VMFuncRef, code), FUNCREF_CODE as usize);
        assert_eq!(offset_of!(VMFuncRef, vmctx), FUNCREF_VMCTX as usize);
        assert_eq!(offset_of!(VMFuncRef, type_id), FUNCREF_TYPE_ID as usize);
        assert_eq!(offset_of!(VMMemoryDefinition, base), MEMORY_BASE as usize);
        assert_eq!(
            offset_of!(VMMemoryDefinition, length),
            MEMORY_LENGTH as usize
        );
        assert_eq!(offset_of!(VMTableDefinition, base), TABLE_BASE as usize);
        assert_eq!(offset_of!(VMTableDefinition, length), TABLE_LENGTH as usize);
        assert_eq!(
            offset_of!(VMRuntimeLimits, stack_limit),
            LIMITS_STACK_LIMIT as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, pending_exception),
            LIMITS_PENDING_EXCEPTION as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, fuel_consumed),
            LIMITS_FUEL_CONSUMED as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, epoch_deadline),
            LIMITS_EPOCH_DEADLINE as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, gc_bump),
            LIMITS_GC_BUMP as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, last_wasm_exit_fp),
            LIMITS_LAST_WASM_EXIT_FP as usize
        );
        assert_eq!(
            offset_of!(VMRuntimeLimits, last_wasm_exit_pc),
            LIMITS_LAST_WASM_EXIT_PC as usize
        );
        assert_eq!(offset_of!(VMGcBump, next), GC_BUMP_NEXT as usize);
        assert_eq!(offset_of!(VMGcBump, end), GC_BUMP_END as usize);
        assert_eq!(std::mem::size_of::<VMGlobal>(), 16);
    }
}
