//! The command-line interface, in Wasmtime's conventions: `run` (the default: a bare FILE
//! runs), `compile`, `validate` and `wast`, parsed with clap. The only place in the project that calls
//! `process::exit`.
#![forbid(unsafe_code)]

mod args;
mod budgets;
mod compile;
mod options;
mod run;
mod threads;
mod validate;
mod wast;

use clap::{Parser, Subcommand};
use runtime::{Engine, WasmFeatures};
use std::process::exit;

/// Exit code of a trap, as Wasmtime's: 128 + SIGABRT on Unix, 3 elsewhere.
const TRAP_EXIT: i32 = if cfg!(unix) { 134 } else { 3 };

const AFTER_HELP: &str = "\
If a subcommand is not provided, the `run` subcommand is used.

Exit codes: the program's exit status; 134 for a trap (its message and wasm backtrace go to
stderr); 1 for any other error (a missing file, an invalid module, an unknown import); 2 for
bad usage.

Examples:
  runtime hello.wasm arg1 arg2                 run a WASI program with arguments
  runtime --dir . --env HOME program.wasm      preopen `.`, pass HOME from this environment
  runtime --invoke fib tests/data/fib.wat 20   call an export and print its results
  runtime -W custom-page-sizes small.wat       enable a proposal (`-W help` lists them)
  runtime compile app.wasm && runtime run --allow-precompiled app.cwasm
                                               compile ahead of time, then run the artifact
  runtime -C cache=n app.wasm                  compile without the cache (on by default)
  runtime -W timeout=5s,max-memory-size=16777216 guest.wasm
                                               bound a guest's time and memory";

/// A WebAssembly runtime: wasmparser front end, Cranelift back end, WASI and Emscripten.
#[derive(Parser, Debug)]
#[command(
    name = "runtime",
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::RunCommand,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs a WebAssembly module (the default command)
    #[command(after_help = AFTER_HELP)]
    Run(run::RunCommand),
    /// Compiles a module ahead of time into a `.cwasm` file (`run --allow-precompiled` runs it)
    Compile(compile::CompileCommand),
    /// Checks that a module is valid: prints `ok`, or the error and exits with 1
    Validate(validate::ValidateCommand),
    /// Runs WebAssembly spec test scripts (`.wast`)
    Wast(wast::WastCommand),
}

/// A failure: what to print on stderr (nothing for a program's exit status) and the code.
#[derive(Debug)]
pub(crate) struct Exit {
    code: i32,
    message: String,
}

impl Exit {
    /// A usage error clap cannot see (conflicting settings): exit code 2, as clap's.
    pub(crate) fn usage(message: impl std::fmt::Display) -> Exit {
        Exit {
            code: 2,
            message: format!("error: {message}\n\nFor more information, try '--help'."),
        }
    }
    /// Any other error: exit code 1.
    pub(crate) fn error(message: impl std::fmt::Display) -> Exit {
        Exit {
            code: 1,
            message: format!("error: {message}"),
        }
    }
    /// A wasm trap: its message and backtrace, exit code 134.
    pub(crate) fn trap(message: impl std::fmt::Display) -> Exit {
        Exit {
            code: TRAP_EXIT,
            message: format!("error: {message}"),
        }
    }
    /// The program's own exit status.
    pub(crate) fn status(code: i32) -> Exit {
        Exit {
            code,
            message: String::new(),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run::run(cli.run),
        Some(Command::Run(run)) => run::run(run),
        Some(Command::Compile(compile)) => compile::compile(compile),
        Some(Command::Validate(validate)) => validate::validate(validate),
        Some(Command::Wast(wast)) => wast::wast(wast),
    };
    if let Err(e) = result {
        exit_now(e);
    }
}

/// Prints `e`'s message (if any) and ends the process with its code; also what a
/// wasi-threads thread that ends the program calls, from its own thread.
pub(crate) fn exit_now(e: Exit) -> ! {
    use std::io::Write;
    let Exit { code, message } = e;
    if !message.is_empty() {
        eprintln!("{message}");
    }
    let _ = std::io::stdout().flush();
    exit(code)
}

/// Ends the process after `-W help` or `-S help` printed the table (from clap's value parser,
/// as Wasmtime does, so no FILE is needed).
pub(crate) fn exit_after_help() -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    exit(0)
}

/// An engine validating `features`.
pub(crate) fn engine(features: WasmFeatures) -> Result<Engine, Exit> {
    engine_with(
        features,
        &budgets::Budgets::default(),
        None,
        Default::default(),
        true,
    )
}

/// An engine validating `features` whose stores may be given `budgets`, caching compiled
/// modules in `cache` if given, telling `profiler` where code lies, inlining small functions
/// if `inlining`.
pub(crate) fn engine_with(
    features: WasmFeatures,
    budgets: &budgets::Budgets,
    cache: Option<runtime::CacheConfig>,
    profiler: runtime::ProfilingStrategy,
    inlining: bool,
) -> Result<Engine, Exit> {
    let mut config = runtime::Config::new();
    config.wasm_features(features);
    config.compiler_inlining(inlining);
    budgets.configure(&mut config);
    config.cache(cache);
    config.profiler(profiler);
    Engine::new(&config).map_err(Exit::error)
}

/// The compilation cache `-C` asks for: on unless `cache=n`, in `cache-dir` or the user's
/// cache directory (none if there is no such directory).
pub(crate) fn cache_config(codegen: &options::Settings) -> Option<runtime::CacheConfig> {
    if codegen.flag("cache") == Some(false) {
        return None;
    }
    match codegen.text("cache-dir") {
        Some(dir) => Some(runtime::CacheConfig::new(dir)),
        None => runtime::CacheConfig::from_default_directory(),
    }
}

/// Reads a module or script file; a missing file is an error (exit code 1), as in Wasmtime.
pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>, Exit> {
    std::fs::read(path).map_err(|e| Exit::error(format!("cannot read `{}`: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("runtime").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bare_file_runs_and_subcommands_are_recognised() {
        let cli = parse(&["-W", "threads", "m.wasm", "a", "--dir", "x"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.module_and_args, ["m.wasm", "a", "--dir", "x"]);
        assert!(matches!(
            parse(&["run", "m.wasm"]).unwrap().command,
            Some(Command::Run(_))
        ));
        assert!(matches!(
            parse(&["compile", "m.wasm", "-o", "m.cwasm"])
                .unwrap()
                .command,
            Some(Command::Compile(_))
        ));
        assert!(matches!(
            parse(&["validate", "m.wasm"]).unwrap().command,
            Some(Command::Validate(_))
        ));
        assert!(matches!(
            parse(&["wast", "-W", "gc=n", "a.wast", "b.wast"])
                .unwrap()
                .command,
            Some(Command::Wast(_))
        ));
    }

    #[test]
    fn usage_errors_are_clap_errors() {
        use clap::error::ErrorKind;
        for (args, kind) in [
            (&[][..], ErrorKind::MissingRequiredArgument),
            (&["--bogus", "m.wasm"], ErrorKind::UnknownArgument),
            (&["validate"], ErrorKind::MissingRequiredArgument),
            (&["wast"], ErrorKind::MissingRequiredArgument),
            (&["-W", "bogus", "m.wasm"], ErrorKind::ValueValidation),
            (
                &["-W", "component-model", "m.wasm"],
                ErrorKind::ValueValidation,
            ),
            (&["-W", "fuel=ten", "m.wasm"], ErrorKind::ValueValidation),
            (
                &["wast", "-W", "timeout=1s", "a.wast"],
                ErrorKind::ValueValidation,
            ),
            (&["-S", "bogus", "m.wasm"], ErrorKind::ValueValidation),
            (&["-C", "bogus", "m.wasm"], ErrorKind::ValueValidation),
            (&["-C", "cache-dir=", "m.wasm"], ErrorKind::ValueValidation),
            (
                &["-C", "cranelift-opt-level=none", "m.wasm"],
                ErrorKind::ValueValidation,
            ),
            (&["compile"], ErrorKind::MissingRequiredArgument),
            (
                &["wast", "-W", "unknown-imports-trap", "a.wast"],
                ErrorKind::ValueValidation,
            ),
            (
                &["--emscripten", "--invoke", "f", "m.wasm"],
                ErrorKind::ArgumentConflict,
            ),
        ] {
            let err = parse(args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} parses"));
            assert_eq!(err.kind(), kind, "{args:?}: {err}");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
