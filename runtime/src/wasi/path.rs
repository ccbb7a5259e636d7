//! `path_*` calls: every guest path is resolved by [`super::sandbox`] below a directory
//! descriptor, then the operation runs on the checked host path.

use super::fd::{file_times, new_times, Args};
use super::mem::{Fail, Mem, WasiResult};
use super::sandbox::{resolve, DirPath, Final, Resolved};
use super::state::{Desc, DirDesc, FileDesc, WasiState};
use super::types::*;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;

fn read_path(mem: &Mem, ptr: u32, len: u32) -> WasiResult<String> {
    mem.read_str(ptr, len)
}

/// The directory `fd` (with `right`) and the resolution of `path` below it.
fn lookup(
    st: &mut WasiState,
    fd: u32,
    right: u64,
    path: &str,
    last: Final,
) -> WasiResult<Resolved> {
    let d = st.dir(fd, right)?;
    Ok(resolve(&d.path, path, last)?)
}

fn follow(flags: u32) -> Final {
    if flags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0 {
        Final::Follow
    } else {
        Final::NoFollow
    }
}

pub(crate) fn path_create_directory(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let path = read_path(mem, a.u32(1), a.u32(2))?;
    let r = lookup(
        st,
        a.u32(0),
        rights::PATH_CREATE_DIRECTORY,
        &path,
        Final::Entry,
    )?;
    std::fs::create_dir(r.host_path())?;
    Ok(())
}

pub(crate) fn path_remove_directory(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let path = read_path(mem, a.u32(1), a.u32(2))?;
    let r = lookup(
        st,
        a.u32(0),
        rights::PATH_REMOVE_DIRECTORY,
        &path,
        Final::Entry,
    )?;
    std::fs::remove_dir(r.host_path())?;
    Ok(())
}

pub(crate) fn path_unlink_file(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let path = read_path(mem, a.u32(1), a.u32(2))?;
    let r = lookup(st, a.u32(0), rights::PATH_UNLINK_FILE, &path, Final::Entry)?;
    std::fs::remove_file(r.host_path())?;
    Ok(())
}

fn stat_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, unstable: bool) -> WasiResult<()> {
    let (fd, flags, path, len, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4));
    let path = read_path(mem, path, len)?;
    let r = lookup(st, fd, rights::PATH_FILESTAT_GET, &path, follow(flags))?;
    // The final component is not a symlink unless it was not to be followed: `lstat`.
    let m = std::fs::symlink_metadata(r.host_path())?;
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
    let times = new_times(a.u64(4), a.u64(5), a.u32(6))?;
    let path = read_path(mem, path, len)?;
    let r = lookup(
        st,
        fd,
        rights::PATH_FILESTAT_SET_TIMES,
        &path,
        follow(flags),
    )?;
    let host = r.host_path();
    let m = std::fs::symlink_metadata(&host)?;
    if m.file_type().is_symlink() {
        crate::vm::os::set_symlink_times(&host, times.0, times.1)?;
        return Ok(());
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&host)?;
    file.set_times(file_times(times))?;
    Ok(())
}

pub(crate) fn path_readlink(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, path, len, buf, buf_len, out) =
        (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4), a.u32(5));
    let path = read_path(mem, path, len)?;
    let r = lookup(st, fd, rights::PATH_READLINK, &path, Final::NoFollow)?;
    let target = std::fs::read_link(r.host_path())?;
    let mut bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()).to_vec();
    bytes.truncate(buf_len as usize);
    mem.write_bytes(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}

pub(crate) fn path_symlink(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old, old_len, fd, new, new_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4));
    let target = read_path(mem, old, old_len)?;
    let path = read_path(mem, new, new_len)?;
    let d = st.dir(fd, rights::PATH_SYMLINK)?;
    // Like cap-std: a link to an absolute path would leak host paths; refuse it.
    if target.starts_with('/') {
        return Err(Errno::PERM.into());
    }
    if target.contains('\0') {
        return Err(Errno::INVAL.into());
    }
    let r = resolve(&d.path, &path, Final::Entry)?;
    if r.trailing_slash {
        // Linux says EXIST for `name/` naming a non-directory; Wasmtime (cap-std) says NOTDIR.
        if let Ok(m) = std::fs::symlink_metadata(r.host_path_bare()) {
            if !m.is_dir() {
                return Err(Errno::NOTDIR.into());
            }
        }
    }
    std::os::unix::fs::symlink(&target, r.host_path())?;
    Ok(())
}

pub(crate) fn path_link(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old_fd, flags, old, old_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    let (new_fd, new, new_len) = (a.u32(4), a.u32(5), a.u32(6));
    let old_path = read_path(mem, old, old_len)?;
    let new_path = read_path(mem, new, new_len)?;
    let src_dir = st.dir(old_fd, rights::PATH_LINK_SOURCE)?.path.clone();
    let dst_dir = st.dir(new_fd, rights::PATH_LINK_TARGET)?.path.clone();
    // Wasmtime refuses to follow a symlink here.
    if flags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL.into());
    }
    let src = resolve(&src_dir, &old_path, Final::NoFollow)?;
    let dst = resolve(&dst_dir, &new_path, Final::Entry)?;
    std::fs::hard_link(src.host_path(), dst.host_path())?;
    Ok(())
}

pub(crate) fn path_rename(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (old_fd, old, old_len) = (a.u32(0), a.u32(1), a.u32(2));
    let (new_fd, new, new_len) = (a.u32(3), a.u32(4), a.u32(5));
    let old_path = read_path(mem, old, old_len)?;
    let new_path = read_path(mem, new, new_len)?;
    let src_dir = st.dir(old_fd, rights::PATH_RENAME_SOURCE)?.path.clone();
    let dst_dir = st.dir(new_fd, rights::PATH_RENAME_TARGET)?.path.clone();
    let src = resolve(&src_dir, &old_path, Final::Entry)?;
    let dst = resolve(&dst_dir, &new_path, Final::Entry)?;
    std::fs::rename(src.host_path(), dst.host_path())?;
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
    let base = base & d.inheriting;
    let inheriting = inheriting & d.inheriting;
    let r = resolve(&d.path, &path, follow(dirflags))?;

    // Open modes as Wasmtime chooses them.
    let mut opts = OpenOptions::new();
    let mut write = false;
    if oflags & OFLAGS_CREAT != 0 {
        if oflags & OFLAGS_EXCL != 0 {
            opts.create_new(true);
        } else {
            opts.create(true);
        }
        write = true;
    }
    if oflags & OFLAGS_TRUNC != 0 {
        opts.truncate(true);
        write = true;
    }
    if base & rights::FD_WRITE != 0 {
        write = true;
    }
    let read = base & rights::FD_READ != 0 || base & rights::FD_WRITE == 0;
    opts.read(read).write(write);
    let mut custom = libc::O_NOFOLLOW;
    if oflags & OFLAGS_DIRECTORY != 0 {
        custom |= libc::O_DIRECTORY;
    }
    opts.custom_flags(custom);
    let file = opts.open(r.host_path()).map_err(Fail::from)?;
    let meta = file.metadata()?;
    let desc = if meta.is_dir() {
        Desc::Dir(DirDesc {
            file,
            path: DirPath {
                root: r.as_dir().root,
                rel: r.as_dir().rel,
            },
            preopen: None,
            base: base & !rights::NOT_FOR_DIRECTORIES,
            inheriting,
            listing: None,
        })
    } else {
        if oflags & OFLAGS_DIRECTORY != 0 {
            return Err(Errno::NOTDIR.into());
        }
        Desc::File(FileDesc {
            file,
            pos: 0,
            append: fdflags & FDFLAGS_APPEND != 0,
            nonblock: fdflags & FDFLAGS_NONBLOCK != 0,
            filetype: filetype_of(&meta.file_type()),
            base: base & !rights::DIRECTORY_ONLY,
            inheriting: inheriting & !rights::DIRECTORY_ONLY,
        })
    };
    let new_fd = st.push(desc);
    mem.write_u32(out, new_fd)
}
