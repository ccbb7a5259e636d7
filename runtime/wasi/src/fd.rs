//! WASI phase, `fd_*` calls: reading, writing, seeking and describing open descriptors.

use super::mem::{Mem, WasiResult};
use super::state::{sink_is_tty, write_sink, Desc, DirEntry, WasiState};
use super::types::*;
use cap_fs_ext::SystemTimeSpec;
use std::os::unix::fs::FileExt;

/// Arguments of a call, read as the unsigned integers WASI means.
pub(crate) struct Args<'a>(pub(crate) &'a [runtime_engine::Val]);

impl Args<'_> {
    pub(crate) fn u32(&self, i: usize) -> u32 {
        match self.0[i] {
            runtime_engine::Val::I32(v) => v as u32,
            runtime_engine::Val::I64(v) => v as u32,
            _ => 0,
        }
    }
    pub(crate) fn u64(&self, i: usize) -> u64 {
        match self.0[i] {
            runtime_engine::Val::I64(v) => v as u64,
            runtime_engine::Val::I32(v) => v as u32 as u64,
            _ => 0,
        }
    }
}

fn retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

pub(crate) fn fd_read(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, iovs, count, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    let (ptr, len) = mem.first_iovec(iovs, count)?;
    let n = match st.desc(fd)? {
        Desc::File(f) => {
            f.need(rights::FD_READ)?;
            let pos = f.pos;
            let n = mem.fill(ptr, len, |buf| Ok(retry(|| f.file.read_at(buf, pos))?))?;
            f.pos = f.pos.checked_add(n as u64).ok_or(Errno::OVERFLOW)?;
            n
        }
        Desc::Stdin(s) => mem.fill(ptr, len, |buf| Ok(retry(|| s.read(buf))?))?,
        _ => return Err(Errno::BADF.into()),
    };
    mem.write_u32(out, n as u32)
}

pub(crate) fn fd_pread(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, iovs, count, offset, out) = (a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    let (ptr, len) = mem.first_iovec(iovs, count)?;
    let n = match st.desc(fd)? {
        Desc::File(f) => {
            f.need(rights::FD_READ | rights::FD_SEEK)?;
            mem.fill(ptr, len, |buf| Ok(retry(|| f.file.read_at(buf, offset))?))?
        }
        Desc::Stdin(_) => return Err(Errno::SPIPE.into()),
        _ => return Err(Errno::BADF.into()),
    };
    mem.write_u32(out, n as u32)
}

fn write_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, at: Option<u64>) -> WasiResult<u32> {
    let (fd, iovs, count) = (a.u32(0), a.u32(1), a.u32(2));
    let (ptr, len) = mem.first_iovec(iovs, count)?;
    let n = match st.desc(fd)? {
        Desc::File(f) => {
            let need = if at.is_some() {
                rights::FD_WRITE | rights::FD_SEEK
            } else {
                rights::FD_WRITE
            };
            f.need(need)?;
            let buf = mem.slice(ptr, len)?;
            if f.append {
                // Like Linux `pwrite` on an `O_APPEND` file, even `fd_pwrite` appends.
                let end = f.file.metadata()?.len();
                let n = retry(|| f.file.write_at(&buf, end))?;
                if at.is_none() {
                    f.pos = end + n as u64;
                }
                n
            } else {
                let pos = at.unwrap_or(f.pos);
                let n = retry(|| f.file.write_at(&buf, pos))?;
                if at.is_none() {
                    f.pos = pos.checked_add(n as u64).ok_or(Errno::OVERFLOW)?;
                }
                n
            }
        }
        Desc::Stdout(sink) | Desc::Stderr(sink) if at.is_some() => {
            let _ = sink;
            return Err(Errno::SPIPE.into());
        }
        Desc::Stdout(sink) => {
            write_sink(sink, false, &mem.slice(ptr, len)?)?;
            len as usize
        }
        Desc::Stderr(sink) => {
            write_sink(sink, true, &mem.slice(ptr, len)?)?;
            len as usize
        }
        _ => return Err(Errno::BADF.into()),
    };
    Ok(n as u32)
}

pub(crate) fn fd_write(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let n = write_impl(st, mem, a, None)?;
    mem.write_u32(a.u32(3), n)
}

pub(crate) fn fd_pwrite(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let n = write_impl(st, mem, a, Some(a.u64(3)))?;
    mem.write_u32(a.u32(4), n)
}

/// `fd_seek`; `unstable` selects `wasi_unstable`'s numbering of `whence`.
pub(crate) fn fd_seek_impl(
    st: &mut WasiState,
    mem: &mut Mem,
    a: &Args,
    unstable: bool,
) -> WasiResult<()> {
    let (fd, offset, whence, out) = (a.u32(0), a.u64(1) as i64, a.u32(2), a.u32(3));
    // 0 = set, 1 = current, 2 = end.
    let whence = match (unstable, whence) {
        (false, w @ 0..=2) => w,
        (true, 0) => 1,
        (true, 1) => 2,
        (true, 2) => 0,
        _ => return Err(Errno::INVAL.into()),
    };
    let f = match st.desc(fd)? {
        Desc::File(f) => f,
        Desc::Stdin(_) | Desc::Stdout(_) | Desc::Stderr(_) => return Err(Errno::SPIPE.into()),
        Desc::Dir(_) => return Err(Errno::BADF.into()),
    };
    if whence == 1 && offset == 0 {
        if f.base & (rights::FD_SEEK | rights::FD_TELL) == 0 {
            return Err(Errno::NOTCAPABLE.into());
        }
    } else {
        f.need(rights::FD_SEEK)?;
    }
    let pos = match whence {
        0 => u64::try_from(offset).map_err(|_| Errno::INVAL)?,
        1 => f.pos.checked_add_signed(offset).ok_or(Errno::INVAL)?,
        _ => f
            .file
            .metadata()?
            .len()
            .checked_add_signed(offset)
            .ok_or(Errno::INVAL)?,
    };
    f.pos = pos;
    mem.write_u64(out, pos)
}

pub(crate) fn fd_seek(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    fd_seek_impl(st, mem, a, false)
}

pub(crate) fn fd_seek_unstable(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    fd_seek_impl(st, mem, a, true)
}

pub(crate) fn fd_tell(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let pos = match st.desc(a.u32(0))? {
        Desc::File(f) => {
            f.need(rights::FD_TELL)?;
            f.pos
        }
        Desc::Stdin(_) | Desc::Stdout(_) | Desc::Stderr(_) => return Err(Errno::SPIPE.into()),
        Desc::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u64(a.u32(1), pos)
}

pub(crate) fn fd_sync(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    st.file(a.u32(0), rights::FD_SYNC)?.file.sync_all()?;
    Ok(())
}

pub(crate) fn fd_datasync(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    st.file(a.u32(0), rights::FD_DATASYNC)?.file.sync_data()?;
    Ok(())
}

pub(crate) fn fd_advise(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    if a.u32(3) > 5 {
        return Err(Errno::INVAL.into());
    }
    // Advice is only a hint; accepting it without acting on it is correct.
    st.file(a.u32(0), rights::FD_ADVISE)?;
    Ok(())
}

pub(crate) fn fd_allocate(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    // Wasmtime does not implement `fd_allocate` either.
    st.file(a.u32(0), rights::FD_ALLOCATE)?;
    Err(Errno::NOTSUP.into())
}

pub(crate) fn fd_close(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    st.remove(a.u32(0))?;
    Ok(())
}

pub(crate) fn fd_renumber(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    st.renumber(a.u32(0), a.u32(1))
}

pub(crate) fn fd_fdstat_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let tty = |t: bool| {
        if t {
            FILETYPE_CHARACTER_DEVICE
        } else {
            FILETYPE_UNKNOWN
        }
    };
    let (filetype, flags, base, inheriting) = match st.desc(a.u32(0))? {
        Desc::Stdin(s) => (tty(s.is_tty()), 0, rights::FD_READ, rights::FD_READ),
        Desc::Stdout(o) => (
            tty(sink_is_tty(o, false)),
            0,
            rights::FD_WRITE,
            rights::FD_WRITE,
        ),
        Desc::Stderr(o) => (
            tty(sink_is_tty(o, true)),
            0,
            rights::FD_WRITE,
            rights::FD_WRITE,
        ),
        Desc::Dir(d) => (FILETYPE_DIRECTORY, 0, d.base, d.inheriting),
        Desc::File(f) => {
            let mut flags = 0;
            if f.append {
                flags |= FDFLAGS_APPEND;
            }
            if f.nonblock {
                flags |= FDFLAGS_NONBLOCK;
            }
            (f.filetype()?, flags, f.base, f.inheriting)
        }
    };
    let mut b = [0u8; 24];
    b[0] = filetype;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&base.to_le_bytes());
    b[16..24].copy_from_slice(&inheriting.to_le_bytes());
    mem.write_bytes(a.u32(1), &b)
}

pub(crate) fn fd_fdstat_set_flags(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    let flags = a.u32(1);
    if flags > 0x1f {
        return Err(Errno::INVAL.into());
    }
    let flags = flags as u16;
    let f = st.file(a.u32(0), rights::FD_FDSTAT_SET_FLAGS)?;
    if flags & (FDFLAGS_DSYNC | FDFLAGS_SYNC | FDFLAGS_RSYNC) != 0 {
        return Err(Errno::INVAL.into());
    }
    f.append = flags & FDFLAGS_APPEND != 0;
    f.nonblock = flags & FDFLAGS_NONBLOCK != 0;
    Ok(())
}

pub(crate) fn fd_fdstat_set_rights(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    let (base, inheriting) = (a.u64(1), a.u64(2));
    let (cur_base, cur_inh) = match st.desc(a.u32(0))? {
        Desc::File(f) => (&mut f.base, &mut f.inheriting),
        Desc::Dir(d) => (&mut d.base, &mut d.inheriting),
        _ => return Err(Errno::BADF.into()),
    };
    if base & !*cur_base != 0 || inheriting & !*cur_inh != 0 {
        return Err(Errno::NOTCAPABLE.into());
    }
    *cur_base = base;
    *cur_inh = inheriting;
    Ok(())
}

fn filestat_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, unstable: bool) -> WasiResult<()> {
    let tty = |t: bool| {
        if t {
            FILETYPE_CHARACTER_DEVICE
        } else {
            FILETYPE_UNKNOWN
        }
    };
    let stat = match st.desc(a.u32(0))? {
        Desc::Stdin(s) => Filestat {
            filetype: tty(s.is_tty()),
            ..Filestat::default()
        },
        Desc::Stdout(o) => Filestat {
            filetype: tty(sink_is_tty(o, false)),
            ..Filestat::default()
        },
        Desc::Stderr(o) => Filestat {
            filetype: tty(sink_is_tty(o, true)),
            ..Filestat::default()
        },
        Desc::File(f) => {
            f.need(rights::FD_FILESTAT_GET)?;
            Filestat::from_metadata(&cap_std::fs::Metadata::from_file(&f.file)?)
        }
        Desc::Dir(d) => {
            d.need(rights::FD_FILESTAT_GET)?;
            Filestat::from_metadata(&d.dir.dir_metadata()?)
        }
    };
    mem.write_bytes(a.u32(1), &stat.encode(unstable))
}

pub(crate) fn fd_filestat_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    filestat_impl(st, mem, a, false)
}

pub(crate) fn fd_filestat_get_unstable(
    st: &mut WasiState,
    mem: &mut Mem,
    a: &Args,
) -> WasiResult<()> {
    filestat_impl(st, mem, a, true)
}

pub(crate) fn fd_filestat_set_size(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    st.file(a.u32(0), rights::FD_FILESTAT_SET_SIZE)?
        .file
        .set_len(a.u64(1))?;
    Ok(())
}

/// New (access, modification) times for `fst_flags` (`None`: leave as is); setting a
/// time both to a value and to "now" is `INVAL`.
pub(crate) type NewTimes = (Option<SystemTimeSpec>, Option<SystemTimeSpec>);

pub(crate) fn new_times(atim: u64, mtim: u64, fst_flags: u32) -> WasiResult<NewTimes> {
    if fst_flags > 0xf {
        return Err(Errno::INVAL.into());
    }
    let flags = fst_flags as u16;
    let pick = |set: u16, now: u16, ts: u64| -> WasiResult<Option<SystemTimeSpec>> {
        match (flags & set != 0, flags & now != 0) {
            (true, true) => Err(Errno::INVAL.into()),
            (true, false) => Ok(Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(
                    std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ts),
                ),
            ))),
            (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
            (false, false) => Ok(None),
        }
    };
    Ok((
        pick(FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW, atim)?,
        pick(FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW, mtim)?,
    ))
}

/// The times as `utimensat(2)` takes them (`UTIME_NOW`, `UTIME_OMIT` or a time).
fn timestamps((atime, mtime): NewTimes) -> rustix::fs::Timestamps {
    let spec = |t: Option<SystemTimeSpec>| match t {
        None => rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        Some(SystemTimeSpec::SymbolicNow) => rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        Some(SystemTimeSpec::Absolute(t)) => {
            let d = t
                .into_std()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rustix::fs::Timespec {
                tv_sec: d.as_secs() as _,
                tv_nsec: d.subsec_nanos() as _,
            }
        }
    };
    rustix::fs::Timestamps {
        last_access: spec(atime),
        last_modification: spec(mtime),
    }
}

pub(crate) fn fd_filestat_set_times(st: &mut WasiState, _: &mut Mem, a: &Args) -> WasiResult<()> {
    let times = timestamps(new_times(a.u64(1), a.u64(2), a.u32(3))?);
    match st.desc(a.u32(0))? {
        Desc::File(f) => {
            f.need(rights::FD_FILESTAT_SET_TIMES)?;
            rustix::fs::futimens(&f.file, &times)?;
        }
        Desc::Dir(d) => {
            d.need(rights::FD_FILESTAT_SET_TIMES)?;
            // The directory itself (its descriptor may be `O_PATH`, which `futimens`
            // refuses); `.` never leaves it.
            rustix::fs::utimensat(&*d.dir, ".", &times, rustix::fs::AtFlags::empty())?;
        }
        _ => return Err(Errno::BADF.into()),
    }
    Ok(())
}

pub(crate) fn fd_prestat_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    match st.desc(a.u32(0))? {
        Desc::Dir(d) if d.preopen.is_some() => {
            let len = d.preopen.as_ref().map_or(0, |p| p.len()) as u32;
            let mut b = [0u8; 8];
            b[0] = PREOPENTYPE_DIR;
            b[4..8].copy_from_slice(&len.to_le_bytes());
            mem.write_bytes(a.u32(1), &b)
        }
        _ => Err(Errno::BADF.into()),
    }
}

pub(crate) fn fd_prestat_dir_name(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (ptr, max) = (a.u32(1), a.u32(2));
    match st.desc(a.u32(0))? {
        Desc::Dir(d) if d.preopen.is_some() => {
            let name = d.preopen.as_deref().unwrap_or("");
            if name.len() > max as usize {
                return Err(Errno::NAMETOOLONG.into());
            }
            mem.write_bytes(ptr, name.as_bytes())
        }
        _ => Err(Errno::NOTDIR.into()),
    }
}

fn list_dir(d: &super::state::DirDesc) -> WasiResult<Vec<DirEntry>> {
    use rustix::fs::DirEntryExt;
    // Lists the directory the descriptor holds (reopened as `.`), wherever it now is.
    let mut entries = Vec::new();
    for entry in d.dir.entries()? {
        let entry = entry?;
        let name = entry.file_name().into_string().map_err(|_| Errno::ILSEQ)?;
        let filetype = filetype_of(&entry.file_type()?);
        entries.push(DirEntry {
            name,
            ino: entry.ino(),
            filetype,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

pub(crate) fn fd_readdir(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let (fd, buf, buf_len, cookie, out) = (a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    mem.slice(buf, buf_len)?;
    let d = st.dir(fd, rights::FD_READDIR)?;
    if cookie == 0 || d.listing.is_none() {
        d.listing = Some(list_dir(d)?);
    }
    let dir_ino = {
        use cap_std::fs::MetadataExt;
        d.dir.dir_metadata()?.ino()
    };
    let listing = d.listing.as_ref().expect("just listed");
    let head = [
        DirEntry {
            name: ".".into(),
            ino: dir_ino,
            filetype: FILETYPE_DIRECTORY,
        },
        DirEntry {
            name: "..".into(),
            ino: dir_ino,
            filetype: FILETYPE_DIRECTORY,
        },
    ];
    let mut bytes: Vec<u8> = Vec::new();
    let cap = buf_len as usize;
    let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in head.iter().chain(listing.iter()).enumerate().skip(skip) {
        if bytes.len() >= cap {
            break;
        }
        let mut header = [0u8; DIRENT_SIZE];
        header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        header[8..16].copy_from_slice(&e.ino.to_le_bytes());
        header[16..20].copy_from_slice(&(e.name.len() as u32).to_le_bytes());
        header[20] = e.filetype;
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(e.name.as_bytes());
    }
    bytes.truncate(cap);
    mem.write_bytes(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}
