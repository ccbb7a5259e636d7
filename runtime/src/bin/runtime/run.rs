//! CLI: `run [OPTIONS] FILE [ARGS]...`, in Wasmtime's conventions. Picks the import object
//! (WASI, Emscripten or none), applies `--preload`, runs the program or `--invoke`s an export.

use crate::args::parse_args;
use crate::budgets::Budgets;
use crate::options::{self, Settings, DEFAULT_FEATURES};
use crate::{cache_config, engine_with, read, Exit};
use clap::Args;
use runtime::emscripten::{self, Abi, Emscripten, Sink};
use runtime::wasi::{self, WasiCtx, WasiP1Ctx};
use runtime::{
    Engine, Error, Extern, Func, Instance, Linker, Module, ProfilingStrategy, Store, StoreLimits,
    Val,
};
use std::path::{Path, PathBuf};

/// Options of `run` (also the top level's, so a bare FILE runs).
#[derive(Args, Debug)]
pub(crate) struct RunCommand {
    /// Options for configuring semantic execution of WebAssembly, `-W help` to see all
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]", value_parser = options::wasm_run)]
    wasm: Vec<Settings>,

    /// Options for configuring WASI, `-S help` to see all
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL[,..]]", value_parser = options::wasi)]
    wasi: Vec<Settings>,

    /// Codegen-related configuration options, `-C help` to see all
    #[arg(short = 'C', long = "codegen", value_name = "KEY[=VAL[,..]]", value_parser = options::codegen)]
    codegen: Vec<Settings>,

    /// Allow executing precompiled WebAssembly modules as `*.cwasm` files
    ///
    /// Only pass it for files made by `runtime compile` (or `Module::serialize`) that you
    /// trust: a precompiled file's machine code runs as it is, so loading one is only as
    /// safe as the file.
    #[arg(verbatim_doc_comment, long)]
    allow_precompiled: bool,

    /// Profiling strategy: `perfmap` writes /tmp/perf-<pid>.map so that `perf` names wasm
    /// functions
    #[arg(long, value_name = "STRATEGY", value_parser = parse_profile)]
    profile: Option<ProfilingStrategy>,

    /// Grant access of a host directory to a guest
    ///
    /// `HOST_DIR` alone makes it available under the same name, `HOST_DIR::GUEST_DIR` under
    /// the name `GUEST_DIR`. For an Emscripten program the first `--dir` is the guest's `/`.
    #[arg(verbatim_doc_comment, long = "dir", value_name = "HOST_DIR[::GUEST_DIR]", value_parser = parse_dir)]
    dirs: Vec<Dir>,

    /// Pass an environment variable to the program
    ///
    /// `--env FOO=BAR` sets FOO to BAR for the guest; `--env FOO` passes FOO's value in this
    /// process, if it has one. `--env` applies after `-S inherit-env`.
    #[arg(verbatim_doc_comment, long = "env", value_name = "NAME[=VAL]", value_parser = parse_env)]
    envs: Vec<EnvVar>,

    /// The function to run
    ///
    /// The export FUNCTION is called with the arguments after the module, parsed by its
    /// parameter types; its results are printed one per line.
    #[arg(verbatim_doc_comment, long, value_name = "FUNCTION")]
    invoke: Option<String>,

    /// Load the given WebAssembly module before the main module
    ///
    /// Its exports are offered to the modules loaded after it as imports from NAME.
    #[arg(verbatim_doc_comment, long = "preload", value_name = "NAME=MODULE_PATH", value_parser = parse_preload)]
    preloads: Vec<Preload>,

    /// Override the value of `argv[0]` (default: the module's path as given)
    #[arg(long, value_name = "ARGV0")]
    argv0: Option<String>,

    /// Give the program the Emscripten import object whatever its imports say
    ///
    /// Emscripten programs are detected by their imports; this forces the choice. (Not a
    /// Wasmtime option.)
    #[arg(verbatim_doc_comment, long, conflicts_with_all = ["invoke", "preloads"])]
    emscripten: bool,

    /// The WebAssembly module to run (.wasm or .wat) and the arguments to pass to it
    ///
    /// The arguments become the program's WASI (or Emscripten) arguments, or with
    /// `--invoke` the function's arguments: everything after the module belongs to it.
    /// (`FILE --invoke NAME ARGS...` is accepted too.)
    #[arg(
        verbatim_doc_comment,
        required = true,
        trailing_var_arg = true,
        value_name = "WASM"
    )]
    pub(crate) module_and_args: Vec<String>,
}

/// `--dir HOST[::GUEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dir {
    host: PathBuf,
    guest: String,
}

/// `--env NAME[=VAL]`: no value inherits NAME.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvVar {
    name: String,
    value: Option<String>,
}

/// `--preload NAME=MODULE_PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Preload {
    name: String,
    path: PathBuf,
}

fn parse_dir(text: &str) -> Result<Dir, String> {
    let (host, guest) = text.split_once("::").unwrap_or((text, text));
    if host.is_empty() || guest.is_empty() {
        return Err("expected HOST_DIR or HOST_DIR::GUEST_DIR".into());
    }
    Ok(Dir {
        host: host.into(),
        guest: guest.into(),
    })
}

fn parse_env(text: &str) -> Result<EnvVar, String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (text, None),
    };
    if name.is_empty() {
        return Err("expected NAME or NAME=VALUE".into());
    }
    Ok(EnvVar {
        name: name.into(),
        value,
    })
}

fn parse_preload(text: &str) -> Result<Preload, String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok(Preload {
            name: name.into(),
            path: path.into(),
        }),
        _ => Err("expected NAME=MODULE_PATH".into()),
    }
}

/// Which import object a program gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Imports {
    Wasi,
    Emscripten,
    None,
}

/// `--profile`'s value: the strategies this runtime has (Wasmtime's `jitdump` and `vtune`
/// are not among them).
fn parse_profile(value: &str) -> Result<ProfilingStrategy, String> {
    match value {
        "perfmap" => Ok(ProfilingStrategy::PerfMap),
        other => Err(format!(
            "unknown profiling strategy `{other}` (supported: perfmap)"
        )),
    }
}

/// What `run` does, resolved from the command line.
struct Plan {
    wasm: Settings,
    codegen: Settings,
    allow_precompiled: bool,
    profiler: ProfilingStrategy,
    wasi: Settings,
    file: String,
    args: Vec<String>,
    invoke: Option<String>,
    argv0: String,
    env: Vec<(String, String)>,
    dirs: Vec<Dir>,
    preloads: Vec<Preload>,
    budgets: Budgets,
}

impl RunCommand {
    fn plan(self) -> Result<Plan, Exit> {
        let mut rest = self.module_and_args.into_iter();
        let file = rest.next().unwrap_or_default();
        let mut args: Vec<String> = rest.collect();
        let mut invoke = self.invoke;
        // `runtime FILE --invoke NAME ARGS...`, as this CLI always accepted.
        if invoke.is_none() && args.len() >= 2 && args[0] == "--invoke" {
            invoke = Some(args[1].clone());
            args.drain(..2);
        }
        let wasi = Settings::merge(&self.wasi);
        let mut env: Vec<(String, String)> = Vec::new();
        let mut set = |name: String, value: String| match env.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => env.push((name, value)),
        };
        if wasi.flag("inherit-env") == Some(true) {
            for (name, value) in std::env::vars_os() {
                if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
                    set(name, value);
                }
            }
        }
        for EnvVar { name, value } in self.envs {
            // `--env NAME` for a NAME this process does not have passes nothing, as in Wasmtime.
            if let Some(value) = value.or_else(|| std::env::var(&name).ok()) {
                set(name, value);
            }
        }
        let wasm = Settings::merge(&self.wasm);
        Ok(Plan {
            budgets: Budgets::from_settings(&wasm)?,
            wasm,
            codegen: Settings::merge(&self.codegen),
            allow_precompiled: self.allow_precompiled,
            profiler: self.profile.unwrap_or_default(),
            argv0: self.argv0.unwrap_or_else(|| file.clone()),
            wasi,
            file,
            args,
            invoke,
            env,
            dirs: self.dirs,
            preloads: self.preloads,
        })
    }
}

/// `run [OPTIONS] FILE [ARGS]...`.
pub(crate) fn run(command: RunCommand) -> Result<(), Exit> {
    let emscripten_forced = command.emscripten;
    let plan = command.plan()?;
    let imports = match (emscripten_forced, plan.wasi.flag("cli")) {
        (true, Some(true)) => return Err(Exit::usage("`--emscripten` conflicts with `-S cli=y`")),
        (true, _) => Some(Imports::Emscripten),
        (false, Some(true)) => Some(Imports::Wasi),
        (false, _) => None,
    };
    if let Some(dir) = plan.dirs.iter().find(|d| !d.host.is_dir()) {
        return Err(Exit::error(format!(
            "`--dir {}`: no such directory",
            dir.host.display()
        )));
    }
    let bytes = read(Path::new(&plan.file))?;
    let engine = engine_with(
        plan.wasm.features(DEFAULT_FEATURES),
        &plan.budgets,
        cache_config(&plan.codegen),
        plan.profiler,
        plan.codegen.flag("inlining").unwrap_or(true),
    )?;
    let module = load(&engine, &bytes, &plan)?;
    if !plan.wasm.shared_memory() && module.memories().any(|m| m.shared) {
        return Err(Exit::error(
            "the module has a shared memory, and creating shared memories is off: enable it with \
             `-W threads` (or `-W shared-memory`)",
        ));
    }
    let imports = imports.unwrap_or_else(|| {
        let detected = detect(&module);
        if detected == Imports::Wasi && plan.wasi.flag("cli") == Some(false) {
            Imports::None
        } else {
            detected
        }
    });
    match imports {
        Imports::Emscripten => run_emscripten(&engine, &module, &plan),
        Imports::Wasi => {
            let ctx = wasi_ctx(&plan).map_err(Exit::error)?;
            let mut linker = Linker::new(&engine);
            wasi::add_to_linker(&mut linker, |host: &mut Host<WasiP1Ctx>| &mut host.ctx)
                .map_err(Exit::error)?;
            let store = Host::store(&engine, ctx, &plan);
            let threads = if crate::threads::wanted(&plan.wasi, &module) {
                let threads = crate::threads::setup(&store, &mut linker, &module)?;
                // Spawned stores get the bounds of the main one (the host data, with the
                // resource limits, is cloned into them).
                let budgets = plan.budgets.clone();
                threads.store_setup(move |store: &mut Store<Host<WasiP1Ctx>>| {
                    store.limiter(|host| &mut host.limits);
                    budgets.bound(store)
                });
                Some(threads)
            } else {
                None
            };
            let ready = |linker: &Linker<Host<WasiP1Ctx>>| {
                if let Some(threads) = &threads {
                    threads.ready(linker);
                }
            };
            run_linked(store, linker, &module, &plan, imports, &ready)
        }
        Imports::None => run_linked(
            Host::store(&engine, (), &plan),
            Linker::new(&engine),
            &module,
            &plan,
            imports,
            &|_| {},
        ),
    }
}

/// Compiles (or loads from the cache) a module; a precompiled file only with
/// `--allow-precompiled`, as in Wasmtime.
fn load(engine: &Engine, bytes: &[u8], plan: &Plan) -> Result<Module, Exit> {
    if engine.detect_precompiled(bytes).is_none() {
        return Module::new(engine, bytes).map_err(Exit::error);
    }
    if !plan.allow_precompiled {
        return Err(Exit::error(
            "running a precompiled module requires the `--allow-precompiled` flag",
        ));
    }
    Module::new_allowing_precompiled(engine, bytes).map_err(Exit::error)
}

/// The host data of a run's store: the import object's context and the resource limits.
#[derive(Clone)]
struct Host<T> {
    ctx: T,
    limits: StoreLimits,
}

impl<T: 'static> Host<T> {
    /// A store for `ctx` with the run's resource limits installed.
    fn store(engine: &Engine, ctx: T, plan: &Plan) -> Store<Host<T>> {
        let limits = plan.budgets.limits();
        let mut store = Store::new(engine, Host { ctx, limits });
        store.limiter(|host| &mut host.limits);
        store
    }
}

/// The WASI context of a run: arguments, environment, preopens and standard streams.
fn wasi_ctx(plan: &Plan) -> runtime::Result<WasiP1Ctx> {
    let inherit = |name: &str| plan.wasi.flag(name).unwrap_or(true);
    let mut ctx = WasiCtx::builder()
        .arg(plan.argv0.clone())
        .args(plan.args.iter().cloned())
        .envs(plan.env.iter().cloned());
    if inherit("inherit-stdin") {
        ctx = ctx.inherit_stdin();
    }
    if inherit("inherit-stdout") {
        ctx = ctx.inherit_stdout();
    }
    if inherit("inherit-stderr") {
        ctx = ctx.inherit_stderr();
    }
    for Dir { host, guest } in &plan.dirs {
        ctx = ctx.preopened_dir(host, guest);
    }
    ctx.build_p1()
}

/// Applies `--preload`, instantiates `module` with `linker` and runs or invokes it; `ready`
/// sees the finished linker first (wasi-threads makes its threads' instances with it).
fn run_linked<T: 'static>(
    mut store: Store<T>,
    mut linker: Linker<T>,
    module: &Module,
    plan: &Plan,
    imports: Imports,
    ready: &dyn Fn(&Linker<T>),
) -> Result<(), Exit> {
    let engine = store.engine().clone();
    plan.budgets.apply(&mut store)?;
    for Preload { name, path } in &plan.preloads {
        let preload = load(&engine, &read(path)?, plan)?;
        let instance = linker
            .instantiate(&mut store, &preload)
            .map_err(program_exit)?;
        linker
            .instance(&mut store, name, instance)
            .map_err(Exit::error)?;
    }
    if plan.wasm.flag("unknown-imports-trap") == Some(true) {
        linker
            .define_unknown_imports_as_traps(module)
            .map_err(Exit::error)?;
    }
    ready(&linker);
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(program_exit)?;
    if let Some(name) = &plan.invoke {
        return invoke(&mut store, instance, name, &plan.args);
    }
    let Some(entry) = entry_point(&store, &instance) else {
        if !plan.args.is_empty() {
            eprintln!("note: the module has no `_start` or `main`; arguments ignored");
        }
        return Ok(());
    };
    if imports != Imports::Wasi && !plan.args.is_empty() {
        eprintln!("note: program arguments are only passed to WASI and Emscripten programs");
    }
    let mut results: Vec<Val> = entry
        .ty(&store)
        .results()
        .iter()
        .map(|t| Val::default_for(*t))
        .collect();
    let outcome = entry.call(&mut store, &[], &mut results);
    exit_with(wasi::exit_code(outcome).map_err(program_exit)?)
}

/// Which import object `module` asks for.
fn detect(module: &Module) -> Imports {
    if emscripten::detect(module) == Some(Abi::Legacy) {
        return Imports::Emscripten;
    }
    let wants_wasi = module
        .imports()
        .iter()
        .any(|i| i.module == wasi::SNAPSHOT_PREVIEW1 || i.module == wasi::UNSTABLE);
    match emscripten::detect(module) {
        Some(Abi::Modern) => Imports::Emscripten,
        _ if wants_wasi => Imports::Wasi,
        _ => Imports::None,
    }
}

fn run_emscripten(engine: &Engine, module: &Module, plan: &Plan) -> Result<(), Exit> {
    if plan.invoke.is_some() || !plan.preloads.is_empty() {
        return Err(Exit::usage(
            "--invoke and --preload are not supported for Emscripten programs",
        ));
    }
    if plan.wasm.flag("unknown-imports-trap") == Some(true) {
        return Err(Exit::usage(
            "`-W unknown-imports-trap` is not supported for Emscripten programs",
        ));
    }
    let sink = |name: &str| match plan.wasi.flag(name) {
        Some(false) => Sink::Discard,
        _ => Sink::Inherit,
    };
    // Without `--dir`, the program gets a scratch root laid out like Emscripten's default
    // filesystem, removed when it ends (the library never makes one).
    let scratch = match plan.dirs.first() {
        Some(_) => None,
        None => Some(scratch_root().map_err(|e| {
            Exit::error(format!(
                "cannot make a scratch directory for the program: {e}"
            ))
        })?),
    };
    let root = match (&scratch, plan.dirs.first()) {
        (Some(dir), _) => Some(dir.path().to_path_buf()),
        (None, dir) => dir.map(|d| d.host.clone()),
    };
    let options = emscripten::Options {
        program_name: plan.argv0.clone(),
        args: plan.args.clone(),
        env: plan.env.clone(),
        root,
        stdout: sink("inherit-stdout"),
        stderr: sink("inherit-stderr"),
        ..emscripten::Options::default()
    };
    let mut data = Emscripten::default();
    data.limits = plan.budgets.limits();
    let mut store = Store::new(engine, data);
    store.limiter(|data| &mut data.limits);
    plan.budgets.apply(&mut store)?;
    let status = emscripten::run(&mut store, module, &options).map_err(program_exit)?;
    exit_with(status)
}

/// A fresh temporary directory with Emscripten's default layout (`/tmp`, `/home/web_user`,
/// `/dev`), removed on drop.
fn scratch_root() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("runtime-emscripten-")
        .tempdir()?;
    emscripten::default_layout(dir.path())?;
    Ok(dir)
}

fn invoke<T: 'static>(
    store: &mut Store<T>,
    instance: Instance,
    name: &str,
    args: &[String],
) -> Result<(), Exit> {
    let func = match instance.get_export(&*store, name) {
        Some(Extern::Func(f)) => f,
        Some(_) => return Err(Exit::error(format!("export `{name}` is not a function"))),
        None => {
            return Err(Exit::error(format!(
                "the module has no export named `{name}`"
            )))
        }
    };
    let ty = func.ty(&*store);
    let params = parse_args(name, ty.params(), args)?;
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    func.call(store, &params, &mut results)
        .map_err(program_exit)?;
    for r in &results {
        println!("{r}");
    }
    Ok(())
}

/// `_start`, or a `main` without parameters.
fn entry_point<T: 'static>(store: &Store<T>, instance: &Instance) -> Option<Func> {
    instance.get_func(store, "_start").or_else(|| {
        instance
            .get_func(store, "main")
            .filter(|f| f.ty(store).params().is_empty())
    })
}

/// Ends with the program's exit status (0 returns normally).
fn exit_with(status: i32) -> Result<(), Exit> {
    if status == 0 {
        Ok(())
    } else {
        Err(Exit::status(status))
    }
}

/// An error of the program: an exit request becomes its status, a trap exits with 134 and
/// anything else (a link error, a host error) with 1.
pub(crate) fn program_exit(e: Error) -> Exit {
    match &e {
        Error::Trap(trap) => match trap.exit_status() {
            Some(status) => Exit::status(status),
            None => Exit::trap(e),
        },
        _ => Exit::error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_parse() {
        assert_eq!(
            parse_dir(".::/data"),
            Ok(Dir {
                host: ".".into(),
                guest: "/data".into()
            })
        );
        assert_eq!(parse_dir("x").map(|d| d.guest), Ok("x".to_string()));
        assert!(parse_dir("::g").is_err());
        assert_eq!(parse_env("A").map(|e| e.value), Ok(None));
        assert_eq!(parse_env("A=b=c").map(|e| e.value), Ok(Some("b=c".into())));
        assert!(parse_env("=x").is_err());
        assert!(parse_preload("bench").is_err());
        assert_eq!(
            parse_preload("bench=b.wat").map(|p| p.path),
            Ok(PathBuf::from("b.wat"))
        );
    }
}
