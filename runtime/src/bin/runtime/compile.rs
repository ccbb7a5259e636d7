//! CLI: `compile [OPTIONS] FILE [-o OUT]`, as Wasmtime's: compiles a module ahead of time
//! into an artifact (`Module::serialize`) that `run --allow-precompiled OUT` loads without
//! compiling; `--emit-clif DIR` / `--emit-asm DIR` also write each function's optimised CLIF
//! or machine code for review. The `-W` keys that change code (`fuel`, `timeout`, proposals) must be the
//! run's too: an artifact compiled for another configuration is refused.

use crate::budgets::Budgets;
use crate::options::{self, Settings, DEFAULT_FEATURES};
use crate::{engine_with, read, Exit};
use clap::Args;
use runtime::{ClifStage, Engine, Module};
use std::path::PathBuf;

/// Options of `compile`.
#[derive(Args, Debug)]
pub(crate) struct CompileCommand {
    /// Options for configuring semantic execution of WebAssembly, `-W help` to see all
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]", value_parser = options::wasm_run)]
    wasm: Vec<Settings>,

    /// Codegen-related configuration options, `-C help` to see all
    #[arg(short = 'C', long = "codegen", value_name = "KEY[=VAL[,..]]", value_parser = options::codegen)]
    codegen: Vec<Settings>,

    /// The path of the output compiled module; defaults to MODULE with the `.cwasm` extension
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    output: Option<PathBuf>,

    /// Also write each function's CLIF, after Cranelift's optimisations, to DIR/wasm_func_N.clif
    #[arg(long = "emit-clif", value_name = "DIR")]
    emit_clif: Option<PathBuf>,

    /// Also write each function's machine code, disassembled, to DIR/wasm_func_N.s
    #[arg(long = "emit-asm", value_name = "DIR")]
    emit_asm: Option<PathBuf>,

    /// The path of the WebAssembly to compile (.wasm or .wat)
    #[arg(value_name = "MODULE")]
    module: PathBuf,
}

/// `compile [OPTIONS] FILE [-o OUT]`.
pub(crate) fn compile(command: CompileCommand) -> Result<(), Exit> {
    let wasm = Settings::merge(&command.wasm);
    let budgets = Budgets::from_settings(&wasm)?;
    // `-C` is accepted as in Wasmtime; compiling ahead of time does not use the cache.
    let codegen = Settings::merge(&command.codegen);
    let engine = engine_with(
        wasm.features(DEFAULT_FEATURES),
        &budgets,
        None,
        Default::default(),
        codegen.flag("inlining").unwrap_or(true),
    )?;
    let bytes = read(&command.module)?;
    if engine.detect_precompiled(&bytes).is_some() {
        return Err(Exit::error(format!(
            "`{}` is already a precompiled module",
            command.module.display()
        )));
    }
    for (dir, stage, extension) in [
        (&command.emit_clif, ClifStage::Optimized, "clif"),
        (&command.emit_asm, ClifStage::Disassembly, "s"),
    ] {
        if let Some(dir) = dir {
            emit(&engine, &bytes, stage, dir, extension)?;
        }
    }
    let module = Module::new(&engine, &bytes).map_err(Exit::error)?;
    let artifact = module.serialize().map_err(Exit::error)?;
    let output = (command.output).unwrap_or_else(|| command.module.with_extension("cwasm"));
    std::fs::write(&output, artifact)
        .map_err(|e| Exit::error(format!("cannot write `{}`: {e}", output.display())))
}

/// Writes the text of every function at `stage` to `dir/wasm_func_N.extension`.
fn emit(
    engine: &Engine,
    bytes: &[u8],
    stage: ClifStage,
    dir: &std::path::Path,
    extension: &str,
) -> Result<(), Exit> {
    let funcs = Module::clif(engine, bytes, stage).map_err(Exit::error)?;
    let cannot =
        |e: std::io::Error| Exit::error(format!("cannot write to `{}`: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(cannot)?;
    for (index, text) in funcs {
        std::fs::write(dir.join(format!("wasm_func_{index}.{extension}")), text).map_err(cannot)?;
    }
    Ok(())
}
