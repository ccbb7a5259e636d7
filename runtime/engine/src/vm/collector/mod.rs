//! Phase 6, vm: allocation in a store's GC heap and the copying collector, which finds the
//! roots in the whole store state (`frames.rs`: the ones in wasm frames).
//!
//! A collection is a Cheney copy: every root (globals, tables, element segments, the
//! pending exception, host handles, libcall temporaries and the slots of wasm frames) is
//! forwarded — its object copied to the other space on first sight, leaving the new address
//! in the old header — then the copied objects are scanned in order, forwarding their
//! reference fields, until the scan pointer meets the allocation pointer. What was not
//! reached stays behind, cycles included, and the spaces swap roles. Large objects
//! (`LARGE_OBJECT` bytes or more) have mappings of their own: they are marked and scanned in
//! place, and the unmarked ones unmapped. The next threshold is twice the surviving bytes
//! (at least `MIN_THRESHOLD`, at most the limit), so the work per allocated byte stays
//! bounded as the live set grows.

pub mod frames;

use crate::vm::gc::heap::{
    align, header, GcHeap, ObjLayout, FORWARD_TAG, LARGE_OBJECT, MIN_THRESHOLD,
};
use crate::vm::gc::{struct_type_layout, DATA_OFFSET, HEADER_SIZE};
use crate::vm::store::StoreState;

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// The object alone is larger than the heap may ever be.
    TooLarge,
    /// The object does not fit beside the live ones within the heap limit (or the system
    /// refused the memory).
    OutOfMemory,
}

/// Allocates a zeroed object of type `type_index` (module-local) of the instance: a struct,
/// or an array of `len` elements. May collect.
pub fn alloc(
    store: &mut StoreState,
    instance: usize,
    type_index: u32,
    len: u32,
) -> Result<u64, AllocError> {
    let info = store.instances[instance].info.clone();
    let type_id = info.type_ids[type_index as usize];
    let ty = &info.types[type_index as usize];
    let (length, bytes) = match &ty.composite {
        crate::types::CompositeType::Struct(_) => (0, struct_type_layout(ty).1 as u64),
        crate::types::CompositeType::Array(f) => (len, len as u64 * f.storage.size() as u64),
        _ => unreachable!("validated: type {type_index} is a struct or array type"),
    };
    alloc_object(store, type_id, length, bytes)
}

/// Allocates an object of type word `ty` (a canonical type index or `EXN_TYPE`) and length
/// word `len` with `data` bytes after the header, zeroed; collects first if the threshold
/// is reached.
pub fn alloc_object(
    store: &mut StoreState,
    ty: u32,
    len: u32,
    data: u64,
) -> Result<u64, AllocError> {
    let size = (HEADER_SIZE as u64)
        .checked_add(data)
        .filter(|s| *s <= store.gc.limit() as u64)
        .ok_or(AllocError::TooLarge)?;
    let size = align(size as usize);
    if store.gc.inhibit == 0 && store.gc.zeal_says_collect() {
        collect(store, 0);
    }
    if size >= LARGE_OBJECT {
        return alloc_large(store, size, ty, len);
    }
    let at = match store.gc.bump(size) {
        Some(at) => at,
        None => {
            let room = if store.gc.inhibit == 0 && store.gc.used_range().end != 0 {
                collect(store, size)
            } else {
                // No collection possible (or nothing to collect yet): grow in place.
                let used = store.gc.used_range().len();
                store.gc.set_threshold(used.saturating_mul(2), size)
            };
            if !room {
                return Err(AllocError::OutOfMemory);
            }
            store.gc.bump(size).ok_or(AllocError::OutOfMemory)?
        }
    };
    // SAFETY: `bump` just handed out `[at, at + size)`.
    unsafe { store.gc.init_object(at, size, ty, len) };
    store.gc.stats.allocated_bytes += size as u64;
    Ok(at as u64)
}

/// `alloc` of a large object: a mapping of its own (zeroed), after a collection if enough
/// large objects were allocated since the last one or it does not fit otherwise.
fn alloc_large(store: &mut StoreState, size: usize, ty: u32, len: u32) -> Result<u64, AllocError> {
    let may_collect = store.gc.inhibit == 0;
    if may_collect && store.gc.large_wants_collection(size) {
        collect(store, 0);
    }
    let at = match store.gc.alloc_large(size, ty, len) {
        Some(at) => at,
        None if may_collect => {
            collect(store, 0);
            store
                .gc
                .alloc_large(size, ty, len)
                .ok_or(AllocError::OutOfMemory)?
        }
        None => return Err(AllocError::OutOfMemory),
    };
    store.gc.stats.allocated_bytes += size as u64;
    Ok(at as u64)
}

/// Collects the store's garbage, then makes room for `need` more bytes; false if they do
/// not fit within the limit. Does nothing (but make room) while collection is inhibited.
///
/// Wasm frames are found from the exits recorded in the store's limits: this must run in
/// host code that wasm of this store (if any runs) called through a recording path (a GC
/// libcall shim or a host trampoline).
pub fn collect(store: &mut StoreState, need: usize) -> bool {
    let used = store.gc.used_range();
    let nothing = used.end == 0 && store.gc.large.is_empty() && store.gc.host_data.is_empty();
    if store.gc.inhibit > 0 || nothing {
        return store.gc.set_threshold(used.len().saturating_mul(2), need);
    }
    let Some(to) = store.gc.copy_space(used.len()) else {
        return false;
    };
    let to_base = to.base();
    let StoreState {
        id,
        limits,
        tables,
        globals,
        gc_globals,
        instances,
        gc,
        continuations,
        ..
    } = store;
    let mut copier = Copier {
        heap: gc,
        from: used.clone(),
        to_base,
        free: to_base,
        large: Vec::new(),
    };
    for g in gc_globals.iter() {
        let g = &mut globals[*g as usize];
        let mut raw = g.bits() as u64;
        copier.visit(&mut raw);
        g.set_bits(raw as u128);
    }
    for t in tables.iter_mut().filter(|t| t.ty().element.is_gc_ref()) {
        t.elements_mut().iter_mut().for_each(|e| copier.visit(e));
    }
    for instance in instances.iter_mut() {
        for (seg, items) in instance.info.elements.iter().zip(&mut instance.elements) {
            if seg.ty.is_gc_ref() {
                items.iter_mut().for_each(|e| copier.visit(e));
            }
        }
    }
    copier.visit(&mut limits.pending_exception);
    let heap = copier.heap;
    heap.roots.borrow_mut().for_each_mut(|r| copier.visit(r));
    // SAFETY: the collector runs in host code called by this store's wasm (if any) through
    // a recording path (see above), on the thread running it; the visitor only forwards.
    unsafe {
        frames::for_each_frame_root(*id, limits, continuations.suspended_exits(), |slot| {
            let mut raw = slot.read();
            copier.visit(&mut raw);
            slot.write(raw);
        })
    };
    copier.scan();
    let live = copier.free - to_base;
    let heap = &mut store.gc;
    heap.flip(live, None);
    let large = heap.sweep_large();
    let dead_host_values = heap.host_data.sweep();
    heap.stats.collections += 1;
    heap.stats.live_bytes = (live + large) as u64;
    let target = live
        .saturating_mul(2)
        .saturating_add(need)
        .max(MIN_THRESHOLD);
    let room = heap.set_threshold(target, need);
    heap.trim_inactive(target);
    // Their `Drop` runs last, with the heap consistent again.
    drop(dead_host_values);
    room
}

/// Copies reachable objects out of `from` into the space at `to_base`, and marks the
/// reachable large objects.
struct Copier<'h> {
    heap: &'h GcHeap,
    from: std::ops::Range<usize>,
    to_base: usize,
    free: usize,
    /// Large objects marked but not scanned yet.
    large: Vec<usize>,
}

impl Copier<'_> {
    /// Forwards the reference in `slot`.
    fn visit(&mut self, slot: &mut u64) {
        *slot = self.forward(*slot);
    }

    /// The new address of the object `raw` refers to, copying it on first sight; other
    /// references (null, i31, host, function references) unchanged.
    fn forward(&mut self, raw: u64) -> u64 {
        let at = raw as usize;
        if raw & 3 == 2 {
            // A host reference: keep its host value, if it has one.
            self.heap.host_data.mark(raw);
            return raw;
        }
        if raw == 0 || !at.is_multiple_of(crate::vm::gc::heap::ALIGN) {
            return raw;
        }
        if !self.from.contains(&at) {
            if let Some(large) = self.heap.large.get(&at) {
                if !large.marked.replace(true) {
                    self.large.push(at);
                }
            }
            return raw;
        }
        // SAFETY: `at` is an object (or a copied one) in the used part of the from-space.
        let word = unsafe { (at as *const u64).read() };
        if word & FORWARD_TAG == FORWARD_TAG {
            return word & !FORWARD_TAG;
        }
        let (ty, len) = (word as u32, (word >> 32) as u32);
        let size = self.heap.size_of(ty, len);
        let to = self.free;
        // SAFETY: the to-space is committed for as many bytes as the from-space holds, and
        // `free` only advances by the sizes of from-space objects, each copied once; the
        // old object's header word is then overwritten with the forwarding record.
        unsafe {
            std::ptr::copy_nonoverlapping(at as *const u8, to as *mut u8, size);
            (at as *mut u64).write(to as u64 | FORWARD_TAG);
        }
        self.free += size;
        to as u64
    }

    /// Scans the copied objects in order and the marked large objects, forwarding their
    /// references, until no object is left unscanned.
    fn scan(&mut self) {
        let mut scan = self.to_base;
        loop {
            while scan < self.free {
                scan += self.scan_object(scan);
            }
            match self.large.pop() {
                Some(at) => {
                    self.scan_object(at);
                }
                None => break,
            }
        }
    }

    /// Forwards the references of the object at `at` (copied or large); returns its size.
    fn scan_object(&mut self, at: usize) -> usize {
        let heap = self.heap;
        // SAFETY: `at` is an object in the to-space or the large-object space.
        let (ty, len) = unsafe { header(at) };
        match heap.layout(ty, len) {
            ObjLayout::Fixed { size, refs } => {
                for off in refs.iter() {
                    self.visit_at(at + *off as usize);
                }
                *size as usize
            }
            ObjLayout::Array { elem_size, refs } => {
                if *refs {
                    for i in 0..len as usize {
                        self.visit_at(at + DATA_OFFSET as usize + 8 * i);
                    }
                }
                align(DATA_OFFSET as usize + len as usize * *elem_size as usize)
            }
        }
    }

    /// Forwards the reference stored at address `at` (inside a copied object).
    fn visit_at(&mut self, at: usize) {
        // SAFETY: `at` is a reference field of an object in the to-space (below `free`).
        unsafe {
            let slot = at as *mut u64;
            let raw = slot.read();
            slot.write(self.forward(raw));
        }
    }
}
