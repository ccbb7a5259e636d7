//! Fetch: a dependency-free FNV-1a (64-bit) checksum over a tree of files.

use std::path::Path;

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An incremental FNV-1a hash.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(OFFSET_BASIS)
    }
}

impl Fnv1a {
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(PRIME);
        }
    }
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The checksum of a tree: for each file in byte order of its `/`-separated relative path,
/// the path, a zero byte, the length as 8 little-endian bytes, then the contents.
/// Returns the number of files and the checksum written as `fnv1a64:<16 hex digits>`.
pub fn tree_checksum(root: &Path) -> std::io::Result<(usize, String)> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() {
            files.push(relative_path(root, entry.path())?);
        }
    }
    files.sort();
    let mut hash = Fnv1a::default();
    for rel in &files {
        let bytes = std::fs::read(root.join(rel))?;
        hash.write(rel.as_bytes());
        hash.write(&[0]);
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    Ok((files.len(), format!("fnv1a64:{:016x}", hash.finish())))
}

/// `path` relative to `root`, with `/` separators.
pub fn relative_path(root: &Path, path: &Path) -> std::io::Result<String> {
    let rel = path.strip_prefix(root).map_err(std::io::Error::other)?;
    let parts: Option<Vec<&str>> = rel.iter().map(|c| c.to_str()).collect();
    parts.map(|p| p.join("/")).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("non-UTF-8 path {}", rel.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv1a::default();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
