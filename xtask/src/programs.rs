//! `cargo xtask conformance`, program suites: runs every WASI and Emscripten test program
//! (whatever the expected-failure lists say) and writes `target/conformance/wasi.json` and
//! `emscripten.json`, shaped like `spec.json` with one directive (kind `program`) per program.

use crate::Options;
use harness::fetch::{fetch, EMSCRIPTEN, WASI};
use harness::groups::Groups;
use harness::report::{FileResults, Report};
use runtime::wast::Outcome;
use std::sync::Mutex;

/// A program's path in the report and how to run it.
type Program<'a> = (String, Box<dyn Fn() -> Result<(), String> + Sync + 'a>);

/// Runs the WASI suite; groups are the source languages.
pub fn wasi(options: &Options) -> Result<(), String> {
    let root = harness::workspace_root();
    let fetched = fetch(&root, WASI, options.mirror.as_deref())?;
    let tests = harness::wasi::discover(&fetched.data_dir)
        .map_err(|e| format!("cannot list the WASI suite: {e}"))?;
    let named: Vec<Program<'_>> = tests
        .iter()
        .map(|t| {
            let rel = t.name.trim_start_matches("wasi/").to_string();
            let run: Box<dyn Fn() -> Result<(), String> + Sync> =
                Box::new(move || harness::wasi::run_test_on_thread(t));
            (rel, run)
        })
        .collect();
    let groups = "group c\ngroup rust\ngroup assemblyscript\n\
                  c/* c\nrust/* rust\nassemblyscript/* assemblyscript\n";
    report("wasi", groups, &named, options)
}

/// Runs the Emscripten suite: the legacy emcc 1.38 programs and our modern ones.
pub fn emscripten(options: &Options) -> Result<(), String> {
    let root = harness::workspace_root();
    let fetched = fetch(&root, EMSCRIPTEN, options.mirror.as_deref())?;
    let tests = harness::emscripten::discover(&fetched.data_dir, &EMSCRIPTEN.path(&root))
        .map_err(|e| format!("cannot list the Emscripten suite: {e}"))?;
    let named: Vec<Program<'_>> = tests
        .iter()
        .map(|t| {
            let base = t.name.rsplit('/').next().unwrap_or_default();
            let rel = format!("{}/{base}", if t.modern { "modern" } else { "legacy" });
            let run: Box<dyn Fn() -> Result<(), String> + Sync> =
                Box::new(move || harness::emscripten::run_test_on_thread(t));
            (rel, run)
        })
        .collect();
    report(
        "emscripten",
        "group legacy\ngroup modern\nlegacy/* legacy\nmodern/* modern\n",
        &named,
        options,
    )
}

/// Runs the programs on a few threads, prints the table and writes `<suite>.json`.
fn report(
    suite: &str,
    groups: &str,
    programs: &[Program<'_>],
    options: &Options,
) -> Result<(), String> {
    let groups = Groups::parse(groups)?;
    let jobs = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let outcomes: Vec<Mutex<Option<Outcome>>> = programs.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((_, run)) = programs.get(i) else {
                    break;
                };
                let outcome = match run() {
                    Ok(()) => Outcome::Pass,
                    Err(why) => Outcome::Fail(why),
                };
                *outcomes[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            });
        }
    });
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| {
            o.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every program ran")
        })
        .collect();
    let files: Vec<FileResults<'_>> = programs
        .iter()
        .zip(&outcomes)
        .map(|((rel, _), outcome)| FileResults {
            rel,
            directives: vec![("program", outcome)],
        })
        .collect();
    for ((rel, _), outcome) in programs.iter().zip(&outcomes) {
        if let Outcome::Fail(why) = outcome {
            eprintln!("{suite}/{rel}: {}", why.lines().next().unwrap_or_default());
        }
    }
    let report = Report::build(suite, &groups, &files)?;
    println!("{}", report.table());
    let dir = harness::conformance_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{suite}.json"));
    std::fs::write(&path, report.to_json())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
