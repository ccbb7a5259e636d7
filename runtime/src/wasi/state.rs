//! Per-instance WASI state: the descriptor table (numbered as Wasmtime numbers them),
//! the arguments and environment, and the clocks' origin.

use super::ctx::{InputSource, OutputSink, WasiCtx};
use super::mem::WasiResult;
use super::sandbox::DirPath;
use super::types::{rights, Errno};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
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
    pub(crate) filetype: u8,
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
}

pub(crate) struct DirDesc {
    /// The directory opened read-only (for `fstat`, timestamps).
    pub(crate) file: File,
    pub(crate) path: DirPath,
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
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &self.source {
            InputSource::Inherit => std::io::stdin().read(buf),
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
        matches!(self.source, InputSource::Inherit) && std::io::stdin().is_terminal()
    }
}

/// Writes all of `buf` to a standard output or error.
pub(crate) fn write_sink(sink: &OutputSink, is_stderr: bool, buf: &[u8]) -> std::io::Result<()> {
    match sink {
        OutputSink::Inherit if is_stderr => {
            let mut e = std::io::stderr().lock();
            e.write_all(buf)?;
            e.flush()
        }
        OutputSink::Inherit => {
            let mut o = std::io::stdout().lock();
            o.write_all(buf)?;
            o.flush()
        }
        OutputSink::Capture(b) => {
            b.append(buf);
            Ok(())
        }
        OutputSink::Null => Ok(()),
    }
}

pub(crate) fn sink_is_tty(sink: &OutputSink, is_stderr: bool) -> bool {
    matches!(sink, OutputSink::Inherit)
        && if is_stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        }
}

impl FileDesc {
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
    pub(crate) fn new(ctx: WasiCtx) -> crate::Result<WasiState> {
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
        for (host, guest) in ctx.preopens {
            let file = File::open(&host).map_err(|e| {
                crate::Error::Usage(format!(
                    "cannot open preopened directory `{}`: {e}",
                    host.display()
                ))
            })?;
            st.push(Desc::Dir(DirDesc {
                file,
                path: DirPath {
                    root: Arc::new(host),
                    rel: Vec::new(),
                },
                preopen: Some(guest),
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
