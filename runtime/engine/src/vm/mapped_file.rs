//! A file mapped read-only into memory, so that loading an artifact reads its pages from the
//! page cache where they lie instead of copying the whole file into fresh memory first.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A whole file, mapped private and read-only. Its bytes are those the file had when it was
/// mapped only if nobody writes the file meanwhile: map only files that are replaced, never
/// modified in place (cache entries are renamed into place), or whose owner promised as
/// much (`Module::deserialize_file`'s contract). Truncating a mapped file would make reading
/// its lost pages fault.
pub struct MappedFile {
    ptr: *const u8,
    len: usize,
    file: File,
}

// SAFETY: the mapping is read-only and owned by this value; reading it from several threads
// is as sound as reading a shared `&[u8]`.
unsafe impl Send for MappedFile {}
// SAFETY: as above, nothing writes through the mapping.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps the file at `path` (an empty file maps to no bytes).
    pub fn open(path: &Path) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::other("the file does not fit in the address space"))?;
        if len == 0 {
            return Ok(MappedFile {
                ptr: std::ptr::NonNull::<u8>::dangling().as_ptr(),
                len: 0,
                file,
            });
        }
        // SAFETY: a fresh private read-only mapping of `len` bytes of an open file, at an
        // address the kernel picks; it overlaps nothing of ours.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(MappedFile {
            ptr: ptr as *const u8,
            len,
            file,
        })
    }
}

impl crate::link::Backing for MappedFile {
    fn bytes(&self) -> &[u8] {
        self.as_ref()
    }
    fn file(&self) -> Option<&File> {
        Some(&self.file)
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` is a live read-only mapping of `len` bytes (or dangling with `len`
        // 0), alive as long as `self`; nothing writes it (see the type's contract).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: `ptr`/`len` are exactly the mapping `open` made; no slice of it
            // outlives `self` (slices borrow from `as_ref`).
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_file_and_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"artifact bytes").unwrap();
        assert_eq!(MappedFile::open(&path).unwrap().as_ref(), b"artifact bytes");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(MappedFile::open(&path).unwrap().as_ref(), b"");
        assert!(MappedFile::open(&dir.path().join("missing")).is_err());
    }
}
