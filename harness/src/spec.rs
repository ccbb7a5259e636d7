//! Script suites: finds the `.wast` files under a suite's `data/` (`spec-suite/data/`,
//! `threads-suite/data/`), lists their directives, and turns each directive into a
//! libtest-mimic trial named `<suite>/<file>:L<line>:<kind>` (`spec/i32.wast:L3:module`).
//!
//! Listing only parses; a file runs (once, in a child process) the first time one of its
//! trials, or [`prefetch`], asks for its outcomes.

use crate::expectations::Expectations;
use crate::fetch::Suite;
use crate::isolate::{run_isolated, RunOptions, Slots};
use libtest_mimic::Trial;
use runtime::wast::{list_directives, Outcome};
use runtime::WasmFeatures;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The `.wast` files under `data`, as sorted `/`-separated relative paths.
pub fn discover(data: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(data) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "wast") {
            files.push(crate::hash::relative_path(data, entry.path())?);
        }
    }
    files.sort();
    Ok(files)
}

/// One script: where it is, its directives, and (once run) their outcomes.
pub struct SpecFile {
    /// Path relative to the suite's `data/`, e.g. `proposals/threads/atomic.wast`.
    pub rel: String,
    pub path: PathBuf,
    /// `(line, kind)` of each directive; a file that does not parse has one `parse` entry.
    pub directives: Vec<(u32, &'static str)>,
    /// Why the file does not parse, if it does not.
    pub parse_error: Option<String>,
    /// The proposals it runs with (`None`: judged by its folder).
    features: Option<WasmFeatures>,
    names: Vec<String>,
    outcomes: OnceLock<Vec<Outcome>>,
}

impl SpecFile {
    /// Reads and lists a file of `suite`.
    pub fn load(suite: Suite, data: &Path, rel: &str) -> SpecFile {
        let path = data.join(rel);
        let listed = std::fs::read_to_string(&path)
            .map_err(|e| (1, format!("cannot read {}: {e}", path.display())))
            .and_then(|text| list_directives(&text).map_err(|e| (e.line, e.message)));
        let (directives, parse_error) = match listed {
            Ok(list) => (list.into_iter().map(|d| (d.line, d.kind)).collect(), None),
            Err((line, message)) => (vec![(line, "parse")], Some(message)),
        };
        let names = trial_names(suite.name, rel, &directives);
        SpecFile {
            rel: rel.to_string(),
            path,
            directives,
            parse_error,
            features: suite.features,
            names,
            outcomes: OnceLock::new(),
        }
    }

    /// The trial name of each directive.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Runs the file on first use and returns one outcome per directive.
    pub fn outcomes(&self, options: &RunOptions, slots: &Slots) -> &[Outcome] {
        self.outcomes.get_or_init(|| match &self.parse_error {
            Some(message) => vec![Outcome::Fail(format!(
                "the script does not parse: {message}"
            ))],
            None => {
                let lines: Vec<u32> = self.directives.iter().map(|d| d.0).collect();
                run_isolated(&self.path, &self.rel, self.features, &lines, options, slots)
            }
        })
    }
}

/// `<suite>/<rel>:L<line>:<kind>`, with `#2`, `#3`, ... on repeats within a line.
fn trial_names(suite: &str, rel: &str, directives: &[(u32, &'static str)]) -> Vec<String> {
    let mut seen: HashMap<(u32, &str), usize> = HashMap::new();
    directives
        .iter()
        .map(|&(line, kind)| {
            let n = seen.entry((line, kind)).or_insert(0);
            *n += 1;
            let suffix = if *n > 1 {
                format!("#{n}")
            } else {
                String::new()
            };
            format!("{suite}/{rel}:L{line}:{kind}{suffix}")
        })
        .collect()
}

/// Every file of a script suite, listed.
pub struct SpecSuite {
    pub suite: Suite,
    pub data: PathBuf,
    pub files: Vec<Arc<SpecFile>>,
}

impl SpecSuite {
    /// Discovers and lists the files of `suite` under `data` (in parallel; nothing is run).
    pub fn load(suite: Suite, data: &Path) -> std::io::Result<SpecSuite> {
        let rels = discover(data)?;
        let queue = Mutex::new(rels.iter().enumerate().collect::<VecDeque<_>>());
        let loaded = Mutex::new(Vec::with_capacity(rels.len()));
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                // Deeply nested scripts need more than the default 2 MiB to parse.
                let worker = std::thread::Builder::new()
                    .stack_size(32 << 20)
                    .spawn_scoped(scope, || loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                        let Some((i, rel)) = next else { break };
                        let file = SpecFile::load(suite, data, rel);
                        loaded
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((i, Arc::new(file)));
                    });
                worker?;
            }
            Ok::<(), std::io::Error>(())
        })?;
        let mut files = loaded.into_inner().unwrap_or_else(|e| e.into_inner());
        files.sort_by_key(|(i, _)| *i);
        Ok(SpecSuite {
            suite,
            data: data.to_path_buf(),
            files: files.into_iter().map(|(_, f)| f).collect(),
        })
    }

    /// Every trial name, in order.
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| f.names().iter().cloned())
            .collect()
    }
}

/// How trials run: shared by every trial of a suite.
pub struct Runner {
    pub options: RunOptions,
    pub slots: Slots,
}

/// One trial per directive, plus one that fails if the expectation list has entries that
/// match nothing. Also returns, for each trial, the index of its file (`None` for the extra).
pub fn trials(
    suite: &SpecSuite,
    expectations: &Arc<Expectations>,
    runner: &Arc<Runner>,
) -> Vec<(Trial, Option<usize>)> {
    let mut trials = Vec::new();
    for (file_index, file) in suite.files.iter().enumerate() {
        for (i, name) in file.names().iter().enumerate() {
            let entry = expectations.lookup(name).cloned();
            let listed = entry.is_some();
            let (file, runner, expectations) = (file.clone(), runner.clone(), expectations.clone());
            let trial = Trial::test(name.clone(), move || {
                let outcome = &file.outcomes(&runner.options, &runner.slots)[i];
                let result = match outcome {
                    Outcome::Pass => Ok(()),
                    Outcome::Fail(reason) => Err(reason.clone()),
                };
                expectations.judge(result, entry.as_ref())
            });
            trials.push((
                if listed {
                    trial.with_kind("xfail")
                } else {
                    trial
                },
                Some(file_index),
            ));
        }
    }
    let check = expectations.unused_entries_trial(suite.suite.dir, &suite.names());
    trials.push((check, None));
    trials
}

/// Starts `jobs` background threads that run `files` in order, so that trials (which run in
/// file order) find their file already running or done. The threads are detached.
pub fn prefetch(files: Vec<Arc<SpecFile>>, runner: &Arc<Runner>, jobs: usize) {
    let queue = Arc::new(Mutex::new(VecDeque::from(files)));
    for _ in 0..jobs.max(1) {
        let (queue, runner) = (queue.clone(), runner.clone());
        let spawned = std::thread::Builder::new()
            .name("spec-prefetch".into())
            .spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(file) = next else { break };
                file.outcomes(&runner.options, &runner.slots);
            });
        // Without prefetching, trials still run their files themselves.
        drop(spawned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_directives_on_a_line_get_numbered() {
        let names = trial_names(
            "spec",
            "a.wast",
            &[
                (1, "module"),
                (1, "module"),
                (2, "assert_return"),
                (1, "module"),
            ],
        );
        assert_eq!(
            names,
            [
                "spec/a.wast:L1:module",
                "spec/a.wast:L1:module#2",
                "spec/a.wast:L2:assert_return",
                "spec/a.wast:L1:module#3"
            ]
        );
    }
}
