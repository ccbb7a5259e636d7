//! Test entry point for the script suites: one libtest-mimic trial per `.wast` directive of
//! the WebAssembly spec suite (`spec/<file>:L<line>:<kind>`, with
//! `spec-suite/expected-failures.txt` applied) and of the threads proposal's own suite
//! (`threads/<file>:...`, `threads-suite/expected-failures.txt`), plus the threads stress
//! trials (`threads-stress/<file>`: the litmus tests run many times over), and of the
//! stack-switching proposal's suite (`stack-switching/<file>:...`,
//! `stack-switching-suite/expected-failures.txt`).
//! `cargo test --test spec -- spec/i32.wast` runs one file.

use harness::expectations::Expectations;
use harness::fetch::{fetch, Suite, SPEC, STACK_SWITCHING, THREADS};
use harness::isolate::{child_main, RunOptions, Slots};
use harness::spec::{prefetch, trials, Runner, SpecSuite};
use libtest_mimic::{Arguments, Trial};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

/// Fetches and lists `suite` with its expectations.
fn prepare(root: &std::path::Path, suite: Suite) -> Result<(SpecSuite, Expectations), String> {
    let fetched = fetch(root, suite, None)?;
    if let Some(source) = &fetched.source {
        eprintln!(
            "fetched the {} suite ({} files) from {source}",
            suite.name, fetched.files
        );
    }
    let listed = SpecSuite::load(suite, &fetched.data_dir)
        .map_err(|e| format!("cannot list the {} suite: {e}", suite.name))?;
    let expectations = Expectations::load(&suite.path(root).join("expected-failures.txt"))?;
    Ok((listed, expectations))
}

fn main() -> ExitCode {
    if let Some(code) = child_main() {
        return code;
    }
    let args = Arguments::from_args();
    let root = harness::workspace_root();
    let jobs = args
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runner = Arc::new(Runner {
        options: RunOptions::from_env(),
        slots: Slots::new(jobs),
    });
    let mut all = Vec::new();
    let mut wanted = Vec::new();
    for suite in [SPEC, THREADS, STACK_SWITCHING] {
        let (listed, expectations) = match prepare(&root, suite) {
            Ok(prepared) => prepared,
            Err(e) => {
                // Never skip silently: a suite that cannot be prepared is one failing trial.
                let name = format!("{}:prepare", suite.dir);
                all.push(Trial::test(name, move || Err(e.clone().into())));
                continue;
            }
        };
        let pairs = trials(&listed, &Arc::new(expectations), &runner);
        let files: BTreeSet<usize> = pairs
            .iter()
            .filter(|(t, _)| !args.is_filtered_out(t))
            .filter_map(|(_, file)| *file)
            .collect();
        wanted.extend(files.into_iter().map(|i| listed.files[i].clone()));
        all.extend(pairs.into_iter().map(|(t, _)| t));
        if suite == THREADS {
            all.extend(harness::stress::trials(&listed, &runner));
        }
    }
    if !args.list {
        prefetch(wanted, &runner, jobs);
    }
    libtest_mimic::run(&args, all).exit_code()
}
