//! WASI phase, `path_*` calls. Every guest path is resolved by cap-std beneath the open
//! host directory of its directory descriptor (see `sandbox.rs`), never through a host
//! path, so no `..`, absolute path or symlink can leave it.

use super::fd::{new_times, Args};
use super::mem::{Mem, WasiResult};
use super::sandbox::{self, Follow};
use super::state::{Desc, DirDesc, FileDesc, WasiState};
use super::types::*;
use cap_fs_ext::DirExt;
use std::sync::Arc;

fn read_path(mem: &Mem, ptr: u32, len: u32) -> WasiResult<String> {
    mem.read_str(ptr, len)
}

fn follow(flags: u32) -> Follow {
    if flags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0 {
        Follow::Yes
    } else {
        Follow::No
    }
}

/// A directory descriptor with `right` and the guest path (at `ptr`, `len`) below it.
fn dir_and_path<'s>(
    st: &'s mut WasiState,
    mem: &Mem,
    fd: u32,
    right: u64,
    ptr: u32,
    len: u32,
) -> WasiResult<(&'s DirDesc, String)> {
    let path = read_path(mem, ptr, len)?;
    let d = st.dir(fd, right)?;
    sandbox::check_path(&path)?;
    Ok((d, path))
}

pub(crate) fn path_create_directory(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let right = rights::PATH_CREATE_DIRECTORY;
    let (d, path) = dir_and_path(st, mem, a.u32(0), right, a.u32(1), a.u32(2))?;
    d.dir.create_dir(path)?;
    Ok(())
}

pub(crate) fn path_remove_directory(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let right = rights::PATH_REMOVE_DIRECTORY;
    let (d, path) = dir_and_path(st, mem, a.u32(0), right, a.u32(1), a.u32(2))?;
    d.dir.remove_dir(path)?;
    Ok(())
}

pub(crate) fn path_unlink_file(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let right = rights::PATH_UNLINK_FILE;
    let (d, path) = dir_and_path(st, mem, a.u32(0), right, a.u32(1), a.u32(2))?;
    d.dir.remove_file(path)?;
    Ok(())
}

fn stat_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, unstable: bool) -> WasiResult<()> {
    let (fd, flags, path, len, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4));
    let (d, path) = dir_and_path(st, mem, fd, rights::PATH_FILESTAT_GET, path, len)?;
    // A trailing slash resolves the final component as a directory, following a link
    // (POSIX, and what the kernel does for every other call); cap-std's non-following
    // stat would drop the slash and describe `file/` or `link/` itself.
    let follow = if path.ends_with('/') {
        Follow::Yes
    } else {
        follow(flags)
    };
    let m = match follow {
        Follow::Yes => d.dir.metadata(path)?,
        Follow::No => d.dir.symlink_metadata(path)?,
    };
    mem.write_bytes(out, &Filestat::from_metadata(&m).encode(unstable))
}

pub(crate) fn path_filestat_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    stat_impl(st, mem, a, false)
}

pub(crate) fn path_filestat_get_unstable(
    st: &mut WasiState,
    mem: &mut Mem,
    a: &Args,
) -> WasiResult<()> {
    stat_impl(st, mem, a, true)
}

pub(crate) fn path_filestat_set_times(
    st: &mut WasiState,
    mem: &mut Mem,
    a: &Args,
) -> WasiResult<()> {
    let (fd, flags, path, len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    let (atime, mtime) = new_times(a.u64(4), a.u64(5), a.u32(6))?;
    let right = rights::PATH_FILESTAT_SET_TIMES;
    let (d, path) = dir_and_path(st, mem, fd, right, path, len)?;
    match follow(flags) {
        Follow::Yes => d.dir.set_times(path, atime, mtime)?,
        Follow::No => d.dir.set_symlink_times(path, atime, mtime)?,
    }
    Ok(())
}

pub(crate) fn path_readlink(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, path, len, buf, buf_len, out) =
        (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4), a.u32(5));
    let (d, path) = dir_and_path(st, mem, fd, rights::PATH_READLINK, path, len)?;
    let target = sandbox::read_link(&d.dir, &path)?;
    let mut bytes = target.into_bytes();
    bytes.truncate(buf_len as usize);
    mem.write_bytes(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}

pub(crate) fn path_symlink(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old, old_len, fd, new, new_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4));
    let target = read_path(mem, old, old_len)?;
    let (d, path) = dir_and_path(st, mem, fd, rights::PATH_SYMLINK, new, new_len)?;
    sandbox::check_path(&target)?;
    // cap-std refuses targets that are absolute paths (`PERM`): such a link would point
    // a host program that follows it out of the sandbox, and would leak host paths.
    d.dir.symlink(target, path)?;
    Ok(())
}

/// The directories of a two-directory call (`path_link`, `path_rename`).
fn two_dirs(
    st: &mut WasiState,
    old_fd: u32,
    old_right: u64,
    new_fd: u32,
    new_right: u64,
) -> WasiResult<(Arc<cap_std::fs::Dir>, Arc<cap_std::fs::Dir>)> {
    let old = st.dir(old_fd, old_right)?.dir.clone();
    let new = st.dir(new_fd, new_right)?.dir.clone();
    Ok((old, new))
}

pub(crate) fn path_link(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old_fd, flags, old, old_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    let (new_fd, new, new_len) = (a.u32(4), a.u32(5), a.u32(6));
    let old_path = read_path(mem, old, old_len)?;
    let new_path = read_path(mem, new, new_len)?;
    let (src, dst) = two_dirs(
        st,
        old_fd,
        rights::PATH_LINK_SOURCE,
        new_fd,
        rights::PATH_LINK_TARGET,
    )?;
    // Wasmtime refuses to follow a symlink here.
    if flags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL.into());
    }
    sandbox::check_path(&old_path)?;
    sandbox::check_path(&new_path)?;
    src.hard_link(old_path, &dst, new_path)?;
    Ok(())
}

pub(crate) fn path_rename(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old_fd, old, old_len) = (a.u32(0), a.u32(1), a.u32(2));
    let (new_fd, new, new_len) = (a.u32(3), a.u32(4), a.u32(5));
    let old_path = read_path(mem, old, old_len)?;
    let new_path = read_path(mem, new, new_len)?;
    let (src, dst) = two_dirs(
        st,
        old_fd,
        rights::PATH_RENAME_SOURCE,
        new_fd,
        rights::PATH_RENAME_TARGET,
    )?;
    sandbox::check_path(&old_path)?;
    sandbox::check_path(&new_path)?;
    src.rename(old_path, &dst, new_path)?;
    Ok(())
}

pub(crate) fn path_open(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, dirflags, path, len, oflags) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4));
    let (base, inheriting, fdflags, out) = (a.u64(5), a.u64(6), a.u32(7), a.u32(8));
    if oflags > 0xf || fdflags > 0x1f {
        return Err(Errno::INVAL.into());
    }
    let (oflags, fdflags) = (oflags as u16, fdflags as u16);
    let path = read_path(mem, path, len)?;
    let d: &DirDesc = match st.desc(fd)? {
        Desc::Dir(d) => d,
        Desc::File(_) => return Err(Errno::NOTDIR.into()),
        _ => return Err(Errno::BADF.into()),
    };
    let mut needed = rights::PATH_OPEN;
    if oflags & OFLAGS_CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    if oflags & OFLAGS_TRUNC != 0 {
        needed |= rights::PATH_FILESTAT_SET_SIZE;
    }
    d.need(needed)?;
    if oflags & OFLAGS_DIRECTORY != 0 && oflags & (OFLAGS_CREAT | OFLAGS_EXCL | OFLAGS_TRUNC) != 0 {
        return Err(Errno::INVAL.into());
    }
    if fdflags & (FDFLAGS_SYNC | FDFLAGS_DSYNC | FDFLAGS_RSYNC) != 0 {
        return Err(Errno::NOTSUP.into());
    }
    sandbox::check_path(&path)?;
    let base = base & d.inheriting;
    let inheriting = inheriting & d.inheriting;

    // Open modes as Wasmtime chooses them.
    let (mut read, mut write) = (false, false);
    let mut mode = sandbox::OpenMode::default();
    if oflags & OFLAGS_CREAT != 0 {
        mode.create = if oflags & OFLAGS_EXCL != 0 {
            sandbox::Create::New
        } else {
            sandbox::Create::IfMissing
        };
        write = true;
    }
    if oflags & OFLAGS_TRUNC != 0 {
        mode.truncate = true;
        write = true;
    }
    if base & rights::FD_WRITE != 0 {
        write = true;
    }
    if base & rights::FD_READ != 0 || base & rights::FD_WRITE == 0 {
        read = true;
    }
    mode.read = read;
    mode.write = write;
    mode.directory = oflags & OFLAGS_DIRECTORY != 0;
    mode.follow = follow(dirflags);
    let opened = sandbox::open(&d.dir, &path, &mode)?;
    let desc = match opened {
        sandbox::Opened::Dir(dir) => Desc::Dir(DirDesc {
            dir: Arc::new(dir),
            preopen: None,
            base: base & !rights::NOT_FOR_DIRECTORIES,
            inheriting,
            listing: None,
        }),
        sandbox::Opened::File(file, filetype) => Desc::File(FileDesc {
            file,
            pos: 0,
            append: fdflags & FDFLAGS_APPEND != 0,
            nonblock: fdflags & FDFLAGS_NONBLOCK != 0,
            filetype,
            base: base & !rights::DIRECTORY_ONLY,
            inheriting: inheriting & !rights::DIRECTORY_ONLY,
        }),
    };
    let new_fd = st.push(desc);
    mem.write_u32(out, new_fd)
}
