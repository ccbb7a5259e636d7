//! Test entry point for the WASI testsuite: one libtest-mimic trial per program, named
//! `wasi/<lang>/<name>`, with `wasi-testsuite/expected-failures.txt` applied.
//! `cargo test -p harness --test wasi -- wasi/rust/` runs the Rust programs only.

use harness::expectations::Expectations;
use harness::fetch::{fetch, WASI};
use libtest_mimic::{Arguments, Trial};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = harness::workspace_root();
    let prepared = fetch(&root, WASI, None).and_then(|fetched| {
        if let Some(source) = &fetched.source {
            eprintln!(
                "fetched the WASI suite ({} files) from {source}",
                fetched.files
            );
        }
        let tests = harness::wasi::discover(&fetched.data_dir)
            .map_err(|e| format!("cannot list the WASI suite: {e}"))?;
        let expectations = Expectations::load(&WASI.path(&root).join("expected-failures.txt"))?;
        Ok((tests, expectations))
    });
    let (tests, expectations) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            // Never skip silently: a suite that cannot be prepared is one failing trial.
            let trial = Trial::test("wasi-testsuite:prepare", move || Err(e.clone().into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let trials = harness::wasi::trials(&tests, &Arc::new(expectations));
    libtest_mimic::run(&args, trials).exit_code()
}
