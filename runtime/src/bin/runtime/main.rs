//! The command-line interface: `run` (the default), `validate` and `wast`. The only place in
//! the project that calls `process::exit`.
#![forbid(unsafe_code)]

mod args;
mod budgets;
mod run;

use run::run;
use runtime::wast::{features_for_path, run_file, Outcome, WastOptions};
use runtime::{Engine, Module};
use std::path::PathBuf;
use std::process::exit;

const USAGE: &str = "\
usage:
  runtime [run] [OPTIONS] FILE [ARGS...]
      Run FILE (.wasm or .wat). A WASI program (it imports wasi_snapshot_preview1 or
      wasi_unstable) gets ARGS, the environment given with --env and the directories given
      with --dir; an Emscripten program gets the Emscripten import object; the module's start
      function runs, then `_start` (or `main`). The program's exit status becomes ours.
    --dir HOST[::GUEST]   preopen HOST as GUEST (default: the same path) for WASI; for
                          Emscripten the first --dir is the guest's `/`
    --env KEY=VALUE       set a guest environment variable (repeatable)
    --preload NAME=FILE   instantiate FILE first and offer its exports as imports under NAME
    --invoke NAME         call the export NAME with ARGS parsed by its parameter types and
                          print its results one per line (also accepted right after FILE)
    --wasi | --emscripten force the import object instead of detecting it
  runtime validate FILE
      Check that FILE is a valid module: prints `ok`, or the error and exits with 1.
  runtime wast [-v] FILE.wast...
      Run spec test scripts; prints each failure and a summary per file, exits with 1 if any
      directive failed. -v also prints the passes.
  runtime --help | --version

exit codes: the program's exit status; 1 for an error or trap (message and wasm backtrace on
stderr); 2 for bad usage or a missing file";

/// A failure: what to print and the exit code.
pub(crate) struct Exit {
    code: i32,
    message: String,
}

impl Exit {
    pub(crate) fn usage(message: impl Into<String>) -> Exit {
        Exit {
            code: 2,
            message: format!("error: {}\n\n{USAGE}", message.into()),
        }
    }
    pub(crate) fn error(message: impl std::fmt::Display) -> Exit {
        Exit {
            code: 1,
            message: format!("error: {message}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => {}
        Err(Exit { code, message }) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            exit(code);
        }
    }
}

fn dispatch(args: &[String]) -> Result<(), Exit> {
    match args.first().map(String::as_str) {
        None => Err(Exit::usage("no command or file given")),
        Some("-h" | "--help" | "help") => {
            println!("runtime: a WebAssembly runtime (wasmparser front end, Cranelift back end)\n\n{USAGE}");
            Ok(())
        }
        Some("-V" | "--version") => {
            println!("runtime {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("validate") => validate(&args[1..]),
        Some("wast") => wast(&args[1..]),
        Some("run") => run(&args[1..]),
        Some(_) => run(args),
    }
}

pub(crate) fn engine(features: Option<runtime::WasmFeatures>) -> Result<Engine, Exit> {
    engine_with(features, budgets::Budgets::default())
}

/// An engine whose stores may be given `budgets`.
pub(crate) fn engine_with(
    features: Option<runtime::WasmFeatures>,
    budgets: budgets::Budgets,
) -> Result<Engine, Exit> {
    let mut config = runtime::Config::new();
    if let Some(features) = features {
        config.wasm_features(features);
    }
    budgets.configure(&mut config);
    Engine::new(&config).map_err(Exit::error)
}

/// Checks that `arg` names an existing file.
pub(crate) fn existing_file(arg: &str) -> Result<PathBuf, Exit> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        Ok(path)
    } else if path.exists() {
        Err(Exit::usage(format!("`{arg}` is not a file")))
    } else {
        Err(Exit::usage(format!("no such file: `{arg}`")))
    }
}

fn validate(args: &[String]) -> Result<(), Exit> {
    let [file] = args else {
        return Err(Exit::usage("`validate` takes exactly one FILE"));
    };
    let path = existing_file(file)?;
    let bytes =
        std::fs::read(&path).map_err(|e| Exit::error(format!("cannot read `{file}`: {e}")))?;
    Module::validate(&engine(None)?, &bytes).map_err(Exit::error)?;
    println!("ok");
    Ok(())
}

fn wast(args: &[String]) -> Result<(), Exit> {
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    let files: Vec<&String> = args
        .iter()
        .filter(|a| *a != "-v" && *a != "--verbose")
        .collect();
    if let Some(flag) = files.iter().find(|a| a.starts_with('-')) {
        return Err(Exit::usage(format!("unknown option `{flag}` for `wast`")));
    }
    if files.is_empty() {
        return Err(Exit::usage("`wast` needs at least one FILE.wast"));
    }
    let paths = files
        .iter()
        .map(|f| existing_file(f))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut passed, mut failed) = (0, 0);
    for path in &paths {
        let options = WastOptions {
            features: features_for_path(path),
            print: true,
            ..WastOptions::default()
        };
        let results = run_file(path, &options).map_err(Exit::error)?;
        let (mut p, mut f) = (0, 0);
        for r in &results {
            match &r.outcome {
                Outcome::Pass => {
                    p += 1;
                    if verbose {
                        println!("{}:{}: {} ok", path.display(), r.line, r.kind);
                    }
                }
                Outcome::Fail(reason) => {
                    f += 1;
                    println!("{}:{}: {} FAILED: {reason}", path.display(), r.line, r.kind);
                }
            }
        }
        println!("{}: {p} passed, {f} failed", path.display());
        (passed, failed) = (passed + p, failed + f);
    }
    if paths.len() > 1 {
        println!("total: {passed} passed, {failed} failed");
    }
    if failed > 0 {
        return Err(Exit {
            code: 1,
            message: format!("error: {failed} directive(s) failed"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_parse_by_type() {
        use args::parse_val;
        use runtime::{Val, ValType};
        assert_eq!(parse_val(ValType::I32, "-1"), Some(Val::I32(-1)));
        assert_eq!(parse_val(ValType::I32, "4294967295"), Some(Val::I32(-1)));
        assert_eq!(parse_val(ValType::I32, "0x10"), Some(Val::I32(16)));
        assert_eq!(parse_val(ValType::I32, "4294967296"), None);
        assert_eq!(
            parse_val(ValType::I64, "-9223372036854775808"),
            Some(Val::I64(i64::MIN))
        );
        assert_eq!(parse_val(ValType::F64, "1.5"), Some(Val::from(1.5f64)));
        assert_eq!(
            parse_val(ValType::F32, "inf"),
            Some(Val::from(f32::INFINITY))
        );
        assert_eq!(parse_val(ValType::I32, "x"), None);
        assert_eq!(
            parse_val(ValType::EXTERNREF, "null"),
            Some(Val::ExternRef(None))
        );
        assert_eq!(
            parse_val(ValType::EXTERNREF, "7"),
            Some(Val::ExternRef(Some(7)))
        );
        assert_eq!(parse_val(ValType::FUNCREF, "7"), None);
    }

    #[test]
    fn usage_errors_exit_with_2() {
        for args in [
            &[][..],
            &["--bogus"],
            &["validate"],
            &["wast"],
            &["run"],
            &["no-such-file.wasm"],
            &["wast", "-x", "a"],
        ] {
            let err = dispatch(&strings(args))
                .err()
                .unwrap_or_else(|| panic!("{args:?} should fail"));
            assert_eq!(err.code, 2, "{args:?}: {}", err.message);
            assert!(err.message.contains("usage:"), "{}", err.message);
        }
        assert_eq!(
            args::parse_args("f", &[runtime::ValType::I32], &[])
                .err()
                .map(|e| e.code),
            Some(2)
        );
    }
}
