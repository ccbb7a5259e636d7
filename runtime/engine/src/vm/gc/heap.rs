//! Phase 6, vm: the memory of a store's GC heap — two semispaces, each reserved once at the
//! heap limit and committed as the heap grows — with bump allocation in the active one.
//!
//! Objects are 16-aligned and start with a 16-byte header (see `super`); the collector
//! (`collect.rs`) copies the live ones into the other space and the two swap roles.

use super::{DATA_OFFSET, DESCRIPTOR_OFFSET, HEADER_SIZE, LENGTH_OFFSET, TYPE_OFFSET};
use crate::types::{CompositeType, FuncType, StorageType, SubType};
use crate::vm::vmcontext::VMGcBump;

/// Objects are aligned (and sized) to this many bytes.
pub const ALIGN: usize = crate::vmoffsets::GC_ALIGN;
/// The low bits of the header word of an object the collector has copied (the rest is its
/// new address, which is 8-aligned); no type word has all three set (struct indices end in
/// `01`, array indices in `10`, `EXN_TYPE` in `011`).
pub const FORWARD_TAG: u64 = 0x7;
pub use crate::vmoffsets::EXN_TYPE;
/// The active space never starts smaller than this (a collection starts when it is full).
pub const MIN_THRESHOLD: usize = 4 << 20;
/// Commits and thresholds are rounded up to this.
const GRANULE: usize = 64 << 10;
/// Objects of at least this many bytes get a mapping of their own (the large-object space):
/// collections mark them in place instead of copying them, and free their mapping when
/// they die.
pub use crate::vmoffsets::LARGE_OBJECT;

/// How the collector measures and traces the objects of one type.
#[derive(Clone, Debug)]
pub enum ObjLayout {
    /// Structs and exceptions: the object's size (header included, aligned) and the
    /// offsets of the 8-byte GC references in it.
    Fixed { size: u32, refs: Box<[u32]> },
    /// Arrays: the element size and whether the elements are GC references.
    Array { elem_size: u32, refs: bool },
}

impl ObjLayout {
    /// The layout of objects of struct or array type `ty`; `None` for other types.
    pub fn of(ty: &SubType) -> Option<ObjLayout> {
        match &ty.composite {
            CompositeType::Struct(fields) => {
                let (offsets, data) = super::struct_layout(fields, ty.descriptor.is_some());
                let mut refs: Vec<u32> = fields
                    .iter()
                    .zip(offsets)
                    .filter(|(f, _)| is_gc_ref(f.storage))
                    .map(|(_, at)| at)
                    .collect();
                if ty.descriptor.is_some() {
                    refs.insert(0, DESCRIPTOR_OFFSET as u32);
                }
                Some(ObjLayout::Fixed {
                    size: align(HEADER_SIZE as usize + data as usize) as u32,
                    refs: refs.into(),
                })
            }
            CompositeType::Array(f) => Some(ObjLayout::Array {
                elem_size: f.storage.size(),
                refs: is_gc_ref(f.storage),
            }),
            _ => None,
        }
    }

    /// The layout of exceptions of a tag with signature `ty`.
    pub fn exception(ty: &FuncType) -> ObjLayout {
        let refs = (0u32..)
            .zip(ty.params())
            .filter(|(_, t)| t.is_gc_ref())
            .map(|(i, _)| DATA_OFFSET + 16 * i)
            .collect();
        ObjLayout::Fixed {
            size: DATA_OFFSET + 16 * ty.params().len() as u32,
            refs,
        }
    }
}

fn is_gc_ref(s: StorageType) -> bool {
    matches!(s, StorageType::Val(v) if v.is_gc_ref())
}

/// `n` rounded up to the object alignment.
pub fn align(n: usize) -> usize {
    n.next_multiple_of(ALIGN)
}

/// One semispace: an address range reserved at the heap limit, committed from its start.
pub struct Space {
    mem: region::Allocation,
    committed: usize,
    /// Everything from this offset up has not been written since it was committed, so it
    /// reads as zero: allocations there need no clearing (a large `array.new_default`
    /// touches no pages).
    fresh: usize,
}

impl Space {
    fn reserve(bytes: usize) -> Option<Space> {
        let mem = region::alloc(bytes.max(1), region::Protection::NONE).ok()?;
        Some(Space {
            mem,
            committed: 0,
            fresh: 0,
        })
    }

    /// Notes that `[base, base + end)` may have been written.
    fn written_up_to(&mut self, end: usize) {
        self.fresh = self.fresh.max(end);
    }

    pub fn base(&self) -> usize {
        self.mem.as_ptr::<u8>() as usize
    }

    fn reserved(&self) -> usize {
        self.mem.len()
    }

    /// Makes the first `bytes` of the space read+write; false if the system refuses.
    pub fn commit(&mut self, bytes: usize) -> bool {
        let bytes = bytes.next_multiple_of(GRANULE).min(self.reserved());
        if bytes <= self.committed {
            return true;
        }
        // SAFETY: `[base + committed, base + bytes)` lies inside this space's reservation,
        // which only the heap uses; making it read+write exposes zeroed anonymous pages.
        let ok = unsafe {
            region::protect(
                (self.base() + self.committed) as *const u8,
                bytes - self.committed,
                region::Protection::READ_WRITE,
            )
        }
        .is_ok();
        if ok {
            self.committed = bytes;
        }
        ok
    }

    /// Returns the pages above the first `bytes` to the system and makes them inaccessible,
    /// so that a stale reference into them faults instead of reading old objects.
    pub fn decommit_above(&mut self, bytes: usize) {
        let bytes = bytes.next_multiple_of(GRANULE).min(self.committed);
        if bytes == self.committed {
            return;
        }
        let (start, len) = (self.base() + bytes, self.committed - bytes);
        // SAFETY: the range lies inside this space's reservation and holds no live object
        // (the caller only decommits what lies past the live data); `MADV_DONTNEED` drops the
        // pages (they read as zero when committed again).
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
            let _ = region::protect(start as *const u8, len, region::Protection::NONE);
        }
        self.committed = bytes;
        self.fresh = self.fresh.min(bytes);
    }
}

/// An object of the large-object space.
pub struct LargeObject {
    mem: region::Allocation,
    /// Reached by the collection under way.
    pub(crate) marked: std::cell::Cell<bool>,
}

/// The GC heap of one store.
pub struct GcHeap {
    /// The bump pointer and allocation threshold of the active space; compiled code reaches
    /// it through `VMRuntimeLimits::gc_bump`.
    bump: Box<VMGcBump>,
    /// The allocation threshold (`bump.end`, unless zeal hides it from compiled code).
    end: usize,
    /// Reserved on the first allocation.
    spaces: [Option<Space>; 2],
    active: usize,
    /// Most bytes one space may hold (`Config::gc_heap_limit`).
    limit: usize,
    /// Large objects by address.
    pub(crate) large: std::collections::BTreeMap<usize, LargeObject>,
    /// Bytes the large objects' mappings take.
    large_bytes: usize,
    /// Bytes of large objects allocated since the last collection.
    large_since_gc: usize,
    /// Layouts by canonical type slot (`id >> 2`).
    layouts: Vec<Option<ObjLayout>>,
    /// Exception layouts by tag store index.
    exn_layouts: Vec<Option<ObjLayout>>,
    /// While positive, allocation grows the heap instead of collecting (constant
    /// expressions keep references where the collector cannot see them).
    pub(crate) inhibit: u32,
    /// `Config::gc_zeal_alloc_counter`: collect before every n-th allocation.
    zeal: Option<(u32, u32)>,
    /// Host handles and libcall temporaries (see `roots.rs`).
    pub(crate) roots: std::cell::RefCell<super::roots::Roots>,
    /// Statistics of the collections so far.
    pub(crate) stats: GcStats,
    /// The host values of `externref`s made by the host (see `host_data.rs`).
    pub host_data: super::host_data::HostData,
}

/// What the collector has done so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct GcStats {
    /// Collections run.
    pub collections: u64,
    /// Bytes of objects that survived the last collection.
    pub live_bytes: u64,
    /// Bytes of objects allocated so far.
    pub allocated_bytes: u64,
}

impl GcHeap {
    /// An empty heap whose spaces may grow to `limit` bytes each; `zeal` collects before
    /// every n-th allocation (for testing).
    pub fn new(limit: usize, zeal: Option<u32>) -> GcHeap {
        GcHeap {
            bump: Box::default(),
            end: 0,
            spaces: [None, None],
            large: Default::default(),
            large_bytes: 0,
            large_since_gc: 0,
            active: 0,
            limit: align(limit),
            layouts: Vec::new(),
            exn_layouts: Vec::new(),
            inhibit: 0,
            zeal: zeal.filter(|n| *n > 0).map(|n| (n, n)),
            roots: Default::default(),
            stats: GcStats::default(),
            host_data: Default::default(),
        }
    }

    /// Where compiled code finds the bump pointer.
    pub fn bump_ptr(&self) -> *const VMGcBump {
        &*self.bump
    }

    /// Most bytes of objects the heap may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Records the layout of objects of canonical type `id` (struct or array types).
    pub fn register_type(&mut self, id: u32, ty: &SubType) {
        let slot = (id >> 2) as usize;
        if self.layouts.get(slot).is_some_and(Option::is_some) {
            return;
        }
        if let Some(layout) = ObjLayout::of(ty) {
            if self.layouts.len() <= slot {
                self.layouts.resize(slot + 1, None);
            }
            self.layouts[slot] = Some(layout);
        }
    }

    /// Records the layout of exceptions of tag `tag` (a store index) with signature `ty`.
    pub fn register_tag(&mut self, tag: u32, ty: &FuncType) {
        let slot = tag as usize;
        if self.exn_layouts.get(slot).is_some_and(Option::is_some) {
            return;
        }
        if self.exn_layouts.len() <= slot {
            self.exn_layouts.resize(slot + 1, None);
        }
        self.exn_layouts[slot] = Some(ObjLayout::exception(ty));
    }

    /// The layout of an object with header words `ty` and `len`.
    pub fn layout(&self, ty: u32, len: u32) -> &ObjLayout {
        let layout = if ty == EXN_TYPE {
            self.exn_layouts.get(len as usize)
        } else {
            self.layouts.get((ty >> 2) as usize)
        };
        layout
            .and_then(Option::as_ref)
            .expect("every object's type is registered before it is allocated")
    }

    /// The size in bytes (header included, aligned) of an object with header `ty`, `len`.
    pub fn size_of(&self, ty: u32, len: u32) -> usize {
        match self.layout(ty, len) {
            ObjLayout::Fixed { size, .. } => *size as usize,
            ObjLayout::Array { elem_size, .. } => {
                align(DATA_OFFSET as usize + len as usize * *elem_size as usize)
            }
        }
    }

    /// The active space, if the heap has been used.
    pub(crate) fn active_space(&self) -> Option<&Space> {
        self.spaces[self.active].as_ref()
    }

    /// `[start, next)` of the active space: where every live object lies.
    pub fn used_range(&self) -> std::ops::Range<usize> {
        match self.active_space() {
            Some(s) => s.base()..self.bump.next,
            None => 0..0,
        }
    }

    /// Whether the next allocation should collect first (`Config::gc_zeal_alloc_counter`).
    pub(crate) fn zeal_says_collect(&mut self) -> bool {
        let Some((period, left)) = &mut self.zeal else {
            return false;
        };
        *left -= 1;
        if *left == 0 {
            *left = *period;
            true
        } else {
            false
        }
    }

    /// Sets the allocation threshold. With `Config::gc_zeal_alloc_counter` compiled code
    /// sees none, so that every allocation comes to the libcall (and may collect).
    fn set_end(&mut self, end: usize) {
        self.end = end;
        self.bump.end = if self.zeal.is_some() { 0 } else { end };
    }

    /// Allocates `size` bytes (a multiple of `ALIGN`) below the threshold; `None` if they do not
    /// fit there. The memory is not cleared.
    pub fn bump(&mut self, size: usize) -> Option<usize> {
        let at = self.bump.next;
        let end = at.checked_add(size)?;
        if self.bump.next == 0 || end > self.end {
            return None;
        }
        self.bump.next = end;
        Some(at)
    }

    /// Moves the threshold of the active space so that at least `need` more bytes fit,
    /// aiming for `target` bytes in all (reserving the spaces on first use); false if
    /// `need` bytes cannot fit within the limit or the system refuses the memory.
    pub(crate) fn set_threshold(&mut self, target: usize, need: usize) -> bool {
        // Large objects count against the limit too.
        let limit = self.limit.saturating_sub(self.large_bytes);
        if self.spaces[self.active].is_none() {
            let Some(space) = Space::reserve(self.limit) else {
                return false;
            };
            self.bump.next = space.base();
            self.set_end(space.base());
            self.spaces[self.active] = Some(space);
        }
        let space = self.spaces[self.active].as_mut().expect("reserved above");
        let used = self.bump.next - space.base();
        let Some(min) = used.checked_add(need).filter(|m| *m <= limit) else {
            return false;
        };
        let size = target
            .max(min)
            .max(MIN_THRESHOLD)
            .next_multiple_of(GRANULE)
            .min(limit);
        if !space.commit(size) {
            // Committing the target failed: settle for what the allocation needs.
            if !space.commit(min) {
                return false;
            }
            let end = space.base() + min;
            self.set_end(end);
            return true;
        }
        let end = space.base() + size;
        self.set_end(end);
        true
    }

    /// The space the collector copies into, committed for `bytes` (reserved on first use).
    pub(crate) fn copy_space(&mut self, bytes: usize) -> Option<&mut Space> {
        let other = 1 - self.active;
        if self.spaces[other].is_none() {
            self.spaces[other] = Some(Space::reserve(self.limit)?);
        }
        let space = self.spaces[other].as_mut().expect("reserved above");
        space.commit(bytes).then_some(space)
    }

    /// Makes the other space active after a collection copied `live` bytes into it; the
    /// old space keeps only `keep` bytes committed (`None`: it stays as it is).
    pub(crate) fn flip(&mut self, live: usize, keep: Option<usize>) {
        let old = self.active;
        let used = self.used_range().len();
        if let Some(space) = self.spaces[old].as_mut() {
            space.written_up_to(used);
        }
        self.active = 1 - old;
        let space = self.spaces[self.active].as_mut().expect("copied into");
        space.written_up_to(live);
        let base = space.base();
        self.bump.next = base + live;
        self.set_end(self.bump.next);
        if let (Some(keep), Some(space)) = (keep, self.spaces[old].as_mut()) {
            space.decommit_above(keep);
        }
    }

    /// Keeps at most `keep` bytes committed in the inactive space (none with
    /// `Config::gc_zeal_alloc_counter`, so that a stale reference into it faults).
    pub(crate) fn trim_inactive(&mut self, keep: usize) {
        let zeal = self.zeal.is_some();
        if let Some(space) = self.spaces[1 - self.active].as_mut() {
            if zeal {
                space.decommit_above(0);
            } else if space.committed > keep.saturating_mul(2) {
                space.decommit_above(keep);
            }
        }
    }

    /// Writes a new object's header at `at` and zeroes the `size - 8` bytes after it (those
    /// not known to be zero already).
    ///
    /// # Safety
    /// `[at, at + size)` must be memory just returned by [`GcHeap::bump`].
    pub unsafe fn init_object(&mut self, at: usize, size: usize, ty: u32, len: u32) {
        let space = self.spaces[self.active].as_mut().expect("allocated in");
        let (start, end) = (at - space.base(), at - space.base() + size);
        // Compiled code bump-allocates below `at` without telling `fresh`.
        space.written_up_to(start);
        let header = HEADER_SIZE as usize;
        let dirty_end = end.min(space.fresh.max(start + header));
        space.written_up_to(end);
        // SAFETY: per the contract the range is committed heap memory no object uses yet;
        // past `dirty_end` it has not been written since it was committed (zero).
        unsafe {
            let p = at as *mut u8;
            (p.add(TYPE_OFFSET as usize) as *mut u32).write(ty);
            (p.add(LENGTH_OFFSET as usize) as *mut u32).write(len);
            std::ptr::write_bytes(p.add(header), 0, dirty_end - start - header);
        }
    }

    /// Whether `raw` is the address of an object (of the active space or a large one).
    fn is_object(&self, raw: u64) -> bool {
        let (at, range) = (raw as usize, self.used_range());
        at.is_multiple_of(ALIGN) && (range.contains(&at) || self.large.contains_key(&at))
    }

    /// Whether a large object of `size` bytes should wait for a collection first: the large
    /// objects allocated since the last one reach the live data it left (at least
    /// `MIN_THRESHOLD`), so that dead ones are freed as often as the live set allows.
    pub(crate) fn large_wants_collection(&self, size: usize) -> bool {
        let live = self.stats.live_bytes as usize;
        self.large_since_gc.saturating_add(size) > live.max(MIN_THRESHOLD)
    }

    /// Maps a zeroed large object of `size` bytes with header `ty`, `len`; `None` if it does
    /// not fit beside the live data within the limit or the system refuses the memory.
    pub(crate) fn alloc_large(&mut self, size: usize, ty: u32, len: u32) -> Option<usize> {
        let small = self.used_range().len();
        let total = small.checked_add(self.large_bytes)?.checked_add(size)?;
        if total > self.limit {
            return None;
        }
        let mem = region::alloc(size, region::Protection::READ_WRITE).ok()?;
        let at = mem.as_ptr::<u8>() as usize;
        // SAFETY: a fresh read+write mapping of at least `size` (>= 8) zeroed bytes.
        unsafe {
            let p = at as *mut u8;
            (p.add(TYPE_OFFSET as usize) as *mut u32).write(ty);
            (p.add(LENGTH_OFFSET as usize) as *mut u32).write(len);
        }
        self.large_bytes += mem.len();
        self.large_since_gc += mem.len();
        self.large.insert(
            at,
            LargeObject {
                mem,
                marked: std::cell::Cell::new(false),
            },
        );
        Some(at)
    }

    /// After a collection: unmaps the large objects it did not reach, clears the marks;
    /// returns the bytes of the survivors.
    pub(crate) fn sweep_large(&mut self) -> usize {
        self.large.retain(|_, o| o.marked.replace(false));
        self.large_bytes = self.large.values().map(|o| o.mem.len()).sum();
        self.large_since_gc = 0;
        self.large_bytes
    }

    /// The whole object `raw` as bytes, if `raw` is an object of this heap.
    pub fn object(&self, raw: u64) -> Option<&[u8]> {
        if !self.is_object(raw) {
            return None;
        }
        // SAFETY: `raw` lies in the used part of the active space, where every 16-aligned
        // address a reference holds is the start of an object with a valid header.
        let (ty, len) = unsafe { header(raw as usize) };
        let size = self.size_of(ty, len);
        // SAFETY: the object's `size` bytes are committed heap memory; the borrow of `self`
        // keeps them from being moved or reused (the collector needs `&mut`).
        Some(unsafe { std::slice::from_raw_parts(raw as usize as *const u8, size) })
    }

    /// The whole object `raw` as mutable bytes, if `raw` is an object of this heap.
    pub fn object_mut(&mut self, raw: u64) -> Option<&mut [u8]> {
        let len = self.object(raw)?.len();
        // SAFETY: as in `object`; the mutable borrow of `self` makes the access exclusive on
        // the host side (compiled code does not run while the host holds it).
        Some(unsafe { std::slice::from_raw_parts_mut(raw as usize as *mut u8, len) })
    }

    /// The type word of object `raw` (a canonical type index, or [`EXN_TYPE`]).
    pub fn type_id(&self, raw: u64) -> Option<u32> {
        let o = self.object(raw)?;
        Some(u32::from_le_bytes(o[0..4].try_into().unwrap()))
    }

    /// The number of elements of array `raw`.
    pub fn array_len(&self, raw: u64) -> Option<u32> {
        let o = self.object(raw)?;
        Some(u32::from_le_bytes(o[4..8].try_into().unwrap()))
    }

    /// Writes the low `size` bytes of `bits` at `offset` of object `raw`.
    pub fn write(&mut self, raw: u64, offset: u32, size: u32, bits: u128) -> Option<()> {
        let o = self.object_mut(raw)?;
        let bytes = o.get_mut(offset as usize..(offset + size) as usize)?;
        bytes.copy_from_slice(&bits.to_le_bytes()[..size as usize]);
        Some(())
    }

    /// The bytes of elements `[start, start + len)` of array `raw` with elements of `size`
    /// bytes, if the array has them.
    pub fn elements_mut(&mut self, raw: u64, start: u32, len: u32, size: u32) -> Option<&mut [u8]> {
        let count = self.array_len(raw)?;
        let end = start.checked_add(len).filter(|e| *e <= count)?;
        let o = self.object_mut(raw)?;
        let from = DATA_OFFSET as usize + start as usize * size as usize;
        o.get_mut(from..DATA_OFFSET as usize + end as usize * size as usize)
    }
}

/// The type and length words of the object at `at`.
///
/// # Safety
/// `at` must be the address of an object (or a copied one) in committed heap memory.
pub unsafe fn header(at: usize) -> (u32, u32) {
    // SAFETY: per the contract the header's 8 bytes are readable.
    unsafe {
        let p = at as *const u8;
        (
            (p.add(TYPE_OFFSET as usize) as *const u32).read(),
            (p.add(LENGTH_OFFSET as usize) as *const u32).read(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::CanonicalKind;

    #[test]
    fn no_type_word_looks_forwarded() {
        for slot in 0..64u32 {
            for kind in [CanonicalKind::Struct, CanonicalKind::Array] {
                let id = slot << 2 | kind as u32;
                assert_ne!(id as u64 & FORWARD_TAG, FORWARD_TAG);
            }
        }
        assert_ne!(EXN_TYPE as u64 & FORWARD_TAG, FORWARD_TAG);
        // Object addresses leave the tag's bits free.
        assert_eq!(ALIGN as u64 & FORWARD_TAG, 0);
        assert!(ALIGN as u64 > FORWARD_TAG);
    }
}
