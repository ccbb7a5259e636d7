//! Test entry point for the Emscripten suite: one libtest-mimic trial per program, named
//! `emscripten/<name>` (legacy emcc 1.38 programs, fetched into `emscripten-tests/data/`)
//! and `emscripten/modern/<name>` (our own programs built by today's emcc, committed in
//! `emscripten-tests/modern/`), with `emscripten-tests/expected-failures.txt` applied.
//! `cargo test -p harness --test emscripten -- emscripten/modern/` runs the modern group.

use harness::expectations::Expectations;
use harness::fetch::{fetch, EMSCRIPTEN};
use libtest_mimic::{Arguments, Trial};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = harness::workspace_root();
    let suite = EMSCRIPTEN.path(&root);
    let prepared = fetch(&root, EMSCRIPTEN, None).and_then(|fetched| {
        if let Some(source) = &fetched.source {
            eprintln!(
                "fetched the Emscripten suite ({} files) from {source}",
                fetched.files
            );
        }
        let tests = harness::emscripten::discover(&fetched.data_dir, &suite)
            .map_err(|e| format!("cannot list the Emscripten suite: {e}"))?;
        let expectations = Expectations::load(&suite.join("expected-failures.txt"))?;
        Ok((tests, expectations))
    });
    let (tests, expectations) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            // Never skip silently: a suite that cannot be prepared is one failing trial.
            let trial = Trial::test("emscripten-tests:prepare", move || Err(e.clone().into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let trials = harness::emscripten::trials(&tests, &Arc::new(expectations));
    libtest_mimic::run(&args, trials).exit_code()
}
