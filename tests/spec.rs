//! Test entry point for the WebAssembly spec suite: one libtest-mimic trial per `.wast`
//! directive, named `spec/<file>:L<line>:<kind>`, with `spec-suite/expected-failures.txt`
//! applied. `cargo test --test spec -- spec/i32.wast` runs one file.

use harness::expectations::Expectations;
use harness::fetch::{fetch, SPEC};
use harness::isolate::{child_main, RunOptions, Slots};
use harness::spec::{prefetch, trials, Runner, SpecSuite};
use libtest_mimic::{Arguments, Trial};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    if let Some(code) = child_main() {
        return code;
    }
    let args = Arguments::from_args();
    let root = harness::workspace_root();
    let prepared = fetch(&root, SPEC, None).and_then(|fetched| {
        if let Some(source) = &fetched.source {
            eprintln!(
                "fetched the spec suite ({} files) from {source}",
                fetched.files
            );
        }
        let suite = SpecSuite::load(&fetched.data_dir)
            .map_err(|e| format!("cannot list the spec suite: {e}"))?;
        let expectations = Expectations::load(&SPEC.path(&root).join("expected-failures.txt"))?;
        Ok((suite, expectations))
    });
    let (suite, expectations) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            // Never skip silently: a suite that cannot be prepared is one failing trial.
            let trial = Trial::test("spec-suite:prepare", move || Err(e.clone().into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let jobs = args
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runner = Arc::new(Runner {
        options: RunOptions::from_env(),
        slots: Slots::new(jobs),
    });
    let pairs = trials(&suite, &Arc::new(expectations), &runner);
    if !args.list {
        let wanted: BTreeSet<usize> = pairs
            .iter()
            .filter(|(t, _)| !args.is_filtered_out(t))
            .filter_map(|(_, file)| *file)
            .collect();
        prefetch(
            wanted.into_iter().map(|i| suite.files[i].clone()).collect(),
            &runner,
            jobs,
        );
    }
    let trials = pairs.into_iter().map(|(t, _)| t).collect();
    libtest_mimic::run(&args, trials).exit_code()
}
