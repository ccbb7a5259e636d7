//! Phase 7, serialize: the on-disk compilation cache ([`Config::cache`]). One artifact per
//! (module binary, engine fingerprint), named by a hash of both; written to a temporary file
//! in the same directory and renamed into place, so a reader sees a whole entry or none;
//! bounded in size, least recently used first out.
//!
//! Nothing here trusts an entry: `Module` loads it through `serialize::read` (checksum,
//! fingerprint) and checks that it holds the very binary being compiled, so a corrupted,
//! truncated, foreign or colliding entry is removed and the module compiled again.
//!
//! [`Config::cache`]: crate::Config::cache

use crate::config::CacheConfig;
use crate::error::Result;
use crate::link::SharedBytes;
use crate::serialize::{checksum, Fingerprint};
use crate::vm::mapped_file::MappedFile;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The file name extension of entries.
const ENTRY_EXT: &str = "cwasm";

/// Temporary files older than this are left over from a crashed writer and removed.
const STALE_TEMP: Duration = Duration::from_secs(600);

/// Loads the module of `binary` from the cache with `load`, or compiles it with `compile`
/// and stores what `serialize` makes of it. Cache trouble (an unreadable directory, a bad
/// entry, a full disk) never fails the compilation.
pub(crate) fn load_or_compile<M>(
    cache: &CacheConfig,
    fingerprint: &Fingerprint,
    binary: &[u8],
    load: impl FnOnce(SharedBytes) -> Result<M>,
    compile: impl FnOnce() -> Result<M>,
    serialize: impl FnOnce(&M) -> Result<Vec<u8>>,
) -> Result<M> {
    let path = entry_path(cache, fingerprint, binary);
    // Entries are replaced by renames, never written in place, so mapping one is safe.
    if let Ok(entry) = MappedFile::open(&path) {
        match load(Arc::new(entry)) {
            Ok(module) => {
                touch(&path);
                return Ok(module);
            }
            // Corrupted, truncated, from another build, or a hash collision: recompile.
            Err(_) => {
                let _ = fs::remove_file(&path);
            }
        }
    }
    let module = compile()?;
    if let Ok(bytes) = serialize(&module) {
        if store(&path, &bytes).is_ok() {
            evict(&cache.directory, cache.max_size);
        }
    }
    Ok(module)
}

/// Where the entry of `binary` compiled by an engine with `fingerprint` lives.
pub(crate) fn entry_path(cache: &CacheConfig, fingerprint: &Fingerprint, binary: &[u8]) -> PathBuf {
    let mut config = Vec::new();
    for item in fingerprint.items() {
        config.extend_from_slice(item.as_bytes());
        config.push(0);
    }
    let key = format!(
        "{:016x}{:016x}",
        checksum(0x6d6f_6475_6c65, binary),
        checksum(0x636f_6e66_6967, &config)
    );
    cache.directory.join(format!("{key}.{ENTRY_EXT}"))
}

/// Marks an entry as just used (its modification time orders eviction).
fn touch(path: &Path) {
    if let Ok(file) = fs::File::options().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Writes `bytes` as the entry at `path`: into a fresh temporary file beside it, then
/// renamed over it (atomic within a directory).
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().expect("entries lie in the cache directory");
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .expect("entries have names")
        .to_string_lossy();
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| f.write_all(bytes));
    match written.and_then(|()| fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Removes the least recently used entries until the rest take at most `max_size` bytes,
/// and temporary files a crashed writer left behind.
fn evict(dir: &Path, max_size: u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut kept = Vec::new();
    let mut total = 0u64;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                let _ = fs::remove_file(&path);
            }
        } else if meta.is_file() && path.extension().is_some_and(|e| e == ENTRY_EXT) {
            total += meta.len();
            kept.push((modified, meta.len(), path));
        }
    }
    if total <= max_size {
        return;
    }
    kept.sort();
    for (_, len, path) in kept {
        if total <= max_size {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_removes_the_least_recently_used_entries_first() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(100);
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let path = dir.path().join(format!("{name}.{ENTRY_EXT}"));
            fs::write(&path, [0u8; 100]).unwrap();
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(old + Duration::from_secs(i as u64))
                .unwrap();
        }
        touch(&dir.path().join(format!("a.{ENTRY_EXT}")));
        evict(dir.path(), 250);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [format!("a.{ENTRY_EXT}"), format!("c.{ENTRY_EXT}")]);
    }

    #[test]
    fn a_store_replaces_an_entry_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(format!("k.{ENTRY_EXT}"));
        store(&path, b"first").unwrap();
        store(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
