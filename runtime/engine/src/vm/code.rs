//! Phase 6, vm: executable code and the code registry. An image from `link` is copied into
//! fresh pages (or, loaded from an artifact file, mapped privately from it), patched at its
//! final address, then published read+execute once (pages are never writable and
//! executable at the same time); while alive, its trap sites and function
//! ranges are registered for the signal handler and for backtraces.

use crate::compile::RelocTarget;
use crate::error::{Error, Result};
use crate::link::{CodeBytes, Image};
use crate::translate::inline::INLINED;
use crate::trap::{FrameInfo, TrapCode};
use crate::vm::mapped_file::FileMapping;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// A block of published (read+execute) machine code: fresh pages the code was copied into,
/// or a private mapping of the artifact file it lies in.
struct CodeMemory {
    pages: Pages,
    len: usize,
}

/// The pages of a [`CodeMemory`], unmapped when dropped.
enum Pages {
    Fresh(region::Allocation),
    Mapped(FileMapping),
}

// SAFETY: the memory is immutable once published; sharing read-only code between threads is fine.
unsafe impl Send for CodeMemory {}
// SAFETY: as above, nothing mutates the code after `publish`.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Puts `code` in pages of its own, lets `patch` fix it up at its final address, then
    /// makes the pages read+execute. Code that lies at a page-aligned offset of a mapped
    /// artifact file is mapped from the file (private: patching copies only the pages it
    /// writes); other code is copied into fresh pages.
    fn publish(
        code: &CodeBytes,
        patch: impl FnOnce(&mut [u8], usize) -> Result<()>,
    ) -> Result<CodeMemory> {
        let len = code.len().max(1);
        let memory = match code.in_file() {
            Some((file, offset)) if offset % region::page::size() == 0 && !code.is_empty() => {
                let map = FileMapping::new(file, offset, code.len(), true)
                    .map_err(|e| Error::Compile(format!("cannot map code memory: {e}")))?;
                CodeMemory {
                    pages: Pages::Mapped(map),
                    len,
                }
            }
            _ => {
                let mut alloc = region::alloc(len, region::Protection::READ_WRITE)
                    .map_err(|e| Error::Compile(format!("cannot allocate code memory: {e}")))?;
                let ptr = alloc.as_mut_ptr::<u8>();
                // SAFETY: `alloc` is a fresh read+write mapping of at least `len` bytes,
                // owned here.
                unsafe { std::slice::from_raw_parts_mut(ptr, code.len()) }.copy_from_slice(code);
                CodeMemory {
                    pages: Pages::Fresh(alloc),
                    len,
                }
            }
        };
        let ptr = memory.ptr();
        // SAFETY: `ptr` is a read+write mapping of at least `code.len()` bytes owned by
        // `memory` and not yet published, so nothing else refers to it.
        let buf = unsafe { std::slice::from_raw_parts_mut(ptr, code.len()) };
        patch(buf, ptr as usize)?;
        // SAFETY: the range is exactly our mapping; nothing else refers to it yet.
        unsafe { region::protect(ptr, memory.len, region::Protection::READ_EXECUTE) }
            .map_err(|e| Error::Compile(format!("cannot make code executable: {e}")))?;
        Ok(memory)
    }

    fn ptr(&self) -> *mut u8 {
        match &self.pages {
            Pages::Fresh(alloc) => alloc.as_ptr::<u8>().cast_mut(),
            Pages::Mapped(map) => map.as_ptr(),
        }
    }

    fn start(&self) -> usize {
        self.ptr() as usize
    }
}

/// Names used in backtraces.
#[derive(Default)]
pub struct CodeNames {
    /// The module's name (name section).
    pub module_name: Option<String>,
    /// Function names by function index (name section).
    pub func_names: Arc<HashMap<u32, String>>,
}

/// What the signal handler and backtraces need to know about one code object.
struct CodeInfo {
    start: usize,
    end: usize,
    /// The unpatched image: its trap sites (sorted), function ranges and stack maps.
    image: Arc<Image>,
    names: CodeNames,
}

static REGISTRY: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, info) = registry.range(..=pc).next_back()?;
    (pc < info.end).then(|| info.clone())
}

/// The trap recorded at `pc`, if `pc` is a trap site of compiled code.
pub fn trap_code_at(pc: usize) -> Option<TrapCode> {
    let info = lookup(pc)?;
    let offset = (pc - info.start) as u32;
    let traps = &info.image.traps;
    let i = traps.binary_search_by_key(&offset, |t| t.0).ok()?;
    Some(traps[i].1)
}

/// Whether `pc` lies in compiled code.
pub fn is_wasm_code(pc: usize) -> bool {
    lookup(pc).is_some()
}

/// For a return address `pc` into compiled code: the frame size of the calling function
/// (frame pointer minus stack pointer at the call), with `slots` set to the stack-pointer
/// offsets of the GC references live across the call (none if it has no stack map). `None`
/// if `pc` is not in compiled code.
pub fn stack_map(pc: usize, slots: &mut Vec<u32>) -> Option<u32> {
    let info = lookup(pc)?;
    slots.clear();
    let offset = (pc - info.start) as u32;
    let image = &info.image;
    let Ok(i) = image.stack_maps.binary_search_by_key(&offset, |m| m.0) else {
        return Some(0);
    };
    let (_, span, range) = &image.stack_maps[i];
    slots.extend_from_slice(&image.stack_slots[range.start as usize..range.end as usize]);
    Some(*span)
}

/// What the unwinder finds at a return address (`vm/libcalls/exceptions.rs`).
pub enum CallSite {
    /// Not compiled code: the host's entry into wasm.
    Host,
    /// A call without a handler.
    Plain,
    /// A `try_call`.
    Handler {
        /// The handler's address.
        pc: usize,
        /// The stack pointer to resume it with.
        sp: usize,
    },
}

/// The call site return address `pc` belongs to, given the calling frame's frame pointer
/// `fp`.
pub fn call_site(pc: usize, fp: usize) -> CallSite {
    let Some(info) = lookup(pc) else {
        return CallSite::Host;
    };
    let offset = (pc - info.start) as u32;
    let handlers = &info.image.handlers;
    match handlers.binary_search_by_key(&offset, |h| h.0) {
        Ok(i) => {
            let (_, handler, frame) = handlers[i];
            CallSite::Handler {
                pc: info.start + handler as usize,
                sp: fp - frame as usize,
            }
        }
        Err(_) => CallSite::Plain,
    }
}

/// Frame descriptions for the program counters of a backtrace (trampolines are left out).
pub fn frames(pcs: &[usize]) -> Vec<FrameInfo> {
    let mut frames = Vec::new();
    for &pc in pcs {
        let Some(info) = lookup(pc) else { continue };
        let offset = (pc - info.start) as u32;
        let Some(func) = info
            .image
            .funcs
            .iter()
            .find(|f| f.start <= offset && offset < f.end)
        else {
            continue;
        };
        let rel = offset - func.start;
        let i = func.srclocs.partition_point(|s| s.0 <= rel);
        let mut loc = i.checked_sub(1).map(|i| func.srclocs[i].1);
        let frame = |func_index: u32, module_offset: Option<u32>| FrameInfo {
            module_name: info.names.module_name.clone(),
            func_index,
            func_name: info.names.func_names.get(&func_index).cloned(),
            module_offset: module_offset.map(|o| o as usize),
        };
        if let Some(l) = loc.filter(|l| l & INLINED != 0) {
            // An operator of an inlined callee: its frame, then the caller's at the call.
            let inlined = func.inlined.get((l & !INLINED) as usize);
            if let Some(site) = inlined {
                frames.push(frame(site.callee, Some(site.offset)));
            }
            loc = inlined.map(|site| site.call_offset);
        }
        frames.push(frame(func.func_index, loc));
    }
    frames
}

/// Published code of one module (or of a trampoline), registered while alive.
pub struct CodeObject {
    memory: CodeMemory,
    image: Arc<Image>,
}

impl CodeObject {
    /// Publishes `image`: copies it into executable memory, patches its relocations there
    /// (targets outside the image at the addresses `resolve` gives: `vm::host::resolve`)
    /// and registers its trap sites. The image is kept, unpatched (`Module::serialize`
    /// writes it out).
    pub fn publish(
        image: Arc<Image>,
        names: CodeNames,
        resolve: fn(RelocTarget) -> Option<usize>,
    ) -> Result<CodeObject> {
        let memory = CodeMemory::publish(&image.code, |code, base| {
            image.patch(code, base, super::arch::write_reloc, resolve)
        })?;
        let start = memory.start();
        let info = CodeInfo {
            start,
            end: start + image.code.len().max(1),
            image: image.clone(),
            names,
        };
        REGISTRY
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(start, Arc::new(info));
        Ok(CodeObject { memory, image })
    }

    /// The address of the image's first byte.
    pub fn start(&self) -> usize {
        self.memory.start()
    }

    /// The image this code was published from, unpatched.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// The image this code was published from, shared.
    pub fn image_arc(&self) -> Arc<Image> {
        self.image.clone()
    }

    /// Entry address of the `i`th function of the image.
    pub(super) fn func_ptr(&self, i: usize) -> *const u8 {
        (self.memory.start() + self.image.func_offsets[i]) as *const u8
    }

    /// Entry of the `i`th function of the image (trampolines are called through these).
    pub fn entry(&self, i: usize) -> CodePtr {
        CodePtr(self.func_ptr(i))
    }
}

impl Drop for CodeObject {
    fn drop(&mut self) {
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.remove(&self.memory.start());
    }
}

/// The entry of a function in published code (a trampoline, for the API's function table).
/// Only made from a live [`CodeObject`], which the engine or module keeps alive as long as
/// anything may call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePtr(*const u8);

impl CodePtr {
    pub(super) fn as_ptr(self) -> *const u8 {
        self.0
    }
}

// SAFETY: published code is immutable; the pointer may be used from any thread.
unsafe impl Send for CodePtr {}
// SAFETY: as above.
unsafe impl Sync for CodePtr {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::SharedBytes;
    use crate::vm::mapped_file::MappedFile;

    /// Reads the published bytes of `memory`.
    fn published(memory: &CodeMemory, len: usize) -> Vec<u8> {
        // SAFETY: `memory` is a live read+execute mapping of at least `len` bytes.
        unsafe { std::slice::from_raw_parts(memory.ptr(), len) }.to_vec()
    }

    #[test]
    fn code_in_a_mapped_file_is_mapped_and_patching_it_leaves_the_file_alone() {
        let page = region::page::size();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artifact");
        let mut bytes = vec![0xaa; page];
        bytes.extend([0x90; 64]);
        std::fs::write(&path, &bytes).unwrap();
        let file: SharedBytes = std::sync::Arc::new(MappedFile::open(&path).unwrap());
        let patch = |code: &mut [u8], _base: usize| {
            code[..4].copy_from_slice(&[1, 2, 3, 4]);
            Ok(())
        };
        let code = CodeBytes::shared(file.clone(), page..page + 64).unwrap();
        let memory = CodeMemory::publish(&code, patch).unwrap();
        assert!(matches!(memory.pages, Pages::Mapped(_)));
        assert_eq!(published(&memory, 6), [1, 2, 3, 4, 0x90, 0x90]);
        // The mapping is private: neither the file nor the module's unpatched view changed.
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(file.bytes()[page..page + 4], [0x90; 4]);
        assert_eq!(code[..4], [0x90; 4]);
        // Code at an offset that is not a page boundary, or not in a file, is copied.
        let unaligned = CodeBytes::shared(file.clone(), page - 8..page + 64).unwrap();
        let copied = CodeMemory::publish(&unaligned, patch).unwrap();
        assert!(matches!(copied.pages, Pages::Fresh(_)));
        assert_eq!(published(&copied, 6), [1, 2, 3, 4, 0xaa, 0xaa]);
        let owned = CodeMemory::publish(&vec![0x90; 8].into(), patch).unwrap();
        assert!(matches!(owned.pages, Pages::Fresh(_)));
    }
}
