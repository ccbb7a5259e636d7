//! Phase 6, vm: functions compiled code calls for operations too large to inline (memory and
//! table growth, bulk memory, bulk table operations). Each takes the caller's vmctx; those
//! that can trap return 1 on success and 0 on failure, and the compiled caller traps. The
//! growth libcalls go through the running store (`VMStore`), whose resource limiter decides;
//! they return the old size, -1, or `GROW_ERROR` (the compiled caller traps).

use crate::compile::RelocTarget;
use crate::libcall::{foreach_libcall, rust_type, Libcall};
use crate::vm::store::{from_vmctx, StoreState};
use crate::vm::thread::grow_running_store;
use crate::vm::{parking, shared_memory};

mod continuations;
mod exceptions;
mod exit;
pub mod gc;

use continuations::{cont_bind, cont_new};
// The libcalls that may collect are entered through their exit shims.
use exit::{
    gc_alloc, gc_array_new_data, gc_array_new_elem, resume, resume_throw, suspend, switch, throw,
    unwind,
};
use gc::{gc_array_copy, gc_array_fill, gc_array_init_data, gc_array_init_elem, gc_is_subtype};

macro_rules! address_table {
    ($(
        $(#[$doc:meta])*
        $name:ident: $variant:ident($($param:ident: $ty:ident),*) $(-> $ret:ident)?;
    )*) => {
        /// The address compiled code calls for `call`. Each implementation is bound to a
        /// function pointer of the type its entry in the list declares, so an implementation
        /// that disagrees with the CLIF signature does not compile.
        pub fn address(call: Libcall) -> usize {
            match call {
                $(Libcall::$variant => {
                    let f: unsafe extern "C" fn(*mut u8 $(, rust_type!($ty))*) $(-> rust_type!($ret))? = $name;
                    f as usize
                })*
            }
        }
    };
}

foreach_libcall!(address_table);

/// The store state and instance index behind a libcall's vmctx.
///
/// # Safety
/// As [`from_vmctx`]: `vmctx` is the calling compiled code's own vmctx.
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreState, usize) {
    // SAFETY: per the contract.
    unsafe { from_vmctx(vmctx) }
}

/// `memory.grow`: the old size in pages, `u64::MAX` (-1) on failure, or `GROW_ERROR`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    let (store_id, m) = {
        // SAFETY: called from compiled code with its own vmctx. The borrow of the store ends
        // here, before the store is reached again through the call state.
        let (store, instance) = unsafe { context(vmctx) };
        (store.id, store.memory_index(instance, mem))
    };
    grow_running_store(store_id, |store| store.memory_grow(m, delta))
}

/// `memory.fill`: 0 if the range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let m = store.memory_index(instance, mem);
    let (base, size) = store.memories[m].raw();
    let Some(r) = range(dst, len, size as usize) else {
        return 0;
    };
    // SAFETY: the range was checked against the memory's length and stays committed (memories
    // never shrink). No Rust reference to the bytes is made: another thread may access a
    // shared memory meanwhile (a guest data race, which the wasm memory model allows).
    unsafe { std::ptr::write_bytes(base.add(r.start), val as u8, r.len()) };
    1
}

/// `memory.copy` (the ranges may overlap): 0 if either is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
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
    let d = store.memory_index(instance, dst_mem);
    let s = store.memory_index(instance, src_mem);
    let (src_base, src_len) = store.memories[s].raw();
    let (dst_base, dst_len) = store.memories[d].raw();
    let (Some(sr), Some(dr)) = (
        range(src, len, src_len as usize),
        range(dst, len, dst_len as usize),
    ) else {
        return 0;
    };
    // SAFETY: both ranges were checked against their memories' lengths and stay committed;
    // `copy` allows overlap when source and destination are the same memory. No Rust
    // reference is made (shared memories may be accessed by other threads meanwhile).
    unsafe { std::ptr::copy(src_base.add(sr.start), dst_base.add(dr.start), sr.len()) };
    1
}

/// `memory.init`: 0 if either range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
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
    let info = store.instances[instance].info.clone();
    let bytes: &[u8] = if store.instances[instance].data_dropped[data as usize] {
        &[]
    } else {
        info.data_bytes(data as usize)
    };
    let m = store.memory_index(instance, mem);
    let Some(sr) = range(src as u64, len as u64, bytes.len()) else {
        return 0;
    };
    store.memories[m].write(dst, &bytes[sr]) as u32
}

/// `data.drop`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].data_dropped[data as usize] = true;
}

/// `table.grow`: the old size, `u64::MAX` (-1) on failure, or `GROW_ERROR`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u64) -> u64 {
    let (store_id, t) = {
        // SAFETY: as in `memory_grow`.
        let (store, instance) = unsafe { context(vmctx) };
        (store.id, store.table_index(instance, table))
    };
    grow_running_store(store_id, |store| store.table_grow(t, delta, init))
}

/// `table.fill`: 0 if the range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, val: u64, len: u64) -> u32 {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let t = store.table_index(instance, table);
    store.tables[t].fill(dst, val, len).is_some() as u32
}

/// `table.copy`: 0 if either range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
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
    let d = store.table_index(instance, dst_table);
    let s = store.table_index(instance, src_table);
    if d == s {
        return store.tables[d].copy_within(dst, src, len).is_some() as u32;
    }
    let Some(items) = store.tables[s].slice(src, len).map(|s| s.to_vec()) else {
        return 0;
    };
    store.tables[d].init(dst, &items).is_some() as u32
}

/// `table.init`: 0 if either range is out of bounds.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
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
    let t = store.table_index(instance, table);
    let items = &store.instances[instance].elements[elem as usize];
    let Some(r) = range(src as u64, len as u64, items.len()) else {
        return 0;
    };
    let items = items[r].to_vec();
    store.tables[t].init(dst, &items).is_some() as u32
}

/// `elem.drop`.
///
/// # Safety
/// Called by compiled code only, with its own vmctx (the contract of
/// [`from_vmctx`](crate::vm::store::from_vmctx)).
unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called from compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].elements[elem as usize] = Vec::new();
}

/// `memory.atomic.wait32/64` on a shared memory. Compiled code checked alignment and bounds
/// (`addr` is the native address of the cell) and passes the expected value zero-extended;
/// `wide` is 1 for `wait64`. Blocks until a notify of the cell or `timeout` nanoseconds
/// (negative: no limit); returns 0 ("ok"), 1 ("not-equal") or 2 ("timed-out").
///
/// # Safety
/// Called by compiled code only, with its own vmctx and the native address of an
/// aligned cell inside one of its shared memories.
unsafe extern "C" fn atomic_wait(
    _vmctx: *mut u8,
    addr: u64,
    expected: u64,
    timeout: i64,
    wide: u32,
) -> u32 {
    let cell = addr as usize as *mut u8;
    let matches = || {
        // SAFETY: compiled code checked that the cell is aligned and inside the memory, which
        // the calling instance keeps alive and which never shrinks.
        unsafe {
            if wide != 0 {
                shared_memory::load64(cell) == expected
            } else {
                shared_memory::load32(cell) == expected as u32
            }
        }
    };
    parking::wait(cell as usize, matches, timeout)
}

/// `memory.atomic.notify` on a shared memory: wakes up to `count` waiters of the cell at the
/// native address `addr` (checked by compiled code); returns how many it woke.
extern "C" fn atomic_notify(_vmctx: *mut u8, addr: u64, count: u32) -> u32 {
    parking::notify(addr as usize, count)
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
        L::Memmove => libc::memmove as *const () as usize,
        L::Memset => libc::memset as *const () as usize,
        _ => return None,
    })
}

/// The address of a relocation target outside an image: the runtime's and Cranelift's
/// libcalls (`vm::host::resolve` adds the host trampolines' shim).
pub fn resolve(target: RelocTarget) -> Option<usize> {
    match target {
        RelocTarget::Func(_) => None,
        RelocTarget::Libcall(call) => Some(address(call)),
        RelocTarget::Cranelift(call) => cranelift_libcall(call),
        RelocTarget::HostShim => None,
    }
}
