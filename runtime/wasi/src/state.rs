//! WASI phase, state: the per-instance descriptor table (numbered as Wasmtime numbers
//! them), the arguments and environment, and the clocks' origin. Every file and directory
//! descriptor holds an open host descriptor; a directory is a capability that paths are
//! resolved beneath, never a host path.

use super::ctx::{InputSource, OutputSink, WasiCtx};
use super::mem::WasiResult;
use super::types::{rights, Errno};
use cap_std::fs::Dir;
use rustix::fd::AsFd;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

/// One entry of a directory listing, as `fd_readdir` reports it.
#[derive(Clone, Debug)]
pub(crate) struct DirEntry {
    pub(crate) name: String,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
}

pub(crate) struct FileDesc {
    pub(crate) file: File,
    pub(crate) pos: u64,
    pub(crate) append: bool,
    pub(crate) nonblock: bool,
    /// The WASI file type, once known (looked up on first use: a file opened for
    /// writing is known not to be a directory, so opening it needs no `fstat`).
    pub(crate) filetype: Option<u8>,
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
}

pub(crate) struct DirDesc {
    /// The open directory; shared with the context it was preopened from.
    pub(crate) dir: Arc<Dir>,
    /// The guest name if this is a preopen.
    pub(crate) preopen: Option<String>,
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
    /// The listing `fd_readdir` pages through; refreshed at cookie 0.
    pub(crate) listing: Option<Vec<DirEntry>>,
}

pub(crate) enum Desc {
    Stdin(StdinDesc),
    Stdout(OutputSink),
    Stderr(OutputSink),
    File(FileDesc),
    Dir(DirDesc),
}

pub(crate) struct StdinDesc {
    pub(crate) source: InputSource,
    pub(crate) pos: usize,
}

impl StdinDesc {
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.source {
            // Unbuffered: what the guest has not read stays in the pipe, where
            // `poll_oneoff` can see it.
            InputSource::Inherit => loop {
                match rustix::io::read(rustix::stdio::stdin(), &mut *buf) {
                    Err(rustix::io::Errno::INTR) => continue,
                    r => return r.map_err(io::Error::from),
                }
            },
            InputSource::Bytes(bytes) => {
                let rest = &bytes[self.pos.min(bytes.len())..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.pos += n;
                Ok(n)
            }
        }
    }
    pub(crate) fn is_tty(&self) -> bool {
        matches!(self.source, InputSource::Inherit) && io::stdin().is_terminal()
    }
}

/// Writes all of `buf` to a standard output or error.
pub(crate) fn write_sink(sink: &OutputSink, is_stderr: bool, buf: &[u8]) -> io::Result<()> {
    match sink {
        OutputSink::Inherit if is_stderr => write_through(&mut io::stderr().lock(), buf),
        OutputSink::Inherit => write_through(&mut io::stdout().lock(), buf),
        OutputSink::Capture(b) => {
            b.lock().extend_from_slice(buf);
            Ok(())
        }
        OutputSink::Null => Ok(()),
    }
}

/// Writes `buf` straight to the host descriptor behind `out` (after whatever the host
/// process itself buffered there): one `write(2)` per guest write, no copy.
fn write_through(out: &mut (impl Write + AsFd), mut buf: &[u8]) -> io::Result<()> {
    out.flush()?;
    while !buf.is_empty() {
        match rustix::io::write(out.as_fd(), buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(crate) fn sink_is_tty(sink: &OutputSink, is_stderr: bool) -> bool {
    matches!(sink, OutputSink::Inherit)
        && if is_stderr {
            io::stderr().is_terminal()
        } else {
            io::stdout().is_terminal()
        }
}

impl FileDesc {
    pub(crate) fn filetype(&mut self) -> io::Result<u8> {
        if let Some(t) = self.filetype {
            return Ok(t);
        }
        let meta = cap_std::fs::Metadata::from_file(&self.file)?;
        let t = super::types::filetype_of(&meta.file_type());
        self.filetype = Some(t);
        Ok(t)
    }
    pub(crate) fn need(&self, right: u64) -> WasiResult<()> {
        if self.base & right == right {
            Ok(())
        } else {
            Err(Errno::NOTCAPABLE.into())
        }
    }
}

impl DirDesc {
    pub(crate) fn need(&self, right: u64) -> WasiResult<()> {
        if self.base & right == right {
            Ok(())
        } else {
            Err(Errno::NOTCAPABLE.into())
        }
    }
}

pub(crate) struct WasiState {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) fds: BTreeMap<u32, Desc>,
    free: BTreeSet<u32>,
    pub(crate) urandom: Option<File>,
    pub(crate) epoch: std::time::Instant,
}

impl WasiState {
    pub(crate) fn new(ctx: WasiCtx) -> runtime_engine::Result<WasiState> {
        let mut st = WasiState {
            args: ctx.args,
            env: ctx.env,
            fds: BTreeMap::new(),
            free: BTreeSet::new(),
            urandom: None,
            epoch: std::time::Instant::now(),
        };
        st.push(Desc::Stdin(StdinDesc {
            source: ctx.stdin,
            pos: 0,
        }));
        st.push(Desc::Stdout(ctx.stdout));
        st.push(Desc::Stderr(ctx.stderr));
        for preopen in ctx.preopens {
            st.push(Desc::Dir(DirDesc {
                dir: preopen.dir,
                preopen: Some(preopen.guest),
                base: rights::PREOPEN_BASE,
                inheriting: rights::PREOPEN_INHERITING,
                listing: None,
            }));
        }
        Ok(st)
    }

    /// Adds a descriptor: the highest freed number first, else one past the highest.
    pub(crate) fn push(&mut self, desc: Desc) -> u32 {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => self.fds.last_key_value().map_or(0, |(fd, _)| fd + 1),
        };
        self.fds.insert(fd, desc);
        fd
    }

    pub(crate) fn remove(&mut self, fd: u32) -> WasiResult<Desc> {
        let desc = self.fds.remove(&fd).ok_or(Errno::BADF)?;
        self.free.insert(fd);
        Ok(desc)
    }

    /// `to` takes over `from`'s descriptor; `to`'s old one is closed.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        if !self.fds.contains_key(&to) || !self.fds.contains_key(&from) {
            return Err(Errno::BADF.into());
        }
        if from != to {
            let desc = self.fds.remove(&from).expect("checked");
            self.free.insert(from);
            self.free.remove(&to);
            self.fds.insert(to, desc);
        }
        Ok(())
    }

    pub(crate) fn desc(&mut self, fd: u32) -> WasiResult<&mut Desc> {
        self.fds.get_mut(&fd).ok_or_else(|| Errno::BADF.into())
    }

    /// A file descriptor that has `right`; anything else is `BADF`.
    pub(crate) fn file(&mut self, fd: u32, right: u64) -> WasiResult<&mut FileDesc> {
        match self.fds.get_mut(&fd) {
            Some(Desc::File(f)) => {
                f.need(right)?;
                Ok(f)
            }
            _ => Err(Errno::BADF.into()),
        }
    }

    /// A directory descriptor that has `right`; anything else is `BADF`.
    pub(crate) fn dir(&mut self, fd: u32, right: u64) -> WasiResult<&mut DirDesc> {
        match self.fds.get_mut(&fd) {
            Some(Desc::Dir(d)) => {
                d.need(right)?;
                Ok(d)
            }
            _ => Err(Errno::BADF.into()),
        }
    }
}

/// The store that owns the WASI state may move to another thread, and wasi-threads will
/// share the descriptor table: everything in it must be `Send`.
const _: () = {
    const fn send<T: Send>() {}
    send::<WasiState>();
    send::<WasiCtx>();
    send::<super::ctx::OutputBuffer>();
};
