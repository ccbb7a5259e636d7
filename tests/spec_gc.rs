//! The spec scripts that allocate GC objects (the `gc`, `exceptions` and
//! `custom-descriptors` groups of `spec-suite/groups.txt`) run again with forced garbage
//! collections: one trial per file and mode, named `spec-gc/<mode>/<file>`. Every directive
//! must behave exactly as it does without them (`cargo test --test spec` judges that
//! behaviour against the expected-failure list).
//!
//! Modes: `between` collects after every directive (the script runner's
//! `collect_between_directives`); `zeal` also collects before every allocation and leaves
//! the space it collected inaccessible, so a reference the collector missed faults or reads
//! a wrong value.

use harness::fetch::{fetch, SPEC};
use harness::groups::Groups;
use libtest_mimic::{Arguments, Failed, Trial};
use runtime::wast::{features_for_path, run_script_on_thread, DirectiveResult, WastOptions};
use std::path::PathBuf;
use std::process::ExitCode;

const GROUPS: [&str; 3] = ["gc", "exceptions", "custom-descriptors"];

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = harness::workspace_root();
    let prepared = fetch(&root, SPEC, None).and_then(|fetched| {
        let groups = Groups::load(&SPEC.path(&root).join("groups.txt"))?;
        let files = harness::spec::discover(&fetched.data_dir)
            .map_err(|e| format!("cannot list the spec suite: {e}"))?;
        let files: Vec<String> = files
            .into_iter()
            .filter(|f| groups.group_of(f).is_some_and(|g| GROUPS.contains(&g)))
            // The `wast` parser lacks the legacy exception syntax: nothing there runs (they
            // fail as a whole in `spec-suite/expected-failures.txt`).
            .filter(|f| !f.starts_with("legacy/"))
            .collect();
        if files.is_empty() {
            return Err("no spec file belongs to the gc groups".to_string());
        }
        Ok((fetched.data_dir, files))
    });
    let (data, files) = match prepared {
        Ok(p) => p,
        Err(e) => {
            // Never skip silently: a suite that cannot be prepared is one failing trial.
            let trial = Trial::test("spec-gc:prepare", move || Err(e.clone().into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let mut trials = Vec::new();
    for mode in ["between", "zeal"] {
        for file in &files {
            let path = data.join(file);
            trials.push(Trial::test(format!("spec-gc/{mode}/{file}"), move || {
                run(path, mode)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// Runs `path` normally and in `mode`; fails on the first directive that behaves otherwise.
fn run(path: PathBuf, mode: &str) -> Result<(), Failed> {
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let normal = WastOptions {
        features: features_for_path(&path),
        ..WastOptions::default()
    };
    let forced = WastOptions {
        collect_between_directives: true,
        gc_zeal_alloc_counter: (mode == "zeal").then_some(1),
        ..normal.clone()
    };
    let expected = run_script_on_thread(&text, &normal, |_| {});
    let got = run_script_on_thread(&text, &forced, |_| {});
    if got.len() != expected.len() {
        return Err(format!(
            "{} directives ran with forced collections, {} without",
            got.len(),
            expected.len()
        )
        .into());
    }
    let differs = |(a, b): &(&DirectiveResult, &DirectiveResult)| a.outcome != b.outcome;
    if let Some((want, have)) = expected.iter().zip(&got).find(|p| differs(p)) {
        return Err(format!(
            "line {} ({}): without forced collections {:?}, with them {:?}",
            want.line, want.kind, want.outcome, have.outcome
        )
        .into());
    }
    let passed = got.iter().filter(|r| r.outcome.is_pass()).count();
    if passed == 0 {
        return Err("no directive passed".into());
    }
    Ok(())
}
