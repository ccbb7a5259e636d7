//! `cargo xtask spectest`: runs every spec directive (whatever the expected-failure list says)
//! in parallel across files, prints per-group and per-kind tables, and writes
//! `target/conformance/spec.json`. The threads and stack-switching proposals' own suites run
//! with it and are reported as the groups `threads-suite` and `stack-switching-suite` (their
//! files named `threads-suite/<file>`, `stack-switching-suite/<file>`).

use crate::Options;
use harness::fetch::{fetch, SPEC, STACK_SWITCHING, THREADS};
use harness::groups::Groups;
use harness::isolate::{RunOptions, Slots};
use harness::report::{FileResults, Report};
use harness::spec::{SpecFile, SpecSuite};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let root = harness::workspace_root();
    let fetched = fetch(&root, SPEC, options.mirror.as_deref())?;
    let groups = Groups::load(&SPEC.path(&root).join("groups.txt"))?;
    let suite = SpecSuite::load(SPEC, &fetched.data_dir)
        .map_err(|e| format!("cannot list the spec suite: {e}"))?;
    let threads = fetch(&root, THREADS, options.mirror.as_deref())?;
    let threads = SpecSuite::load(THREADS, &threads.data_dir)
        .map_err(|e| format!("cannot list the threads suite: {e}"))?;
    let stacks = fetch(&root, STACK_SWITCHING, options.mirror.as_deref())?;
    let stacks = SpecSuite::load(STACK_SWITCHING, &stacks.data_dir)
        .map_err(|e| format!("cannot list the stack-switching suite: {e}"))?;
    // The proposal suites' files are named `<dir>/<file>` in the report.
    let named =
        |prefix: &'static str| move |f: &Arc<SpecFile>| (format!("{prefix}{}", f.rel), f.clone());
    let (named, files): (Vec<String>, Vec<Arc<SpecFile>>) = suite
        .files
        .iter()
        .map(named(""))
        .chain(threads.files.iter().map(named("threads-suite/")))
        .chain(stacks.files.iter().map(named("stack-switching-suite/")))
        .filter(|(name, _)| {
            options
                .filter
                .as_ref()
                .is_none_or(|t| name.contains(t.as_str()))
        })
        .unzip();
    if files.is_empty() {
        return Err("no spec file matches the filter".to_string());
    }
    let jobs = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let run_options = RunOptions::from_env();
    let slots = Slots::new(jobs);
    eprintln!("running {} spec files on {jobs} threads", files.len());
    run_all(&files, jobs, &run_options, &slots);

    let results: Vec<FileResults<'_>> = files
        .iter()
        .zip(&named)
        .map(|(f, name)| FileResults {
            rel: name,
            directives: f
                .directives
                .iter()
                .zip(f.outcomes(&run_options, &slots))
                .map(|((_, kind), outcome)| (*kind, outcome))
                .collect(),
        })
        .collect();
    let report = Report::build("spec", &groups, &results)?;
    println!("{}", report.table());
    let dir = harness::conformance_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = dir.join("spec.json");
    std::fs::write(&json, report.to_json())
        .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    println!("wrote {}", json.display());
    if options.draft {
        let pairs: Vec<(&SpecFile, &[runtime::wast::Outcome])> = files
            .iter()
            .map(|f| (&**f, f.outcomes(&run_options, &slots)))
            .collect();
        let draft = dir.join("spec-expected-failures.draft.txt");
        let text = format!(
            "# Draft expected failures from `cargo xtask spectest`: review every reason before\n\
             # copying entries to spec-suite/expected-failures.txt.\n{}",
            harness::suggest::draft(&pairs)
        );
        std::fs::write(&draft, text)
            .map_err(|e| format!("cannot write {}: {e}", draft.display()))?;
        println!("wrote {}", draft.display());
    }
    println!(
        "{} directives in {} files took {:.1?}",
        report.total.directives,
        report.total.files,
        started.elapsed()
    );
    Ok(())
}

/// Runs `files` on `jobs` threads, printing one line per finished file.
fn run_all(files: &[Arc<SpecFile>], jobs: usize, options: &RunOptions, slots: &Slots) {
    let queue = Mutex::new(files.iter().collect::<VecDeque<_>>());
    let done = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(file) = next else { break };
                let outcomes = file.outcomes(options, slots);
                let passed = outcomes.iter().filter(|o| o.is_pass()).count();
                let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                *done += 1;
                eprintln!(
                    "[{:>3}/{}] {}: {passed} passed, {} failed",
                    *done,
                    files.len(),
                    file.rel,
                    outcomes.len() - passed
                );
            });
        }
    });
}
