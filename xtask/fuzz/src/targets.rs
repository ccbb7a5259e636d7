//! Differential fuzzing: the fuzz targets, shared by the libFuzzer binaries
//! (`xtask/fuzz/libfuzzer/`) and the `cargo xtask fuzz` loop.

use crate::backend::{Backend, Ours, Wasmi};
use crate::differential::{run_module, Disagreement, Stats};
use crate::features::Features;
use crate::generate::Rng;

/// Validate + compile arbitrary bytes: never a panic or a crash, and our runtime accepts a
/// module exactly when wasmparser's validator does (or declines it as unsupported).
/// Returns a description of a mismatch.
pub fn validate_and_compile(engine: &runtime::Engine, bytes: &[u8]) -> Result<(), String> {
    let valid = wasmparser::Validator::new_with_features(engine.config().features())
        .validate_all(bytes)
        .map(|_| ())
        .map_err(|e| e.to_string());
    let compiled = runtime::Module::from_binary(engine, bytes);
    match (valid, compiled) {
        (Ok(()), Ok(_)) | (Err(_), Err(_)) => Ok(()),
        (Ok(()), Err(runtime::Error::Unsupported(_))) => Ok(()),
        (Ok(()), Err(e)) => Err(format!("valid, but our runtime rejected it: {e}")),
        (Err(e), Ok(_)) => Err(format!("invalid ({e}), but our runtime compiled it")),
    }
}

/// The oracles for a feature set: wasmi where it implements the set, and always our runtime
/// with explicit bounds checks and without optimisation.
pub fn oracles(features: &Features) -> Result<Vec<Box<dyn Backend>>, String> {
    let mut out: Vec<Box<dyn Backend>> = Vec::new();
    if features.wasmi_can_run() {
        out.push(Box::new(Wasmi::new(features)));
    }
    out.push(Box::new(Ours::new(
        features.wasm_features(),
        true,
        runtime::OptLevel::None,
    )?));
    Ok(out)
}

/// Our runtime as it runs by default (guard pages, `opt_level` speed).
pub fn ours(features: &Features) -> Result<Ours, String> {
    Ours::new(features.wasm_features(), false, runtime::OptLevel::Speed)
}

/// Instantiate + run a smith module made from `data` under our runtime and its oracles.
/// `Ok` when they agree (or `data` makes no module).
pub fn differential(features: &Features, data: &[u8]) -> Result<Stats, Box<Disagreement>> {
    let mut stats = Stats::default();
    let Ok(wasm) = crate::generate::from_data(features, data) else {
        return Ok(stats);
    };
    if crate::generate::waits_on_atomics(&wasm) {
        stats.skipped += 1;
        return Ok(stats);
    }
    let mut ours = ours(features).expect("the default engine starts");
    let mut oracles = oracles(features).expect("the oracle engines start");
    let mut rng = Rng::new(data.len() as u64);
    run_module(&wasm, &mut ours, &mut oracles, 3, &mut rng, &mut stats).map_err(Box::new)?;
    Ok(stats)
}
