//! Emscripten system calls: guest-memory marshalling shared by both ABIs, and the legacy
//! `___syscallN(which, varargs)` entry points of emcc 1.38.

use super::ctx::{Args, Ctx, HResult, Handler, Ret};
use super::fs::{Errno, Stat, AT_FDCWD};
use super::Abi;
use runtime_engine::{Trap, Val};
use std::sync::Arc;

/// A system call's failure: an error number for the program, or a trap.
pub(crate) enum SysErr {
    E(Errno),
    T(Trap),
}

impl From<Errno> for SysErr {
    fn from(e: Errno) -> SysErr {
        SysErr::E(e)
    }
}
impl From<Trap> for SysErr {
    fn from(t: Trap) -> SysErr {
        SysErr::T(t)
    }
}

pub(crate) type Sys<T = i32> = Result<T, SysErr>;

/// `-errno` in the ABI's numbering, or the trap.
pub(crate) fn finish(abi: Abi, r: Sys<i32>) -> HResult {
    match r {
        Ok(v) => Ok(Ret::I32(v)),
        Err(SysErr::E(e)) => Ok(Ret::I32(-errno(abi, e))),
        Err(SysErr::T(t)) => Err(t),
    }
}

pub(crate) fn errno(abi: Abi, e: Errno) -> i32 {
    match abi {
        Abi::Legacy => e.legacy(),
        Abi::Modern => e.wasi(),
    }
}

/// The guest path at `ptr`, made absolute against `dirfd`.
pub(crate) fn path_at(ctx: &mut Ctx<'_>, dirfd: i32, ptr: u32) -> Sys<String> {
    if ptr == 0 {
        return Err(Errno::Fault.into());
    }
    let p = ctx.cstr(ptr)?;
    Ok(ctx.st().fs.resolve_at(dirfd, &p)?)
}

pub(crate) fn path(ctx: &mut Ctx<'_>, ptr: u32) -> Sys<String> {
    path_at(ctx, AT_FDCWD, ptr)
}

pub(crate) fn open_at(ctx: &mut Ctx<'_>, dirfd: i32, ptr: u32, flags: i32, mode: u32) -> Sys {
    let p = path_at(ctx, dirfd, ptr)?;
    Ok(ctx.st().fs.open(&p, flags, mode)?)
}

pub(crate) fn read(ctx: &mut Ctx<'_>, fd: i32, buf: u32, count: u32, offset: Option<u64>) -> Sys {
    // The buffer first: `fs.read` allocates `count` bytes (and /dev/urandom fills them).
    ctx.slice(buf, count)?;
    let data = ctx.st().fs.read(fd, count as usize, offset)?;
    ctx.write(buf, &data)?;
    Ok(data.len() as i32)
}

pub(crate) fn write(ctx: &mut Ctx<'_>, fd: i32, buf: u32, count: u32, offset: Option<u64>) -> Sys {
    let data = ctx.read(buf, count)?;
    Ok(ctx.st().fs.write(fd, &data, offset)? as i32)
}

/// `readv`: fills the buffers in turn, stopping at a short read.
pub(crate) fn readv(ctx: &mut Ctx<'_>, fd: i32, iov: u32, iovcnt: i32, offset: Option<u64>) -> Sys {
    let mut total = 0i32;
    for i in 0..iovcnt.max(0) as u32 {
        let ptr = ctx.u32(iov + i * 8)?;
        let len = ctx.u32(iov + i * 8 + 4)?;
        let off = offset.map(|o| o + total as u64);
        let n = read(ctx, fd, ptr, len, off)?;
        total += n;
        if (n as u32) < len {
            break;
        }
    }
    Ok(total)
}

/// `writev`: gathers the buffers and writes them at once.
pub(crate) fn writev(
    ctx: &mut Ctx<'_>,
    fd: i32,
    iov: u32,
    iovcnt: i32,
    offset: Option<u64>,
) -> Sys {
    let mut data = Vec::new();
    for i in 0..iovcnt.max(0) as u32 {
        let ptr = ctx.u32(iov + i * 8)?;
        let len = ctx.u32(iov + i * 8 + 4)?;
        data.extend_from_slice(&ctx.read(ptr, len)?);
    }
    Ok(ctx.st().fs.write(fd, &data, offset)? as i32)
}

/// Fills a `struct stat` (same layout in both ABIs: 32-bit `time_t`).
pub(crate) fn write_stat(ctx: &mut Ctx<'_>, buf: u32, s: &Stat) -> Sys {
    ctx.set_u32(buf, s.dev)?;
    ctx.set_u32(buf + 4, 0)?;
    ctx.set_u32(buf + 8, s.ino as u32)?;
    ctx.set_u32(buf + 12, s.mode)?;
    ctx.set_u32(buf + 16, s.nlink)?;
    ctx.set_u32(buf + 20, s.uid)?;
    ctx.set_u32(buf + 24, s.gid)?;
    ctx.set_u32(buf + 28, s.rdev)?;
    ctx.set_u32(buf + 32, 0)?;
    ctx.set_i64(buf + 40, s.size as i64)?;
    ctx.set_u32(buf + 48, 4096)?;
    ctx.set_u32(buf + 52, s.blocks)?;
    for (i, t) in [s.atime, s.mtime, s.ctime].into_iter().enumerate() {
        ctx.set_i32(buf + 56 + 8 * i as u32, t as i32)?;
        ctx.set_i32(buf + 60 + 8 * i as u32, 0)?;
    }
    ctx.set_i64(buf + 80, s.ino as i64)?;
    Ok(0)
}

pub(crate) fn stat(ctx: &mut Ctx<'_>, dirfd: i32, ptr: u32, buf: u32, follow: bool) -> Sys {
    let p = path_at(ctx, dirfd, ptr)?;
    let s = ctx.st().fs.stat(&p, follow)?;
    write_stat(ctx, buf, &s)
}

pub(crate) fn fstat(ctx: &mut Ctx<'_>, fd: i32, buf: u32) -> Sys {
    let s = ctx.st().fs.fstat(fd)?;
    write_stat(ctx, buf, &s)
}

/// `getdents64`: 280-byte records as Emscripten's library wrote them.
pub(crate) fn getdents(ctx: &mut Ctx<'_>, fd: i32, dirp: u32, count: u32) -> Sys {
    const SIZE: u32 = 280;
    let (start, entries) = ctx.st().fs.dir_entries(fd)?;
    let mut pos = 0u32;
    let mut n = 0u64;
    for e in entries {
        if pos + SIZE > count {
            break;
        }
        let rec = dirp + pos;
        ctx.set_i64(rec, e.ino as i64)?;
        ctx.set_i64(rec + 8, ((start + n + 1) * SIZE as u64) as i64)?;
        ctx.set_u16(rec + 16, SIZE as u16)?;
        ctx.set_u8(rec + 18, e.kind)?;
        let mut name = e.name.into_bytes();
        name.truncate(255);
        ctx.write_cstr(rec + 19, &name)?;
        pos += SIZE;
        n += 1;
    }
    ctx.st().fs.advance_dir(fd, n)?;
    Ok(pos as i32)
}

pub(crate) fn getcwd(ctx: &mut Ctx<'_>, buf: u32, size: u32) -> Sys<Vec<u8>> {
    if size == 0 {
        return Err(Errno::Inval.into());
    }
    let cwd = ctx.st().fs.cwd().as_bytes().to_vec();
    if (size as usize) < cwd.len() + 1 {
        return Err(Errno::Range.into());
    }
    ctx.write_cstr(buf, &cwd)?;
    Ok(cwd)
}

pub(crate) fn uname(ctx: &mut Ctx<'_>, buf: u32) -> Sys {
    if buf == 0 {
        return Err(Errno::Fault.into());
    }
    ctx.slice(buf, 390)?.fill(0);
    for (off, s) in [
        (0, "Emscripten"),
        (65, "emscripten"),
        (130, "1.0"),
        (195, "#1"),
        (260, "x86-JS"),
    ] {
        ctx.write_cstr(buf + off, s.as_bytes())?;
    }
    Ok(0)
}

pub(crate) fn statfs(ctx: &mut Ctx<'_>, buf: u32) -> Sys {
    for (off, v) in [
        (4, 4096),
        (40, 4096),
        (8, 1_000_000),
        (12, 500_000),
        (16, 500_000),
        (20, 1000),
        (24, 1_000_000),
        (28, 42),
        (44, 2),
        (36, 255),
    ] {
        ctx.set_i32(buf + off, v)?;
    }
    Ok(0)
}

pub(crate) fn poll(ctx: &mut Ctx<'_>, fds: u32, nfds: u32) -> Sys {
    let mut nonzero = 0;
    for i in 0..nfds {
        let p = fds + 8 * i;
        let fd = ctx.i32(p)?;
        let events = u16::from_le_bytes(ctx.read(p + 4, 2)?.try_into().unwrap());
        let mut mask: u16 = 32; // POLLNVAL
        if let Ok((r, w)) = ctx.st().fs.poll(fd) {
            mask = if r { 1 } else { 0 } | if w { 4 } else { 0 };
        }
        mask &= events | 8 | 16;
        if mask != 0 {
            nonzero += 1;
        }
        ctx.set_u16(p + 6, mask)?;
    }
    Ok(nonzero)
}

pub(crate) fn ioctl(ctx: &mut Ctx<'_>, fd: i32, op: u32, argp: u32) -> Sys {
    let tty = ctx.st().fs.is_tty(fd)?;
    match op {
        0x5401 | 0x5405 | 0x5402..=0x5404 | 0x5406..=0x5408 | 0x5413 | 0x5414 => {
            if tty {
                Ok(0)
            } else {
                Err(Errno::NoTty.into())
            }
        }
        0x540F => {
            if !tty {
                return Err(Errno::NoTty.into());
            }
            ctx.set_i32(argp, 0)?;
            Ok(0)
        }
        0x5410 => Err(if tty { Errno::Inval } else { Errno::NoTty }.into()),
        0x541B => {
            ctx.set_i32(argp, 0)?;
            Ok(0)
        }
        _ => Err(Errno::Inval.into()),
    }
}

pub(crate) fn fcntl(ctx: &mut Ctx<'_>, fd: i32, cmd: i32, arg: u32) -> Sys {
    let flags = ctx.st().fs.flags(fd)?;
    match cmd {
        0 | 1030 => {
            if (arg as i32) < 0 {
                return Err(Errno::Inval.into());
            }
            Ok(ctx.st().fs.dup(fd, arg as i32)?)
        }
        1 | 2 => Ok(0),
        3 => Ok(flags),
        4 => {
            ctx.st().fs.set_flags(fd, arg as i32)?;
            Ok(0)
        }
        5 | 12 => {
            ctx.set_u16(arg, 2)?;
            Ok(0)
        }
        6 | 7 | 13 | 14 => Ok(0),
        _ => Err(Errno::Inval.into()),
    }
}

pub(crate) fn pipe(ctx: &mut Ctx<'_>, fds: u32) -> Sys {
    let (r, w) = ctx.st().fs.pipe()?;
    ctx.set_i32(fds, r)?;
    ctx.set_i32(fds + 4, w)?;
    Ok(0)
}

pub(crate) fn readlink(ctx: &mut Ctx<'_>, dirfd: i32, ptr: u32, buf: u32, size: u32) -> Sys {
    if size == 0 {
        return Err(Errno::Inval.into());
    }
    let p = path_at(ctx, dirfd, ptr)?;
    let mut target = ctx.st().fs.readlink(&p)?;
    target.truncate(size as usize);
    ctx.write(buf, &target)?;
    Ok(target.len() as i32)
}

/// Anonymous `mmap`: zeroed memory from the program's allocator (page-aligned when
/// `memalign` is exported); file mappings are read in.
pub(crate) fn mmap(ctx: &mut Ctx<'_>, len: u32, fd: i32, off: u64, page: u32) -> Sys {
    let ptr = if ctx.c_func("memalign").is_some() {
        ctx.call_c_i32("memalign", &[Val::I32(page as i32), Val::I32(len as i32)])? as u32
    } else {
        let raw = ctx.malloc(len.saturating_add(page))?;
        if raw == 0 {
            0
        } else {
            raw.next_multiple_of(page)
        }
    };
    if ptr == 0 {
        return Err(Errno::NoMem.into());
    }
    ctx.slice(ptr, len)?.fill(0);
    if fd != -1 {
        let data = ctx.st().fs.read(fd, len as usize, Some(off))?;
        ctx.write(ptr, &data)?;
    }
    Ok(ptr as i32)
}

fn varargs(ctx: &mut Ctx<'_>, ptr: u32, n: usize) -> Result<Vec<u32>, Trap> {
    (0..n as u32).map(|i| ctx.u32(ptr + 4 * i)).collect()
}

fn combine(low: u32, high: u32) -> i64 {
    ((high as u64) << 32 | low as u64) as i64
}

/// The handler of `___syscall{n}` (legacy ABI: arguments in a varargs buffer).
pub(crate) fn legacy_syscall(n: u32) -> Handler {
    Arc::new(move |ctx: &mut Ctx<'_>, args: &Args<'_>| {
        let va = args.u32(1);
        let r = legacy_dispatch(ctx, n, va);
        finish(Abi::Legacy, r)
    })
}

fn legacy_dispatch(ctx: &mut Ctx<'_>, n: u32, va: u32) -> Sys {
    let a = |ctx: &mut Ctx<'_>, k: usize| -> Result<Vec<u32>, Trap> { varargs(ctx, va, k) };
    match n {
        3 => {
            let v = a(ctx, 3)?;
            read(ctx, v[0] as i32, v[1], v[2], None)
        }
        4 => {
            let v = a(ctx, 3)?;
            write(ctx, v[0] as i32, v[1], v[2], None)
        }
        5 => {
            let v = a(ctx, 3)?;
            open_at(ctx, AT_FDCWD, v[0], v[1] as i32, v[2])
        }
        6 => {
            let v = a(ctx, 1)?;
            ctx.st().fs.close(v[0] as i32)?;
            Ok(0)
        }
        10 => {
            let v = a(ctx, 1)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.unlink(&p)?;
            Ok(0)
        }
        12 => {
            let v = a(ctx, 1)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.chdir(&p)?;
            Ok(0)
        }
        15
        | 36
        | 57
        | 66
        | 75
        | 94
        | 118
        | 125
        | 144
        | 148
        | 150..=153
        | 178
        | 198
        | 207
        | 212
        | 219
        | 272
        | 298
        | 306
        | 320
        | 324 => Ok(0),
        20 | 65 | 132 | 147 => Ok(42),
        64 => Ok(1),
        29 => Err(Errno::Inval.into()),
        34 | 97 | 121 => Err(Errno::Perm.into()),
        33 => {
            let v = a(ctx, 2)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.access(&p)?;
            Ok(0)
        }
        38 => {
            let v = a(ctx, 2)?;
            let (o, n) = (path(ctx, v[0])?, path(ctx, v[1])?);
            ctx.st().fs.rename(&o, &n)?;
            Ok(0)
        }
        39 => {
            let v = a(ctx, 2)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.mkdir(&p, v[1])?;
            Ok(0)
        }
        40 => {
            let v = a(ctx, 1)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.rmdir(&p)?;
            Ok(0)
        }
        41 => {
            let v = a(ctx, 1)?;
            Ok(ctx.st().fs.dup(v[0] as i32, 0)?)
        }
        42 | 331 => {
            let v = a(ctx, 1)?;
            pipe(ctx, v[0])
        }
        54 => {
            let v = a(ctx, 3)?;
            ioctl(ctx, v[0] as i32, v[1], v[2])
        }
        60 => Ok(0o022),
        63 | 330 => {
            let v = a(ctx, 2)?;
            if v[0] == v[1] {
                ctx.st().fs.flags(v[0] as i32)?;
                return Ok(v[0] as i32);
            }
            Ok(ctx.st().fs.dup2(v[0] as i32, v[1] as i32)?)
        }
        77 => {
            let v = a(ctx, 2)?;
            ctx.slice(v[1], 136)?.fill(0);
            Ok(0)
        }
        83 | 304 => Err(Errno::Perm.into()),
        85 => {
            let v = a(ctx, 3)?;
            readlink(ctx, AT_FDCWD, v[0], v[1], v[2])
        }
        91 => Ok(0),
        122 => {
            let v = a(ctx, 1)?;
            uname(ctx, v[0])
        }
        133 => {
            let v = a(ctx, 1)?;
            ctx.st().fs.fchdir(v[0] as i32)?;
            Ok(0)
        }
        140 => {
            let v = a(ctx, 5)?;
            let pos = ctx
                .st()
                .fs
                .seek(v[0] as i32, combine(v[2], v[1]), v[4] as i32)?;
            ctx.set_i64(v[3], pos as i64)?;
            Ok(0)
        }
        145 => {
            let v = a(ctx, 3)?;
            readv(ctx, v[0] as i32, v[1], v[2] as i32, None)
        }
        146 => {
            let v = a(ctx, 3)?;
            writev(ctx, v[0] as i32, v[1], v[2] as i32, None)
        }
        163 => Err(Errno::NoMem.into()),
        168 => {
            let v = a(ctx, 3)?;
            poll(ctx, v[0], v[1])
        }
        180 | 181 => {
            let v = a(ctx, 6)?;
            let off = Some(combine(v[4], v[5]) as u64);
            if n == 180 {
                read(ctx, v[0] as i32, v[1], v[2], off)
            } else {
                write(ctx, v[0] as i32, v[1], v[2], off)
            }
        }
        183 => {
            let v = a(ctx, 2)?;
            getcwd(ctx, v[0], v[1])?;
            Ok(v[0] as i32)
        }
        191 => {
            let v = a(ctx, 2)?;
            for k in 0..4 {
                ctx.set_i32(v[1] + 4 * k, -1)?;
            }
            Ok(0)
        }
        192 => {
            let v = a(ctx, 6)?;
            mmap(ctx, v[1], v[4] as i32, (v[5] as u64) << 12, 16384)
        }
        193 => {
            let v = a(ctx, 4)?;
            let p = path(ctx, v[0])?;
            ctx.st().fs.truncate(&p, combine(v[2], v[3]) as u64)?;
            Ok(0)
        }
        194 => {
            let v = a(ctx, 4)?;
            ctx.st()
                .fs
                .ftruncate(v[0] as i32, combine(v[2], v[3]) as u64)?;
            Ok(0)
        }
        195 | 196 => {
            let v = a(ctx, 2)?;
            stat(ctx, AT_FDCWD, v[0], v[1], n == 195)
        }
        197 => {
            let v = a(ctx, 2)?;
            fstat(ctx, v[0] as i32, v[1])
        }
        199..=202 => Ok(0),
        205 => {
            let v = a(ctx, 2)?;
            if v[0] < 1 {
                return Err(Errno::Inval.into());
            }
            ctx.set_i32(v[1], 0)?;
            Ok(1)
        }
        209 | 211 => {
            let v = a(ctx, 3)?;
            for p in v {
                ctx.set_i32(p, 0)?;
            }
            Ok(0)
        }
        220 => {
            let v = a(ctx, 3)?;
            getdents(ctx, v[0] as i32, v[1], v[2])
        }
        221 => {
            let v = a(ctx, 3)?;
            fcntl(ctx, v[0] as i32, v[1] as i32, v[2])
        }
        252 => {
            let v = a(ctx, 1)?;
            Err(Trap::exit(v[0] as i32).into())
        }
        268 => {
            let v = a(ctx, 3)?;
            path(ctx, v[0])?;
            statfs(ctx, v[2])
        }
        269 => {
            let v = a(ctx, 3)?;
            ctx.st().fs.flags(v[0] as i32)?;
            statfs(ctx, v[2])
        }
        295 => {
            let v = a(ctx, 4)?;
            open_at(ctx, v[0] as i32, v[1], v[2] as i32, v[3])
        }
        296 => {
            let v = a(ctx, 3)?;
            let p = path_at(ctx, v[0] as i32, v[1])?;
            ctx.st().fs.mkdir(&p, v[2])?;
            Ok(0)
        }
        300 => {
            let v = a(ctx, 4)?;
            stat(ctx, v[0] as i32, v[1], v[2], v[3] & 0x100 == 0)
        }
        301 => {
            let v = a(ctx, 3)?;
            let p = path_at(ctx, v[0] as i32, v[1])?;
            if v[2] & 0x200 != 0 {
                ctx.st().fs.rmdir(&p)?;
            } else {
                ctx.st().fs.unlink(&p)?;
            }
            Ok(0)
        }
        302 => {
            let v = a(ctx, 4)?;
            let o = path_at(ctx, v[0] as i32, v[1])?;
            let n = path_at(ctx, v[2] as i32, v[3])?;
            ctx.st().fs.rename(&o, &n)?;
            Ok(0)
        }
        303 => Err(Errno::Perm.into()),
        305 => {
            let v = a(ctx, 4)?;
            readlink(ctx, v[0] as i32, v[1], v[2], v[3])
        }
        307 => {
            let v = a(ctx, 4)?;
            let p = path_at(ctx, v[0] as i32, v[1])?;
            ctx.st().fs.access(&p)?;
            Ok(0)
        }
        333 | 334 => {
            let v = a(ctx, 5)?;
            let off = Some(combine(v[3], v[4]) as u64);
            if n == 333 {
                readv(ctx, v[0] as i32, v[1], v[2] as i32, off)
            } else {
                writev(ctx, v[0] as i32, v[1], v[2] as i32, off)
            }
        }
        340 => {
            let v = a(ctx, 4)?;
            if v[3] != 0 {
                for k in 0..4 {
                    ctx.set_i32(v[3] + 4 * k, -1)?;
                }
            }
            Ok(0)
        }
        _ => Err(Errno::NoSys.into()),
    }
}
