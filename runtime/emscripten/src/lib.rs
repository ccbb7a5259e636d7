//! Emscripten: runs programs built by emcc, both the legacy ABI of emcc 1.38 (asm2wasm;
//! `env.memory`/`env.table` imports, `___syscallN`, `DYNAMICTOP_PTR`, …) and the current one
//! (`wasi_snapshot_preview1` plus a few `env` imports), with a virtual filesystem rooted in a
//! temporary (or given) directory and capturable standard output.
//!
//! ```no_run
//! use runtime_emscripten as emscripten;
//! use runtime_engine::{Engine, Module, Store};
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! assert!(emscripten::is_emscripten_module(&module));
//! let out = emscripten::Capture::new();
//! let options = emscripten::Options { stdout: out.sink(), ..Default::default() };
//! let mut store = Store::new(&engine, emscripten::Emscripten::default());
//! let code = emscripten::run(&mut store, &module, &options)?;
//! println!("exit {code}: {}", String::from_utf8_lossy(&out.contents()));
//! # Ok::<(), runtime_engine::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ctx;
mod eh;
mod fs;
mod legacy;
mod libc;
mod modern;
mod syscalls;
mod time;

pub use ctx::Emscripten;
use ctx::{call, is_unwind, state, State};
use runtime_engine::{Error, ExternType, Instance, Module, Result, Store, Trap, Val};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Which Emscripten ABI a module was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// emcc 1.38 and older (fastcomp/asm2wasm): imports its memory and table from `env`.
    Legacy,
    /// Current emcc: WASI `wasi_snapshot_preview1` plus Emscripten's `env` functions.
    Modern,
}

/// The ABI `module` was built for, if it looks like an Emscripten program.
pub fn detect(module: &Module) -> Option<Abi> {
    let imports = module.imports();
    let env = |name: &str| imports.iter().any(|i| i.module == "env" && i.name == name);
    let legacy_markers = imports.iter().any(|i| {
        i.module == "env"
            && (matches!(
                i.name.as_str(),
                "DYNAMICTOP_PTR"
                    | "STACKTOP"
                    | "STACK_MAX"
                    | "tempDoublePtr"
                    | "abortStackOverflow"
                    | "abortOnCannotGrowMemory"
                    | "_emscripten_memcpy_big"
                    | "enlargeMemory"
                    | "getTotalMemory"
            ) || i.name.starts_with("___syscall")
                || i.name.starts_with("nullFunc_"))
    });
    let imports_memory_or_table = imports
        .iter()
        .any(|i| i.module == "env" && matches!(i.ty, ExternType::Memory(_) | ExternType::Table(_)));
    if legacy_markers && (imports_memory_or_table || env("DYNAMICTOP_PTR")) {
        return Some(Abi::Legacy);
    }
    let modern_markers = imports.iter().any(|i| {
        i.module == "env"
            && (i.name.starts_with("emscripten_")
                || i.name.starts_with("_emscripten_")
                || i.name.starts_with("__syscall_")
                || i.name.starts_with("invoke_")
                || matches!(
                    i.name.as_str(),
                    "setTempRet0" | "getTempRet0" | "__cxa_throw" | "_abort_js" | "_tzset_js"
                ))
    });
    let exports = module.exports();
    let has_export = |n: &str| exports.iter().any(|e| e.name == n);
    if modern_markers
        && (has_export("__wasm_call_ctors")
            || has_export("_start")
            || has_export("main")
            || has_export("__main_argc_argv"))
    {
        return Some(Abi::Modern);
    }
    None
}

/// Whether `module` is an Emscripten program this runtime can run with [`run`].
pub fn is_emscripten_module(module: &Module) -> bool {
    detect(module).is_some()
}

/// Where a program's standard output or error goes.
#[derive(Clone, Default)]
pub enum Sink {
    /// The host process's own stream.
    #[default]
    Inherit,
    /// Nowhere.
    Discard,
    /// Into a buffer.
    Capture(Capture),
}

impl Sink {
    pub(crate) fn write(&self, data: &[u8]) {
        match self {
            Sink::Inherit => {}
            Sink::Discard => return,
            Sink::Capture(c) => {
                c.0.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(data);
                return;
            }
        }
        let _ = std::io::stdout().write_all(data);
        let _ = std::io::stdout().flush();
    }

    pub(crate) fn write_err(&self, data: &[u8]) {
        match self {
            Sink::Inherit => {
                let _ = std::io::stderr().write_all(data);
            }
            other => other.write(data),
        }
    }
}

/// A buffer that collects what a program writes; cheap to clone and `Send`.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// An empty buffer.
    pub fn new() -> Capture {
        Capture::default()
    }
    /// A sink writing into this buffer.
    pub fn sink(&self) -> Sink {
        Sink::Capture(self.clone())
    }
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How to run a program.
#[derive(Clone)]
pub struct Options {
    /// `argv[0]` (emcc's JavaScript used `./this.program`).
    pub program_name: String,
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// Variables added to Emscripten's default environment (`USER`, `PATH`, `HOME`, …).
    pub env: Vec<(String, String)>,
    /// The host directory the guest's `/` maps to; `None`: no filesystem, every path
    /// operation fails with `ENOENT` (stdio still works). The runtime never creates one;
    /// [`default_layout`] lays out a directory the embedder made like Emscripten's default
    /// filesystem.
    pub root: Option<PathBuf>,
    /// What the program reads from standard input.
    pub stdin: Vec<u8>,
    /// Where standard output goes.
    pub stdout: Sink,
    /// Where standard error goes.
    pub stderr: Sink,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            program_name: "./this.program".into(),
            args: Vec::new(),
            env: Vec::new(),
            root: None,
            stdin: Vec::new(),
            stdout: Sink::Inherit,
            stderr: Sink::Inherit,
        }
    }
}

/// Creates, inside `root`, the directories of Emscripten's default filesystem: `/tmp`,
/// `/home/web_user` and `/dev`. For a directory the embedder made for one program (the CLI
/// uses a temporary one when no `--dir` is given).
pub fn default_layout(root: &std::path::Path) -> std::io::Result<()> {
    for sub in ["tmp", "home/web_user", "dev"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    Ok(())
}

/// Links, initialises and runs an Emscripten program's `main`; returns its exit code
/// (`main`'s result or the status given to `exit`). Imports the runtime does not provide
/// (EM_ASM/EM_JS JavaScript, embind, unknown functions) are an [`Error::Link`] naming them;
/// an `abort()`, failed assertion, uncaught C++ exception or wasm trap is an [`Error::Trap`].
///
/// The store's host data is replaced by this program's state.
pub fn run(store: &mut Store<Emscripten>, module: &Module, options: &Options) -> Result<i32> {
    let abi = detect(module).ok_or_else(|| Error::Link("not an Emscripten module".into()))?;
    let fs = fs::Vfs::new(
        options.root.as_deref(),
        options.stdin.clone(),
        options.stdout.clone(),
        options.stderr.clone(),
    )
    .map_err(|e| Error::Usage(format!("emscripten: cannot set up the filesystem: {e}")))?;
    store.data_mut().state = Some(State {
        abi,
        memory: None,
        table: None,
        instance: None,
        fs,
        env: libc::default_env(&options.program_name, &options.env),
        temp_ret0: 0,
        statics: Default::default(),
        getenv_ret: 0,
        environ_ptr: 0,
        saved_stacks: Vec::new(),
        pthread_keys: Vec::new(),
        pthread_once: Vec::new(),
        exceptions: Default::default(),
        random_state: 0x853c_49e6_748f_ea9b,
        stack_max: 0,
    });
    let result = match abi {
        Abi::Legacy => run_legacy(&mut *store, module, options),
        Abi::Modern => modern::run(&mut *store, module, options),
    };
    match result {
        // An `abort()` reaches JavaScript's top level, which prints it.
        Err(Error::Trap(t)) if t.message().starts_with("abort(") => {
            options
                .stderr
                .write_err(format!("{}\n", t.message()).as_bytes());
            Err(Error::Trap(t))
        }
        Err(Error::Trap(t)) if is_unwind(&t) => Err(Error::Trap(Trap::host(
            "uncaught exception: a C++ throw or a longjmp with no matching catch or setjmp",
        ))),
        other => other,
    }
}

fn run_legacy(store: &mut Store<Emscripten>, module: &Module, options: &Options) -> Result<i32> {
    let layout = legacy::Layout::compute(module);
    state(&mut *store).statics = layout.statics;
    state(&mut *store).stack_max = layout.stack_max;
    let imports = legacy::imports(&mut *store, module, &layout)?;
    let memory = state(&mut *store)
        .memory
        .ok_or_else(|| Error::Link("emscripten: the program imports no memory".into()))?;
    legacy::init_memory(&mut *store, memory, &layout)?;
    let instance = Instance::new(&mut *store, module, &imports)?;
    state(&mut *store).instance = Some(instance);
    let inits = [
        "__post_instantiate",
        "___emscripten_environ_constructor",
        "globalCtors",
    ];
    start(&mut *store, instance, Some(memory), options, &inits)
}

/// Runs the initialisers that exist, then `main` with `argc`/`argv` on the stack; flushes stdio.
pub(crate) fn start(
    store: &mut Store<Emscripten>,
    instance: Instance,
    memory: Option<runtime_engine::Memory>,
    options: &Options,
    inits: &[&str],
) -> Result<i32> {
    let trap = Error::Trap;
    let mut ran_ctors = false;
    for name in inits {
        if let Some(f) = instance.get_func(&mut *store, name) {
            ran_ctors |= *name == "globalCtors" || *name == "__wasm_call_ctors";
            call(&mut *store, f, &[]).map_err(trap)?;
        }
    }
    if !ran_ctors {
        let ctors: Vec<_> = instance
            .exports(&mut *store)
            .into_iter()
            .filter(|(n, _)| n.starts_with("__GLOBAL__"))
            .filter_map(|(_, e)| e.into_func())
            .collect();
        for f in ctors {
            call(&mut *store, f, &[]).map_err(trap)?;
        }
    }
    let main = ["_main", "main", "__main_argc_argv", "__original_main"]
        .iter()
        .find_map(|n| instance.get_func(&mut *store, n));
    let Some(main) = main else {
        return Err(Error::Link(
            "emscripten: the program exports no `main`".into(),
        ));
    };
    let nparams = main.ty(&mut *store).params().len();
    let mut args = Vec::new();
    if nparams >= 2 {
        let argv = build_argv(&mut *store, instance, memory, options).map_err(trap)?;
        args.push(Val::I32(options.args.len() as i32 + 1));
        args.push(Val::I32(argv as i32));
        args.extend((2..nparams).map(|_| Val::I32(0)));
    } else {
        args.extend((0..nparams).map(|_| Val::I32(0)));
    }
    let result = call(&mut *store, main, &args);
    let flush = |store: &mut Store<Emscripten>| {
        if let Some(f) = instance
            .get_func(&mut *store, "_fflush")
            .or_else(|| instance.get_func(&mut *store, "fflush"))
        {
            let _ = call(&mut *store, f, &[Val::I32(0)]);
        }
    };
    match result {
        Ok(v) => {
            flush(&mut *store);
            Ok(v.and_then(|v| v.i32()).unwrap_or(0))
        }
        Err(t) => match t.exit_status() {
            Some(code) => Ok(code),
            None => {
                flush(&mut *store);
                Err(Error::Trap(t))
            }
        },
    }
}

/// `argv` on the guest stack (through the program's `stackAlloc`).
fn build_argv(
    store: &mut Store<Emscripten>,
    instance: Instance,
    memory: Option<runtime_engine::Memory>,
    options: &Options,
) -> std::result::Result<u32, Trap> {
    let alloc = instance
        .get_func(&mut *store, "stackAlloc")
        .ok_or_else(|| Trap::host("emscripten: the program exports no `stackAlloc`"))?;
    let memory = memory
        .or_else(|| instance.get_memory(&mut *store, "memory"))
        .or_else(|| {
            instance
                .exports(&mut *store)
                .into_iter()
                .find_map(|(_, e)| e.into_memory())
        });
    let alloc_bytes =
        |store: &mut Store<Emscripten>, bytes: &[u8]| -> std::result::Result<u32, Trap> {
            let p = call(&mut *store, alloc, &[Val::I32(bytes.len() as i32)])?
                .and_then(|v| v.i32())
                .unwrap_or(0) as u32;
            Ok(p)
        };
    let strings: Vec<Vec<u8>> = std::iter::once(&options.program_name)
        .chain(&options.args)
        .map(|s| {
            let mut b = s.as_bytes().to_vec();
            b.push(0);
            b
        })
        .collect();
    let argv = alloc_bytes(&mut *store, &vec![0; (strings.len() + 1) * 4])?;
    let mut ptrs = Vec::new();
    for s in &strings {
        ptrs.push(alloc_bytes(&mut *store, s)?);
    }
    let memory = memory.ok_or_else(|| Trap::host("emscripten: no memory"))?;
    let mem = memory.data_mut(&mut *store);
    let mut put = |at: u32, bytes: &[u8]| -> std::result::Result<(), Trap> {
        mem.get_mut(at as usize..at as usize + bytes.len())
            .ok_or_else(|| Trap::new(runtime_engine::TrapCode::MemoryOutOfBounds))?
            .copy_from_slice(bytes);
        Ok(())
    };
    for (i, (s, p)) in strings.iter().zip(&ptrs).enumerate() {
        put(*p, s)?;
        put(argv + 4 * i as u32, &p.to_le_bytes())?;
    }
    put(argv + 4 * strings.len() as u32, &0u32.to_le_bytes())?;
    Ok(argv)
}

/// One error naming every import the runtime cannot provide.
pub(crate) fn link_errors(javascript: &[String], missing: &[String]) -> Result<()> {
    let mut parts = Vec::new();
    if !javascript.is_empty() {
        parts.push(format!(
            "the program needs JavaScript (EM_ASM/EM_JS/emscripten_run_script), which this runtime cannot run: {}",
            javascript.join(", ")
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "unsupported Emscripten imports: {}",
            missing.join(", ")
        ));
    }
    if parts.is_empty() {
        Ok(())
    } else {
        Err(Error::Link(format!("emscripten: {}", parts.join("; "))))
    }
}
