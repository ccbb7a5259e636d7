//! Phase 6, vm: the layout of an instance's vmctx, computed in exactly one place.
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
//!     [u32; tags]            store index of every tag (padded to 8)
//! ```

use crate::module::ModuleInfo;

/// Byte offsets of the vmctx fields of one module's instances.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    types: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    funcs: u32,
    tags: u32,
    size: u32,
}

pub const VMCTX_STORE: u32 = 0;
pub const VMCTX_LIMITS: u32 = 8;
pub const VMCTX_INSTANCE_INDEX: u32 = 16;
pub const VMCTX_EPOCH_PTR: u32 = 24;
const HEADER: u32 = 32;
const PTR: u32 = 8;

/// Offsets inside the structures of `vm/vmcontext.rs`.
pub const FUNCREF_CODE: i32 = 0;
pub const FUNCREF_VMCTX: i32 = 8;
pub const FUNCREF_TYPE_ID: i32 = 16;
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
/// Exceptions are GC objects (`vm::gc`): the tag's store index in the length word, the
/// payload (16 bytes per value) after the header.
pub const EXCEPTION_TAG: i32 = crate::vm::gc::LENGTH_OFFSET;
pub const EXCEPTION_PAYLOAD: i32 = crate::vm::gc::DATA_OFFSET as i32;

impl VMOffsets {
    pub fn new(info: &ModuleInfo) -> VMOffsets {
        let types = HEADER;
        let memories = types + (info.types.len() as u32 * 4).next_multiple_of(8);
        let tables = memories + info.memories.len() as u32 * PTR;
        let globals = tables + info.tables.len() as u32 * PTR;
        let funcs = globals + info.globals.len() as u32 * PTR;
        let tags = funcs + info.functions.len() as u32 * PTR;
        let size = tags + (info.tags.len() as u32 * 4).next_multiple_of(8);
        VMOffsets {
            types,
            memories,
            tables,
            globals,
            funcs,
            tags,
            size,
        }
    }
    pub fn type_id(&self, index: u32) -> u32 {
        self.types + index * 4
    }
    pub fn memory(&self, index: u32) -> u32 {
        self.memories + index * PTR
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
    /// Total size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }
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
