//! Sandboxed path resolution. A guest path is resolved component by component below a
//! directory descriptor: `..` may not climb above the descriptor's directory, absolute
//! paths are refused, and symbolic links are followed by hand (depth-limited) with their
//! targets resolved by the same rules, so no path the guest passes, and no link it or
//! anyone else creates, reaches outside. Errors follow Wasmtime (cap-std): escaping is
//! `PERM`, too many links `LOOP`.
//!
//! What is handed to the OS afterwards is `parent/name` where `parent` is a host path
//! made only of real directories checked on the way, and `name` is a single component
//! that the OS never follows (or that was checked not to be a symlink). Directory
//! descriptors are kept as paths and re-checked (every component still a real directory)
//! on each use, so a directory swapped for a symlink is refused; one renamed away stops
//! working. The guest is single-threaded; concurrent changes by other host processes
//! between a check and the system call are not defended against.

use super::types::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// How many symbolic links one resolution may follow (Linux's limit).
const MAX_SYMLINKS: u32 = 40;

/// A directory below a preopen: the preopen's canonical host root plus the components
/// (real directories, no `.`/`..`) leading to it.
#[derive(Clone, Debug)]
pub(crate) struct DirPath {
    pub(crate) root: std::sync::Arc<PathBuf>,
    pub(crate) rel: Vec<OsString>,
}

/// The outcome of resolving a guest path.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// Components (below the preopen root) of the directory holding the entry.
    pub(crate) parent: Vec<OsString>,
    /// The final component: a name, `.` or `..`.
    pub(crate) name: OsString,
    /// Whether the guest path ended with a slash (so the entry must be a directory).
    pub(crate) trailing_slash: bool,
    root: std::sync::Arc<PathBuf>,
}

/// What to do with a symlink in the final position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Final {
    /// Follow it (and any link its target names).
    Follow,
    /// Leave it, unless the path ends with a slash (then follow, as POSIX lookups do).
    NoFollow,
    /// Never follow it: the operation acts on the directory entry itself (create,
    /// remove, rename); a trailing slash is passed to the OS, which does not follow
    /// the final component for these operations either.
    Entry,
}

impl DirPath {
    pub(crate) fn host_path(&self) -> PathBuf {
        let mut p = (*self.root).clone();
        for c in &self.rel {
            p.push(c);
        }
        p
    }
}

impl Resolved {
    /// The host path to hand to the OS: `parent/name`, with the trailing slash kept.
    pub(crate) fn host_path(&self) -> PathBuf {
        let mut bytes = self.root.as_os_str().as_bytes().to_vec();
        for c in &self.parent {
            bytes.push(b'/');
            bytes.extend_from_slice(c.as_bytes());
        }
        bytes.push(b'/');
        bytes.extend_from_slice(self.name.as_bytes());
        if self.trailing_slash {
            bytes.push(b'/');
        }
        PathBuf::from(OsString::from_vec(bytes))
    }

    /// The host path without the trailing slash (the entry itself, never followed).
    pub(crate) fn host_path_bare(&self) -> PathBuf {
        let mut p = join(&self.root, &self.parent);
        p.push(&self.name);
        p
    }

    /// The resolved entry as a directory below the same preopen (for opening it).
    pub(crate) fn as_dir(&self) -> DirPath {
        let mut rel = self.parent.clone();
        match self.name.as_bytes() {
            b"." => {}
            b".." => {
                rel.pop();
            }
            _ => rel.push(self.name.clone()),
        }
        DirPath {
            root: self.root.clone(),
            rel,
        }
    }
}

fn join(root: &Path, comps: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    for c in comps {
        p.push(c);
    }
    p
}

/// Splits a path into components, in reverse order (a stack), dropping empty ones.
fn push_components(stack: &mut Vec<OsString>, path: &[u8]) {
    for c in path.split(|b| *b == b'/').rev() {
        if !c.is_empty() {
            stack.push(OsStr::from_bytes(c).to_os_string());
        }
    }
}

/// Checks that every component of `dir` is still a real directory (not replaced by a
/// symlink since it was opened), so paths built on it stay inside the sandbox.
pub(crate) fn check_base(dir: &DirPath) -> Result<(), Errno> {
    let mut p = (*dir.root).clone();
    for c in &dir.rel {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Errno::NOTDIR),
            Err(e) => return Err(Errno::from_io(&e)),
        }
    }
    Ok(())
}

/// Resolves `path` below `dir`.
pub(crate) fn resolve(dir: &DirPath, path: &str, last: Final) -> Result<Resolved, Errno> {
    let bytes = path.as_bytes();
    if bytes.contains(&0) {
        return Err(Errno::INVAL);
    }
    if bytes.is_empty() {
        return Err(Errno::NOENT);
    }
    if bytes[0] == b'/' {
        return Err(Errno::PERM);
    }
    check_base(dir)?;
    let floor = dir.rel.len();
    let mut current: Vec<OsString> = dir.rel.clone();
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, bytes);
    let mut trailing_slash = bytes.ends_with(b"/");
    let mut links = 0u32;
    let done = |parent: Vec<OsString>, name: OsString, trailing_slash: bool| Resolved {
        parent,
        name,
        trailing_slash,
        root: dir.root.clone(),
    };
    loop {
        let Some(c) = pending.pop() else {
            // Only `.` components (or a symlink to `.`): the directory itself.
            return Ok(done(current, OsString::from("."), trailing_slash));
        };
        let is_last = pending.is_empty();
        match c.as_bytes() {
            b"." => {
                if is_last {
                    return Ok(done(current, c, trailing_slash));
                }
                continue;
            }
            b".." => {
                if current.len() <= floor {
                    return Err(Errno::PERM);
                }
                if is_last {
                    return Ok(done(current, c, trailing_slash));
                }
                current.pop();
                continue;
            }
            _ => {}
        }
        if is_last && (last == Final::Entry || (last == Final::NoFollow && !trailing_slash)) {
            return Ok(done(current, c, trailing_slash));
        }
        let mut host = join(&dir.root, &current);
        host.push(&c);
        match std::fs::symlink_metadata(&host) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_last => {
                return Ok(done(current, c, trailing_slash));
            }
            Err(e) => return Err(Errno::from_io(&e)),
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::LOOP);
                }
                let target = std::fs::read_link(&host).map_err(|e| Errno::from_io(&e))?;
                let target = target.as_os_str().as_bytes();
                if target.first() == Some(&b'/') {
                    return Err(Errno::PERM);
                }
                if target.is_empty() {
                    return Err(Errno::NOENT);
                }
                if is_last && target.ends_with(b"/") {
                    trailing_slash = true;
                }
                let before = pending.len();
                push_components(&mut pending, target);
                if pending.len() == before {
                    // A target of only slashes and dots resolves to the link's directory.
                    pending.push(OsString::from("."));
                }
            }
            Ok(m) if m.is_dir() => {
                if is_last {
                    return Ok(done(current, c, trailing_slash));
                }
                current.push(c);
            }
            Ok(_) => {
                if is_last {
                    return Ok(done(current, c, trailing_slash));
                }
                return Err(Errno::NOTDIR);
            }
        }
    }
}
