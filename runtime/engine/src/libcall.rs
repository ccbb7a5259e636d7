//! The libcall ABI, declared once: every function compiled code may call in the runtime, with
//! its parameters and result. [`foreach_libcall!`] hands the list to a macro; the enum below,
//! the CLIF signatures (`translate`) and the address table (`vm::libcalls`, which also checks
//! each implementation's Rust type against its entry) are all generated from it, so they
//! cannot disagree.
//!
//! Every libcall also receives the caller's vmctx as its first argument (not listed). Those
//! that can fail return 1 on success and 0 on failure, and the compiled caller traps.

/// Calls `$mac!` with the list of libcalls: `name: Variant(param: type, ...) -> result;`.
/// Types are Rust types of the C ABI (`u32`, `i32`: CLIF `i32`; `u64`, `i64`: CLIF `i64`),
/// or `values`: a `*const u128` to 16-byte value slots (CLIF `i64`).
macro_rules! foreach_libcall {
    ($mac:ident) => {
        $mac! {
            /// `memory.grow`: the old size in pages, or `u64::MAX` (-1) on failure.
            memory_grow: MemoryGrow(mem: u32, delta: u64) -> u64;
            /// `memory.fill`.
            memory_fill: MemoryFill(mem: u32, dst: u64, val: u32, len: u64) -> u32;
            /// `memory.copy`.
            memory_copy: MemoryCopy(dst_mem: u32, src_mem: u32, dst: u64, src: u64, len: u64) -> u32;
            /// `memory.init`.
            memory_init: MemoryInit(mem: u32, data: u32, dst: u64, src: u32, len: u32) -> u32;
            /// `data.drop`.
            data_drop: DataDrop(data: u32);
            /// `table.grow`: the old size, or `u64::MAX` (-1) on failure.
            table_grow: TableGrow(table: u32, init: u64, delta: u64) -> u64;
            /// `table.fill`.
            table_fill: TableFill(table: u32, dst: u64, val: u64, len: u64) -> u32;
            /// `table.copy`.
            table_copy: TableCopy(dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64) -> u32;
            /// `table.init`.
            table_init: TableInit(table: u32, elem: u32, dst: u64, src: u32, len: u32) -> u32;
            /// `elem.drop`.
            elem_drop: ElemDrop(elem: u32);
            /// `throw`: allocates the exception in the GC heap and makes it the store's
            /// pending one (0 if the heap has no room for it).
            throw: Throw(tag: u32, payload: values, count: u32) -> u32;
            /// Unwinds the store's pending exception from the caller to the innermost handler
            /// (a `try_call`'s landing pad, the end of a continuation or the host's entry);
            /// never returns.
            unwind: Unwind();
            /// `memory.atomic.wait32/64` on the cell at native address `addr` (checked by
            /// compiled code); `wide` is 1 for `wait64`. 0 "ok", 1 "not-equal", 2 "timed-out".
            atomic_wait: AtomicWait(addr: u64, expected: u64, timeout: i64, wide: u32) -> u32;
            /// `memory.atomic.notify` of the cell at native address `addr`: how many it woke.
            atomic_notify: AtomicNotify(addr: u64, count: u32) -> u32;
            /// Whether canonical type `a` is a subtype of `b`.
            gc_is_subtype: GcIsSubtype(a: u32, b: u32) -> u32;
            /// A zeroed object of canonical type `type_id` with length word `len` and `unit`
            /// bytes of data per element (arrays) or in all (structs); 0 if the heap is full,
            /// `ALLOC_TOO_LARGE` if it could never hold the object. May collect.
            gc_alloc: GcAlloc(type_id: u32, len: u32, unit: u32) -> u64;
            /// `array.fill` with the element's bits `lo`/`hi`.
            gc_array_fill: GcArrayFill(array: u64, start: u32, len: u32, lo: u64, hi: u64, size: u32) -> u32;
            /// `array.copy`.
            gc_array_copy: GcArrayCopy(dst: u64, dst_index: u32, src: u64, src_index: u32, len: u32, size: u32) -> u32;
            /// `array.new_data` (0 on failure).
            gc_array_new_data: GcArrayNewData(type_index: u32, data: u32, offset: u32, len: u32) -> u64;
            /// `array.new_elem` (0 on failure).
            gc_array_new_elem: GcArrayNewElem(type_index: u32, elem: u32, offset: u32, len: u32) -> u64;
            /// `array.init_data`.
            gc_array_init_data: GcArrayInitData(array: u64, type_index: u32, data: u32, dst: u32, src: u32, len: u32) -> u32;
            /// `array.init_elem`.
            gc_array_init_elem: GcArrayInitElem(array: u64, type_index: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32;
            /// `cont.new` of continuation type `type_index` (module index) on a non-null
            /// funcref: the reference, or 0 if no stack is available.
            cont_new: ContNew(type_index: u32, funcref: u64) -> u64;
            /// `cont.bind`: a new reference with `count` arguments given, or 0 if consumed.
            cont_bind: ContBind(cont: u64, args: values, count: u32) -> u64;
            /// `resume` with `count` arguments in `buffer` (which receives the results or a
            /// handler's payload and continuation); `handlers` points to `nhandlers` pairs
            /// (store tag, kind) in the caller's frame: a status (below).
            resume: Resume(cont: u64, buffer: values, count: u32, handlers: u64, nhandlers: u32) -> u32;
            /// `resume_throw` of module tag `tag` (`u32::MAX`: `resume_throw_ref`, the exnref in
            /// `buffer[0]`) with `count` payload values: as `resume`.
            resume_throw: ResumeThrow(cont: u64, tag: u32, buffer: values, count: u32, handlers: u64, nhandlers: u32) -> u32;
            /// `suspend` of module tag `tag` with `count` payload values in `buffer`, which
            /// receives the `results` resumption values: a status.
            suspend: Suspend(tag: u32, buffer: values, count: u32, results: u32) -> u32;
            /// `switch` to `cont` through module tag `tag` with `count` arguments in `buffer`,
            /// which receives the `results` resumption values: a status.
            switch: Switch(tag: u32, cont: u64, buffer: values, count: u32, results: u32) -> u32;
        }
    };
}
pub(crate) use foreach_libcall;

/// What a growth libcall returns when the store's limiter failed (returned an error or
/// panicked; the failure is kept in the call state) so that compiled code raises a `Host`
/// trap, which `invoke` turns back into the error or panic. `u64::MAX` (-1) is a refused or
/// failed growth. No memory or table here has anywhere near this many pages or elements.
pub const GROW_ERROR: u64 = u64::MAX - 1;

/// Statuses of the stack-switching libcalls (`resume`, `resume_throw`, `suspend`, `switch`):
/// [`STATUS_RETURNED`], `k + 1` when a suspension reached handler clause `k` of the
/// `resume`, or one of the failures, on which compiled code traps.
pub const STATUS_RETURNED: u32 = 0;
/// The continuation reference was used before (continuations are one-shot).
pub const STATUS_CONSUMED: u32 = u32::MAX;
/// No enclosing `resume` handles the tag (the search stops at host frames).
pub const STATUS_UNHANDLED: u32 = u32::MAX - 1;
/// `resume_throw` found no room in the GC heap for the exception.
pub const STATUS_GC_OUT_OF_MEMORY: u32 = u32::MAX - 2;
/// A `resume` handler clause `(on $tag $label)`, as compiled code writes its kind beside the
/// clause's store tag index.
pub const HANDLER_SUSPEND: u32 = 0;
/// A handler clause `(on $tag switch)`.
pub const HANDLER_SWITCH: u32 = 1;

/// The CLIF type of a libcall parameter or result, from its Rust type.
macro_rules! clif_type {
    (u32) => {
        cranelift_codegen::ir::types::I32
    };
    (i32) => {
        cranelift_codegen::ir::types::I32
    };
    (u64) => {
        cranelift_codegen::ir::types::I64
    };
    (i64) => {
        cranelift_codegen::ir::types::I64
    };
    (values) => {
        cranelift_codegen::ir::types::I64
    };
}

/// The Rust type of a libcall parameter or result in the list.
macro_rules! rust_type {
    (values) => {
        *const u128
    };
    ($t:ident) => {
        $t
    };
}
pub(crate) use rust_type;

macro_rules! declare_libcalls {
    ($(
        $(#[$doc:meta])*
        $name:ident: $variant:ident($($param:ident: $ty:ident),*) $(-> $ret:ident)?;
    )*) => {
        /// A function of the runtime that compiled code calls (named in relocations).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Libcall {
            $($(#[$doc])* $variant,)*
        }

        impl Libcall {
            /// Every libcall, indexed by its `as u32` value.
            pub const ALL: &'static [Libcall] = &[$(Libcall::$variant,)*];

            /// CLIF types of the parameters after the vmctx, and of the result.
            pub fn signature(self) -> (&'static [cranelift_codegen::ir::Type], Option<cranelift_codegen::ir::Type>) {
                match self {
                    $(Libcall::$variant => (
                        &[$(clif_type!($ty)),*],
                        None$(.or(Some(clif_type!($ret))))?,
                    ),)*
                }
            }
        }
    };
}

foreach_libcall!(declare_libcalls);

#[cfg(test)]
mod tests {
    use super::Libcall;
    use cranelift_codegen::ir::types;

    #[test]
    fn the_list_indexes_by_discriminant_and_maps_types() {
        for (i, call) in Libcall::ALL.iter().enumerate() {
            assert_eq!(*call as usize, i);
        }
        assert_eq!(Libcall::ALL.len(), 28);
        assert_eq!(
            Libcall::MemoryGrow.signature(),
            (&[types::I32, types::I64][..], Some(types::I64))
        );
        assert_eq!(
            Libcall::Throw.signature(),
            (&[types::I32, types::I64, types::I32][..], Some(types::I32))
        );
    }
}
