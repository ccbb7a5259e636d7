//! Test entry point for the fuzz corpus: every `.wast` script in `tests/fuzz-corpus/` (the
//! reproducers of cases the differential fuzzer found, and the regression scripts of its
//! findings) must pass, directive by directive. Each file runs in a child process, so a
//! crash or a hang fails that file, never the run. One trial per file,
//! `fuzz-corpus/<name>`. (CI also replays the corpus's `.wasm` files through the fuzzer:
//! `cargo xtask fuzz --replay tests/fuzz-corpus`.)

use harness::isolate::{child_main, run_child_with_features};
use libtest_mimic::{Arguments, Trial};
use runtime::wast::{list_directives, Outcome};
use runtime::WasmFeatures;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Everything the runtime implements: the corpus covers every proposal the fuzzer generates.
fn features() -> WasmFeatures {
    WasmFeatures::WASM3
        | WasmFeatures::THREADS
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::CUSTOM_PAGE_SIZES
}

fn run_file(path: &PathBuf) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let directives = list_directives(&text).map_err(|e| format!("does not parse: {e}"))?;
    let lines: Vec<u32> = directives.iter().map(|d| d.line).collect();
    let outcomes = run_child_with_features(path, features(), &lines, Duration::from_secs(300));
    let failures: Vec<String> = outcomes
        .iter()
        .zip(&directives)
        .filter_map(|(o, d)| match o {
            Outcome::Pass => None,
            Outcome::Fail(why) => Some(format!("L{} {}: {why}", d.line, d.kind)),
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

fn main() -> ExitCode {
    if let Some(code) = child_main() {
        return code;
    }
    let args = Arguments::from_args();
    let dir = harness::workspace_root().join("tests/fuzz-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "wast"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut trials: Vec<Trial> = files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            Trial::test(format!("fuzz-corpus/{name}"), move || {
                run_file(&path).map_err(Into::into)
            })
        })
        .collect();
    // Never pass on an empty or missing corpus.
    let found = trials.len();
    trials.push(Trial::test("fuzz-corpus:not-empty", move || {
        if found == 0 {
            Err(format!("no .wast files in {}", dir.display()).into())
        } else {
            Ok(())
        }
    }));
    libtest_mimic::run(&args, trials).exit_code()
}
