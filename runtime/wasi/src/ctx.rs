//! WASI phase, context: arguments, environment, preopened directories and standard I/O,
//! built with [`WasiCtxBuilder`]; and [`WasiP1Ctx`], the live state a store keeps.
//! Everything here is `Send`: the store that owns it may move between threads.

use super::state::WasiState;
use cap_std::fs::Dir;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes a guest wrote to a captured standard output or error. Cheap to clone; all
/// clones see the same buffer, and it may be read on another thread.
#[derive(Clone, Debug, Default)]
pub struct OutputBuffer(Arc<Mutex<Vec<u8>>>);

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }
    /// The buffer, locked. A writer that panicked while holding the lock left only
    /// whole appended writes behind, so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }
    /// Everything written so far, as (lossy) UTF-8.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }
}

/// Where the guest's standard input comes from.
#[derive(Clone, Debug)]
pub(crate) enum InputSource {
    /// The host process's stdin (read unbuffered, so `poll_oneoff` sees what is left).
    Inherit,
    /// Fixed bytes; end of file after them.
    Bytes(Arc<[u8]>),
}

/// A preopened directory: the open host directory (a capability: every guest path is
/// resolved beneath it), the host path it was opened from (for messages only) and the
/// name the guest sees.
#[derive(Clone, Debug)]
pub(crate) struct Preopen {
    pub(crate) dir: Arc<Dir>,
    pub(crate) host: PathBuf,
    pub(crate) guest: String,
}

/// Where the guest's standard output or error goes.
#[derive(Clone, Debug)]
pub(crate) enum OutputSink {
    Inherit,
    Capture(OutputBuffer),
    /// Accepted and dropped.
    Null,
}

/// Everything a WASI program sees of its host, as configured. Make one with
/// [`WasiCtxBuilder`]; a store keeps the live state made from it, a [`WasiP1Ctx`].
#[derive(Clone, Debug)]
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    /// The preopened directories, in fd order starting at 3.
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) stdin: InputSource,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
}

impl WasiCtx {
    /// A builder with the defaults (see [`WasiCtxBuilder`]).
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
    /// The program's arguments (`argv`, program name first).
    pub fn args(&self) -> &[String] {
        &self.args
    }
    /// The preopened directories as (host path they were opened from, guest name).
    pub fn preopens(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.preopens
            .iter()
            .map(|p| (p.host.as_path(), p.guest.as_str()))
    }
}

/// Builds a [`WasiCtx`]. By default: no arguments, empty environment, no preopens,
/// empty standard input, standard output and error discarded.
#[derive(Clone, Debug)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    preopens: Vec<(PathBuf, String)>,
    stdin: InputSource,
    stdout: OutputSink,
    stderr: OutputSink,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// A builder with the defaults: no arguments, empty environment, no preopens, empty
    /// standard input, standard output and error discarded.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            stdin: InputSource::Bytes(Arc::from(Vec::new())),
            stdout: OutputSink::Null,
            stderr: OutputSink::Null,
        }
    }

    /// Appends one argument (the first one is the program name, `argv[0]`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
    /// Appends arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
    /// Sets one environment variable (replacing an earlier value of the same key).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key, value)),
        }
        self
    }
    /// Sets environment variables.
    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }
    /// Copies the host process's environment (variables that are not UTF-8 are skipped).
    pub fn inherit_env(self) -> Self {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        self.envs(vars)
    }
    /// Preopens host directory `host` under the guest name `guest` (e.g. `/` or `.`).
    /// [`build`](Self::build) opens it; from then on the guest reaches it through that
    /// open descriptor only, whatever later happens to the path.
    pub fn preopened_dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.preopens.push((host.into(), guest.into()));
        self
    }
    /// Standard input, output and error are the host process's.
    pub fn inherit_stdio(self) -> Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }
    /// Standard input is the host process's.
    pub fn inherit_stdin(mut self) -> Self {
        self.stdin = InputSource::Inherit;
        self
    }
    /// Standard output is the host process's.
    pub fn inherit_stdout(mut self) -> Self {
        self.stdout = OutputSink::Inherit;
        self
    }
    /// Standard error is the host process's.
    pub fn inherit_stderr(mut self) -> Self {
        self.stderr = OutputSink::Inherit;
        self
    }
    /// Standard input reads these bytes, then end of file.
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = InputSource::Bytes(Arc::from(bytes.into()));
        self
    }
    /// Standard output goes to `buffer`.
    pub fn stdout_buffer(mut self, buffer: &OutputBuffer) -> Self {
        self.stdout = OutputSink::Capture(buffer.clone());
        self
    }
    /// Standard error goes to `buffer`.
    pub fn stderr_buffer(mut self, buffer: &OutputBuffer) -> Self {
        self.stderr = OutputSink::Capture(buffer.clone());
        self
    }
    /// Captures standard output into a new buffer, returned alongside.
    pub fn capture_stdout(self) -> (Self, OutputBuffer) {
        let b = OutputBuffer::new();
        (self.stdout_buffer(&b), b)
    }
    /// Captures standard error into a new buffer, returned alongside.
    pub fn capture_stderr(self) -> (Self, OutputBuffer) {
        let b = OutputBuffer::new();
        (self.stderr_buffer(&b), b)
    }

    /// Opens the preopened directories and makes the context.
    pub fn build(self) -> runtime_engine::Result<WasiCtx> {
        let mut preopens = Vec::with_capacity(self.preopens.len());
        for (host, guest) in self.preopens {
            // Opening the host's own path is the one use of ambient authority: the user
            // named this directory on the command line or in the embedding.
            let dir = Dir::open_ambient_dir(&host, cap_std::ambient_authority()).map_err(|e| {
                runtime_engine::Error::Usage(format!(
                    "cannot preopen directory `{}`: {e}",
                    host.display()
                ))
            })?;
            preopens.push(Preopen {
                dir: Arc::new(dir),
                host,
                guest,
            });
        }
        Ok(WasiCtx {
            args: self.args,
            env: self.env,
            preopens,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
        })
    }
}

impl WasiCtxBuilder {
    /// Checks the preopened directories, opens them and makes the state a store keeps.
    pub fn build_p1(self) -> runtime_engine::Result<WasiP1Ctx> {
        WasiP1Ctx::new(self.build()?)
    }
}

/// The WASI preview1 state of a program: descriptor table, arguments, environment, clocks.
/// Keep it in the store's host data and give [`add_to_linker`](super::add_to_linker) a
/// function that finds it there.
///
/// Clones share the state: the threads of a wasi-threads program (one store each) all use
/// one descriptor table. Each WASI call holds the state's lock while it runs, so calls of
/// different threads never interleave inside one another (a call that blocks, such as a
/// `poll_oneoff` sleep or a read of the inherited stdin, makes other threads' WASI calls
/// wait for it).
#[derive(Clone)]
pub struct WasiP1Ctx {
    pub(crate) state: Arc<Mutex<WasiState>>,
}

impl WasiP1Ctx {
    /// Opens the preopened directories of `ctx` and makes its state.
    pub fn new(ctx: WasiCtx) -> runtime_engine::Result<WasiP1Ctx> {
        Ok(WasiP1Ctx {
            state: Arc::new(Mutex::new(WasiState::new(ctx)?)),
        })
    }

    /// The state, locked. A WASI call that panicked (caught as a host error) left the table
    /// as its last completed change, so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, WasiState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for WasiP1Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiP1Ctx")
            .field("args", &self.lock().args)
            .finish_non_exhaustive()
    }
}
