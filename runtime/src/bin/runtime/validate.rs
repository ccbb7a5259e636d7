//! CLI: `validate [-W ...] FILE`: checks a module against the enabled proposals.

use crate::options::{self, Settings, DEFAULT_FEATURES};
use crate::{engine, read, Exit};
use clap::Args;
use runtime::Module;
use std::path::PathBuf;

/// Options of `validate`.
#[derive(Args, Debug)]
pub(crate) struct ValidateCommand {
    /// Proposals to enable or disable (as `run -W`), `-W help` to see them
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]", value_parser = options::wasm_proposals)]
    wasm: Vec<Settings>,

    /// The module (.wasm or .wat)
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Prints `ok`, or fails with the validation error (exit code 1).
pub(crate) fn validate(command: ValidateCommand) -> Result<(), Exit> {
    let bytes = read(&command.file)?;
    let features = Settings::merge(&command.wasm).features(DEFAULT_FEATURES);
    Module::validate(&engine(features)?, &bytes).map_err(Exit::error)?;
    println!("ok");
    Ok(())
}
