//! CLI: `run [OPTIONS] FILE [ARGS...]`, in Wasmtime's conventions. Picks the import object
//! (WASI, Emscripten or none), applies `--preload`, runs the program or `--invoke`s an export.

use crate::args::parse_args;
use crate::budgets::Budgets;
use crate::{engine_with, existing_file, Exit};
use runtime::emscripten::{self, Abi};
use runtime::wasi::{self, WasiCtx};
use runtime::{Error, Extern, Func, Instance, Linker, Module, Store, Val};
use std::path::PathBuf;

/// Which import object a program gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Imports {
    Wasi,
    Emscripten,
    None,
}

/// The parsed command line of `run`.
#[derive(Default, Debug)]
struct RunArgs {
    dirs: Vec<(PathBuf, String)>,
    envs: Vec<(String, String)>,
    preloads: Vec<(String, String)>,
    invoke: Option<String>,
    forced: Option<Imports>,
    file: String,
    args: Vec<String>,
}

fn parse(args: &[String]) -> Result<RunArgs, Exit> {
    let mut run = RunArgs::default();
    let mut i = 0;
    let value = |i: &mut usize, flag: &str| -> Result<String, Exit> {
        let arg = &args[*i];
        if let Some(v) = arg.strip_prefix(&format!("{flag}=")) {
            return Ok(v.to_string());
        }
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| Exit::usage(format!("`{flag}` needs a value")))
    };
    while i < args.len() {
        let arg = args[i].as_str();
        let flag = arg.split('=').next().unwrap_or(arg);
        match flag {
            "--dir" => {
                let v = value(&mut i, flag)?;
                let (host, guest) = match v.split_once("::") {
                    Some((h, g)) => (h.to_string(), g.to_string()),
                    None => (v.clone(), v.clone()),
                };
                if !std::path::Path::new(&host).is_dir() {
                    return Err(Exit::usage(format!(
                        "`--dir {v}`: no such directory `{host}`"
                    )));
                }
                run.dirs.push((PathBuf::from(host), guest));
            }
            "--env" => {
                let v = value(&mut i, flag)?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| Exit::usage(format!("`--env {v}` is not KEY=VALUE")))?;
                run.envs.push((k.to_string(), val.to_string()));
            }
            "--preload" => {
                let v = value(&mut i, flag)?;
                let (name, file) = v
                    .split_once('=')
                    .ok_or_else(|| Exit::usage(format!("`--preload {v}` is not NAME=FILE")))?;
                run.preloads.push((name.to_string(), file.to_string()));
            }
            "--invoke" => run.invoke = Some(value(&mut i, flag)?),
            "--wasi" => run.forced = Some(Imports::Wasi),
            "--emscripten" => run.forced = Some(Imports::Emscripten),
            "--" => {
                i += 1;
                break;
            }
            _ if arg.starts_with('-') => {
                return Err(Exit::usage(format!("unknown option `{arg}`")))
            }
            _ => break,
        }
        i += 1;
    }
    let Some(file) = args.get(i) else {
        return Err(Exit::usage("no FILE given"));
    };
    run.file = file.clone();
    let mut rest = &args[i + 1..];
    // `runtime FILE --invoke NAME ARGS...` is accepted too.
    if run.invoke.is_none() && rest.first().map(String::as_str) == Some("--invoke") {
        let name = rest
            .get(1)
            .ok_or_else(|| Exit::usage("`--invoke` needs a NAME"))?;
        run.invoke = Some(name.clone());
        rest = &rest[2..];
    }
    run.args = rest.to_vec();
    Ok(run)
}

/// `run [OPTIONS] FILE [ARGS...]`.
pub(crate) fn run(args: &[String]) -> Result<(), Exit> {
    let run = parse(args)?;
    let path = existing_file(&run.file)?;
    let budgets = Budgets::from_env()?;
    let engine = engine_with(None, budgets)?;
    let module = Module::from_file(&engine, &path).map_err(Exit::error)?;
    let imports = run.forced.unwrap_or_else(|| detect(&module));
    let mut store = Store::new(&engine);
    budgets.apply(&mut store)?;
    if imports == Imports::Emscripten {
        return run_emscripten(&mut store, &module, &run);
    }
    let mut linker = Linker::new();
    if imports == Imports::Wasi {
        let mut ctx = WasiCtx::builder()
            .arg(run.file.clone())
            .args(run.args.iter().cloned())
            .envs(run.envs.iter().cloned())
            .inherit_stdio();
        for (host, guest) in &run.dirs {
            ctx = ctx.preopened_dir(host, guest);
        }
        let ctx = ctx.build().map_err(Exit::error)?;
        wasi::add_to_linker(&mut linker, &mut store, ctx).map_err(Exit::error)?;
    }
    for (name, file) in &run.preloads {
        let preload = Module::from_file(&engine, existing_file(file)?).map_err(Exit::error)?;
        let instance = linker
            .instantiate(&mut store, &preload)
            .map_err(program_exit)?;
        linker.instance(&store, name, instance);
    }
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(program_exit)?;
    if let Some(name) = &run.invoke {
        return invoke(&mut store, instance, name, &run.args);
    }
    let Some(entry) = entry_point(&store, &instance) else {
        if !run.args.is_empty() {
            eprintln!("note: the module has no `_start` or `main`; arguments ignored");
        }
        return Ok(());
    };
    if imports != Imports::Wasi && !run.args.is_empty() {
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

fn run_emscripten(store: &mut Store, module: &Module, run: &RunArgs) -> Result<(), Exit> {
    if run.invoke.is_some() || !run.preloads.is_empty() {
        return Err(Exit::usage(
            "--invoke and --preload are not supported for Emscripten programs",
        ));
    }
    let options = emscripten::Options {
        program_name: run.file.clone(),
        args: run.args.clone(),
        env: run.envs.clone(),
        root: run.dirs.first().map(|(host, _)| host.clone()),
        ..emscripten::Options::default()
    };
    let status = emscripten::run(store, module, &options).map_err(program_exit)?;
    exit_with(status)
}

fn invoke(store: &mut Store, instance: Instance, name: &str, args: &[String]) -> Result<(), Exit> {
    let func = match instance.get_export(store, name) {
        Some(Extern::Func(f)) => f,
        Some(_) => return Err(Exit::usage(format!("export `{name}` is not a function"))),
        None => {
            return Err(Exit::usage(format!(
                "the module has no export named `{name}`"
            )))
        }
    };
    let ty = func.ty(store);
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
fn entry_point(store: &Store, instance: &Instance) -> Option<Func> {
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
        Err(Exit {
            code: status,
            message: String::new(),
        })
    }
}

/// An error of the program: an exit request becomes its status, anything else exits with 1.
fn program_exit(e: Error) -> Exit {
    match e.as_trap().and_then(|t| t.exit_status()) {
        Some(status) => Exit {
            code: status,
            message: String::new(),
        },
        None => Exit::error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_come_before_the_file_and_arguments_after() {
        let r = parse(&strings(&[
            "--dir",
            ".::/data",
            "--env",
            "A=1",
            "--preload=bench=b.wat",
            "--invoke",
            "f",
            "m.wasm",
            "--dir",
            "x",
        ]))
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(r.dirs, vec![(PathBuf::from("."), "/data".to_string())]);
        assert_eq!(r.envs, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(r.preloads, vec![("bench".to_string(), "b.wat".to_string())]);
        assert_eq!(r.invoke.as_deref(), Some("f"));
        assert_eq!(r.file, "m.wasm");
        assert_eq!(r.args, strings(&["--dir", "x"]));
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for args in [
            &["--env", "NOEQUALS", "f"][..],
            &["--dir"],
            &["--dir", "/no/such/dir", "f"],
            &["--preload", "x", "f"],
            &["--frob", "f"],
        ] {
            let err = parse(&strings(args))
                .err()
                .unwrap_or_else(|| panic!("{args:?} should fail"));
            assert_eq!(err.code, 2, "{args:?}");
        }
    }
}
