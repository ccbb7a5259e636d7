//! Threads stress: the threads suite's litmus tests (LB, MP, SB and their `_atomic`
//! variants) and `wait_notify` run many times in a row, each file in one child process with
//! the suite's time limit, as trials `threads-stress/<file>`. A run whose threads see a
//! result the memory model forbids fails its `assert_return`; a lost wake-up or a deadlock
//! hangs the child, which the time limit turns into a failure.

use crate::isolate::run_child_repeated;
use crate::spec::{Runner, SpecSuite};
use libtest_mimic::Trial;
use runtime::wast::Outcome;
use std::sync::Arc;

/// Prefix of the stress trials' names.
pub const PREFIX: &str = "threads-stress/";

/// The files that are run over and over.
pub const FILES: [&str; 7] = [
    "LB.wast",
    "LB_atomic.wast",
    "MP.wast",
    "MP_atomic.wast",
    "SB.wast",
    "SB_atomic.wast",
    "wait_notify.wast",
];

/// Runs per file: `HARNESS_STRESS_RUNS`, default 200.
pub fn runs() -> usize {
    std::env::var("HARNESS_STRESS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(200)
}

/// One trial per file of [`FILES`]; a file missing from `suite` is a failing trial.
pub fn trials(suite: &SpecSuite, runner: &Arc<Runner>) -> Vec<Trial> {
    let runs = runs();
    FILES
        .iter()
        .map(|name| {
            let file = suite.files.iter().find(|f| f.rel == *name).cloned();
            let runner = runner.clone();
            Trial::test(format!("{PREFIX}{name}"), move || {
                let file = file.ok_or_else(|| format!("{name} is not in the threads suite"))?;
                let lines: Vec<u32> = file.directives.iter().map(|d| d.0).collect();
                let outcomes = runner.slots.run(|| {
                    run_child_repeated(&file.path, &file.rel, runs, &lines, runner.options.timeout)
                });
                let failures: Vec<String> = outcomes
                    .iter()
                    .zip(&file.directives)
                    .filter_map(|(o, (line, kind))| match o {
                        Outcome::Fail(why) => Some(format!("line {line} {kind}: {why}")),
                        Outcome::Pass => None,
                    })
                    .collect();
                if failures.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{} runs: {}", runs, failures.join("\n")).into())
                }
            })
        })
        .collect()
}
