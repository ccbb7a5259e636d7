//! Phase 5/6: executable memory. Code is written while the pages are read+write, then
//! published read+execute once; pages are never writable and executable at the same time.

use crate::error::{Error, Result};

/// A block of published (read+execute) machine code.
pub struct CodeMemory {
    alloc: region::Allocation,
}

// SAFETY: the memory is immutable once published; sharing read-only code between threads is fine.
unsafe impl Send for CodeMemory {}
// SAFETY: as above, nothing mutates the code after `publish`.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Copies `code` into fresh pages, lets `patch` fix it up at its final address, then
    /// makes the pages read+execute.
    pub fn publish(code: &[u8], patch: impl FnOnce(&mut [u8], usize)) -> Result<CodeMemory> {
        let size = code.len().max(1);
        let mut alloc = region::alloc(size, region::Protection::READ_WRITE)
            .map_err(|e| Error::Compile(format!("cannot allocate code memory: {e}")))?;
        let base = alloc.as_mut_ptr::<u8>();
        // SAFETY: `alloc` is a fresh read+write mapping of at least `size` bytes, owned here.
        let buf = unsafe { std::slice::from_raw_parts_mut(base, size) };
        buf[..code.len()].copy_from_slice(code);
        patch(&mut buf[..code.len()], base as usize);
        // SAFETY: the range is exactly our allocation; nothing else refers to it yet.
        unsafe { region::protect(base, size, region::Protection::READ_EXECUTE) }
            .map_err(|e| Error::Compile(format!("cannot make code executable: {e}")))?;
        Ok(CodeMemory { alloc })
    }

    pub fn start(&self) -> usize {
        self.alloc.as_ptr::<u8>() as usize
    }
}
