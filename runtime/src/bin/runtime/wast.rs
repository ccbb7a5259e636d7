//! CLI: `wast [-W ...] [-v] FILE...`: runs spec test scripts with the enabled proposals.

use crate::options::{self, Settings};
use crate::Exit;
use clap::Args;
use runtime::wast::{features_for_path, run_file, Outcome, WastOptions};
use std::path::PathBuf;

/// Options of `wast`.
#[derive(Args, Debug)]
pub(crate) struct WastCommand {
    /// Proposals to enable or disable, and `fuel`, `max-wasm-stack`; `-W help` to see them
    ///
    /// Each script starts from the proposals of its folder in the spec suite
    /// (`proposals/<name>/` enables that proposal, `legacy/` the legacy exceptions,
    /// anything else is Wasm 3.0); these flags change that set. `fuel=N` gives each
    /// script's store N units of fuel.
    #[arg(verbatim_doc_comment, short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]", value_parser = options::wasm_wast)]
    wasm: Vec<Settings>,

    /// Also print every directive that passed
    #[arg(short, long)]
    verbose: bool,

    /// The scripts to run
    #[arg(required = true, value_name = "SCRIPT_FILE")]
    files: Vec<PathBuf>,
}

/// Prints each failure and a summary per file; exits with 1 if any directive failed.
pub(crate) fn wast(command: WastCommand) -> Result<(), Exit> {
    let settings = Settings::merge(&command.wasm);
    let max_wasm_stack = (settings.number("max-wasm-stack"))
        .map(|n| usize::try_from(n).map_err(|_| Exit::usage("`-W max-wasm-stack`: too large here")))
        .transpose()?;
    let (mut passed, mut failed) = (0, 0);
    for path in &command.files {
        let options = WastOptions {
            features: settings.features(features_for_path(path)),
            print: true,
            fuel: settings.number("fuel"),
            max_wasm_stack,
            ..WastOptions::default()
        };
        let results = run_file(path, &options).map_err(Exit::error)?;
        let (mut p, mut f) = (0, 0);
        for r in &results {
            match &r.outcome {
                Outcome::Pass => {
                    p += 1;
                    if command.verbose {
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
    if command.files.len() > 1 {
        println!("total: {passed} passed, {failed} failed");
    }
    if failed > 0 {
        return Err(Exit::error(format!("{failed} directive(s) failed")));
    }
    Ok(())
}
