//! Phase 6, vm: copy-on-write images of a memory's initial contents. A module whose active
//! data segments for a defined memory all lie at constant offsets within its minimum size
//! gets, on its first instantiation, an in-memory file (`memfd`) holding the bytes those
//! segments write; every instantiation then maps that file privately over the new memory
//! instead of copying the segments in. Pages are shared until written, and only the pages
//! the program touches are ever faulted in.

use super::memory::LinearMemory;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The host's page size (Linux x86-64).
const HOST_PAGE: u64 = 4096;

/// Segments smaller than this in total are copied: a mapping costs system calls and page
/// faults that copying a few pages does not.
const MIN_IMAGE_BYTES: u64 = 32 << 10;

/// Images up to this size are laid out in a buffer and written at once; larger (sparse) ones
/// segment by segment.
const MAX_BUFFERED_BYTES: u64 = 16 << 20;

/// Writes all of `bytes` to `file` at `offset`.
fn write_at(file: &OwnedFd, bytes: &[u8], offset: u64) -> Option<()> {
    let mut done = 0usize;
    while done < bytes.len() {
        let at = offset as usize + done;
        // SAFETY: writes from a live slice into our own file.
        let n = unsafe {
            libc::pwrite(
                file.as_raw_fd(),
                bytes[done..].as_ptr().cast(),
                bytes.len() - done,
                at as libc::off_t,
            )
        };
        if n <= 0 {
            return None;
        }
        done += n as usize;
    }
    Some(())
}

/// The initial contents of one memory, page-aligned, in a sealed in-memory file.
#[derive(Debug)]
pub struct MemoryImage {
    file: OwnedFd,
    /// Offset of the image in the memory (page-aligned).
    start: u64,
    /// Length of the image (page-aligned).
    len: u64,
}

impl MemoryImage {
    /// The image of `segments` ((offset, bytes), applied in order, later ones overwriting
    /// earlier ones), or `None` when they are too small to be worth a mapping, when one
    /// does not end within `committed` bytes, or when the host offers no `memfd`.
    pub fn new(segments: &[(u64, &[u8])], committed: u64) -> Option<MemoryImage> {
        let total: u64 = segments.iter().map(|(_, b)| b.len() as u64).sum();
        if total < MIN_IMAGE_BYTES {
            return None;
        }
        let mut low = u64::MAX;
        let mut high = 0u64;
        for (offset, bytes) in segments {
            let end = offset.checked_add(bytes.len() as u64)?;
            if end > committed {
                return None;
            }
            if !bytes.is_empty() {
                low = low.min(*offset);
                high = high.max(end);
            }
        }
        let start = low / HOST_PAGE * HOST_PAGE;
        let len = high.div_ceil(HOST_PAGE) * HOST_PAGE - start;
        // SAFETY: a valid NUL-terminated name and flags; the result is checked.
        let fd = unsafe { libc::memfd_create(c"wasm-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` was just returned open by `memfd_create` and is owned by nothing else.
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain system calls on our own descriptor; results checked.
        if unsafe { libc::ftruncate(file.as_raw_fd(), len as libc::off_t) } != 0 {
            return None;
        }
        if len <= MAX_BUFFERED_BYTES {
            // Many small segments: lay them out here and write the file once.
            let mut buffer = vec![0u8; len as usize];
            // Empty segments write nothing (and may lie outside [start, start + len)).
            for (offset, bytes) in segments.iter().filter(|(_, b)| !b.is_empty()) {
                let at = (offset - start) as usize;
                buffer[at..at + bytes.len()].copy_from_slice(bytes);
            }
            write_at(&file, &buffer, 0)?;
        } else {
            for (offset, bytes) in segments.iter().filter(|(_, b)| !b.is_empty()) {
                write_at(&file, bytes, offset - start)?;
            }
        }
        Some(MemoryImage { file, start, len })
    }

    /// Maps the image copy-on-write over `memory`'s bytes at its offset, replacing what is
    /// there (the caller passes a memory just created, all zeroes). `Ok(false)`, nothing
    /// changed, if those bytes are not all committed or the host refuses the mapping: the
    /// caller copies the segments instead. An error if the host then also refused to put
    /// zero pages back, leaving the memory unusable.
    pub fn map_into(&self, memory: &mut LinearMemory) -> Result<bool, String> {
        let Some(end) = self.start.checked_add(self.len) else {
            return Ok(false);
        };
        if end > memory.byte_len() {
            return Ok(false);
        }
        // SAFETY: the pointer stays within the memory's committed bytes (checked above).
        let at = unsafe { memory.base().add(self.start as usize) }.cast::<libc::c_void>();
        let len = self.len as usize;
        let rw = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: `[at, at + len)` lies within the memory's committed, read+write bytes,
        // which only this memory's owner (`&mut`) reaches now; MAP_FIXED replaces those pages
        // with a private mapping of the image, read+write like them. The memory's
        // reservation still covers the range, and unmapping it when the memory drops removes
        // this mapping too.
        let mapped = unsafe {
            libc::mmap(
                at,
                len,
                rw,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                0,
            )
        };
        if mapped != libc::MAP_FAILED {
            return Ok(true);
        }
        // A failed MAP_FIXED may have unmapped the range: put zero pages back.
        let flags = libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_ANONYMOUS;
        // SAFETY: as above, with anonymous zero pages, what the range held before.
        let zeroed = unsafe { libc::mmap(at, len, rw, flags, -1, 0) };
        if zeroed == libc::MAP_FAILED {
            return Err("cannot map a memory's initial image, nor restore its pages".into());
        }
        Ok(false)
    }
}
