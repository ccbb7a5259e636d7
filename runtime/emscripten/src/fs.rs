//! Emscripten host filesystem: a virtual filesystem rooted in one host directory the embedder
//! chooses (never the host's `/`; none: stdio only), the descriptor table, stdio sinks and
//! the ABI-neutral system calls both Emscripten ABIs are built on.

use super::Sink;
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// An error number; each ABI numbers them its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Errno {
    Perm,
    NoEnt,
    Io,
    BadF,
    Again,
    NoMem,
    Acces,
    Exist,
    NotDir,
    IsDir,
    Inval,
    MFile,
    NoTty,
    SPipe,
    Range,
    NoSys,
    NotEmpty,
    NameTooLong,
    XDev,
    NoExec,
    Loop,
    Fault,
}

impl Errno {
    /// Linux (i386) numbers, as emcc 1.38's JavaScript library used them.
    pub fn legacy(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Io => 5,
            Errno::NoExec => 8,
            Errno::BadF => 9,
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Acces => 13,
            Errno::Fault => 14,
            Errno::Exist => 17,
            Errno::XDev => 18,
            Errno::NotDir => 20,
            Errno::IsDir => 21,
            Errno::Inval => 22,
            Errno::MFile => 24,
            Errno::NoTty => 25,
            Errno::SPipe => 29,
            Errno::Range => 34,
            Errno::NameTooLong => 36,
            Errno::NoSys => 38,
            Errno::NotEmpty => 39,
            Errno::Loop => 40,
        }
    }

    /// WASI numbers, which current Emscripten's libc uses.
    pub fn wasi(self) -> i32 {
        match self {
            Errno::Acces => 2,
            Errno::Again => 6,
            Errno::BadF => 8,
            Errno::Exist => 20,
            Errno::Fault => 21,
            Errno::Inval => 28,
            Errno::Io => 29,
            Errno::IsDir => 31,
            Errno::Loop => 32,
            Errno::MFile => 33,
            Errno::NameTooLong => 37,
            Errno::NoEnt => 44,
            Errno::NoExec => 45,
            Errno::NoMem => 48,
            Errno::NoSys => 52,
            Errno::NotDir => 54,
            Errno::NotEmpty => 55,
            Errno::NoTty => 59,
            Errno::Perm => 63,
            Errno::Range => 68,
            Errno::SPipe => 70,
            Errno::XDev => 75,
        }
    }

    fn from_io(e: &std::io::Error) -> Errno {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::NotFound => Errno::NoEnt,
            K::PermissionDenied => Errno::Acces,
            K::AlreadyExists => Errno::Exist,
            K::InvalidInput => Errno::Inval,
            _ => match e.raw_os_error() {
                Some(libc::ENOTDIR) => Errno::NotDir,
                Some(libc::EISDIR) => Errno::IsDir,
                Some(libc::ENOTEMPTY) => Errno::NotEmpty,
                Some(libc::EXDEV) => Errno::XDev,
                Some(libc::ENAMETOOLONG) => Errno::NameTooLong,
                Some(libc::ELOOP) => Errno::Loop,
                Some(libc::EEXIST) => Errno::Exist,
                Some(libc::ENOENT) => Errno::NoEnt,
                _ => Errno::Io,
            },
        }
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        Errno::from_io(&e)
    }
}

pub(crate) type SysResult<T> = Result<T, Errno>;

pub(crate) const O_ACCMODE: i32 = 3;
pub(crate) const O_WRONLY: i32 = 1;
pub(crate) const O_CREAT: i32 = 0o100;
pub(crate) const O_EXCL: i32 = 0o200;
pub(crate) const O_TRUNC: i32 = 0o1000;
pub(crate) const O_APPEND: i32 = 0o2000;
pub(crate) const O_DIRECTORY: i32 = 0o200000;

pub(crate) const S_IFMT: u32 = 0o170000;
pub(crate) const S_IFDIR: u32 = 0o040000;
pub(crate) const S_IFREG: u32 = 0o100000;
pub(crate) const S_IFCHR: u32 = 0o020000;
pub(crate) const S_IFIFO: u32 = 0o010000;
pub(crate) const S_IFLNK: u32 = 0o120000;

/// `AT_FDCWD` of both ABIs.
pub(crate) const AT_FDCWD: i32 = -100;

/// What a descriptor refers to.
pub(crate) enum Node {
    Stdin,
    Stdout,
    Stderr,
    /// `/dev/tty`: reads stdin, writes stdout.
    Tty,
    Null,
    Zero,
    Random,
    File(std::fs::File),
    Dir {
        host: PathBuf,
        entries: Option<Vec<DirEntry>>,
    },
    PipeRead(Arc<Mutex<VecDeque<u8>>>),
    PipeWrite(Arc<Mutex<VecDeque<u8>>>),
}

/// One entry of a directory listing.
#[derive(Clone, Debug)]
pub(crate) struct DirEntry {
    pub name: String,
    pub ino: u64,
    /// `DT_*` type: 4 directory, 8 regular file, 10 symbolic link, 2 character device.
    pub kind: u8,
}

/// An open file description (shared by `dup`ed descriptors).
pub(crate) struct OpenFile {
    pub node: Node,
    pub path: String,
    pub flags: i32,
    /// Position in a directory listing, in entries.
    pub dir_pos: u64,
}

/// The subset of `struct stat` both ABIs fill in.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stat {
    pub dev: u32,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub size: u64,
    pub blocks: u32,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
}

/// The virtual filesystem and descriptor table of one program.
pub(crate) struct Vfs {
    /// The host directory of the guest's `/`; `None`: no filesystem beyond stdio.
    root: Option<PathBuf>,
    cwd: String,
    fds: Vec<Option<Arc<Mutex<OpenFile>>>>,
    stdin: VecDeque<u8>,
    pub stdout: Sink,
    pub stderr: Sink,
    random: u64,
}

impl Vfs {
    /// A filesystem rooted at the host directory `root`; without one, every path operation
    /// fails with `ENOENT` (only stdio works). The runtime never makes a directory for it:
    /// the embedder chooses one (see [`default_layout`](crate::default_layout)).
    pub fn new(
        root: Option<&Path>,
        stdin: Vec<u8>,
        stdout: Sink,
        stderr: Sink,
    ) -> std::io::Result<Vfs> {
        let root = root.map(Path::canonicalize).transpose()?;
        let stdio = |node, path: &str, flags| {
            Some(Arc::new(Mutex::new(OpenFile {
                node,
                path: path.into(),
                flags,
                dir_pos: 0,
            })))
        };
        Ok(Vfs {
            root,
            cwd: "/".into(),
            fds: vec![
                stdio(Node::Stdin, "/dev/stdin", 0),
                stdio(Node::Stdout, "/dev/stdout", O_WRONLY),
                stdio(Node::Stderr, "/dev/stderr", O_WRONLY),
            ],
            stdin: stdin.into(),
            stdout,
            stderr,
            random: 0x2545_f491_4f6c_dd1d,
        })
    }

    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Normalises a guest path (relative ones against `base`) to an absolute guest path;
    /// `..` never climbs above `/`.
    pub fn absolute(&self, base: &str, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{base}/{path}")
        };
        let mut parts: Vec<&str> = Vec::new();
        for c in joined.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        format!("/{}", parts.join("/"))
    }

    /// The host path of an absolute guest path (`ENOENT` without a root).
    fn host(&self, guest: &str) -> SysResult<PathBuf> {
        let root = self.root.as_ref().ok_or(Errno::NoEnt)?;
        let rel = guest.trim_start_matches('/');
        Ok(if rel.is_empty() {
            root.clone()
        } else {
            root.join(rel)
        })
    }

    /// The guest path `path` relative to directory descriptor `dirfd` (or the cwd).
    pub fn resolve_at(&self, dirfd: i32, path: &str) -> SysResult<String> {
        if path.is_empty() {
            return Err(Errno::NoEnt);
        }
        if path.starts_with('/') || dirfd == AT_FDCWD {
            return Ok(self.absolute(&self.cwd, path));
        }
        let base = lock(&*self.get(dirfd)?).path.clone();
        Ok(self.absolute(&base, path))
    }

    fn get(&self, fd: i32) -> SysResult<Arc<Mutex<OpenFile>>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|f| f.clone())
            .ok_or(Errno::BadF)
    }

    fn insert(&mut self, file: Arc<Mutex<OpenFile>>, min: usize) -> SysResult<i32> {
        let slot = (min..self.fds.len()).find(|i| self.fds[*i].is_none());
        let fd = match slot {
            Some(i) => i,
            None => {
                if self.fds.len() >= 4096 {
                    return Err(Errno::MFile);
                }
                self.fds.resize(self.fds.len().max(min), None);
                self.fds.push(None);
                self.fds.len() - 1
            }
        };
        self.fds[fd] = Some(file);
        Ok(fd as i32)
    }

    fn special(guest: &str) -> Option<Node> {
        Some(match guest {
            "/dev/null" => Node::Null,
            "/dev/zero" => Node::Zero,
            "/dev/tty" | "/dev/tty1" | "/dev/console" => Node::Tty,
            "/dev/random" | "/dev/urandom" => Node::Random,
            "/dev/stdin" => Node::Stdin,
            "/dev/stdout" => Node::Stdout,
            "/dev/stderr" => Node::Stderr,
            _ => return None,
        })
    }

    /// `open(path, flags, mode)` for an absolute guest path.
    pub fn open(&mut self, guest: &str, flags: i32, mode: u32) -> SysResult<i32> {
        if let Some(node) = Self::special(guest) {
            let file = OpenFile {
                node,
                path: guest.into(),
                flags,
                dir_pos: 0,
            };
            return self.insert(Arc::new(Mutex::new(file)), 0);
        }
        let host = self.host(guest)?;
        let meta = std::fs::metadata(&host);
        if let Ok(m) = &meta {
            if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                return Err(Errno::Exist);
            }
            if m.is_dir() {
                if flags & O_ACCMODE != 0 {
                    return Err(Errno::IsDir);
                }
                let file = OpenFile {
                    node: Node::Dir {
                        host,
                        entries: None,
                    },
                    path: guest.into(),
                    flags,
                    dir_pos: 0,
                };
                return self.insert(Arc::new(Mutex::new(file)), 0);
            }
        } else if flags & O_CREAT == 0 {
            return Err(Errno::NoEnt);
        }
        if flags & O_DIRECTORY != 0 {
            return Err(Errno::NotDir);
        }
        let acc = flags & O_ACCMODE;
        let mut opts = std::fs::OpenOptions::new();
        opts.read(acc != O_WRONLY)
            .write(acc != 0)
            .create(flags & O_CREAT != 0)
            .truncate(flags & O_TRUNC != 0 && acc != 0)
            .append(flags & O_APPEND != 0);
        if flags & O_CREAT != 0 {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(if mode & 0o777 == 0 {
                0o666
            } else {
                mode & 0o777 | 0o600
            });
            if acc == 0 {
                opts.write(true);
            }
        }
        let f = opts.open(&host)?;
        let file = OpenFile {
            node: Node::File(f),
            path: guest.into(),
            flags,
            dir_pos: 0,
        };
        self.insert(Arc::new(Mutex::new(file)), 0)
    }

    pub fn close(&mut self, fd: i32) -> SysResult<()> {
        self.get(fd)?;
        self.fds[fd as usize] = None;
        Ok(())
    }

    pub fn dup(&mut self, fd: i32, min: i32) -> SysResult<i32> {
        let f = self.get(fd)?;
        self.insert(f, min.max(0) as usize)
    }

    pub fn dup2(&mut self, fd: i32, new: i32) -> SysResult<i32> {
        let f = self.get(fd)?;
        if !(0..4096).contains(&new) {
            return Err(Errno::BadF);
        }
        let new = new as usize;
        if self.fds.len() <= new {
            self.fds.resize(new + 1, None);
        }
        self.fds[new] = Some(f);
        Ok(new as i32)
    }

    pub fn pipe(&mut self) -> SysResult<(i32, i32)> {
        let buf = Arc::new(Mutex::new(VecDeque::new()));
        let r = OpenFile {
            node: Node::PipeRead(buf.clone()),
            path: "pipe".into(),
            flags: 0,
            dir_pos: 0,
        };
        let w = OpenFile {
            node: Node::PipeWrite(buf),
            path: "pipe".into(),
            flags: O_WRONLY,
            dir_pos: 0,
        };
        let r = self.insert(Arc::new(Mutex::new(r)), 0)?;
        let w = self.insert(Arc::new(Mutex::new(w)), 0)?;
        Ok((r, w))
    }

    fn next_random(&mut self) -> u8 {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        (self.random >> 24) as u8
    }

    /// Reads up to `len` bytes at the current position (or at `offset`).
    pub fn read(&mut self, fd: i32, len: usize, offset: Option<u64>) -> SysResult<Vec<u8>> {
        let file = self.get(fd)?;
        let mut file = lock(&file);
        if file.flags & O_ACCMODE == O_WRONLY {
            return Err(Errno::BadF);
        }
        match &mut file.node {
            Node::Stdin | Node::Tty => {
                let n = len.min(self.stdin.len());
                Ok(self.stdin.drain(..n).collect())
            }
            Node::Stdout | Node::Stderr | Node::PipeWrite(_) => Err(Errno::BadF),
            Node::Null => Ok(Vec::new()),
            Node::Zero => Ok(vec![0; len]),
            Node::Random => {
                drop(file);
                Ok((0..len).map(|_| self.next_random()).collect())
            }
            Node::Dir { .. } => Err(Errno::IsDir),
            Node::PipeRead(buf) => {
                let mut buf = lock(buf);
                let n = len.min(buf.len());
                Ok(buf.drain(..n).collect())
            }
            Node::File(f) => {
                let mut out = vec![0; len];
                let n = match offset {
                    Some(off) => {
                        use std::os::unix::fs::FileExt;
                        f.read_at(&mut out, off)?
                    }
                    None => read_full(f, &mut out)?,
                };
                out.truncate(n);
                Ok(out)
            }
        }
    }

    /// Writes `data` at the current position (or at `offset`); returns the count written.
    pub fn write(&mut self, fd: i32, data: &[u8], offset: Option<u64>) -> SysResult<usize> {
        let file = self.get(fd)?;
        let mut file = lock(&file);
        if file.flags & O_ACCMODE == 0
            && !matches!(
                file.node,
                Node::Stdout | Node::Stderr | Node::Tty | Node::Null
            )
        {
            return Err(Errno::BadF);
        }
        match &mut file.node {
            Node::Stdout | Node::Tty => {
                self.stdout.write(data);
                Ok(data.len())
            }
            Node::Stderr => {
                self.stderr.write_err(data);
                Ok(data.len())
            }
            Node::Stdin | Node::PipeRead(_) => Err(Errno::BadF),
            Node::Null | Node::Zero | Node::Random => Ok(data.len()),
            Node::Dir { .. } => Err(Errno::IsDir),
            Node::PipeWrite(buf) => {
                lock(buf).extend(data);
                Ok(data.len())
            }
            Node::File(f) => match offset {
                Some(off) => {
                    use std::os::unix::fs::FileExt;
                    f.write_all_at(data, off)?;
                    Ok(data.len())
                }
                None => {
                    f.write_all(data)?;
                    Ok(data.len())
                }
            },
        }
    }

    /// `lseek`; returns the new position.
    pub fn seek(&mut self, fd: i32, offset: i64, whence: i32) -> SysResult<u64> {
        let file = self.get(fd)?;
        let mut file = lock(&file);
        match &mut file.node {
            Node::File(f) => {
                let pos = match whence {
                    0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
                    1 => SeekFrom::Current(offset),
                    2 => SeekFrom::End(offset),
                    _ => return Err(Errno::Inval),
                };
                Ok(f.seek(pos).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::InvalidInput {
                        Errno::Inval
                    } else {
                        Errno::from(e)
                    }
                })?)
            }
            Node::Dir { .. } => {
                let new = match whence {
                    0 => offset,
                    1 => file.dir_pos as i64 + offset,
                    _ => return Err(Errno::Inval),
                };
                file.dir_pos = u64::try_from(new).map_err(|_| Errno::Inval)?;
                Ok(file.dir_pos)
            }
            Node::Null | Node::Zero | Node::Random => Ok(0),
            _ => Err(Errno::SPipe),
        }
    }

    pub fn is_tty(&self, fd: i32) -> SysResult<bool> {
        let file = self.get(fd)?;
        let file = lock(&file);
        Ok(matches!(
            file.node,
            Node::Stdin | Node::Stdout | Node::Stderr | Node::Tty
        ))
    }

    pub fn flags(&self, fd: i32) -> SysResult<i32> {
        Ok(lock(&*self.get(fd)?).flags)
    }

    pub fn set_flags(&mut self, fd: i32, flags: i32) -> SysResult<()> {
        let f = self.get(fd)?;
        let mut f = lock(&f);
        f.flags = (f.flags & !O_APPEND) | (flags & O_APPEND);
        Ok(())
    }

    pub fn fstat(&self, fd: i32) -> SysResult<Stat> {
        let file = self.get(fd)?;
        let file = lock(&file);
        match &file.node {
            Node::File(f) => Ok(stat_of(&f.metadata()?)),
            Node::Dir { host, .. } => Ok(stat_of(&std::fs::metadata(host)?)),
            Node::PipeRead(_) | Node::PipeWrite(_) => Ok(Stat {
                mode: S_IFIFO | 0o600,
                nlink: 1,
                ..Default::default()
            }),
            _ => Ok(device_stat()),
        }
    }

    pub fn stat(&self, guest: &str, follow: bool) -> SysResult<Stat> {
        if Self::special(guest).is_some() {
            return Ok(device_stat());
        }
        let host = self.host(guest)?;
        let meta = if follow {
            std::fs::metadata(&host)?
        } else {
            std::fs::symlink_metadata(&host)?
        };
        Ok(stat_of(&meta))
    }

    pub fn access(&self, guest: &str) -> SysResult<()> {
        self.stat(guest, true).map(|_| ())
    }

    pub fn mkdir(&mut self, guest: &str, mode: u32) -> SysResult<()> {
        if guest == "/" {
            return Err(Errno::Exist);
        }
        let host = self.host(guest)?;
        std::fs::create_dir(&host)?;
        let _ = mode;
        Ok(())
    }

    pub fn rmdir(&mut self, guest: &str) -> SysResult<()> {
        if guest == "/" {
            return Err(Errno::Perm);
        }
        let host = self.host(guest)?;
        if !std::fs::symlink_metadata(&host)?.is_dir() {
            return Err(Errno::NotDir);
        }
        std::fs::remove_dir(&host)?;
        Ok(())
    }

    pub fn unlink(&mut self, guest: &str) -> SysResult<()> {
        let host = self.host(guest)?;
        if std::fs::symlink_metadata(&host)?.is_dir() {
            return Err(Errno::IsDir);
        }
        std::fs::remove_file(&host)?;
        Ok(())
    }

    pub fn rename(&mut self, old: &str, new: &str) -> SysResult<()> {
        if old == "/" || new == "/" {
            return Err(Errno::Perm);
        }
        std::fs::rename(self.host(old)?, self.host(new)?)?;
        Ok(())
    }

    pub fn chdir(&mut self, guest: &str) -> SysResult<()> {
        if self.stat(guest, true)?.mode & S_IFMT != S_IFDIR {
            return Err(Errno::NotDir);
        }
        self.cwd = guest.to_string();
        Ok(())
    }

    pub fn fchdir(&mut self, fd: i32) -> SysResult<()> {
        let path = lock(&*self.get(fd)?).path.clone();
        self.chdir(&path)
    }

    pub fn readlink(&self, guest: &str) -> SysResult<Vec<u8>> {
        let target = std::fs::read_link(self.host(guest)?).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidInput {
                Errno::Inval
            } else {
                Errno::from(e)
            }
        })?;
        use std::os::unix::ffi::OsStrExt;
        Ok(target.as_os_str().as_bytes().to_vec())
    }

    pub fn truncate(&mut self, guest: &str, len: u64) -> SysResult<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.host(guest)?)?;
        f.set_len(len)?;
        Ok(())
    }

    pub fn ftruncate(&mut self, fd: i32, len: u64) -> SysResult<()> {
        let file = self.get(fd)?;
        let file = lock(&file);
        match &file.node {
            Node::File(f) => Ok(f.set_len(len)?),
            _ => Err(Errno::Inval),
        }
    }

    /// The entries of directory `fd` from its position on (with `.` and `..` first), and
    /// a way to advance: the caller writes what fits and calls [`Vfs::advance_dir`].
    pub fn dir_entries(&mut self, fd: i32) -> SysResult<(u64, Vec<DirEntry>)> {
        let file = self.get(fd)?;
        let mut file = lock(&file);
        let pos = file.dir_pos;
        let Node::Dir { host, entries } = &mut file.node else {
            return Err(Errno::NotDir);
        };
        if entries.is_none() {
            let meta = std::fs::metadata(&*host)?;
            let mut list = vec![
                DirEntry {
                    name: ".".into(),
                    ino: meta.ino(),
                    kind: 4,
                },
                DirEntry {
                    name: "..".into(),
                    ino: meta.ino(),
                    kind: 4,
                },
            ];
            let mut rest: Vec<DirEntry> = std::fs::read_dir(&*host)?
                .filter_map(|e| e.ok())
                .map(|e| {
                    let ft = e.file_type().ok();
                    let kind = match ft {
                        Some(t) if t.is_dir() => 4,
                        Some(t) if t.is_symlink() => 10,
                        Some(t) if t.is_file() => 8,
                        _ => 2,
                    };
                    let ino = e.metadata().map(|m| m.ino()).unwrap_or(0);
                    DirEntry {
                        name: e.file_name().to_string_lossy().into_owned(),
                        ino,
                        kind,
                    }
                })
                .collect();
            rest.sort_by(|a, b| a.name.cmp(&b.name));
            list.extend(rest);
            *entries = Some(list);
        }
        let list = entries.as_ref().unwrap();
        Ok((pos, list.iter().skip(pos as usize).cloned().collect()))
    }

    pub fn advance_dir(&mut self, fd: i32, by: u64) -> SysResult<()> {
        let file = self.get(fd)?;
        lock(&file).dir_pos += by;
        Ok(())
    }

    /// Poll readiness: (readable, writable) of `fd`.
    pub fn poll(&self, fd: i32) -> SysResult<(bool, bool)> {
        let file = self.get(fd)?;
        let file = lock(&file);
        Ok(match &file.node {
            Node::PipeRead(b) => (!lock(b).is_empty(), false),
            Node::PipeWrite(_) => (false, true),
            _ => (true, true),
        })
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn stat_of(m: &std::fs::Metadata) -> Stat {
    let ft = m.file_type();
    let kind = if ft.is_dir() {
        S_IFDIR
    } else if ft.is_symlink() {
        S_IFLNK
    } else if ft.is_file() {
        S_IFREG
    } else {
        S_IFCHR
    };
    Stat {
        dev: 1,
        ino: m.ino(),
        mode: kind | (m.mode() & 0o7777),
        nlink: m.nlink() as u32,
        uid: 0,
        gid: 0,
        rdev: 0,
        size: if ft.is_dir() { 4096 } else { m.len() },
        blocks: m.len().div_ceil(4096) as u32,
        atime: m.atime(),
        mtime: m.mtime(),
        ctime: m.ctime(),
    }
}

fn device_stat() -> Stat {
    Stat {
        dev: 6,
        ino: 1,
        mode: S_IFCHR | 0o666,
        nlink: 1,
        rdev: 0x500,
        ..Default::default()
    }
}

/// Locks a shared open file or pipe buffer (a poisoned lock still holds valid data).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_root_paths_fail_and_stdio_works() {
        let mut fs = Vfs::new(None, b"in".to_vec(), Sink::Discard, Sink::Discard).unwrap();
        assert_eq!(
            fs.open("/tmp/x", O_CREAT | O_WRONLY, 0o644),
            Err(Errno::NoEnt)
        );
        assert_eq!(fs.mkdir("/tmp", 0o755), Err(Errno::NoEnt));
        assert!(matches!(fs.stat("/", true), Err(Errno::NoEnt)));
        assert_eq!(fs.write(1, b"out", None), Ok(3));
        let fd = fs.open("/dev/stdin", 0, 0).unwrap();
        assert_eq!(fs.read(fd, 2, None).unwrap(), b"in");
    }

    #[test]
    fn the_default_layout_is_made_inside_the_given_root() {
        let dir = tempfile::tempdir().unwrap();
        crate::default_layout(dir.path()).unwrap();
        let mut fs = Vfs::new(Some(dir.path()), Vec::new(), Sink::Discard, Sink::Discard).unwrap();
        let fd = fs.open("/tmp/x", O_CREAT | O_WRONLY, 0o644).unwrap();
        assert_eq!(fs.write(fd, b"x", None), Ok(1));
        assert!(dir.path().join("tmp/x").is_file());
        assert!(dir.path().join("home/web_user").is_dir());
    }
}
