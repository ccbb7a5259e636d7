//! WASI phase, sandbox: how guest paths reach the host filesystem. Every directory
//! descriptor holds an open host directory (a `cap_std::fs::Dir`), and every path is
//! resolved beneath it by cap-std: with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`
//! where the kernel has it (Linux 5.6+), else by cap-std's own component-by-component
//! walk that opens each directory relative to the previous one's descriptor. Either way
//! the kernel, not a string check, decides what a name means at the moment of the call,
//! so `..` above the directory, absolute paths and symlinks (absolute, relative, chained,
//! or swapped in between two calls by anyone) that would land outside all fail with
//! `PERM`, as in Wasmtime, which builds on the same crate. A descriptor follows its
//! directory, not the path it was opened by: renaming the directory (or a parent) away
//! changes nothing for it, and what later appears at the old path is not reachable
//! through it.
//!
//! No host path is ever built from a guest path, and none is shown to the guest:
//! `path_readlink` refuses links with absolute targets, like path resolution does.

use super::types::{filetype_of, Errno};
use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::{Dir, OpenOptionsExt};
use std::fs::File;
use std::io;

/// Linux's `PATH_MAX`: a path of this many bytes or more is `NAMETOOLONG`. The kernel
/// checks it too; checking here also holds on cap-std's walk, which passes the kernel
/// one component at a time.
pub(crate) const PATH_MAX: usize = 4096;

/// Whether the final component of a path is followed if it is a symlink (intermediate
/// ones always are; a trailing slash follows the final one too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Follow {
    Yes,
    #[default]
    No,
}

/// What `path_open` does when the file is missing or present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Create {
    /// Open an existing file only.
    #[default]
    No,
    /// Create the file if it is missing.
    IfMissing,
    /// Create the file; `EXIST` if it is there.
    New,
}

/// How `path_open` opens a file or directory.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OpenMode {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) create: Create,
    pub(crate) truncate: bool,
    /// It must be a directory (`O_DIRECTORY`).
    pub(crate) directory: bool,
    pub(crate) follow: Follow,
}

/// What `path_open` opened.
pub(crate) enum Opened {
    Dir(Dir),
    /// A file that is not a directory, and its WASI file type if it was looked up.
    File(File, Option<u8>),
}

/// Checks a guest path before any system call sees it: an interior NUL is `INVAL` (the
/// kernel could not be given the path), a path of `PATH_MAX` bytes or more is
/// `NAMETOOLONG`.
pub(crate) fn check_path(path: &str) -> Result<(), Errno> {
    if path.as_bytes().contains(&0) {
        return Err(Errno::INVAL);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::NAMETOOLONG);
    }
    Ok(())
}

/// Opens `path` beneath `dir`.
pub(crate) fn open(dir: &Dir, path: &str, mode: &OpenMode) -> io::Result<Opened> {
    let mut opts = cap_std::fs::OpenOptions::new();
    opts.read(mode.read)
        .write(mode.write)
        .truncate(mode.truncate);
    match mode.create {
        Create::No => {}
        Create::IfMissing => {
            opts.create(true);
        }
        Create::New => {
            opts.create_new(true);
        }
    }
    opts.follow(match mode.follow {
        Follow::Yes => FollowSymlinks::Yes,
        Follow::No => FollowSymlinks::No,
    });
    opts.maybe_dir(true);
    if mode.directory {
        opts.custom_flags(rustix::fs::OFlags::DIRECTORY.bits() as i32);
    }
    let file = dir.open_with(path, &opts)?.into_std();
    if mode.write {
        // The kernel opens no directory for writing (EISDIR), so this is a file; its
        // type is looked up when first needed, which saves an `fstat` per created file.
        return Ok(Opened::File(file, None));
    }
    let meta = cap_std::fs::Metadata::from_file(&file)?;
    if meta.is_dir() {
        Ok(Opened::Dir(Dir::from_std_file(file)))
    } else if mode.directory {
        Err(rustix::io::Errno::NOTDIR.into())
    } else {
        Ok(Opened::File(file, Some(filetype_of(&meta.file_type()))))
    }
}

/// The target of the symlink `path` beneath `dir`. A target that is an absolute path is
/// `PERM` (it would show the guest a host path); one that is not UTF-8 is `ILSEQ`.
pub(crate) fn read_link(dir: &Dir, path: &str) -> Result<String, super::mem::Fail> {
    let target = dir.read_link(path)?;
    target
        .into_os_string()
        .into_string()
        .map_err(|_| Errno::ILSEQ.into())
}
