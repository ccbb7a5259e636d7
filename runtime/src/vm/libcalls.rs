//! Phase 6, vm: functions compiled code calls for operations too large to inline (memory and
//! table growth, bulk memory, bulk table operations). Each takes the caller's vmctx; those
//! that can trap return 1 on success and 0 on failure, and the compiled caller traps.

use crate::store::StoreOpaque;
use crate::vmoffsets::{VMCTX_INSTANCE_INDEX, VMCTX_STORE};

/// Identifies a libcall in relocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Libcall {
    MemoryGrow,
    MemoryFill,
    MemoryCopy,
    MemoryInit,
    DataDrop,
    TableGrow,
    TableFill,
    TableCopy,
    TableInit,
    ElemDrop,
    Throw,
    AtomicWait,
    GcIsSubtype,
    GcAlloc,
    GcArrayFill,
    GcArrayCopy,
    GcArrayNewData,
    GcArrayNewElem,
    GcArrayInitData,
    GcArrayInitElem,
}

impl Libcall {
    /// The address compiled code calls.
    pub fn address(self) -> usize {
        match self {
            Libcall::MemoryGrow => memory_grow as *const () as usize,
            Libcall::MemoryFill => memory_fill as *const () as usize,
            Libcall::MemoryCopy => memory_copy as *const () as usize,
            Libcall::MemoryInit => memory_init as *const () as usize,
            Libcall::DataDrop => data_drop as *const () as usize,
            Libcall::TableGrow => table_grow as *const () as usize,
            Libcall::TableFill => table_fill as *const () as usize,
            Libcall::TableCopy => table_copy as *const () as usize,
            Libcall::TableInit => table_init as *const () as usize,
            Libcall::ElemDrop => elem_drop as *const () as usize,
            Libcall::Throw => crate::vm::exit::throw as *const () as usize,
            Libcall::AtomicWait => atomic_wait as *const () as usize,
            Libcall::GcIsSubtype => crate::vm::gc::gc_is_subtype as *const () as usize,
            Libcall::GcAlloc => crate::vm::exit::gc_alloc as *const () as usize,
            Libcall::GcArrayFill => crate::vm::gc::gc_array_fill as *const () as usize,
            Libcall::GcArrayCopy => crate::vm::gc::gc_array_copy as *const () as usize,
            Libcall::GcArrayNewData => crate::vm::exit::gc_array_new_data as *const () as usize,
            Libcall::GcArrayNewElem => crate::vm::exit::gc_array_new_elem as *const () as usize,
            Libcall::GcArrayInitData => crate::vm::gc::gc_array_init_data as *const () as usize,
            Libcall::GcArrayInitElem => crate::vm::gc::gc_array_init_elem as *const () as usize,
        }
    }
}

/// The store and instance index behind a vmctx.
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance whose store is not otherwise borrowed.
pub(super) unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreOpaque, usize) {
    // SAFETY: per the contract, the header fields hold the store pointer and instance index.
    unsafe {
        let store = *(vmctx.add(VMCTX_STORE as usize) as *const *mut StoreOpaque);
        let index = *(vmctx.add(VMCTX_INSTANCE_INDEX as usize) as *const u64) as usize;
        (&mut *store, index)
    }
}

fn memory_index(store: &StoreOpaque, instance: usize, mem: u32) -> usize {
    store.instances[instance].memories[mem as usize].index as usize
}

fn table_index(store: &StoreOpaque, instance: usize, table: u32) -> usize {
    store.instances[instance].tables[table as usize].index as usize
}

/// `memory.grow`: the old size in pages, or `u64::MAX` (-1) on failure.
unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let m = memory_index(store, instance, mem);
    store.memories[m].grow(delta).unwrap_or(u64::MAX)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let m = memory_index(store, instance, mem);
    let data = store.memories[m].data_mut();
    match range(dst, len, data.len()) {
        Some(r) => {
            data[r].fill(val as u8);
            1
        }
        None => 0,
    }
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let d = memory_index(store, instance, dst_mem);
    let s = memory_index(store, instance, src_mem);
    let (src_ptr, src_len) = {
        let data = store.memories[s].data();
        (data.as_ptr(), data.len())
    };
    let dst_data = store.memories[d].data_mut();
    let (Some(sr), Some(dr)) = (range(src, len, src_len), range(dst, len, dst_data.len())) else {
        return 0;
    };
    // SAFETY: both ranges were checked against their memories; `copy` allows overlap when
    // source and destination are the same memory.
    unsafe {
        std::ptr::copy(
            src_ptr.add(sr.start),
            dst_data.as_mut_ptr().add(dr.start),
            sr.len(),
        )
    };
    1
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let module = store.instances[instance].module.clone();
    let bytes: &[u8] = if store.instances[instance].data_dropped[data as usize] {
        &[]
    } else {
        module.info().data_bytes(data as usize)
    };
    let m = memory_index(store, instance, mem);
    let mem_data = store.memories[m].data_mut();
    let (Some(sr), Some(dr)) = (
        range(src as u64, len as u64, bytes.len()),
        range(dst, len as u64, mem_data.len()),
    ) else {
        return 0;
    };
    mem_data[dr].copy_from_slice(&bytes[sr]);
    1
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].data_dropped[data as usize] = true;
}

/// `table.grow`: the old size, or `u64::MAX` (-1) on failure.
unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u64) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let t = table_index(store, instance, table);
    store.tables[t].grow(delta, init).unwrap_or(u64::MAX)
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, val: u64, len: u64) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let t = table_index(store, instance, table);
    store.tables[t].fill(dst, val, len).is_some() as u32
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let d = table_index(store, instance, dst_table);
    let s = table_index(store, instance, src_table);
    if d == s {
        return store.tables[d].copy_within(dst, src, len).is_some() as u32;
    }
    let Some(items) = store.tables[s].slice(src, len).map(|s| s.to_vec()) else {
        return 0;
    };
    store.tables[d].init(dst, &items).is_some() as u32
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let t = table_index(store, instance, table);
    let items = &store.instances[instance].elements[elem as usize];
    let Some(r) = range(src as u64, len as u64, items.len()) else {
        return 0;
    };
    let items = items[r].to_vec();
    store.tables[t].init(dst, &items).is_some() as u32
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].elements[elem as usize] = Vec::new();
}

/// `memory.atomic.wait32/64` on a shared memory, after compiled code compared the value
/// (`matched` is 1 if it equals the expected one). This runtime runs one agent per store and
/// nothing else can reach its memories, so no `notify` can ever arrive: a matching wait sleeps
/// for `timeout` nanoseconds and returns 2 ("timed-out"); a negative (infinite) timeout would
/// never end and returns 0, on which the caller traps ("atomic wait would block forever").
/// Returns 1 ("not-equal") if the value did not match.
extern "C" fn atomic_wait(_vmctx: *mut u8, matched: u32, timeout: i64) -> u32 {
    if matched == 0 {
        return 1;
    }
    if timeout < 0 {
        return 0;
    }
    if timeout > 0 {
        std::thread::sleep(std::time::Duration::from_nanos(timeout as u64));
    }
    2
}

fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}

/// Addresses of Cranelift's own libcalls (used when the host lacks an instruction).
pub fn cranelift_libcall(call: cranelift_codegen::ir::LibCall) -> Option<usize> {
    use cranelift_codegen::ir::LibCall as L;
    extern "C" fn floorf(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn floor(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn ceilf(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn ceil(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn truncf(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn trunc(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearestf(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn nearest(x: f64) -> f64 {
        x.round_ties_even()
    }
    extern "C" fn fmaf(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    extern "C" fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    Some(match call {
        L::FloorF32 => floorf as *const () as usize,
        L::FloorF64 => floor as *const () as usize,
        L::CeilF32 => ceilf as *const () as usize,
        L::CeilF64 => ceil as *const () as usize,
        L::TruncF32 => truncf as *const () as usize,
        L::TruncF64 => trunc as *const () as usize,
        L::NearestF32 => nearestf as *const () as usize,
        L::NearestF64 => nearest as *const () as usize,
        L::FmaF32 => fmaf as *const () as usize,
        L::FmaF64 => fma as *const () as usize,
        _ => return None,
    })
}
