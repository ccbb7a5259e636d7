//! Files mapped into memory: a whole artifact file, read-only, so that loading reads its
//! pages from the page cache where they lie instead of copying the file into fresh memory
//! first, and parts of one (its code), private and writable, for `vm::code`.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A private mapping of part of a file, unmapped on drop. Writes to it stay in this
/// process; the file is never written.
pub struct FileMapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is memory owned by this value like a heap allocation; it hands out
// only raw pointers (writes through them are their user's unsafe business) and, through
// `MappedFile`, shared slices of a read-only mapping.
unsafe impl Send for FileMapping {}
// SAFETY: as above.
unsafe impl Sync for FileMapping {}

impl FileMapping {
    /// Maps `len` bytes (more than 0) of `file` from `offset` (a multiple of the page size),
    /// read-only or, if `writable`, read+write.
    pub fn new(file: &File, offset: usize, len: usize, writable: bool) -> io::Result<FileMapping> {
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::other("the offset does not fit in an off_t"))?;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh private mapping of an open file at an address the kernel picks;
        // it overlaps nothing of ours.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(FileMapping {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The first mapped byte.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// How many bytes are mapped.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for FileMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping `new` made; whoever borrowed from it
        // (slices of `MappedFile`, code in `vm::code`) is gone with its owner.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A whole file, mapped private and read-only. Its bytes are those the file had when it was
/// mapped only if nobody writes the file meanwhile: map only files that are replaced, never
/// modified in place (cache entries are renamed into place), or whose owner promised as
/// much (`Module::deserialize_file`'s contract). Truncating a mapped file would make reading
/// its lost pages fault.
pub struct MappedFile {
    /// `None` for an empty file.
    map: Option<FileMapping>,
    file: File,
}

impl MappedFile {
    /// Maps the file at `path` (an empty file maps to no bytes).
    pub fn open(path: &Path) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::other("the file does not fit in the address space"))?;
        let map = (len != 0)
            .then(|| FileMapping::new(&file, 0, len, false))
            .transpose()?;
        Ok(MappedFile { map, file })
    }
}

impl crate::link::Backing for MappedFile {
    fn bytes(&self) -> &[u8] {
        match &self.map {
            // SAFETY: a live read-only mapping of `len` bytes, alive as long as `self`;
            // nothing writes it (see the type's contract).
            Some(map) => unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) },
            None => &[],
        }
    }
    fn file(&self) -> Option<&File> {
        Some(&self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Backing;

    #[test]
    fn maps_a_file_and_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"artifact bytes").unwrap();
        assert_eq!(MappedFile::open(&path).unwrap().bytes(), b"artifact bytes");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(MappedFile::open(&path).unwrap().bytes(), b"");
        assert!(MappedFile::open(&dir.path().join("missing")).is_err());
    }
}
